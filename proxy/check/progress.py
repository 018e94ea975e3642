"""Progress of a long run on stderr: percent and time left when the input's size is known, else a rate.

Shown when stderr is a terminal (one line, rewritten in place), or when asked for with ``--progress`` (then one
line per update, for CI logs and pipes). Updates come at most every half second on a terminal and every
second otherwise, so showing progress costs nothing measurable.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TextIO, TypeVar

_Item = TypeVar("_Item")

TERMINAL_EVERY = 0.5
LOG_EVERY = 1.0


def wanted(stream: TextIO, forced: bool) -> bool:
    """Whether to show progress on ``stream``: a terminal, or ``--progress``."""
    if forced:
        return True
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def add_progress_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--progress", action="store_true",
                        help="show progress on stderr even when it is not a terminal (percent and time left when "
                        "the inputs' size is known)")


def counted(items: Iterable[_Item], progress: Progress | None, every: int = 512) -> Iterator[_Item]:
    """``items`` passed through, ``progress`` told the count every ``every`` items and when they end."""
    if progress is None:
        yield from items
        return
    count = 0
    for item in items:
        count += 1
        if count % every == 0:
            progress(count)
        yield item
    progress.done(count)


class Progress:
    """One long task's progress; ``update`` often, ``done`` once."""

    def __init__(self, label: str, stream: TextIO, total: int | None = None, every: float | None = None,
                 position: Callable[[], float] | None = None) -> None:
        self._position = position
        self._label = label
        self._stream = stream
        self._total = total if total and total > 0 else None
        self._terminal = wanted(stream, False)
        self._every = every if every is not None else TERMINAL_EVERY if self._terminal else LOG_EVERY
        self._start = self._last = time.monotonic()
        self._shown = False

    def __call__(self, frames: int) -> None:
        """A count of frames so far (what :func:`proxy.check.runner.analyze_events` reports); with ``position``,
        how far into ``total`` the input is read comes from it."""
        if time.monotonic() - self._last >= self._every:
            self.update(self._position() if self._position is not None else None, frames)

    def update(self, done: float | None = None, frames: int | None = None) -> None:
        """``done`` bytes of ``total`` read, and/or ``frames`` analysed so far."""
        now = time.monotonic()
        if now - self._last < self._every:
            return
        self._last = now
        self._show(self._text(now - self._start, done, frames))

    def done(self, frames: int | None = None) -> None:
        """The task finished: a last line with the time it took (on a terminal, only if progress was shown)."""
        if self._terminal and not self._shown:
            return
        elapsed = time.monotonic() - self._start
        counted = f"{frames:,} frames, " if frames is not None else ""
        self._show(f"{self._label}: 100% ({counted}done in {_duration(elapsed)})")
        if self._terminal:
            self._stream.write("\n")
            self._stream.flush()

    def _text(self, elapsed: float, done: float | None, frames: int | None) -> str:
        parts = []
        if self._total is not None and done is not None:
            fraction = min(max(done / self._total, 0.0), 1.0)
            parts.append(f"{fraction:.0%}")
            if fraction > 0:
                parts.append(f"{_duration(elapsed * (1 - fraction) / fraction)} left")
        if frames is not None:
            parts.append(f"{frames:,} frames ({frames / elapsed:,.0f}/s)" if elapsed > 0 else f"{frames:,} frames")
        return f"{self._label}: " + ", ".join(parts or ["working"])

    def _show(self, text: str) -> None:
        self._stream.write(f"\r{text}\x1b[K" if self._terminal else f"{text}\n")
        self._stream.flush()
        self._shown = True


def _duration(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    return f"{seconds // 3600}:{seconds // 60 % 60:02}:{seconds % 60:02}" if seconds >= 3600 else \
        f"{seconds // 60}:{seconds % 60:02}"
