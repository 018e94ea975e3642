"""Holes in a record: the live proxy's analysis falls behind, the capture says how much is missing, and every
reader reports it instead of counting what is left as if it were whole."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from ocppscope.proxy.capture import read_capture
from ocppscope.proxy.core.analyzer import Analyzer, AnalyzerOptions
from ocppscope.proxy.core.checks import default_checkers
from ocppscope.proxy.core.events import ConnectionOpened, Direction, Gap, Message
from ocppscope.proxy.engine import EngineConfig, ProxyEngine, Route
from ocppscope.proxy.engine.stream import WorkerSpec

from tests import engine_support
from tests.engine_support import Backend, connect_direct, record_only

ocppscope_home = engine_support.ocppscope_home
ROOT = Path(__file__).resolve().parents[1]
CP = Direction.FROM_CHARGER
CS = Direction.FROM_BACKEND


def _opened() -> ConnectionOpened:
    return ConnectionOpened("c1", 100.0, "127.0.0.1:5000", "/ocpp/CP01", (("Sec-WebSocket-Protocol", "ocpp1.6"),),
                            101, (("Sec-WebSocket-Protocol", "ocpp1.6"),), subprotocol="ocpp1.6", seq=1)


def _rules(*events: object, call_timeout: float = 30.0) -> list[str]:
    analyzer = Analyzer(default_checkers(), AnalyzerOptions(call_timeout=call_timeout))
    found = [f.rule for event in events for f in analyzer.feed(event).findings]  # type: ignore[arg-type]
    return found + [f.rule for f in analyzer.finish()]


def test_a_gap_is_a_finding_and_what_it_hides_is_not_blamed_on_the_charger() -> None:
    found = _rules(
        _opened(),
        Message("c1", 101.0, CP, b'[2,"h1","Heartbeat",{}]', seq=2),
        Gap("c1", 140.0, 7, since=102.0, reason="the analysis process was more than 64 MB behind", seq=3),
        Message("c1", 141.0, CP, b'[3,"b9",{"status":"Accepted"}]', seq=4),   # answers a CALL in the gap
        Message("c1", 141.5, CS, b'[3,"h1",{"currentTime":"2024-01-01T00:00:00Z"}]', seq=5),  # a late answer
    )
    assert found.count("capture.gap") == 1
    assert not {"rpc.unknown-id", "rpc.timeout", "rpc.late-response", "rpc.unanswered-at-end"} & set(found)


def test_without_a_gap_the_same_answers_are_reported() -> None:
    found = _rules(
        _opened(),
        Message("c1", 101.0, CP, b'[2,"h1","Heartbeat",{}]', seq=2),
        Message("c1", 141.0, CP, b'[3,"b9",{"status":"Accepted"}]', seq=4),
        Message("c1", 141.5, CS, b'[3,"h1",{"currentTime":"2024-01-01T00:00:00Z"}]', seq=5),
    )
    assert "capture.gap" not in found
    assert {"rpc.unknown-id", "rpc.timeout", "rpc.late-response"} <= set(found)


def test_an_unknown_answer_long_after_the_gap_is_reported_again() -> None:
    found = _rules(
        _opened(),
        Gap("c1", 110.0, 3, seq=2),
        Message("c1", 200.0, CP, b'[3,"zz",{}]', seq=3),
    )
    assert found.count("capture.gap") == 1 and "rpc.unknown-id" in found


def _dropped(engine: ProxyEngine) -> int:
    return getattr(engine.publisher, "dropped", 0)


@pytest.mark.timeout(90)
async def test_a_live_proxy_whose_analysis_falls_behind_records_the_gap(tmp_path: Path) -> None:
    captures = tmp_path / "captures"
    spec = WorkerSpec(console="off", capture_dir=str(captures), backlog_limit=64 * 1024)
    payload = "x" * 4000
    sent = 0
    async with Backend(record_only) as backend:
        config = EngineConfig(routes=[Route.parse("127.0.0.1:0", backend.url("/ocpp"))], analysis=spec)
        async with ProxyEngine(config) as engine:
            [listening] = engine.listening
            pid = engine.analysis_pid
            assert pid is not None
            async with connect_direct(listening.url + "/CP01", subprotocols=["ocpp1.6"]) as charger:
                await asyncio.sleep(0.5)  # the open reaches the analysis before it stops
                os.kill(pid, signal.SIGSTOP)
                try:
                    for _ in range(600):  # bounded: about 2.4 MB, far past the 64 KB backlog
                        await charger.send(f'[2,"{sent}","DataTransfer",{{"vendorId":"x","data":"{payload}"}}]')
                        sent += 1
                        if sent % 50 == 0:
                            await asyncio.sleep(0.02)  # let the relay flush its batches
                        if _dropped(engine) > 100:
                            break
                finally:
                    os.kill(pid, signal.SIGCONT)
                await asyncio.sleep(0.5)
                for _ in range(3):
                    await charger.send(f'[2,"{sent}","Heartbeat",{{}}]')
                    sent += 1
                await asyncio.sleep(0.3)
            dropped = _dropped(engine)
    assert dropped > 0, "the backlog never filled: the test proves nothing"
    assert len(backend.connections[0].received) == sent  # every frame was relayed
    [capture] = captures.glob("CP01_*.jsonl")
    events = list(read_capture(capture))
    gaps = [e for e in events if type(e) is Gap]
    recorded = [e for e in events if type(e) is Message]
    assert gaps and all(g.reason for g in gaps)
    assert len(recorded) + sum(g.frames for g in gaps) == sent
    result = subprocess.run([sys.executable, "-m", "ocppscope", "check", "--format", "json", "--fail-on", "never",
                             str(capture)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    report = json.loads(result.stdout)
    assert "capture.gap" in json.dumps(report), result.stdout[:2000]
