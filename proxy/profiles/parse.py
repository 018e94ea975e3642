"""Turn the merged TOML tables of a profile into :class:`proxy.profiles.model.Profile`.

Every wrong type, unknown field (with a did-you-mean), bad range or pattern and unknown OCPP name becomes a
:class:`RawProblem` carrying the key path; the loader turns key paths into file and line.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from ocppscope.proxy.core.secrets import declare_secret_names
from ocppscope.proxy.profiles import ocpp16
from ocppscope.proxy.profiles.model import (
    ACCESS,
    AUTH_FORMATS,
    ENDPOINT_STYLES,
    KEY_TYPES,
    NAMED_FORMATS,
    PRESENCE,
    SEVERITIES,
    UNLISTED,
    VALUE_TYPES,
    ActionPolicy,
    Actions,
    Auth,
    Boot,
    Caveat,
    Detect,
    Endpoint,
    FieldSpec,
    Identity,
    KeySpec,
    Limits,
    Profile,
    Transport,
    ValueNote,
    ValueSpec,
)
from ocppscope.proxy.profiles.ranges import IntRanges, parse_ranges
from ocppscope.proxy.profiles.tomlfile import KeyPath

T = TypeVar("T")
_MISSING: Any = object()


@dataclass(frozen=True, slots=True)
class RawProblem:
    path: KeyPath
    message: str
    severity: str = "error"


class Fields:
    """Reads one TOML table field by field; reports wrong types and, at :meth:`done`, unknown names."""

    def __init__(self, data: Any, path: KeyPath, problems: list[RawProblem]) -> None:
        if not isinstance(data, dict):
            problems.append(RawProblem(path, f"must be a table, not {_kind(data)}"))
            data = {}
        self.data: dict[str, Any] = data
        self.path = path
        self.problems = problems
        self._used: set[str] = set()

    def error(self, name: str | int | None, message: str) -> None:
        path = self.path if name is None else (*self.path, name)
        self.problems.append(RawProblem(path, message))

    def _get(self, name: str, check: Callable[[Any], bool], expected: str) -> Any:
        self._used.add(name)
        value = self.data.get(name, _MISSING)
        if value is _MISSING:
            return _MISSING
        if not check(value):
            self.error(name, f"must be {expected}, not {_kind(value)} {value!r}")
            return _MISSING
        return value

    def text(self, name: str, default: str = "") -> str:
        value = self._get(name, lambda v: isinstance(v, str), "a text")
        return default if value is _MISSING else value

    def optional_text(self, name: str) -> str | None:
        value = self._get(name, lambda v: isinstance(v, str), "a text")
        return None if value is _MISSING else value

    def boolean(self, name: str, default: bool | None = None) -> bool | None:
        value = self._get(name, lambda v: isinstance(v, bool), "true or false")
        return default if value is _MISSING else value

    def flag(self, name: str) -> bool:
        return bool(self.boolean(name, False))

    def integer(self, name: str, minimum: int | None = 0) -> int | None:
        value = self._get(name, lambda v: isinstance(v, int) and not isinstance(v, bool), "a whole number")
        if value is _MISSING:
            return None
        if minimum is not None and value < minimum:
            self.error(name, f"must be {minimum} or more, not {value}")
            return None
        return value

    def texts(self, name: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        """A list of texts; a single text is taken as a list of one."""
        value = self._get(
            name,
            lambda v: isinstance(v, str) or (isinstance(v, list) and all(isinstance(i, str) for i in v)),
            "a list of texts",
        )
        if value is _MISSING:
            return default
        return (value,) if isinstance(value, str) else tuple(value)

    def choice(self, name: str, choices: Sequence[str], default: T) -> str | T:
        value = self.optional_text(name)
        if value is None:
            return default
        if value not in choices:
            self.error(name, f"{value!r} is not one of {', '.join(choices)}{_did_you_mean(value, choices)}")
            return default
        return value

    def names(self, name: str, known: Sequence[str], what: str) -> tuple[str, ...]:
        values = self.texts(name)
        for index, value in enumerate(values):
            if value not in known:
                self.error(name, f"{value!r} (item {index + 1}) is not {what}{_did_you_mean(value, known)}")
        return tuple(v for v in values if v in known)

    def table(self, name: str) -> Fields:
        self._used.add(name)
        return Fields(self.data.get(name, {}), (*self.path, name), self.problems)

    def skip(self, name: str) -> None:
        """``name`` was dealt with (an error was reported): do not call it unknown as well."""
        self._used.add(name)

    def has(self, name: str) -> bool:
        return name in self.data

    def tables(self, name: str) -> list[Fields]:
        """An array of tables (``[[name]]`` or a list of inline tables)."""
        self._used.add(name)
        value = self.data.get(name, [])
        if not isinstance(value, list):
            self.error(name, f"must be a list of tables, not {_kind(value)}")
            return []
        return [Fields(item, (*self.path, name, index), self.problems) for index, item in enumerate(value)]

    def regex(self, name: str) -> re.Pattern[str] | None:
        value = self.optional_text(name)
        if value is None:
            return None
        try:
            return re.compile(value)
        except re.error as exc:
            self.error(name, f"not a valid regular expression: {exc}")
            return None

    def ranges(self, name: str) -> IntRanges | None:
        self._used.add(name)
        value = self.data.get(name, _MISSING)
        if value is _MISSING:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        try:
            return parse_ranges(value)
        except ValueError as exc:
            self.error(name, str(exc))
            return None

    def done(self, extra_known: Sequence[str] = ()) -> None:
        for name in self.data:
            if name not in self._used and name not in extra_known:
                self.error(name, f"unknown field{_did_you_mean(name, sorted(self._used))}")


def _kind(value: Any) -> str:
    return {bool: "a boolean", int: "a number", float: "a number", str: "a text", list: "a list",
            dict: "a table"}.get(type(value), type(value).__name__)


def _did_you_mean(value: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(value, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _done(f: Fields, value: T) -> T:
    """Finish reading ``f`` (reporting unknown fields) and return what was read."""
    f.done()
    return value


# -- values ---------------------------------------------------------------------------------------------

def value_spec(f: Fields, value_type: str, prefix: str = "", allowed_name: str = "allowed") -> ValueSpec:
    """Read the value constraints of a key (``range``...), its CSL items (``item_range``...) or an option."""
    spec_type = value_type
    if prefix:
        spec_type = f.choice(f"{prefix}type", VALUE_TYPES, "string")
    bitmask_levels = f.integer(f"{prefix}bitmask_levels", minimum=1)
    spec = ValueSpec(
        type=spec_type,  # type: ignore[arg-type]
        range=f.ranges(f"{prefix}range"),
        allowed=f.texts(allowed_name),
        pattern=f.regex(f"{prefix}pattern"),
        pattern_hint=f.text(f"{prefix}pattern_hint"),
        format=f.choice(f"{prefix}format", NAMED_FORMATS, None),
        min_length=f.integer(f"{prefix}min_length"),
        max_length=f.integer(f"{prefix}max_length"),
        bitmask_levels=bitmask_levels,
        why=f.text(f"{prefix}why"),
    )
    if (spec.range is not None or spec.bitmask_levels) and spec.type != "integer":
        f.error(f"{prefix}range" if spec.range else f"{prefix}bitmask_levels",
                f"only integer values have ranges (this one is {spec.type})")
    return spec


def _option_spec(f: Fields, name: str) -> FieldSpec:
    value_type = f.choice("type", VALUE_TYPES, "string")
    return _done(f, FieldSpec(name=name, value=value_spec(f, value_type), required=f.flag("required"),
                              description=f.text("description")))


def _positional(f: Fields) -> FieldSpec:
    name = f.text("name")
    if not name:
        f.error("name", "every positional field needs a name")
    value_type = f.choice("type", VALUE_TYPES, "string")
    return _done(f, FieldSpec(name=name, value=value_spec(f, value_type), required=not f.flag("optional"),
                              description=f.text("description")))


def _note(f: Fields, key_type: str) -> ValueNote:
    ranges = None
    values: tuple[str, ...] = ()
    raw = f.data.get("values", _MISSING)
    if key_type == "integer" and isinstance(raw, str | int) and not isinstance(raw, bool):
        ranges = f.ranges("values")
    else:
        values = f.texts("values")
    text = f.text("text")
    if not text:
        f.error("text", "a note needs a text")
    return _done(f, ValueNote(
        text=text,
        ranges=ranges,
        values=values,
        severity=f.choice("severity", SEVERITIES, "info"),  # type: ignore[arg-type]
        runs_as=f.optional_text("runs_as"),
    ))


def key_spec(name: str, f: Fields) -> KeySpec:
    key_type = f.choice("type", KEY_TYPES, _MISSING)
    if key_type is _MISSING:
        if "type" not in f.data:
            f.error(None, "a configuration key needs a type (integer, boolean, string, csl or structured)")
        key_type = "string"
    scalar = key_type if key_type in VALUE_TYPES else "string"
    value = value_spec(f, scalar)
    item = None
    if key_type == "csl":
        item = value_spec(f, "string", prefix="item_", allowed_name="items")
    else:
        for csl_only in ("items", "item_type", "item_range", "item_pattern", "max_items", "min_items",
                         "phase_suffix"):
            if f.has(csl_only):
                f.error(csl_only, f"only csl keys have {csl_only} (this key is {key_type})")
    options: list[FieldSpec] = []
    option_table = f.table("options")
    for option_name in option_table.data:
        options.append(_option_spec(option_table.table(option_name), option_name))
    fields = [_positional(t) for t in f.tables("fields")]
    if (options or fields) and key_type != "structured":
        f.error("options" if options else "fields", f"only structured keys have options or fields ({key_type})")
    if options and fields:
        f.error("fields", "a structured key has either name=value options or positional fields, not both")
    return _done(f, KeySpec(
        name=name,
        type=key_type,  # type: ignore[arg-type]
        access=f.choice("access", ACCESS, "RW"),  # type: ignore[arg-type]
        presence=f.choice("presence", PRESENCE, "present"),  # type: ignore[arg-type]
        value=value,
        item=item,
        phase_suffix=f.flag("phase_suffix"),
        min_items=f.integer("min_items"),
        max_items=f.integer("max_items"),
        options=tuple(options),
        fields=tuple(fields),
        default=_default(f),
        unit=f.text("unit"),
        reboot=f.flag("reboot"),
        restart_after=f.integer("restart_after"),
        secret=f.flag("secret"),
        only_increase=f.flag("only_increase"),
        notes=tuple(_note(t, key_type) for t in f.tables("notes")),
        change_note=f.text("change_note"),
        description=f.text("description"),
        source=f.text("source"),
    ))


def _default(f: Fields) -> str | None:
    """Defaults travel as strings on the wire; numbers and booleans in the TOML are accepted too."""
    f.skip("default")
    value = f.data.get("default", _MISSING)
    if value is _MISSING:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | str):
        return str(value)
    f.error("default", f"must be a text, a number or a boolean, not {_kind(value)}")
    return None


# -- sections ---------------------------------------------------------------------------------------------


def _transport(f: Fields) -> Transport:
    return _done(f, Transport(
        tls=f.boolean("tls"),
        charger_ping=f.boolean("charger_ping"),
        charger_ping_default=f.integer("charger_ping_default"),
        answers_ping=f.boolean("answers_ping"),
        notes=f.texts("notes"),
    ))


def _identity(f: Fields) -> Identity:
    return _done(f, Identity(
        max_length=f.integer("max_length", minimum=1),
        pattern=f.regex("pattern"),
        pattern_hint=f.text("pattern_hint"),
        key=f.optional_text("key"),
        source=f.text("source"),
    ))


def _auth(f: Fields) -> Auth:
    return _done(f, Auth(
        key=f.text("key", "AuthorizationKey"),
        format=f.choice("format", AUTH_FORMATS, None),
        requires_tls=f.flag("requires_tls"),
        note=f.text("note"),
    ))


def _detect(f: Fields) -> Detect:
    return _done(f, Detect(vendor=f.texts("vendor"), model=f.texts("model"), serial=f.texts("serial")))


def _boot(f: Fields) -> Boot:
    required = f.names("required", ocpp16.BOOT_FIELDS, "a BootNotification field")
    lengths = f.table("max_length")
    max_length = []
    for field_name in lengths.data:
        if field_name not in ocpp16.BOOT_FIELDS:
            lengths.error(field_name, f"not a BootNotification field{_did_you_mean(field_name, ocpp16.BOOT_FIELDS)}")
            lengths.skip(field_name)
            continue
        limit = lengths.integer(field_name, minimum=1)
        if limit is not None:
            max_length.append((field_name, limit))
    lengths.done()
    return _done(f, Boot(required=required, max_length=tuple(max_length), hint=f.text("hint")))


def _policy(f: Fields, default_unlisted: str) -> ActionPolicy:
    known = ocpp16.action_names()
    return _done(f, ActionPolicy(
        supported=frozenset(f.names("supported", known, "an OCPP 1.6 action")),
        unsupported=frozenset(f.names("unsupported", known, "an OCPP 1.6 action")),
        unlisted=f.choice("unlisted", UNLISTED, default_unlisted),  # type: ignore[arg-type]
    ))


def _actions(f: Fields) -> Actions:
    return _done(f, Actions(
        from_backend=_policy(f.table("from_backend"), "supported"),
        from_charger=_policy(f.table("from_charger"), "supported"),
        note=f.text("note"),
    ))


def _limits(f: Fields) -> Limits:
    triggers = f.names("trigger_messages", ocpp16.TRIGGER_MESSAGES, "a TriggerMessage requestedMessage") \
        if f.has("trigger_messages") else None
    measurands = f.names("measurands", ocpp16.MEASURANDS, "an OCPP 1.6 measurand") \
        if f.has("measurands") else None
    return _done(f, Limits(
        get_configuration_max_keys=f.integer("get_configuration_max_keys", minimum=1),
        send_local_list_max_length=f.integer("send_local_list_max_length", minimum=1),
        local_auth_list_max_length=f.integer("local_auth_list_max_length", minimum=1),
        id_tag_max_length=f.integer("id_tag_max_length", minimum=1),
        charge_profile_max_stack_level=f.integer("charge_profile_max_stack_level"),
        charging_schedule_max_periods=f.integer("charging_schedule_max_periods", minimum=1),
        max_charging_profiles_installed=f.integer("max_charging_profiles_installed", minimum=1),
        trigger_messages=triggers,
        measurands=measurands,
    ))


def _caveat(f: Fields) -> Caveat:
    action = f.text("action")
    if action not in ocpp16.action_names():
        f.error("action", f"{action!r} is not an OCPP 1.6 action{_did_you_mean(action, ocpp16.action_names())}")
    match = f.table("match")
    conditions = []
    for field_name in match.data:
        conditions.append((field_name, match.texts(field_name)))
    match.done()
    text = f.text("text")
    if not text:
        f.error("text", "a caveat needs a text")
    return _done(f, Caveat(action=action, text=text, match=tuple(conditions),
                           severity=f.choice("severity", SEVERITIES, "info")))  # type: ignore[arg-type]


def _endpoint(f: Fields) -> Endpoint:
    style = f.choice("style", tuple(ENDPOINT_STYLES), "url")
    params = {name: f.optional_text(name) for name in (
        "url_key", "port_key", "path_key", "endpoint_key", "identity_key", "protocol_key", "protocol_value",
        "options_key", "tls_option", "options_default", "placeholder", "serial_placeholder")}
    for needed in ENDPOINT_STYLES[style]:
        if not params[needed]:
            f.error("style", f"the {style} endpoint style needs {needed}")
    return _done(f, Endpoint(
        style=style,
        url_setting=f.text("url_setting", "OCPP server URL"),
        identity_setting=f.text("identity_setting", "Charge point identity"),
        note=f.text("note"),
        **params,
    ))


def profile_from_tables(profile_id: str, chain: tuple[str, ...], data: dict[str, Any],
                        problems: list[RawProblem]) -> Profile:
    f = Fields(data, (), problems)
    f.optional_text("extends")  # resolved by the loader
    ocpp = f.table("ocpp")
    versions = ocpp.texts("versions", ("1.6",))
    subprotocols = ocpp.texts("subprotocols", ("ocpp1.6",))
    ocpp.done()
    config = f.table("config")
    unlisted_keys = config.choice("unlisted_keys", SEVERITIES, "info")
    config.done()
    keys_table = f.table("keys")
    keys: dict[str, KeySpec] = {}
    for key_name in keys_table.data:
        spec = key_spec(key_name, keys_table.table(key_name))
        if key_name.casefold() in keys:
            keys_table.error(key_name, f"listed twice (keys are case-insensitive: {keys[key_name.casefold()].name})")
        keys[key_name.casefold()] = spec
    profile = _done(f, Profile(
        id=profile_id,
        title=f.text("title"),
        chain=chain,
        vendor=f.text("vendor"),
        models=f.texts("models"),
        firmware=f.texts("firmware"),
        sources=f.texts("sources"),
        notes=f.texts("notes"),
        versions=versions,
        subprotocols=subprotocols,
        transport=_transport(f.table("transport")),
        identity=_identity(f.table("identity")),
        auth=_auth(f.table("auth")),
        detect=_detect(f.table("detect")),
        boot=_boot(f.table("boot")),
        actions=_actions(f.table("actions")),
        limits=_limits(f.table("limits")),
        unlisted_keys=unlisted_keys,  # type: ignore[arg-type]
        keys=keys,
        caveats=tuple(_caveat(t) for t in f.tables("caveats")),
        endpoint=_endpoint(f.table("endpoint")),
        secret_names=f.texts("secret_names"),
    ))
    # Every profile read says which names hold secrets for this process: redaction, the disclosure rule and
    # the scrubbing of findings must know them, whatever charger the profile is for.
    declare_secret_names(profile.secrets)
    return profile
