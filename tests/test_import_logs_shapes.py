"""Logs as their producers print them and people paste them: journalctl cutting long lines, ticket systems wrapping
them, newest first, docker and colours, serial monitors, journald's LineMax, EVerest's message log, a CSMS that
prints "Rx/Tx". Where each file's shape was seen: tests/data/logs/SOURCES.md."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from ocppscope.proxy.capture import ReadReport, detect_format, read_events
from ocppscope.proxy.core.analyzer import Analyzer, AnalyzerOptions
from ocppscope.proxy.core.checks import default_checkers
from ocppscope.proxy.core.events import ConnectionOpened, Direction, Event, Message
from ocppscope.proxy.core.findings import Finding

LOGS = Path(__file__).parent / "data" / "logs"
FROM_CHARGER, FROM_BACKEND = Direction.FROM_CHARGER, Direction.FROM_BACKEND


def read(path: Path, fmt: str = "auto") -> tuple[list[Event], ReadReport]:
    report = ReadReport(str(path), on_warning=lambda _m: None)
    return list(read_events(path, fmt, report=report, log_timezone="UTC")), report


def frames(events: list[Event]) -> list[Message]:
    return [e for e in events if isinstance(e, Message)]


def findings(events: list[Event]) -> list[Finding]:
    analyzer = Analyzer(default_checkers(), AnalyzerOptions())
    return [f for e in events for f in analyzer.feed(e).findings] + analyzer.finish()


# name, format detected, frames, of which cut (by line), skipped lines, directions of the frames in wire order
CASES = [
    # journalctl without --full: long lines shortened in the middle around "…" (90 % head, 10 % tail)
    ("evcc-journal-no-full.log", "ocpp-go", 6, [1, 3, 6], [], [FROM_CHARGER, FROM_BACKEND] * 3),
    # journalctl -r: newest first
    ("evcc-journal-reverse.log", "ocpp-go", 8, [], [], [FROM_CHARGER, FROM_BACKEND] * 2
     + [FROM_BACKEND, FROM_CHARGER] + [FROM_CHARGER, FROM_BACKEND]),
    # docker compose prefix and ANSI colours around Home Assistant's lines
    ("home-assistant-docker.log", "home-assistant", 6, [], [1], [FROM_CHARGER, FROM_BACKEND, FROM_BACKEND,
                                                                 FROM_CHARGER, FROM_CHARGER, FROM_BACKEND]),
    # Arduino serial monitor ("17:21:38.102 -> "), MicroOcpp's " [...]" where its console buffer ends
    ("microocpp-serial.log", "charger", 8, [2, 7], [1, 8], [FROM_CHARGER, FROM_BACKEND] * 2
     + [FROM_BACKEND, FROM_CHARGER] + [FROM_CHARGER, FROM_BACKEND]),
    # the ocpp package's log written by a central system, asctime before basicConfig's format
    ("ocpp-python-csms.log", "ocpp-python", 6, [], [], [FROM_CHARGER, FROM_BACKEND] * 2
     + [FROM_BACKEND, FROM_CHARGER]),
    # a ticket system that numbered the lines and wrapped them at 120 columns, inside the SteVe prefix too
    ("steve-ticket-wrapped.log", "steve", 4, [], [], [FROM_CHARGER, FROM_BACKEND] * 2),
    # journald splitting a line longer than its LineMax into records of the same writer
    ("charger-journald-linemax.log", "charger", 4, [], [], [FROM_CHARGER, FROM_BACKEND, FROM_BACKEND,
                                                            FROM_CHARGER]),
    # EVerest libocpp's message log file: a header line per frame, the frame pretty-printed below it
    ("everest-ocpp-messages.log", "everest", 6, [], [1], [FROM_CHARGER, FROM_BACKEND] * 2
     + [FROM_BACKEND, FROM_CHARGER]),
    # a backend printing "Rx:"/"Tx:" (received = from the charger), told by its traffic
    ("csms-rx-tx.log", "charger", 8, [], [], [FROM_CHARGER, FROM_BACKEND] * 3 + [FROM_BACKEND, FROM_CHARGER]),
]


@pytest.mark.parametrize(("name", "fmt", "count", "cut_lines", "skipped", "directions"), CASES,
                         ids=[case[0] for case in CASES])
def test_each_producer_is_detected_and_its_frames_decoded(name: str, fmt: str, count: int, cut_lines: list[int],
                                                          skipped: list[int], directions: list[Direction]) -> None:
    path = LOGS / name
    assert detect_format(path) == fmt
    events, report = read(path)
    found = frames(events)
    assert (report.format, report.frames, len(found)) == (fmt, count, count)
    assert report.lines == len(path.read_bytes().splitlines())
    assert [f.direction for f in found] == directions
    assert report.frames_cut == len(cut_lines) == sum(f.cut for f in found)
    assert [line for line, _ in report.skipped_examples] == skipped and report.skipped == len(skipped)
    counts = f"{report.lines} line(s) read, {count} frame(s) decoded, {len(cut_lines)} cut"
    if skipped:
        counts += f", {len(skipped)} line(s) skipped (lines {', '.join(map(str, skipped))})"
    assert f"{path}: read as a {fmt} log: {counts}" in report.notes
    for frame in found:
        if not frame.cut:
            assert isinstance(orjson.loads(frame.content), list)
    if cut_lines:
        assert any(f"were cut short by the log (lines {', '.join(map(str, cut_lines))})" in w for w in report.warnings)
    rules = [f.rule for f in findings(events)]
    assert rules.count("input.frame-cut") == len(cut_lines)
    blamed = {"frame.invalid-json", "frame.bad-shape", "schema.violation", "rpc.unknown-id", "rpc.wrong-direction",
              "rpc.timeout", "rpc.late-response", "rpc.duplicate-id"}
    assert blamed.isdisjoint(rules)


def test_journalctl_ellipsis_inside_a_string_is_a_cut_not_a_bad_date() -> None:
    """``"2023-10-1…09:40:40Z"`` is valid JSON around journalctl's ellipsis, but not what the backend sent."""
    events, _ = read(LOGS / "evcc-journal-no-full.log")
    heartbeat_answer = frames(events)[-1]
    assert heartbeat_answer.cut and heartbeat_answer.content == b'[3,"2cb9-0103",{"currentTime":"2023-10-1'
    status = frames(events)[0]
    assert status.cut and status.content == b'[2,"2cb9-0101","StatusNotification'


def test_a_frame_outside_the_journal_keeps_its_ellipsis(tmp_path: Path) -> None:
    """Must not flag: a vendor's "…" inside a string of a complete frame printed without a journal prefix."""
    path = tmp_path / "plain.log"
    path.write_text('2024-03-01T08:00:00Z CP1 -> [2,"1","DataTransfer",{"vendorId":"V","data":"wait…"}]\n',
                    encoding="utf-8")
    events, report = read(path)
    assert report.frames_cut == 0 and frames(events)[0].content.endswith('"wait…"}]'.encode())


def test_a_record_wrapped_before_its_frame_is_joined_back() -> None:
    events, report = read(LOGS / "steve-ticket-wrapped.log")
    opened = [e for e in events if isinstance(e, ConnectionOpened)]
    assert [(o.conn_id, o.path) for o in opened] == [("5b2f8c3a-7f41-1d2e-0c9b-7d3e2f1a0b9c", "/ALPHA-7")]
    boot = frames(events)[0]
    assert orjson.loads(boot.content)[3]["meterType"] == "Eastron SDM72D-M"
    assert boot.time == pytest.approx(1698919441.402)  # 2023-11-02 10:04:01,402 read as UTC
    assert any("5 record(s) broken across lines" in note and "(lines 1, 3, 7, 10, 14)" in note
               for note in report.notes)


def test_a_wrapped_record_is_not_joined_to_a_line_that_starts_a_record(tmp_path: Path) -> None:
    """Must not join: a note followed by a record of its own; the note stays a skipped line."""
    path = tmp_path / "steve.log"
    path.write_text(
        "[INFO ] 2023-11-02 10:04:01,117 Application - started\n"
        "[INFO ] 2023-11-02 10:04:01,402 de.rwth.idsg.steve.ocpp.ws.WebSocketLogger (qtp-41) - [chargeBoxId=B1, "
        'sessionId=s1] Received: [2,"1","Heartbeat",{}]\n', encoding="utf-8")
    events, report = read(path)
    assert len(frames(events)) == 1 and [line for line, _ in report.skipped_examples] == [1]
    assert not any("broken across lines" in note for note in report.notes)


def test_newest_first_journal_is_read_in_time_order() -> None:
    events, report = read(LOGS / "evcc-journal-reverse.log")
    times = [f.time for f in frames(events)]
    assert times == sorted(times)
    assert any("printed newest first" in note for note in report.notes)
    assert isinstance(events[0], ConnectionOpened) and events[0].path == "/WB-0815"


def test_a_backend_rx_tx_log_is_read_the_right_way_round() -> None:
    """"Rx" in a backend's log is from the charger: the BootNotification it received says so."""
    events, report = read(LOGS / "csms-rx-tx.log")
    boot, answer = frames(events)[:2]
    assert (boot.direction, answer.direction) == (FROM_CHARGER, FROM_BACKEND)
    assert not any("assumed" in warning for warning in report.warnings)


def test_a_charger_log_that_never_says_who_wrote_it_is_read_as_the_chargers(tmp_path: Path) -> None:
    path = tmp_path / "tx.log"
    path.write_text('12:00:01.120 [OCPP] TX: [2,"42","DataTransfer",{"vendorId":"V"}]\n'
                    '12:00:01.300 [OCPP] RX: [3,"42",{"status":"Accepted"}]\n', encoding="utf-8")
    events, report = read(path)
    assert [f.direction for f in frames(events)] == [FROM_CHARGER, FROM_BACKEND]
    assert any("assumed the charger (received = from the backend)" in warning for warning in report.warnings)


@pytest.mark.parametrize(("stamp", "why"), [
    ("0001-01-01T00:00:00Z", "is not a plausible time (1970 to 2100)"),
    ("9999-12-31T23:59:59Z", "is not a plausible time (1970 to 2100)"),
    ("2024-13-45T99:99:99Z", "is no date and time"),
    ("-5", "is not a plausible time (1970 to 2100)"),
    ("1e20", "is not a plausible time (1970 to 2100)"),
    ("99999999999999999999", "is not a plausible time (1970 to 2100)"),
])
def test_an_absurd_time_is_named_with_its_line_and_the_frame_kept(tmp_path: Path, stamp: str, why: str) -> None:
    path = tmp_path / "absurd.log"
    path.write_text(f'{stamp} CP1 cp-to-csms [2,"1","Heartbeat",{{}}]\n'
                    '2024-03-01T08:00:00Z CP1 csms-to-cp [3,"1",{"currentTime":"2024-03-01T08:00:00Z"}]\n'
                    f'{stamp} CP1 cp-to-csms [2,"2","Heartbeat",{{}}]\n', encoding="utf-8")
    events, report = read(path)
    assert [f.time for f in frames(events)] == [1709280000.0] * 3  # the time of the record next to each
    named = [w for w in report.warnings if stamp in w]
    assert named == [f"{path}: line {line}: the time '{stamp}' {why}; the line was read at the time of the record "
                     "next to it" for line in (1, 3)]
    assert "rpc.late-response" not in [f.rule for f in findings(events)]


CUT = '2024-03-01T08:00:00.000Z CP1 csms-to-cp [2,"7","GetConfiguration",{"key":["Heartbeat'


@pytest.mark.parametrize(("after", "kept"), [
    # a record whose time cannot be true: its own frame, the time named
    ('-5 CP1 cp-to-csms [3,"7",{"configurationKey":[]}]', 1),
    # a note and bytes that are not UTF-8, pasted after the cut frame: skipped lines, named
    ("a note pasted in the middle", 0),
    ("Note: the log stopped here, sorry", 0),
    ("see ticket #42, charger rebooted", 0),
    ("\udcff\udcfe garbage", 0),
])
def test_what_follows_a_cut_frame_is_not_taken_as_its_rest(tmp_path: Path, after: str, kept: int) -> None:
    path = tmp_path / "cut.log"
    path.write_bytes(f"{CUT}\n{after}\n".encode("utf-8", "surrogateescape"))
    events, report = read(path)
    cut, *rest = frames(events)
    assert cut.cut and cut.content == CUT.split(" ", 3)[3].encode()
    assert len(rest) == kept and report.skipped == 1 - kept
    assert not any("broken across lines" in note for note in report.notes)


@pytest.mark.parametrize("mark", [" [...]", ""])
def test_a_wrapped_frame_cut_by_its_log_keeps_its_wrapped_lines(tmp_path: Path, mark: str) -> None:
    """Must not split: a frame wrapped at a fixed width (60 columns) whose end the log cut, with or without
    the log's cut mark at the end of its last line."""
    line = '2024-03-01T08:00:00.000Z CP1 -> [2,"1","DataTransfer",{"vendorId":"com.example","data":"' + "x" * 40
    pieces = [line[:60], line[60:120], line[120:] + mark]
    path = tmp_path / "wrapped.log"
    path.write_text("\n".join(pieces) + "\n" + '2024-03-01T08:00:01Z CP1 <- [3,"1",{"status":"Accepted"}]\n',
                    encoding="utf-8")
    events, report = read(path)
    cut, answer = frames(events)
    assert cut.cut and cut.content == line.split(" ", 3)[3].encode() and report.skipped == 0
    assert orjson.loads(answer.content) == [3, "1", {"status": "Accepted"}]


def test_a_frame_header_is_not_joined_to_a_note(tmp_path: Path) -> None:
    """A frame line with nothing after its direction, then a note: two skipped lines, not a frame "a note"."""
    path = tmp_path / "header.log"
    path.write_text("2024-03-01T08:00:00.000Z CP1 cp-to-csms \na note pasted in the middle\n"
                    '2024-03-01T08:00:01Z CP1 -> [2,"1","Heartbeat",{}]\n', encoding="utf-8")
    events, report = read(path)
    assert [f.content for f in frames(events)] == [b'[2,"1","Heartbeat",{}]'] and report.skipped == 2


@pytest.mark.parametrize("piece", ["false", "1.5", '["",{}]', '[NaN,"9","Heartbeat",{}]', '"a"'])
def test_a_whole_value_is_its_own_frame_not_the_rest_of_a_cut_one(tmp_path: Path, piece: str) -> None:
    """A record whose text is one JSON value of its own after a cut frame of the same charger and direction is a
    frame of its own (however wrong), not the next piece of a frame the logger split."""
    path = tmp_path / "pieces.log"
    path.write_text(f'2024-03-01T08:00:00Z CP1 -> [3,"1",{{"status":"\n2024-03-01T08:00:30Z CP1 -> {piece}\n',
                    encoding="utf-8")
    events, report = read(path)
    assert [f.content for f in frames(events)] == [b'[3,"1",{"status":"', piece.encode()]
    assert not any("split over several records" in note for note in report.notes)


def test_plausible_times_are_not_named(tmp_path: Path) -> None:
    """Must not flag: 1970 epoch seconds and a far but possible 2099 are times a recording can have."""
    path = tmp_path / "fine.log"
    path.write_text('1000000000 CP1 -> [2,"1","Heartbeat",{}]\n'
                    '2099-12-31T23:59:59Z CP1 <- [3,"1",{"currentTime":"2099-12-31T23:59:59Z"}]\n', encoding="utf-8")
    _, report = read(path)
    assert not any("the time" in warning for warning in report.warnings)


def test_absurd_times_beyond_the_named_ones_are_counted(tmp_path: Path) -> None:
    path = tmp_path / "many.log"
    path.write_text("".join(f'9999-12-31T23:59:59Z CP1 -> [2,"{n}","Heartbeat",{{}}]\n' for n in range(205)),
                    encoding="utf-8")
    events, report = read(path)
    assert len(frames(events)) == 205
    assert sum("is not a plausible time" in warning for warning in report.warnings) == 200
    assert any("5 more line(s) print a time that cannot be true" in warning for warning in report.warnings)


def test_every_log_format_is_documented_with_an_example_line() -> None:
    from ocppscope.proxy.capture.logs import LOG_FORMATS

    docs = (Path(__file__).parent.parent / "docs" / "capture-format.md").read_text(encoding="utf-8")
    section = docs[docs.index("\n## Logs\n"):]
    section = section[: section.index("\n## ", 1)]
    for name in LOG_FORMATS:
        assert f"| `{name}` |" in section, name


def test_every_log_file_says_where_its_shape_was_seen() -> None:
    sources = (LOGS / "SOURCES.md").read_text(encoding="utf-8")
    for path in sorted(LOGS.glob("*.log")):
        assert f"| `{path.name}` |" in sources, path.name


@pytest.mark.parametrize("path", sorted(LOGS.glob("*.log")), ids=lambda path: path.name)
def test_every_importer_reports_lines_frames_cuts_and_skipped_lines(path: Path) -> None:
    events, report = read(path)
    assert report.lines == len(path.read_bytes().splitlines()) and report.frames == len(frames(events)) > 0
    counts = f"{report.lines} line(s) read, {report.frames} frame(s) decoded, {report.frames_cut} cut"
    if report.skipped:
        shown = ", ".join(str(line) for line, _ in report.skipped_examples)
        counts += f", {report.skipped} line(s) skipped (lines {shown}{', …' if report.skipped > 5 else ''})"
    assert report.notes[-1] == f"{path}: read as a {report.format} log: {counts}"


def test_a_line_journald_split_at_its_linemax_is_joined_and_said_so() -> None:
    events, report = read(LOGS / "charger-journald-linemax.log")
    profile = orjson.loads(frames(events)[2].content)
    assert profile[3]["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"][2]["limit"] == 16.0
    assert any("split over several records were joined (line 3)" in note for note in report.notes)
    assert not any("broken across lines" in note for note in report.notes)


@pytest.mark.parametrize("suffix", [".log", ".oot.jsonl"])
def test_an_input_whose_first_frame_is_longer_than_the_sample_is_recognised(tmp_path: Path, suffix: str) -> None:
    """The first line alone is megabytes (a vendor's log dump in a DataTransfer): detection sees only its start."""
    frame = '[2,"1","DataTransfer",{"vendorId":"com.example","data":"' + "y" * 1_000_000 + '"}]'
    path = tmp_path / f"big{suffix}"
    if suffix == ".log":
        text = f"2024-03-01T08:00:00Z CP1 cp-to-csms {frame}\n"
    else:
        text = orjson.dumps({"schemaVersion": "1.1", "timestamp": "2024-03-01T08:00:00.000Z", "ocppVersion": "1.6",
                             "chargePointId": "CP1", "direction": "cp-to-csms", "messageType": "CALL",
                             "raw": frame}).decode() + "\n"
    path.write_text(text, encoding="utf-8")
    assert detect_format(path) == ("plain" if suffix == ".log" else "oot")
    events, _ = read(path)
    assert [f.content for f in frames(events)] == [frame.encode()]


def test_a_split_frame_whose_middle_piece_is_digits_is_joined(tmp_path: Path) -> None:
    """Must not split: a logger cut a frame into records of 100 characters; one piece is only digits (a JSON
    number on its own, but of the pieces' length)."""
    frame = '[2,"1","DataTransfer",{"vendorId":"x","data":"' + "1234567890" * 30 + '"}]'
    pieces = [frame[at:at + 100] for at in range(0, len(frame), 100)]
    path = tmp_path / "split.log"
    path.write_text("".join(f"2024-03-01T08:00:0{n}Z CP1 -> {piece}\n" for n, piece in enumerate(pieces)),
                    encoding="utf-8")
    events, _ = read(path)
    assert [f.content for f in frames(events)] == [frame.encode()]


@pytest.mark.parametrize("shape", ["docker", "word-wrapped"])
def test_a_wrapped_frame_that_never_ends_keeps_its_wrapped_lines(tmp_path: Path, shape: str) -> None:
    """Must not split: a cut frame wrapped at 60 columns behind docker's prefix (the first line is shorter once
    the prefix is off), or word-wrapped by a ticket (lines of any width, each with JSON in it)."""
    if shape == "docker":
        line = ('csms  | 2024-03-01T08:00:00Z CP1 -> [2,"1","DataTransfer",{"vendorId":"com.example","data":"'
                + "x" * 100)
        lines = [line[at:at + 60] for at in range(0, len(line), 60)]
        frame = line.split(" -> ", 1)[1]
        answer = 'csms  | 2024-03-01T08:00:01Z CP1 <- [3,"1",{"status":"Accepted"}]'
    else:
        lines = ['2024-03-01T08:00:00Z CP1 -> [2,"1","DataTransfer",{"vendorId":"com.example",',
                 '"messageId":"log","data":{"level":"debug",', '"fields":[1,2,3']
        frame = "\n".join(lines).split(" -> ", 1)[1]
        answer = '2024-03-01T08:00:01Z CP1 <- [3,"1",{"status":"Accepted"}]'
    path = tmp_path / f"{shape}.log"
    path.write_text("\n".join([*lines, answer]) + "\n", encoding="utf-8")
    events, report = read(path)
    cut, reply = frames(events)
    assert cut.cut and report.skipped == 0
    assert cut.content == frame.encode() and orjson.loads(reply.content)[0] == 3


def test_times_in_seconds_since_a_start_are_read_and_said_so(tmp_path: Path) -> None:
    """A log stamped with the seconds since the charger started: read, the intervals kept, and said so."""
    path = tmp_path / "uptime.log"
    path.write_text('12.500 CP1 -> [2,"1","Heartbeat",{}]\n'
                    '12.750 CP1 <- [3,"1",{"currentTime":"2024-03-01T08:00:00Z"}]\n', encoding="utf-8")
    events, report = read(path)
    assert [f.time for f in frames(events)] == [12.5, 12.75]
    assert any("times as small numbers (line 1 first)" in note for note in report.notes)
    assert not any("the time" in warning for warning in report.warnings)
