"""The README's own commands work as written: every ``ocppscope …`` line of its code blocks that reads traffic
runs in a shell (globs expanded by the shell as a user's would be), against a copy of the bundled captures/.

The folder the README's proxy command writes (``captures/site``) is a copy of two bundled captures, one file per
connection as the proxy names them; ``before.jsonl`` and ``after.jsonl`` are the clean capture twice; the
backend of ``replay --target`` is the ``ocpp`` package's central system on the port the README names.
"""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import shutil
import socket
import sys
from pathlib import Path

import pytest
from ocppscope.proxy.demo.backend import CentralSystem
from ocppscope.proxy.demo.scenarios import SCENARIOS

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
READING = ("check", "diagnose", "replay", "diff", "import", "export", "endpoint")
"""The commands that read traffic."""

pytestmark = pytest.mark.timeout(240)


def readme_commands() -> list[str]:
    """The ``ocppscope`` lines of the README's shell code blocks that read traffic, comments cut off."""
    lines: list[str] = []
    for block in re.findall(r"^```(?:sh|bash|console)?\n(.*?)^```", README.read_text(encoding="utf-8"), re.M | re.S):
        for raw in block.splitlines():
            line = raw.split(" #", 1)[0].strip()
            words = line.split()
            if len(words) > 1 and words[0].endswith("ocppscope") and words[1] in READING:
                lines.append(line)
    return lines


def test_the_readme_shows_every_reading_command() -> None:
    shown = {line.split()[1] for line in readme_commands()}
    assert {"check", "replay", "diff", "diagnose"} <= shown


def _workspace(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    shutil.copytree(ROOT / "captures", work / "captures")
    site = work / "captures" / "site"
    site.mkdir()
    shutil.copy(ROOT / "captures" / "boot-loop.jsonl", site / "CP-BOOTLOOP-16_20261121T202538Z_c1.jsonl")
    shutil.copy(ROOT / "captures" / "clean-ocpp16.jsonl", site / "CP-CLEAN-16_20261121T202533Z_c1.jsonl")
    shutil.copy(ROOT / "captures" / "clean-ocpp16.jsonl", work / "before.jsonl")
    shutil.copy(ROOT / "captures" / "clean-ocpp16.jsonl", work / "after.jsonl")
    return work


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


async def _run(line: str, cwd: Path, env: dict[str, str]) -> tuple[int, str, str]:
    program = shlex.quote(sys.executable) + " -m ocppscope"
    shell = re.sub(r"^\S*ocppscope\b", program, line)
    process = await asyncio.create_subprocess_shell(shell, cwd=cwd, env=env, stdout=asyncio.subprocess.PIPE,
                                                    stderr=asyncio.subprocess.PIPE, stdin=asyncio.subprocess.DEVNULL)
    stdout, stderr = await asyncio.wait_for(process.communicate(), 120)
    return process.returncode or 0, stdout.decode(), stderr.decode()


async def test_every_readme_command_that_reads_captures_runs_as_written(tmp_path: Path) -> None:
    work = _workspace(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OCPPSCOPE_HOME": str(tmp_path / "home"),
           "CSMS_PASSWORD": "readme-password"}
    lines = readme_commands()
    targets = {int(port) for line in lines for port in re.findall(r"--target ws://127\.0\.0\.1:(\d+)", line)}
    port = next(iter(targets), 0)
    # The README's port when it is free here; else the same command with a port the OS picks.
    async with CentralSystem(SCENARIOS["clean-ocpp16"].backend, port=port if _port_free(port) else 0) as backend:
        for line in lines:
            code, stdout, stderr = await _run(line.replace(f"127.0.0.1:{port}/", f"127.0.0.1:{backend.port}/"),
                                              work, env)
            assert code in (0, 1), f"{line}\nexit {code}\n{stderr}"
            assert "ocppscope: error" not in stderr and "Traceback" not in stderr, f"{line}\n{stderr}"
            assert "cannot open" not in stderr, f"{line}\n{stderr}"
            report = stdout + stderr
            if "-o " in line:
                report += (work / line.split("-o ", 1)[1].split()[0]).read_text(encoding="utf-8")
            assert re.search(r"\d+ frames|connection\(s\)|finding\(s\)|Diagnosis of|<testsuites", report), (
                f"{line}\n{report}")
            if "--write-baseline " in line:
                assert (work / line.split("--write-baseline ", 1)[1].split()[0]).stat().st_size > 0
            if line.split()[1] == "diagnose" and "site" in line:
                assert "CP-BOOTLOOP-16" in stdout and "CP-CLEAN-16" in stdout
