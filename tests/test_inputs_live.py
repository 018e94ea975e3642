"""One capture, one analysis: ``check DIR`` of a proxy run's capture folder finds what the live proxy found.

The real ``ocppscope proxy --capture DIR`` runs in its own process between the ``ocpp`` package's central
system and charge points on loopback. The chargers do what makes the cross-connection rules fire: a charger
rebooting six times in a row (reconnects, a burst, boot retries across connections, one TCP drop), and two
connections open at once for one identity. The proxy writes one capture file per connection; ``check DIR``
must merge them into the stream the live analysis saw and report the same findings for every rule that
follows a charger across its connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ocpp.v16 import call as call16
from ocppscope.proxy.demo.backend import BackendBehaviour, CentralSystem
from ocppscope.proxy.demo.chargers import Charger16, charger_connection

from tests import engine_support
from tests.test_engine_cli import command, ocppscope

ocppscope_home = engine_support.ocppscope_home
pytestmark = [pytest.mark.usefixtures("ocppscope_home"), pytest.mark.timeout(120)]

ROOT = Path(__file__).resolve().parents[1]
CROSS_CONNECTION = ("lifecycle.", "boot.")
"""The rules that follow a charger across its connections (proxy/core/checks/lifecycle.py and boot.py)."""
EXPECTED = {"lifecycle.reconnect", "lifecycle.reconnect-burst", "lifecycle.concurrent-connection",
            "lifecycle.abnormal-close", "boot.retry", "boot.retry-too-early"}
BOOT = call16.BootNotification(charge_point_model="AC22", charge_point_vendor="Acme")


async def _reboots(url: str) -> None:
    """CP-STORM boots six times in a row, each refused for 1 s and retried at once; one drop without a close."""
    for attempt in range(6):
        async with charger_connection(url, "CP-STORM", Charger16) as charger:
            await charger.call(BOOT)
            if attempt == 2:
                charger._connection.transport.abort()  # power cut: no close frame, 1006 on the proxy's side
                await asyncio.sleep(0.2)


async def _twins(url: str) -> None:
    """CP-TWIN opens a second connection while its first is still open."""
    async with charger_connection(url, "CP-TWIN", Charger16) as first:
        await first.call(BOOT)
        async with charger_connection(url, "CP-TWIN", Charger16) as second:
            await second.call(call16.Heartbeat())
        await asyncio.sleep(0.1)


def _judged(findings: list[dict[str, Any]]) -> list[tuple[str, str, str, int, str]]:
    return sorted((f["rule"], f["charger"], f["conn"], f["seq"], f["message"]) for f in findings
                  if f["rule"].startswith(CROSS_CONNECTION))


def _check(*args: str) -> dict[str, Any]:
    done = subprocess.run(ocppscope("check", "--format", "json", "--fail-on", "never", *args), cwd=ROOT,
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


async def test_check_of_the_capture_folder_finds_what_the_live_proxy_found(tmp_path: Path) -> None:
    folder = tmp_path / "site"
    behaviour = BackendBehaviour(boot_answers=(("Rejected", 1),) * 4 + (("Accepted", 300),))
    async with CentralSystem(behaviour) as backend, command(ocppscope(
            "proxy", "--upstream", backend.url, "--listen", "127.0.0.1:0", "--capture", str(folder),
            "--format", "json")) as proxy:
        url = f"ws://127.0.0.1:{proxy.port}"
        with contextlib.suppress(Exception):  # the aborted connection's close raises in the charger
            await asyncio.wait_for(_reboots(url), 30)
        await asyncio.wait_for(_twins(url), 30)
        await asyncio.sleep(0.5)  # the proxy records the last close
        proxy.process.send_signal(signal.SIGINT)
        stdout, _ = await asyncio.wait_for(proxy.process.communicate(), 30)
    live = [json.loads(line) for line in stdout.decode().splitlines() if line.startswith("{")]
    live_findings = _judged([record for record in live if record.get("type") == "finding"])
    assert {rule for rule, *_ in live_findings} >= EXPECTED, live_findings

    files = sorted(folder.glob("*.jsonl"))
    assert len(files) == 8  # one file per connection
    report = _check(str(folder))
    [result] = report["inputs"]
    assert result["files"] == [str(file) for file in files]
    assert _judged(result["findings"]) == live_findings

    # Judged file by file (--each), the reconnects, the burst and the boot retries are gone: the test can fail.
    each = _check("--each", str(folder))
    per_file = {rule for part in each["inputs"] for rule, *_ in _judged(part["findings"])}
    assert not per_file & {"lifecycle.reconnect", "lifecycle.reconnect-burst", "boot.retry",
                           "lifecycle.concurrent-connection"}

