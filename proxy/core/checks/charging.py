"""What a field engineer asks first: is a connector faulted, why did a card not start a session, did a firmware
update or a diagnostics upload fail. Meter readings are judged in :mod:`proxy.core.checks.metering`.

Status transitions follow the OCPP 1.6 StatusNotification state table (§4.9, with erratum 3.20's
Preparing → Finishing); OCPP 2.x reports connector states without such a table, so only faults are judged there.
"""

from __future__ import annotations

from typing import Any

from ocppscope.proxy.core.analyzer import Checker, Context
from ocppscope.proxy.core.connection import Connection, PendingCall
from ocppscope.proxy.core.events import Direction
from ocppscope.proxy.core.findings import Severity, rule
from ocppscope.proxy.core.frames import Frame

FAULT = rule(
    "status.fault",
    Severity.WARNING,
    "Connector reports a fault",
    "StatusNotification with status Faulted, or an errorCode other than NoError. The error code and the "
    "vendor's info say which part failed.",
    '[2,"1","StatusNotification",{"connectorId":1,"status":"Faulted","errorCode":"GroundFailure"}]',
)
INVALID_TRANSITION = rule(
    "status.invalid-transition",
    Severity.WARNING,
    "Connector status changed in a way OCPP 1.6 does not allow",
    "The OCPP 1.6 state table (§4.9) lists which status may follow which; e.g. Available cannot go straight "
    "to Finishing. Usually a missed StatusNotification or a firmware state-machine bug.",
    "connector 1: Available, then Finishing",
)
AUTHORIZATION_REJECTED = rule(
    "authorize.rejected",
    Severity.INFO,
    "Backend refused an idTag",
    "Authorize, StartTransaction or a 2.x TransactionEvent was answered with an idTag status other than "
    "Accepted (Blocked, Expired, Invalid, ConcurrentTx, ...). The reason a driver's card did not start charging.",
    'Authorize {"idTag":"04A2B3"} answered {"idTagInfo":{"status":"Invalid"}}',
)
FIRMWARE_FAILED = rule(
    "firmware.failed",
    Severity.WARNING,
    "Firmware update, diagnostics upload or log upload failed",
    "FirmwareStatusNotification, DiagnosticsStatusNotification or LogStatusNotification reported a failure "
    "(DownloadFailed, InstallationFailed, UploadFailed, ...). Check the URL, credentials and the charger's "
    "network access to the file server.",
    '[2,"1","DiagnosticsStatusNotification",{"status":"UploadFailed"}]',
)

# OCPP 1.6 §4.9: the statuses each status may change to (a repeat of the same status is always allowed).
_TRANSITIONS_16 = {
    "Available": {"Preparing", "Charging", "SuspendedEV", "SuspendedEVSE", "Reserved", "Unavailable", "Faulted"},
    "Preparing": {"Available", "Charging", "SuspendedEV", "SuspendedEVSE", "Finishing", "Faulted"},
    "Charging": {"Available", "SuspendedEV", "SuspendedEVSE", "Finishing", "Unavailable", "Faulted"},
    "SuspendedEV": {"Available", "Charging", "SuspendedEVSE", "Finishing", "Unavailable", "Faulted"},
    "SuspendedEVSE": {"Available", "Charging", "SuspendedEV", "Finishing", "Unavailable", "Faulted"},
    "Finishing": {"Available", "Preparing", "Unavailable", "Faulted"},
    "Reserved": {"Available", "Preparing", "Unavailable", "Faulted"},
    "Unavailable": {"Available", "Preparing", "Charging", "SuspendedEV", "SuspendedEVSE", "Faulted"},
    "Faulted": {"Available", "Preparing", "Charging", "SuspendedEV", "SuspendedEVSE", "Finishing", "Reserved",
                "Unavailable"},
}
_FAILURES = frozenset(
    {"DownloadFailed", "InstallationFailed", "UploadFailed", "InvalidSignature", "InstallVerificationFailed",
     "SignatureError", "BadMessage", "PermissionDenied", "AcceptedCanceled"}
)
_REFUSALS = frozenset(
    {"Blocked", "Expired", "Invalid", "ConcurrentTx", "NoCredit", "NotAllowedTypeEVSE", "NotAtThisLocation",
     "NotAtThisTime", "Unknown"}
)
"""idTag statuses that refuse (1.6 AuthorizationStatus, 2.x AuthorizationStatusEnumType); others are schema errors."""
_KEY = "charging"
_VENDOR_FIELDS = (("vendorId", "vendor_id"), ("vendorErrorCode", "vendor_error_code"))


def _statuses(conn: Connection) -> dict[Any, str]:
    """Last 1.6 status per connectorId."""
    statuses = conn.data.get(_KEY)
    if statuses is None:
        statuses = conn.data[_KEY] = {}
    return statuses


class ChargingChecker(Checker):
    name = "charging"
    actions = frozenset(
        {"StatusNotification", "FirmwareStatusNotification", "DiagnosticsStatusNotification",
         "LogStatusNotification", "SignedFirmwareStatusNotification", "PublishFirmwareStatusNotification"}
    )
    result_actions = frozenset({"Authorize", "StartTransaction", "TransactionEvent"})

    def on_call(self, ctx: Context, conn: Connection, frame: Frame) -> None:
        if ctx.direction is not Direction.FROM_CHARGER or not isinstance(frame.payload, dict):
            return
        payload = frame.payload
        action = frame.action or ""
        if action == "StatusNotification":
            self._status(ctx, conn, payload)
        else:
            status = payload.get("status")
            if type(status) is str and status in _FAILURES:
                ctx.emit(FIRMWARE_FAILED, f"{action}: {status}", {"status": status}, action=action)

    def _status(self, ctx: Context, conn: Connection, payload: dict[str, Any]) -> None:
        connector = payload.get("connectorId")
        status = payload.get("status") or payload.get("connectorStatus")
        error = payload.get("errorCode")
        if status == "Faulted" or (error is not None and error != "NoError"):
            # The vendor's words are what says which part failed: quoted here, not in a second finding.
            vendor = [str(payload[name]) for name in ("vendorId", "vendorErrorCode", "info") if payload.get(name)]
            ctx.emit(
                FAULT,
                f"connector {connector} {status}" + (f": {error}" if error and error != "NoError" else "")
                + (f" ({', '.join(vendor)})" if vendor else ""),
                {"connector": connector, "status": status, "error_code": error, "info": payload.get("info"),
                 **{key: payload[name] for name, key in _VENDOR_FIELDS if payload.get(name)}},
                action="StatusNotification",
            )
        if conn.version != "1.6" or not isinstance(status, str) or isinstance(connector, list | dict):
            return
        statuses = _statuses(conn)
        previous = statuses.get(connector)
        statuses[connector] = status
        if previous is not None and previous != status and status not in _TRANSITIONS_16.get(previous, {status}):
            ctx.emit(
                INVALID_TRANSITION,
                f"connector {connector} went from {previous} to {status}, which OCPP 1.6 does not allow",
                {"connector": connector, "from": previous, "to": status},
                action="StatusNotification",
            )

    def on_result(self, ctx: Context, conn: Connection, call: PendingCall, frame: Frame) -> None:
        answer = frame.payload if isinstance(frame.payload, dict) else {}
        request = call.payload if isinstance(call.payload, dict) else {}
        info = answer.get("idTagInfo") or answer.get("idTokenInfo") or {}
        status = info.get("status") if isinstance(info, dict) else None
        if type(status) is str and status in _REFUSALS:
            token = request.get("idToken")
            tag = request.get("idTag") or (token.get("idToken") if isinstance(token, dict) else None)
            ctx.emit(
                AUTHORIZATION_REJECTED,
                f"{call.action}: backend answered {status} for idTag {tag}",
                {"id_tag": tag, "status": status},
                action=call.action,
            )
