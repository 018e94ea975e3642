"""What a field engineer asks first: is a connector faulted, why did a card not start a session, did the meter
run backwards, did a firmware update or a diagnostics upload fail.

Status transitions follow the OCPP 1.6 StatusNotification state table (§4.9, with erratum 3.20's
Preparing → Finishing); OCPP 2.x reports connector states without such a table, so only faults are judged there.
"""

from __future__ import annotations

from typing import Any

from proxy.core.analyzer import Checker, Context
from proxy.core.connection import Connection, PendingCall
from proxy.core.events import Direction
from proxy.core.findings import Severity, rule
from proxy.core.frames import Frame

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
REGISTER_DECREASED = rule(
    "meter.register-decreased",
    Severity.ERROR,
    "Energy register reading went down during a transaction",
    "Energy.Active.Import.Register must increase monotonically within a transaction; a lower reading breaks "
    "billing. Often a meter reset, a unit mix-up (Wh/kWh) or readings from another connector.",
    "MeterValues 1240 Wh, then 1100 Wh for the same transaction",
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
_REGISTER = "Energy.Active.Import.Register"
_KEY = "charging"
_MAX_OPEN_TRANSACTIONS = 256


class _Charging:
    __slots__ = ("register", "status")

    def __init__(self) -> None:
        self.status: dict[Any, str] = {}
        """Last 1.6 status per connectorId."""
        self.register: dict[Any, float] = {}
        """Last Energy.Active.Import.Register reading in Wh per transaction id."""


def _state(conn: Connection) -> _Charging:
    state = conn.data.get(_KEY)
    if state is None:
        state = conn.data[_KEY] = _Charging()
    return state


def _wh(sample: dict[str, Any]) -> float | None:
    """An import register sample's reading in Wh, or None if it has no number."""
    try:
        number = float(sample.get("value"))  # type: ignore[arg-type]  # 1.6 sends strings, 2.x numbers
    except (TypeError, ValueError):
        return None
    unit_of_measure = sample.get("unitOfMeasure")  # 2.x
    if isinstance(unit_of_measure, dict):
        unit = unit_of_measure.get("unit") or "Wh"
        multiplier = unit_of_measure.get("multiplier")
        if isinstance(multiplier, int) and multiplier:
            number *= 10.0**multiplier
    else:
        unit = sample.get("unit") or "Wh"
    return number * 1000.0 if unit == "kWh" else number


class ChargingChecker(Checker):
    name = "charging"
    actions = frozenset(
        {"StatusNotification", "MeterValues", "StartTransaction", "StopTransaction", "TransactionEvent",
         "FirmwareStatusNotification", "DiagnosticsStatusNotification", "LogStatusNotification",
         "SignedFirmwareStatusNotification", "PublishFirmwareStatusNotification"}
    )
    result_actions = frozenset({"Authorize", "StartTransaction", "TransactionEvent"})

    def on_call(self, ctx: Context, conn: Connection, frame: Frame) -> None:
        if ctx.direction is not Direction.FROM_CHARGER or not isinstance(frame.payload, dict):
            return
        payload = frame.payload
        action = frame.action or ""
        if action == "StatusNotification":
            self._status(ctx, conn, payload)
        elif action == "MeterValues":
            self._meter_values(ctx, conn, payload.get("transactionId"), payload.get("meterValue"), action)
        elif action == "StartTransaction":
            pass  # the register baseline needs the transaction id from the answer: see on_result
        elif action == "StopTransaction":
            tx = payload.get("transactionId")
            stop = payload.get("meterStop")
            if isinstance(stop, int | float) and not isinstance(stop, bool):
                self._reading(ctx, conn, tx, float(stop), "meterStop", action)
            self._meter_values(ctx, conn, tx, payload.get("transactionData"), action)
            _state(conn).register.pop(tx, None)
        elif action == "TransactionEvent":
            tx = (payload.get("transactionInfo") or {}).get("transactionId")
            self._meter_values(ctx, conn, tx, payload.get("meterValue"), action)
            if payload.get("eventType") == "Ended":
                _state(conn).register.pop(tx, None)
        else:
            status = payload.get("status")
            if status in _FAILURES:
                ctx.emit(FIRMWARE_FAILED, f"{action}: {status}", {"status": status}, action=action)

    def _status(self, ctx: Context, conn: Connection, payload: dict[str, Any]) -> None:
        connector = payload.get("connectorId")
        status = payload.get("status") or payload.get("connectorStatus")
        error = payload.get("errorCode")
        if status == "Faulted" or (error is not None and error != "NoError"):
            info = payload.get("info") or payload.get("vendorErrorCode")
            ctx.emit(
                FAULT,
                f"connector {connector} {status}" + (f": {error}" if error and error != "NoError" else "")
                + (f" ({info})" if info else ""),
                {"connector": connector, "status": status, "error_code": error, "info": info},
                action="StatusNotification",
            )
        if conn.version != "1.6" or not isinstance(status, str):
            return
        statuses = _state(conn).status
        previous = statuses.get(connector)
        statuses[connector] = status
        if previous is not None and previous != status and status not in _TRANSITIONS_16.get(previous, {status}):
            ctx.emit(
                INVALID_TRANSITION,
                f"connector {connector} went from {previous} to {status}, which OCPP 1.6 does not allow",
                {"connector": connector, "from": previous, "to": status},
                action="StatusNotification",
            )

    def _meter_values(self, ctx: Context, conn: Connection, tx: Any, meter_values: Any, action: str) -> None:
        if tx is None or not isinstance(meter_values, list):
            return
        for meter_value in meter_values:
            samples = meter_value.get("sampledValue") if isinstance(meter_value, dict) else None
            for sample in samples if isinstance(samples, list) else ():
                # The measurand is tested here, before a call: most samples are other measurands.
                if isinstance(sample, dict) and sample.get("measurand", _REGISTER) == _REGISTER:
                    wh = _wh(sample)
                    if wh is not None:
                        self._reading(ctx, conn, tx, wh, _REGISTER, action)

    def _reading(self, ctx: Context, conn: Connection, tx: Any, wh: float, what: str, action: str) -> None:
        registers = _state(conn).register
        previous = registers.get(tx)
        if previous is not None and wh < previous:
            ctx.emit(
                REGISTER_DECREASED,
                f"transaction {tx}: {what} {wh:g} Wh is below the previous reading {previous:g} Wh",
                {"transaction": tx, "previous_wh": previous, "reading_wh": wh},
                action=action,
            )
        registers[tx] = wh
        if len(registers) > _MAX_OPEN_TRANSACTIONS:  # transactions that never stopped: keep memory bounded
            del registers[next(iter(registers))]

    def on_result(self, ctx: Context, conn: Connection, call: PendingCall, frame: Frame) -> None:
        answer = frame.payload if isinstance(frame.payload, dict) else {}
        request = call.payload if isinstance(call.payload, dict) else {}
        info = answer.get("idTagInfo") or answer.get("idTokenInfo") or {}
        status = info.get("status") if isinstance(info, dict) else None
        if status in _REFUSALS:
            tag = request.get("idTag") or (request.get("idToken") or {}).get("idToken")
            ctx.emit(
                AUTHORIZATION_REJECTED,
                f"{call.action}: backend answered {status} for idTag {tag}",
                {"id_tag": tag, "status": status},
                action=call.action,
            )
        if call.action == "StartTransaction":
            start = request.get("meterStart")
            tx = answer.get("transactionId")
            if tx is not None and isinstance(start, int | float) and not isinstance(start, bool):
                _state(conn).register[tx] = float(start)
