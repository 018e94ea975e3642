"""One way in for every consumer: :func:`read_events` opens any input ocppscope understands.

``check``, replay, diagnose and the TUI all call it, so a capture, an Open OCPP Trace file or a pasted CSMS
log are analysed the same way. The format is detected from the content (gzip-compressed files too).
"""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import orjson

from proxy.capture.format import FORMAT_NAME
from proxy.capture.logs import LOG_FORMATS, read_log, sniff_log_format
from proxy.capture.oot import ExportReport, export_oot, read_oot
from proxy.capture.reader import read_capture_lines
from proxy.capture.report import ReadReport, SourceError, WarningHandler
from proxy.core.events import Event

FORMATS = ("capture", "oot", *LOG_FORMATS)
"""Input formats, as ``--format`` spells them."""

_SNIFF_BYTES = 256 * 1024
_SNIFF_LINES = 2000
_GZIP_MAGIC = b"\x1f\x8b"


def read_events(
    path: str | os.PathLike[str],
    fmt: str = "auto",
    *,
    on_warning: WarningHandler | None = None,
    report: ReadReport | None = None,
) -> Iterator[Event]:
    """Yield the events of ``path``, in order, in constant memory.

    ``fmt`` is ``"auto"`` (detect from the content) or one of :data:`FORMATS`. Warnings (a last line cut
    short, lines of a log that are not OCPP traffic, a guess about who wrote a log) go to ``on_warning``
    (default: logged on ``ocppscope.capture``) and into ``report`` if one is given. Unusable input raises
    :class:`~proxy.capture.report.SourceError` (a :class:`CaptureError` for captures) naming the file and line,
    after yielding every event before the problem.
    """
    name = os.fspath(path)
    if report is None:
        report = ReadReport(name, on_warning=on_warning)
    if fmt == "auto":
        fmt = detect_format(path)
    elif fmt not in FORMATS:
        raise SourceError(name, f"unknown input format {fmt!r} (known: auto, {', '.join(FORMATS)})")
    report.format = fmt
    handle = open_input(path)
    try:
        if fmt == "capture":
            yield from read_capture_lines(handle, report)
        elif fmt == "oot":
            yield from read_oot(handle, report)
        else:
            lines = ((number, raw.decode("utf-8", "surrogateescape").rstrip("\r\n"))
                     for number, raw in enumerate(handle, 1))
            yield from read_log(lines, fmt, report)
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise SourceError(name, f"the compressed file is damaged or cut short ({exc}); "
                                f"{report.events} event(s) were read before it") from None
    except OSError as exc:
        raise SourceError(name, f"cannot read: {exc.strerror or exc}") from None
    finally:
        handle.close()


def open_input(path: str | os.PathLike[str]) -> BinaryIO:
    """``path`` opened for binary reading, decompressed on the fly if it is gzip."""
    try:
        handle: BinaryIO = open(path, "rb")  # noqa: SIM115 - returned to the caller, who closes it
        if handle.peek(2)[:2] == _GZIP_MAGIC:  # type: ignore[attr-defined]
            handle.close()
            handle = gzip.open(path, "rb")  # type: ignore[assignment]  # noqa: SIM115
    except OSError as exc:
        raise SourceError(os.fspath(path), f"cannot open: {exc.strerror or exc}") from None
    return handle


def detect_format(path: str | os.PathLike[str]) -> str:
    """The format of ``path``, from its first bytes; :class:`SourceError` when nothing fits."""
    name = os.fspath(path)
    with open_input(path) as handle:
        try:
            sample = handle.read(_SNIFF_BYTES)
        except (EOFError, zlib.error, gzip.BadGzipFile, OSError) as exc:
            raise SourceError(name, f"cannot read: {exc}") from None
    text = sample.decode("utf-8", "surrogateescape").lstrip("\ufeff \t\r\n")
    if not text:
        raise SourceError(name, "the file is empty")
    first_line = text.split("\n", 1)[0]
    if text[0] == "{":
        try:
            first = orjson.loads(first_line.encode("utf-8", "surrogateescape"))
        except orjson.JSONDecodeError:
            first = None
        if isinstance(first, dict):
            if first.get("format") == FORMAT_NAME:
                return "capture"
            if "messageType" in first or "schemaVersion" in first:
                return "oot"
        elif first_line.startswith('{"type":"header"'):
            return "capture"  # a header cut short; the reader reports it
    if text[0] == "[" and text[1:].lstrip(" \t\r\n")[:1] in ("{", "]"):
        return "oot"
    lines = text.split("\n")
    if len(sample) == _SNIFF_BYTES:
        lines = lines[:-1]  # the last one may be cut by the sample
    fmt = sniff_log_format(line.rstrip("\r") for line in lines[:_SNIFF_LINES])
    if fmt is None:
        raise SourceError(
            name,
            "cannot tell what this file is: not an ocppscope capture, not Open OCPP Trace, and no line looks "
            "like a known CSMS log (ocpp-go/evcc, Home Assistant, SteVe, plain '<time> <direction> <frame>'); "
            "name it with --format",
        )
    return fmt


def export_to_oot(
    path: str | os.PathLike[str],
    target: str | os.PathLike[str] | BinaryIO,
    *,
    fmt: str = "auto",
    array: bool = False,
    on_warning: WarningHandler | None = None,
) -> ExportReport:
    """Export any input to Open OCPP Trace (JSON Lines, or a JSON array with ``array``).

    Returns what was written and what the format could not hold; show its ``describe()`` to the user.
    """
    if isinstance(target, str | os.PathLike) and Path(target).resolve() == Path(path).resolve():
        raise SourceError(os.fspath(path), "the export would overwrite its own input")
    if fmt == "auto":
        fmt = detect_format(path)  # an unreadable input fails here, before the output is created
    # Two passes over the input; its warnings are shown once, from the pass that writes.
    planning = ReadReport(os.fspath(path), on_warning=lambda _message: None)
    return export_oot(read_events(path, fmt, report=planning), read_events(path, fmt, on_warning=on_warning),
                      target, array=array)
