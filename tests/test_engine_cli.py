"""The commands as a field engineer runs them: ``ocppscope proxy``, ``ocppscope ca``, and ``mitmdump -s``.

Each test starts the real command in its own process on loopback, talks to it with real peers and stops it
the way a person does (SIGINT = Ctrl-C).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import resource
import signal
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import engine_support
from tests.engine_support import Backend, connect_direct

ocppscope_home = engine_support.ocppscope_home  # the session's own config directory, as a fixture
pytestmark = [pytest.mark.usefixtures("ocppscope_home"), pytest.mark.timeout(90)]

ROOT = Path(__file__).resolve().parents[1]
LISTENING = re.compile(r"(?:listening on|listening at) (\d+\.\d+\.\d+\.\d+):(\d+)")


@dataclass
class Running:
    process: asyncio.subprocess.Process
    port: int
    stderr: list[str]

    async def stop(self) -> tuple[int, str, str]:
        """Ctrl-C, then everything it printed."""
        self.process.send_signal(signal.SIGINT)
        stdout, rest = await asyncio.wait_for(self.process.communicate(), 20)
        return self.process.returncode or 0, stdout.decode(), "".join(self.stderr) + rest.decode()


@asynccontextmanager
async def command(args: Sequence[str], *, env: dict[str, str] | None = None, limit_file_size: int | None = None,
                  ) -> AsyncIterator[Running]:
    def limit() -> None:  # runs in the child: a file-size limit is a disk that fills up at that size
        if limit_file_size is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_file_size, limit_file_size))

    process = await asyncio.create_subprocess_exec(
        *args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        # Unbuffered: the test reads the banner line by line, and mitmdump prints it to a pipe here.
        env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", **(env or {})}, preexec_fn=limit,
    )
    assert process.stderr is not None and process.stdout is not None
    seen: list[str] = []
    try:
        port = None
        while port is None:
            line = (await asyncio.wait_for(_first_line(process), 20)).decode()
            assert line, "the command ended before it listened:\n" + "".join(seen)
            seen.append(line)
            if match := LISTENING.search(line):
                port = int(match.group(2))
        yield Running(process, port, seen)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def _first_line(process: asyncio.subprocess.Process) -> bytes:
    # The banner goes to stderr for ocppscope and to stdout for mitmdump.
    assert process.stderr is not None and process.stdout is not None
    readers = {asyncio.ensure_future(process.stderr.readline()): "err",
               asyncio.ensure_future(process.stdout.readline()): "out"}
    done, pending = await asyncio.wait(readers, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    return next(iter(done)).result()


def ocppscope(*args: str) -> list[str]:
    return [sys.executable, "-m", "ocppscope", *args]


async def heartbeats(url: str, count: int, **options: object) -> list[str]:
    async with connect_direct(url, subprotocols=["ocpp1.6"], **options) as charger:  # type: ignore[arg-type]
        answers = []
        for i in range(count):
            await charger.send(f'[2,"{i}","Heartbeat",{{}}]')
            answers.append(await charger.recv())
        return answers


async def test_proxy_command_lines_and_summary_on_ctrl_c(tmp_path: Path) -> None:
    async with Backend() as backend, command(ocppscope("proxy", "--upstream", backend.url("/ocpp"),
                                                       "--listen", "127.0.0.1:0", "--capture",
                                                       str(tmp_path))) as proxy:
        answers = await heartbeats(f"ws://127.0.0.1:{proxy.port}/CP01", 2)
        code, stdout, stderr = await proxy.stop()
    assert answers == ['[2,"0","Heartbeat",{}]', '[2,"1","Heartbeat",{}]']
    assert code == 0
    assert f"chargers connect to ws://127.0.0.1:{proxy.port}/CP01" in stderr
    assert (f"ocppscope adds the backend's path /ocpp: a charger given ws://127.0.0.1:{proxy.port}/ocpp/CP01 "
            "would reach /ocpp/ocpp/CP01") in stderr
    assert "CP01 ⇄ connected ocpp1.6" in stdout
    assert re.search(r'CP01 → CALL Heartbeat #0 \[2,"0","Heartbeat",\{\}\]', stdout)
    assert "── ocppscope summary ──" in stdout and "frames 4" in stdout
    assert "rpc.wrong-direction" in stdout  # the echo backend sends CALLs back: explained, not hidden
    assert len(list(tmp_path.glob("CP01_*.jsonl"))) == 1


async def test_proxy_command_json_output() -> None:
    async with Backend() as backend, command(ocppscope("proxy", "--upstream", backend.url(), "--listen",
                                                       "127.0.0.1:0", "--json")) as proxy:
        await heartbeats(f"ws://127.0.0.1:{proxy.port}/CP01", 1)
        code, stdout, _ = await proxy.stop()
    records = [json.loads(line) for line in stdout.splitlines()]
    assert code == 0
    assert [r["type"] for r in records if r["type"] != "finding"] == ["open", "frame", "frame", "close", "summary"]
    assert records[-1]["frames"] == 2 and records[-1]["chargers"] == ["CP01"]


async def test_a_full_disk_stops_the_capture_loudly_and_not_the_relay(tmp_path: Path) -> None:
    big = "x" * 4000
    async with Backend() as backend, command(
        ocppscope("proxy", "--upstream", backend.url(), "--listen", "127.0.0.1:0", "--capture", str(tmp_path),
                  "--quiet"),
        limit_file_size=64 * 1024,
    ) as proxy:
        async with connect_direct(f"ws://127.0.0.1:{proxy.port}/CP01", subprotocols=["ocpp1.6"]) as charger:
            for i in range(40):  # about 320 kB through a capture that can hold 64 kB
                frame = f'[2,"{i}","DataTransfer",{{"vendorId":"x","data":"{big}"}}]'
                await charger.send(frame)
                assert await charger.recv() == frame
        code, stdout, stderr = await proxy.stop()
    assert code == 0
    assert "CAPTURE STOPPED" in stderr
    assert "WARNING: capture stopped" in stdout
    [file] = tmp_path.glob("CP01_*.jsonl")
    assert file.stat().st_size <= 64 * 1024
    assert len(backend.connections[0].received) == 40


def home() -> Path:
    return Path(os.environ["OCPPSCOPE_HOME"])


async def test_sslkeylogfile_is_honoured(tmp_path: Path) -> None:
    keys = tmp_path / "keys.log"
    async with Backend() as backend, command(ocppscope("proxy", "--upstream", backend.url(), "--listen",
                                                       "127.0.0.1:0", "-q"),
                                             env={"SSLKEYLOGFILE": str(keys)}) as proxy:
        context = ssl.create_default_context(cafile=str(home() / "mitmproxy" / "mitmproxy-ca-cert.pem"))
        await heartbeats(f"wss://127.0.0.1:{proxy.port}/CP01", 1, ssl=context)
        await proxy.stop()
    assert "CLIENT_HANDSHAKE_TRAFFIC_SECRET" in keys.read_text() or "CLIENT_RANDOM" in keys.read_text()


async def test_a_busy_port_is_an_error_not_a_crash() -> None:
    async with Backend() as backend:
        busy = backend.port
        process = await asyncio.create_subprocess_exec(
            *ocppscope("proxy", "--upstream", backend.url(), "--listen", f"127.0.0.1:{busy}"),
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(), 20)
    assert process.returncode == 2
    assert f"cannot listen on 127.0.0.1:{busy}" in stderr.decode()
    assert "summary" not in stdout.decode()


def test_a_broken_profile_is_an_error_before_anything_listens() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(ocppscope("proxy", "--upstream", "ws://127.0.0.1:9", "--listen", "127.0.0.1:0",
                                      "--profile", "no-such-profile"),
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "no-such-profile" in result.stderr and "listening on" not in result.stderr


async def test_mitmdump_with_the_ocppscope_addon(tmp_path: Path) -> None:
    mitmdump = str(Path(sys.executable).parent / "mitmdump")
    async with Backend() as backend, command([
        mitmdump, "-s", "addons/ocppscope.py", "--mode", f"reverse:http://127.0.0.1:{backend.port}@127.0.0.1:0",
        "--set", f"confdir={tmp_path / 'conf'}", "--set", f"ocpp_capture_dir={tmp_path / 'captures'}",
        "--set", "ocpp_console=findings", "--set", "connection_strategy=lazy",
    ]) as proxy:
        answers = await heartbeats(f"ws://127.0.0.1:{proxy.port}/CP01", 2)
        code, stdout, stderr = await proxy.stop()
    assert code == 0
    assert answers == ['[2,"0","Heartbeat",{}]', '[2,"1","Heartbeat",{}]']
    assert "rpc.wrong-direction" in stdout + stderr
    assert "── ocppscope summary ──" in stdout + stderr
    [capture] = (tmp_path / "captures").glob("CP01_*.jsonl")
    assert capture.read_text().count('"type":"msg"') == 4


def test_ca_command_prints_the_certificate(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    pem = subprocess.run(ocppscope("ca"), cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=30)
    assert pem.stdout.startswith("-----BEGIN CERTIFICATE-----")
    assert "CN=ocppscope debugging proxy CA" in pem.stderr and "SHA-256" in pem.stderr
    der = tmp_path / "ca.der"
    subprocess.run(ocppscope("ca", "--format", "der", "-o", str(der)), cwd=ROOT, env=env, check=True, timeout=30,
                   capture_output=True)
    assert der.read_bytes()[:1] == b"\x30"  # an ASN.1 SEQUENCE
    where = subprocess.run(ocppscope("ca", "--path"), cwd=ROOT, env=env, capture_output=True, text=True,
                           check=True, timeout=30)
    assert Path(where.stdout.strip()).parent.parent == home()  # never ~/.mitmproxy
