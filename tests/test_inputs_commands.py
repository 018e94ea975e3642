"""Every command that reads traffic takes its inputs one way: files, folders, glob patterns, ``-`` and FIFOs.

Each command runs as ``python -m ocppscope …`` in its own process, on real files: a folder holding two bundled
captures, a note that is not traffic and a subfolder; the same captures as a glob pattern the shell left
alone; one capture piped into standard input; and one written into a FIFO by a thread (a command that opened
the FIFO twice would hang there: every wait is bounded).
"""

from __future__ import annotations

import asyncio
import errno
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from ocppscope.proxy.capture import read_capture
from ocppscope.proxy.core.events import Message
from ocppscope.proxy.demo.backend import CentralSystem
from ocppscope.proxy.demo.scenarios import SCENARIOS

ROOT = Path(__file__).resolve().parents[1]
CAPTURES = ROOT / "captures"
CLEAN = CAPTURES / "clean-ocpp16.jsonl"
BOOT_LOOP = CAPTURES / "boot-loop.jsonl"
CLEAN_FRAMES = 28
BOOT_LOOP_FRAMES = 14
COMMAND_SECONDS = 60

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh configuration folder, so the redaction salt is never the user's."""
    monkeypatch.setenv("OCPPSCOPE_HOME", str(tmp_path / "home"))


def ocppscope(*args: str, stdin: bytes | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    return subprocess.run([sys.executable, "-m", "ocppscope", *args], input=stdin.decode() if stdin else None,
                          capture_output=True, text=True, timeout=COMMAND_SECONDS, cwd=cwd, env=env,
                          stdin=None if stdin else subprocess.DEVNULL)


class FifoWriter(threading.Thread):
    """Writes ``data`` into the FIFO at ``path`` once a reader opened it; gives up after ``seconds``."""

    def __init__(self, path: Path, data: bytes, seconds: float = COMMAND_SECONDS) -> None:
        super().__init__(daemon=True)
        os.mkfifo(path)
        self.path, self.data, self.deadline = path, data, time.monotonic() + seconds
        self.written = False

    def run(self) -> None:
        while time.monotonic() < self.deadline:
            try:  # non-blocking: fails (ENXIO) until the command opens its end, so this never hangs
                fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as exc:
                if exc.errno != errno.ENXIO:
                    raise
                time.sleep(0.02)
                continue
            os.set_blocking(fd, True)
            with open(fd, "wb") as fifo:
                fifo.write(self.data)
            self.written = True
            return


@dataclass
class Given:
    """The inputs of one test as a command line gets them."""

    args: list[str]
    frames: int
    """Frames the inputs hold."""
    files: list[str]
    stdin: bytes | None = None
    fifo: FifoWriter | None = None


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "site"
    (folder / "older").mkdir(parents=True)
    shutil.copy(CLEAN, folder / "CP-CLEAN-16_c1.jsonl")
    shutil.copy(BOOT_LOOP, folder / "CP-BOOTLOOP-16_c1.jsonl")
    shutil.copy(CLEAN, folder / "older" / "CP-CLEAN-16_c0.jsonl")
    (folder / "NOTES.txt").write_text("site visit 2026-11-21: charger rebooted twice\n", encoding="utf-8")
    return folder


def given(mode: str, tmp_path: Path) -> Given:
    if mode == "folder":
        folder = _folder(tmp_path)
        return Given([str(folder)], CLEAN_FRAMES + BOOT_LOOP_FRAMES,
                     [str(folder / "CP-BOOTLOOP-16_c1.jsonl"), str(folder / "CP-CLEAN-16_c1.jsonl")])
    if mode == "glob":
        folder = _folder(tmp_path)
        return Given([str(folder / "CP-*.jsonl")], CLEAN_FRAMES + BOOT_LOOP_FRAMES,
                     [str(folder / "CP-BOOTLOOP-16_c1.jsonl"), str(folder / "CP-CLEAN-16_c1.jsonl")])
    if mode == "stdin":
        return Given(["-"], CLEAN_FRAMES, ["-"], stdin=CLEAN.read_bytes())
    fifo = FifoWriter(tmp_path / "capture.fifo", CLEAN.read_bytes())
    return Given([str(fifo.path)], CLEAN_FRAMES, [str(fifo.path)], fifo=fifo)


def run_with(inputs: Given, *args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    if inputs.fifo is not None:
        inputs.fifo.start()
    try:
        return ocppscope(*args, stdin=inputs.stdin, cwd=cwd)
    finally:
        if inputs.fifo is not None:
            inputs.fifo.join(COMMAND_SECONDS)
            assert inputs.fifo.written, "the command never read the FIFO"


MODES = ("folder", "glob", "stdin", "fifo")


def _folder_notes(mode: str, done: subprocess.CompletedProcess[str]) -> None:
    if mode == "folder":
        assert "not read: " in done.stderr and "NOTES.txt: not traffic" in done.stderr
        assert "older: a folder (-r reads the folders inside)" in done.stderr


@pytest.mark.parametrize("mode", MODES)
def test_check(mode: str, tmp_path: Path) -> None:
    inputs = given(mode, tmp_path)
    done = run_with(inputs, "check", "--format", "json", "--fail-on", "never", *inputs.args)
    assert done.returncode == 0, done.stderr
    [result] = json.loads(done.stdout)["inputs"]
    assert result["frames"] == inputs.frames and result["files"] == inputs.files
    _folder_notes(mode, done)


@pytest.mark.parametrize("mode", MODES)
def test_diagnose(mode: str, tmp_path: Path) -> None:
    inputs = given(mode, tmp_path)
    done = run_with(inputs, "diagnose", "--format", "json", *inputs.args)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["inputs"] == inputs.files
    chargers = {charger["charger"]: charger for charger in document["chargers"]}
    expected = {"CP-CLEAN-16", "CP-BOOTLOOP-16"} if len(inputs.files) > 1 else {"CP-CLEAN-16"}
    assert set(chargers) == expected
    frames = sum(conn["frames"] for charger in chargers.values() for conn in charger["connections"])
    assert frames == inputs.frames
    if len(inputs.files) > 1:  # the report names the file of each connection
        assert chargers["CP-BOOTLOOP-16"]["connections"][0]["source"].endswith("CP-BOOTLOOP-16_c1.jsonl")
    _folder_notes(mode, done)


@pytest.mark.parametrize("mode", MODES)
def test_import(mode: str, tmp_path: Path) -> None:
    inputs = given(mode, tmp_path)
    out = tmp_path / "imported.jsonl"
    done = run_with(inputs, "import", *inputs.args, "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert sum(isinstance(event, Message) for event in read_capture(out)) == inputs.frames
    assert f"-> {out}: " in done.stderr
    if len(inputs.files) > 1:
        assert all(f"read {name} (capture)" in done.stderr for name in inputs.files)
    _folder_notes(mode, done)


@pytest.mark.parametrize("mode", MODES)
def test_export(mode: str, tmp_path: Path) -> None:
    inputs = given(mode, tmp_path)
    out = tmp_path / "trace.jsonl"
    done = run_with(inputs, "export", *inputs.args, "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert len(out.read_bytes().splitlines()) == inputs.frames
    _folder_notes(mode, done)


@pytest.mark.parametrize("mode", MODES)
def test_diff_against_the_same_traffic(mode: str, tmp_path: Path) -> None:
    inputs = given(mode, tmp_path)
    reference = str(_folder(tmp_path / "reference")) if len(inputs.files) > 1 else str(CLEAN)
    done = run_with(inputs, "diff", "--format", "json", reference, *inputs.args)
    assert done.returncode == 0, done.stderr + done.stdout
    [result] = json.loads(done.stdout)["inputs"]
    assert result["frames"] == inputs.frames and result["findings"] == []


@pytest.mark.parametrize("mode", MODES)
def test_endpoint_from_captures(mode: str, tmp_path: Path) -> None:
    inputs = given(mode, tmp_path)
    done = run_with(inputs, "endpoint", "--format", "json", "--from", *inputs.args)
    assert done.returncode in (0, 1), done.stderr
    chargers = {result["charger"]: result for result in json.loads(done.stdout)}
    assert "CP-CLEAN-16" in chargers
    assert chargers["CP-CLEAN-16"]["connected_to"].endswith("/ocpp/CP-CLEAN-16")
    assert ("CP-BOOTLOOP-16" in chargers) == (len(inputs.files) > 1)


@pytest.fixture
def central_system() -> Iterator[str]:
    """The ``ocpp`` package's central system, as the clean capture's backend behaved, in a thread of its own."""
    loop = asyncio.new_event_loop()
    started = threading.Event()
    backend = CentralSystem(SCENARIOS["clean-ocpp16"].backend)
    stop = asyncio.Event()

    async def serve() -> None:
        async with backend:
            started.set()
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    assert started.wait(20)
    try:
        yield backend.url
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(20)
        loop.close()


@pytest.mark.parametrize("mode", MODES)
def test_replay_against_a_live_backend(mode: str, tmp_path: Path, central_system: str) -> None:
    inputs = given(mode, tmp_path)
    record = tmp_path / "live.jsonl"
    done = run_with(inputs, "replay", *inputs.args, "--target", central_system, "--speed", "max",
                    "--answer-timeout", "3", "--record", str(record), "--format", "json", "--charger",
                    "CP-CLEAN-16")
    assert done.returncode == 0, done.stderr + done.stdout
    assert "replaying " in done.stderr and "1 charger(s), 1 connection(s)" in done.stderr
    [result] = json.loads(done.stdout)["inputs"]
    assert result["findings"] == []
    played = sum(isinstance(event, Message) for event in read_capture(record))
    assert played == CLEAN_FRAMES


def test_recursive_reads_the_folders_inside(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    done = ocppscope("check", "-r", "--format", "json", "--fail-on", "never", str(folder))
    [result] = json.loads(done.stdout)["inputs"]
    assert result["files"] == sorted(str(path) for path in folder.rglob("*.jsonl"))
    assert result["frames"] == 2 * CLEAN_FRAMES + BOOT_LOOP_FRAMES


def test_standard_input_is_read_once(tmp_path: Path) -> None:
    done = ocppscope("check", "-", "-", stdin=CLEAN.read_bytes())
    assert done.returncode == 2 and "standard input can be read only once" in done.stderr
    done = ocppscope("diff", "-", "-", stdin=CLEAN.read_bytes())
    assert done.returncode == 2 and "standard input can be read only once" in done.stderr


def test_a_folder_without_traffic_says_what_it_holds(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.md").write_text("# notes\n", encoding="utf-8")
    for command in (["check"], ["diagnose"], ["export", "-o", str(tmp_path / "t.jsonl")],
                    ["import", "-o", str(tmp_path / "c.jsonl")], ["endpoint", "--from"]):
        done = ocppscope(*command, str(tmp_path / "empty"))
        assert done.returncode == 2, (command, done.stderr)
        assert "holds no traffic to read" in done.stderr and "readme.md: not traffic" in done.stderr
    assert not (tmp_path / "c.jsonl").exists() and not (tmp_path / "t.jsonl").exists()


LOG = ("2026-11-21 20:25:33,100 CP-LOG-1 -> [2,\"b1\",\"BootNotification\",{\"chargePointVendor\":\"Acme\","
       "\"chargePointModel\":\"AC22\"}]\n"
       "2026-11-21 20:25:33,200 CP-LOG-1 <- [3,\"b1\",{\"status\":\"Accepted\","
       "\"currentTime\":\"2026-11-21T19:25:33Z\",\"interval\":300}]\n")
"""A plain log as a charger's serial console prints it: local times without a zone."""


@pytest.mark.parametrize("command", ["check", "diagnose", "import", "export", "diff", "endpoint"])
def test_log_timezone_on_every_command_that_reads_logs(command: str, tmp_path: Path) -> None:
    log = tmp_path / "charger.log"
    log.write_text(LOG, encoding="utf-8")
    args: dict[str, list[str]] = {
        "check": ["check", str(log)], "diagnose": ["diagnose", str(log)],
        "import": ["import", str(log), "-o", str(tmp_path / "c.jsonl")],
        "export": ["export", str(log), "-o", str(tmp_path / "t.jsonl")],
        "diff": ["diff", str(log), str(log)], "endpoint": ["endpoint", "--from", str(log)],
    }
    done = ocppscope(*args[command], "--log-timezone", "Europe/Berlin")
    assert done.returncode in (0, 1), done.stderr
    assert "they were read as Europe/Berlin" in done.stdout + done.stderr
    wrong = ocppscope(*args[command], "--log-timezone", "Mars/Olympus")
    assert wrong.returncode != 0 and "unknown time zone 'Mars/Olympus'" in wrong.stderr


def test_log_timezone_moves_the_times_read(tmp_path: Path) -> None:
    log = tmp_path / "charger.log"
    log.write_text(LOG, encoding="utf-8")
    times: dict[str, float] = {}
    for zone in ("UTC", "+01:00"):
        out = tmp_path / f"{zone}.jsonl"
        assert ocppscope("import", str(log), "-o", str(out), "--log-timezone", zone).returncode == 0
        times[zone] = next(iter(read_capture(out))).time
    assert times["UTC"] - times["+01:00"] == 3600



def test_the_terminal_ui_gets_logs_read_in_the_zone_given(tmp_path: Path) -> None:
    # The UI opens its files by name: a log read with --log-timezone reaches it as a capture read in that zone.
    from ocppscope.proxy.capture.inputs import Inputs, file_paths

    log = tmp_path / "charger.log"
    log.write_text(LOG, encoding="utf-8")
    times: dict[str, float] = {}
    for zone in ("UTC", "+01:00"):
        with file_paths(Inputs.of([log]), log_timezone=zone) as [path]:
            assert path != str(log)
            times[zone] = next(iter(read_capture(path))).time
        assert not Path(path).exists()
    assert times["UTC"] - times["+01:00"] == 3600
    with file_paths(Inputs.of([log])) as [path]:
        assert path == str(log)  # local time: the UI reads the log itself
