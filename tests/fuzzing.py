"""Fuzzed inputs for ``ocppscope check``: valid OCPP traffic, mutated the way broken chargers and tools break it.

A session is a list of frames (real OCPP 1.6 and 2.0.1 CALLs and their answers, from the vendors that have
profiles). :func:`mutate_frame` breaks one: wrong JSON types where objects are expected, NaN/Infinity and huge
numbers, duplicate keys, nesting thousands deep, lone UTF-16 surrogates, invalid UTF-8, megabyte strings, wrong
message type ids, absurd timestamps. The writers put a session into the three main input formats (an ocppscope
capture, Open OCPP Trace, a plain log), with absurd values in the records themselves too (times far in the past
or future, sequence numbers past 64 bits, a payload that is not an object).

Everything is driven by a :class:`random.Random`: the Hypothesis suite (tests/test_fuzz_check.py) hands one in
and the long run (``make fuzz``, ``python -m tests.fuzz_run``) seeds its own.
"""

from __future__ import annotations

import base64
import json
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

FORMATS = ("capture", "oot", "plain")
T0 = 1_709_280_000.0  # 2024-03-01T08:00:00Z


class Raw:
    """Text put into the JSON as it is: tokens no serializer writes (NaN, 1e400, 2**70, deep nesting)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


class Pairs:
    """A JSON object written from (key, value) pairs: duplicate keys allowed."""

    __slots__ = ("pairs",)

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        self.pairs = pairs


def dumps(value: Any) -> str:
    """JSON text of ``value``, with :class:`Raw` and :class:`Pairs` written as they say; ASCII only, so a lone
    surrogate in a string becomes its ``\\ud800`` escape, as a peer's serializer writes it."""
    kind = type(value)
    if kind is Raw:
        return value.text
    if kind is Pairs:
        return "{" + ",".join(f"{json.dumps(k)}:{dumps(v)}" for k, v in value.pairs) + "}"
    if kind is dict:
        return "{" + ",".join(f"{json.dumps(k)}:{dumps(v)}" for k, v in value.items()) + "}"
    if kind is list:
        return "[" + ",".join(dumps(v) for v in value) + "]"
    if kind is float and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return json.dumps(value)


# -- valid traffic ---------------------------------------------------------------------------------------

BOOTS_16 = [
    {"chargePointVendor": "Zaptec", "chargePointModel": "ZAPTEC PRO", "chargePointSerialNumber": "ZPR123456",
     "firmwareVersion": "3.0.1"},
    {"chargePointVendor": "Ecotap", "chargePointModel": "EVC4.x", "chargePointSerialNumber": "11712345",
     "firmwareVersion": "4.2"},
    {"chargePointVendor": "Ecotap", "chargePointModel": "EVC5", "chargePointSerialNumber": "18112345"},
    {"chargePointVendor": "Ecotap", "chargePointModel": "ECC", "chargePointSerialNumber": "G48229"},
    {"chargePointVendor": "Acme", "chargePointModel": "AC22-Wallbox", "meterType": "EM340"},
]
"""BootNotification payloads that select each vendor profile (and the generic one)."""

STAMP = "2024-03-01T08:00:00Z"


def session_16(rnd: random.Random) -> list[tuple[str, Any]]:
    """(direction, frame) of an OCPP 1.6 session; answers carry the ids of their CALLs."""
    sampled = [{"value": "1234.5", "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
               {"value": "16.1", "measurand": "Current.Import", "phase": "L1", "unit": "A"},
               {"value": "7400", "measurand": "Power.Active.Import", "unit": "W"}]
    profile = {"chargingProfileId": 1, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
               "chargingProfileKind": "Absolute",
               "chargingSchedule": {"chargingRateUnit": "A", "startSchedule": STAMP,
                                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0},
                                                               {"startPeriod": 3600, "limit": 10.0}]}}
    pairs: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
        ("cp", "BootNotification", rnd.choice(BOOTS_16),
         {"status": "Accepted", "currentTime": STAMP, "interval": 300}),
        ("cp", "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Available",
                                      "timestamp": STAMP}, {}),
        ("cp", "Heartbeat", {}, {"currentTime": STAMP}),
        ("cs", "GetConfiguration", {"key": ["HeartbeatInterval"]},
         {"configurationKey": [{"key": "HeartbeatInterval", "readonly": False, "value": "300"},
                               {"key": "MeterValueSampleInterval", "readonly": False, "value": "60"},
                               {"key": "Cfg_UserPin", "readonly": False, "value": "1234"}],
          "unknownKey": []}),
        ("cs", "ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": "60"}, {"status": "Accepted"}),
        ("cp", "Authorize", {"idTag": "04A1B2C3"}, {"idTagInfo": {"status": "Accepted", "expiryDate": STAMP}}),
        ("cs", "RemoteStartTransaction", {"connectorId": 1, "idTag": "04A1B2C3", "chargingProfile":
                                          {**profile, "chargingProfilePurpose": "TxProfile"}},
         {"status": "Accepted"}),
        ("cp", "StartTransaction", {"connectorId": 1, "idTag": "04A1B2C3", "meterStart": 1000,
                                    "timestamp": STAMP}, {"transactionId": 42, "idTagInfo": {"status": "Accepted"}}),
        ("cp", "MeterValues", {"connectorId": 1, "transactionId": 42,
                               "meterValue": [{"timestamp": STAMP, "sampledValue": sampled}]}, {}),
        ("cs", "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": profile}, {"status": "Accepted"}),
        ("cs", "TriggerMessage", {"requestedMessage": "MeterValues", "connectorId": 1}, {"status": "Accepted"}),
        ("cp", "DataTransfer", {"vendorId": "com.ecotap", "messageId": "options", "data": '{"a":1}'},
         {"status": "Accepted", "data": "ok"}),
        ("cs", "GetCompositeSchedule", {"connectorId": 1, "duration": 3600},
         {"status": "Accepted", "connectorId": 1, "scheduleStart": STAMP,
          "chargingSchedule": profile["chargingSchedule"]}),
        ("cs", "ClearChargingProfile", {"id": 1}, {"status": "Accepted"}),
        ("cs", "Reset", {"type": "Soft"}, {"status": "Accepted"}),
        ("cp", "StopTransaction", {"transactionId": 42, "meterStop": 5000, "timestamp": STAMP,
                                   "reason": "Local", "transactionData": [{"timestamp": STAMP,
                                                                           "sampledValue": sampled}]},
         {"idTagInfo": {"status": "Accepted"}}),
        ("cp", "FirmwareStatusNotification", {"status": "Installed"}, {}),
        ("cp", "DiagnosticsStatusNotification", {"status": "Uploaded"}, {}),
        ("cs", "ChangeAvailability", {"connectorId": 0, "type": "Operative"}, {"status": "Accepted"}),
        ("cs", "UnlockConnector", {"connectorId": 1}, {"status": "Unlocked"}),
        ("cs", "SendLocalList", {"listVersion": 2, "updateType": "Full",
                                 "localAuthorizationList": [{"idTag": "A", "idTagInfo": {"status": "Accepted"}}]},
         {"status": "Accepted"}),
        ("cs", "ReserveNow", {"connectorId": 1, "expiryDate": STAMP, "idTag": "A", "reservationId": 3},
         {"status": "Accepted"}),
    ]
    return _frames(rnd, pairs, keep_first=1)


def session_201(rnd: random.Random) -> list[tuple[str, Any]]:
    """(direction, frame) of an OCPP 2.0.1 session."""
    evse = {"id": 1, "connectorId": 1}
    pairs: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
        ("cp", "BootNotification", {"chargingStation": {"model": "M1", "vendorName": "V1"}, "reason": "PowerUp"},
         {"currentTime": STAMP, "interval": 300, "status": "Accepted"}),
        ("cp", "StatusNotification", {"timestamp": STAMP, "connectorStatus": "Available", "evseId": 1,
                                      "connectorId": 1}, {}),
        ("cp", "Heartbeat", {}, {"currentTime": STAMP}),
        ("cs", "GetVariables", {"getVariableData": [{"component": {"name": "OCPPCommCtrlr"},
                                                     "variable": {"name": "HeartbeatInterval"}}]},
         {"getVariableResult": [{"attributeStatus": "Accepted", "attributeValue": "300",
                                 "component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}]}),
        ("cs", "SetVariables", {"setVariableData": [{"attributeValue": "secret", "component": {"name": "SecurityCtrlr"},
                                                     "variable": {"name": "BasicAuthPassword"}}]},
         {"setVariableResult": [{"attributeStatus": "Accepted", "component": {"name": "SecurityCtrlr"},
                                 "variable": {"name": "BasicAuthPassword"}}]}),
        ("cp", "NotifyReport", {"requestId": 1, "generatedAt": STAMP, "seqNo": 0, "reportData": [
            {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"},
             "variableAttribute": [{"value": "300"}]}]}, {}),
        ("cp", "TransactionEvent", {"eventType": "Started", "timestamp": STAMP, "triggerReason": "Authorized",
                                    "seqNo": 0, "transactionInfo": {"transactionId": "tx-1"}, "evse": evse,
                                    "idToken": {"idToken": "04A1", "type": "ISO14443"},
                                    "meterValue": [{"timestamp": STAMP, "sampledValue": [
                                        {"value": 1234.5, "measurand": "Energy.Active.Import.Register"}]}]},
         {"idTokenInfo": {"status": "Accepted"}}),
        ("cs", "SetChargingProfile", {"evseId": 1, "chargingProfile": {
            "id": 1, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile", "chargingProfileKind": "Absolute",
            "chargingSchedule": [{"id": 1, "chargingRateUnit": "W", "startSchedule": STAMP,
                                  "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000.0}]}]}},
         {"status": "Accepted"}),
        ("cp", "MeterValues", {"evseId": 1, "meterValue": [{"timestamp": STAMP, "sampledValue": [{"value": 7.5}]}]},
         {}),
        ("cs", "RequestStartTransaction", {"idToken": {"idToken": "04A1", "type": "ISO14443"}, "remoteStartId": 7},
         {"status": "Accepted"}),
        ("cp", "TransactionEvent", {"eventType": "Ended", "timestamp": STAMP, "triggerReason": "EVDeparted",
                                    "seqNo": 1, "transactionInfo": {"transactionId": "tx-1",
                                                                    "stoppedReason": "EVDisconnected"}}, {}),
        ("cs", "Reset", {"type": "OnIdle"}, {"status": "Accepted"}),
    ]
    return _frames(rnd, pairs, keep_first=1)


def _frames(rnd: random.Random, pairs: list[tuple[str, str, dict[str, Any], dict[str, Any]]],
            keep_first: int) -> list[tuple[str, Any]]:
    chosen = pairs[:keep_first] + rnd.sample(pairs[keep_first:], rnd.randint(1, len(pairs) - keep_first))
    frames: list[tuple[str, Any]] = []
    for n, (sender, action, request, answer) in enumerate(chosen):
        message_id = f"{n}-{rnd.randrange(10**6)}"
        frames.append((sender, [2, message_id, action, json.loads(json.dumps(request))]))
        frames.append(("cs" if sender == "cp" else "cp", [3, message_id, json.loads(json.dumps(answer))]))
    return frames


# -- mutations --------------------------------------------------------------------------------------------

WRONG_TYPES: list[Any] = [[], {}, "x", "", 0, -1, 1.5, None, True, False, [{}], [[]], "{}"]
NON_FINITE = [Raw("NaN"), Raw("Infinity"), Raw("-Infinity"), Raw("1e400"), Raw("-1e400"), Raw("1e-400"),
              Raw(str(2**64)), Raw(str(-(2**70))), Raw("123456789012345678901234567890.5"), 2**63 - 1, -(2**63),
              1e308, -1e308, 5e-324]
ODD_STRINGS = ["\ud800", "\udfff", "a\udc80b", "\ud83d", "\x00", "\u202e", "𝄞", "\ufeff", "a\nb", "\x1b[31m"]
ABSURD_TIMES = ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z", "1970-01-01T00:00:00Z",
                "2024-13-45T99:99:99Z", "-0001-01-01T00:00:00Z", "+275760-09-13T00:00:00Z", "2024-03-01T08:00:00",
                "2024-03-01T08:00:00+25:00", "1e20", "", "2024-03-01T08:00:00.123456789123Z"]
MESSAGE_TYPES: list[Any] = [0, 1, 5, 6, 7, -2, 2.0, 3.5, "2", "3", True, None, [], {}, Raw(str(2**64)), Raw("NaN")]


def deep(depth: int, rnd: random.Random) -> Raw:
    """Arrays or objects nested ``depth`` deep (written without recursion)."""
    if rnd.random() < 0.5:
        return Raw("[" * depth + "1" + "]" * depth)
    return Raw('{"a":' * depth + "1" + "}" * depth)


def huge_string(rnd: random.Random, size: int) -> str:
    return rnd.choice("xé𝄞") * (size // 4)


def _nodes(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    yield path, value
    if type(value) is dict:
        for key, inner in value.items():
            yield from _nodes(inner, (*path, key))
    elif type(value) is list:
        for index, inner in enumerate(value):
            yield from _nodes(inner, (*path, index))


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if type(value) is dict:
        return {**value, head: _replace(value[head], rest, new)}
    copy = list(value)
    copy[head] = _replace(copy[head], rest, new)
    return copy


def mutate_value(value: Any, rnd: random.Random, big: int) -> Any:
    """``value`` with one node somewhere inside it broken."""
    nodes = list(_nodes(value))
    path, node = rnd.choice(nodes)
    roll = rnd.random()
    if roll < 0.3:
        new: Any = rnd.choice(WRONG_TYPES)
    elif roll < 0.45:
        new = rnd.choice(NON_FINITE)
    elif roll < 0.6:
        new = rnd.choice(ODD_STRINGS) if rnd.random() < 0.7 else rnd.choice(ODD_STRINGS) + str(node)[:20]
    elif roll < 0.7:
        new = rnd.choice(ABSURD_TIMES)
    elif roll < 0.8 and type(node) is dict and node:
        key = rnd.choice(list(node))
        new = Pairs([*node.items(), (key, rnd.choice(WRONG_TYPES + NON_FINITE))])
    elif roll < 0.87:
        new = deep(rnd.choice([100, 1000, 3000, 20_000]), rnd)
    elif roll < 0.87 + 0.03 * (big > 0):
        new = huge_string(rnd, big)
    elif type(node) is list:
        new = node + rnd.choice([[], [None], [{}], node])
    else:
        new = [node, node] if rnd.random() < 0.5 else {"wrapped": node}
    return _replace(value, path, new)


def mutate_frame(frame: list[Any], rnd: random.Random, big: int = 0) -> bytes:
    """The bytes of ``frame`` after one to three mutations; ``big`` > 0 allows strings of that size."""
    value: Any = frame
    for _ in range(rnd.choice([1, 1, 1, 2, 3])):
        roll = rnd.random()
        if roll < 0.1 and type(value) is list and value:
            value = [rnd.choice(MESSAGE_TYPES), *value[1:]]
        elif roll < 0.15 and type(value) is list:
            value = value[: rnd.randrange(len(value) + 1)] if rnd.random() < 0.6 else [*value, {"extra": 1}]
        elif roll < 0.2:
            value = rnd.choice(WRONG_TYPES)
        else:
            value = mutate_value(value, rnd, big)
    text = dumps(value).encode()
    roll = rnd.random()
    if roll < 0.03:
        cut = rnd.randrange(len(text) + 1)
        return text[:cut]
    if roll < 0.06:  # lone surrogates and broken sequences as bytes, not escapes: invalid UTF-8
        where = rnd.randrange(len(text) + 1)
        return text[:where] + rnd.choice([b"\xed\xa0\x80", b"\xff", b"\xc3", b"\x80\x80", b"\xf4\x90\x80\x80"]) + \
            text[where:]
    return text


@dataclass
class Frame:
    """One frame of a fuzzed session: who sent it, its bytes, and whether it was mutated."""

    sender: str
    content: bytes
    mutated: bool


def fuzzed_session(rnd: random.Random, rate: float = 0.3, big: int = 0) -> list[Frame]:
    """A session of valid frames, each mutated with probability ``rate``."""
    frames = session_16(rnd) if rnd.random() < 0.7 else session_201(rnd)
    out = []
    for sender, frame in frames:
        if rnd.random() < rate:
            out.append(Frame(sender, mutate_frame(frame, rnd, big), True))
        else:
            out.append(Frame(sender, dumps(frame).encode(), False))
    return out


# -- the three input formats ------------------------------------------------------------------------------

ABSURD_EPOCHS: list[Any] = [-1.0, -1e300, 1e300, 1e20, 253402300800.0, -62135596801.0, 0.0, Raw("1e400"),
                            Raw("NaN"), Raw(str(2**70)), "1709280000", None, True, [], {}]
ABSURD_SEQS: list[Any] = [Raw(str(2**64 + 5)), Raw(str(-(2**70))), -1, 2**63, 1.5, "7", None, Raw("1e400")]


@dataclass
class Written:
    """An input file's bytes, and how many of its frames were mutated (frames, mutated, absurd records)."""

    data: bytes
    frames: int
    mutated: int
    absurd: int


def _direction(sender: str) -> str:
    return "cp-to-csms" if sender == "cp" else "csms-to-cp"


def write_capture(sessions: list[list[Frame]], rnd: random.Random, absurd_rate: float = 0.05) -> Written:
    """An ocppscope capture of ``sessions``, one connection each, with absurd values in some records."""
    lines = [dumps({"type": "header", "format": "ocppscope-capture", "version": "1.0", "tool": "fuzz",
                    "created": "2024-03-01T08:00:00Z", "redacted": True})]
    seq = 0
    time = T0
    frames = mutated = absurd = 0
    for number, session in enumerate(sessions):
        conn = f"c{number}"
        seq += 1
        record: dict[str, Any] = {"type": "open", "seq": seq, "t": time, "conn": conn, "client": "10.0.0.7:5123",
                                  "path": f"/ocpp/CP{number % 7}", "req": [["Sec-WebSocket-Protocol", "ocpp1.6"]],
                                  "status": 101, "resp": [], "subprotocol": "ocpp1.6"}
        absurd += _absurd_record(record, rnd, absurd_rate)
        lines.append(dumps(record))
        for frame in session:
            seq += 1
            time += rnd.choice([0.05, 0.2, 1.0, 30.0])
            record = {"type": "msg", "seq": seq, "t": time, "conn": conn, "dir": _direction(frame.sender)}
            try:
                record["text"] = frame.content.decode("utf-8")
            except UnicodeDecodeError:
                record["b64"] = base64.b64encode(frame.content).decode()
            absurd += _absurd_record(record, rnd, absurd_rate)
            lines.append(dumps(record))
            frames += 1
            mutated += frame.mutated
        seq += 1
        record = {"type": "close", "seq": seq, "t": time + 1, "conn": conn, "code": 1000, "reason": "",
                  "closed_by": "charger"}
        absurd += _absurd_record(record, rnd, absurd_rate)
        lines.append(dumps(record))
    data = ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass")
    if rnd.random() < 0.1:
        data = data[: len(data) - rnd.randint(2, 40)]  # cut by a crash while writing the last record
    return Written(data, frames, mutated, absurd)


def _absurd_record(record: dict[str, Any], rnd: random.Random, rate: float) -> int:
    if rnd.random() >= rate:
        return 0
    roll = rnd.random()
    if roll < 0.4:
        record["t"] = rnd.choice(ABSURD_EPOCHS)
    elif roll < 0.7:
        record["seq"] = rnd.choice(ABSURD_SEQS)
    elif roll < 0.8:
        record["conn"] = rnd.choice(WRONG_TYPES)
    elif roll < 0.9:
        record[rnd.choice(["dir", "code", "status", "req", "closed_by", "extra", "client_tls", "auth"])] = \
            rnd.choice(WRONG_TYPES + ODD_STRINGS)
    else:
        record["type"] = rnd.choice(["msg", "open", "close", "ping", "gap", "future"])
    return 1


def write_oot(sessions: list[list[Frame]], rnd: random.Random, absurd_rate: float = 0.05) -> Written:
    """Open OCPP Trace JSON Lines of ``sessions``: a raw frame or a structured payload per record."""
    lines = []
    time = T0
    frames = mutated = absurd = 0
    for number, session in enumerate(sessions):
        for frame in session:
            time += rnd.choice([0.05, 0.2, 1.0, 30.0])
            record: dict[str, Any] = {"schemaVersion": "1.1", "timestamp": _iso(time), "ocppVersion": "1.6",
                                      "chargePointId": f"CP{number % 7}", "direction": _direction(frame.sender)}
            text = frame.content.decode("utf-8", "replace")
            try:
                value = json.loads(text)
            except (ValueError, RecursionError):
                value = None
            if type(value) is list and len(value) >= 2 and rnd.random() < 0.5:
                kind = {2: "CALL", 3: "CALLRESULT", 4: "CALLERROR"}.get(value[0]) if type(value[0]) is int else None
                kind = kind or rnd.choice(WRONG_TYPES)
                record.update({"messageType": kind, "messageId": value[1]})
                if kind == "CALL" and len(value) > 3:
                    record.update({"action": value[2], "payload": value[3]})
                elif len(value) > 2:
                    record["payload"] = value[2]
            else:
                record.update({"messageType": "CALL" if text.startswith("[2") else "CALLRESULT", "raw": text})
            if rnd.random() < absurd_rate:
                absurd += 1
                key = rnd.choice(["timestamp", "timestamp", "direction", "messageType", "chargePointId", "payload",
                                  "meta", "ocppVersion"])
                record[key] = rnd.choice(ABSURD_TIMES + WRONG_TYPES + ODD_STRINGS)
            try:
                line = dumps(record)
            except (ValueError, RecursionError):  # nested too deep for a structured record: the raw frame
                structured = ("messageId", "action", "payload")
                line = dumps({**{k: v for k, v in record.items() if k not in structured}, "raw": text})
            lines.append(line)
            frames += 1
            mutated += frame.mutated
    data = ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass")
    return Written(data, frames, mutated, absurd)


def write_plain(sessions: list[list[Frame]], rnd: random.Random, absurd_rate: float = 0.05) -> Written:
    """A plain ``<time> <charger> <direction> <frame>`` log; frames spanning lines are kept on one."""
    lines: list[bytes] = []
    time = T0
    frames = mutated = absurd = 0
    for number, session in enumerate(sessions):
        for frame in session:
            time += rnd.choice([0.05, 0.2, 1.0, 30.0])
            stamp = _iso(time)
            if rnd.random() < absurd_rate:
                absurd += 1
                stamp = rnd.choice(["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "-5", "1e20",
                                    "99999999999999999999", "2024-13-45T99:99:99Z", "1709280000.5"])
            content = frame.content.replace(b"\n", b" ").replace(b"\r", b" ")
            lines.append(f"{stamp} CP{number % 7} {_direction(frame.sender)} ".encode() + content)
            frames += 1
            mutated += frame.mutated
            if rnd.random() < 0.02:
                lines.append(rnd.choice([b"a note pasted in the middle", b"\xff\xfe garbage", b""]))
    return Written(b"\n".join(lines) + b"\n", frames, mutated, absurd)


def _iso(epoch: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


WRITERS: dict[str, Callable[[list[list[Frame]], random.Random, float], Written]] = {
    "capture": write_capture, "oot": write_oot, "plain": write_plain,
}
SUFFIX = {"capture": ".jsonl", "oot": ".oot.jsonl", "plain": ".log"}
