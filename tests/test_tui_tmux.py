"""The real thing, as a person sees it: `ocppscope proxy --tui` in a tmux terminal, a real central system
behind it and a real charge point in front, the screen read back with capture-pane.

Needs tmux (CI installs it; skipped with the reason otherwise).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from ocpp.v16 import call
from ocppscope.proxy.demo.backend import start_central_system
from ocppscope.proxy.demo.chargers import Charger16, charger_connection

from tests.engine_support import ocppscope_home  # noqa: F401

pytestmark = [
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (apt-get install tmux)"),
    pytest.mark.usefixtures("ocppscope_home"),
    pytest.mark.timeout(90),
]
ROOT = Path(__file__).resolve().parents[1]


class Tmux:
    """One tmux server of our own (its own socket), so nothing else in tmux is touched."""

    def __init__(self, name: str) -> None:
        self.socket = f"ocppscope-test-{os.getpid()}-{name}"

    def run(self, *args: str) -> str:
        result = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=10,
                                check=False)
        return result.stdout

    def start(self, command: str, width: int = 120, height: int = 35) -> None:
        self.run("new-session", "-d", "-s", "ui", "-x", str(width), "-y", str(height), command)

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "ui")

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", "ui", *keys)

    def alive(self) -> bool:
        return bool(self.run("list-sessions").strip())

    def kill(self) -> None:
        self.run("kill-server")

    async def wait_closed(self, timeout: float = 10.0) -> None:
        """Wait (bounded) for the program in the session to exit; the caller asserts ``not alive()``."""
        for _ in range(int(timeout / 0.2)):
            if not self.alive():
                return
            await asyncio.sleep(0.2)

    async def wait_for(self, *texts: str, timeout: float = 30.0) -> str:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            screen = self.screen()
            if all(text in screen for text in texts):
                return screen
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"never saw {texts!r} on the screen:\n{screen}")
            await asyncio.sleep(0.2)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_proxy_tui_in_a_real_terminal_with_a_real_charge_point() -> None:
    home = os.environ["OCPPSCOPE_HOME"]
    central = await start_central_system()
    port = free_port()
    tmux = Tmux("proxy")
    command = (f"cd {ROOT} && OCPPSCOPE_HOME={home} TERM=xterm-256color {sys.executable} -m ocppscope proxy "
               f"--upstream {central.url} --listen 127.0.0.1:{port} --tui; echo UI-EXITED $?; sleep 30")
    try:
        tmux.start(command)
        screen = await tmux.wait_for("live", "│ connected")
        assert screen.splitlines()[0].strip().startswith(f"live proxy 127.0.0.1:{port} → {central.url}")
        async with charger_connection(f"ws://127.0.0.1:{port}/ocpp", "CP-TMUX", Charger16) as charger:
            await charger.call(call.BootNotification(charge_point_vendor="VendorX", charge_point_model="M1"))
            await charger.call(call.Heartbeat())
            screen = await tmux.wait_for("CALL   BootNotification", "RESULT BootNotification", "RESULT Heartbeat")
            assert "CP-TMUX" in screen
            tmux.keys("2")
            screen = await tmux.wait_for("CP-TMUX", " connected ", "ocpp1.6")
            tmux.keys("q")  # asks first: the proxy keeps relaying
            await tmux.wait_for("q again stops the proxy")
            await charger.call(call.Heartbeat())
            tmux.keys("q")
            closed = await asyncio.wait_for(charger._connection.wait_closed(), 20)  # type: ignore[attr-defined]
            assert closed is None
            assert charger._connection.close_code == 1001, "the relay closed the charger cleanly when the UI quit"  # type: ignore[attr-defined]
        # The UI exited, and the relay's summary was printed after it, as without --tui.
        screen = await tmux.wait_for("UI-EXITED 0", "── ocppscope summary ──", "chargers 1")
        assert screen.index("── ocppscope summary ──") < screen.index("UI-EXITED 0")
        # Shutdown noise (a stream client's handler left pending) once pushed the summary off the screen.
        assert "Task was destroyed" not in screen and "Traceback" not in screen, screen
    finally:
        tmux.kill()
        await central.stop()


async def test_replay_command_in_a_real_terminal() -> None:
    capture = ROOT / "captures" / "demo-session.jsonl"
    tmux = Tmux("replay")
    try:
        tmux.start(f"cd {ROOT} && TERM=xterm-256color {sys.executable} -m ocppscope replay {capture}", 100, 30)
        # The status line may trail the rows by a tick: it waits for a repaint put off under a fast stream.
        screen = await tmux.wait_for("replay demo-session.jsonl", "StartTransaction", "all shown", "E1", "35 rows")
        assert "35 rows" in screen.splitlines()[0]
        tmux.keys("3")
        await tmux.wait_for("ERROR", "×")
        tmux.keys("1", "space", ",", ",")
        await tmux.wait_for("paused", "33/35")
        tmux.keys("q")
        await tmux.wait_closed()
        assert not tmux.alive()
    finally:
        tmux.kill()


async def test_tui_attach_to_a_proxy_serving_its_stream() -> None:
    home = os.environ["OCPPSCOPE_HOME"]
    central = await start_central_system()
    port, stream = free_port(), free_port()
    token = "attach-token-0123456789"
    env = {**os.environ, "OCPPSCOPE_STREAM_TOKEN": token, "OCPPSCOPE_HOME": home,
           "PYTHONPATH": str(ROOT)}
    proxy = subprocess.Popen([sys.executable, "-m", "ocppscope", "proxy", "--upstream", central.url, "--listen",
                              f"127.0.0.1:{port}", "-q", "--stream", f"127.0.0.1:{stream}"], cwd=ROOT, env=env,
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    tmux = Tmux("attach")
    try:
        tmux.start(f"cd {ROOT} && OCPPSCOPE_STREAM_TOKEN={token} TERM=xterm-256color {sys.executable} -m ocppscope tui "
                   f"--attach 127.0.0.1:{stream}")
        await tmux.wait_for("│ connected")
        async with charger_connection(f"ws://127.0.0.1:{port}/ocpp", "CP-AT", Charger16) as charger:
            await charger.call(call.BootNotification(charge_point_vendor="VendorX", charge_point_model="M1"))
            await tmux.wait_for("CP-AT", "RESULT BootNotification")
        tmux.keys("q")
        await tmux.wait_closed()
        assert not tmux.alive()
        assert proxy.poll() is None, "quitting an attached UI leaves the proxy running"
    finally:
        tmux.kill()
        proxy.terminate()
        proxy.wait(20)
        await central.stop()
