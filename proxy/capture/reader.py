"""Reading captures: a stream of events in constant memory, with a clear account of a crash-cut file."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import BinaryIO

import msgspec
import orjson

from proxy.capture.format import DECODE_ERRORS, check_header, decode_message, decode_text_message, decoders
from proxy.capture.report import CaptureError, ReadReport, WarningHandler, describe_error
from proxy.core.events import Event, Message

_NUL_PADDING = b"\x00"


def read_capture(
    source: str | os.PathLike[str] | BinaryIO,
    *,
    on_warning: WarningHandler | None = None,
    report: ReadReport | None = None,
) -> Iterator[Event]:
    """Yield the events of a capture file, in order.

    A last line cut short (the writer stopped mid-record) is not an error: it is reported through
    ``report.truncated_line`` and ``on_warning`` (default: a logged warning naming the line), and every
    event before it is yielded. Anything else that cannot be read (garbage, a malformed record, an unknown
    major version) raises :class:`CaptureError` naming the file and line, after the events before it.
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
    count = 0
    try:
        for number, line in enumerate(iterator, 2):
            try:
                text = fast(line)
            except fast_error:
                pass
            else:
                count += 1
                # Built here, not in a helper: a million frames make a function call a measurable cost.
                yield Message(text.conn, text.t, text.dir, text.text.encode(), True, text.seq, text.redacted)
                continue
            try:
                record = loads(line)
                kind = record["type"]
                if kind == "msg":  # nearly every record: no table lookup
                    event = decode_message(record)
                else:
                    decoder = table.get(kind)
                    if decoder is None:
                        continue  # a record type from a newer minor version
                    event = decoder(record)
            except orjson.JSONDecodeError:
                if not line.strip():
                    continue  # a blank line, e.g. from editing the file by hand
                if _cut_short(line, iterator):
                    report.truncated(number, "incomplete JSON record")
                    return
                raise CaptureError(path, "not a JSON record (the capture is damaged here)", number) from None
            except DECODE_ERRORS as exc:
                raise CaptureError(path, f"malformed record: {describe_error(exc)}", number) from None
            count += 1
            yield event
    finally:
        report.events += count


def _cut_short(line: bytes, rest: Iterator[bytes]) -> bool:
    """Whether ``line`` is the remains of a record being written when the writer stopped.

    That is the last line, without its newline; or a line of NUL bytes that a file system left behind
    after a crash, with only more such padding after it.
    """
    if line.strip(_NUL_PADDING + b"\n") == b"" or not line.endswith(b"\n"):
        return all(not more.strip(_NUL_PADDING + b"\n") for more in rest)
    return False
