"""Jumps of the charger's clock: successive charger timestamps that move unlike their receipt times.

The offset (charger timestamp − receipt time) of a live message is the clock's error. Messages sent late from
a queue (normal after being offline) have lower offsets, older by how long they waited; they never move the
clock's offset up, and a run of them ends when live traffic resumes at the old offset. So:

- a *forward* jump is a higher offset that the next timestamp confirms, from an offset known to be live;
- a *backward* jump is a lower offset that holds for as long as the jump threshold in receipt time (live
  messages, not a burst from a queue), or that is about zero (a clock that is now right);
- before any offset is known to be live (the first timestamps after a reconnect may all be queued), a higher
  offset only replaces the guess, unless the backend's currentTime came in between: the charger set its clock.

The core's clock rules (``clock.*`` findings) judge each timestamp on its own; this judges the series.
"""

from __future__ import annotations

from dataclasses import dataclass

from ocppscope.proxy.core.checks.clocks import charger_stamp


def charger_time(action: str | None, payload: object) -> float | None:
    """The charger's own time in a CALL it sent, when the action carries one (see the core's clock rules)."""
    stamp = charger_stamp(action, payload)
    return stamp[0] if stamp is not None else None


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
    first_time: float = 0.0
    """Receipt time of the first timestamp at the new offset."""
    held: int = 1
    """Timestamps seen at the new offset so far."""

    @property
    def size(self) -> float:
        return self.after - self.before


class ClockWatch:
    """Offsets of one charger's clock; :attr:`jumps` once confirmed."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self.offset: float | None = None
        self.live = False
        """True once :attr:`offset` is known to be the clock's, not that of a queued message."""
        self.since = 0.0
        """Receipt time of the first timestamp at :attr:`offset`."""
        self.candidate: Jump | None = None
        self.jumps: list[Jump] = []
        self.last_sync: float | None = None
        self.last_time: float | None = None
        """Receipt time of the previous timestamp."""

    def synced_at(self, time: float) -> None:
        """The backend told the charger the time (a currentTime in an answer)."""
        self.last_sync = time

    def _synced(self, time: float, offset: float) -> bool:
        """Right now, and the backend's currentTime came between the previous timestamp and this one (a queue
        emptied after the boot answer has its old timestamps after the currentTime, not before it)."""
        sync = self.last_sync
        return (abs(offset) <= self.threshold and sync is not None and time - sync < 120
                and (self.last_time is None or self.last_time <= sync))

    def sample(self, seq: int, conn_id: str, time: float, stamp: float) -> None:
        try:
            self._sample(seq, conn_id, time, stamp)
        finally:
            self.last_time = time

    def _sample(self, seq: int, conn_id: str, time: float, stamp: float) -> None:
        offset = stamp - time
        threshold = self.threshold
        candidate = self.candidate
        if candidate is not None:
            if abs(offset - candidate.after) <= threshold:
                candidate.held += 1
                forward = candidate.after > candidate.before
                if forward or time - candidate.first_time >= threshold or abs(candidate.after) <= threshold:
                    self.jumps.append(candidate)
                    self._settle(offset, candidate.first_time, live=True)
                    self.candidate = None
                return
            self.candidate = None  # neither held nor confirmed: those were queued messages
        if self.offset is None:
            self._settle(offset, time, live=abs(offset) <= threshold)
            return
        if abs(offset - self.offset) <= threshold:
            if not self.live and (abs(offset) <= threshold or time - self.since >= threshold):
                self.live = True  # live traffic at this offset: right, or consistently wrong over time
            self.offset = offset
            return
        if offset > self.offset and not self.live:
            # The guess was a queued message's offset: the clock's is at least this.
            if self._synced(time, offset):
                self.jumps.append(Jump(seq, conn_id, time, self.offset, offset, True, time))
            self._settle(offset, time, live=abs(offset) <= threshold)
            return
        if offset < self.offset and not self.live:
            return  # older than the guess: another queued message
        self.candidate = Jump(seq, conn_id, time, self.offset, offset, self._synced(time, offset), time)

    def _settle(self, offset: float, since: float, *, live: bool) -> None:
        self.offset = offset
        self.since = since
        self.live = live

    def finish(self) -> None:
        """The input ended: a new offset that no later timestamp confirmed is no jump (one late message)."""
        self.candidate = None
