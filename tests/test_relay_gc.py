"""The relay's garbage-collection policy: its decisions (pure), and a real relay that freezes and thaws.

The live tests run the real engine in this process (the policy owns the process's ``gc.freeze``), so each one
leaves the collector as it found it: nothing frozen.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ocppscope.proxy.engine import open_proxy
from ocppscope.proxy.engine.relaygc import Action, GcPolicy

from tests import engine_support
from tests.engine_support import Backend, connect_direct
from tests.test_engine_cli import command, ocppscope

ocppscope_home = engine_support.ocppscope_home  # the session's own config directory, as a fixture

# -- the policy -----------------------------------------------------------------------------------------------


def started(**settings: Any) -> GcPolicy:
    policy = GcPolicy(**settings)
    assert policy.start() is Action.COLLECT  # what exists at start-up is frozen after one collection
    return policy


def test_a_burst_is_frozen_once_connections_stop_arriving() -> None:
    policy = started(quiet=0.5, batch=100)
    for n in range(10):
        policy.opened(n, 10.0 + n * 0.01)
    assert policy.tick(10.3) is None  # the last one arrived 0.21 s ago: the burst may go on
    assert policy.tick(10.6) is Action.FREEZE
    assert policy.tick(20.0) is None  # nothing new since


def test_nothing_is_frozen_without_new_connections() -> None:
    policy = started(quiet=0.5)
    assert [policy.tick(t) for t in (1.0, 5.0, 100.0)] == [None, None, None]


def test_a_connection_gone_before_the_freeze_triggers_nothing() -> None:
    policy = started(quiet=0.5)
    policy.opened("a", 1.0)
    policy.closed("a")
    assert policy.tick(5.0) is None
    assert policy.freezes == 0


def test_a_long_burst_is_frozen_every_batch() -> None:
    policy = started(quiet=0.5, batch=100)
    actions = []
    for n in range(250):
        policy.opened(n, n * 0.001)  # never quiet
        actions.append(policy.tick(n * 0.001))
    assert actions.count(Action.FREEZE) == 2
    assert actions.index(Action.FREEZE) == 99


def test_frozen_closed_connections_thaw_once_they_outnumber_the_peak() -> None:
    policy = started(quiet=0.5, floor=10)
    for n in range(50):
        policy.opened(n, 0.0)
    assert policy.tick(1.0) is Action.FREEZE
    for n in range(50):  # all of them close: their garbage is frozen, but no more than the peak's worth
        policy.closed(n)
        assert policy.tick(2.0) is None
    for n in range(50, 100):  # a new generation arrives and is frozen
        policy.opened(n, 3.0)
    assert policy.tick(4.0) is Action.FREEZE
    policy.closed(50)  # 51 frozen closed connections > max(floor 10, peak 50)
    assert policy.frozen_garbage == 51
    assert policy.tick(5.0) is Action.COLLECT
    assert (policy.frozen_garbage, policy.peak) == (0, 49)


def test_with_few_connections_the_floor_decides() -> None:
    policy = started(quiet=0.5, floor=20)
    actions = []
    for n in range(21):
        policy.opened(n, float(n))
        assert policy.tick(n + 0.6) is Action.FREEZE
        policy.closed(n)
        actions.append(policy.tick(n + 0.7))
    assert actions == [None] * 20 + [Action.COLLECT]


def test_closed_connections_not_yet_collected_are_counted_when_frozen() -> None:
    def after(shorts: int) -> tuple[Action | None, int]:
        policy = started(quiet=0.5, floor=0)
        for n in range(shorts):  # never frozen, but their garbage may still wait for a full collection
            policy.opened(n, 0.0)
            policy.closed(n)
        policy.opened("long", 0.0)
        return policy.tick(1.0), policy.frozen_garbage

    assert after(1) == (Action.FREEZE, 1)  # frozen with the new one: within max(floor 0, peak 1)
    assert after(2) == (Action.COLLECT, 0)  # freezing would hold 2 > max(floor 0, peak 1): collect instead


def test_a_full_collection_clears_what_was_not_frozen() -> None:
    policy = started(quiet=0.5, floor=0)
    policy.opened("short", 0.0)
    policy.closed("short")
    policy.collected()
    policy.opened("long", 0.0)
    assert policy.tick(1.0) is Action.FREEZE
    assert policy.frozen_garbage == 0


events = st.lists(st.tuples(st.sampled_from(["open", "close", "collected", "tick"]), st.integers(0, 1000),
                            st.sampled_from([0.0, 0.1, 1.0])), max_size=100)


@settings(max_examples=1000, deadline=None)
@given(events, st.integers(0, 3))
def test_frozen_garbage_never_exceeds_the_bound(script: list[tuple[str, int, float]], floor: int) -> None:
    policy = started(quiet=0.5, batch=7, floor=floor)
    now, open_, new = 0.0, [], 0
    for kind, pick, step in script:
        now += step
        if kind == "open":
            new += 1
            open_.append(new)
            policy.opened(new, now)
        elif kind == "close" and open_:
            policy.closed(open_.pop(pick % len(open_)))
        elif kind == "collected":
            policy.collected()
        elif kind == "tick":
            policy.tick(now)
            assert policy.frozen_garbage <= max(floor, policy.peak)
        assert policy.open_connections == len(open_)
        assert policy.peak >= len(open_)


# -- a real relay ---------------------------------------------------------------------------------------------


@pytest.fixture
def unfrozen() -> Iterator[None]:
    """The live tests freeze this process's objects: hand it back with nothing frozen."""
    gc.unfreeze()
    yield
    gc.unfreeze()


def tracked(obj: object) -> bool:
    """Whether the collector walks ``obj`` (gc.get_objects lists every generation but the frozen one)."""
    return any(o is obj for o in gc.get_objects())


async def until(condition: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def charger(url: str) -> Any:
    ws = await connect_direct(url, subprotocols=["ocpp1.6"], ping_interval=None)
    await ws.send('[2,"1","Heartbeat",{}]')
    await ws.recv()
    return ws


@pytest.mark.usefixtures("ocppscope_home", "unfrozen")
@pytest.mark.timeout(60)
async def test_the_relay_freezes_a_burst_of_connections_once_it_is_over() -> None:
    policy = GcPolicy(quiet=1.0, batch=1000, floor=1000)
    async with Backend() as backend, open_proxy(backend.url(), gc_policy=policy, keep_events=False) as proxy:
        relay = proxy.engine.gc
        assert relay is not None
        await until(lambda: policy.collections == 1)  # the start-up collection and freeze
        at_start = gc.get_freeze_count()
        await asyncio.sleep(1.5)
        # No connection, nothing frozen (frozen objects still die of their reference counts: it may shrink).
        assert policy.freezes == 0 and gc.get_freeze_count() <= at_start

        chargers = [await charger(f"{proxy.url}/CP{n}") for n in range(30)]
        flow = list(proxy.engine.inspector.live.values())[-1]
        assert policy.freezes == 0 and tracked(flow)  # just arrived (quiet is 1 s): walked by the collector
        await until(lambda: policy.freezes == 1)
        assert not tracked(flow)
        # The connections' mitmproxy objects (and here the peers' too) went into the frozen set.
        assert gc.get_freeze_count() - at_start > 30 * 100
        for ws in chargers:  # and the relay still relays
            await ws.send('[2,"2","Heartbeat",{}]')
            assert await ws.recv() == '[2,"2","Heartbeat",{}]'
            await ws.close()


@pytest.mark.usefixtures("ocppscope_home", "unfrozen")
@pytest.mark.timeout(60)
async def test_the_relay_thaws_to_reclaim_closed_connections() -> None:
    policy = GcPolicy(quiet=0.2, batch=1000, floor=5)
    async with Backend() as backend, open_proxy(backend.url(), gc_policy=policy, keep_events=False) as proxy:
        relay = proxy.engine.gc
        assert relay is not None
        await until(lambda: policy.collections == 1)
        first = [await charger(f"{proxy.url}/A{n}") for n in range(10)]
        await until(lambda: policy.freezes == 1)
        for ws in first:
            await ws.close()
        await until(lambda: policy.open_connections == 0)
        before = relay.thawed_unreachable
        assert policy.collections == 1  # 10 frozen closed connections: within max(floor 5, peak 10)

        second = [await charger(f"{proxy.url}/B{n}") for n in range(10)]
        await until(lambda: policy.freezes == 2)
        frozen_with_garbage = gc.get_freeze_count()
        await second[0].close()  # the 11th frozen closed connection: over the bound
        await until(lambda: policy.collections == 2)
        # The thaw's collection found the first connections' cycles (~110 objects each in the relay alone).
        assert relay.thawed_unreachable - before > 10 * 50
        assert gc.get_freeze_count() < frozen_with_garbage
        for ws in second[1:]:
            await ws.close()


@pytest.mark.usefixtures("ocppscope_home")
@pytest.mark.timeout(90)
async def test_the_proxy_command_manages_the_relays_collector() -> None:
    async with Backend() as backend, command(ocppscope("-v", "proxy", "--upstream", backend.url(),
                                                       "--listen", "127.0.0.1:0", "-q")) as running:
        chargers = [await charger(f"ws://127.0.0.1:{running.port}/CP{n}") for n in range(5)]
        await asyncio.sleep(1.0)  # quiet: the relay freezes them
        for ws in chargers:
            await ws.close()
        _, _, stderr = await running.stop()
    [summary] = [line for line in stderr.splitlines() if "relay gc:" in line]
    freezes = int(summary.split(" freezes")[0].rsplit(" ", 1)[1])
    assert freezes >= 1, summary
