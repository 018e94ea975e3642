"""What the frame view lists: every row below a limit, or the rows a filter kept, found in a thread.

The limit is the replay's playhead (or, live, the rows that reached the screen before a pause). A filter over a
million rows runs in a background thread and the view shows its matches as they are found; for a growing index
(a live stream, a capture still being indexed) the thread keeps up with new rows until it is cancelled.
"""

from __future__ import annotations

import bisect
import threading
import time
from array import array

from ocppscope.tui.filters import Predicate
from ocppscope.tui.index import FrameIndex

_CHUNK = 5_000


class RowList:
    """Rows in display order. ``limit`` hides rows at or above it."""

    def __init__(self) -> None:
        self.limit = 0

    def __len__(self) -> int:
        raise NotImplementedError

    def row(self, position: int) -> int:
        raise NotImplementedError

    def position_of(self, row: int) -> int:
        """The position of ``row``, or of the last listed row before it (0 if none)."""
        raise NotImplementedError

    def contains(self, row: int) -> bool:
        position = self.position_of(row)
        return position < len(self) and self.row(position) == row


class AllRows(RowList):
    def __len__(self) -> int:
        return self.limit

    def row(self, position: int) -> int:
        return position

    def position_of(self, row: int) -> int:
        return max(0, min(row, self.limit - 1))


class FilteredRows(RowList):
    """The matches of a filter; :meth:`start` scans the index in a thread."""

    def __init__(self, index: FrameIndex, predicate: Predicate, *, needs_analysis: bool = False) -> None:
        super().__init__()
        self.index = index
        self.predicate = predicate
        self.needs_analysis = needs_analysis
        """The filter reads findings, severities or latencies: rows wait for their analysis, and rows a late
        finding names (a timeout noticed 30 s on) are tested again."""
        self.matches = array("i")
        self.scanned = 0
        self._placed_seen = 0
        self.error: str | None = None
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None

    def __len__(self) -> int:
        matches = self.matches
        return bisect.bisect_left(matches, self.limit, 0, len(matches))

    def row(self, position: int) -> int:
        return self.matches[position]

    def position_of(self, row: int) -> int:
        position = bisect.bisect_right(self.matches, row, 0, len(self)) - 1
        return max(0, position)

    @property
    def finished(self) -> bool:
        return self.index.complete and self.scanned >= self._ready()

    def _ready(self) -> int:
        index = self.index
        return min(index.count, index.analysed) if self.needs_analysis else index.count

    @property
    def progress(self) -> float:
        count = self.index.count
        return 1.0 if not count else self.scanned / count

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="ocppscope filter", daemon=True)
        self._thread.start()

    def cancel(self) -> None:
        self._cancel.set()

    def wait(self, timeout: float | None = None) -> None:
        """Block until every indexed row is scanned (tests), and for a complete index until the thread has also
        tested again the rows that findings placed after their scan name (its last step)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.finished or (self.needs_analysis and self.index.analysed < self.index.count):
            if self._cancel.is_set() or self.error or (deadline is not None and time.monotonic() > deadline):
                return
            time.sleep(0.005)
        if self._thread is not None and self.index.complete:
            self._thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))

    def scan(self, upto: int) -> None:
        """Test rows from the last scanned one up to ``upto`` (exclusive)."""
        predicate = self.predicate
        append = self.matches.append
        for row in range(self.scanned, upto):
            if predicate(row):
                append(row)
        self.scanned = max(self.scanned, upto)

    def retest_named_rows(self) -> None:
        """Test again the scanned rows that new findings were placed on."""
        placed = self.index.placed
        end = len(placed)
        rows = {p.row for p in placed[self._placed_seen:end] if p.row is not None and p.row < self.scanned}
        self._placed_seen = end
        matches = self.matches
        for row in sorted(rows):
            position = bisect.bisect_left(matches, row)
            listed = position < len(matches) and matches[position] == row
            passes = self.predicate(row)
            if passes and not listed:
                matches.insert(position, row)
            elif listed and not passes:
                del matches[position]

    def _run(self) -> None:
        try:
            while not self._cancel.is_set():
                ready = self._ready()
                if self.scanned < ready:
                    self.scan(min(ready, self.scanned + _CHUNK))
                    continue
                if self.needs_analysis:
                    self.retest_named_rows()
                if self.index.complete and (not self.needs_analysis or self.index.analysed >= self.index.count):
                    if self.needs_analysis:
                        self.retest_named_rows()
                    return
                time.sleep(0.05)
        except Exception as exc:  # a broken file row: shown under the filter line
            self.error = f"{type(exc).__name__}: {exc}"
