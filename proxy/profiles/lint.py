"""``ocppscope profiles lint FILE``: a profile that loads can still contradict itself.

Loading already rejects wrong types, unknown fields and unknown OCPP names (errors). The lint adds
warnings about a profile that is consistent TOML but inconsistent data: defaults its own constraints
refuse, limits that disagree with the keys reporting them, endpoint settings naming keys it does not
define, notes that can never apply, detection patterns another profile already uses.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ocppscope.proxy.profiles.loader import ProfileFile, ProfileLibrary, locate
from ocppscope.proxy.profiles.model import LIMIT_KEYS, Profile
from ocppscope.proxy.profiles.ocpp16 import KEY_MAX_LENGTH
from ocppscope.proxy.profiles.parse import RawProblem
from ocppscope.proxy.profiles.ranges import Interval, IntRanges
from ocppscope.proxy.profiles.tomlfile import Problem, ProfileError, dotted
from ocppscope.proxy.profiles.values import check_value

Warn = Callable[[tuple[str | int, ...], str], None]

_ABSENT = {("title",), ("sources",)}
_MEASURAND_KEYS = ("MeterValuesSampledData", "MeterValuesAlignedData", "StopTxnSampledData", "StopTxnAlignedData")


def lint_profile(profile: Profile, others: Mapping[str, Profile]) -> list[RawProblem]:
    found: list[RawProblem] = []

    def warn(path: tuple[str | int, ...], message: str) -> None:
        found.append(RawProblem(path, message, "warning"))

    if not profile.title:
        warn(("title",), "no title: `profiles list` shows the id only")
    if not profile.sources:
        warn(("sources",), "no sources: say which vendor document each fact comes from")
    _keys(profile, warn)
    _limits(profile, warn)
    _endpoint(profile, warn)
    _detection(profile, others, warn)
    return found


def _keys(profile: Profile, warn: Warn) -> None:
    for spec in profile.keys.values():
        path = ("keys", spec.name)
        if len(spec.name) > KEY_MAX_LENGTH:
            warn(path, f"key names have at most {KEY_MAX_LENGTH} characters in OCPP 1.6 (CiString50)")
        if spec.default is not None and spec.presence != "absent":
            for problem in check_value(spec, spec.default):
                warn((*path, "default"), f"the default {spec.default!r} breaks the key's own constraints: "
                     f"{problem.text}")
        for index, note in enumerate(spec.notes):
            if note.ranges is not None and spec.value.range is not None and not _can_apply(note.ranges,
                                                                                           spec.value.range):
                warn((*path, "notes", index), f"note values {note.ranges.text} are all outside the key's range "
                     f"{spec.value.range}: it can never apply")
    measurands = profile.limits.measurands
    if measurands is not None:
        for name in _MEASURAND_KEYS:
            spec = profile.key(name)
            if spec is None or spec.presence != "present" or spec.item is None:
                continue
            extra = [m for m in spec.item.allowed if m not in measurands]
            if extra and len(extra) < len(spec.item.allowed):
                warn(("keys", spec.name, "items"), f"items {', '.join(extra)} are not in limits.measurands")


def _overlaps(a: Interval, b: Interval) -> bool:
    return (a.low is None or b.high is None or a.low <= b.high) and (a.high is None or b.low is None
                                                                      or a.high >= b.low)


def _can_apply(note_ranges: IntRanges, key_ranges: IntRanges) -> bool:
    return any(_overlaps(a, b) for a in note_ranges.intervals for b in key_ranges.intervals)


def _limits(profile: Profile, warn: Warn) -> None:
    for limit_name, key_name in LIMIT_KEYS.items():
        limit = getattr(profile.limits, limit_name)
        spec = profile.key(key_name)
        if limit is not None and spec is not None and spec.default is not None and spec.default != str(limit):
            warn(("limits", limit_name), f"{limit} differs from the default of {key_name} ({spec.default})")
    ping = profile.transport.charger_ping_default
    spec = profile.key("WebSocketPingInterval")
    if ping is not None and spec is not None and spec.default is not None and spec.default != str(ping):
        warn(("transport", "charger_ping_default"),
             f"{ping} differs from the default of WebSocketPingInterval ({spec.default})")


def _endpoint(profile: Profile, warn: Warn) -> None:
    endpoint = profile.endpoint
    for field_name in ("url_key", "port_key", "path_key", "endpoint_key", "identity_key", "protocol_key",
                       "options_key"):
        name = getattr(endpoint, field_name)
        spec = profile.key(name) if name else None
        if name and (spec is None or spec.presence == "absent"):
            warn(("endpoint", field_name), f"{name} is not a key of this profile")
    options = profile.key(endpoint.options_key) if endpoint.options_key else None
    if options is not None and endpoint.tls_option and options.option(endpoint.tls_option) is None:
        warn(("endpoint", "tls_option"), f"{endpoint.options_key} has no option {endpoint.tls_option}")
    if options is not None and endpoint.options_default:
        for problem in check_value(options, endpoint.options_default):
            warn(("endpoint", "options_default"), problem.text)
    for section, name in (("identity", profile.identity.key), ("auth", profile.auth.key)):
        if name and profile.key(name) is None:
            warn((section, "key"), f"{name} is not a key of this profile")


def _detection(profile: Profile, others: Mapping[str, Profile], warn: Warn) -> None:
    if not profile.detect.criteria:
        return
    mine = _patterns(profile)
    for other in others.values():
        if other.id != profile.id and _patterns(other) == mine:
            warn(("detect",), f"{other.id} has the same detection patterns; the first id in alphabetical order "
                 "wins, so map one of them with --profile")


def _patterns(profile: Profile) -> tuple[frozenset[str], ...]:
    detect = profile.detect
    return tuple(frozenset(p.casefold() for p in ps) for ps in (detect.vendor, detect.model, detect.serial))


def lint_file(library: ProfileLibrary, profile_file: ProfileFile) -> list[Problem]:
    """Load errors, then lint warnings, of one profile file; all located by file and line."""
    try:
        profile = library.resolve(profile_file)
    except ProfileError as exc:
        return exc.problems
    chain, _ = library.chain(profile_file)
    others = {}
    for other_id in library.ids():
        try:
            others[other_id] = library.get(other_id)
        except ProfileError:
            continue  # another broken profile is its own lint's business
    located = []
    for problem in lint_profile(profile, others):
        if problem.path in _ABSENT:  # about what this file lacks: nothing to point at in a parent
            located.append(Problem(profile_file.file.path, None, dotted(problem.path), problem.message, "warning"))
        else:
            located.append(locate(chain, problem))
    return located
