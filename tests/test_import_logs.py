"""CSMS log importers, on log files shaped like the ones people paste into bug reports.

Where each file's shape was seen: tests/data/logs/SOURCES.md (evcc-io/evcc, lorenzodonini/ocpp-go,
lbbrhzn/ocpp, mobilityhouse/ocpp and steve-community/steve issues and sources).
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from ocppscope.proxy.capture import ReadReport, SourceError, detect_format, read_events
from ocppscope.proxy.core.analyzer import Analyzer, AnalyzerOptions
from ocppscope.proxy.core.events import ConnectionClosed, ConnectionOpened, Direction, Event, Message, Ping

LOGS = Path(__file__).parent / "data" / "logs"


def read(path: Path, fmt: str = "auto") -> tuple[list[Event], ReadReport]:
    report = ReadReport(str(path), on_warning=lambda _m: None)
    return list(read_events(path, fmt, report=report)), report


def frames(events: list[Event]) -> list[Message]:
    return [e for e in events if isinstance(e, Message)]


def pairing_problems(events: list[Event]) -> list[str]:
    """Rules about pairing that fire: a log read the wrong way round pairs nothing."""
    analyzer = Analyzer((), AnalyzerOptions())
    found = [f.rule for e in events for f in analyzer.feed(e).findings]
    found += [f.rule for f in analyzer.finish()]
    return [rule for rule in found if rule.startswith("rpc.") and rule != "rpc.version-guessed"]


@pytest.mark.parametrize(
    ("name", "fmt", "frame_count", "connections", "skipped_lines"),
    [
        # evcc behind docker compose: "evcc  | [ocpp  ] TRACE 2024/07/11 17:12:57 recv WB-4711: [...]"
        ("evcc-docker.log", "ocpp-go", 12, 2, [1, 2, 3, 11, 14]),
        # journalctl, ocpp-go wording "received JSON message from <id>:", a line cut by journalctl ("ti>")
        ("evcc-journal.log", "ocpp-go", 6, 1, [5]),
        # ocpp-go through logrus' text formatter: the frame is a quoted msg="..."
        ("ocpp-go-logrus.log", "ocpp-go", 4, 1, [1, 3]),
        # Home Assistant OCPP integration, with pretty-printed frames of older versions
        ("home-assistant.log", "home-assistant", 10, 1, [1, 2, 30]),
        # the ocpp package's own "INFO:ocpp:CP_1: send [...]", written by a charge point
        ("ocpp-python-charger.log", "ocpp-python", 4, 1, [1, 6]),
        # SteVe's WebSocketLogger with sessions, pings, a close code and a stack trace in between
        ("steve.log", "steve", 8, 2, [1, 9, 10, 11]),
        ("plain.log", "plain", 6, 1, [5]),
    ],
)
def test_each_log_is_detected_and_read(name: str, fmt: str, frame_count: int, connections: int,
                                       skipped_lines: list[int]) -> None:
    path = LOGS / name
    assert detect_format(path) == fmt
    events, report = read(path)
    assert report.format == fmt
    assert len(frames(events)) == frame_count
    assert sum(isinstance(e, ConnectionOpened) for e in events) == connections
    assert [line for line, _ in report.skipped_examples] == skipped_lines[:5] and report.skipped == len(skipped_lines)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert all(f.time >= 0 for f in frames(events))


@pytest.mark.parametrize("name", ["evcc-docker.log", "ocpp-go-logrus.log", "home-assistant.log",
                                  "ocpp-python-charger.log", "steve.log", "plain.log"])
def test_directions_make_every_answer_pair_with_its_call(name: str) -> None:
    events, _ = read(LOGS / name)
    assert pairing_problems(events) == []
    assert all(isinstance(orjson.loads(f.content), list) for f in frames(events))


def test_skipped_lines_are_reported_with_their_numbers() -> None:
    warnings: list[str] = []
    list(read_events(LOGS / "evcc-docker.log", on_warning=warnings.append))
    assert warnings == [f"{LOGS / 'evcc-docker.log'}: 5 line(s) were not recognised as OCPP traffic and were "
                        "skipped (lines 1, 2, 3, 11, 14)"]


def test_evcc_connects_disconnects_and_reconnects() -> None:
    events, _ = read(LOGS / "evcc-docker.log")
    kinds = [(type(e).__name__, e.conn_id) for e in events if not isinstance(e, Message)]
    assert kinds == [("ConnectionOpened", "WB-4711#1"), ("ConnectionClosed", "WB-4711#1"),
                     ("ConnectionOpened", "WB-4711#2")]
    first = frames(events)[0]
    assert first.direction is Direction.FROM_CHARGER and first.time == 1720717977.0  # 2024/07/11 17:12:57 as UTC
    opened = events[0]
    assert isinstance(opened, ConnectionOpened)
    assert (opened.path, opened.request_headers, opened.client, opened.status) == ("/WB-4711", (), "", 101)


def test_a_frame_cut_by_journalctl_is_incomplete_input_not_invalid_json() -> None:
    events, report = read(LOGS / "evcc-journal.log")
    cut = frames(events)[0]
    assert cut.cut and cut.content.endswith(b'"errorCode":"NoError","ti')  # less's ">" marker taken off
    assert report.frames_cut == 1
    analyzer = Analyzer((), AnalyzerOptions())
    rules = [f.rule for e in events for f in analyzer.feed(e).findings]
    assert "input.frame-cut" in rules
    assert "frame.invalid-json" not in rules and "rpc.unknown-id" not in rules  # its answer still pairs


def test_logrus_quoting_is_undone() -> None:
    events, _ = read(LOGS / "ocpp-go-logrus.log")
    assert frames(events)[0].content == (b'[2,"1683015705","BootNotification",{"chargePointModel":"model1",'
                                         b'"chargePointVendor":"vendor1"}]')
    assert frames(events)[0].time == 1683015705.0  # 10:21:45+02:00


def test_pretty_printed_frames_are_joined_back() -> None:
    events, _ = read(LOGS / "home-assistant.log")
    heartbeat, meter_values = (f for f in frames(events) if b"\n" in f.content)
    assert heartbeat.content == b'[2,"7f0c00000002","Heartbeat",\n{\n}]'
    assert orjson.loads(meter_values.content)[3]["connectorId"] == 1
    assert meter_values.time == pytest.approx(1738248116.101)


def test_a_log_written_by_a_charger_is_read_the_right_way_round() -> None:
    events, _ = read(LOGS / "ocpp-python-charger.log")
    boot, boot_answer, remote_start, remote_answer = frames(events)
    assert boot.direction is Direction.FROM_CHARGER  # "send" by the charger
    assert boot_answer.direction is Direction.FROM_BACKEND
    assert remote_start.direction is Direction.FROM_BACKEND and remote_answer.direction is Direction.FROM_CHARGER


def test_steve_sessions_pings_and_close_codes() -> None:
    events, _ = read(LOGS / "steve.log")
    first_session = "d7264f05-8702-7782-201c-dc45c2ff95fe"
    pings = [e for e in events if isinstance(e, Ping)]
    assert [(p.pong, p.direction) for p in pings] == [(False, Direction.FROM_BACKEND), (True, Direction.FROM_CHARGER)]
    closed = next(e for e in events if isinstance(e, ConnectionClosed))
    assert (closed.conn_id, closed.code, closed.reason) == (first_session, 1006, "")
    assert {f.conn_id for f in frames(events)} == {first_session, "0b1c2d3e-0000-4000-8000-00000000abcd"}


def test_plain_lines_in_every_spelling(tmp_path: Path) -> None:
    path = tmp_path / "plain.txt"
    path.write_text(
        "2024-03-01T08:00:00+01:00 → [2,\"1\",\"Heartbeat\",{}]\n"
        "2024-03-01T08:00:00.5+01:00 ← [3,\"1\",{\"currentTime\":\"2024-03-01T07:00:00Z\"}]\n"
        "1709276401 >> [2,\"2\",\"Heartbeat\",{}]\n"
        "1709276401.25 << [3,\"2\",{\"currentTime\":\"2024-03-01T07:00:01Z\"}]\n",
        encoding="utf-8",
    )
    events, report = read(path)
    assert report.format == "plain" and report.skipped == 0
    assert [(f.direction, f.time) for f in frames(events)] == [
        (Direction.FROM_CHARGER, 1709276400.0), (Direction.FROM_BACKEND, 1709276400.5),
        (Direction.FROM_CHARGER, 1709276401.0), (Direction.FROM_BACKEND, 1709276401.25)]
    opened = events[0]
    assert isinstance(opened, ConnectionOpened) and opened.path == "/"  # no charger identity in these lines


def test_a_log_that_never_says_who_wrote_it_is_read_as_a_backend_log_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "ha.log"
    # DataTransfer goes both ways, so nothing in this log says whether "receive" means "from the charger".
    path.write_text('2025-01-30 14:41:45.001 INFO (MainThread) [ocpp] CP9: receive message '
                    '[2,"1","DataTransfer",{"vendorId":"V"}]\n'
                    '2025-01-30 14:41:45.002 INFO (MainThread) [ocpp] CP9: send [3,"1",{"status":"Accepted"}]\n',
                    encoding="utf-8")
    warnings: list[str] = []
    events = list(read_events(path, on_warning=warnings.append))
    assert frames(events)[0].direction is Direction.FROM_CHARGER
    assert len(warnings) == 1 and "assumed the backend" in warnings[0]


def test_something_that_is_no_log_at_all_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("shopping list\n- milk\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"notes\.txt: cannot tell what this file is.*--input-format"):
        list(read_events(path))
    empty = tmp_path / "empty.log"
    empty.write_bytes(b"")
    with pytest.raises(SourceError, match="the file is empty"):
        list(read_events(empty))


def test_a_named_format_reads_lines_auto_detection_would_not(tmp_path: Path) -> None:
    path = tmp_path / "mixed.log"
    path.write_bytes((LOGS / "steve.log").read_bytes() + (LOGS / "plain.log").read_bytes())
    events, report = read(path, "plain")
    assert len(frames(events)) == 6 and report.skipped == 17 + 1  # all of SteVe's lines and the note
    with pytest.raises(SourceError, match="unknown input format 'syslog'"):
        read(path, "syslog")


def test_non_utf8_bytes_in_a_log_reach_the_frame_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "latin1.log"
    path.write_bytes(b'2024-03-01T08:00:00Z CP1 -> [2,"1","Authorize",{"idTag":"M\xfcller"}]\n')
    events, _ = read(path)
    assert frames(events)[0].content == b'[2,"1","Authorize",{"idTag":"M\xfcller"}]'
