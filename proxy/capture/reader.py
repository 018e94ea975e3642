"""Reading captures: a stream of events in constant memory, with a clear account of a crash-cut file."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any, BinaryIO

import msgspec
import orjson
from ocppscope.proxy.capture.format import (
    DECODE_ERRORS,
    MAX_SEQ,
    PLAUSIBLE_TIMES,
    Record,
    check_header,
    decode_message,
    decode_text_message,
    decoders,
    implausible,
)
from ocppscope.proxy.capture.report import CaptureError, ReadReport, WarningHandler, describe_error
from ocppscope.proxy.core.events import ConnectionClosed, ConnectionOpened, Event, Gap, Message, Ping

_NUL_PADDING = b"\x00"
_RECORD_TYPES = {Message: "msg", ConnectionOpened: "open", ConnectionClosed: "close", Ping: "ping", Gap: "gap"}


def read_capture(
    source: str | os.PathLike[str] | BinaryIO,
    *,
    on_warning: WarningHandler | None = None,
    report: ReadReport | None = None,
) -> Iterator[Event]:
    """Yield the events of a capture file, in order.

    A last line cut short (the writer stopped mid-record) is not an error: it is reported through
    ``report.truncated_line`` and ``on_warning`` (default: a logged warning naming the line), and every
    event before it is yielded. A line in the middle that cannot be used (garbage, a malformed record, a time
    or sequence number that cannot be true) is named in a warning with its line and why, counted in
    ``report.unusable``, and skipped: the rest of the file is still read. A file that is no capture at all (no
    header, an unknown major version) raises :class:`CaptureError` naming the file and line.
    """
    name = os.fspath(source) if isinstance(source, str | os.PathLike) else getattr(source, "name", "<capture>")
    if report is None:
        report = ReadReport(str(name), on_warning=on_warning)
    report.format = "capture"
    if isinstance(source, str | os.PathLike):
        try:
            handle = open(source, "rb")  # noqa: SIM115 - closed in the finally below
        except OSError as exc:
            raise CaptureError(str(name), f"cannot open: {exc.strerror or exc}") from exc
        try:
            yield from read_capture_lines(handle, report)
        finally:
            handle.close()
    else:
        yield from read_capture_lines(source, report)


def read_capture_lines(lines: Iterable[bytes], report: ReadReport) -> Iterator[Event]:
    """The events of capture ``lines`` (each with its newline, as a binary file yields them)."""
    path = report.source
    iterator = iter(lines)
    first = next(iterator, None)
    if first is None or not first.strip(b" \t\r\n\x00"):
        report.truncated(1, "the file is empty: not even the header was written")
        return
    try:
        header = orjson.loads(first)
    except orjson.JSONDecodeError:
        if not first.endswith(b"\n") and first.lstrip().startswith(b"{"):
            report.truncated(1, "the header itself is incomplete")
            return
        raise CaptureError(path, "not an ocppscope capture (the first line is not JSON)", 1) from None
    problem = check_header(header)
    if problem is not None:
        raise CaptureError(path, problem, 1)
    report.header = header
    table = decoders()
    loads = orjson.loads
    fast = decode_text_message
    fast_error = msgspec.DecodeError
    earliest, latest = PLAUSIBLE_TIMES
    count = 0
    number = 1
    padding_from: int | None = None
    try:
        for number, line in enumerate(iterator, 2):
            try:
                text = fast(line)
            except fast_error:
                pass
            else:
                time = text.t
                if earliest <= time <= latest and 0 <= text.seq <= MAX_SEQ:
                    count += 1
                    # Built here, not in a helper: a million frames make a function call a measurable cost.
                    yield Message(text.conn, time, text.dir, text.text.encode(), True, text.seq, text.redacted,
                                  text.cut, text.injected)
                    continue
            if not line.strip(_NUL_PADDING + b" \t\r\n"):
                if line.strip(b" \t\r\n") and padding_from is None:
                    padding_from = number  # NUL bytes a file system left after a crash: cut short if nothing follows
                continue  # a blank line, e.g. from editing the file by hand
            if padding_from is not None:
                report.unusable_line(padding_from, "NUL bytes instead of a record (the capture is damaged here)")
                padding_from = None
            try:
                event = _decode_line(line, table, loads)
            except _Unreadable as exc:
                if not line.endswith(b"\n") and exc.not_json:
                    report.truncated(number, "incomplete JSON record")
                    return
                report.unusable_line(number, str(exc))
                continue
            if event is None:
                report.skip(number, line[:400].decode("utf-8", "backslashreplace"))  # a newer minor version's type
                continue
            problem = implausible(event)
            if problem is not None:
                report.unusable_line(number, f"{_RECORD_TYPES.get(type(event), 'a')} record: {problem}")
                continue
            count += 1
            yield event
        if padding_from is not None:
            report.truncated(padding_from, "NUL bytes where the last records should be")
    finally:
        report.events += count
        report.lines = max(report.lines, number)
    report.finish()


class _Unreadable(Exception):
    """A capture line that holds no usable record; the message says why."""

    def __init__(self, why: str, not_json: bool = False) -> None:
        super().__init__(why)
        self.not_json = not_json


def _decode_line(line: bytes, table: dict[str, Callable[[Record], Event]],
                 loads: Callable[[bytes], Any]) -> Event | None:
    """The event of a capture line that missed the fast path; None for a record type this version skips."""
    try:
        record = loads(line)
    except orjson.JSONDecodeError:
        # orjson refuses some JSON the standard library reads: integers beyond 64 bits, NaN, lone surrogates.
        try:
            record = json.loads(line)
        except RecursionError:
            raise _Unreadable("a record nested too deep to read") from None
        except ValueError:
            raise _Unreadable("not a JSON record (the capture is damaged here)", not_json=True) from None
    if type(record) is not dict:
        raise _Unreadable(f"a record must be a JSON object, this line holds a JSON {type(record).__name__}")
    kind = record.get("type")
    if type(kind) is not str:
        raise _Unreadable("malformed record: its type must be a string")
    try:
        if kind == "msg":  # nearly every record: no table lookup
            return decode_message(record)
        decoder = table.get(kind)
        return decoder(record) if decoder is not None else None
    except (*DECODE_ERRORS, OverflowError, RecursionError) as exc:
        raise _Unreadable(f"malformed {kind} record: {describe_error(exc)}") from None
