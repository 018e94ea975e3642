"""What one side of a capture did, as a script to play again (pure: events in, scripts out).

For the replayed side (the charger with ``--as charger``, the backend with ``--as backend``) each connection
becomes a list of :class:`Step` (its CALLs and other frames, each with the timing facts it needs: when it was
sent after the connection opened, whether it waited for the answer to the previous CALL and how long after
it, how many of the other side's CALLs came before it), the recorded :class:`Reply` to each action the other
side asked for, and how the connection ended. The analyzer pairs the recorded frames, so a script pairs
answers exactly as ``ocppscope check`` does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from ocppscope.proxy.core.analyzer import Analyzer
from ocppscope.proxy.core.events import (
    AuthSummary,
    ConnectionClosed,
    ConnectionOpened,
    Direction,
    Event,
    Message,
    header,
)
from ocppscope.proxy.core.protocol import MessageType


@dataclass(slots=True)
class Step:
    """A frame the replayed side sends."""

    seq: int
    offset: float
    """Seconds after the connection opened."""
    content: bytes
    is_text: bool
    kind: Literal["call", "send", "raw"]
    action: str | None = None
    message_id: str | None = None
    payload: Any = None
    waits_for: int | None = None
    """Index (in the steps) of the CALL whose answer had arrived when this step was sent."""
    think: float = 0.0
    """Seconds between that answer and this step."""
    peer_calls_before: int = 0
    """How many CALLs of the other side had arrived when this step was sent."""
    since_peer_call: float = 0.0
    answer: Any = None
    """The payload that answered this CALL in the recording (to learn the values the other side assigns)."""
    answered: bool = False
    """Whether the recording has an answer to this CALL at all."""


@dataclass(slots=True)
class Reply:
    """The replayed side's recorded answer to one CALL of the other side."""

    action: str
    content: bytes
    is_text: bool
    message_id: str
    payload: Any
    message_type: int


@dataclass(slots=True)
class PeerCall:
    """A CALL of the other side, as recorded (to learn the values it assigned)."""

    seq: int
    offset: float
    action: str
    payload: Any


@dataclass(slots=True)
class Ending:
    offset: float
    closed_by: str
    code: int | None
    reason: str


@dataclass(slots=True)
class ConnectionScript:
    conn_id: str
    charger: str | None
    opened: ConnectionOpened
    steps: list[Step] = field(default_factory=list)
    replies: dict[str, list[Reply]] = field(default_factory=dict)
    peer_calls: list[PeerCall] = field(default_factory=list)
    ending: Ending | None = None
    last_offset: float = 0.0
    """Offset of the last recorded event of the connection."""

    @property
    def path(self) -> str:
        return self.opened.path

    @property
    def offered(self) -> list[str]:
        value = header(self.opened.request_headers, "Sec-WebSocket-Protocol") or ""
        return [token.strip() for token in value.split(",") if token.strip()]

    @property
    def auth(self) -> AuthSummary | None:
        return self.opened.auth

    @property
    def succeeded(self) -> bool:
        return self.opened.status == 101


@dataclass(slots=True)
class ChargerScript:
    charger: str | None
    connections: list[ConnectionScript] = field(default_factory=list)

    def replies_for(self, action: str) -> list[Reply]:
        """Every recorded reply to ``action`` on any connection: the fallback for a connection without one."""
        return [reply for conn in self.connections for reply in conn.replies.get(action, ())]


def build_scripts(events: Iterable[Event], me: Direction) -> list[ChargerScript]:
    """The scripts of side ``me`` per charger, connections in the order they opened (refused ones included)."""
    analyzer = Analyzer([])
    scripts: dict[str | None, ChargerScript] = {}
    live: dict[str, _Builder] = {}
    for event in events:
        inspection = analyzer.feed(event)
        kind = type(event)
        if kind is ConnectionOpened:
            charger = inspection.conn.charger
            script = ConnectionScript(event.conn_id, charger, event)  # type: ignore[arg-type]
            scripts.setdefault(charger, ChargerScript(charger)).connections.append(script)
            if event.status == 101:  # type: ignore[union-attr]
                live[event.conn_id] = _Builder(script, me)
            continue
        builder = live.get(event.conn_id)
        if builder is None:
            continue  # a connection whose opening the capture does not have
        if kind is Message:
            if event.injected:  # type: ignore[union-attr]
                continue  # ocppscope's own CALL (or its held-back answer), not the charger's or the backend's
            builder.message(event, inspection.frame, inspection.call)  # type: ignore[arg-type]
        elif kind is ConnectionClosed:
            builder.closed(event)  # type: ignore[arg-type]
            del live[event.conn_id]
    return list(scripts.values())


class _Builder:
    def __init__(self, script: ConnectionScript, me: Direction) -> None:
        self.script = script
        self.me = me
        self.start = script.opened.time
        self.by_seq: dict[int, int] = {}
        """Recorded seq of my CALLs → index in the steps."""
        self.answered_at: dict[int, float] = {}
        self.last_call: int | None = None

    def message(self, event: Message, frame: Any, call: Any) -> None:
        script = self.script
        offset = max(0.0, event.time - self.start)
        script.last_offset = offset
        message_type = frame.message_type if frame is not None else None
        if event.direction is not self.me:
            if message_type is MessageType.CALL and frame.action is not None:
                script.peer_calls.append(PeerCall(event.seq, offset, frame.action, frame.payload))
            elif call is not None and call.seq in self.by_seq:
                index = self.by_seq[call.seq]
                self.answered_at[index] = offset
                script.steps[index].answer = frame.payload
                script.steps[index].answered = True
            return
        if call is not None and call.action is not None and message_type in (MessageType.CALLRESULT,
                                                                             MessageType.CALLERROR):
            script.replies.setdefault(call.action, []).append(
                Reply(call.action, event.content, event.is_text, call.message_id, frame.payload, int(message_type)))
            return
        step = Step(event.seq, offset, event.content, event.is_text, "raw")
        if message_type in (MessageType.CALL, MessageType.SEND) and frame.action is not None:
            step.kind = "call" if message_type is MessageType.CALL else "send"
            step.action, step.message_id, step.payload = frame.action, frame.message_id, frame.payload
        if self.last_call is not None and self.last_call in self.answered_at:
            step.waits_for = self.last_call
            step.think = offset - self.answered_at[self.last_call]
        if script.peer_calls:
            step.peer_calls_before = len(script.peer_calls)
            step.since_peer_call = offset - script.peer_calls[-1].offset
        index = len(script.steps)
        script.steps.append(step)
        if step.kind == "call":
            self.by_seq[event.seq] = index
            self.last_call = index

    def closed(self, event: ConnectionClosed) -> None:
        offset = max(0.0, event.time - self.start)
        self.script.ending = Ending(offset, event.closed_by, event.code, event.reason)
        self.script.last_offset = offset
