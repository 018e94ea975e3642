"""Log lines that repeat are shown a few times, then counted: a storm of identical errors cannot fill a disk.

A proxy under a connection flood (a thousand stalled handshakes, a port scan, descriptors running out) logs the
same line, often with the same traceback, once per connection. :class:`RepeatLimit` lets the first few of each
kind through per window and then one line saying how many were held back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

_KEPT_KINDS = 512


class RepeatLimit(logging.Filter):
    """Passes at most ``burst`` records of one kind (logger, level, message template, exception type) per
    ``window`` seconds; the first record of a kind in a new window says how many were held back before it."""

    def __init__(self, burst: int = 5, window: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.burst = burst
        self.window = window
        self._clock = clock
        self._kinds: dict[tuple[object, ...], list[float]] = {}
        """kind → [window start, passed in this window, held back in this window]."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc_type = record.exc_info[0] if record.exc_info else None
        kind = (record.name, record.levelno, str(record.msg), exc_type)
        now = self._clock()
        state = self._kinds.get(kind)
        if state is None or now - state[0] >= self.window:
            held = int(state[2]) if state is not None else 0
            if state is None and len(self._kinds) >= _KEPT_KINDS:
                del self._kinds[next(iter(self._kinds))]
            self._kinds[kind] = [now, 1, 0]
            if held:
                record.msg = f"{record.msg} (and {held} more like it in the last {self.window:g} s, not shown)"
            return True
        if state[1] < self.burst:
            state[1] += 1
            return True
        state[2] += 1
        return False


def limit_repeats(logger: logging.Logger | None = None, **settings: float) -> Callable[[], None]:
    """Put a :class:`RepeatLimit` on every handler of ``logger`` (default: the root logger); returns the function
    that takes it off again."""
    target = logger or logging.getLogger()
    limit = RepeatLimit(**settings)  # type: ignore[arg-type]
    handlers = list(target.handlers) or [logging.lastResort]
    for handler in handlers:
        if handler is not None:
            handler.addFilter(limit)

    def remove() -> None:
        for handler in handlers:
            if handler is not None:
                handler.removeFilter(limit)

    return remove
