"""Progress of the commands that read inputs (serial check, import, export, diagnose): how far the readers have
come in bytes, so percent and time left are known whenever every input is a regular file."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ocppscope.proxy.capture.inputs import Inputs, merged_events
from ocppscope.proxy.check.progress import Progress, counted

ROOT = Path(__file__).resolve().parents[1]
CAPTURES = ROOT / "captures"
pytestmark = pytest.mark.timeout(120)


def test_merged_inputs_tell_how_far_they_are_read(tmp_path: Path) -> None:
    first, second = CAPTURES / "demo-session.jsonl", CAPTURES / "meter-values.jsonl"
    events = merged_events(Inputs.of([first, second]))
    total = events.size()
    assert total == first.stat().st_size + second.stat().st_size
    assert events.bytes_read() == 0
    seen = []
    for _event in events:
        seen.append(events.bytes_read())
    assert seen and 0 < seen[0] <= total
    assert seen == sorted(seen) and events.bytes_read() == total, "the position only grows, to the whole size"


def test_a_pipe_has_no_size_so_no_percent() -> None:
    fifo_less = Inputs.of(["-"])
    assert merged_events(fifo_less).size() is None


def test_progress_fed_by_the_readers_position_says_percent_and_time_left() -> None:
    out = io.StringIO()
    position = iter([100.0, 400.0, 1000.0])
    progress = Progress("site/", out, total=1000, every=0, position=lambda: next(position))
    for _ in counted(range(6), progress, every=2):
        pass
    lines = out.getvalue().splitlines()
    assert re.fullmatch(r"site/: 10%, \d+:\d\d left, 2 frames \([\d,]+/s\)", lines[0]), lines
    assert re.fullmatch(r"site/: 40%, \d+:\d\d left, 4 frames \([\d,]+/s\)", lines[1]), lines
    assert re.fullmatch(r"site/: 100% \(6 frames, done in \d+:\d\d\)", lines[-1]), lines


@pytest.mark.parametrize("command", [
    ["check", "-j", "1", "--fail-on", "never", "--format", "json", "-o", "{out}/report.json"],
    ["diagnose", "-o", "{out}/diagnosis.txt"],
    ["import", "-o", "{out}/imported.jsonl"],
    ["export", "-o", "{out}/trace.json"],
])
def test_every_reading_command_shows_progress_when_asked(command: list[str], tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    for name in ("demo-session.jsonl", "meter-values.jsonl"):
        shutil.copy(CAPTURES / name, site / name)
    args = [part.format(out=tmp_path) for part in command]
    done = subprocess.run([sys.executable, "-m", "ocppscope", *args, "--progress", str(site)], capture_output=True,
                          text=True, timeout=90, check=False)
    assert done.returncode == 0, done.stderr
    assert re.search(r"^.*site: 100% \([\d,]+ frames, done in \d+:\d\d\)$", done.stderr, re.M), done.stderr
    quiet = subprocess.run([sys.executable, "-m", "ocppscope", *args, str(site)], capture_output=True, text=True,
                           timeout=90, check=False)
    assert "100%" not in quiet.stderr, "no progress on a stderr that is no terminal unless asked"
