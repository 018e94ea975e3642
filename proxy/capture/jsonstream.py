"""Objects from JSON Lines or from one big JSON array, streamed with their line numbers."""

from __future__ import annotations

import codecs
import io
import json
from collections.abc import Iterator
from typing import Any, BinaryIO

import orjson
from ocppscope.proxy.capture.report import ReadReport, SourceError

_CHUNK = 1 << 20
_WHITESPACE = " \t\r\n\ufeff"


def json_values(handle: BinaryIO, report: ReadReport) -> Iterator[tuple[int, Any]]:
    """(line number, value) for each line of a JSON Lines file or each element of a JSON array file.

    Blank lines are skipped. A last line or element cut short is reported as truncated on ``report``;
    other invalid JSON raises :class:`SourceError` naming the line.
    """
    if not hasattr(handle, "peek"):
        handle = io.BufferedReader(handle)  # type: ignore[arg-type]
    first = handle.peek(64)[:64]  # type: ignore[attr-defined]
    if first.lstrip(b" \t\r\n").lstrip(b"\xef\xbb\xbf").lstrip(b" \t\r\n").startswith(b"["):
        yield from _array_elements(handle, report)
    else:
        yield from _lines(handle, report)


def _lines(handle: BinaryIO, report: ReadReport) -> Iterator[tuple[int, Any]]:
    number = 0
    for number, line in enumerate(handle, 1):
        if number == 1:
            line = line.removeprefix(b"\xef\xbb\xbf")
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            if not line.strip():
                continue
            if not line.endswith(b"\n") and line.lstrip().startswith(b"{"):
                report.truncated(number, "incomplete JSON record")
                break
            # orjson refuses some JSON the standard library reads: integers beyond 64 bits, NaN, lone surrogates.
            try:
                value = json.loads(line)
            except RecursionError:
                report.unusable_line(number, "a record nested too deep to read")
                continue
            except ValueError:
                report.unusable_line(number, f"not valid JSON ({exc})")
                continue
        report.lines = number
        yield number, value
    report.lines = number


def _array_elements(handle: BinaryIO, report: ReadReport) -> Iterator[tuple[int, Any]]:
    reader = _ArrayReader(handle, report)
    if not reader.skip_whitespace() or reader.char() != "[":
        raise reader.error("expected a JSON array")
    reader.advance(1)
    elements = 0
    while True:
        if not reader.skip_whitespace():
            report.truncated(reader.line(), "the JSON array is not closed")
            return
        if reader.char() == "]":
            if elements and reader.after_comma:
                raise reader.error("',' before ']' (no element follows it)")
            reader.advance(1)
            if reader.skip_whitespace():
                raise reader.error("text after the end of the JSON array")
            return
        if elements and not reader.after_comma:
            if reader.char() != ",":
                raise reader.error("expected ',' or ']' between array elements")
            reader.advance(1)
            reader.after_comma = True
            continue
        element = reader.element()
        if element is None:
            return
        elements += 1
        reader.after_comma = False
        yield element


_MAX_ELEMENT = 64 << 20


class _ArrayReader:
    """A window on the text of a JSON array file, refilled chunk by chunk so memory stays bounded."""

    def __init__(self, handle: BinaryIO, report: ReadReport) -> None:
        self.handle = handle
        self.report = report
        self.decoder = json.JSONDecoder()
        self.text_decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
        self.buffer = ""
        self.position = 0
        self.line_number = 1
        self.counted_to = 0
        self.eof = False
        self.after_comma = False

    def more(self) -> bool:
        """Read another chunk; False at the end of the file (the buffer is then left as it is)."""
        if self.eof:
            return False
        chunk = self.handle.read(_CHUNK)
        self.eof = not chunk
        try:
            text = self.text_decoder.decode(chunk, final=self.eof)
        except UnicodeDecodeError as exc:
            raise self.error(f"not UTF-8 text ({exc.reason})") from None
        if not text:
            return False
        self.line()
        self.buffer = self.buffer[self.position:] + text
        self.position = self.counted_to = 0
        return True

    def skip_whitespace(self) -> bool:
        """Move to the next non-blank character; False at the end of the file."""
        while True:
            buffer = self.buffer
            position = self.position
            while position < len(buffer) and buffer[position] in _WHITESPACE:
                position += 1
            self.position = position
            if position < len(buffer):
                return True
            if not self.more():
                return False

    def char(self) -> str:
        return self.buffer[self.position]

    def advance(self, count: int) -> None:
        self.position += count

    def line(self) -> int:
        """The line of the current position (counted incrementally: the buffer can be megabytes)."""
        if self.position > self.counted_to:
            self.line_number += self.buffer.count("\n", self.counted_to, self.position)
            self.counted_to = self.position
        return self.line_number

    def error(self, message: str) -> SourceError:
        return SourceError(self.report.source, message, self.line())

    def element(self) -> tuple[int, Any] | None:
        """(line, value) of the element here; None when the file ends inside it."""
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buffer, self.position)
            except json.JSONDecodeError as exc:
                # Most likely the element continues in the next chunk; read on, within reason.
                if len(self.buffer) - self.position < _MAX_ELEMENT and self.more():
                    continue
                if self.eof and (exc.pos >= len(self.buffer) - 1 or exc.msg.startswith("Unterminated")):
                    self.report.truncated(self.line(), "incomplete JSON array element")
                    return None
                line = self.line() + self.buffer.count("\n", self.position, exc.pos)
                raise SourceError(self.report.source, f"not valid JSON ({exc.msg})", line) from None
            line = self.line()
            self.position = end
            return line, value
