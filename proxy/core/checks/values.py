"""Numbers and strings that pass the schema but that implementations choke on: ids beyond 32 bits, sentinel
ids, empty strings where a value is meant, identifiers that are not of their kind, placeholders where a model
or serial number belongs.

Each is reported once per connection, field and value: a charger repeats its BootNotification or its
transaction id in every message, and one finding says it.
"""

from __future__ import annotations

import re
from typing import Any

from ocppscope.proxy.core.analyzer import Checker, Context
from ocppscope.proxy.core.connection import Connection, PendingCall
from ocppscope.proxy.core.events import Direction
from ocppscope.proxy.core.findings import Severity, rule
from ocppscope.proxy.core.frames import Frame
from ocppscope.proxy.core.payload import field

ID_BEYOND_INT32 = rule(
    "value.id-beyond-int32",
    Severity.WARNING,
    "Integer id does not fit in 32 bits",
    "OCPP sets no upper bound on integer ids (transactionId, reservationId, chargingProfileId, requestId...), "
    "but many backends and charger firmwares store them as a signed 32-bit integer (at most 2147483647): the "
    "id overflows, the transaction is not found, the charger drops the message or the backend fails.",
    'StartTransaction answered {"transactionId":3000000000,...}',
)
SENTINEL_ID = rule(
    "value.sentinel-id",
    Severity.WARNING,
    "Id that is a placeholder, not an id",
    "A backend that issues transactionId 0 or a negative one collides with what firmwares use for 'no "
    "transaction' (-1 is what a 1.6 charger sends when it never got a StartTransaction answer, OCPP 1.6 "
    "errata 3.18); a 2.x transactionId of '', '0', '-1' or 'null' is a placeholder. The charger's -1 of errata "
    "3.18 is an info: the backend must answer as if the id were valid.",
    'StartTransaction answered {"transactionId":0,...}',
)
EMPTY_REQUIRED = rule(
    "value.empty-required",
    Severity.WARNING,
    "Empty string where a value is required",
    "The 1.6 schemas set no minimum length, so an empty chargePointVendor, chargePointModel, idTag or "
    "vendorId passes validation; backends still refuse to register or authorise it, or store a charger they "
    "cannot tell apart. Not a schema error: the firmware or its provisioning left the value out.",
    '[2,"1","BootNotification",{"chargePointVendor":"","chargePointModel":"AC22"}]',
)
EMPTY_OPTIONAL = rule(
    "value.empty-optional",
    Severity.INFO,
    "Optional field sent as an empty string",
    "An optional field is present but empty (a serial number, firmware version, ICCID, vendorErrorCode...). "
    "Leaving it out says the same; some backends store the empty string and then fail on it (uniqueness of "
    "serial numbers, display, lookups).",
    '{"chargePointVendor":"Acme","chargePointModel":"AC22","chargePointSerialNumber":""}',
)
IDENTIFIER_KIND = rule(
    "value.identifier-kind",
    Severity.INFO,
    "Identifier that is not of its kind",
    "An ICCID is 19 or 20 digits (an optional trailing F pads it), an IMSI 15 digits. Anything else is "
    "usually another modem value in the wrong field or a firmware that could not read the SIM.",
    '{"iccid":"N/A","imsi":"204080123456789"}',
)
PLACEHOLDER = rule(
    "value.placeholder",
    Severity.WARNING,
    "Placeholder where a vendor, model or serial number belongs",
    "A wildcard or placeholder ('*', 'xxx', 'N/A', 'unknown', 'string', '0000…') in the vendor, model or "
    "serial number: the charger was not provisioned (or a test tool's default payload went out). Backends "
    "that identify chargers by serial number mix such chargers up.",
    '{"chargePointVendor":"Acme","chargePointModel":"string","chargePointSerialNumber":"000000000"}',
)

_INT32 = (-(2**31), 2**31 - 1)
_KEY = "values"
_MAX_REPORTED = 256
_SENTINELS_2X = frozenset({"", "0", "-1", "null", "undefined", "None", "NaN", "nil"})
_PLACEHOLDER = re.compile(
    r"[*?._\-\s]+|x{3,}|[0\-\s]*0[0\-\s]*|n/?a|none|null|nil|undefined|unknown|string|default|tbd|todo|changeme"
    r"|serial(?:number)?|model|vendor|123456789|1234567890",
    re.IGNORECASE,
).fullmatch
_ICCID = re.compile(r"\d{19,20}[Ff]?").fullmatch
_IMSI = re.compile(r"\d{15}").fullmatch

Path = tuple[str, ...]

_IDS: dict[str, tuple[Path, ...]] = {
    # Requests: integer ids per action (1.6 and 2.x names; a path the payload lacks is skipped).
    "MeterValues": (("transactionId",),),
    "StopTransaction": (("transactionId",),),
    "RemoteStopTransaction": (("transactionId",),),
    "StartTransaction": (("reservationId",),),
    "ReserveNow": (("reservationId",), ("id",)),
    "CancelReservation": (("reservationId",),),
    "ReservationStatusUpdate": (("reservationId",),),
    "RemoteStartTransaction": (("chargingProfile", "chargingProfileId"),),
    "RequestStartTransaction": (("remoteStartId",), ("chargingProfile", "id")),
    "TransactionEvent": (("transactionInfo", "remoteStartId"), ("reservationId",)),
    "SetChargingProfile": (("csChargingProfiles", "chargingProfileId"), ("csChargingProfiles", "transactionId"),
                           ("chargingProfile", "id")),
    "ClearChargingProfile": (("id",), ("chargingProfileId",)),
    "GetLog": (("requestId",),),
    "LogStatusNotification": (("requestId",),),
    "SignedUpdateFirmware": (("requestId",),),
    "SignedFirmwareStatusNotification": (("requestId",),),
    "UpdateFirmware": (("requestId",),),
    "FirmwareStatusNotification": (("requestId",),),
    "GetBaseReport": (("requestId",),),
    "GetReport": (("requestId",),),
    "NotifyReport": (("requestId",),),
    "GetMonitoringReport": (("requestId",),),
    "NotifyMonitoringReport": (("requestId",),),
}
_REQUIRED: dict[str, tuple[Path, ...]] = {
    "BootNotification": (("chargePointVendor",), ("chargePointModel",), ("chargingStation", "vendorName"),
                         ("chargingStation", "model")),
    "Authorize": (("idTag",),),
    "StartTransaction": (("idTag",),),
    "RemoteStartTransaction": (("idTag",),),
    "DataTransfer": (("vendorId",),),
    "ChangeConfiguration": (("key",),),
}
_OPTIONAL: dict[str, tuple[Path, ...]] = {
    "BootNotification": (("chargePointSerialNumber",), ("chargeBoxSerialNumber",), ("firmwareVersion",), ("iccid",),
                         ("imsi",), ("meterType",), ("meterSerialNumber",), ("chargingStation", "serialNumber"),
                         ("chargingStation", "firmwareVersion"), ("chargingStation", "modem", "iccid"),
                         ("chargingStation", "modem", "imsi")),
    "StopTransaction": (("idTag",),),
    "StatusNotification": (("info",), ("vendorId",), ("vendorErrorCode",)),
    "DataTransfer": (("messageId",),),
}
_PLACEHOLDER_FIELDS: tuple[Path, ...] = (
    ("chargePointVendor",), ("chargePointModel",), ("chargePointSerialNumber",), ("chargeBoxSerialNumber",),
    ("meterSerialNumber",), ("chargingStation", "vendorName"), ("chargingStation", "model"),
    ("chargingStation", "serialNumber"),
)
_IDENTIFIERS: tuple[tuple[Path, str, Any], ...] = (
    (("iccid",), "an ICCID (19 or 20 digits)", _ICCID),
    (("chargingStation", "modem", "iccid"), "an ICCID (19 or 20 digits)", _ICCID),
    (("imsi",), "an IMSI (15 digits)", _IMSI),
    (("chargingStation", "modem", "imsi"), "an IMSI (15 digits)", _IMSI),
)
_WHAT = {"chargePointVendor": "vendor", "vendorName": "vendor", "chargePointModel": "model", "model": "model"}
_WHY_REQUIRED = {
    "chargePointVendor": "backends refuse or cannot register a charger without a vendor",
    "chargePointModel": "backends refuse or cannot register a charger without a model",
    "vendorName": "CSMSs refuse or cannot register a station without a vendor",
    "model": "CSMSs refuse or cannot register a station without a model",
    "idTag": "no card or user is named; backends answer Invalid or fail",
    "vendorId": "the receiver cannot tell whose extension this is and answers UnknownVendorId",
    "key": "no configuration key is named",
}


_PATHS: dict[str, tuple[tuple[Path, ...], tuple[Path, ...], tuple[Path, ...]]] = {
    action: (_IDS.get(action, ()), _REQUIRED.get(action, ()), _OPTIONAL.get(action, ()))
    for action in (*_IDS, *_REQUIRED, *_OPTIONAL)
}
"""Per action: the paths of its integer ids, required strings and optional strings (one lookup per CALL)."""


def _reported(conn: Connection) -> set[tuple[Any, ...]]:
    reported = conn.data.get(_KEY)
    if reported is None:
        reported = conn.data[_KEY] = set()
    return reported


def _once(conn: Connection, key: tuple[Any, ...]) -> bool:
    """True the first time ``key`` is seen on ``conn`` (memory bounded: past the bound, nothing is new)."""
    reported = _reported(conn)
    if key in reported or len(reported) >= _MAX_REPORTED:
        return False
    reported.add(key)
    return True


def _name(path: Path) -> str:
    return ".".join(path)


class ValuesChecker(Checker):
    name = "values"
    actions = frozenset({*_IDS, *_REQUIRED, *_OPTIONAL})
    result_actions = frozenset({"StartTransaction"})

    def on_call(self, ctx: Context, conn: Connection, frame: Frame) -> None:
        payload = frame.payload
        action = frame.action or ""
        if type(payload) is not dict:
            return
        ids, required, optional = _PATHS.get(action, ((), (), ()))
        for path in ids:
            value = payload.get(path[0]) if len(path) == 1 else field(payload, *path)
            if type(value) is int and not 0 < value <= _INT32[1]:  # a positive int32 is what ids should be
                self._id(ctx, conn, action, path, value, issued=False)
        if action == "TransactionEvent":
            self._transaction_id_2x(ctx, conn, field(payload, "transactionInfo", "transactionId"))
        for path in required:
            value = payload.get(path[0]) if len(path) == 1 else field(payload, *path)
            if type(value) is str and not value.strip() and _once(conn, ("required", action, path)):
                ctx.emit(EMPTY_REQUIRED, f"{action}: {_name(path)} is {value!r}; the schema allows it, but "
                         f"{_WHY_REQUIRED.get(path[-1], 'receivers need a value here')}",
                         {"field": _name(path), "value": value}, action=action)
        for path in optional:
            value = payload.get(path[0]) if len(path) == 1 else field(payload, *path)
            if type(value) is str and not value.strip() and _once(conn, ("optional", action, path)):
                ctx.emit(EMPTY_OPTIONAL, f"{action}: optional {_name(path)} sent as {value!r}; leave it out "
                         "rather than send it empty", {"field": _name(path), "value": value}, action=action)
        if action == "BootNotification":
            self._boot(ctx, conn, payload)

    def on_result(self, ctx: Context, conn: Connection, call: PendingCall, frame: Frame) -> None:
        answer = frame.payload
        if type(answer) is dict and conn.version == "1.6":
            self._id(ctx, conn, "StartTransaction answer", ("transactionId",), answer.get("transactionId"),
                     issued=True)

    def _id(self, ctx: Context, conn: Connection, where: str, path: Path, value: Any, issued: bool) -> None:
        if type(value) is not int:
            return
        name = _name(path)
        if not _INT32[0] <= value <= _INT32[1]:
            if _once(conn, ("int32", name, value)):
                ctx.emit(ID_BEYOND_INT32, f"{where}: {name} {value} does not fit in 32 bits (at most "
                         f"{_INT32[1]}); backends and chargers that store it as int32 overflow",
                         {"field": name, "value": value}, action=where.split(" ", 1)[0])
            return
        if path[-1] != "transactionId" or value > 0 or not _once(conn, ("sentinel", name, value, issued)):
            return
        if issued:
            ctx.emit(SENTINEL_ID, f"{where}: the backend issues transactionId {value}; firmwares use "
                     f"{'0' if value == 0 else 'negative ids'} for 'no transaction', so its messages may never "
                     "name this one: issue positive ids", {"field": name, "value": value, "issued": True},
                     action="StartTransaction")
        elif value == -1 and ctx.direction is Direction.FROM_CHARGER:
            ctx.emit(SENTINEL_ID, f"{where}: transactionId -1 means the charger never got a StartTransaction "
                     "answer for this transaction (OCPP 1.6 errata 3.18); the backend must answer as if it "
                     "were valid",
                     {"field": name, "value": value, "issued": False}, action=where, severity=Severity.INFO)

    def _transaction_id_2x(self, ctx: Context, conn: Connection, value: Any) -> None:
        if type(value) is str and value.strip() in _SENTINELS_2X and _once(conn, ("sentinel-2x", value)):
            ctx.emit(SENTINEL_ID, f"TransactionEvent: transactionId {value!r} is a placeholder; the CSMS files "
                     "every such transaction under one id", {"field": "transactionInfo.transactionId",
                                                             "value": value, "issued": False},
                     action="TransactionEvent")

    def _boot(self, ctx: Context, conn: Connection, payload: dict[str, Any]) -> None:
        for path in _PLACEHOLDER_FIELDS:
            value = field(payload, *path)
            if type(value) is str and value.strip() and _PLACEHOLDER(value.strip()) is not None \
                    and _once(conn, ("placeholder", path, value)):
                ctx.emit(PLACEHOLDER, f"BootNotification: {_name(path)} {value!r} is a placeholder, not a "
                         f"{_WHAT.get(path[-1], 'serial number')}; the charger was not provisioned",
                         {"field": _name(path), "value": value}, action="BootNotification")
        for path, kind, pattern in _IDENTIFIERS:
            value = field(payload, *path)
            if type(value) is str and value.strip() and pattern(value) is None \
                    and _once(conn, ("identifier", path, value)):
                shown = value if len(value) <= 40 else value[:40] + "…"
                ctx.emit(IDENTIFIER_KIND, f"BootNotification: {_name(path)} {shown!r} is not {kind}",
                         {"field": _name(path), "value": shown}, action="BootNotification")
