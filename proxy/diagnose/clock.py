"""The charger's clock, read from the timestamps it puts in its messages, against the time they arrived.

A jump is a change of that offset beyond a threshold that then holds: a single message with an old time
is one sent late from a queue (normal after being offline), not a clock jump. Timestamps without a zone
are read as UTC, as most firmware that drops the 'Z' means.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# Actions whose timestamp is the charger's "now" when it sent them (transactions and meter values can be
# replayed from a queue, which the persistence check below tolerates).
_STAMPED = frozenset({"StatusNotification", "MeterValues", "StartTransaction", "StopTransaction",
                      "TransactionEvent", "SecurityEventNotification", "NotifyEvent"})


def parse_time(value: Any) -> float | None:
    if not isinstance(value, str) or len(value) < 19:
        return None
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def charger_time(action: str | None, payload: Any) -> float | None:
    """The charger's own time in a CALL it sent, when the action carries one."""
    if action not in _STAMPED or not isinstance(payload, dict):
        return None
    stamp = parse_time(payload.get("timestamp") or payload.get("generatedAt"))
    if stamp is None and isinstance(payload.get("meterValue"), list) and payload["meterValue"]:
        last = payload["meterValue"][-1]
        stamp = parse_time(last.get("timestamp")) if isinstance(last, dict) else None
    return stamp


@dataclass(slots=True)
class Jump:
    seq: int
    conn_id: str
    time: float
    before: float
    """Offset (charger time − arrival time, seconds) before the jump."""
    after: float
    synced: bool
    """The new offset is about zero shortly after the backend sent its currentTime: the charger set its clock."""

    @property
    def size(self) -> float:
        return self.after - self.before


class ClockWatch:
    """Offsets of one charger's clock; :attr:`jumps` once confirmed."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self.offset: float | None = None
        self.candidate: Jump | None = None
        self.jumps: list[Jump] = []
        self.last_sync: float | None = None

    def synced_at(self, time: float) -> None:
        """The backend told the charger the time (a currentTime in an answer)."""
        self.last_sync = time

    def sample(self, seq: int, conn_id: str, time: float, stamp: float) -> None:
        offset = stamp - time
        if self.candidate is not None:
            if abs(offset - self.candidate.after) <= self.threshold:
                self.jumps.append(self.candidate)  # the new offset held: a real jump
                self.offset = offset
                self.candidate = None
                return
            self.candidate = None  # back to the old offset: a message sent late from a queue
        if self.offset is None:
            self.offset = offset
        elif abs(offset - self.offset) > self.threshold:
            synced = abs(offset) <= self.threshold and self.last_sync is not None and time - self.last_sync < 120
            self.candidate = Jump(seq, conn_id, time, self.offset, offset, synced)
        else:
            self.offset = offset

    def finish(self) -> None:
        """At the end of the input a jump with no later sample to confirm it still counts."""
        if self.candidate is not None:
            self.jumps.append(self.candidate)
            self.candidate = None
