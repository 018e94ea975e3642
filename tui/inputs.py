"""Replay inputs as rows: each event with the file, offset and length of its record.

An ocppscope capture is indexed where it lies: its lines are its records. Any other input ``import`` reads (Open
OCPP Trace, CSMS logs, a gzip-compressed capture) is converted once into a spool capture in a temporary file,
so every row of every input reads back the same way. Several inputs are merged by time into one stream, with
seqs renumbered and connection ids prefixed by the input's number, so rows and findings stay unambiguous; the
analysis worker merges them with the very same function and so numbers them alike.
"""

from __future__ import annotations

import contextlib
import heapq
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO, NamedTuple, TypeVar

import orjson
from ocppscope.proxy.capture.format import encode_event, header_record
from ocppscope.proxy.capture.reader import read_capture_lines
from ocppscope.proxy.capture.report import ReadReport, WarningHandler
from ocppscope.proxy.capture.sources import detect_format, open_input, read_events
from ocppscope.proxy.core.events import Event

_GZIP_MAGIC = b"\x1f\x8b"

T = TypeVar("T")


class Placed(NamedTuple):
    """An event and where its record lies."""

    event: Event
    file_no: int
    offset: int
    length: int


class _TrackedLines:
    """The lines of a binary file, remembering where the one handed out last starts."""

    def __init__(self, handle: BinaryIO) -> None:
        self._handle = handle
        self.offset = 0
        self.length = 0
        self.consumed = 0

    def __iter__(self) -> Iterator[bytes]:
        offset = 0
        for line in self._handle:
            self.offset = offset
            self.length = len(line)
            offset += len(line)
            self.consumed = offset
            yield line


def indexable_in_place(path: str | os.PathLike[str], fmt: str = "auto") -> bool:
    """Whether ``path`` is an uncompressed ocppscope capture, whose lines can be read back by offset."""
    with open(path, "rb") as handle:
        if handle.read(2) == _GZIP_MAGIC:
            return False
    return (fmt if fmt != "auto" else detect_format(path)) == "capture"


class Spool:
    """A temporary capture holding converted events, written unbuffered so a row is readable once indexed."""

    def __init__(self, directory: str | None = None) -> None:
        handle, self.path = tempfile.mkstemp(prefix="ocppscope-tui-", suffix=".jsonl", dir=directory)
        self._fd = handle
        header = header_record(tool="ocppscope tui spool", created="", redacted=False, salt_id=None)
        self._offset = 0
        self.append(orjson.dumps(header) + b"\n")

    def append(self, line: bytes) -> tuple[int, int]:
        offset = self._offset
        view = memoryview(line)
        while view:
            view = view[os.write(self._fd, view):]
        self._offset += len(line)
        return offset, len(line)

    def append_event(self, event: Event) -> tuple[int, int]:
        return self.append(orjson.dumps(encode_event(event)) + b"\n")

    def remove(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)


class InputProgress:
    """How far reading has got, for the progress indicator: bytes of in-place captures, events of the rest."""

    def __init__(self, total_bytes: int) -> None:
        self.total_bytes = total_bytes
        self.read_bytes = 0
        self.trackers: list[_TrackedLines] = []
        self.done_bytes = 0

    @property
    def fraction(self) -> float | None:
        if not self.total_bytes:
            return None
        current = self.done_bytes + sum(t.consumed for t in self.trackers)
        return min(1.0, current / self.total_bytes)


def capture_rows(path: str, file_no: int, report: ReadReport, progress: InputProgress | None = None
                 ) -> Iterator[Placed]:
    """The events of the capture at ``path``, each with the offset and length of its line."""
    handle = open_input(path)
    try:
        lines = _TrackedLines(handle)
        if progress is not None:
            progress.trackers.append(lines)
        for event in read_capture_lines(lines, report):
            yield Placed(event, file_no, lines.offset, lines.length)
    finally:
        handle.close()


def spooled_rows(path: str, fmt: str, spool: Spool, file_no: int, report: ReadReport) -> Iterator[Placed]:
    """The events of any other input, each written to ``spool`` first."""
    for event in read_events(path, fmt, report=report):
        offset, length = spool.append_event(event)
        yield Placed(event, file_no, offset, length)


def merge_by_time(streams: Sequence[Iterable[T]], event_of: Callable[[T], Event]) -> Iterator[T]:
    """One stream in time order (ties keep input order); several inputs get fresh seqs and prefixed connections.

    The prefix is the input's number (``2:c0``); the seq is the position in the merged stream.
    """
    if len(streams) == 1:
        yield from streams[0]
        return
    prefixed = [_prefixed(stream, number, event_of) for number, stream in enumerate(streams, 1)]
    for seq, item in enumerate(heapq.merge(*prefixed, key=lambda item: event_of(item).time), 1):
        event_of(item).seq = seq
        yield item


def _prefixed(stream: Iterable[T], number: int, event_of: Callable[[T], Event]) -> Iterator[T]:
    for item in stream:
        event = event_of(item)
        event.conn_id = f"{number}:{event.conn_id}"
        yield item


def merged_events(paths: Sequence[str], fmt: str = "auto", on_warning: WarningHandler | None = None
                  ) -> Iterator[Event]:
    """The events of ``paths`` merged exactly as the indexer merges their rows (for the analysis worker)."""
    quiet = on_warning or (lambda _text: None)
    return merge_by_time([read_events(path, fmt, on_warning=quiet) for path in paths], lambda event: event)


def input_size(paths: Sequence[str]) -> int:
    return sum(Path(path).stat().st_size for path in paths)
