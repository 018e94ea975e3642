"""Real OCPP: the ``ocpp`` package's charge points and central systems (proxy/demo) talking through the proxy.

A clean charging run is clean; a run with deliberate faults shows them; and the capture the proxy wrote
replays to exactly the findings the proxy reported live.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from ocppscope.addons.capture import OcppCapture
from ocppscope.proxy.capture import read_capture
from ocppscope.proxy.core.analyzer import Analyzer
from ocppscope.proxy.core.checks import default_checkers
from ocppscope.proxy.core.events import ConnectionOpened, Message
from ocppscope.proxy.core.findings import Severity
from ocppscope.proxy.demo.backend import start_central_system
from ocppscope.proxy.demo.scenarios import SCENARIOS, run_charge_point
from ocppscope.proxy.engine import RunningProxy, open_proxy

from tests import engine_support

ocppscope_home = engine_support.ocppscope_home  # the session's own config directory, as a fixture
pytestmark = [pytest.mark.usefixtures("ocppscope_home"), pytest.mark.timeout(60)]


async def play(name: str, **proxy_options: object) -> RunningProxy:
    scenario = SCENARIOS[name]
    async with await start_central_system(scenario.backend) as backend, open_proxy(
        backend.url, **proxy_options  # type: ignore[arg-type]
    ) as proxy:
        await run_charge_point(proxy.url, scenario)
    return proxy


@pytest.mark.parametrize("name", ["clean-ocpp16", "clean-ocpp201"])
async def test_a_clean_charging_run_is_clean(name: str) -> None:
    proxy = await play(name)
    messages = [e for e in proxy.events if isinstance(e, Message)]
    assert len(messages) >= 20
    assert [f for f in proxy.findings if f.severity >= Severity.WARNING] == []
    [opened] = [e for e in proxy.events if isinstance(e, ConnectionOpened)]
    assert opened.status == 101 and opened.subprotocol in ("ocpp1.6", "ocpp2.0.1")


async def test_refused_credentials_then_a_good_connection() -> None:
    proxy = await play("bad-basic-auth")
    statuses = [e.status for e in proxy.events if isinstance(e, ConnectionOpened)]
    assert statuses == [401, 401, 401, 101]
    found = {f.rule for f in proxy.findings}
    assert {"handshake.http-401", "auth.user-not-identity", "auth.invalid-base64", "lifecycle.reconnect"} <= found


async def test_live_findings_equal_the_replay_of_the_capture(tmp_path: Path) -> None:
    proxy = await play("demo-session", listeners=[OcppCapture(tmp_path)])
    live = sorted((f.rule, f.seq) for f in proxy.findings)
    assert {"schema.violation", "schema.datetime-no-timezone", "rpc.call-error"} <= {rule for rule, _ in live}
    [capture] = tmp_path.glob("DEMO-CP-01_*.jsonl")
    analyzer = Analyzer(default_checkers())
    replayed = [f for event in read_capture(capture) for f in analyzer.feed(event).findings]
    replayed += analyzer.finish()
    assert sorted((f.rule, f.seq) for f in replayed) == live
    frames = [e for e in read_capture(capture) if isinstance(e, Message)]
    assert len(frames) == len([e for e in proxy.events if isinstance(e, Message)])
