"""Results of ``check`` never depend on ``-j``: frames, findings and report bytes of ``-j 1`` and ``-j 2`` are equal.

A single capture of 32 MB or more takes the parallel path (proxy/check/parallel.py), whose workers route lines
by a byte search when the capture is written the way ocppscope writes it, and by decoding them otherwise. Every
way a capture gets written is tried on a file above that size: as ocppscope writes it, with CRLF line ends, with
Python's ``json.dumps`` defaults (a space after colons and commas, non-ASCII escaped), compact with non-ASCII
escaped, with sorted keys (``jq -S -c``), with blank lines, and appended to by a script in another style.
Pretty-printed (indented) records span lines, which a capture cannot hold (each line is named unusable), so a
capture written that way never takes the parallel path. Open OCPP Trace files and logs are never split: their
parallel path is ``--each`` over several files of 8 MB or more together, tried the same way.

The traffic is what breaks a naive split: chargers that reconnect, connection ids with quotes, backslashes and
non-ASCII letters, an id used again by another charger, a connection with no open record, findings on every
charger, and calls left unanswered when the input ends (their timeouts depend on when the whole input ended).
"""

from __future__ import annotations

import io
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from ocppscope.proxy.capture.writer import CaptureWriter
from ocppscope.proxy.check.parallel import MIN_MANY_BYTES, MIN_PARALLEL_BYTES, worth_many, worth_parallel
from ocppscope.proxy.cli import main
from ocppscope.proxy.core.events import Event, Message

from tests import fuzzing
from tests.traffic import T0, Wire

pytestmark = pytest.mark.timeout(600)

PAD = 5_000
"""Bytes of vendor data in a padding DataTransfer: big lines reach the parallel threshold in few frames."""
PADDING = ["".join(random.Random(n).choices("0123456789abcdef", k=PAD)) for n in range(8)]


def _charger_session(wire: Wire, rnd: random.Random, pads: int) -> None:
    wire.boot()
    wire.cp('[2,"s","StopTransaction",{"transactionId":1,"meterStop":10,"timestamp":"2023-11-14T22:13:21Z",'
            '"reason":"Unplugged"}]')  # schema.violation
    wire.cs('[3,"s",{}]')
    wire.cs('[3,"ghost",{}]')  # rpc.unknown-id
    for n in range(pads):
        data = rnd.choice(PADDING)
        wire.cp(f'[2,"d{n}","DataTransfer",{{"vendorId":"com.example","messageId":"log","data":"{{\\"log\\":\\"{data}\\"}}"}}]',
                after=rnd.choice([0.5, 1.0, 30.0]))
        wire.cs(f'[3,"d{n}",{{"status":"Accepted"}}]')
        if n % 4 == 0:
            wire.cp(f'[2,"h{n}","Heartbeat",{{}}]')
            wire.cs(f'[3,"h{n}",{{"currentTime":"2024-01-01T00:00:00"}}]')  # schema.datetime-no-timezone


def traffic(target_bytes: int) -> list[Event]:
    """Events of many chargers, interleaved by time, with ``target_bytes`` or more of frames."""
    rnd = random.Random(14)
    chargers = [f"CP{n:02}" for n in range(24)] + ['q"uote', "back\\slash", "Zürich-é", "Ä/ß"]
    pads = target_bytes // (PAD * 2 * len(chargers)) + 1
    events: list[Event] = []
    for n, charger in enumerate(chargers):
        for attempt in range(2):  # every charger reconnects: both connections must land in one shard
            conn_id = f"{charger}#{attempt}" if n % 3 else f"c-{n}-{attempt}"
            wire = Wire(charger=charger, conn_id=conn_id, t0=T0 + n * 11 + attempt * 4000)
            _charger_session(wire, rnd, pads)
            if attempt == 0:
                wire.close()
            else:
                wire.cs('[2,"left","TriggerMessage",{"requestedMessage":"StatusNotification"}]')  # unanswered
            events += wire.events[1:] if charger == "CP05" and attempt == 1 else wire.events  # no open record
    # A connection id used again, later, by another charger.
    wire = Wire(charger="CPR", conn_id="CP01#0", t0=T0 + 9000)
    wire.boot("Rejected", interval=60)
    wire.close()
    events += wire.events
    events.sort(key=lambda event: event.time)
    for seq, event in enumerate(events, 1):
        event.seq = seq
    return events


class Written:
    def __init__(self, path: Path, frames: int) -> None:
        self.path = path
        self.frames = frames


@pytest.fixture(scope="module")
def ours(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Written]:
    """A capture above the parallel threshold, as ocppscope writes it, and its frame count."""
    path = tmp_path_factory.mktemp("jobs") / "ours.jsonl"
    events = traffic(MIN_PARALLEL_BYTES + (1 << 20))
    with CaptureWriter(path, salt=b"jobs") as writer:
        for event in events:
            writer.write(event)
    yield Written(path, sum(type(event) is Message for event in events))
    path.unlink()


def _restyled(dump: Callable[[Any], str]) -> Callable[[bytes], bytes]:
    return lambda data: b"".join((dump(json.loads(line)) + "\n").encode() for line in data.splitlines())


def _appended(data: bytes) -> bytes:
    # A script appended the second half of the records in its own style, after the sample the router looks at.
    lines = data.splitlines(keepends=True)
    half = len(lines) // 2
    return b"".join(lines[:half]) + _restyled(json.dumps)(b"".join(lines[half:]))


STYLES: dict[str, Callable[[bytes], bytes]] = {
    "ocppscope": lambda data: data,
    "crlf": lambda data: data.replace(b"\n", b"\r\n"),
    "json.dumps": _restyled(json.dumps),
    "compact-ascii": _restyled(lambda record: json.dumps(record, separators=(",", ":"))),
    "sorted-keys": _restyled(lambda record: json.dumps(record, separators=(",", ":"), sort_keys=True,
                                                       ensure_ascii=False)),
    "blank-lines": lambda data: data.replace(b"}\n{", b"}\n\n{").replace(b"}\n", b"}\n \n", 1) + b"\n\n",
    "appended": _appended,
}


ALL_FORMATS = ("text", "json", "junit")
EVERY_FORMAT_FOR = {"ocppscope", "json.dumps"}
"""Styles whose text and JUnit reports are compared too: the JSON report holds all the others' results, and each
check of 32 MB costs seconds."""


def run_check(jobs: int, paths: list[Path], out: Path, *extra: str,
              formats: tuple[str, ...] = ALL_FORMATS) -> dict[str, bytes | int]:
    """Report formats of one ``check -j jobs``: the exit code and the report bytes of each."""
    results: dict[str, bytes | int] = {}
    for report_format in formats:
        code = main(["check", "-j", str(jobs), "--format", report_format, "-o", str(out), *extra, *map(str, paths)])
        results[report_format] = out.read_bytes()
        results[f"{report_format} exit"] = code
    return results


def assert_same(serial: dict[str, bytes | int], parallel: dict[str, bytes | int], frames: int) -> None:
    document = json.loads(serial["json"])
    assert sum(result["frames"] for result in document["inputs"]) == frames
    assert any(result["findings"] for result in document["inputs"]), "the traffic must give findings to compare"
    for key, value in serial.items():
        assert parallel[key] == value, f"-j 2 differs from -j 1 in {key}"


@pytest.mark.parametrize("style", sorted(STYLES))
def test_a_big_capture_reports_the_same_with_any_jobs(style: str, ours: Written, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / f"{style}.jsonl"
    path.write_bytes(STYLES[style](ours.path.read_bytes()))
    assert worth_parallel(path, 2)
    formats = ALL_FORMATS if style in EVERY_FORMAT_FOR else ("json",)
    serial = run_check(1, [path], tmp_path / "report", formats=formats)
    capsys.readouterr()
    parallel = run_check(2, [path], tmp_path / "report", formats=formats)
    assert "in one process" not in capsys.readouterr().err  # the parallel path ran, no serial fallback
    assert_same(serial, parallel, ours.frames)
    assert serial["json exit"] == 1
    path.unlink()


def test_a_baseline_written_serially_passes_a_parallel_run(ours: Written, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "spaced.jsonl"
    path.write_bytes(STYLES["json.dumps"](ours.path.read_bytes()))
    baseline = tmp_path / "baseline.json"
    assert main(["check", "-j", "1", "--write-baseline", str(baseline), str(path)]) == 0
    assert main(["check", "-j", "2", "--baseline", str(baseline), "--format", "json", str(path)]) == 0
    capsys.readouterr()
    path.unlink()


def _sessions(count: int) -> list[list[fuzzing.Frame]]:
    """Unmutated fuzzing sessions, with padding frames, for the trace and log writers."""
    rnd = random.Random(13)
    sessions = []
    for _ in range(count):
        session = fuzzing.fuzzed_session(rnd, rate=0.0)
        data = "".join(rnd.choices("0123456789abcdef", k=PAD))
        for n in range(40):
            session.append(fuzzing.Frame("cp", f'[2,"pad{n}","DataTransfer",{{"vendorId":"x","data":"{data}"}}]'
                                         .encode(), False))
        sessions.append(session)
    return sessions


@pytest.mark.parametrize("input_format", ["oot", "plain"])
def test_traces_and_logs_checked_each_report_the_same_with_any_jobs(input_format: str, tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    sessions = _sessions(MIN_MANY_BYTES // (PAD * 40) + 2)
    half = len(sessions) // 2
    paths, frames = [], 0
    for number, part in enumerate((sessions[:half], sessions[half:])):
        written = fuzzing.WRITERS[input_format](part, random.Random(number), 0.0)
        path = tmp_path / f"part{number}{fuzzing.SUFFIX[input_format]}"
        path.write_bytes(written.data.replace(b"\n", b"\r\n") if number else written.data)
        paths.append(path)
        frames += written.frames
    assert worth_many(paths, 2)
    serial = run_check(1, paths, tmp_path / "report", "--each")
    parallel = run_check(2, paths, tmp_path / "report", "--each")
    capsys.readouterr()
    assert_same(serial, parallel, frames)


def test_frames_of_an_id_used_again_while_still_open_are_counted(tmp_path: Path) -> None:
    from ocppscope.proxy.check.runner import analyze_events

    never_closed = Wire(charger="CPA", conn_id="x", t0=T0)
    never_closed.boot()
    never_closed.cp('[2,"h","Heartbeat",{}]')
    again = Wire(charger="CPB", conn_id="x", t0=T0 + 100)
    again.boot()
    again.close()
    no_open = Wire(charger="CPC", conn_id="y", t0=T0 + 200, opened=False)
    no_open.cp('[2,"h2","Heartbeat",{}]')
    opened_later = Wire(charger="CPC", conn_id="y", t0=T0 + 300)
    opened_later.boot()
    events = never_closed.events + again.events + no_open.events + opened_later.events
    for seq, event in enumerate(events, 1):
        event.seq = seq
    result = analyze_events(tmp_path / "reused.jsonl", events)
    assert result.frames == sum(type(event) is Message for event in events) == 8


# -- a failed worker, and progress --------------------------------------------------------------------------

def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (from /proc: no helper package needed)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == pid and b"resource_tracker" not in cmdline:
                found.append(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the workers through /proc")
def test_a_worker_killed_by_a_signal_is_an_error_never_a_serial_rerun(ours: Written, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    command = subprocess.Popen([sys.executable, "-m", "ocppscope", "check", "-j", "2", "--format", "json",
                                "-o", str(report), str(ours.path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        workers: list[int] = []
        deadline = time.monotonic() + 120
        while not workers and command.poll() is None and time.monotonic() < deadline:
            workers = _children(command.pid)
            time.sleep(0.02)
        assert workers, "the parallel path started no worker"
        time.sleep(0.3)  # into its share of the work
        os.kill(workers[0], signal.SIGKILL)
        _, err = command.communicate(timeout=300)
    finally:
        if command.poll() is None:
            command.kill()
            command.communicate()
    assert command.returncode == 3, err
    [line] = [line for line in err.splitlines() if line.startswith("ocppscope: internal error")]
    assert "WorkerFailed" in line and "worker process of the parallel check ended abruptly" in line
    assert "in one process" not in err  # no silent serial rerun
    assert not report.exists()


def test_progress_of_a_parallel_check_shows_percent_and_the_end(ours: Written, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--progress", "-j", "2", "--format", "json", "-o", str(tmp_path / "r.json"),
                 str(ours.path)]) == 1
    lines = capsys.readouterr().err.splitlines()
    label = f"{ours.path} (2 processes): "
    assert lines[-1] == f"{label}100% ({ours.frames:,} frames, done in {lines[-1].rpartition(' ')[2]}"
    assert all(re.fullmatch(rf"{re.escape(label)}\d+%(, \d+:\d\d left)?", line) for line in lines[:-1]), lines


def test_progress_lines_say_percent_time_left_and_rate() -> None:
    from ocppscope.proxy.check.progress import Progress

    out = io.StringIO()
    sized = Progress("big.jsonl", out, total=1000, every=0)
    sized.update(done=0)
    sized.update(done=250)
    sized.done(frames=1234)
    unsized = Progress("app.log", out, every=0)
    unsized(5000)
    lines = out.getvalue().splitlines()
    assert lines[0] == "big.jsonl: 0%"
    assert re.fullmatch(r"big\.jsonl: 25%, \d+:\d\d left", lines[1])
    assert re.fullmatch(r"big\.jsonl: 100% \(1,234 frames, done in \d+:\d\d\)", lines[2])
    assert re.fullmatch(r"app\.log: 5,000 frames \([\d,]+/s\)", lines[3])
