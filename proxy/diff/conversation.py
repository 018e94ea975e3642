"""A capture (or a live session) as a conversation: per connection, each side's CALLs with their answers.

The analyzer pairs the frames and runs the rules, so the comparison sees exactly what ``ocppscope check``
sees: the same pairing, the same schema and profile findings. The whole conversation is held in memory;
diffs run on CI-sized captures, not on month-long recordings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from ocppscope.proxy.core.analyzer import Analyzer, AnalyzerOptions, Checker
from ocppscope.proxy.core.checks import default_checkers
from ocppscope.proxy.core.events import ConnectionClosed, ConnectionOpened, Direction, Event, Message
from ocppscope.proxy.core.findings import Finding
from ocppscope.proxy.core.protocol import MessageType


@dataclass(slots=True)
class Answer:
    kind: Literal["result", "error"]
    payload: Any
    seq: int
    time: float
    latency: float
    error_code: str | None = None
    error_description: str | None = None


@dataclass(slots=True)
class Call:
    """A CALL (or 2.1 SEND) and what answered it."""

    seq: int
    time: float
    direction: Direction
    action: str
    payload: Any
    message_id: str | None
    answer: Answer | None = None


@dataclass(slots=True)
class Side:
    """What one side sent on one connection."""

    calls: list[Call] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    """Findings about frames this side sent."""


@dataclass(slots=True)
class Exchange:
    """One connection as a conversation."""

    conn_id: str
    charger: str | None
    ordinal: int
    """Position among this charger's connections in the input (0-based)."""
    opened: ConnectionOpened | None = None
    closed: ConnectionClosed | None = None
    frames: int = 0
    version: str | None = None
    sides: dict[Direction, Side] = field(
        default_factory=lambda: {Direction.FROM_CHARGER: Side(), Direction.FROM_BACKEND: Side()}
    )
    end_time: float | None = None
    """The end of the input, for connections that never closed."""

    @property
    def status(self) -> int | None:
        return self.opened.status if self.opened else None

    @property
    def subprotocol(self) -> str | None:
        return self.opened.subprotocol if self.opened else None


def conversation(
    events: Iterable[Event],
    checkers: Callable[[], list[Checker]] = default_checkers,
    options: AnalyzerOptions | None = None,
    keep: Callable[[str], bool] | None = None,
) -> list[Exchange]:
    """The connections of ``events`` in the order they opened, each with its calls, answers and findings.

    ``keep(conn_id)`` selects connections (all by default); the rest are still analysed, since rules such
    as boot retries look across a charger's connections.
    """
    analyzer = Analyzer(checkers(), options)
    exchanges: dict[str, Exchange] = {}
    ordinals: dict[str | None, int] = {}
    order: list[Exchange] = []
    open_calls: dict[tuple[str, int], Call] = {}

    def exchange_for(conn_id: str, charger: str | None) -> Exchange | None:
        current = exchanges.get(conn_id)
        if current is None and (keep is None or keep(conn_id)):
            ordinal = ordinals.get(charger, 0)
            ordinals[charger] = ordinal + 1
            current = exchanges[conn_id] = Exchange(conn_id, charger, ordinal)
            order.append(current)
        return current

    for event in events:
        inspection = analyzer.feed(event)
        conn = inspection.conn
        kind = type(event)
        if kind is ConnectionOpened:
            exchanges.pop(event.conn_id, None)  # a reused connection id starts a new connection
            current = exchange_for(event.conn_id, conn.charger)
            if current is not None:
                current.opened = event  # type: ignore[assignment]
                current.version = conn.version
            continue
        current = exchange_for(event.conn_id, conn.charger)
        if current is None:
            continue
        current.version = conn.version or current.version
        if kind is ConnectionClosed:
            current.closed = event  # type: ignore[assignment]
            continue
        if kind is not Message or event.injected:  # type: ignore[union-attr]
            continue  # injected traffic is ocppscope's, not the peers': nothing to compare
        current.frames += 1
        side = current.sides[event.direction]  # type: ignore[union-attr]
        side.findings.extend(inspection.findings)
        frame = inspection.frame
        if frame is None or frame.message_type is None:
            continue
        if frame.message_type in (MessageType.CALL, MessageType.SEND) and frame.action is not None:
            call = Call(event.seq, event.time, event.direction, frame.action, frame.payload,  # type: ignore[union-attr]
                        frame.message_id)
            side.calls.append(call)
            open_calls[(current.conn_id, event.seq)] = call
        elif inspection.call is not None:
            call = open_calls.pop((current.conn_id, inspection.call.seq), None)
            if call is None or call.answer is not None:
                continue
            error = frame.message_type is MessageType.CALLERROR
            call.answer = Answer("error" if error else "result", frame.payload, event.seq, event.time,
                                 inspection.latency or 0.0, frame.error_code if error else None,
                                 frame.error_description if error else None)
    end = analyzer.last_time
    for current in order:
        current.end_time = end
    return order

