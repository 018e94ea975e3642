"""The relay's events streamed to an analysis process, so analysis and capture cost the relay almost nothing.

The inspector in the relay process numbers each event and appends it to a batch; every few milliseconds (or
every :data:`BATCH_SIZE` events) the batch goes down a pipe as one length-prefixed pickle: one write and one
wake-up of the analysis process per batch, not per frame. The analysis process
(:mod:`proxy.engine.worker`) runs the hub (analyzer, capture, console) on it. The relay never waits for it:
the pipe is written without blocking, and if the analysis process falls more than :data:`BACKLOG_LIMIT` bytes
behind or dies, events are dropped and counted with a loud warning while every frame is still relayed; when it
catches up, a :class:`~proxy.core.events.Gap` per connection tells the analysis and the capture what is missing.

Messages travel as plain tuples (the bulk, and a quarter of the cost of pickling dataclasses); the rare events
as their dataclasses.
"""

from __future__ import annotations

import asyncio
import logging
import pickle
import struct
import time as _time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ocppscope.proxy.core.analyzer import AnalyzerOptions, Checker
from ocppscope.proxy.core.checks import default_checkers
from ocppscope.proxy.core.events import Direction, Event, Gap, Message

log = logging.getLogger("ocppscope.engine")

BACKLOG_LIMIT = 64 * 1024 * 1024
PIPE_HIGH_WATER = 256 * 1024
BATCH_SIZE = 256
FLUSH_DELAY = 0.005
"""Seconds an event may wait for its batch: the console and the capture lag the wire by at most this."""
_LENGTH = struct.Struct("!I")
_MESSAGE, _EVENT, _WARNING = 0, 1, 2


@dataclass(frozen=True)
class WorkerSpec:
    """What the analysis process runs: the analyzer's options and its listeners' settings (all picklable)."""

    analyzer: AnalyzerOptions = field(default_factory=AnalyzerOptions)
    checkers: Callable[[], list[Checker]] = default_checkers
    """Builds the checkers in the analysis process (e.g. the defaults plus charger profiles)."""
    console: str = "lines"
    capture_dir: str | None = None
    capture_split: str = "connection"
    capture_max_size: str = "100m"
    capture_redact: bool = True
    stream: Any = None
    """The live event stream to serve from this process (:class:`proxy.stream.addon.StreamSpec`), or None."""
    backlog_limit: int | None = None
    """Bytes of events the relay holds for this process before it drops them and records the gap (None:
    :data:`BACKLOG_LIMIT`)."""


class EventStream:
    """The inspector's publisher when analysis runs in another process."""

    def __init__(self, pipe: asyncio.WriteTransport, backlog_limit: int | None = None) -> None:
        """``pipe``: the write end of the analysis process's stdin (asyncio's pipe transport); past
        ``backlog_limit`` bytes not yet taken by the pipe, events are dropped (and recorded as a gap)."""
        self._pipe = pipe
        self._batch: list[Any] = []
        # Frames the pipe has not taken yet. Kept here, not in the transport: asyncio's pipe transport shifts its
        # whole buffer after every partial write, which costs the relay more the further the analysis falls behind.
        self._pending: deque[tuple[bytes, int]] = deque()
        self._pending_bytes = 0
        self._seq = 0
        self._flush_scheduled: asyncio.TimerHandle | None = None
        self.dropped = 0
        self.broken: str | None = None
        self.backlog_limit = BACKLOG_LIMIT if backlog_limit is None else backlog_limit
        # Events lost while the analysis was behind, per connection: [count, time of the first]. The next batch
        # that goes down the pipe starts with a Gap for each, so the capture and the analysis know the hole.
        self._lost: dict[str, list[Any]] = {}
        self._lost_reason = ""

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def publish(self, event: Event) -> None:
        if type(event) is Message:
            self._batch.append((_MESSAGE, event.conn_id, event.time, event.direction is Direction.FROM_CHARGER,
                                event.content, event.is_text, event.seq, event.injected))
        else:
            self._batch.append((_EVENT, event))
        self._schedule()

    def warn(self, text: str) -> None:
        log.warning("ocppscope: %s", text)
        self._batch.append((_WARNING, text))
        self._schedule()

    def tick(self, now: float) -> list[Any]:
        return []  # the analysis process keeps its own clock

    def finish(self) -> list[Any]:
        """The end: everything still held goes to the pipe, which writes it out before it closes."""
        self.flush()
        self._pump(everything=True)
        if self.dropped:
            log.error("ocppscope: %d events were relayed but not analysed or captured", self.dropped)
        return []

    def _schedule(self) -> None:
        if len(self._batch) >= BATCH_SIZE:
            self.flush()
        elif self._flush_scheduled is None:
            self._flush_scheduled = asyncio.get_running_loop().call_later(FLUSH_DELAY, self.flush)

    def flush(self) -> None:
        if self._flush_scheduled is not None:
            self._flush_scheduled.cancel()
            self._flush_scheduled = None
        batch, self._batch = self._batch, []
        if self.broken is not None:
            self.dropped += len(batch)
            return
        if batch:
            if self._pending_bytes > self.backlog_limit:
                self._lose(len(batch), f"the analysis process was more than {self.backlog_limit >> 20} MB behind",
                           batch)
            else:
                if self._lost:
                    batch[:0] = self._gaps()
                data = frame(batch)
                self._pending.append((data, len(batch)))
                self._pending_bytes += len(data)
        self._pump()

    def _pump(self, everything: bool = False) -> None:
        try:
            while self._pending and (everything or self._pipe.get_write_buffer_size() < PIPE_HIGH_WATER):
                if self._pipe.is_closing():  # the analysis process closed its end: it has ended
                    raise BrokenPipeError("the pipe to the analysis process is closed")
                data = self._pending[0][0]
                self._pipe.write(data)
                self._pending.popleft()
                self._pending_bytes -= len(data)
        except (OSError, RuntimeError) as exc:
            self.broken = str(exc) or type(exc).__name__
            self._lose(sum(count for _, count in self._pending), f"the analysis process is gone ({self.broken})")
            self._pending.clear()
            return
        if self._pending and self._flush_scheduled is None and not everything:
            self._flush_scheduled = asyncio.get_running_loop().call_later(FLUSH_DELAY, self.flush)

    def _lose(self, count: int, why: str, batch: Sequence[Any] = ()) -> None:
        if not self.dropped:
            log.error("ocppscope: %s: frames are still relayed, but no longer analysed or captured", why)
        self.dropped += count
        self._lost_reason = why
        for item in batch:
            if item[0] == _MESSAGE:
                conn_id, time = item[1], item[2]
            elif item[0] == _EVENT:
                conn_id, time = item[1].conn_id, item[1].time
            else:
                continue
            lost = self._lost.get(conn_id)
            if lost is None:
                self._lost[conn_id] = [1, time]
            else:
                lost[0] += 1

    def _gaps(self) -> list[Any]:
        """One Gap per connection that lost events, to go ahead of the first batch the pipe takes again."""
        now = _time.time()
        gaps = [(_EVENT, Gap(conn_id, now, count, since, self._lost_reason, self.next_seq()))
                for conn_id, (count, since) in self._lost.items()]
        log.warning("ocppscope: the analysis caught up; %d event(s) of %d connection(s) are missing from the "
                    "analysis and the capture, which record the gap", sum(n for n, _ in self._lost.values()),
                    len(self._lost))
        self._lost = {}
        return gaps


def frame(obj: Any) -> bytes:
    """One length-prefixed pickle, as the stream carries it (the spec first, then batches)."""
    payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    return _LENGTH.pack(len(payload)) + payload


def read_frame(read: Callable[[int], bytes]) -> bytes | None:
    """The next frame's payload, or None at the end of input (a frame cut short is the end too)."""
    head = _read_exactly(read, _LENGTH.size)
    return None if head is None else _read_exactly(read, _LENGTH.unpack(head)[0])


def decode_batches(read: Callable[[int], bytes]) -> Iterator[tuple[str, Any]]:
    """The stream's items in order, as ("event", Event) or ("warning", text); ends at end of input."""
    while (body := read_frame(read)) is not None:
        for item in pickle.loads(body):
            kind = item[0]
            if kind == _MESSAGE:
                _, conn_id, time, from_charger, content, is_text, seq, injected = item
                direction = Direction.FROM_CHARGER if from_charger else Direction.FROM_BACKEND
                yield "event", Message(conn_id, time, direction, content, is_text, seq, injected=injected)
            elif kind == _EVENT:
                yield "event", item[1]
            else:
                yield "warning", item[1]


def _read_exactly(read: Callable[[int], bytes], size: int) -> bytes | None:
    chunks, wanted = [], size
    while wanted:
        chunk = read(wanted)
        if not chunk:
            return None
        chunks.append(chunk)
        wanted -= len(chunk)
    return b"".join(chunks)
