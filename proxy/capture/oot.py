"""Open OCPP Trace v1.1: import as events, export from any input, and the conformance consumer view.

One OOT record is one OCPP-J frame. Import makes one connection per ``chargePointId`` (ocppscope's own
export adds the real handshake and close in ``meta.ocppscope``, and import restores them). Export pairs
answers with their CALLs through the :class:`~proxy.core.analyzer.Analyzer`, the same pairing every other
consumer sees; what the format cannot hold is counted in an :class:`ExportReport`, never dropped silently.
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import orjson
from ocppscope.proxy.capture.format import DECODE_ERRORS, DIRECTIONS, decoders, encode_close, encode_open, implausible
from ocppscope.proxy.capture.jsonstream import json_values
from ocppscope.proxy.capture.private import open_private
from ocppscope.proxy.capture.redact import Redactor, installation_salt
from ocppscope.proxy.capture.report import ReadReport, describe_error
from ocppscope.proxy.capture.synthetic import SyntheticConnections
from ocppscope.proxy.capture.times import iso_utc, parse_time
from ocppscope.proxy.core.analyzer import Analyzer, AnalyzerOptions
from ocppscope.proxy.core.connection import Connection
from ocppscope.proxy.core.events import ConnectionClosed, ConnectionOpened, Event, Gap, Message, Ping
from ocppscope.proxy.core.frames import Frame, decode
from ocppscope.proxy.core.protocol import MessageType, version_of_subprotocol

SCHEMA_VERSION = "1.1"
META_KEY = "ocppscope"
"""ocppscope's extensions live in ``meta.ocppscope``: handshake, close, seq, redacted, versionGuessed."""

_TYPES = {"CALL": MessageType.CALL, "CALLRESULT": MessageType.CALLRESULT, "CALLERROR": MessageType.CALLERROR}
_TYPE_NAMES = {value: name for name, value in _TYPES.items()}
_PAIRING = AnalyzerOptions(call_timeout=math.inf, slow_response=math.inf)
"""The OOT correlation rule has no timeout: an answer pairs with its CALL however late it comes."""


# -- import ----------------------------------------------------------------------------------------------

def oot_records(handle: BinaryIO, report: ReadReport) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line, record) for each record of an OOT file (JSON Lines or one JSON array)."""
    for line, value in json_values(handle, report):
        if type(value) is not dict:
            report.unusable_line(line, f"an Open OCPP Trace record must be a JSON object, not a JSON "
                                       f"{type(value).__name__}")
            continue
        yield line, value


class OotImporter:
    """Turns OOT records into events, one synthetic connection per ``chargePointId``."""

    def __init__(self, report: ReadReport) -> None:
        self.report = report
        self.connections = SyntheticConnections()

    def events(self, record: dict[str, Any], line: int) -> list[Event]:
        """The events of one record: its message, preceded by an open and followed by a close as needed.

        A record that cannot be used is named on the report (line and why) and gives no events."""
        try:
            events = self._events(record)
        except (*DECODE_ERRORS, OverflowError, RecursionError) as exc:
            self.report.unusable_line(line, f"unusable Open OCPP Trace record: {describe_error(exc)}")
            return []
        for event in events:
            problem = implausible(event)
            if problem is not None:
                self.report.unusable_line(line, f"unusable Open OCPP Trace record: {problem}")
                return []
        return events

    def _events(self, record: dict[str, Any]) -> list[Event]:
        direction = record.get("direction")
        direction = DIRECTIONS.get(direction) if type(direction) is str else None
        if direction is None:
            raise ValueError("direction must be cp-to-csms or csms-to-cp")
        timestamp = record.get("timestamp")
        if type(timestamp) is not str:
            raise ValueError("timestamp must be an ISO 8601 date-time")
        time = parse_time(timestamp)
        meta = record.get("meta")
        ours = meta.get(META_KEY) if type(meta) is dict else None
        ours = ours if type(ours) is dict else {}
        charger = record.get("chargePointId")
        charger = charger if type(charger) is str else None
        key = charger or ""
        out: list[Event] = []
        handshake = ours.get("handshake")
        if type(handshake) is dict:
            opened = decoders()["open"](handshake)
            self.connections.adopt(key, opened)  # type: ignore[arg-type]
            out.append(opened)
        conn_id = self.connections.conn_for(key, charger, time, _subprotocol(record.get("ocppVersion")), out)
        seq = ours.get("seq")
        out.append(Message(conn_id, time, direction, _frame_text(record).encode("utf-8", "surrogatepass"), True,
                           self.connections.next_seq(seq if type(seq) is int else None),
                           redacted=ours.get("redacted") is True))
        close = ours.get("close")
        if type(close) is dict:
            closed = decoders()["close"](close)
            self.connections.forget(key)
            self.connections.next_seq(closed.seq)
            out.append(closed)
        return out


def read_oot(handle: BinaryIO, report: ReadReport) -> Iterator[Event]:
    """The events of an OOT file."""
    report.format = "oot"
    importer = OotImporter(report)
    for line, record in oot_records(handle, report):
        for event in importer.events(record, line):
            report.events += 1
            yield event
    report.finish()


def _frame_text(record: dict[str, Any]) -> str:
    raw = record.get("raw")
    if type(raw) is str:
        return raw
    kind = record.get("messageType")
    message_type = _TYPES.get(kind) if type(kind) is str else None
    message_id = record.get("messageId")
    if message_type is MessageType.CALL:
        frame: list[Any] = [2, message_id, record.get("action"), record.get("payload", {})]
    elif message_type is MessageType.CALLRESULT:
        frame = [3, message_id, record.get("payload", {})]
    elif message_type is MessageType.CALLERROR:
        error = record.get("error") if type(record.get("error")) is dict else {}
        frame = [4, message_id, error.get("code", "GenericError"), error.get("description", ""),
                 error.get("details", {})]
    else:
        raise ValueError("no raw frame and messageType is not CALL, CALLRESULT or CALLERROR")
    try:
        return orjson.dumps(frame).decode("utf-8")
    except TypeError:  # integers beyond 64 bits or lone surrogates, which only the standard library reads
        return json.dumps(frame, separators=(",", ":"))


def _subprotocol(version: Any) -> str | None:
    if type(version) is not str or not version:
        return None
    return version if version.startswith("ocpp") else f"ocpp{version}"


# -- conformance consumer view ---------------------------------------------------------------------------

def consumer_view(records: Iterable[tuple[int, dict[str, Any]]], report: ReadReport) -> dict[str, Any]:
    """The consumer view of conformance/README.md, derived from the Analyzer's pairing.

    ocppscope pairs answers per connection (per ``chargePointId``); the OOT rule is worded for one trace,
    which is the same thing for every trace that holds one charge point.
    """
    analyzer = Analyzer((), _PAIRING)
    importer = OotImporter(report)
    entries: list[dict[str, Any]] = []
    call_index: dict[tuple[str, int], int] = {}
    answered: set[int] = set()
    orphans: list[int] = []
    counts = Counter[str]()
    schema_version = None
    for index, (line, record) in enumerate(records):
        if schema_version is None:
            schema_version = record.get("schemaVersion")
        message_type = record.get("messageType")
        counts[message_type if type(message_type) is str else ""] += 1
        entry: dict[str, Any] = {"index": index, "messageType": message_type}
        if "messageId" in record:
            entry["messageId"] = record["messageId"]
        frame = call = message = None
        for event in importer.events(record, line):
            inspection = analyzer.feed(event)
            if type(event) is Message:
                message, frame, call = event, inspection.frame, inspection.call
        if message is None:
            continue  # an unusable record, named on the report
        if message_type == "CALL":
            action = record.get("action") or (frame.action if frame is not None else None)
            if action is not None:
                entry["action"] = action
            call_index[(message.conn_id, message.seq)] = index
        elif message_type in ("CALLRESULT", "CALLERROR"):
            paired = call_index.get((message.conn_id, call.seq)) if call is not None else None
            if paired is not None:
                if call is not None and call.action is not None:
                    entry["action"] = call.action
                entry["correlatesWith"] = paired
                answered.add(paired)
            else:
                if record.get("action") is not None:
                    entry["action"] = record["action"]
                orphans.append(index)
        entries.append(entry)
    return {
        "schemaVersion": schema_version,
        "counts": {
            "records": len(entries),
            "calls": counts["CALL"],
            "callResults": counts["CALLRESULT"],
            "callErrors": counts["CALLERROR"],
        },
        "records": entries,
        "unansweredCalls": sorted(set(call_index.values()) - answered),
        "orphanResponses": orphans,
    }


# -- export ----------------------------------------------------------------------------------------------

LOSS_BINARY = "binary frames"
LOSS_NOT_OCPP = "frames that are not OCPP-J CALL/CALLRESULT/CALLERROR arrays (invalid JSON, wrong shape)"
LOSS_CALLRESULTERROR = "CALLRESULTERROR frames (OCPP 2.1)"
LOSS_SEND = "SEND frames (OCPP 2.1)"
LOSS_PING = "pings and pongs"
LOSS_GAP = "gap records (frames the proxy relayed but could not record)"
LOSS_FAILED_HANDSHAKE = "failed handshakes (no WebSocket opened)"
LOSS_EMPTY_CONNECTION = "connections with no exportable frame (their handshake and close)"


@dataclass
class ExportReport:
    """What an export wrote and what Open OCPP Trace could not hold."""

    records: int = 0
    connections: int = 0
    lost: Counter[str] = field(default_factory=Counter)

    def describe(self) -> list[str]:
        """Lines for a person: the records written, then each kind of loss with its count."""
        lines = [f"wrote {self.records} Open OCPP Trace record(s) from {self.connections} connection(s)"]
        if not self.lost:
            lines.append("nothing was lost")
        for reason, count in sorted(self.lost.items()):
            lines.append(f"not representable in Open OCPP Trace, left out: {count} {reason}")
        return lines


@dataclass
class _ConnectionPlan:
    opened: ConnectionOpened | None = None
    closed: ConnectionClosed | None = None
    exportable: int = 0


def export_oot(events: Iterable[Event], replay: Iterable[Event], target: str | os.PathLike[str] | BinaryIO,
               *, array: bool = False, salt: bytes | None = None) -> ExportReport:
    """Write ``events`` as Open OCPP Trace records to ``target``; return what was written and lost.

    Secrets are redacted as in a capture (``salt``: this installation's), whatever the input held; a file
    ``target`` is created readable by its owner only.

    The events are read twice: ``events`` to find each connection's first and last exportable frame (which
    carry the handshake and close in ``meta.ocppscope``), ``replay`` (the same events again) to write. Both
    passes stream, so memory grows with the number of connections, not frames. ``array`` writes one JSON
    array instead of JSON Lines. Callers must show :meth:`ExportReport.describe` to the user.
    """
    redactor = Redactor(installation_salt() if salt is None else salt)
    plans = _plan(redactor.events(events))
    report = ExportReport(connections=sum(1 for plan in plans.values() if plan.exportable))
    if isinstance(target, str | os.PathLike):
        with open_private(target) as out:
            _write(redactor.events(replay), plans, out, array, report)
    else:
        _write(redactor.events(replay), plans, target, array, report)
    return report


def _plan(events: Iterable[Event]) -> dict[tuple[str, int], _ConnectionPlan]:
    plans: dict[tuple[str, int], _ConnectionPlan] = {}
    instances = Counter[str]()
    for event in events:
        if type(event) is ConnectionOpened:
            instances[event.conn_id] += 1
        key = (event.conn_id, instances[event.conn_id])
        plan = plans.get(key)
        if plan is None:
            plan = plans[key] = _ConnectionPlan()
        if type(event) is ConnectionOpened:
            plan.opened = event
        elif type(event) is ConnectionClosed:
            plan.closed = event
        elif type(event) is Message and _loss(decode(event.content, event.is_text)) is None:
            plan.exportable += 1
    return plans


def _write(events: Iterable[Event], plans: dict[tuple[str, int], _ConnectionPlan], out: BinaryIO,
           array: bool, report: ExportReport) -> None:
    analyzer = Analyzer((), _PAIRING)
    instances = Counter[str]()
    written = Counter[tuple[str, int]]()
    out.write(b"[" if array else b"")
    for event in events:
        if type(event) is ConnectionOpened:
            instances[event.conn_id] += 1
        key = (event.conn_id, instances[event.conn_id])
        plan = plans.get(key) or _ConnectionPlan()
        inspection = analyzer.feed(event)
        if type(event) is ConnectionOpened:
            if event.status != 101:
                report.lost[LOSS_FAILED_HANDSHAKE] += 1
            elif not plan.exportable:
                report.lost[LOSS_EMPTY_CONNECTION] += 1
        elif type(event) is ConnectionClosed:
            if not plan.exportable and plan.opened is None:
                report.lost[LOSS_EMPTY_CONNECTION] += 1  # a close of a connection the input never opened
        elif type(event) is Ping:
            report.lost[LOSS_PING] += 1
        elif type(event) is Gap:
            report.lost[LOSS_GAP] += 1
        elif type(event) is Message:
            frame = inspection.frame
            assert frame is not None
            reason = _loss(frame)
            if reason is not None:
                report.lost[reason] += 1
                continue
            written[key] += 1
            record = _record(event, frame, inspection.call.action if inspection.call else None,
                             inspection.conn)
            ours = record["meta"][META_KEY]
            if written[key] == 1 and plan.opened is not None:
                ours["handshake"] = encode_open(plan.opened)
            if written[key] == plan.exportable and plan.closed is not None:
                ours["close"] = encode_close(plan.closed)
            if array:
                out.write((b"\n" if report.records == 0 else b",\n") + _dumps(record))
            else:
                out.write(_dumps(record) + b"\n")
            report.records += 1
    out.write(b"\n]\n" if array else b"")


def _dumps(record: dict[str, Any]) -> bytes:
    try:
        return orjson.dumps(record)
    except TypeError:  # integers beyond 64 bits, which only the standard library writes
        return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _loss(frame: Frame) -> str | None:
    """Why ``frame`` cannot be an OOT record, or None if it can."""
    message_type = frame.message_type
    if message_type is None:
        return LOSS_BINARY if frame.problems and frame.problems[0].rule == "frame.binary" else LOSS_NOT_OCPP
    if message_type is MessageType.CALLRESULTERROR:
        return LOSS_CALLRESULTERROR
    if message_type is MessageType.SEND:
        return LOSS_SEND
    if frame.message_id is None:
        return LOSS_NOT_OCPP
    if message_type is MessageType.CALL and frame.action is None:
        return LOSS_NOT_OCPP
    if message_type is MessageType.CALLERROR and frame.error_code is None:
        return LOSS_NOT_OCPP
    return None


def _record(event: Message, frame: Frame, paired_action: str | None, conn: Connection) -> dict[str, Any]:
    message_type = frame.message_type
    assert message_type is not None
    value = frame.value
    record: dict[str, Any] = {"schemaVersion": SCHEMA_VERSION, "timestamp": iso_utc(event.time)}
    ours: dict[str, Any] = {"seq": event.seq}
    version = version_of_subprotocol(conn.subprotocol)
    if version is None and conn.version is not None:
        version = conn.version
        ours["versionGuessed"] = True
    if version is not None:
        record["ocppVersion"] = version
    record["transport"] = "json"
    if conn.charger is not None:
        record["chargePointId"] = conn.charger
    payload = frame.payload
    if message_type is not MessageType.CALLERROR and type(payload) is dict:
        connector = payload.get("connectorId")
        if type(connector) is int and connector >= 0:
            record["connectorId"] = connector
    record["direction"] = event.direction.value
    record["messageType"] = _TYPE_NAMES[message_type]
    record["messageId"] = frame.message_id
    action = frame.action if message_type is MessageType.CALL else paired_action
    if action is not None:
        record["action"] = action
    if message_type is MessageType.CALL and len(value) > 3:
        record["payload"] = value[3]
    elif message_type is MessageType.CALLRESULT and len(value) > 2:
        record["payload"] = value[2]
    elif message_type is MessageType.CALLERROR:
        error: dict[str, Any] = {"code": frame.error_code}
        if frame.error_description is not None:
            error["description"] = frame.error_description
        if len(value) > 4:
            error["details"] = value[4]
        record["error"] = error
    record["raw"] = event.content.decode("utf-8")
    if event.redacted:
        ours["redacted"] = True
    record["meta"] = {META_KEY: ours}
    return record
