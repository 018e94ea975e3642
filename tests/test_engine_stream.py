"""The relay → analysis-process event stream over a real pipe: order, content, and what happens when the
analysis process falls behind or dies (the relay side never raises, and counts what it could not send)."""

from __future__ import annotations

import asyncio
import fcntl
import os
import threading

import pytest
from ocppscope.proxy.core.events import ConnectionClosed, ConnectionOpened, Direction, Message, Ping
from ocppscope.proxy.engine import stream
from ocppscope.proxy.engine.stream import EventStream, decode_batches

F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)  # Linux


async def _pipe_stream(capacity: int | None = None) -> tuple[EventStream, int, asyncio.WriteTransport]:
    read_fd, write_fd = os.pipe()
    if capacity is not None:
        fcntl.fcntl(write_fd, F_SETPIPE_SZ, capacity)
    loop = asyncio.get_running_loop()
    transport, _ = await loop.connect_write_pipe(asyncio.Protocol, os.fdopen(write_fd, "wb", buffering=0))
    return EventStream(transport), read_fd, transport  # type: ignore[arg-type]


def _read_all(fd: int, into: list[tuple[str, object]]) -> threading.Thread:
    def run() -> None:
        with os.fdopen(fd, "rb", buffering=0) as pipe:
            into.extend(decode_batches(pipe.read))

    thread = threading.Thread(target=run)
    thread.start()
    return thread


async def test_events_arrive_in_order_and_unchanged() -> None:
    events_out, reader_fd, transport = await _pipe_stream()
    received: list[tuple[str, object]] = []
    reader = _read_all(reader_fd, received)
    sent = [ConnectionOpened("c1", 1.0, "127.0.0.1:1", "/CP01", seq=events_out.next_seq())]
    for i in range(2000):  # several batches, and more than a pipe holds at once
        sent.append(Message("c1", 2.0 + i, Direction.FROM_CHARGER if i % 2 else Direction.FROM_BACKEND,
                            b"x" * 300 + str(i).encode(), i % 7 != 0, events_out.next_seq()))
    sent.append(Ping("c1", 3000.0, Direction.FROM_CHARGER, b"p", False, events_out.next_seq()))
    sent.append(ConnectionClosed("c1", 3001.0, 1000, "", "charger", events_out.next_seq()))
    for event in sent[:1000]:
        events_out.publish(event)
    await asyncio.sleep(0.05)  # a few flushes on the clock
    events_out.warn("something every report repeats")
    for event in sent[1000:]:
        events_out.publish(event)
    events_out.finish()
    transport.close()
    await asyncio.sleep(0.05)
    await asyncio.to_thread(reader.join, 10)
    events = [item for kind, item in received if kind == "event"]
    assert events == sent
    assert ("warning", "something every report repeats") in received
    assert events_out.dropped == 0


async def test_a_dead_analysis_process_costs_the_relay_nothing_but_a_count(caplog: pytest.LogCaptureFixture) -> None:
    events_out, reader_fd, transport = await _pipe_stream()
    os.close(reader_fd)  # the analysis process is gone
    for i in range(600):
        events_out.publish(Message("c1", float(i), Direction.FROM_CHARGER, b"[]", True, events_out.next_seq()))
        if i % 100 == 0:
            await asyncio.sleep(0.01)
    events_out.finish()
    transport.close()
    assert events_out.broken is not None
    assert events_out.dropped > 0
    assert "no longer analysed or captured" in caplog.text


async def test_falling_too_far_behind_drops_and_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream, "BACKLOG_LIMIT", 10_000)
    monkeypatch.setattr(stream, "PIPE_HIGH_WATER", 1)
    events_out, reader_fd, transport = await _pipe_stream(4096)  # nobody reads: the pipe fills up, stays full
    for i in range(2000):
        events_out.publish(Message("c1", float(i), Direction.FROM_CHARGER, b"x" * 100, True, events_out.next_seq()))
    events_out.flush()
    assert 0 < events_out.dropped < 2000
    assert events_out.broken is None
    transport.abort()
    os.close(reader_fd)
