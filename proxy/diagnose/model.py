"""What a diagnosis is made of: per charger, a timeline of connections and a ranked list of probable causes.

Plain data with ``to_json()``; the text report, ``--format json`` and the TUI panel all read these.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(slots=True)
class FrameRef:
    """A pointer into the capture: a frame, a handshake or a close, with a one-line description."""

    seq: int | None
    conn_id: str
    time: float
    text: str


@dataclass(slots=True)
class ConnectionTimeline:
    """One connection of a charger, from its upgrade request to its close."""

    conn_id: str
    charger: str | None
    opened_at: float
    status: int
    """HTTP status of the upgrade: 101 opened; anything else was refused (no frames follow)."""
    subprotocol: str | None = None
    client: str | None = None
    open_seq: int | None = None
    handshake_error: str | None = None
    closed_at: float | None = None
    close_seq: int | None = None
    closed_by: str | None = None
    code: int | None = None
    reason: str = ""
    relayed_code: int | None = None
    idle: float | None = None
    """Seconds without a frame (either way) before the close."""
    since_ping: float | None = None
    """Seconds since the last WebSocket ping or pong, when the producer saw them."""
    charger_silence: float | None = None
    """Seconds since the charger's last frame, at the close."""
    frames: int = 0
    pings: int = 0
    close_text: str = ""
    """The close in words (who, code, duration, idle), as the lifecycle rules word it."""
    last_frames: list[FrameRef] = field(default_factory=list)
    """The last few frames before the close, oldest first."""
    heartbeat_interval: int | None = None
    """HeartbeatInterval in force on this connection, when the traffic showed it."""
    source: str | None = None
    """The input file this connection was read from."""

    @property
    def opened(self) -> bool:
        return self.status == 101

    @property
    def duration(self) -> float | None:
        return None if self.closed_at is None else max(0.0, self.closed_at - self.opened_at)


@dataclass(slots=True)
class Cause:
    """A probable cause of lost connections, with the frames that show it and what to change.

    ``score`` (0–100) orders causes: how specific the pattern is and how much of the capture it explains,
    not a probability. ``kind`` is a stable id (docs/diagnose.md lists them).
    """

    kind: str
    score: int
    title: str
    explanation: str
    change: list[str]
    evidence: list[FrameRef] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    explains: list[str] = field(default_factory=list)
    """Connections whose end this cause accounts for: a bare close-code cause about only these is dropped."""


@dataclass(slots=True)
class ChargerDiagnosis:
    charger: str | None
    connections: list[ConnectionTimeline]
    causes: list[Cause]
    settings: dict[str, Any] = field(default_factory=dict)
    """Configuration the traffic revealed: HeartbeatInterval, WebSocketPingInterval (with their seq)."""

    @property
    def drops(self) -> int:
        """Connections that opened and then ended (the last one may still be open at the end)."""
        return sum(1 for conn in self.connections if conn.opened and conn.closed_at is not None)

    @property
    def refused(self) -> int:
        return sum(1 for conn in self.connections if not conn.opened)


@dataclass(slots=True)
class Diagnosis:
    inputs: list[str]
    chargers: list[ChargerDiagnosis]

    def to_json(self) -> dict[str, Any]:
        return {
            "inputs": self.inputs,
            "chargers": [
                {
                    "charger": charger.charger,
                    "connections": [{**asdict(conn), "duration": conn.duration} for conn in charger.connections],
                    "causes": [asdict(cause) for cause in charger.causes],
                    "settings": charger.settings,
                }
                for charger in self.chargers
            ],
        }
