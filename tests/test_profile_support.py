"""Helpers for the profile tests: real bundled profiles, real events, a real Analyzer (no tests here).

    found = run("ac-wallbox", lambda w: call(w, "ChangeConfiguration", {"key": "HeartbeatInterval",
                                                                       "value": "5"}, {"status": "Accepted"}))
    assert rules_of(found) == ["config.value-clamped"]
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from functools import cache
from itertools import count
from typing import Any

from ocppscope.proxy.core.findings import Finding
from ocppscope.proxy.profiles.checker import ProfileChecker
from ocppscope.proxy.profiles.loader import ProfileLibrary
from ocppscope.proxy.profiles.model import Profile
from ocppscope.proxy.profiles.selection import ProfileSelector, parse_mapping_arg

from tests.traffic import Wire, analyze

PROFILE_AREAS = ("profile.", "config.", "limit.")
_ids = count(1)


@cache
def bundled() -> dict[str, Profile]:
    """The bundled profiles, loaded once per test session (they are immutable)."""
    return ProfileLibrary(include_user=False).all()


def checker(*mapping: str, profiles: dict[str, Profile] | None = None) -> ProfileChecker:
    return ProfileChecker(ProfileSelector(profiles or bundled(), [parse_mapping_arg(m) for m in mapping]))


def call(wire: Wire, action: str, payload: dict[str, Any], answer: dict[str, Any] | None = None,
         error: str | None = None) -> str:
    """The backend sends a CALL; the charger answers with ``answer`` or a CALLERROR ``error`` (or not at all)."""
    message_id = f"m{next(_ids)}"
    wire.cs(json.dumps([2, message_id, action, payload]))
    if answer is not None:
        wire.cp(json.dumps([3, message_id, answer]), after=0.1)
    elif error is not None:
        wire.cp(json.dumps([4, message_id, error, "", {}]), after=0.1)
    return message_id


def send(wire: Wire, action: str, payload: dict[str, Any], answer: dict[str, Any] | None = None) -> str:
    """The charger sends a CALL; the backend answers with ``answer`` (or not at all)."""
    message_id = f"m{next(_ids)}"
    wire.cp(json.dumps([2, message_id, action, payload]))
    if answer is not None:
        wire.cs(json.dumps([3, message_id, answer]), after=0.1)
    return message_id


def change(wire: Wire, key: str, value: str, status: str | None = "Accepted") -> str:
    return call(wire, "ChangeConfiguration", {"key": key, "value": value},
                {"status": status} if status else None)


def boot(wire: Wire, vendor: str = "VendorX", model: str = "ModelY", serial: str | None = None) -> str:
    payload = {"chargePointVendor": vendor, "chargePointModel": model}
    if serial is not None:
        payload["chargePointSerialNumber"] = serial
    return send(wire, "BootNotification", payload,
                {"status": "Accepted", "currentTime": "2024-01-01T00:00:00Z", "interval": 300})


def reported(wire: Wire, entries: dict[str, str], unknown: Iterable[str] = (),
             readonly: dict[str, bool] | None = None) -> str:
    """GetConfiguration (all keys) answered with ``entries``."""
    keys = [{"key": k, "readonly": (readonly or {}).get(k, False), "value": v} for k, v in entries.items()]
    answer: dict[str, Any] = {"configurationKey": keys}
    if unknown:
        answer["unknownKey"] = list(unknown)
    return call(wire, "GetConfiguration", {}, answer)


def run(mapping: str | Iterable[str] | None, script: Callable[[Wire], Any], charger: str = "CP01",
        subprotocol: str | None = "ocpp1.6", profiles: dict[str, Profile] | None = None) -> list[Finding]:
    """Findings of the profile rules for one connection of ``charger`` driven by ``script``."""
    mapping = () if mapping is None else ((f"{charger}={mapping}",) if isinstance(mapping, str) else tuple(mapping))
    wire = Wire(charger, subprotocol=subprotocol)
    script(wire)
    found = analyze(wire.events, [checker(*mapping, profiles=profiles)])
    return [f for f in found if f.rule.startswith(PROFILE_AREAS)]


def rules_of(found: Iterable[Finding], skip_selected: bool = True) -> list[str]:
    return [f.rule for f in found if not (skip_selected and f.rule == "profile.selected")]


def only(found: Iterable[Finding], rule_id: str) -> list[Finding]:
    return [f for f in found if f.rule == rule_id]
