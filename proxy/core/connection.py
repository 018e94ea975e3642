"""Per-connection state the analyzer keeps, and the calls waiting for an answer."""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import unquote

import msgspec
from ocppscope.proxy.core.events import ConnectionClosed, ConnectionOpened, Direction
from ocppscope.proxy.core.findings import Severity
from ocppscope.proxy.core.frames import Frame

CallState = Literal["pending", "answered", "timed-out", "superseded", "closed"]


class PendingCall(msgspec.Struct, eq=False):
    """A CALL waiting for its CALLRESULT or CALLERROR (a Struct for the same reason as :class:`Frame`)."""

    frame: Frame
    message_id: str
    action: str | None
    direction: Direction
    seq: int
    time: float
    state: CallState = "pending"

    @property
    def payload(self) -> Any:
        return self.frame.payload

    def __repr__(self) -> str:
        return f"PendingCall({self.action}, id={self.message_id!r}, seq={self.seq})"


def identity_from_path(path: str) -> str | None:
    """The charger identity: the last path segment, percent-decoded, without any query string."""
    path = path.split("?", 1)[0].split("#", 1)[0]
    segment = path.rstrip("/").rsplit("/", 1)[-1] if path.strip("/") else ""
    return unquote(segment) or None


class Connection:
    """What the analyzer knows about one WebSocket connection.

    Checkers keep their own per-connection state in ``data`` under their own key; it goes away with the
    connection, which keeps a million-frame capture at constant memory.
    """

    __slots__ = (
        "answered",
        "answered_before",
        "call_handlers",
        "calls_stopped",
        "charger",
        "client",
        "closed",
        "conn_id",
        "counts",
        "data",
        "expire_check",
        "expired",
        "frames",
        "last_from",
        "opened",
        "pending",
        "subprotocol",
        "upstream",
        "version",
        "version_guessed",
    )

    def __init__(self, conn_id: str, opened: ConnectionOpened | None = None) -> None:
        self.conn_id = conn_id
        self.opened = opened
        self.closed: ConnectionClosed | None = None
        self.charger: str | None = identity_from_path(opened.path) if opened else None
        self.client = opened.client if opened else None
        self.upstream = opened.upstream if opened else None
        self.subprotocol = opened.subprotocol if opened else None
        self.version: str | None = None
        self.version_guessed = False
        # Unanswered CALLs per sender in the order sent: the first entry is always the oldest.
        self.pending: dict[Direction, dict[str, PendingCall]] = {
            Direction.FROM_CHARGER: {},
            Direction.FROM_BACKEND: {},
        }
        # No pending CALL can time out before this event time: the analyzer looks no earlier. It may be
        # earlier than needed (the CALL it was set for got its answer), never later.
        self.expire_check = float("inf")
        # Calls that timed out, kept (a bounded few) so a late answer is recognised as late, not unknown.
        self.expired: dict[str, PendingCall] = {}
        # The last few answered CALLs by (answering side, id) and the seq of their answer, so that a second
        # answer is named as such rather than as an answer nobody asked for. Two generations: when ``answered``
        # is full it becomes ``answered_before`` and a new one starts, which bounds memory at no cost per answer.
        self.answered: dict[tuple[Direction, str], tuple[PendingCall, int]] = {}
        self.answered_before: dict[tuple[Direction, str], tuple[PendingCall, int]] = {}
        # The analyzer's on_call handlers per action for this connection alone, once a checker has stopped taking
        # its CALLs (None until then: the analyzer's shared table serves).
        self.call_handlers: dict[str, list[Any]] | None = None
        self.calls_stopped: frozenset[object] = frozenset()
        self.frames = 0
        self.counts = {Severity.INFO: 0, Severity.WARNING: 0, Severity.ERROR: 0}
        self.last_from: dict[Direction, float] = {}
        self.data: dict[str, Any] = {}

    @property
    def opened_at(self) -> float | None:
        return self.opened.time if self.opened else None

    def __repr__(self) -> str:
        return f"Connection({self.conn_id!r}, charger={self.charger!r}, version={self.version!r})"
