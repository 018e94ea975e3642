"""Each cause of lost connections, made with real peers through the real proxy, is ranked first for its capture.

The chargers and central systems are the ``ocpp`` package's ChargePoint classes (or plain websockets peers
where the fault is below OCPP), talking through :func:`proxy.engine.open_proxy` on loopback. Idle timeouts
and heartbeat intervals are a second or less, so each capture takes a few seconds at most.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ocpp.routing import on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import Action
from ocppscope.proxy.capture import CaptureWriter, read_capture
from ocppscope.proxy.core.events import ConnectionClosed as Closed
from ocppscope.proxy.core.events import ConnectionOpened, Event
from ocppscope.proxy.demo.backend import BackendBehaviour, start_central_system
from ocppscope.proxy.demo.chargers import Charger16, charger_connection
from ocppscope.proxy.demo.clock import now_iso
from ocppscope.proxy.demo.scenarios import SCENARIOS, run_charge_point
from ocppscope.proxy.diagnose import DiagnoseOptions, Diagnosis, diagnose
from ocppscope.proxy.engine import open_proxy
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.engine_support import ocppscope_home  # noqa: F401

pytestmark = [pytest.mark.usefixtures("ocppscope_home"), pytest.mark.timeout(60)]

FAST = DiagnoseOptions(min_idle=0.5)
"""Idle timeouts under a second in these captures; real ones are longer, the default ignores < 1 s."""

Play = Callable[[str], Awaitable[None]]


# -- peers -----------------------------------------------------------------------------------------------------


class Central(ChargePoint16):
    """A 1.6 central system from the ocpp package; subclasses add the fault."""

    interval = 300

    def __init__(self, identity: str, ws: ServerConnection) -> None:
        super().__init__(identity, ws, response_timeout=5)

    @on(Action.boot_notification)
    def on_boot(self, **_: Any) -> result16.BootNotification:
        return result16.BootNotification(current_time=now_iso(), interval=self.interval, status="Accepted")

    @on(Action.heartbeat)
    def on_heartbeat(self, **_: Any) -> result16.Heartbeat:
        return result16.Heartbeat(current_time=now_iso())

    @on(Action.status_notification)
    def on_status(self, **_: Any) -> result16.StatusNotification:
        return result16.StatusNotification()


@contextlib.asynccontextmanager
async def backend(handler: Callable[[ServerConnection], Awaitable[None]]) -> AsyncIterator[str]:
    """A websockets server on loopback speaking ocpp1.6; yields its ws://host:port."""
    async with serve(handler, "127.0.0.1", 0, subprotocols=["ocpp1.6"], ping_interval=None) as server:
        yield f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}"


def central(cls: type[Central]) -> Callable[[ServerConnection], Awaitable[None]]:
    async def handler(ws: ServerConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            await cls(ws.request.path.rsplit("/", 1)[-1] if ws.request else "?", ws).start()
    return handler


async def record(upstream: str, play: Play) -> list[Event]:
    """Run ``play(proxy_url)`` through the real proxy; the proxy's events once every connection closed."""
    async with open_proxy(upstream) as proxy:
        async with asyncio.timeout(20):
            await play(proxy.url)
        for _ in range(100):  # the proxy reports a close a moment after the peers see it
            opened = sum(1 for e in proxy.events if isinstance(e, ConnectionOpened) and e.status == 101)
            if sum(1 for e in proxy.events if isinstance(e, Closed)) >= opened:
                break
            await asyncio.sleep(0.05)
    return list(proxy.events)


async def record_with_central(play: Play, behaviour: BackendBehaviour | None = None) -> list[Event]:
    """``play`` through the proxy in front of the demo central system (an ``ocpp`` package backend)."""
    async with await start_central_system(behaviour) as central_system:
        return await record(f"ws://{central_system.host}:{central_system.port}", play)


def scenario(name: str) -> tuple[Play, BackendBehaviour]:
    """A bundled demo scenario's charger (through the proxy's URL) and backend."""
    chosen = SCENARIOS[name]
    return (lambda proxy: run_charge_point(proxy + "/ocpp", chosen)), chosen.backend


def ranked(events: list[Event], options: DiagnoseOptions = FAST) -> Diagnosis:
    """The diagnosis of ``events`` as a capture holds them: written (redacted) and read back."""
    buffer = io.BytesIO()
    with CaptureWriter(buffer, salt=b"diagnose tests") as writer:
        for event in events:
            writer.write(event)
    buffer.seek(0)
    diagnosis = diagnose(read_capture(buffer), options)
    assert len(diagnosis.chargers) == 1
    return diagnosis


def kinds(diagnosis: Diagnosis) -> list[str]:
    return [cause.kind for cause in diagnosis.chargers[0].causes]


async def boot(cp: Charger16) -> Any:
    return await cp.call(call16.BootNotification(charge_point_vendor="Acme", charge_point_model="AC22"))


async def status(cp: Charger16, connector: int = 0, timestamp: str | None = None, **options: Any) -> Any:
    return await cp.call(call16.StatusNotification(connector_id=connector, error_code="NoError",
                                                   status="Available", timestamp=timestamp or now_iso()), **options)


# -- idle timeout ------------------------------------------------------------------------------------------------


class DeadlineCentral(Central):
    """Gives HeartbeatInterval 1 s, and drops TCP after 0.9 s without a message: a read deadline equal to the
    heartbeat interval (minus the few ms a real deadline loses to the heartbeat in flight)."""

    interval = 1
    deadline = 0.9

    async def start(self) -> None:
        while True:
            try:
                message = await asyncio.wait_for(self._connection.recv(), self.deadline)
            except TimeoutError:
                await self.expire()
                return
            await self.route_message(message)

    async def expire(self) -> None:
        self._connection.transport.abort()


async def heartbeating_charger(url: str, connections: int = 3) -> None:
    """Boots, then sends a Heartbeat every interval; reconnects (without booting again) when dropped."""
    interval = 1
    for attempt in range(connections):
        with contextlib.suppress(ConnectionClosed):
            async with charger_connection(url, "CP-IDLE", Charger16) as cp:
                if attempt == 0:
                    interval = (await boot(cp)).interval
                for _ in range(5):
                    await asyncio.sleep(interval)
                    await cp.call(call16.Heartbeat())


async def test_idle_timeout_equal_to_the_heartbeat_interval() -> None:
    async with backend(central(DeadlineCentral)) as url:
        events = await record(url, lambda proxy: heartbeating_charger(proxy + "/ocpp"))
    diagnosis = ranked(events)
    cause = diagnosis.chargers[0].causes[0]
    assert cause.kind == "idle-timeout"
    assert cause.facts["closes"] == 3 and 0.8 <= cause.facts["idle"] <= 1.0
    assert cause.facts["heartbeat_interval"] == 1
    assert "read deadline equal to the heartbeat interval" in cause.explanation
    assert any("HeartbeatInterval" in item for item in cause.change)
    assert all(ref.seq is not None for ref in cause.evidence)
    # The backend dropped TCP: the proxy saw 1006 and told the charger 1000; the idle timeout explains it all.
    assert [(c.code, c.relayed_code) for c in diagnosis.chargers[0].connections] == [(1006, 1000)] * 3
    assert kinds(diagnosis) == ["idle-timeout"]


async def test_single_short_idle_close_is_no_idle_timeout() -> None:
    async with backend(central(DeadlineCentral)) as url:
        events = await record(url, lambda proxy: heartbeating_charger(proxy + "/ocpp", connections=1))
    assert "idle-timeout" not in kinds(ranked(events))


# -- reconnect storm ---------------------------------------------------------------------------------------------


async def close_at_once(ws: ServerConnection) -> None:
    await asyncio.sleep(0.05)
    await ws.close(1013, "try again later")


async def eager_charger(url: str) -> None:
    """Reconnects at once whenever the backend closes, six times."""
    for _ in range(6):
        async with connect(url + "/ocpp/CP-STORM", subprotocols=["ocpp1.6"], proxy=None) as ws:
            with contextlib.suppress(ConnectionClosed):
                await ws.recv()


async def test_reconnect_storm_with_its_period() -> None:
    async with backend(close_at_once) as url:
        events = await record(url, eager_charger)
    diagnosis = ranked(events)
    cause = diagnosis.chargers[0].causes[0]
    assert cause.kind == "reconnect-storm"
    assert cause.facts["handshakes"] == 6 and cause.facts["period"] < 1.0
    assert "1013" in cause.explanation
    assert "close-1013" in kinds(diagnosis)  # the storm is a symptom: the close code stays as a cause


# -- two connections for one identity -------------------------------------------------------------------------


async def twins(url: str) -> None:
    async with charger_connection(url + "/ocpp", "CP-TWIN", Charger16) as first:
        await boot(first)
        async with charger_connection(url + "/ocpp", "CP-TWIN", Charger16) as second:
            await boot(second)
            await status(second)


async def test_concurrent_connections_for_one_identity() -> None:
    events = await record_with_central(twins)
    cause = ranked(events).chargers[0].causes[0]
    assert cause.kind == "concurrent-connections"
    assert cause.facts["times"] == 1
    assert len({ref.conn_id for ref in cause.evidence}) == 2


# -- refused handshakes ------------------------------------------------------------------------------------------


async def test_refused_credentials_then_success() -> None:
    events = await record_with_central(*scenario("bad-basic-auth"))
    cause = ranked(events).chargers[0].causes[0]
    assert cause.kind == "handshake-failures"
    assert cause.facts["statuses"] == ["401", "401", "401"] and cause.facts["succeeded_at_last"]
    assert any(change.startswith("credentials") for change in cause.facts["changed"])
    assert "A1B2C3D4" not in json.dumps(cause.facts) + cause.explanation  # never the password


async def subprotocol_fallback(url: str) -> None:
    """Offers only ocpp2.1 (refused with 400), then ocpp1.6."""
    with contextlib.suppress(InvalidStatus):
        async with charger_connection(url + "/ocpp", "CP-PROTO", Charger16, subprotocols=("ocpp2.1",)):
            pass
    async with charger_connection(url + "/ocpp", "CP-PROTO", Charger16) as cp:
        await boot(cp)


async def test_refused_subprotocol_and_what_changed() -> None:
    events = await record_with_central(subprotocol_fallback)
    cause = ranked(events).chargers[0].causes[0]
    assert cause.kind == "handshake-failures"
    assert cause.facts["statuses"] == ["400"]
    assert cause.facts["changed"] == ["subprotocols ocpp2.1 → ocpp1.6"]


# -- boot loops -----------------------------------------------------------------------------------------------------


async def test_boot_pending_and_rejected() -> None:
    events = await record_with_central(*scenario("boot-loop"))
    cause = ranked(events).chargers[0].causes[0]
    assert cause.kind == "boot-loop"
    assert cause.facts["statuses"] == ["Pending", "Rejected", "Rejected", "Accepted"]


# One retry after no answer is no boot loop: tests/test_diagnose_loops.py.


# -- closes after unanswered CALLs, CALLERROR bursts, concurrent CALLs ------------------------------------------


async def give_up_and_reconnect(url: str) -> None:
    """The charger's StatusNotification is not answered: it closes, reconnects and goes on."""
    with contextlib.suppress(TimeoutError):
        async with charger_connection(url + "/ocpp", "CP-GIVEUP", Charger16, response_timeout=0.5) as cp:
            await boot(cp)
            await status(cp)
    async with charger_connection(url + "/ocpp", "CP-GIVEUP", Charger16) as cp:
        await cp.call(call16.Heartbeat())


async def test_close_after_unanswered_call() -> None:
    behaviour = BackendBehaviour(never_answer=frozenset({"StatusNotification"}))
    events = await record_with_central(give_up_and_reconnect, behaviour)
    cause = ranked(events).chargers[0].causes[0]
    assert cause.kind == "unanswered-call"
    assert cause.facts == {"connections": 1, "actions": ["StatusNotification"]}
    assert any("backend must answer" in item for item in cause.change)


class StrictCentral(Central):
    """Closes the connection (1002) after answering three CALLs with CALLERRORs, like ocpp-rpc's maxBadMessages."""

    errors = 0

    async def _send(self, message: str) -> None:
        await super()._send(message)
        if message.startswith("[4,"):
            self.errors += 1
            if self.errors >= 3:
                await self._connection.close(1002, "too many bad messages")


async def sloppy_charger(url: str) -> None:
    with contextlib.suppress(ConnectionClosed):
        async with charger_connection(url + "/ocpp", "CP-SLOPPY", Charger16) as cp:
            await boot(cp)
            for connector in range(4):  # errorCode left out: the backend refuses each with a CALLERROR
                await cp.call(call16.StatusNotification(connector_id=connector, error_code=None,  # type: ignore[arg-type]
                                                        status="Available"), skip_schema_validation=True)


async def test_close_after_a_burst_of_call_errors() -> None:
    async with backend(central(StrictCentral)) as url:
        events = await record(url, sloppy_charger)
    diagnosis = ranked(events)
    cause = diagnosis.chargers[0].causes[0]
    assert cause.kind == "errors-before-close"
    assert cause.facts["errors"] == 3
    assert diagnosis.chargers[0].connections[0].code == 1002
    assert "close-1002" not in kinds(diagnosis)  # the burst explains that close: no bare close-code cause


async def two_calls_at_once(ws: ServerConnection) -> None:
    """After the boot, sends GetConfiguration and TriggerMessage without waiting between them."""
    cp = Central(ws.request.path.rsplit("/", 1)[-1] if ws.request else "?", ws)
    runner = asyncio.create_task(cp.start())
    await asyncio.sleep(0.2)
    for action, payload in (("GetConfiguration", {}), ("TriggerMessage", {"requestedMessage": "Heartbeat"})):
        await ws.send(json.dumps([2, str(uuid.uuid4()), action, payload]))
    with contextlib.suppress(ConnectionClosed):
        await runner


async def single_threaded_charger(url: str) -> None:
    """Firmware that handles one CALL at a time: a second one while busy makes it fail and close (1011)."""
    async with connect(url + "/ocpp/CP-BUSY", subprotocols=["ocpp1.6"], proxy=None) as ws:
        await ws.send(json.dumps([2, "b1", "BootNotification", {"chargePointVendor": "Acme",
                                                                "chargePointModel": "AC22"}]))
        await ws.recv()
        first = json.loads(await ws.recv())
        await ws.recv()  # the second CALL arrives while the first is being handled
        await ws.send(json.dumps([3, first[1], {"configurationKey": []}]))
        await ws.close(1011, "busy")


async def test_close_after_concurrent_calls() -> None:
    async with backend(two_calls_at_once) as url:
        events = await record(url, single_threaded_charger)
    diagnosis = ranked(events)
    cause = diagnosis.chargers[0].causes[0]
    assert cause.kind == "concurrent-calls"
    assert cause.facts["sender"] == "backend"
    assert "TriggerMessage" in cause.explanation and "GetConfiguration" in cause.explanation
    assert "unanswered-call" not in kinds(diagnosis)  # the same story, told once


# -- heartbeats and clocks --------------------------------------------------------------------------------------------


class WatchdogCentral(DeadlineCentral):
    """Gives HeartbeatInterval 1 s and closes a charger that stays silent for 2.5 s."""

    deadline = 2.5

    async def expire(self) -> None:
        await self._connection.close(1000, "no heartbeat")


async def forgetful_charger(url: str) -> None:
    """Boots, then never sends a Heartbeat."""
    async with charger_connection(url + "/ocpp", "CP-QUIET", Charger16) as cp:
        await boot(cp)
        async with asyncio.timeout(5):
            await cp._connection.wait_closed()


async def test_heartbeats_missing_against_the_interval() -> None:
    async with backend(central(WatchdogCentral)) as url:
        events = await record(url, forgetful_charger)
    diagnosis = ranked(events)
    cause = diagnosis.chargers[0].causes[0]
    assert cause.kind == "missing-heartbeats"
    assert cause.facts["interval"] == 1 and cause.facts["silent_closes"] == 1
    assert "idle-timeout" not in kinds(diagnosis)  # one close is no cluster


async def jumping_clock(url: str) -> None:
    """Status reports whose timestamps jump an hour ahead and stay there, then the charger reboots."""
    async with charger_connection(url + "/ocpp", "CP-CLOCK", Charger16) as cp:
        await boot(cp)
        for connector in (0, 1):
            await status(cp, connector)
        ahead = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        for connector in (0, 1):
            await status(cp, connector, timestamp=ahead)


async def test_clock_jump_in_charger_timestamps() -> None:
    events = await record_with_central(jumping_clock)
    cause = ranked(events).chargers[0].causes[0]
    assert cause.kind == "clock-jump"
    assert 3500 < cause.facts["first"] < 3700 and not cause.facts["synced"]


async def test_clean_session_has_no_cause() -> None:
    events = await record_with_central(*scenario("clean-ocpp16"))
    diagnosis = ranked(events, DiagnoseOptions())
    assert kinds(diagnosis) == []
    [conn] = diagnosis.chargers[0].connections
    assert conn.closed_by == "charger" and conn.code == 1000 and conn.heartbeat_interval == 1
