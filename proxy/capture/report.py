"""What reading an input found besides its events: truncation, skipped lines, warnings, and the errors."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ocppscope.proxy.errors import OcppscopeError

log = logging.getLogger("ocppscope.capture")

WarningHandler = Callable[[str], None]

SKIPPED_EXAMPLES = 5
UNUSABLE_NAMED = 200
"""Unusable lines named one by one in the warnings; the rest are counted."""


class SourceError(OcppscopeError):
    """An input cannot be read further; the message names the file and, where known, the line."""

    def __init__(self, path: str, message: str, line: int | None = None) -> None:
        self.path = path
        self.line = line
        self.detail = message
        where = f"{path}, line {line}" if line is not None else path
        super().__init__(f"{where}: {message}")

    def __reduce__(self) -> tuple[type[SourceError], tuple[str, str, int | None]]:
        # So the error crosses from a worker process of a parallel check intact.
        return type(self), (self.path, self.detail, self.line)


class CaptureError(SourceError):
    """A capture file is unusable at ``line``: garbage, a record of the wrong shape, an unknown major version."""


@dataclass
class ReadReport:
    """The status of one read, filled in while events stream out.

    ``truncated_line`` is the line number of a last line cut short (a capture or JSON Lines file written up
    to a crash): everything before it was read. ``skipped`` counts lines a log importer did not recognise as
    OCPP traffic, with the first few kept as ``skipped_examples`` (line number, text).
    Every warning is also passed to ``on_warning`` as it happens (by default: logged on ``ocppscope.capture``).
    """

    source: str
    format: str = "unknown"
    events: int = 0
    truncated_line: int | None = None
    skipped: int = 0
    skipped_examples: list[tuple[int, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    header: dict[str, Any] | None = None
    on_warning: WarningHandler | None = field(default=None, repr=False, compare=False)
    lines: int = 0
    """Lines (or records, for a JSON array) read, when the reader counts them."""
    unusable: int = 0
    """Lines that could not be used (not a record, a record of the wrong shape, an absurd value): each is
    named in ``warnings`` (up to :data:`UNUSABLE_NAMED`), skipped, and the rest of the input is read."""
    frames: int = 0
    """Frames a log importer decoded (cut ones included)."""
    frames_cut: int = 0
    """Frames the log showed only the start of (reported as ``input.frame-cut``)."""
    handle: Any = field(default=None, repr=False, compare=False)
    """The file being read (set when it is opened): its position tells how far the read has come."""
    notes: list[str] = field(default_factory=list)
    """What an importer did that is worth knowing but is no warning: frames joined back from several lines, a
    newest-first log read backwards, the zone times without one were read in."""

    def note(self, message: str) -> None:
        text = f"{self.source}: {message}"
        self.notes.append(text)
        log.info("%s", text)

    def counts(self) -> str:
        """``120 line(s) read, 40 frame(s) decoded, 2 cut, 5 line(s) skipped (lines 1, 2, 3, 11, 14)``."""
        text = f"{self.lines} line(s) read, {self.frames} frame(s) decoded, {self.frames_cut} cut"
        if self.skipped:
            shown = ", ".join(str(line) for line, _ in self.skipped_examples)
            more = ", …" if self.skipped > len(self.skipped_examples) else ""
            text += f", {self.skipped} line(s) skipped (lines {shown}{more})"
        return text

    def warn(self, message: str) -> None:
        text = f"{self.source}: {message}"
        self.warnings.append(text)
        if self.on_warning is not None:
            self.on_warning(text)
        else:
            log.warning("%s", text)

    def truncated(self, line: int, detail: str) -> None:
        self.truncated_line = line
        self.warn(f"line {line} is cut short ({detail}); it was probably being written when the writer "
                  f"stopped, and everything before it was read")

    def skip(self, line: int, text: str) -> None:
        self.skipped += 1
        if len(self.skipped_examples) < SKIPPED_EXAMPLES:
            self.skipped_examples.append((line, text[:200]))

    def unusable_line(self, line: int, why: str) -> None:
        """Line ``line`` cannot be used, because ``why``: it is named and skipped, and reading goes on."""
        self.unusable += 1
        if self.unusable <= UNUSABLE_NAMED:
            self.warn(f"line {line} cannot be used and was skipped: {why}")

    def summary(self) -> Reading:
        """What a report shows of this read (plain data: it crosses from a worker process)."""
        return Reading(self.source, self.format, self.events, self.lines, self.unusable, self.truncated_line,
                       self.skipped, list(self.warnings), list(self.notes))

    def finish(self) -> None:
        """Report the skipped and unusable lines once, at the end of the input."""
        if self.unusable > UNUSABLE_NAMED:
            self.warn(f"{self.unusable - UNUSABLE_NAMED} more line(s) cannot be used and were skipped "
                      f"(only the first {UNUSABLE_NAMED} are named)")
        if self.skipped:
            lines = ", ".join(str(line) for line, _ in self.skipped_examples)
            more = ", …" if self.skipped > len(self.skipped_examples) else ""
            what = ("records of a type this version does not know (from a newer capture format?)"
                    if self.format == "capture" else "not recognised as OCPP traffic")
            self.warn(f"{self.skipped} line(s) were {what} and were skipped (lines {lines}{more})")


@dataclass(slots=True)
class Reading:
    """The outcome of reading one input, for reports: how much could be used and what was said about it."""

    source: str
    format: str
    events: int
    lines: int
    unusable: int
    truncated_line: int | None
    skipped: int
    warnings: list[str]
    notes: list[str] = field(default_factory=list)
    """What the reader did that is worth knowing, such as the zone a log's times were read in."""

    @property
    def empty(self) -> bool:
        """Nothing usable came out of the input: no traffic to check."""
        return self.events == 0

    def tried(self) -> str:
        """What reading tried and got, for a person: ``read as capture: 0 events from 12 lines, …``."""
        parts = [f"read as {self.format}: {self.events} event(s)" + (f" from {self.lines} line(s)" if self.lines
                                                                     else "")]
        if self.unusable:
            parts.append(f"{self.unusable} line(s) unusable")
        if self.skipped:
            parts.append(f"{self.skipped} line(s) not recognised as {self.format} traffic")
        if self.truncated_line is not None:
            parts.append(f"line {self.truncated_line} cut short")
        return ", ".join(parts)


def describe_error(exc: BaseException) -> str:
    """What was wrong with a record, from the exception its decoding raised."""
    if isinstance(exc, KeyError):
        return f"missing or unknown {exc.args[0]!r}" if exc.args else "a field is missing"
    return str(exc) or type(exc).__name__
