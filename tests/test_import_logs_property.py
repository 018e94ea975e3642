"""Property: a valid OCPP session, printed by any producer the log importers know and then treated the way logs are
treated (cut by journalctl or a ticket system, wrapped by a copy inside strings and between tokens, prefixed by
docker, journald, colours and a paste's line numbers, printed newest first), reads back without raising, with
every frame found, the producer detected, and nothing blamed on the sender: a cut frame is ``input.frame-cut``
(info), never invalid JSON or a schema error.

Wraps are at least 30 columns apart (no terminal or ticket system wraps narrower): a narrower one can make the
start of a record or of a timestamp look like the rest of the string before it, which no reader can tell apart.
Cuts keep the message id whole, so the answer can pair. Sized for CI (a few seconds): derandomized, so a run is
the same run everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ocppscope.proxy.capture import ReadReport, read_events
from ocppscope.proxy.core.analyzer import Analyzer
from ocppscope.proxy.core.checks import default_checkers
from ocppscope.proxy.core.events import Message
from ocppscope.proxy.core.findings import Severity

T0 = 1_709_280_000.0  # 2024-03-01T08:00:00Z

# (sent by the charger, CALL action, CALL payload, answer payload); stamps are filled in with the line's time.
EXCHANGES: list[tuple[bool, str, dict[str, object], dict[str, object]]] = [
    (True, "BootNotification", {"chargePointVendor": "DemoVendor", "chargePointModel": "AC 22 \"Pro\""},
     {"currentTime": "{now}", "interval": 300, "status": "Accepted"}),
    (True, "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Available",
                                  "timestamp": "{now}"}, {}),
    (False, "GetConfiguration", {"key": ["HeartbeatInterval", "MeterValueSampleInterval"]},
     {"configurationKey": [{"key": "HeartbeatInterval", "readonly": False, "value": "300"}],
      "unknownKey": ["MeterValueSampleInterval"]}),
    (True, "Heartbeat", {}, {"currentTime": "{now}"}),
    (True, "MeterValues", {"connectorId": 1, "meterValue": [{"timestamp": "{now}", "sampledValue": [
        {"value": "1832.4", "measurand": "Energy.Active.Import.Register", "unit": "Wh"}]}]}, {}),
    (False, "RemoteStartTransaction", {"connectorId": 1, "idTag": "TAG-0001"}, {"status": "Accepted"}),
]


@dataclass(frozen=True)
class Record:
    time: float
    from_charger: bool
    frame: str


def _stamped(payload: dict[str, object], now: str) -> dict[str, object]:
    text = orjson.dumps(payload).decode().replace('"{now}"', orjson.dumps(now).decode())
    return orjson.loads(text)


def session(count: int) -> list[Record]:
    records = []
    time = T0
    for index in range(count):
        from_charger, action, payload, answer = EXCHANGES[index % len(EXCHANGES)]
        now = datetime.fromtimestamp(time, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        message_id = f"{index + 1:04d}-{action[:4].lower()}"
        call = orjson.dumps([2, message_id, action, _stamped(payload, now)]).decode()
        result = orjson.dumps([3, message_id, _stamped(answer, now)]).decode()
        records.append(Record(time, from_charger, call))
        records.append(Record(time + 0.25, not from_charger, result))
        time += 7.5
    return records


def _at(time: float, layout: str) -> str:
    moment = datetime.fromtimestamp(time, UTC)
    return moment.strftime(layout).replace("{ms}", f"{moment.microsecond // 1000:03d}")


# What each producer prints for one frame (a backend's log: received = from the charger; a charger's: TX = sent).
PRODUCERS: dict[str, Callable[[Record], str]] = {
    "plain": lambda r: f"{_at(r.time, '%Y-%m-%dT%H:%M:%S.{ms}Z')} CP-7 "
                       f"{'cp-to-csms' if r.from_charger else 'csms-to-cp'} {r.frame}",
    "ocpp-go": lambda r: f"[ocpp  ] TRACE {_at(r.time, '%Y/%m/%d %H:%M:%S')} {'recv' if r.from_charger else 'send'} "
                         f"CP-7: {r.frame}",
    "steve": lambda r: f"[INFO ] {_at(r.time, '%Y-%m-%d %H:%M:%S,{ms}')} de.rwth.idsg.steve.ocpp.ws.WebSocketLogger "
                       "(qtp1867750575-41) - [chargeBoxId=CP-7, sessionId=5b2f8c3a-7f41-1d2e-0c9b-7d3e2f1a0b9c] "
                       f"{'Received' if r.from_charger else 'Sending'}: {r.frame}",
    "home-assistant": lambda r: f"{_at(r.time, '%Y-%m-%d %H:%M:%S.{ms}')} INFO (MainThread) [ocpp] CP-7: "
                                f"{'receive message' if r.from_charger else 'send message'} {r.frame}",
    "ocpp-python": lambda r: f"{_at(r.time, '%Y-%m-%d %H:%M:%S,{ms}')} INFO:ocpp:CP-7: "
                             f"{'receive message' if r.from_charger else 'send'} {r.frame}",
    "charger": lambda r: f"{_at(r.time, '%Y-%m-%dT%H:%M:%S.{ms}Z')} [OCPP] {'TX' if r.from_charger else 'RX'}: "
                         f"{r.frame}",
}
_CUT_MARKS = ("", "…", "...", " [...]", ">", "[…]")
_WRAP_WIDTH = 30


@dataclass
class Log:
    text: str
    producer: str
    frames: int
    cut: int


@st.composite
def logs(draw: st.DrawFn) -> Log:
    producer = draw(st.sampled_from(sorted(PRODUCERS)))
    records = session(draw(st.integers(2, 6)))
    newest_first = draw(st.booleans())
    prefix = draw(st.sampled_from(["", "docker", "journald", "journald-iso"]))
    colours = draw(st.booleans())
    paste_numbers = draw(st.sampled_from(["", "tab", "bar"]))
    render = PRODUCERS[producer]
    lines: list[tuple[str, str]] = []  # (what the log tool put before the line, the producer's line)
    cut = 0
    for record in records:
        line = render(record)
        frame_at = len(line) - len(record.frame)
        if draw(st.integers(0, 5)) == 0:  # the log showed only the start of this frame, its id still whole
            keep = draw(st.integers(record.frame.index('"', 4) + 1, len(record.frame) - 1))
            if prefix.startswith("journald") and draw(st.booleans()):
                tail = draw(st.integers(0, len(record.frame) - keep - 1))  # journalctl: "…" and the line's end
                line = line[: frame_at + keep] + "…" + (line[len(line) - tail:] if tail else "")
            else:
                line = line[: frame_at + keep] + draw(st.sampled_from(_CUT_MARKS))
            cut += 1
        stamp = _at(record.time, "%b %d %H:%M:%S") if prefix == "journald" else _at(record.time,
                                                                                     "%Y-%m-%dT%H:%M:%S+0000")
        before = {"": "", "docker": "csms-1  | ", "journald": f"{stamp} carport csms[812]: ",
                  "journald-iso": f"{stamp} carport csms[812]: "}[prefix]
        lines.append((before, line))
    if newest_first:
        lines.reverse()
    text: list[str] = []
    for number, (before, line) in enumerate(lines, 1):
        if colours:
            line = f"\x1b[32m{line}\x1b[0m"
            before = f"\x1b[36m{before}\x1b[0m" if before else ""
        start = 5 if colours else 0  # a terminal does not wrap inside an escape sequence
        end = len(line) - (4 if colours else 0)
        # No terminal or ticket wraps narrower than 30 columns: a piece shows how a record or a timestamp starts.
        wrappable = end - 1 >= start + _WRAP_WIDTH
        breaks = sorted(set(draw(st.lists(st.integers(start + _WRAP_WIDTH, end - 1), max_size=3)))) if wrappable else []
        breaks = [b for a, b in zip([0, *breaks], breaks, strict=False) if b - a >= _WRAP_WIDTH]
        pieces = [line[a:b] for a, b in zip([0, *breaks], [*breaks, len(line)], strict=True)]
        numbered = {"": "", "tab": f"{number:6d}\t", "bar": f"{number:4d} | "}[paste_numbers]
        text.append(numbered + before + pieces[0])
        text.extend(pieces[1:])
    return Log("\n".join(text) + "\n", producer, len(records), cut)


_BLAMES_SENDER = ("frame.", "schema.", "rpc.wrong-direction", "rpc.unknown-id", "ocppscope.internal-error")


@pytest.fixture(scope="module")
def log_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("logs") / "pasted.log"


@settings(max_examples=100, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(log=logs())
def test_cut_wrapped_prefixed_and_reversed_logs_never_raise_nor_blame_the_sender(log_path: Path, log: Log) -> None:
    log_path.write_text(log.text, encoding="utf-8")
    report = ReadReport(str(log_path), on_warning=lambda _m: None)
    events = list(read_events(log_path, report=report, log_timezone="UTC"))
    assert report.format == log.producer, log.text
    frames = [e for e in events if isinstance(e, Message)]
    assert (report.frames, len(frames), report.frames_cut, sum(f.cut for f in frames)) == (
        log.frames, log.frames, log.cut, log.cut), log.text
    analyzer = Analyzer(default_checkers())
    found = [f for e in events for f in analyzer.feed(e).findings] + analyzer.finish()
    blamed = [(f.rule, f.message) for f in found if f.rule.startswith(_BLAMES_SENDER)
              and (f.severity >= Severity.WARNING or f.rule == "frame.invalid-json")]
    assert blamed == [], log.text
    assert sum(f.rule == "input.frame-cut" for f in found) == log.cut
