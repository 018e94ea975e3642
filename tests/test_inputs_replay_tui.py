"""``ocppscope replay`` (the terminal UI) takes its inputs as every command does: a folder, a glob pattern,
standard input (the keys then come from the terminal, as with ``less``) and a FIFO, in a real tmux terminal.

Needs tmux (CI installs it; skipped with the reason otherwise).
"""

from __future__ import annotations

import shlex
import shutil
import sys
from pathlib import Path

import pytest

from tests.engine_support import ocppscope_home  # noqa: F401
from tests.test_inputs_commands import CAPTURES, FifoWriter, _folder
from tests.test_tui_tmux import Tmux

pytestmark = [
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (apt-get install tmux)"),
    pytest.mark.usefixtures("ocppscope_home"),
    pytest.mark.timeout(90),
]
ROOT = Path(__file__).resolve().parents[1]
DEMO = CAPTURES / "demo-session.jsonl"
IN_ROOT = f"cd {shlex.quote(str(ROOT))} && export TERM=xterm-256color && "
REPLAY = f"{shlex.quote(sys.executable)} -m ocppscope replay"


async def _replay(name: str, command: str, *expected: str) -> None:
    tmux = Tmux(f"inputs-{name}")
    try:
        tmux.start(IN_ROOT + command, 110, 30)
        await tmux.wait_for(*expected, "all shown")
        tmux.keys("q")
        await tmux.wait_closed()
        assert not tmux.alive()
    finally:
        tmux.kill()


async def test_replay_a_folder(tmp_path: Path) -> None:
    folder = _folder(tmp_path)  # two captures, a note and a subfolder
    await _replay("folder", f"{REPLAY} {shlex.quote(str(folder))}",
                  "replay CP-BOOTLOOP-16_c1.jsonl (+1)", "StartTransaction", "BootNotification")


async def test_replay_a_glob_pattern(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    await _replay("glob", f"{REPLAY} {shlex.quote(str(folder / 'CP-CLEAN*'))}",
                  "replay CP-CLEAN-16_c1.jsonl", "StartTransaction")


async def test_replay_standard_input() -> None:
    await _replay("stdin", f"cat {shlex.quote(str(DEMO))} | {REPLAY} -", "replay stdin", "35 rows")


async def test_replay_a_fifo(tmp_path: Path) -> None:
    writer = FifoWriter(tmp_path / "demo.fifo", DEMO.read_bytes())
    writer.start()
    await _replay("fifo", f"{REPLAY} {shlex.quote(str(writer.path))}", "replay demo.fifo", "35 rows")
    writer.join(30)
    assert writer.written
