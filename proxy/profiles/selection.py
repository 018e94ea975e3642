"""Which profile applies to which charger: explicit mapping, else BootNotification detection, else generic.

Pure: it works on profiles already loaded. Explicit entries come from ``--profile CHARGER=PROFILE`` (or a
bare ``--profile PROFILE`` for every charger) and mapping files; an exact identity beats a glob, and among
globs the first given wins.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any, Literal

from ocppscope.proxy.errors import OcppscopeError
from ocppscope.proxy.profiles.model import Profile

How = Literal["explicit", "detected", "default", "renamed"]


@dataclass(frozen=True, slots=True)
class Choice:
    profile: Profile
    how: How
    reason: str


@dataclass(frozen=True, slots=True)
class MappingEntry:
    pattern: str
    """A charger identity or a glob (``*``, ``?``, ``[...]``) over identities."""
    profile_id: str
    origin: str
    """Where the user wrote it, to quote it back: ``--profile CP01=ecotap-evc5`` or ``map.toml:3``."""


def parse_mapping_arg(text: str) -> MappingEntry:
    """``CHARGER=PROFILE`` (charger may be a glob) or ``PROFILE`` alone, meaning every charger."""
    pattern, equals, profile_id = text.rpartition("=")
    if not equals:
        pattern, profile_id = "*", text
    pattern, profile_id = pattern.strip(), profile_id.strip()
    if not profile_id or (equals and not pattern):
        raise OcppscopeError(f"--profile {text!r}: write CHARGER=PROFILE (CHARGER may be a glob like 'NL*') "
                             "or PROFILE for every charger")
    return MappingEntry(pattern, profile_id, f"--profile {text}")


def _glob_any(value: str | None, patterns: Sequence[str]) -> str | None:
    """The first pattern ``value`` matches, case-insensitively; None when none does."""
    if not value:
        return None
    folded = value.casefold()
    for pattern in patterns:
        if fnmatchcase(folded, pattern.casefold()):
            return pattern
    return None


def detection_match(profile: Profile, boot: Mapping[str, Any]) -> list[str] | None:
    """Why ``profile`` matches this BootNotification (one phrase per criterion), or None."""
    detect = profile.detect
    if not detect.criteria:
        return None
    reasons = []
    for field_names, patterns, label in (
        (("chargePointVendor",), detect.vendor, "vendor"),
        (("chargePointModel",), detect.model, "model"),
        (("chargePointSerialNumber", "chargeBoxSerialNumber"), detect.serial, "serial"),
    ):
        if not patterns:
            continue
        for field_name in field_names:
            value = boot.get(field_name)
            matched = _glob_any(value if isinstance(value, str) else None, patterns)
            if matched:
                reasons.append(f"{label} {value!r} matches {matched!r}")
                break
        else:
            return None
    return reasons


class ProfileSelector:
    def __init__(self, profiles: Mapping[str, Profile], mapping: Sequence[MappingEntry] = (),
                 default_id: str = "ocpp16-generic") -> None:
        self.profiles = profiles
        self.mapping = tuple(mapping)
        self.default_id = default_id
        for entry in self.mapping:
            if entry.profile_id not in profiles:
                raise OcppscopeError(f"{entry.origin}: unknown profile {entry.profile_id!r} "
                                     f"(known: {', '.join(sorted(profiles))})")
        if default_id not in profiles:
            raise OcppscopeError(f"the default profile {default_id!r} is missing")
        self._detectable = [p for p in profiles.values() if p.detect.criteria]

    def explicit(self, identity: str | None) -> Choice | None:
        if identity is None:
            return None
        for entry in self.mapping:
            # Literal first, even when the identity itself contains glob characters (NL*ECO*1000).
            if entry.pattern == identity:
                return Choice(self.profiles[entry.profile_id], "explicit", f"mapped by {entry.origin}")
        for entry in self.mapping:
            if fnmatchcase(identity, entry.pattern):
                return Choice(self.profiles[entry.profile_id], "explicit",
                              f"{identity} matches {entry.pattern!r} in {entry.origin}")
        return None

    def detect(self, boot: Mapping[str, Any]) -> Choice | None:
        """The most specific profile whose BootNotification patterns all match (deepest chain on a tie)."""
        best: tuple[int, int, str] | None = None
        chosen: tuple[Profile, list[str]] | None = None
        for profile in self._detectable:
            reasons = detection_match(profile, boot)
            if reasons is None:
                continue
            rank = (profile.detect.criteria, len(profile.chain), profile.id)
            if best is None or rank[:2] > best[:2] or (rank[:2] == best[:2] and rank[2] < best[2]):
                best, chosen = rank, (profile, reasons)
        if chosen is None:
            return None
        return Choice(chosen[0], "detected", "BootNotification " + ", ".join(chosen[1]))

    def default(self, why: str) -> Choice:
        return Choice(self.profiles[self.default_id], "default", why)
