"""The ``ocpp`` package's own logging, produced for real: its central system and charge point talk over
127.0.0.1 while the central system logs through the standard library (``logging.basicConfig`` formats), and
ocppscope reads that log back."""

from __future__ import annotations

import asyncio
import io
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action, RegistrationStatus
from ocppscope.proxy.capture import ReadReport, detect_format, read_events
from ocppscope.proxy.core.analyzer import Analyzer
from ocppscope.proxy.core.checks import default_checkers
from ocppscope.proxy.core.events import ConnectionOpened, Direction, Message
from ocppscope.proxy.core.findings import Severity

_TIMEOUT = 20.0


class _CentralSystem(ChargePoint):
    @on(Action.boot_notification)
    def on_boot(self, charge_point_vendor: str, charge_point_model: str, **_: object) -> call_result.BootNotification:
        return call_result.BootNotification(current_time=datetime.now(UTC).isoformat(), interval=10,
                                            status=RegistrationStatus.accepted)

    @on(Action.heartbeat)
    def on_heartbeat(self) -> call_result.Heartbeat:
        return call_result.Heartbeat(current_time=datetime.now(UTC).isoformat())


class _Charger(ChargePoint):
    @on(Action.get_configuration)
    def on_get_configuration(self, **_: object) -> call_result.GetConfiguration:
        return call_result.GetConfiguration(configuration_key=[{"key": "HeartbeatInterval", "readonly": False,
                                                                "value": "10"}])


async def _session(log_format: str) -> str:
    """A boot, a heartbeat and a GetConfiguration from the central system, logged by the central system only."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter(log_format))
    central_logger = logging.getLogger("ocpp")
    central_logger.addHandler(handler)
    central_logger.setLevel(logging.DEBUG)
    quiet = logging.getLogger("ocppscope-test.charger")
    quiet.propagate = False
    quiet.addHandler(logging.NullHandler())
    done = asyncio.Event()

    async def serve(ws: websockets.ServerConnection) -> None:
        central = _CentralSystem(ws.request.path.strip("/"), ws)
        task = asyncio.create_task(central.start())
        await done.wait()
        await central.call(call.GetConfiguration(key=["HeartbeatInterval"]))
        task.cancel()

    try:
        async with websockets.serve(serve, "127.0.0.1", 0, subprotocols=["ocpp1.6"]) as server:
            port = server.sockets[0].getsockname()[1]
            async with websockets.connect(f"ws://127.0.0.1:{port}/CP_LIVE", subprotocols=["ocpp1.6"]) as ws:
                charger = _Charger("CP_LIVE", ws, logger=quiet)
                task = asyncio.create_task(charger.start())
                await charger.call(call.BootNotification(charge_point_model="Optimus",
                                                         charge_point_vendor="The Mobility House"))
                await charger.call(call.Heartbeat())
                done.set()
                await asyncio.sleep(0.5)
                task.cancel()
    finally:
        central_logger.removeHandler(handler)
    return out.getvalue()


@pytest.mark.parametrize("log_format", [
    logging.BASIC_FORMAT,  # what logging.basicConfig() prints: INFO:ocpp:CP_LIVE: send [...]
    "%(asctime)s %(levelname)s %(name)s %(message)s",
    "%(asctime)s - %(name)s - %(levelname)s - %(message)s",
])
def test_the_ocpp_packages_own_log_of_a_real_session_is_read_back(tmp_path: Path, log_format: str) -> None:
    text = asyncio.run(asyncio.wait_for(_session(log_format), _TIMEOUT))
    path = tmp_path / "csms.log"
    path.write_text(text, encoding="utf-8")
    assert detect_format(path) == "ocpp-python"
    report = ReadReport(str(path), on_warning=lambda _m: None)
    events = list(read_events(path, report=report, log_timezone="UTC"))
    frames = [e for e in events if isinstance(e, Message)]
    assert report.frames == len(frames) == 6 and report.frames_cut == 0
    assert [f.direction for f in frames] == [Direction.FROM_CHARGER, Direction.FROM_BACKEND] * 2 + [
        Direction.FROM_BACKEND, Direction.FROM_CHARGER]
    opened = next(e for e in events if isinstance(e, ConnectionOpened))
    assert opened.path == "/CP_LIVE"
    analyzer = Analyzer(default_checkers())
    findings = [f for e in events for f in analyzer.feed(e).findings] + analyzer.finish()
    assert [f.rule for f in findings if f.severity >= Severity.WARNING] == []
    assert not [f for f in findings if f.rule.startswith("rpc.")]
