"""Open OCPP Trace v1.1: the 16 conformance fixtures, export with its stated loss, and round trips."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import fastjsonschema
import orjson
import pytest
from ocppscope.proxy.capture import CaptureWriter, ReadReport, SourceError, export_to_oot, read_capture, read_events
from ocppscope.proxy.capture.oot import (
    LOSS_BINARY,
    LOSS_CALLRESULTERROR,
    LOSS_EMPTY_CONNECTION,
    LOSS_FAILED_HANDSHAKE,
    LOSS_NOT_OCPP,
    LOSS_PING,
    LOSS_SEND,
    consumer_view,
    oot_records,
)
from ocppscope.proxy.core.events import ConnectionClosed, ConnectionOpened, Direction, Event, Message, Ping

OOT = Path(__file__).parent / "data" / "open-ocpp-trace"
FIXTURES = sorted(path.name for path in (OOT / "fixtures").iterdir() if path.is_dir())
SALT = b"interop-tests"
validate_record = fastjsonschema.compile(json.loads((OOT / "schema" / "trace-v1.schema.json").read_text()))


def view_of(path: Path) -> dict[str, Any]:
    report = ReadReport(str(path))
    with path.open("rb") as handle:
        return consumer_view(oot_records(handle, report), report)


def expected(name: str) -> dict[str, Any]:
    return json.loads((OOT / "fixtures" / name / "expected.json").read_text())


def trace_lines(path: Path) -> list[dict[str, Any]]:
    data = path.read_bytes()
    if data.lstrip().startswith(b"["):
        return orjson.loads(data)
    return [orjson.loads(line) for line in data.splitlines() if line.strip()]


def to_capture(source: Path, capture: Path) -> Path:
    with CaptureWriter(capture, salt=SALT) as writer:
        for event in read_events(source):
            writer.write(event)
    return capture


def test_all_sixteen_fixtures_are_here() -> None:
    assert len(FIXTURES) == 16 and (OOT / "LICENSE").is_file()


@pytest.mark.parametrize("name", FIXTURES)
def test_consumer_view_matches_the_fixture(name: str) -> None:
    assert view_of(OOT / "fixtures" / name / "trace.jsonl") == expected(name)


@pytest.mark.parametrize("name", FIXTURES)
def test_the_json_array_form_gives_the_same_view(name: str, tmp_path: Path) -> None:
    array = tmp_path / "trace.json"
    array.write_text("[\n  " + ",\n  ".join(json.dumps(r) for r in trace_lines(OOT / "fixtures" / name /
                                                                                  "trace.jsonl")) + "\n]\n")
    assert view_of(array) == expected(name)


@pytest.mark.parametrize("name", FIXTURES)
def test_fixture_to_capture_to_trace_keeps_the_view_and_the_frames(name: str, tmp_path: Path) -> None:
    source = OOT / "fixtures" / name / "trace.jsonl"
    exported = tmp_path / "again.jsonl"
    report = export_to_oot(to_capture(source, tmp_path / "c.jsonl"), exported)
    assert not report.lost and report.records == expected(name)["counts"]["records"]
    assert view_of(exported) == expected(name)
    for before, after in zip(trace_lines(source), trace_lines(exported), strict=True):
        validate_record(after)
        for key in ("timestamp", "ocppVersion", "chargePointId", "connectorId", "direction", "messageType",
                    "messageId", "action", "payload", "raw"):
            assert after.get(key) == before.get(key) or (key == "action" and before.get(key) is None), key


def test_reader_takes_big_arrays_in_pieces(tmp_path: Path) -> None:
    records = trace_lines(OOT / "fixtures" / "normal-session" / "trace.jsonl") * 2000  # ~1.5 MB, > one chunk
    path = tmp_path / "big.json"
    path.write_bytes(orjson.dumps(records, option=orjson.OPT_INDENT_2))
    events = [e for e in read_events(path) if isinstance(e, Message)]
    assert len(events) == len(records)
    assert events[-1].content == records[-1]["raw"].encode()


def capture_of_everything() -> list[Event]:
    """A session with what OOT can hold and what it cannot."""
    return [
        ConnectionOpened("c1", 100.0, "10.0.0.7:1", "/ocpp/CP%7C1",
                         request_headers=(("Sec-WebSocket-Protocol", "ocpp2.1"),),
                         response_headers=(("Sec-WebSocket-Protocol", "ocpp2.1"),), subprotocol="ocpp2.1", seq=1),
        Message("c1", 100.5, Direction.FROM_CHARGER,
                b'[2,"a","StatusNotification",{"timestamp":"2024-01-01T00:00:00Z","connectorStatus":"Available",'
                b'"evseId":1,"connectorId":2}]', seq=2),
        Message("c1", 100.6, Direction.FROM_BACKEND, b'[3,"a",{}]', seq=3),
        Message("c1", 101.0, Direction.FROM_BACKEND, b'[2,"b","Reset",{"type":"Immediate"}]', seq=4),
        Message("c1", 101.2, Direction.FROM_CHARGER, b'[4,"b","NotSupported","no reset here",{"x":1}]', seq=5),
        Message("c1", 101.3, Direction.FROM_BACKEND, b'[5,"b","InternalError","",{}]', seq=6),
        Message("c1", 101.4, Direction.FROM_CHARGER, b'[6,"c","NotifyPeriodicEventStream",{}]', seq=7),
        Message("c1", 101.5, Direction.FROM_CHARGER, b"\x00\x01", is_text=False, seq=8),
        Message("c1", 101.6, Direction.FROM_CHARGER, b'[2,"d","Heartbeat",', seq=9),
        Ping("c1", 101.7, Direction.FROM_CHARGER, seq=10),
        Ping("c1", 101.8, Direction.FROM_BACKEND, pong=True, seq=11),
        Message("c1", 102.0, Direction.FROM_BACKEND, b'[3,"nobody",{"currentTime":"2024-01-01T00:00:00Z"}]', seq=12),
        ConnectionClosed("c1", 103.0, 1000, "bye", "backend", seq=13),
        ConnectionOpened("c2", 104.0, "10.0.0.8:1", "/ocpp/CP2", status=401, seq=14),
        ConnectionOpened("c3", 105.0, "10.0.0.9:1", "/ocpp/CP3", subprotocol="ocpp1.6", seq=15),
        ConnectionClosed("c3", 106.0, 1000, "", "charger", seq=16),
    ]


def export(tmp_path: Path, events: list[Event], name: str = "out.jsonl", array: bool = False
           ) -> tuple[Path, Any]:
    capture = tmp_path / "capture.jsonl"
    with CaptureWriter(capture, salt=SALT) as writer:
        for event in events:
            writer.write(event)
    out = tmp_path / name
    return out, export_to_oot(capture, out, array=array)


def test_export_lists_everything_it_left_out(tmp_path: Path) -> None:
    _, report = export(tmp_path, capture_of_everything())
    assert report.records == 5
    assert report.lost == {LOSS_CALLRESULTERROR: 1, LOSS_SEND: 1, LOSS_BINARY: 1, LOSS_NOT_OCPP: 1, LOSS_PING: 2,
                           LOSS_FAILED_HANDSHAKE: 1, LOSS_EMPTY_CONNECTION: 1}
    text = "\n".join(report.describe())
    assert "wrote 5 Open OCPP Trace record(s) from 1 connection(s)" in text
    assert "left out: 2 pings and pongs" in text
    assert "nothing was lost" in "\n".join(export(tmp_path, capture_of_everything()[:3], "b.jsonl")[1].describe())


def test_exported_records_follow_the_schema_and_pairing(tmp_path: Path) -> None:
    out, _ = export(tmp_path, capture_of_everything())
    records = trace_lines(out)
    for record in records:
        validate_record(record)
        assert set(record) <= {"schemaVersion", "timestamp", "ocppVersion", "transport", "chargePointId",
                               "connectorId", "direction", "messageType", "messageId", "action", "payload",
                               "raw", "error", "meta"}
    status, answer, reset, error, orphan = records
    assert status["chargePointId"] == "CP|1" and status["ocppVersion"] == "2.1" and status["connectorId"] == 2
    assert answer["action"] == "StatusNotification" and answer["messageType"] == "CALLRESULT"
    assert error["action"] == "Reset" and error["error"] == {"code": "NotSupported", "description": "no reset here",
                                                              "details": {"x": 1}}
    assert "action" not in orphan  # nothing to pair it with
    assert "connectorId" not in reset
    assert status["timestamp"] == "1970-01-01T00:01:40.500Z"
    assert [r["meta"]["ocppscope"]["seq"] for r in records] == [2, 3, 4, 5, 12]


def test_handshake_rides_on_the_first_record_and_close_on_the_last(tmp_path: Path) -> None:
    out, _ = export(tmp_path, capture_of_everything())
    records = trace_lines(out)
    assert records[0]["meta"]["ocppscope"]["handshake"]["path"] == "/ocpp/CP%7C1"
    assert records[-1]["meta"]["ocppscope"]["close"] == {"type": "close", "seq": 13, "t": 103.0, "conn": "c1",
                                                         "code": 1000, "reason": "bye", "closed_by": "backend"}
    assert all("handshake" not in r["meta"]["ocppscope"] for r in records[1:])


def test_importing_an_export_restores_handshake_close_and_seq(tmp_path: Path) -> None:
    events = capture_of_everything()
    out, _ = export(tmp_path, events)
    kept = [events[i] for i in (0, 1, 2, 3, 4, 11, 12)]  # what OOT can hold
    assert list(read_events(out)) == kept


def test_json_array_export(tmp_path: Path) -> None:
    out, report = export(tmp_path, capture_of_everything(), "out.json", array=True)
    assert len(orjson.loads(out.read_bytes())) == report.records == 5
    assert list(read_events(out)) == list(read_events(tmp_path / "out.json"))


def test_export_of_an_empty_capture_is_a_valid_empty_array(tmp_path: Path) -> None:
    out, report = export(tmp_path, [], "empty.json", array=True)
    assert orjson.loads(out.read_bytes()) == [] and report.records == 0
    assert list(read_events(out, "oot")) == []


def test_records_without_raw_are_rebuilt_from_their_fields(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    records = [
        {"schemaVersion": "1.1", "timestamp": "2024-01-15T10:00:00Z", "transport": "json", "direction": "csms-to-cp",
         "messageType": "CALL", "messageId": "1", "action": "Reset", "payload": {"type": "Soft"}},
        {"schemaVersion": "1.1", "timestamp": "2024-01-15T10:00:01Z", "transport": "json", "direction": "cp-to-csms",
         "messageType": "CALLERROR", "messageId": "1", "error": {"code": "NotSupported", "description": "no"}},
    ]
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    messages = [e for e in read_events(path) if isinstance(e, Message)]
    assert [m.content for m in messages] == [b'[2,"1","Reset",{"type":"Soft"}]', b'[4,"1","NotSupported","no",{}]']
    assert view_of(path)["records"][1] == {"index": 1, "messageType": "CALLERROR", "messageId": "1",
                                           "action": "Reset", "correlatesWith": 0}


def test_one_connection_per_charge_point(tmp_path: Path) -> None:
    lines = trace_lines(OOT / "fixtures" / "short-session" / "trace.jsonl")
    other = [dict(r, chargePointId="CS-OTHER") for r in lines]
    path = tmp_path / "two.jsonl"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for pair in zip(lines, other, strict=True) for r in pair))
    opened = [e for e in read_events(path) if isinstance(e, ConnectionOpened)]
    assert [(o.path, o.subprotocol, o.request_headers) for o in opened] == [
        ("/CS-SYNTHETIC-013", "ocpp1.6", ()), ("/CS-OTHER", "ocpp1.6", ())]
    view = view_of(path)
    assert view["unansweredCalls"] == [] and view["orphanResponses"] == []


VALID = (b'{"schemaVersion":"1.1","timestamp":"2024-01-15T10:00:00Z","transport":"json","direction":"cp-to-csms",'
         b'"messageType":"CALL","messageId":"1","action":"Heartbeat","payload":{}}')


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"schemaVersion":"1.1","timestamp":"2024-01-15T10:00:00Z","messageType":"CALL"}\n', "line 1 .*direction"),
        (b'{"schemaVersion":"1.1","direction":"cp-to-csms","raw":"[]","timestamp":"soon"}\n', "line 1 .*soon"),
        (VALID + b"\n[1]\n", "line 2 .*an Open OCPP Trace record must be a JSON object"),
        (VALID + b"\nnot json\n" + VALID + b"\n", "line 2 .*not valid JSON"),
        (b'{"schemaVersion":"1.1","direction":"cp-to-csms","raw":"[]","timestamp":"0001-01-01T00:00:00Z"}\n',
         "line 1 .*plausible"),
        (b'{"schemaVersion":"1.1","direction":["cp-to-csms"],"raw":"[]","timestamp":"2024-01-15T10:00:00Z"}\n',
         "line 1 .*direction"),
    ],
)
def test_bad_records_are_named_with_file_and_line_and_skipped(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content)
    warnings: list[str] = []
    report = ReadReport(str(path), on_warning=warnings.append)
    events = [e for e in read_events(path, "oot", report=report) if type(e) is Message]
    assert len(events) == content.count(VALID)  # every good record is still read
    assert report.unusable == 1
    assert re.match(rf".*bad\.jsonl: {message}", warnings[0]), warnings


def test_a_broken_json_array_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b"[" + VALID + b",\n" + VALID + b" {}]")
    with pytest.raises(SourceError, match=r"bad\.jsonl, line 2: expected ',' or ']'"):
        list(read_events(path, "oot"))


def test_a_trace_cut_short_keeps_every_whole_record(tmp_path: Path) -> None:
    source = (OOT / "fixtures" / "orphan-response" / "trace.jsonl").read_bytes()
    path = tmp_path / "cut.jsonl"
    path.write_bytes(source[:-40])
    warnings: list[str] = []
    events = list(read_events(path, on_warning=warnings.append))
    assert len([e for e in events if isinstance(e, Message)]) == 2
    assert len(warnings) == 1 and "line 3 is cut short" in warnings[0]


def test_an_export_never_overwrites_its_input(tmp_path: Path) -> None:
    capture = to_capture(OOT / "fixtures" / "orphan-response" / "trace.jsonl", tmp_path / "c.jsonl")
    with pytest.raises(SourceError, match="overwrite its own input"):
        export_to_oot(capture, capture)
    assert list(read_capture(capture))


def test_export_to_an_open_file(tmp_path: Path) -> None:
    capture = to_capture(OOT / "fixtures" / "orphan-response" / "trace.jsonl", tmp_path / "c.jsonl")
    buffer = io.BytesIO()
    assert export_to_oot(capture, buffer).records == 3
    assert len(buffer.getvalue().splitlines()) == 3


def test_errors_deep_in_a_big_array_name_the_right_line(tmp_path: Path) -> None:
    records = trace_lines(OOT / "fixtures" / "normal-session" / "trace.jsonl") * 1500
    text = orjson.dumps(records, option=orjson.OPT_INDENT_2).decode()
    broken_at = text.rfind('"schemaVersion"', 0, len(text) - 5000)
    text = text[:broken_at] + "oops " + text[broken_at:]
    path = tmp_path / "broken.json"
    path.write_text(text)
    with pytest.raises(SourceError, match=rf"line {text.count(chr(10), 0, broken_at) + 1}: not valid JSON"):
        list(read_events(path, "oot"))


def test_a_json_array_cut_short_keeps_every_whole_element(tmp_path: Path) -> None:
    records = trace_lines(OOT / "fixtures" / "normal-session" / "trace.jsonl")
    text = orjson.dumps(records, option=orjson.OPT_INDENT_2)
    path = tmp_path / "cut.json"
    path.write_bytes(text[: text.rfind(b'"raw"')])  # the writer stopped inside the last element
    warnings: list[str] = []
    events = list(read_events(path, on_warning=warnings.append))
    assert len([e for e in events if isinstance(e, Message)]) == len(records) - 1
    assert len(warnings) == 1 and "incomplete JSON array element" in warnings[0]
