"""What reading an input found besides its events: truncation, skipped lines, warnings, and the errors."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from proxy.errors import OcppscopeError

log = logging.getLogger("ocppscope.capture")

WarningHandler = Callable[[str], None]

SKIPPED_EXAMPLES = 5


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

    def finish(self) -> None:
        """Report the skipped lines once, at the end of the input."""
        if self.skipped:
            lines = ", ".join(str(line) for line, _ in self.skipped_examples)
            more = ", …" if self.skipped > len(self.skipped_examples) else ""
            self.warn(f"{self.skipped} line(s) were not recognised as OCPP traffic and were skipped "
                      f"(lines {lines}{more})")


def describe_error(exc: BaseException) -> str:
    """What was wrong with a record, from the exception its decoding raised."""
    if isinstance(exc, KeyError):
        return f"missing or unknown {exc.args[0]!r}" if exc.args else "a field is missing"
    return str(exc) or type(exc).__name__
