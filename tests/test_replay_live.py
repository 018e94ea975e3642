"""Live replay against real peers on loopback: the ``ocpp`` package's central system (and charge point).

A recorded exchange replays without differences; the same backend answering Rejected, or leaving out a
field, is caught; transaction ids the backend assigns are mapped forward; ``speed`` scales the pauses; a
backend that never answers is reported within a bounded time; ``--as backend`` serves a real charger.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from ocpp.v16 import call as call16
from ocppscope.proxy.capture import read_events
from ocppscope.proxy.cli import main
from ocppscope.proxy.core.events import ConnectionOpened, Direction, Event, Message
from ocppscope.proxy.core.findings import Finding
from ocppscope.proxy.demo.backend import BackendBehaviour, start_central_system
from ocppscope.proxy.demo.chargers import Charger16, charger_connection
from ocppscope.proxy.demo.scenarios import AUTH_PASSWORD, SCENARIOS, clean_ocpp16
from ocppscope.proxy.diff import diff_events
from ocppscope.proxy.diff.compare import DiffOptions
from ocppscope.proxy.replay.backend import BackendReplay
from ocppscope.proxy.replay.charger import ChargerTarget, ReplayError, ReplayRun, replay_chargers
from ocppscope.proxy.replay.plan import build_scripts
from ocppscope.proxy.replay.session import ReplayOptions
from websockets.asyncio.server import ServerConnection, serve

from tests.engine_support import ocppscope_home  # noqa: F401

pytestmark = [pytest.mark.usefixtures("ocppscope_home"), pytest.mark.timeout(60)]

CAPTURES = Path(__file__).resolve().parents[1] / "captures"
CLEAN = CAPTURES / "clean-ocpp16.jsonl"


async def replay(capture: Path, url: str, *, speed: float = float("inf"), answer_timeout: float = 3.0,
                 password: str | None = None) -> tuple[list[Finding], ReplayRun]:
    """Play the charger side of ``capture`` against ``url``; the differences and the run."""
    recorded = list(read_events(capture))
    scripts = build_scripts(recorded, Direction.FROM_CHARGER)
    run = await replay_chargers(scripts, ChargerTarget(url, password),
                                ReplayOptions(speed=speed, answer_timeout=answer_timeout))
    played = set(run.played)
    differences, _ = diff_events(recorded, run.log.events, DiffOptions(answer_timeout=answer_timeout),
                                 keep_recorded=played.__contains__)
    return differences, run


def frames(run: ReplayRun, direction: Direction) -> list[list[Any]]:
    return [json.loads(e.content) for e in run.log.events if isinstance(e, Message) and e.direction is direction]


def sent(run: ReplayRun, action: str) -> list[tuple[float, list[Any]]]:
    return [(e.time, json.loads(e.content)) for e in run.log.events if isinstance(e, Message)
            and e.direction is Direction.FROM_CHARGER and f'"{action}"' in e.content.decode()]


async def test_recorded_exchange_replays_without_differences() -> None:
    async with await start_central_system(SCENARIOS["clean-ocpp16"].backend) as backend:
        differences, run = await replay(CLEAN, backend.url)
    assert differences == []
    assert len(frames(run, Direction.FROM_CHARGER)) == 14  # 13 CALLs and the answer to GetConfiguration
    recorded_ids = {json.loads(e.content)[1] for e in read_events(CLEAN) if isinstance(e, Message)}
    assert not recorded_ids & {frame[1] for frame in frames(run, Direction.FROM_CHARGER)}  # ids renewed
    # The backend's GetConfiguration got the recorded answer, under the backend's own id.
    [get_configuration] = [f for f in frames(run, Direction.FROM_BACKEND) if f[0] == 2]
    [answer] = [f for f in frames(run, Direction.FROM_CHARGER) if f[0] == 3]
    assert answer[1] == get_configuration[1] and answer[2]["configurationKey"][0]["key"] == "HeartbeatInterval"


async def test_backend_answering_rejected_is_caught() -> None:
    behaviour = replace(SCENARIOS["clean-ocpp16"].backend, boot_answers=(("Rejected", 300),))
    async with await start_central_system(behaviour) as backend:
        differences, _ = await replay(CLEAN, backend.url)
    [status] = [d for d in differences if d.rule == "diff.status-changed"]
    assert status.action == "BootNotification" and '"Accepted" → "Rejected"' in status.message
    # A rejected charger is not asked for its configuration.
    assert "diff.backend-call-missing" in [d.rule for d in differences]


async def test_backend_omitting_a_field_is_caught() -> None:
    def no_id_tag_info(payload: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in payload.items() if key != "idTagInfo"}

    behaviour = replace(SCENARIOS["clean-ocpp16"].backend, tamper={"StartTransaction": no_id_tag_info})
    async with await start_central_system(behaviour) as backend:
        differences, _ = await replay(CLEAN, backend.url)
    found = {(d.rule, d.action) for d in differences}
    assert found == {("diff.field-missing", "StartTransaction"), ("diff.new-finding", "StartTransaction")}
    [missing] = [d for d in differences if d.rule == "diff.field-missing"]
    assert missing.evidence["path"] == "idTagInfo"


async def test_transaction_ids_are_mapped_forward() -> None:
    async with await start_central_system(SCENARIOS["clean-ocpp16"].backend) as backend:
        await replay(CLEAN, backend.url)  # the backend hands out transaction 1 here
        differences, run = await replay(CLEAN, backend.url)
    [(_, answer)] = [(t, f) for t, f in [(0.0, f) for f in frames(run, Direction.FROM_BACKEND)]
                     if f[0] == 3 and "transactionId" in f[2]]
    assert answer[2]["transactionId"] == 2  # the recording had 1
    meter_values = [frame[3]["transactionId"] for _, frame in sent(run, "MeterValues")]
    [(_, stop)] = sent(run, "StopTransaction")
    assert meter_values == [2, 2] and stop[3]["transactionId"] == 2
    assert differences == []


def _gap_before_heartbeat(events: list[Event]) -> float:
    """Seconds between the charger's last StatusNotification and its Heartbeat."""
    times = {}
    for event in events:
        if isinstance(event, Message) and event.direction is Direction.FROM_CHARGER:
            text = event.content.decode()
            for action in ("StatusNotification", "Heartbeat"):
                if f'"{action}"' in text:
                    times[action] = event.time
    return times["Heartbeat"] - times["StatusNotification"]


async def test_speed_scales_the_recorded_pauses() -> None:
    recorded_gap = _gap_before_heartbeat(list(read_events(CLEAN)))
    assert recorded_gap > 0.9  # one heartbeat interval of silence
    async with await start_central_system(SCENARIOS["clean-ocpp16"].backend) as backend:
        started = time.monotonic()
        differences, normal = await replay(CLEAN, backend.url, speed=1.0)
        normal_time = time.monotonic() - started
        started = time.monotonic()
        _, fast = await replay(CLEAN, backend.url, speed=4.0)
        fast_time = time.monotonic() - started
    assert differences == []
    assert recorded_gap * 0.9 <= _gap_before_heartbeat(normal.log.events) <= recorded_gap + 0.3
    assert _gap_before_heartbeat(fast.log.events) <= recorded_gap / 4 + 0.15
    assert fast_time < normal_time * 0.6


async def never_answer(ws: ServerConnection) -> None:
    async for _ in ws:
        pass


async def test_backend_that_never_answers_is_reported_in_bounded_time() -> None:
    async with serve(never_answer, "127.0.0.1", 0, subprotocols=["ocpp1.6"]) as server:
        url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/ocpp"
        started = time.monotonic()
        differences, _ = await replay(CLEAN, url, answer_timeout=0.2)
        elapsed = time.monotonic() - started
    calls = 13
    assert elapsed < calls * 0.2 + 2.0
    assert [d.rule for d in differences].count("diff.no-answer") == calls
    assert "diff.backend-call-missing" in [d.rule for d in differences]
    [boot] = [d for d in differences if d.rule == "diff.no-answer" and d.action == "BootNotification"]
    assert "within 0.2 s" in boot.message or "before the connection closed" in boot.message


async def test_password_is_needed_for_redacted_credentials() -> None:
    capture = CAPTURES / "bad-basic-auth.jsonl"
    async with await start_central_system(SCENARIOS["bad-basic-auth"].backend) as backend:
        differences, run = await replay(capture, backend.url, password=AUTH_PASSWORD)
        assert differences == [] and run.skipped_refused == 3
        differences, run = await replay(capture, backend.url)
    [refused] = differences
    assert refused.rule == "diff.handshake-changed" and "--password" in refused.message
    assert run.warnings and "redacted" in run.warnings[0]


async def test_unreachable_target_is_an_error() -> None:
    async with serve(never_answer, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
    with pytest.raises(ReplayError, match="cannot reach"):
        await replay(CLEAN, f"ws://127.0.0.1:{port}/ocpp")


async def test_serving_the_backend_side_to_a_real_charger() -> None:
    recorded = list(read_events(CLEAN))
    scripts = build_scripts(recorded, Direction.FROM_BACKEND)
    async with BackendReplay(scripts, ReplayOptions(answer_timeout=3), connections=1) as served:
        # The scenario's charger waits for the backend's GetConfiguration: the replay must send it.
        await clean_ocpp16(served.url + "/ocpp")
        await served.wait(10)
    run = served.run
    differences, _ = diff_events(recorded, run.log.events, DiffOptions(subject=Direction.FROM_CHARGER),
                                 keep_recorded=set(run.played).__contains__)
    assert differences == []
    boot_answer = next(json.loads(e.content) for e in run.log.events if isinstance(e, Message)
                       and e.direction is Direction.FROM_BACKEND and b'"interval"' in e.content)
    assert boot_answer[2]["interval"] == 1 and boot_answer[2]["status"] == "Accepted"


async def test_served_backend_notices_a_different_charger() -> None:
    scripts = build_scripts(read_events(CLEAN), Direction.FROM_BACKEND)
    async with BackendReplay(scripts, ReplayOptions(answer_timeout=1), connections=1) as served:
        async with charger_connection(served.url + "/ocpp", "CP-OTHER", Charger16) as cp:
            await cp.call(call16.BootNotification(charge_point_vendor="Acme", charge_point_model="AC22"))
            await cp.call(call16.DataTransfer(vendor_id="com.acme"))
        await served.wait(10)
    run = served.run
    differences, _ = diff_events(read_events(CLEAN), run.log.events, DiffOptions(subject=Direction.FROM_CHARGER),
                                 keep_recorded=set(run.played).__contains__)
    rules = [d.rule for d in differences]
    assert "diff.charger-call-new" in rules and "diff.charger-call-missing" in rules
    # DataTransfer was never answered in the recording: the replay said NotImplemented.
    assert run.notes.unanswerable == {"DataTransfer": 1}
    assert any(isinstance(e, ConnectionOpened) and e.path == "/ocpp/CP-OTHER" for e in run.log.events)


@contextmanager
def backend_thread(behaviour: BackendBehaviour) -> Iterator[str]:
    """A central system on its own event loop, for the command line (which runs its own loop)."""
    ready: list[str] = []
    stop = threading.Event()

    async def serve_until_stopped() -> None:
        async with await start_central_system(behaviour) as backend:
            ready.append(backend.url)
            while not stop.is_set():
                await asyncio.sleep(0.02)

    thread = threading.Thread(target=asyncio.run, args=(serve_until_stopped(),), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not ready and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield ready[0]
    finally:
        stop.set()
        thread.join(10)


def test_command_line_replay_records_and_exits_on_differences(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    live = tmp_path / "live.jsonl"
    with backend_thread(SCENARIOS["clean-ocpp16"].backend) as url:
        assert main(["replay", str(CLEAN), "--target", url, "--speed", "max", "--record", str(live)]) == 0
    assert "PASS" in capsys.readouterr().out
    assert main(["diff", str(CLEAN), str(live)]) == 0  # the recording of the live run compares the same
    capsys.readouterr()
    behaviour = replace(SCENARIOS["clean-ocpp16"].backend, heartbeat_interval=60)
    with backend_thread(behaviour) as url:
        code = main(["replay", str(CLEAN), "--target", url, "--speed", "max", "--format", "json"])
    document = json.loads(capsys.readouterr().out)
    assert code == 1
    [difference] = document["inputs"][0]["findings"]
    assert difference["rule"] == "diff.value-changed" and difference["evidence"]["path"] == "interval"


@pytest.mark.parametrize("name", sorted(SCENARIOS))
async def test_every_bundled_capture_replays_against_its_own_backend(name: str) -> None:
    """Odd frames included (pretty-printed, binary, numeric ids, truncated JSON): each goes out as recorded."""
    async with await start_central_system(SCENARIOS[name].backend) as backend:
        started = time.monotonic()
        differences, run = await replay(CAPTURES / f"{name}.jsonl", backend.url, password=AUTH_PASSWORD)
    assert [d.message for d in differences] == []
    assert time.monotonic() - started < 2.0  # no wait for answers the recording never had either
    recorded = [e for e in read_events(CAPTURES / f"{name}.jsonl") if isinstance(e, Message)]
    live = [e for e in run.log.events if isinstance(e, Message)]
    # Per connection: a replay runs a capture's connections side by side, so their interleaving may differ.
    assert _per_connection(live) == _per_connection(recorded)


def _per_connection(messages: list[Message]) -> list[list[tuple[object, bool]]]:
    """(direction, is_text) of each connection's messages, connections in order of their first message."""
    grouped: dict[str, list[tuple[object, bool]]] = {}
    for message in messages:
        grouped.setdefault(message.conn_id, []).append((message.direction, message.is_text))
    return list(grouped.values())
