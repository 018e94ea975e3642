"""The relay's garbage-collection policy: freeze the connections that live long, and bound what that leaks.

Why: CPython's full (generation 2) collection walks every tracked object. With 1000 chargers connected the
relay holds ~360 mitmproxy objects per connection, and one full collection takes 65–150 ms on our machines:
every frame in flight waits that long, which is the relay's p99. ``gc.freeze()`` moves every tracked object into
a permanent generation that no collection walks (a list splice: cheap), so connections frozen once cost the
collector nothing afterwards. Between bursts the relay leaves nothing behind per frame (measured: not one
collection in 16 s at 2000 frames/s), so the collections that remain walk only what arrived since the last freeze.

The price: a frozen connection that closes leaves ~110 objects in reference cycles (up to ~27 KiB, measured),
which nothing reclaims while they are frozen. :class:`GcPolicy` bounds that:

- it freezes when connections stop arriving (``quiet`` seconds without a new one), and every ``batch`` new
  connections during a long burst, so a collection walks about ``batch`` connections' objects at most;
- it counts the closed connections whose garbage may be frozen (closed after a freeze, or closed before one
  and not yet collected), and once they outnumber ``max(floor, peak)``, ``peak`` being the most connections
  open at once since the last thaw, it unfreezes and runs one full collection (a deliberate pause, as long as
  each of the ones avoided: ~100-300 ms with 1000 connections; once per that many closes), then freezes again.
  Frozen garbage therefore never exceeds ``max(floor, peak)`` closed connections' worth: less than those
  connections took while they were open (~42 KB each), memory the process had at its peak anyway; with few
  connections, ~5 MiB (the default floor). Objects in flight at a freeze that die later (a frame being relayed,
  a half-done handshake) are held too until that thaw; there is at most one freeze per new connection.

:class:`GcPolicy` is pure logic (fed with events and the time, it answers with an :class:`Action`);
:class:`RelayGc` is the mitmproxy addon that feeds it from the connection hooks and a timer on the relay's
loop, applies its actions, and times the collections (``-vv`` logs each action, ``-v`` a summary at the end).
It owns the process's ``gc.freeze``/``gc.unfreeze``: use it where the relay has its process to itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import gc
import logging
import time
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("ocppscope.gc")

TICK_SECONDS = 0.1


class Action(enum.Enum):
    FREEZE = "freeze"
    """Collect the young generations (cheap), then freeze everything left."""
    COLLECT = "collect"
    """Unfreeze, run a full collection, then freeze everything left."""


@dataclass
class GcPolicy:
    """When the relay freezes and when it thaws. Apply :meth:`start` once, feed it :meth:`opened`,
    :meth:`closed` and :meth:`collected`, and apply what :meth:`tick` returns (it counts on that)."""

    quiet: float = 0.5
    """Seconds without a new connection after which the new ones are frozen."""
    batch: int = 100
    """New connections after which they are frozen even if more keep arriving."""
    floor: int = 200
    """Closed connections whose garbage may always wait frozen (a thaw costs a full collection)."""
    open_connections: int = 0
    peak: int = 0
    """The most connections open at once since the last thaw."""
    freezes: int = 0
    collections: int = 0
    _young: set[Hashable] = field(default_factory=set)
    """Open connections opened since the last freeze: not frozen yet."""
    _last_open: float = 0.0
    _unfrozen_garbage: int = 0
    """Closed connections not frozen when they closed, whose cyclic garbage no full collection has reclaimed."""
    _frozen_garbage: int = 0
    """Closed connections whose cyclic garbage may be frozen: unreclaimable until a thaw."""

    @property
    def frozen_garbage(self) -> int:
        return self._frozen_garbage

    def start(self) -> Action:
        """What exists at start-up (modules, mitmproxy's addons) lives as long as the process: freeze it."""
        return self._collect()

    def opened(self, conn: Hashable, now: float) -> None:
        self.open_connections += 1
        self.peak = max(self.peak, self.open_connections)
        self._young.add(conn)
        self._last_open = now

    def closed(self, conn: Hashable) -> None:
        self.open_connections = max(0, self.open_connections - 1)
        if conn in self._young:
            self._young.discard(conn)
            self._unfrozen_garbage += 1
        else:
            self._frozen_garbage += 1

    def collected(self) -> None:
        """A full collection ran (the collector's own): the garbage outside the frozen set is gone.

        (A connection's objects are freed right after its close hook; a collection in between would reset this
        too early, and freezing would then hold them uncounted: rare, as collections are rare once frozen.)
        """
        self._unfrozen_garbage = 0

    def tick(self, now: float) -> Action | None:
        limit = max(self.floor, self.peak)
        if self._frozen_garbage > limit:
            return self._collect()
        if self._young and (len(self._young) >= self.batch or now - self._last_open >= self.quiet):
            if self._frozen_garbage + self._unfrozen_garbage > limit:
                return self._collect()  # freezing would put the bound out of reach until the next thaw
            # Garbage of connections closed but not yet collected is frozen with everything else.
            self._frozen_garbage += self._unfrozen_garbage
            self._unfrozen_garbage = 0
            self._young.clear()
            self.freezes += 1
            return Action.FREEZE
        return None

    def _collect(self) -> Action:
        self.peak = self.open_connections
        self._young.clear()
        self._frozen_garbage = self._unfrozen_garbage = 0
        self.collections += 1
        return Action.COLLECT


@dataclass
class Pauses:
    """The collector's pauses, by generation: how many, the total and the longest (milliseconds)."""

    count: list[int] = field(default_factory=lambda: [0, 0, 0])
    total_ms: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    max_ms: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])

    def add(self, generation: int, ms: float) -> None:
        self.count[generation] += 1
        self.total_ms[generation] += ms
        self.max_ms[generation] = max(self.max_ms[generation], ms)


class RelayGc:
    """mitmproxy addon: applies a :class:`GcPolicy` in the relay's process."""

    name = "ocppscope-gc"

    def __init__(self, policy: GcPolicy | None = None, tick_seconds: float = TICK_SECONDS) -> None:
        self.policy = policy or GcPolicy()
        self.pauses = Pauses()
        """Every pause of the collector in this process, the ones this addon asks for included."""
        self.thawed_unreachable = 0
        """Objects the thaws' full collections found unreachable: the garbage freezing had held."""
        self.tick_seconds = tick_seconds
        self._ticker: asyncio.Task[None] | None = None
        self._started = 0.0

    def running(self) -> None:
        gc.callbacks.append(self._on_gc)
        self._ticker = asyncio.get_running_loop().create_task(self._tick())
        self.apply(self.policy.start())

    async def done(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        with contextlib.suppress(ValueError):
            gc.callbacks.remove(self._on_gc)
        pauses, policy = self.pauses, self.policy
        log.info("relay gc: %d full collections (%.0f ms in all, longest %.1f ms), %d young (longest %.1f ms); "
                 "%d freezes, %d thaws; %d objects frozen", pauses.count[2], pauses.total_ms[2], pauses.max_ms[2],
                 pauses.count[0] + pauses.count[1], max(pauses.max_ms[:2]), policy.freezes, policy.collections,
                 gc.get_freeze_count())

    def client_connected(self, client: Any) -> None:
        self.policy.opened(client.id, time.monotonic())

    def client_disconnected(self, client: Any) -> None:
        self.policy.closed(client.id)

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.tick_seconds)
            self.apply(self.policy.tick(time.monotonic()))

    def apply(self, action: Action | None) -> None:
        if action is None:
            return
        started = time.perf_counter()
        if action is Action.FREEZE:
            found = gc.collect(1)  # young garbage is reclaimable now; frozen, it would wait for a thaw
        else:
            gc.unfreeze()
            found = gc.collect()
            self.thawed_unreachable += found
        gc.freeze()
        log.debug("relay gc: %s in %.1f ms (%d unreachable found; %d objects frozen, %d connections open)",
                  action.value, (time.perf_counter() - started) * 1000, found, gc.get_freeze_count(),
                  self.policy.open_connections)

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        # Called by the collector itself: only counting here.
        if phase == "start":
            self._started = time.perf_counter()
            return
        generation = info["generation"]
        self.pauses.add(generation, (time.perf_counter() - self._started) * 1000)
        if generation == 2:
            self.policy.collected()
