"""`ocppscope check`: reports, exit codes, baselines, bad input, and the parallel path."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from ocppscope.proxy.capture.sources import read_events
from ocppscope.proxy.capture.writer import CaptureWriter
from ocppscope.proxy.check.parallel import analyze_parallel
from ocppscope.proxy.check.runner import analyze_events
from ocppscope.proxy.cli import COMMAND_MODULES, main
from ocppscope.proxy.core.analyzer import AnalyzerOptions
from ocppscope.proxy.core.events import Event, Message

from tests.traffic import T0, Wire


def write_capture(path: Path, events: list[Event]) -> Path:
    with CaptureWriter(path, salt=b"test") as writer:
        for event in events:
            writer.write(event)
    return path


def faulty_session(conn_id: str = "c1", charger: str = "CP01", t0: float = T0) -> Wire:
    wire = Wire(charger=charger, conn_id=conn_id, t0=t0)
    wire.boot()
    wire.cp('[2,"s","StopTransaction",{"transactionId":1,"meterStop":10,"timestamp":"2023-11-14T22:13:21Z",'
            '"reason":"Unplugged"}]')  # schema.violation (error)
    wire.cs('[3,"s",{}]')
    wire.cs('[3,"ghost",{}]')  # rpc.unknown-id (error)
    wire.cp('[2,"h","Heartbeat",{}]', after=10)
    wire.cs('[3,"h",{"currentTime":"2024-01-01T00:00:00"}]')  # schema.datetime-no-timezone (warning)
    wire.close()
    return wire


def clean_session() -> Wire:
    wire = Wire()
    wire.boot()
    wire.cp('[2,"h","Heartbeat",{}]')
    wire.cs('[3,"h",{"currentTime":"2024-01-01T00:00:00Z"}]')
    wire.close()
    return wire


@pytest.fixture
def faulty(tmp_path: Path) -> Path:
    return write_capture(tmp_path / "faulty.jsonl", faulty_session().events)


@pytest.fixture
def clean(tmp_path: Path) -> Path:
    return write_capture(tmp_path / "clean.jsonl", clean_session().events)


def test_clean_capture_passes(clean: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(clean)]) == 0
    out = capsys.readouterr().out
    assert "charger CP01" in out and "PASS" in out


def test_findings_fail_and_are_grouped_by_charger(faulty: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(faulty)]) == 1
    out = capsys.readouterr().out
    assert "charger CP01  connection c1" in out
    assert "schema.violation" in out and "rpc.unknown-id" in out and "FAIL: 2 finding(s)" in out


def test_fail_on_levels(faulty: Path, tmp_path: Path) -> None:
    assert main(["check", "--fail-on", "never", str(faulty)]) == 0
    wire = Wire()
    wire.boot()
    wire.cp('[2,"h","Heartbeat",{}]')
    wire.cs('[3,"h",{"currentTime":"2024-01-01T00:00:00"}]')  # a warning only
    warnings = write_capture(tmp_path / "warnings.jsonl", wire.events)
    assert main(["check", "--fail-on", "error", str(warnings)]) == 0
    assert main(["check", "--fail-on", "warning", str(warnings)]) == 1


def test_json_report(faulty: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--format", "json", str(faulty)]) == 1
    document = json.loads(capsys.readouterr().out)
    [result] = document["inputs"]
    rules = sorted(f["rule"] for f in result["findings"])
    assert rules == ["profile.selected", "rpc.unknown-id", "schema.datetime-no-timezone", "schema.violation",
                     "transaction.unknown-id"]  # the StopTransaction names a transaction nobody started
    assert result["connections"][0]["charger"] == "CP01" and document["failed"] is True


def test_junit_report(faulty: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.xml"
    assert main(["check", "--format", "junit", "-o", str(out), str(faulty)]) == 1
    root = ET.parse(out).getroot()
    [suite] = root.findall("testsuite")
    assert suite.get("failures") == "2"  # one case per charger and rule: schema.violation, rpc.unknown-id
    failure = suite.find("testcase[@name='schema.violation']/failure")
    assert failure is not None and "StopTransaction" in (failure.text or "")


def test_baseline_accepts_known_findings_only(faulty: Path, tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    assert main(["check", "--write-baseline", str(baseline), str(faulty)]) == 0
    assert main(["check", "--baseline", str(baseline), str(faulty)]) == 0
    # the same traffic re-recorded with new message ids and times is still covered
    again = write_capture(tmp_path / "again.jsonl", faulty_session(t0=T0 + 3600).events)
    assert main(["check", "--baseline", str(baseline), str(again)]) == 0
    # a new finding fails
    wire = faulty_session()
    wire.events.pop()
    wire.cs('[3,"another-ghost",{}]')
    wire.close()
    worse = write_capture(tmp_path / "worse.jsonl", wire.events)
    assert main(["check", "--baseline", str(baseline), str(worse)]) == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"this is not a capture\n", "format"),
        (b'{"type":"header","format":"ocppscope-capture","version":"9.0"}\n', "version 9.0"),
    ],
)
def test_unusable_input_exits_2(tmp_path: Path, content: bytes, message: str,
                                capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(content)
    assert main(["check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.jsonl" in err and message in err


def test_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(tmp_path / "nope.jsonl")]) == 2
    assert "nope.jsonl" in capsys.readouterr().err


def test_parallel_run_reports_what_a_serial_run_does(tmp_path: Path) -> None:
    events: list[Event] = []
    for n in range(12):  # chargers that reconnect: all their connections must land in one shard
        for attempt in range(2):
            wire = faulty_session(conn_id=f"c{n}-{attempt}", charger=f"CP{n % 5}", t0=T0 + n * 7 + attempt * 100)
            events += wire.events
    # Ids the line router sees escaped, and a connection with no open record.
    for n, conn_id in enumerate(['q"uote', "back\\slash", 'no"open']):
        events += faulty_session(conn_id=conn_id, charger=f"CPX{n}", t0=T0 + 300 + n * 50).events[n // 2:]
    # A connection id used again by a charger whose rejected boot on another connection makes this one a retry.
    for conn_id, charger, status, t0 in [("reused", "CPX9", "Accepted", 400), ("first", "CPR", "Rejected", 410),
                                          ("reused", "CPR", "Rejected", 500)]:
        wire = Wire(charger=charger, conn_id=conn_id, t0=T0 + t0)
        wire.boot(status, interval=60)
        wire.close()
        events += wire.events
    events.sort(key=lambda e: e.time)
    for seq, event in enumerate(events, 1):
        event.seq = seq
    path = write_capture(tmp_path / "many.jsonl", events)
    options = AnalyzerOptions()
    serial = analyze_events(path, read_events(path), options=options)
    parallel = analyze_parallel(path, 3, options)
    assert [(f.rule, f.seq, f.conn_id, f.message) for f in parallel.findings] == [
        (f.rule, f.seq, f.conn_id, f.message) for f in serial.findings
    ]
    assert (parallel.frames, parallel.events, parallel.counts) == (serial.frames, serial.events, serial.counts)
    assert serial.frames == sum(type(event) is Message for event in events)
    assert parallel.connections == serial.connections


def test_many_inputs_in_parallel_report_what_serial_runs_do(tmp_path: Path) -> None:
    from ocppscope.proxy.capture.report import SourceError
    from ocppscope.proxy.check.parallel import analyze_many

    paths = [write_capture(tmp_path / f"in{n}.jsonl", faulty_session(charger=f"CP{n}").events) for n in range(4)]
    options = AnalyzerOptions()
    parallel = analyze_many(paths, "auto", 2, options)
    serial = [analyze_events(path, read_events(path), options=options) for path in paths]
    assert [r.path for r in parallel] == paths
    assert [[(f.rule, f.seq, f.charger) for f in r.findings] for r in parallel] == [
        [(f.rule, f.seq, f.charger) for f in r.findings] for r in serial
    ]
    broken = tmp_path / "broken.jsonl"
    broken.write_bytes(b"not a capture\n")
    with pytest.raises(SourceError, match=r"broken\.jsonl"):
        analyze_many([*paths, broken], "auto", 2, options)


def test_a_command_imports_only_its_own_module(clean: Path) -> None:
    # The other commands' modules pull in asyncio, mitmproxy's engine and more: a tenth of a second per check.
    script = (
        "import sys\nfrom ocppscope.proxy.cli import main\n"
        f"code = main(['-v', 'check', '--format', 'json', '-o', {os.devnull!r}, {str(clean)!r}])\n"
        "from ocppscope.proxy.cli import COMMAND_MODULES\n"
        "print(code, sorted(m for m in sys.modules if m in COMMAND_MODULES.values()))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.split() == ["0", "['ocppscope.proxy.commands.check']"]
    help_text = subprocess.run([sys.executable, "-m", "ocppscope", "--help"], capture_output=True, text=True,
                               check=True, timeout=60).stdout
    assert all(name in help_text for name in ("check", "proxy", "replay", "diagnose"))


def test_an_input_with_no_traffic_of_the_named_format_exits_2(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "plain.log"
    log.write_text('2024-03-01T08:00:00Z CP01 cp-to-csms [2,"1","Heartbeat",{}]\n'
                   '2024-03-01T08:00:01Z CP01 csms-to-cp [3,"1",{"currentTime":"2024-03-01T08:00:01Z"}]\n',
                   encoding="utf-8")
    assert main(["check", str(log)]) == 0
    capsys.readouterr()
    assert main(["check", "--input-format", "steve", str(log)]) == 2  # a gate that read nothing did not pass
    err = capsys.readouterr().err
    assert f"{log}: no OCPP traffic could be read (read as steve: 0 event(s)" in err
    assert "2 line(s) not recognised as steve traffic" in err
    header_only = write_capture(tmp_path / "header-only.jsonl", [])
    assert main(["check", "--format", "json", str(header_only)]) == 2
    out, err = capsys.readouterr()
    assert json.loads(out)["inputs"][0]["reading"]["events"] == 0  # the report is still written
    assert "header-only.jsonl: no OCPP traffic could be read (read as capture: 0 event(s)" in err


def test_a_partly_unreadable_input_says_how_much_in_every_report_format(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_capture(tmp_path / "damaged.jsonl", clean_session().events)
    lines = path.read_bytes().splitlines(keepends=True)
    lines.insert(3, b"\x00garbage from a disk\n")
    lines.insert(5, b'{"type":"msg","seq":99,"t":-5,"conn":"c1","dir":"cp-to-csms","text":"[]"}\n')
    path.write_bytes(b"".join(lines))
    assert main(["check", str(path)]) == 0  # the rest was read and is clean
    text = capsys.readouterr().out
    assert "2 line(s) unusable" in text and "2 input line(s) could not be used" in text
    assert f"reading: {path}: line 4 cannot be used and was skipped: not a JSON record" in text
    assert "line 6 cannot be used and was skipped: msg record: time t=-5 is not a plausible" in text
    assert main(["check", "--format", "json", str(path)]) == 0
    document = json.loads(capsys.readouterr().out)
    reading = document["inputs"][0]["reading"]
    assert document["unusable_lines"] == 2 and reading["unusable_lines"] == 2 and len(reading["warnings"]) == 2
    assert reading["format"] == "capture" and reading["lines"] == len(lines)
    report = tmp_path / "report.xml"
    assert main(["check", "--format", "junit", "-o", str(report), str(path)]) == 0
    case = ET.parse(report).getroot().find("testsuite/testcase[@classname='ocppscope.input']")
    assert case is not None
    skipped = case.find("skipped")
    assert skipped is not None and skipped.get("message") == "2 line(s) could not be used"
    assert "line 6 cannot be used" in (case.findtext("system-out") or "")


def add_parser(sub: argparse._SubParsersAction) -> None:
    """A command with a bug, for the test below (registered as a command module while it runs)."""
    sub.add_parser("crash-for-test").set_defaults(func=lambda _args: {}["no such key"])


def test_a_bug_in_ocppscope_exits_3_and_names_the_file_with_the_traceback(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(COMMAND_MODULES, "crash-for-test", __name__)
    assert main(["crash-for-test"]) == 3  # never 1, which CI reads as "findings"
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("ocppscope: internal error (a bug in ocppscope, please report it): KeyError:")
    traceback_file = Path(line.rsplit("traceback in ", 1)[1])
    try:
        assert "Traceback (most recent call last)" in traceback_file.read_text(encoding="utf-8")
        assert "'no such key'" in traceback_file.read_text(encoding="utf-8")
    finally:
        traceback_file.unlink()


def test_a_report_that_cannot_be_written_exits_2(clean: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--format", "json", "-o", str(tmp_path), str(clean)]) == 2
    assert f"{tmp_path}: cannot write the report" in capsys.readouterr().err
