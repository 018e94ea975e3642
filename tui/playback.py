"""Replay controls: which rows of a capture have "happened" yet, at the recorded pace or faster.

The playhead is a row count: rows below it are shown, exactly as live showed them as they arrived. Opening a
capture shows all of it (the playhead follows the indexer); play starts from the playhead, or from the start
once at the end. Pure logic over the index's time column; the app calls :meth:`Playback.tick` from its timer.
"""

from __future__ import annotations

import bisect
import math
import re
import time
from datetime import datetime

from ocppscope.tui.index import FrameIndex

SPEEDS = (1.0, 10.0, 100.0, math.inf)
FASTEST_ROWS_PER_SECOND = 200_000
""""As fast as possible": no waiting between frames, only the screen's own pace."""
_MAX_ROWS_PER_TICK = 50_000


def speed_label(speed: float) -> str:
    return "max" if math.isinf(speed) else f"{speed:g}×"


class Playback:
    def __init__(self, index: FrameIndex) -> None:
        self.index = index
        self.playhead: int | None = None
        """None: everything indexed is shown (the state after opening, and at the end of a replay)."""
        self.playing = False
        self.speed = SPEEDS[0]
        self._anchor_wall = 0.0
        self._anchor_time = 0.0
        self._anchor_row = 0

    @property
    def visible(self) -> int:
        count = self.index.count
        return count if self.playhead is None else min(self.playhead, count)

    @property
    def at_end(self) -> bool:
        return self.playhead is None or (self.index.complete and self.playhead >= self.index.count)

    def position_time(self) -> float | None:
        visible = self.visible
        return self.index.time[visible - 1] if visible else None

    def play(self, now: float | None = None) -> None:
        if self.at_end:
            self.playhead = 0
        self.playing = True
        self._anchor(now)

    def pause(self) -> None:
        self.playing = False

    def toggle(self, now: float | None = None) -> None:
        if self.playing:
            self.pause()
        else:
            self.play(now)

    def cycle_speed(self, now: float | None = None) -> float:
        self.speed = SPEEDS[(SPEEDS.index(self.speed) + 1) % len(SPEEDS)]
        self._anchor(now)
        return self.speed

    def set_speed(self, speed: float, now: float | None = None) -> None:
        self.speed = speed
        self._anchor(now)

    def step(self, rows: int) -> None:
        """Move the playhead ``rows`` forward (negative: back) and pause."""
        self.playing = False
        self.playhead = max(0, min(self.visible + rows, self.index.count))

    def seek_row(self, row: int) -> None:
        """Show rows up to and including ``row``; pauses."""
        self.playing = False
        self.playhead = max(0, min(row + 1, self.index.count))

    def seek_time(self, when: float) -> None:
        """Show the rows recorded before ``when``; pauses."""
        self.playing = False
        self.playhead = bisect.bisect_right(self.index.time, when, 0, self.index.count)

    def tick(self, now: float | None = None) -> bool:
        """Advance while playing; True if the playhead moved."""
        if not self.playing or self.playhead is None:
            return False
        now = time.monotonic() if now is None else now
        index = self.index
        count = index.count
        before = self.playhead
        if math.isinf(self.speed):
            target_rows = self._anchor_row + int((now - self._anchor_wall) * FASTEST_ROWS_PER_SECOND)
            head = min(count, target_rows, before + _MAX_ROWS_PER_TICK)
        else:
            target = self._anchor_time + (now - self._anchor_wall) * self.speed
            head = before
            limit = min(count, before + _MAX_ROWS_PER_TICK)
            times = index.time
            while head < limit and times[head] <= target:
                head += 1
        self.playhead = head
        if head >= count and index.complete:
            self.playing = False
        return head != before

    def _anchor(self, now: float | None) -> None:
        self._anchor_wall = time.monotonic() if now is None else now
        visible = self.visible
        self._anchor_row = visible
        if visible < self.index.count:
            self._anchor_time = self.index.time[visible]
        elif visible:
            self._anchor_time = self.index.time[visible - 1]


_OFFSET = re.compile(r"^\+?\s*(?:(\d+)h)?\s*(?:(\d+)m(?!s))?\s*(?:(\d+(?:\.\d+)?)s?)?$")


def parse_seek(text: str, start: float) -> float:
    """A time to seek to: ``+90s``, ``+1m30s`` or ``+2h`` from the capture's start ``start``, a clock time
    ``HH:MM[:SS[.mmm]]`` (local, on or after the start's day), or an ISO date-time. ValueError otherwise."""
    text = text.strip()
    if not text:
        raise ValueError("give a time: HH:MM:SS, +90s, +1m30s or 2024-01-15T10:00:00")
    if text.startswith("+"):
        match = _OFFSET.match(text)
        if match is None or not any(match.groups()):
            raise ValueError(f"cannot read the offset {text!r} (try +90s or +1m30s)")
        hours, minutes, seconds = match.groups()
        return start + int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(seconds or 0)
    clock = re.fullmatch(r"(\d{1,2}):(\d{2})(?::(\d{2}(?:\.\d+)?))?", text)
    if clock:
        hours, minutes, seconds = clock.groups()
        day = datetime.fromtimestamp(start)
        when = day.replace(hour=int(hours), minute=int(minutes), second=0, microsecond=0).timestamp()
        when += float(seconds or 0)
        return when if when >= start - 1 else when + 86400
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"cannot read the time {text!r} (HH:MM:SS, +90s, or an ISO date-time)") from None
    return moment.timestamp()
