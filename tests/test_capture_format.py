"""Capture format v1: what the writer stores is what the reader yields; damage is reported precisely."""

from __future__ import annotations

import gzip
import io
import os
import re
from pathlib import Path

import orjson
import pytest
from ocppscope.proxy.capture import (
    CaptureError,
    CaptureWriteError,
    CaptureWriter,
    ReadReport,
    read_capture,
    read_events,
)
from ocppscope.proxy.capture.format import FORMAT_NAME, FORMAT_VERSION, MESSAGE_FIELDS_SET
from ocppscope.proxy.core.events import (
    AuthSummary,
    ConnectionClosed,
    ConnectionOpened,
    Direction,
    Event,
    Message,
    Ping,
    TlsInfo,
)

SALT = b"capture-format-tests"
T0 = 1_720_710_777.25


def session() -> list[Event]:
    """One connection with every kind of event and field the format has to keep."""
    return [
        ConnectionOpened(
            "c1", T0, "10.0.0.7:50312", "/ocpp/CP%20001",
            request_headers=(("Host", "csms.example.com"), ("Upgrade", "websocket"),
                             ("Sec-WebSocket-Protocol", "ocpp1.6, ocpp2.0.1"), ("X-Dup", "1"), ("x-dup", "2")),
            status=101,
            response_headers=(("Upgrade", "websocket"), ("Sec-WebSocket-Protocol", "ocpp1.6")),
            subprotocol="ocpp1.6", upstream="wss://csms.example.com/ocpp/CP%20001", seq=1,
            client_tls=TlsInfo(version="TLSv1.2", cipher="ECDHE-RSA-AES128-GCM-SHA256", sni="csms.example.com"),
            upstream_tls=TlsInfo(version="TLSv1.3", verified=True, peer_certificate_subject="CN=csms"),
            auth=AuthSummary(scheme="Basic", user="CP 001", password_bytes=20, password_kind="binary",
                             password_hmac="0011223344556677"),
        ),
        Message("c1", T0 + 0.5, Direction.FROM_CHARGER, b'[2,"1","Heartbeat",{}]', seq=2),
        Message("c1", T0 + 0.75, Direction.FROM_BACKEND, '[3,"1",{"currentTime":"2024-07-11T15:12:57Z","ü":"€"}]'
                .encode(), seq=3),
        Message("c1", T0 + 1, Direction.FROM_CHARGER, b"\x00\x01\xfe\xff", is_text=False, seq=4),
        Message("c1", T0 + 1.5, Direction.FROM_CHARGER, b'[2,"2","Authorize",{"idTag":"\xff"}]', seq=5),
        Message("c1", T0 + 1.6, Direction.FROM_CHARGER, b'[2,\n "3",\n "Heartbeat",\n {}\n]', seq=6),
        Ping("c1", T0 + 2, Direction.FROM_CHARGER, b"beat", seq=7),
        Ping("c1", T0 + 2.1, Direction.FROM_BACKEND, b"beat", pong=True, seq=8),
        Ping("c1", T0 + 2.2, Direction.FROM_BACKEND, seq=9),
        ConnectionClosed("c1", T0 + 3, 1006, "", "charger", seq=10, relayed_code=1000,
                         extra={"note": "tcp reset"}),
        ConnectionOpened("c2", T0 + 4, "10.0.0.8:40000", "/ocpp/CP002", status=502,
                         error="backend unreachable: connection refused", seq=11),
    ]


def write(path: Path, events: list[Event], **options: object) -> Path:
    with CaptureWriter(path, salt=SALT, **options) as writer:  # type: ignore[arg-type]
        for event in events:
            writer.write(event)
    return path


def lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def test_every_event_and_field_survives_the_round_trip(tmp_path: Path) -> None:
    events = session()
    path = write(tmp_path / "s.jsonl", events)
    assert list(read_capture(path)) == events


def test_header_names_format_version_tool_and_redaction(tmp_path: Path) -> None:
    path = write(tmp_path / "s.jsonl", [])
    header = orjson.loads(lines(path)[0])
    assert header["type"] == "header"
    assert header["format"] == FORMAT_NAME
    assert header["version"] == FORMAT_VERSION == "1.0"
    assert header["tool"].startswith("ocppscope ")
    assert header["created"].endswith("Z")
    assert header["redacted"] is True


def test_records_are_compact_and_carry_seq_and_time(tmp_path: Path) -> None:
    path = write(tmp_path / "s.jsonl", session()[:2])
    record = orjson.loads(lines(path)[2])
    assert record == {"type": "msg", "seq": 2, "t": T0 + 0.5, "conn": "c1", "dir": "cp-to-csms",
                      "text": '[2,"1","Heartbeat",{}]'}


def test_binary_and_non_utf8_frames_are_base64_with_a_flag(tmp_path: Path) -> None:
    path = write(tmp_path / "s.jsonl", session())
    binary, bad_utf8 = (orjson.loads(line) for line in lines(path)[4:6])
    assert binary["b64"] == "AAH+/w==" and binary["binary"] is True and "text" not in binary
    assert "b64" in bad_utf8 and "binary" not in bad_utf8


def test_each_record_is_on_disk_once_written(tmp_path: Path) -> None:
    path = tmp_path / "live.jsonl"
    with CaptureWriter(path, salt=SALT) as writer:
        for count, event in enumerate(session(), 1):
            writer.write(event)
            assert len(lines(path)) == count + 1  # nothing waits in a buffer for a crash to lose


@pytest.mark.parametrize("cut", [1, 10, -2])
def test_a_last_line_cut_short_is_reported_and_everything_before_is_read(tmp_path: Path, cut: int) -> None:
    path = write(tmp_path / "s.jsonl", session())
    data = path.read_bytes()
    last_start = data.rstrip(b"\n").rfind(b"\n") + 1
    path.write_bytes(data[: last_start + cut] if cut > 0 else data[:cut])
    warnings: list[str] = []
    report = ReadReport(str(path), on_warning=warnings.append)
    events = list(read_capture(path, report=report))
    assert events == session()[:-1]
    assert report.truncated_line == 12
    assert len(warnings) == 1 and "line 12" in warnings[0] and str(path) in warnings[0]


def test_nul_padding_left_by_a_crash_counts_as_a_cut(tmp_path: Path) -> None:
    path = write(tmp_path / "s.jsonl", session()[:3])
    with path.open("ab") as fh:
        fh.write(b'{"type":"msg","seq":4,"t":' + b"\x00" * 4096)
    report = ReadReport(str(path), on_warning=lambda _m: None)
    assert list(read_capture(path, report=report)) == session()[:3]
    assert report.truncated_line == 5


def test_garbage_in_the_middle_is_named_with_file_and_line_and_the_rest_is_read(tmp_path: Path) -> None:
    path = write(tmp_path / "s.jsonl", session())
    content = lines(path)
    content[4] = b"this is not json\n"
    path.write_bytes(b"".join(content))
    warnings: list[str] = []
    report = ReadReport(str(path), on_warning=warnings.append)
    seen = list(read_capture(path, report=report))
    assert seen == session()[:3] + session()[4:]  # nothing before or after the damage is lost
    assert report.unusable == 1
    assert warnings == [f"{path}: line 5 cannot be used and was skipped: not a JSON record (the capture is damaged "
                        "here)"]


@pytest.mark.parametrize(
    ("record", "problem"),
    [
        ({"type": "msg", "seq": 1, "t": "yesterday", "conn": "c", "dir": "cp-to-csms", "text": "x"}, "number"),
        ({"type": "msg", "seq": 1, "t": 1.0, "conn": "c", "dir": "sideways", "text": "x"}, "sideways"),
        ({"type": "msg", "seq": 1, "t": 1.0, "conn": "c", "dir": "cp-to-csms", "b64": "!!"}, "malformed"),
        ({"type": "open", "seq": 1, "t": 1.0, "conn": "c", "client": "", "path": "/", "status": "101"}, "status"),
        ({"seq": 1}, "type"),
        ([1, 2, 3], "JSON object"),
        ({"type": "msg", "seq": 1, "t": -1.0, "conn": "c", "dir": "cp-to-csms", "text": "x"}, "plausible"),
        ({"type": "msg", "seq": 1, "t": 253402300799.0, "conn": "c", "dir": "cp-to-csms", "text": "x"}, "plausible"),
        ({"type": "open", "seq": 1, "t": 1e20, "conn": "c", "client": "", "path": "/", "status": 101}, "plausible"),
        ({"type": "msg", "seq": -1, "t": 1.0, "conn": "c", "dir": "cp-to-csms", "text": "x"}, "sequence"),
    ],
)
def test_a_record_of_the_wrong_shape_is_named_and_skipped(tmp_path: Path, record: object, problem: str) -> None:
    path = write(tmp_path / "s.jsonl", [])
    with path.open("ab") as fh:
        fh.write(orjson.dumps(record) + b"\n")
        fh.write(orjson.dumps({"type": "msg", "seq": 2, "t": 2.0, "conn": "c", "dir": "csms-to-cp", "text": "[]"})
                 + b"\n")
    warnings: list[str] = []
    report = ReadReport(str(path), on_warning=warnings.append)
    assert [event.seq for event in read_capture(path, report=report)] == [2]
    [warning] = warnings
    assert re.search(rf"s\.jsonl: line 2 cannot be used and was skipped: .*{problem}", warning), warning


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (b'{"type":"msg","seq":18446744073709551621,"t":1.0,"conn":"c","dir":"cp-to-csms","text":"x"}', "seq"),
        (b'{"type":"msg","seq":1,"t":NaN,"conn":"c","dir":"cp-to-csms","text":"x"}', "plausible"),
        (b'{"type":"msg","seq":1,"t":1e400,"conn":"c","dir":"cp-to-csms","text":"x"}', "plausible"),
        (b'{"type":"msg","seq":1,"t":1.0,"conn":"c","dir":"cp-to-csms","text":"' + b"[" * 5000 + b'"}', "text"),
        (b'{"type":"msg","seq":1,"t":1.0,"conn":' + b"[" * 5000 + b"]" * 5000 + b"}", "too deep"),
        (b'{"type":"msg","seq":1,"t":1.0,"conn":"c","dir":"cp-to-csms","text":"\\ud800"}', "surrogate"),
    ],
)
def test_json_only_the_standard_library_reads_is_judged_too(tmp_path: Path, line: bytes, problem: str) -> None:
    path = write(tmp_path / "s.jsonl", [])
    with path.open("ab") as fh:
        fh.write(line + b"\n")
    warnings: list[str] = []
    report = ReadReport(str(path), on_warning=warnings.append)
    events = list(read_capture(path, report=report))
    if problem == "text":  # a frame that is itself garbage is a frame: the analysis judges it
        assert len(events) == 1 and not warnings
        return
    assert events == [] and report.unusable == 1
    assert problem in warnings[0]


def test_an_unknown_major_version_is_rejected_clearly(tmp_path: Path) -> None:
    path = tmp_path / "future.jsonl"
    path.write_bytes(orjson.dumps({"type": "header", "format": FORMAT_NAME, "version": "2.0"}) + b"\n")
    with pytest.raises(CaptureError, match=r"future\.jsonl, line 1: capture format version 2\.0 is not supported"):
        list(read_capture(path))


def test_a_newer_minor_version_is_read_ignoring_what_it_adds(tmp_path: Path) -> None:
    path = tmp_path / "newer.jsonl"
    records = [
        {"type": "header", "format": FORMAT_NAME, "version": "1.7", "shiny": True},
        {"type": "annotation", "seq": 1, "t": 1.0, "text": "a record type from 1.7"},
        {"type": "msg", "seq": 2, "t": 2.0, "conn": "c", "dir": "csms-to-cp", "text": "[3,\"1\",{}]", "new": 1},
    ]
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    assert list(read_capture(path)) == [Message("c", 2.0, Direction.FROM_BACKEND, b'[3,"1",{}]', seq=2)]


def test_an_empty_file_is_a_capture_cut_before_its_header(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"")
    report = ReadReport(str(path), on_warning=lambda _m: None)
    assert list(read_capture(path, report=report)) == []
    assert report.truncated_line == 1


def test_something_else_is_not_a_capture(tmp_path: Path) -> None:
    path = tmp_path / "other.jsonl"
    path.write_bytes(b'{"schemaVersion":"1.1"}\n')
    with pytest.raises(CaptureError, match="line 1: not an ocppscope capture"):
        list(read_capture(path))


def test_blank_lines_are_ignored(tmp_path: Path) -> None:
    path = write(tmp_path / "s.jsonl", session()[:3])
    content = lines(path)
    path.write_bytes(content[0] + b"\n" + b"".join(content[1:]) + b"   \n")
    assert list(read_capture(path)) == session()[:3]


def test_the_message_decoder_passes_every_field_of_message() -> None:
    # The reader builds Message positionally; a field added to the event must be added there too.
    assert list(Message.__struct_fields__) == list(MESSAGE_FIELDS_SET)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_full_disk_raises_a_catchable_error_and_the_writer_stays_stopped() -> None:
    with open("/dev/full", "wb", buffering=0) as full, pytest.raises(CaptureWriteError, match="No space left"):
        CaptureWriter(full, salt=SALT)
    writer = CaptureWriter(io.BytesIO(), salt=SALT)
    with open("/dev/full", "wb", buffering=0) as full:
        writer._file = full  # the disk fills up while capturing
        with pytest.raises(CaptureWriteError, match="capturing stopped after 0 event"):
            writer.write(session()[1])
        with pytest.raises(CaptureWriteError):
            writer.write(session()[2])


def test_writing_to_an_open_binary_file(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with CaptureWriter(buffer, salt=SALT) as writer:
        for event in session():
            writer.write(event)
    assert not buffer.closed  # the caller owns it
    assert list(read_capture(io.BytesIO(buffer.getvalue()))) == session()


def test_read_events_detects_plain_and_gzipped_captures(tmp_path: Path) -> None:
    path = write(tmp_path / "s.jsonl", session())
    packed = tmp_path / "s.jsonl.gz"
    packed.write_bytes(gzip.compress(path.read_bytes()))
    assert list(read_events(path)) == list(read_events(packed)) == session()


def test_header_bytes_that_are_not_utf8_do_not_stop_the_capture(tmp_path: Path) -> None:
    # mitmproxy hands such bytes over as surrogate escapes; JSON cannot hold them.
    odd = ConnectionOpened("c9", T0, "10.0.0.9:1", "/ocpp/CP9", request_headers=(("User-Agent", "Wallb\udcf6x"),
                                                                                  ("Authorization", "Basic \udcff")),
                           seq=1)
    path = write(tmp_path / "odd.jsonl", [odd, session()[1]])
    opened, message = read_capture(path)
    assert isinstance(opened, ConnectionOpened)
    assert opened.request_headers[0] == ("User-Agent", "Wallb\ufffdx")
    assert opened.request_headers[1][1].startswith("Basic <redacted kind=credentials bytes=1 ")
    assert message == session()[1]
