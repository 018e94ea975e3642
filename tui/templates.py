"""Starting points for injected CALLs, per OCPP version and per side they are sent to.

Each payload is valid against its schema as given; the user edits it before sending. Time stamps are filled in
when the template is taken.
"""

from __future__ import annotations

import time
from typing import Any

NOW = "$now"

_TO_CHARGER_16: dict[str, dict[str, Any]] = {
    "TriggerMessage": {"requestedMessage": "StatusNotification", "connectorId": 1},
    "GetConfiguration": {"key": ["HeartbeatInterval"]},
    "ChangeConfiguration": {"key": "HeartbeatInterval", "value": "300"},
    "Reset": {"type": "Soft"},
    "RemoteStartTransaction": {"connectorId": 1, "idTag": "OCPPSCOPE01"},
    "RemoteStopTransaction": {"transactionId": 1},
    "UnlockConnector": {"connectorId": 1},
    "ChangeAvailability": {"connectorId": 0, "type": "Operative"},
    "ClearCache": {},
    "DataTransfer": {"vendorId": "ocppscope", "messageId": "test", "data": ""},
    "GetLocalListVersion": {},
}
_TO_BACKEND_16: dict[str, dict[str, Any]] = {
    "Heartbeat": {},
    "StatusNotification": {"connectorId": 1, "errorCode": "NoError", "status": "Available", "timestamp": NOW},
    "Authorize": {"idTag": "OCPPSCOPE01"},
    "DataTransfer": {"vendorId": "ocppscope", "messageId": "test", "data": ""},
    "MeterValues": {"connectorId": 1, "meterValue": [{"timestamp": NOW, "sampledValue": [{"value": "0"}]}]},
}
_TO_CHARGER_2: dict[str, dict[str, Any]] = {
    "TriggerMessage": {"requestedMessage": "StatusNotification", "evse": {"id": 1, "connectorId": 1}},
    "GetVariables": {"getVariableData": [{"component": {"name": "OCPPCommCtrlr"},
                                          "variable": {"name": "HeartbeatInterval"}}]},
    "SetVariables": {"setVariableData": [{"attributeValue": "300", "component": {"name": "OCPPCommCtrlr"},
                                          "variable": {"name": "HeartbeatInterval"}}]},
    "GetBaseReport": {"requestId": 1, "reportBase": "ConfigurationInventory"},
    "Reset": {"type": "OnIdle"},
    "RequestStartTransaction": {"idToken": {"idToken": "OCPPSCOPE01", "type": "ISO14443"}, "remoteStartId": 1,
                                "evseId": 1},
    "RequestStopTransaction": {"transactionId": "1"},
    "UnlockConnector": {"evseId": 1, "connectorId": 1},
    "ChangeAvailability": {"operationalStatus": "Operative"},
    "ClearCache": {},
    "DataTransfer": {"vendorId": "ocppscope", "messageId": "test"},
}
_TO_BACKEND_2: dict[str, dict[str, Any]] = {
    "Heartbeat": {},
    "StatusNotification": {"timestamp": NOW, "connectorStatus": "Available", "evseId": 1, "connectorId": 1},
    "Authorize": {"idToken": {"idToken": "OCPPSCOPE01", "type": "ISO14443"}},
    "DataTransfer": {"vendorId": "ocppscope", "messageId": "test"},
}

TEMPLATES: dict[str, dict[str, dict[str, dict[str, Any]]]] = {
    "1.6": {"charger": _TO_CHARGER_16, "backend": _TO_BACKEND_16},
    "2.0.1": {"charger": _TO_CHARGER_2, "backend": _TO_BACKEND_2},
    "2.1": {"charger": _TO_CHARGER_2, "backend": _TO_BACKEND_2},
}


def templates_for(version: str | None, to: str) -> dict[str, dict[str, Any]]:
    return TEMPLATES.get(version or "1.6", TEMPLATES["1.6"])[to]


def payload(version: str | None, to: str, action: str, now: float | None = None) -> dict[str, Any]:
    """The template's payload with ``$now`` replaced by the current time (UTC, as OCPP wants)."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() if now is None else now))
    return _fill(templates_for(version, to)[action], stamp)


def _fill(value: Any, stamp: str) -> Any:
    if value == NOW:
        return stamp
    if isinstance(value, dict):
        return {key: _fill(item, stamp) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill(item, stamp) for item in value]
    return value
