"""One live connection played from a :class:`~proxy.replay.plan.ConnectionScript`, whichever side we play.

Once the WebSocket is open, playing the charger and playing the backend are the same job: send the script's
steps at the recorded pace, answer the other side's CALLs with the recorded replies, learn the values it
assigns, end the connection as the recording did, and log every frame as a core event.

Pace: a step goes out ``offset / speed`` seconds after the connection opened, but never before the answer to
the CALL it waited for in the recording (plus the recorded think time, scaled) or before the other side's
CALL it followed. Every wait is bounded by ``answer_timeout``: a peer that never answers or never asks
delays the script by that much, once per step, and the comparison reports it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import Counter
from dataclasses import dataclass, field

from ocppscope.proxy.core.events import Direction
from ocppscope.proxy.core.frames import Frame, decode
from ocppscope.proxy.core.protocol import MessageType
from ocppscope.proxy.replay.livelog import LiveLog
from ocppscope.proxy.replay.plan import ChargerScript, ConnectionScript, Step
from ocppscope.proxy.replay.values import ValueMap
from ocppscope.proxy.replay.wire import call_error, new_message_id, renew, shift_times
from websockets.asyncio.connection import Connection
from websockets.exceptions import ConnectionClosed

log = logging.getLogger("ocppscope.replay")

# Close codes that never travel in a close frame (RFC 6455 §7.4.1): a replay ends such a connection with 1000.
_LOCAL_ONLY_CODES = frozenset({1005, 1006, 1015})


@dataclass(frozen=True)
class ReplayOptions:
    speed: float = 1.0
    """Recorded pace divided by this; ``math.inf`` sends as fast as the other side answers."""
    answer_timeout: float = 10.0
    """Seconds to wait for an answer (or for a CALL the recording had the other side send) before going on."""
    wait_for_peer_close: bool = True
    """When the recording's other side closed: wait (bounded) for it to close, else close ourselves."""
    shift_times: bool = True
    """Move the date-times in what we send by the time since the recording, keeping their spacing."""


@dataclass
class SessionNotes:
    """What a person should know about the replay besides the differences."""

    unanswerable: Counter[str] = field(default_factory=Counter)
    """Actions the other side asked for that the recording never answered: answered NotImplemented."""


class Session:
    """Plays ``script`` on the open WebSocket ``ws`` as side ``me``, logging every frame as ``conn_id``."""

    def __init__(self, ws: Connection, script: ConnectionScript, charger: ChargerScript, me: Direction,
                 conn_id: str, options: ReplayOptions, log_: LiveLog, values: ValueMap, notes: SessionNotes) -> None:
        self.ws = ws
        self.script = script
        self.charger = charger
        self.me = me
        self.peer = me.reverse
        self.conn_id = conn_id
        self.options = options
        self.log = log_
        self.values = values
        self.notes = notes
        self.start = time.monotonic()
        self.time_shift = time.time() - script.opened.time if options.shift_times else 0.0
        self.answers: dict[int, asyncio.Future[float | None]] = {}
        self.sent_at: dict[int, float] = {}
        self.pending: dict[str, int] = {}
        self.peer_calls: list[float] = []
        self.peer_seen = asyncio.Condition()
        self.peer_missing: float = math.inf
        """The number of the first CALL of the other side that did not come when expected."""
        self.replies_sent: Counter[str] = Counter()
        self.peer_actions: Counter[str] = Counter()
        self.closing = False
        self.close_sent: tuple[int, str] = (1000, "")
        self.gone = asyncio.Event()

    def _scaled(self, seconds: float) -> float:
        return seconds / self.options.speed if math.isfinite(self.options.speed) else 0.0

    def _at(self, offset: float) -> float:
        """The monotonic time at which something recorded ``offset`` s into the connection is due."""
        return self.start + self._scaled(offset)

    async def run(self) -> None:
        receiver = asyncio.create_task(self._receive())
        try:
            await self._play()
            await self._end()
        except ConnectionClosed:
            pass
        finally:
            if not self.gone.is_set() and not self.closing:
                await self.close(1000, "")
            await asyncio.wait({receiver}, timeout=self.options.answer_timeout + 5)
            receiver.cancel()
            await asyncio.gather(receiver, return_exceptions=True)
            await self.ws.wait_closed()
            self._log_close()

    # -- sending ---------------------------------------------------------------------------------------------

    async def _play(self) -> None:
        for index, step in enumerate(self.script.steps):
            if self.gone.is_set():
                return
            due = self._at(step.offset)
            if step.waits_for is not None:
                answered = await self._answer_of(step.waits_for)
                if answered is not None:
                    due = max(due, answered + self._scaled(step.think))
            if step.peer_calls_before:
                arrived = await self._peer_call(step.peer_calls_before, max(due, time.monotonic()))
                if arrived is not None:
                    due = max(due, arrived + self._scaled(step.since_peer_call))
            if await self._sleep_until(due):
                return
            await self._send_step(index, step)
        for index in list(self.answers):
            if self.script.steps[index].answered:  # waiting for what never came in the recording proves nothing
                await self._answer_of(index)

    async def _sleep_until(self, due: float) -> bool:
        """Wait until ``due``; True when the connection went away meanwhile."""
        delay = due - time.monotonic()
        if delay > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.gone.wait(), delay)
        return self.gone.is_set()

    async def _send_step(self, index: int, step: Step) -> None:
        new_id = step.message_id
        if step.kind != "raw" and isinstance(step.message_id, str):
            new_id = new_message_id()
        message_type = MessageType.CALL if step.kind == "call" else MessageType.SEND
        content, is_text = (step.content, step.is_text) if step.kind == "raw" else renew(
            step.content, step.is_text, int(message_type), step.message_id, new_id, step.action, step.payload,
            self.values)
        if step.kind == "call" and new_id is not None:
            self.pending[new_id] = index
            self.answers[index] = asyncio.get_running_loop().create_future()
            self.sent_at[index] = time.monotonic()
        await self._send(content, is_text)

    async def _send(self, content: bytes, is_text: bool, recorded: bool = True) -> None:
        if recorded:
            content = shift_times(content, self.time_shift)
        self.log.message(self.conn_id, self.me, content, is_text)
        await self.ws.send(content.decode("utf-8") if is_text else content)

    async def _answer_of(self, index: int) -> float | None:
        """When the answer to step ``index`` arrived; None if it did not within the answer timeout."""
        future = self.answers.get(index)
        if future is None:
            return None
        remaining = self.sent_at[index] + self.options.answer_timeout - time.monotonic()
        try:
            return await asyncio.wait_for(asyncio.shield(future), max(0.0, remaining))
        except TimeoutError:
            return None

    async def _peer_call(self, count: int, due: float) -> float | None:
        """When the other side's ``count``-th CALL arrived, waiting until ``due`` + the answer timeout.

        Once one CALL failed to come, later steps do not wait for it again.
        """
        if len(self.peer_calls) < count and count >= self.peer_missing:
            return None
        deadline = due + self.options.answer_timeout - time.monotonic()
        try:
            async with asyncio.timeout(max(0.0, deadline)), self.peer_seen:
                await self.peer_seen.wait_for(lambda: len(self.peer_calls) >= count or self.gone.is_set())
        except TimeoutError:
            self.peer_missing = min(self.peer_missing, len(self.peer_calls) + 1)
            return None
        return self.peer_calls[count - 1] if len(self.peer_calls) >= count else None

    # -- receiving ---------------------------------------------------------------------------------------------

    async def _receive(self) -> None:
        try:
            async for message in self.ws:
                is_text = isinstance(message, str)
                content = message.encode("utf-8") if isinstance(message, str) else bytes(message)
                self.log.message(self.conn_id, self.peer, content, is_text)
                await self._handle(decode(content, is_text))
        except ConnectionClosed:
            pass
        finally:
            self.gone.set()
            for future in self.answers.values():
                if not future.done():
                    future.set_result(None)
            async with self.peer_seen:
                self.peer_seen.notify_all()

    async def _handle(self, frame: Frame) -> None:
        kind = frame.message_type
        if kind is MessageType.CALL and frame.action is not None:
            self._learn_from_peer_call(frame)
            async with self.peer_seen:
                self.peer_calls.append(time.monotonic())
                self.peer_seen.notify_all()
            await self._reply(frame)
        elif kind in (MessageType.CALLRESULT, MessageType.CALLERROR) and frame.message_id in self.pending:
            index = self.pending.pop(frame.message_id)  # type: ignore[arg-type]
            future = self.answers[index]
            if not future.done():
                future.set_result(time.monotonic())
            step = self.script.steps[index]
            if kind is MessageType.CALLRESULT and step.answer is not None:
                self.values.learn(step.answer, frame.payload, step.action)

    def _learn_from_peer_call(self, frame: Frame) -> None:
        action = frame.action or ""
        nth = self.peer_actions[action]
        self.peer_actions[action] += 1
        recorded = [call for call in self.script.peer_calls if call.action == action]
        if nth < len(recorded):
            self.values.learn(recorded[nth].payload, frame.payload, action)

    async def _reply(self, frame: Frame) -> None:
        action = frame.action or ""
        message_id = frame.message_id or ""
        replies = self.script.replies.get(action) or self.charger.replies_for(action)
        if not replies:
            self.notes.unanswerable[action] += 1
            await self._send(call_error(message_id, "NotImplemented",
                                        f"ocppscope replay: the recording never answered {action}"), True, False)
            return
        reply = replies[min(self.replies_sent[action], len(replies) - 1)]
        self.replies_sent[action] += 1
        content, is_text = renew(reply.content, reply.is_text, reply.message_type, reply.message_id, message_id,
                                 None, reply.payload, self.values)
        await self._send(content, is_text)

    # -- the end -----------------------------------------------------------------------------------------------

    async def _end(self) -> None:
        ending = self.script.ending
        steps = self.script.steps
        end = ending.offset if ending else self.script.last_offset
        due = self._at(end)
        if steps:
            # However late the last step went out, the recorded silence after it is kept.
            due = max(due, time.monotonic() + self._scaled(max(0.0, end - steps[-1].offset)))
        if ending is not None and ending.closed_by == self.peer.sender:
            if not self.options.wait_for_peer_close:
                await self.gone.wait()
                return
            due += self.options.answer_timeout
        elif ending is None and not self.options.wait_for_peer_close:
            await self.gone.wait()
            return
        if await self._sleep_until(due):
            return
        mine = ending is not None and ending.closed_by == self.me.sender
        code = ending.code if mine and ending is not None else 1000
        if code is None or code in _LOCAL_ONLY_CODES:
            code = 1000
        await self.close(code, ending.reason if mine and ending is not None else "")

    async def close(self, code: int, reason: str) -> None:
        self.closing = True
        self.close_sent = (code, reason)
        await self.ws.close(code, reason)

    def _log_close(self) -> None:
        if self.closing:
            code, reason = self.close_sent
            self.log.closed(self.conn_id, code, reason, self.me.sender)  # type: ignore[arg-type]
        else:
            self.log.closed(self.conn_id, self.ws.close_code, self.ws.close_reason or "",
                            self.peer.sender)  # type: ignore[arg-type]
