"""Whole messages against a profile: supported actions, vendor caveats, BootNotification fields, identity."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from ocppscope.proxy.profiles.model import Profile
from ocppscope.proxy.profiles.verdicts import DISAGREES, Verdict


def action_from_backend(profile: Profile, action: str) -> Verdict | None:
    status = profile.actions.from_backend.status(action)
    if status != "unsupported" and status != "undocumented":
        return None
    evidence = {"profile": profile.id, "action": action}
    note = f" ({profile.actions.note})" if profile.actions.note else ""
    if status == "unsupported":
        return Verdict("profile.action-unsupported", f"{action}: {profile.id} does not implement it{note}; expect "
                       "CALLERROR NotImplemented or NotSupported", evidence)
    if status == "undocumented":
        return Verdict("profile.action-undocumented", f"{action} is not among the messages the vendor documents "
                       f"for {profile.id}{note}; the charger may answer NotImplemented", evidence)
    return None


def action_from_charger(profile: Profile, action: str) -> Verdict | None:
    status = profile.actions.from_charger.status(action)
    if status != "unsupported" and status != "undocumented":
        return None
    evidence = {"profile": profile.id, "action": action}
    if status == "unsupported":
        return Verdict(DISAGREES, f"the charger sends {action}, which {profile.id} says the model does not "
                       "implement: profile and firmware disagree", evidence)
    if status == "undocumented":
        return Verdict("profile.action-undocumented", f"the charger sends {action}, which the vendor does not "
                       f"document for {profile.id}", evidence, severity="info")
    return None


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _field_matches(value: Any, patterns: tuple[str, ...]) -> bool:
    text = _as_text(value).casefold()
    wanted = [p.casefold() for p in patterns if not p.startswith("!")]
    unwanted = [p[1:].casefold() for p in patterns if p.startswith("!")]
    if wanted and not any(fnmatchcase(text, p) for p in wanted):
        return False
    return not any(fnmatchcase(text, p) for p in unwanted)


def caveats(profile: Profile, action: str, payload: Any) -> list[Verdict]:
    if not profile.caveats:
        return []
    payload = payload if isinstance(payload, dict) else {}
    return [
        Verdict("profile.caveat", f"{action}: {caveat.text}", {"profile": profile.id, "action": action},
                caveat.severity)
        for caveat in profile.caveats_for(action)
        if all(_field_matches(payload.get(name), patterns) for name, patterns in caveat.match)
    ]


def boot_fields(profile: Profile, payload: Any) -> list[Verdict]:
    payload = payload if isinstance(payload, dict) else {}
    boot = profile.boot
    hint = f"; {boot.hint}" if boot.hint else ""
    verdicts = []
    empty = [name for name in boot.required if not isinstance(payload.get(name), str) or not payload[name].strip()]
    if empty:
        verdicts.append(Verdict("profile.boot-field", f"BootNotification: {', '.join(empty)} missing or empty, which "
                                f"{profile.id} always sends{hint}", {"profile": profile.id, "fields": empty}))
    for name, maximum in boot.max_length:
        value = payload.get(name)
        if isinstance(value, str) and len(value) > maximum:
            verdicts.append(Verdict("profile.boot-field", f"BootNotification: {name} {value!r} has {len(value)} "
                                    f"characters, {profile.id} allows at most {maximum}{hint}",
                                    {"profile": profile.id, "field": name, "max_length": maximum}))
    return verdicts


def identity_problems(profile: Profile, identity: str | None) -> list[Verdict]:
    if identity is None:
        return []
    rules = profile.identity
    evidence = {"profile": profile.id, "identity": identity}
    source = f" ({rules.source})" if rules.source else ""
    verdicts = []
    if rules.max_length is not None and len(identity) > rules.max_length:
        verdicts.append(Verdict("profile.identity", f"identity {identity!r} has {len(identity)} characters, "
                                f"{profile.id} allows at most {rules.max_length}{source}",
                                {**evidence, "max_length": rules.max_length}))
    if rules.pattern is not None and not rules.pattern.fullmatch(identity):
        verdicts.append(Verdict("profile.identity", f"identity {identity!r} does not have the form "
                                f"{rules.pattern_hint or rules.pattern.pattern}{source}", evidence))
    return verdicts
