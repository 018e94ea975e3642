"""The numeric limits and supported sets of a profile: local lists, triggers, charging profiles, measurands.

A limit the profile leaves open falls back to what the charger itself reported in GetConfiguration
(SendLocalListMaxLength...), so the generic profile still checks against the charger's own numbers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from ocppscope.proxy.profiles.model import LIMIT_KEYS, Profile
from ocppscope.proxy.profiles.ocpp16 import DEFAULT_MEASURAND
from ocppscope.proxy.profiles.state import ChargerState, InstalledProfile, with_installed
from ocppscope.proxy.profiles.verdicts import Expectation, Verdict


@dataclass(frozen=True, slots=True)
class Limit:
    """A numeric limit and where it comes from, so that a finding quoting it names its source."""

    value: int
    key: str
    """The configuration key that reports it (SendLocalListMaxLength...)."""
    source: Literal["profile", "charger"]
    profile_id: str

    @property
    def cited(self) -> str:
        if self.source == "charger":
            return f"the charger's {self.key}, from its GetConfiguration answer"
        return f"{self.key} of profile {self.profile_id}"

    def evidence(self) -> dict[str, Any]:
        return {"limit_key": self.key, "limit_source": self.source}


def limit(profile: Profile, state: ChargerState, name: str) -> Limit | None:
    """The limit ``name`` (a :class:`Limits` field): the profile's, else what the charger itself reported."""
    key = LIMIT_KEYS[name]
    value = getattr(profile.limits, name)
    if value is not None:
        return Limit(value, key, "profile", profile.id)
    reported = state.integer(key)
    return Limit(reported, key, "charger", profile.id) if reported is not None else None


def id_tags(profile: Profile, action: str, tags: list[tuple[str, Any]]) -> list[Verdict]:
    """idTags longer than the model stores (``tags``: where in the payload, value)."""
    maximum = profile.limits.id_tag_max_length
    if maximum is None:
        return []
    return [
        Verdict("limit.id-tag-length", f"{action}: idTag {tag!r} ({where}) has {len(tag)} characters, {profile.id} "
                f"stores at most {maximum}", {"profile": profile.id, "id_tag": tag, "max_length": maximum})
        for where, tag in tags if isinstance(tag, str) and len(tag) > maximum
    ]


def _entries(payload: dict[str, Any]) -> list[dict[str, Any]]:
    entries = payload.get("localAuthorizationList")
    return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []


def send_local_list(profile: Profile, state: ChargerState, payload: dict[str, Any]) -> list[Verdict]:
    entries = _entries(payload)
    verdicts = id_tags(profile, "SendLocalList",
                       [(f"localAuthorizationList[{i}]", e.get("idTag")) for i, e in enumerate(entries)])
    per_message = limit(profile, state, "send_local_list_max_length")
    evidence: dict[str, Any] = {"profile": profile.id, "entries": len(entries)}
    if per_message is not None and len(entries) > per_message.value:
        verdicts.append(Verdict("limit.local-list", f"SendLocalList carries {len(entries)} idTags, the charger accepts "
                                f"at most {per_message.value} per message ({per_message.cited}): split the list",
                                {**evidence, "max_per_message": per_message.value, **per_message.evidence()}))
    total = limit(profile, state, "local_auth_list_max_length")
    after = _list_after(state, payload, entries)
    if total is not None and after is not None and len(after) > total.value:
        verdicts.append(Verdict("limit.local-list", f"SendLocalList would leave {len(after)} idTags on the charger, "
                                f"which holds at most {total.value} ({total.cited})",
                                {**evidence, "total_after": len(after), "max_total": total.value, **total.evidence()}))
    return verdicts


def _list_after(state: ChargerState, payload: dict[str, Any], entries: list[dict[str, Any]]) -> set[str] | None:
    tags = {e["idTag"] for e in entries if isinstance(e.get("idTag"), str)}
    if payload.get("updateType") == "Full":
        return tags
    if state.local_list is None:
        return None
    result = set(state.local_list)
    for entry in entries:
        tag = entry.get("idTag")
        if isinstance(tag, str):
            if entry.get("idTagInfo") is None:
                result.discard(tag)  # a differential entry without idTagInfo removes the tag
            else:
                result.add(tag)
    return result


def local_list_answered(state: ChargerState, payload: dict[str, Any], status: Any) -> None:
    if status == "Accepted":
        state.local_list = _list_after(state, payload, _entries(payload))


def trigger_message(profile: Profile, payload: dict[str, Any],
                    describes_model: bool = True) -> tuple[list[Verdict], Expectation | None]:
    """``describes_model`` False for the specification-only profile: it lists what OCPP allows to trigger, not
    what this charger implements, so a NotImplemented answer contradicts nothing."""
    requested = payload.get("requestedMessage")
    supported = profile.limits.trigger_messages
    if supported is None or not isinstance(requested, str):
        return [], None
    if requested not in supported:
        return [Verdict("limit.trigger-unsupported", f"TriggerMessage {requested}: {profile.id} can only be triggered "
                        f"to send {', '.join(supported)}; the charger will answer NotImplemented",
                        {"profile": profile.id, "requested": requested, "supported": list(supported)})], \
            Expectation("TriggerMessage", "NotImplemented", f"it cannot trigger {requested}", requested)
    return [], Expectation("TriggerMessage", "Accepted", f"it can trigger {requested}", requested,
                           present=describes_model)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def charging_profile(profile: Profile, state: ChargerState, action: str, charging: Any,
                     connector_id: Any = None) -> tuple[list[Verdict], Expectation | None]:
    """Stack level, schedule periods and installed-profile count of one charging profile."""
    if not isinstance(charging, dict):
        return [], None
    verdicts = []
    evidence: dict[str, Any] = {"profile": profile.id, "chargingProfileId": charging.get("chargingProfileId")}
    stack = _int(charging.get("stackLevel"))
    max_stack = limit(profile, state, "charge_profile_max_stack_level")
    if stack is not None and max_stack is not None and stack > max_stack.value:
        verdicts.append(Verdict("limit.stack-level", f"{action}: stackLevel {stack} is above {max_stack.value}, the "
                                f"highest the charger supports ({max_stack.cited})",
                                {**evidence, "stack_level": stack, "max_stack_level": max_stack.value,
                                 **max_stack.evidence()}))
    schedule = charging.get("chargingSchedule")
    periods = schedule.get("chargingSchedulePeriod") if isinstance(schedule, dict) else None
    max_periods = limit(profile, state, "charging_schedule_max_periods")
    if isinstance(periods, list) and max_periods is not None and len(periods) > max_periods.value:
        verdicts.append(Verdict("limit.schedule-periods", f"{action}: the schedule has {len(periods)} periods, the "
                                f"charger takes at most {max_periods.value} ({max_periods.cited})",
                                {**evidence, "periods": len(periods), "max_periods": max_periods.value,
                                 **max_periods.evidence()}))
    if action == "SetChargingProfile":
        installed = limit(profile, state, "max_charging_profiles_installed")
        after = with_installed(state.charging_profiles, _installed(charging, connector_id))
        if installed is not None and len(after) > installed.value:
            verdicts.append(Verdict("limit.profiles-installed", f"{action}: this would make {len(after)} charging "
                                    f"profiles installed, the charger holds at most {installed.value} "
                                    f"({installed.cited}); counted from the profiles set in this input",
                                    {**evidence, "installed_after": len(after), "max_installed": installed.value,
                                     **installed.evidence()}))
    refused = [v for v in verdicts if v.rule in ("limit.stack-level", "limit.schedule-periods")]
    if not refused or action != "SetChargingProfile":
        return verdicts, None  # the installed count is only an estimate: no prediction from it
    return verdicts, Expectation(action, "Rejected", "the charging profile exceeds the model's limits",
                                 f"id {charging.get('chargingProfileId')}")


def _installed(charging: dict[str, Any], connector_id: Any) -> InstalledProfile:
    return InstalledProfile(_int(charging.get("chargingProfileId")), _int(connector_id),
                            charging.get("chargingProfilePurpose"), _int(charging.get("stackLevel")),
                            _int(charging.get("transactionId")))


def charging_profile_answered(state: ChargerState, payload: dict[str, Any], status: Any) -> None:
    charging = payload.get("csChargingProfiles")
    if status == "Accepted" and isinstance(charging, dict):
        state.install(_installed(charging, payload.get("connectorId")))


def measurands(payload: dict[str, Any], key: str) -> Iterator[str]:
    """Every measurand in a MeterValues ``meterValue`` or StopTransaction ``transactionData`` list."""
    values = payload.get(key)
    for meter_value in values if isinstance(values, list) else []:
        sampled = meter_value.get("sampledValue") if isinstance(meter_value, dict) else None
        for sample in sampled if isinstance(sampled, list) else []:
            if isinstance(sample, dict):
                measurand = sample.get("measurand", DEFAULT_MEASURAND)
                if isinstance(measurand, str):
                    yield measurand
