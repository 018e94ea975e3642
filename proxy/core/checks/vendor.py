"""Vendor data, shown rather than hidden: DataTransfer with its data decoded, the vendor's words in status and
event reports, the vendor's own configuration keys. Info findings: what the charger says beyond OCPP.

Values of keys whose names say they hold secrets (:func:`proxy.core.secrets.looks_secret`) are never quoted.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import Any

import orjson
from ocppscope.proxy.core import render as safe
from ocppscope.proxy.core.analyzer import Checker, Context
from ocppscope.proxy.core.connection import Connection, PendingCall
from ocppscope.proxy.core.events import Direction
from ocppscope.proxy.core.findings import Severity, rule
from ocppscope.proxy.core.frames import Frame
from ocppscope.proxy.core.payload import field, objects, text
from ocppscope.proxy.core.secrets import looks_secret

DATA_TRANSFER = rule(
    "vendor.data-transfer",
    Severity.INFO,
    "DataTransfer: a vendor's own message",
    "DataTransfer carries what OCPP has no message for; vendorId says whose extension it is, messageId which "
    "message. The data is shown decoded where it is JSON, key=value pairs or comma/semicolon-separated fields "
    "(values of secret-looking keys hidden).",
    '[2,"1","DataTransfer",{"vendorId":"com.acme","messageId":"Diag","data":"temp=41;fan=on"}]',
)
DATA_TRANSFER_ANSWER = rule(
    "vendor.data-transfer-answer",
    Severity.INFO,
    "DataTransfer answer: refused, or with data",
    "The receiver answered a DataTransfer with UnknownVendorId, UnknownMessageId or Rejected (it does not "
    "implement that vendor's extension), or answered with data of its own, shown decoded.",
    '[3,"1",{"status":"UnknownVendorId"}]',
)
STATUS_INFO = rule(
    "vendor.status-info",
    Severity.INFO,
    "Vendor detail in a status or event report",
    "A StatusNotification without a fault that carries vendorId, vendorErrorCode or info, or a 2.x "
    "NotifyEvent with techCode/techInfo: the vendor's own words about the state. Faults quote them in "
    "status.fault. Reported once per connection and detail.",
    '{"connectorId":1,"status":"Preparing","errorCode":"NoError","vendorId":"com.acme","info":"cable locked"}',
)
CONFIGURATION_KEYS = rule(
    "vendor.configuration-keys",
    Severity.INFO,
    "Vendor configuration keys the charger reports",
    "GetConfiguration answered with keys that OCPP 1.6 (with its errata, the security white paper and the "
    "Plug & Charge application note) does not name: the vendor's own settings, listed with their values "
    "(secret ones hidden). Each key is listed once per connection.",
    '{"configurationKey":[{"key":"com_OCPPID","readonly":false,"value":"NL*ECO*1000"}]}',
)

HIDDEN = "<hidden>"
_KNOWN_VENDORS = {"org.openchargealliance.iso15118pnc": "ISO 15118 Plug & Charge for OCPP 1.6 (OCA application note)"}
_REFUSED = frozenset({"Rejected", "UnknownVendorId", "UnknownMessageId"})
_MAX_DATA = 2000
"""Characters of data decoded into the evidence; longer data is kept as its first characters."""
_SHOWN = 120
_LISTED = 8
_KEY_VALUE = re.compile(r"\s*([\w.\-\[\]]+)\s*=(?!=)(.*)", re.DOTALL).fullmatch
_PAIR_SEPARATORS = re.compile(r"[;&\n]|,(?=\s*[\w.\-\[\]]+\s*=)")
_KEY = "vendor"


@cache
def standard_keys() -> frozenset[str]:
    """The OCPP 1.6 configuration key names, casefolded (they are CiStrings)."""
    with resources.files("ocppscope.proxy.core.data").joinpath("ocpp16-config-keys.json").open("rb") as fh:
        return frozenset(key.casefold() for key in json.load(fh)["keys"])


def _masked(value: Any, depth: int = 0) -> Any:
    if depth >= safe.MAX_DEPTH and type(value) in (dict, list):
        return safe.CUT  # nesting hundreds deep: no report shows it, so nothing in it can leak
    if type(value) is dict:
        return {k: HIDDEN if looks_secret(str(k)) else _masked(v, depth + 1) for k, v in value.items()}
    if type(value) is list:
        return [_masked(v, depth + 1) for v in value]
    return value


def decode_data(data: Any) -> tuple[str, Any]:
    """(format, value) of DataTransfer data: json, key=value, csv or text (1.6 data is a string), else none.

    2.x data may be any JSON value and is taken as it came. Values of secret-looking keys come back hidden.
    """
    if data is None:
        return "none", None
    if type(data) is not str:
        return "json", _masked(data)
    raw = data[:_MAX_DATA]
    stripped = raw.strip()
    if stripped[:1] in ("{", "[") and len(data) <= _MAX_DATA:
        try:
            return "json", _masked(orjson.loads(stripped))
        except orjson.JSONDecodeError:
            pass
    parts = [part for part in _PAIR_SEPARATORS.split(stripped) if part.strip()]
    pairs = [_KEY_VALUE(part) for part in parts]
    if parts and all(pairs):
        return "key=value", _masked({m.group(1): m.group(2).strip() for m in pairs if m})
    separator = ";" if ";" in stripped else ","
    fields = [item.strip() for item in stripped.split(separator)]
    if len(fields) >= 2 and "\n" not in stripped:
        return "csv", fields
    return "text", raw


def _shown(value: Any) -> str:
    rendered = value if type(value) is str else safe.json_text(value)
    return rendered if len(rendered) <= _SHOWN else rendered[:_SHOWN] + "…"


def _data_text(fmt: str, data: Any) -> str:
    return "no data" if fmt == "none" else f"data ({fmt}) {_shown(data)}"


def _reported(conn: Connection) -> set[Any]:
    reported = conn.data.get(_KEY)
    if reported is None:
        reported = conn.data[_KEY] = set()
    return reported


def _once(conn: Connection, key: Any) -> bool:
    reported = _reported(conn)
    if key in reported or len(reported) >= 1024:
        return False
    reported.add(key)
    return True


_STATUS_DETAIL = ("vendorId", "vendorErrorCode", "info")


class VendorChecker(Checker):
    name = "vendor"
    actions = frozenset({"DataTransfer", "StatusNotification", "NotifyEvent"})
    result_actions = frozenset({"DataTransfer", "GetConfiguration"})

    def on_call(self, ctx: Context, conn: Connection, frame: Frame) -> None:
        payload = frame.payload
        if type(payload) is not dict:
            return
        action = frame.action
        if action == "DataTransfer":
            self._data_transfer(ctx, payload)
        elif ctx.direction is not Direction.FROM_CHARGER:
            return
        elif action == "StatusNotification":
            self._status(ctx, conn, payload)
        else:
            self._event(ctx, conn, payload)

    def _data_transfer(self, ctx: Context, payload: dict[str, Any]) -> None:
        vendor, message = payload.get("vendorId"), payload.get("messageId")
        fmt, data = decode_data(payload.get("data"))
        if type(message) is str and looks_secret(message) and fmt != "none":
            fmt, data = "hidden", HIDDEN
        known = _KNOWN_VENDORS.get(vendor) if type(vendor) is str else None
        sender = ctx.direction.sender if ctx.direction is not None else "peer"
        ctx.emit(DATA_TRANSFER,
                 f"DataTransfer from the {sender}: vendorId {_quoted(vendor)}" + (f" ({known})" if known else "")
                 + (f", messageId {_quoted(message)}" if message is not None else "") + f", {_data_text(fmt, data)}",
                 {"vendor_id": vendor, "message_id": message, "format": fmt, "data": data},
                 action="DataTransfer")

    def _status(self, ctx: Context, conn: Connection, payload: dict[str, Any]) -> None:
        if "vendorErrorCode" not in payload and "info" not in payload and "vendorId" not in payload:
            return  # nearly every StatusNotification: asked first, as it costs a sixth of building the detail
        detail = {name: payload[name] for name in _STATUS_DETAIL
                  if type(payload.get(name)) is str and payload[name].strip()}
        if not detail or payload.get("status") == "Faulted" or payload.get("errorCode", "NoError") != "NoError":
            return  # nothing said, or status.fault quotes it
        if not _once(conn, ("status", *sorted(detail.items()))):
            return
        words = ", ".join(f"{name} {value!r}" for name, value in detail.items())
        ctx.emit(STATUS_INFO, f"StatusNotification connector {payload.get('connectorId')} "
                 f"{payload.get('status')}: {words}", {"connector": payload.get("connectorId"),
                                                      "status": payload.get("status"), **detail},
                 action="StatusNotification")

    def _event(self, ctx: Context, conn: Connection, payload: dict[str, Any]) -> None:
        for event in objects(payload, "eventData"):
            detail = {name: event[name] for name in ("techCode", "techInfo")
                      if type(event.get(name)) is str and event[name].strip()}
            if not detail:
                continue
            where = f"{text(event, 'component', 'name')}.{text(event, 'variable', 'name')}"
            evse = field(event, "component", "evse", "id")
            if not _once(conn, ("event", where, *sorted(detail.items()))):
                continue
            words = ", ".join(f"{name} {value!r}" for name, value in detail.items())
            ctx.emit(STATUS_INFO, f"NotifyEvent {where}" + (f" (EVSE {evse})" if evse is not None else "")
                     + f" = {event.get('actualValue')!r}: {words}",
                     {"variable": where, "evse": evse, "actual_value": event.get("actualValue"), **detail},
                     action="NotifyEvent")

    def on_result(self, ctx: Context, conn: Connection, call: PendingCall, frame: Frame) -> None:
        answer = frame.payload
        if type(answer) is not dict:
            return
        if call.action == "GetConfiguration":
            self._vendor_keys(ctx, conn, answer)
            return
        status = text(answer, "status")
        fmt, data = decode_data(answer.get("data"))
        if status not in _REFUSED and fmt == "none":
            return
        vendor, message = field(call.payload, "vendorId"), field(call.payload, "messageId")
        if type(message) is str and looks_secret(message) and fmt != "none":
            fmt, data = "hidden", HIDDEN
        what = safe.line(vendor if type(vendor) is str else safe.preview(vendor)) + (
            f"/{message if type(message) is str else safe.preview(message)}" if message is not None else "")
        if status in _REFUSED:
            why = {"UnknownVendorId": "it does not implement this vendor's extension",
                   "UnknownMessageId": "it knows the vendor but not this message",
                   "Rejected": "it refused the request"}[status]
            text_ = f"DataTransfer {what} answered {status}: {why}" + (f"; {_data_text(fmt, data)}"
                                                                      if fmt != "none" else "")
        else:
            text_ = f"DataTransfer {what} answered {status} with {_data_text(fmt, data)}"
        ctx.emit(DATA_TRANSFER_ANSWER, text_, {"vendor_id": vendor, "message_id": message, "status": status,
                                               "format": fmt, "data": data, "call_seq": call.seq},
                 action="DataTransfer")

    def _vendor_keys(self, ctx: Context, conn: Connection, answer: dict[str, Any]) -> None:
        standard = standard_keys()
        listed: dict[str, Any] = {}
        for entry in objects(answer, "configurationKey"):
            key = entry.get("key")
            if type(key) is not str or key.casefold() in standard or not _once(conn, ("key", key.casefold())):
                continue
            value = entry.get("value")
            if looks_secret(key) and value is not None:
                value = HIDDEN
            elif type(value) is str and len(value) > 200:
                value = value[:200] + "…"
            listed[key] = value
        if not listed:
            return
        shown = [f"{key}={value if value in (None, HIDDEN) else repr(_shown(value))}"
                 for key, value in list(listed.items())[:_LISTED]]
        more = f" and {len(listed) - _LISTED} more" if len(listed) > _LISTED else ""
        ctx.emit(CONFIGURATION_KEYS, f"GetConfiguration: {len(listed)} key{'s' if len(listed) > 1 else ''} "
                 f"{'are' if len(listed) > 1 else 'is'} the vendor's, not OCPP 1.6: {', '.join(shown)}{more}",
                 {"keys": listed}, action="GetConfiguration")


def _quoted(value: Any) -> str:
    """A string as repr quotes it; anything else (a peer's wrong type, maybe nested deep) as a short preview."""
    return repr(value) if type(value) is str else safe.preview(value)
