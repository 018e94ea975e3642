"""Connection-keeping settings a capture reveals: HeartbeatInterval and WebSocketPingInterval.

From the backend setting them (BootNotification interval, 1.6 ChangeConfiguration, 2.x SetVariables on
OCPPCommCtrlr) when the charger accepted, and from the charger reporting them (1.6 GetConfiguration, 2.x
GetVariables). Pure functions of one CALL and its answer.
"""

from __future__ import annotations

from typing import Any

NAMES = ("HeartbeatInterval", "WebSocketPingInterval")


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def revealed(action: str | None, request: Any, answer: Any) -> dict[str, int]:
    """The settings a CALLRESULT to ``action`` establishes or reports, by name."""
    request = request if isinstance(request, dict) else {}
    answer = answer if isinstance(answer, dict) else {}
    found: dict[str, int | None] = {}
    if action == "BootNotification" and answer.get("status") == "Accepted":
        found["HeartbeatInterval"] = _int(answer.get("interval"))
    elif action == "ChangeConfiguration" and answer.get("status") == "Accepted":
        key = str(request.get("key", ""))
        if key in NAMES:
            found[key] = _int(request.get("value"))
    elif action == "GetConfiguration":
        for item in answer.get("configurationKey") or ():
            if isinstance(item, dict) and item.get("key") in NAMES:
                found[item["key"]] = _int(item.get("value"))
    elif action == "SetVariables":
        accepted = {_variable(r) for r in answer.get("setVariableResult") or () if isinstance(r, dict)
                    and r.get("attributeStatus") == "Accepted"}
        for item in request.get("setVariableData") or ():
            if isinstance(item, dict) and _variable(item) in accepted:
                found[_variable(item)[1]] = _int(item.get("attributeValue"))
    elif action == "GetVariables":
        for item in answer.get("getVariableResult") or ():
            if isinstance(item, dict) and item.get("attributeStatus") == "Accepted":
                found[_variable(item)[1]] = _int(item.get("attributeValue"))
    return {name: value for name, value in found.items() if name in NAMES and value is not None}


def _variable(item: dict[str, Any]) -> tuple[str | None, str | None]:
    component = item.get("component") if isinstance(item.get("component"), dict) else {}
    variable = item.get("variable") if isinstance(item.get("variable"), dict) else {}
    name = variable.get("name")  # type: ignore[union-attr]
    # OCPPCommCtrlr holds both in 2.x; other components' variables of the same name are not these settings.
    return (component.get("name"), name if component.get("name") == "OCPPCommCtrlr" else None)  # type: ignore[union-attr]
