"""ChangeConfiguration and GetConfiguration against a profile: the request, and what the charger answers."""

from __future__ import annotations

import difflib
from typing import Any

from ocppscope.proxy.core.basic_auth import REDACTED_PREFIX, parse_redaction_marker
from ocppscope.proxy.core.payload import items
from ocppscope.proxy.endpoint.reverse import inconsistencies
from ocppscope.proxy.profiles.judge_limits import limit
from ocppscope.proxy.profiles.model import LIMIT_KEYS, KeySpec, Profile
from ocppscope.proxy.profiles.state import ChargerState
from ocppscope.proxy.profiles.values import ValueProblem, check_value, notes_for, shown
from ocppscope.proxy.profiles.verdicts import DISAGREES, Expectation, Verdict


def _suggest(profile: Profile, key: str) -> str:
    names = [spec.name for spec in profile.keys.values() if spec.presence != "absent"]
    close = difflib.get_close_matches(key, names, n=2, cutoff=0.75)
    return f" (did you mean {' or '.join(close)}?)" if close else ""


def _evidence(profile: Profile, spec: KeySpec | None, key: str, value: str | None) -> dict[str, Any]:
    evidence: dict[str, Any] = {"profile": profile.id, "key": key}
    if value is not None:
        evidence["value"] = value if spec is None or not spec.secret else shown(spec, value)
    if spec is not None and spec.source:
        evidence["source"] = spec.source
    return evidence


def _problem_verdict(where: str, problem: ValueProblem, evidence: dict[str, Any], stored: bool) -> Verdict:
    if stored:
        tail = ""
    elif problem.rejected:
        tail = "; the charger will answer Rejected"
    else:
        tail = "; the charger may store it and fail only when it uses the value"
    return Verdict(f"config.{problem.kind}", f"{where}: {problem.text}{tail}", {**evidence, **problem.evidence})


def _notes(where: str, spec: KeySpec, value: str, evidence: dict[str, Any]) -> list[Verdict]:
    found = []
    for note in notes_for(spec, value):
        if note.runs_as is not None:
            found.append(Verdict("config.value-clamped", f"{where}: accepted, but the charger runs "
                                 f"{note.runs_as}: {note.text}", {**evidence, "runs_as": note.runs_as},
                                 note.severity if note.severity != "info" else None))
        else:
            found.append(Verdict("config.value-note", f"{where}: {note.text}", evidence, note.severity))
    return found


def change_configuration(profile: Profile, state: ChargerState, identity: str | None,
                         payload: dict[str, Any]) -> tuple[list[Verdict], Expectation | None]:
    key, value = payload.get("key"), payload.get("value")
    if not isinstance(key, str) or not isinstance(value, str):
        return [], None  # the schema rules report it
    spec = profile.key(key)
    where = f"ChangeConfiguration {key} = {shown(spec, value)}"
    subject = f"{key} = {shown(spec, value)}"
    evidence = _evidence(profile, spec, key, value)
    if spec is None:
        return [Verdict("config.unlisted-key", f"{where}: {profile.id} does not list this key{_suggest(profile, key)}; "
                        "if the charger lacks it, it answers NotSupported", evidence, profile.unlisted_keys)], None
    if spec.presence == "absent":
        why = f" ({spec.description})" if spec.description else ""
        return [Verdict("config.unsupported-key", f"{where}: {profile.id} has no {spec.name}{why}"
                        f"{_suggest(profile, key)}; the charger will answer NotSupported", evidence)], \
            Expectation("ChangeConfiguration", "NotSupported", f"the model has no {spec.name}", subject)
    marker = parse_redaction_marker(value) if spec.secret else None
    if marker is not None:
        # A capture replaced the secret with a marker: judge only what it kept (the user part).
        user = _redacted_user(value, marker.user)
        auth_value = f"{user}:<redacted>" if user is not None else None
        verdicts = [Verdict("config.value-note", f"{where}: {spec.change_note}", evidence)] if spec.change_note else []
        verdicts += [Verdict("config.inconsistent", f"{where}: {text}", evidence) for text in inconsistencies(
            profile, state.values(), {spec.name.casefold()}, identity, auth_value=auth_value,
            auth_user=state.auth_user)]
        return verdicts, None
    if spec.access == "R":
        return [Verdict("config.read-only", f"{where}: {spec.name} is read-only on {profile.id}; the charger will "
                        "answer Rejected", evidence)], \
            Expectation("ChangeConfiguration", "Rejected", f"{spec.name} is read-only", subject,
                        present=spec.presence == "present")
    problems = check_value(spec, value)
    verdicts = [_problem_verdict(where, p, evidence, stored=False) for p in problems]
    rejected = any(p.rejected for p in problems)
    current = state.integer(spec.name)
    if spec.only_increase and current is not None and value.lstrip("+-").isdigit() and int(value) < current:
        rejected = True
        verdicts.append(Verdict("config.out-of-range", f"{where}: {spec.name} may only be raised (it is {current}); "
                                "the charger will answer Rejected", {**evidence, "current": current}))
    if not rejected:
        verdicts += _notes(where, spec, value, evidence)
        if spec.change_note:
            verdicts.append(Verdict("config.value-note", f"{where}: {spec.change_note}", evidence))
        if spec.restart_after is not None:
            verdicts.append(Verdict("config.restarts-charger", f"{where}: the charger restarts {spec.restart_after} s "
                                    "after this change and reconnects with the new setting",
                                    {**evidence, "restart_after": spec.restart_after}))
        if spec.reboot:
            verdicts.append(Verdict("config.reboot-required", f"{where}: takes effect only after a reboot "
                                    "(expect RebootRequired, then send Reset)", evidence))
    verdicts += _inconsistent(profile, state, identity, spec, value, where, evidence)
    present = spec.presence == "present"
    if rejected:
        expectation = Expectation("ChangeConfiguration", "Rejected", "the value is refused", subject, present)
    elif spec.access == "R-or-RW":
        expectation = None  # the charger decides whether it is writable
    else:
        answer = "RebootRequired" if spec.reboot else "Accepted"
        reason = "a reboot is needed" if spec.reboot else "the change applies at once"
        expectation = Expectation("ChangeConfiguration", answer, reason, subject, present)
    return verdicts, expectation


def _inconsistent(profile: Profile, state: ChargerState, identity: str | None, spec: KeySpec, value: str,
                  where: str, evidence: dict[str, Any]) -> list[Verdict]:
    proposed = state.values()
    is_auth = spec.name.casefold() == profile.auth.key.casefold()
    if not spec.secret:
        proposed[spec.name.casefold()] = value
    texts = inconsistencies(profile, proposed, {spec.name.casefold()}, identity,
                            auth_value=value if is_auth else None, auth_user=state.auth_user)
    return [Verdict("config.inconsistent", f"{where}: {text}", evidence) for text in texts]


def _redacted_user(value: str, marker_user: str | None) -> str | None:
    """The user of a redacted ``user:password`` key: kept in clear before the marker, or inside it."""
    clear = value.split(REDACTED_PREFIX, 1)[0]
    return clear[:-1] if clear.endswith(":") else marker_user


def change_answered(profile: Profile, state: ChargerState, payload: dict[str, Any], status: Any) -> None:
    """Remember a change the charger accepted."""
    key, value = payload.get("key"), payload.get("value")
    if status not in ("Accepted", "RebootRequired") or not isinstance(key, str) or not isinstance(value, str):
        return
    spec = profile.key(key)
    if key.casefold() == profile.auth.key.casefold():
        marker = parse_redaction_marker(value)
        user = _redacted_user(value, marker.user) if marker is not None else value.partition(":")[0]
        state.auth_user = user if profile.auth.format == "user:password" else None
    if spec is None or not spec.secret:
        state.remember(spec.name if spec else key, value)


def get_configuration(profile: Profile, state: ChargerState, payload: dict[str, Any]) -> list[Verdict]:
    keys = [k for k in items(payload, "key") if isinstance(k, str)]
    verdicts = []
    most = limit(profile, state, "get_configuration_max_keys")
    if most is not None and len(keys) > most.value:
        verdicts.append(Verdict("config.get-too-many-keys",
                                f"GetConfiguration asks for {len(keys)} keys, the charger answers at most {most.value} "
                                f"per request ({most.cited}): split the request",
                                {"profile": profile.id, "keys": len(keys), "max_keys": most.value, **most.evidence()}))
    for key in keys:
        spec = profile.key(key)
        if spec is not None and spec.access == "W":
            verdicts.append(Verdict("config.write-only", f"GetConfiguration asks for {spec.name}, which is write-only "
                                    f"on {profile.id}: the charger will not return its value",
                                    _evidence(profile, spec, key, None)))
    return verdicts


def configuration_reported(profile: Profile, state: ChargerState, identity: str | None,
                           payload: dict[str, Any]) -> list[Verdict]:
    """A GetConfiguration answer: contradictions with the profile, broken stored values, vendor notes."""
    verdicts: list[Verdict] = []
    reported: set[str] = set()
    for entry in items(payload, "configurationKey"):
        if not isinstance(entry, dict) or not isinstance(entry.get("key"), str):
            continue
        key, value, readonly = entry["key"], entry.get("value"), entry.get("readonly")
        spec = profile.key(key)
        if spec is not None:
            verdicts += _reported_entry(profile, spec, value if isinstance(value, str) else None, readonly)
        if isinstance(value, str) and (spec is None or not spec.secret):
            state.remember(spec.name if spec else key, value)
            reported.add(key.casefold())
    for key in items(payload, "unknownKey"):
        spec = profile.key(key) if isinstance(key, str) else None
        if spec is not None and spec.presence == "present":
            verdicts.append(Verdict(DISAGREES, f"GetConfiguration: the charger does not know {spec.name}, which "
                                    f"{profile.id} says the model has: profile and firmware disagree",
                                    _evidence(profile, spec, key, None)))
    if reported:
        for text in inconsistencies(profile, state.values(), reported, identity):
            verdicts.append(Verdict("config.inconsistent", f"GetConfiguration: the charger is configured so that "
                                    f"{text}", {"profile": profile.id}))
    return verdicts


def _reported_entry(profile: Profile, spec: KeySpec, value: str | None, readonly: Any) -> list[Verdict]:
    where = f"GetConfiguration: {spec.name}"
    evidence = _evidence(profile, spec, spec.name, value)
    verdicts = []
    if spec.presence == "absent":
        verdicts.append(Verdict(DISAGREES, f"{where} is reported, but {profile.id} says the model has no such key: "
                                "profile and firmware disagree", evidence))
    expected_readonly = {"R": True, "RW": False}.get(spec.access)
    if isinstance(readonly, bool) and expected_readonly is not None and readonly != expected_readonly:
        verdicts.append(Verdict(DISAGREES, f"{where} is reported {'read-only' if readonly else 'writable'}, "
                                f"{profile.id} says {spec.access}", {**evidence, "readonly": readonly},
                                severity="info"))
    if value is None:
        return verdicts
    if spec.access == "W" and value:
        verdicts.append(Verdict(DISAGREES, f"{where} is write-only on {profile.id}, yet the charger returns a value "
                                f"({shown(spec, value)}); OCPP allows an unrelated placeholder", evidence,
                                severity="info"))
        return verdicts
    if spec.secret:
        return verdicts
    where = f"{where} = {shown(spec, value)}"
    for problem in check_value(spec, value):
        if problem.rejected:
            verdicts.append(Verdict(DISAGREES, f"{where}: the charger holds a value {profile.id} says it refuses "
                                    f"({problem.text}): profile and firmware disagree",
                                    {**evidence, **problem.evidence}))
        else:
            verdicts.append(_problem_verdict(f"{where} (current setting)", problem, evidence, stored=True))
    verdicts += _notes(where, spec, value, evidence)
    for limit_name, limit_key in LIMIT_KEYS.items():
        stated = getattr(profile.limits, limit_name)
        if spec.name.casefold() == limit_key.casefold() and stated is not None and value.strip() != str(stated):
            verdicts.append(Verdict(DISAGREES, f"{where}, but {profile.id} says {stated}: profile and firmware "
                                    "disagree; the checks use the profile's value",
                                    {**evidence, "profile_value": stated}))
    return verdicts
