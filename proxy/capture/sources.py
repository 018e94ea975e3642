"""One way in for every consumer: :func:`read_events` opens any input ocppscope understands.

``check``, replay, diagnose and the TUI all call it, so a capture, an Open OCPP Trace file or a pasted CSMS
log are analysed the same way. The format is detected from the content (gzip-compressed files too). Each
input is opened once: the bytes read to detect its format are served again to its reader, so standard input
(``-``), a pipe, a FIFO or a process substitution (``<(…)``) reads as a file does.

Formats are the entries of :data:`INPUT_FORMATS`, tried in order: to read a new one, add an
:class:`InputFormat` with a ``sniff`` (does this sample look like it? return the format's name) and a ``read``.
"""

from __future__ import annotations

import gzip
import io
import os
import re
import sys
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import orjson
from ocppscope.proxy.capture.flows import read_flows, sniff_flows
from ocppscope.proxy.capture.format import FORMAT_NAME
from ocppscope.proxy.capture.logs import LOG_FORMATS, read_log, sniff_log_format
from ocppscope.proxy.capture.oot import ExportReport, read_oot
from ocppscope.proxy.capture.pcap import read_pcap, sniff_pcap
from ocppscope.proxy.capture.reader import read_capture_lines
from ocppscope.proxy.capture.report import ReadReport, SourceError, WarningHandler
from ocppscope.proxy.capture.times import LOCAL_ZONE
from ocppscope.proxy.core.events import Event

STDIN = "-"
"""The input name that means standard input."""

_SNIFF_BYTES = 256 * 1024
_SNIFF_LINES = 2000
_GZIP_MAGIC = b"\x1f\x8b"
_OOT_KEY = re.compile(r'(?<!\\)"(?:schemaVersion|messageType)"\s*:')
"""A key of Open OCPP Trace's own (not one inside an escaped string)."""


@dataclass(frozen=True, slots=True)
class Sample:
    """The first bytes of an input (decompressed), as format detection sees them."""

    name: str
    data: bytes
    whole: bool
    """The sample is the whole input (it ended before the sample size)."""

    @property
    def text(self) -> str:
        """The sample as text, without a byte-order mark or leading blank space."""
        return self.data.decode("utf-8", "surrogateescape").lstrip("\ufeff \t\r\n")

    def lines(self) -> list[str]:
        """The sample's complete lines (the last one may be cut by the sample size unless it is ``whole``); the
        start of the first line when it is longer than the sample (a log whose first frame is megabytes)."""
        lines = self.text.split("\n")
        if not self.whole and len(lines) > 1:
            lines = lines[:-1]
        return [line.rstrip("\r") for line in lines[:_SNIFF_LINES]]


@dataclass(frozen=True, slots=True)
class Reading:
    """What a reader gets: the input's bytes once (``handle``), where to report, and the options."""

    handle: BinaryIO
    fmt: str
    report: ReadReport
    log_timezone: str = LOCAL_ZONE


@dataclass(frozen=True, slots=True)
class InputFormat:
    """One entry of the format registry."""

    names: tuple[str, ...]
    """The ``--input-format`` names this entry reads."""
    sniff: Callable[[Sample], str | None]
    """The name of the format ``sample`` is in, or None if it is not one of ``names``."""
    read: Callable[[Reading], Iterator[Event]]


def _sniff_capture(sample: Sample) -> str | None:
    first = _first_object(sample)
    if isinstance(first, dict) and first.get("format") == FORMAT_NAME:
        return "capture"
    if first is None and sample.text.split("\n", 1)[0].startswith('{"type":"header"'):
        return "capture"  # a header cut short; the reader reports it
    return None


def _sniff_oot(sample: Sample) -> str | None:
    first = _first_object(sample)
    if isinstance(first, dict) and ("messageType" in first or "schemaVersion" in first):
        return "oot"
    text = sample.text
    if text[:1] == "[" and text[1:].lstrip(" \t\r\n")[:1] in ("{", "]"):
        return "oot"
    if first is None and not sample.whole and "\n" not in text and _OOT_KEY.search(text, 0, 4096):
        return "oot"  # a first record longer than the sample (a megabyte frame): its keys tell
    return None


def _first_object(sample: Sample) -> object:
    """The first line as JSON when it is an object; None when it does not parse."""
    text = sample.text
    if text[:1] != "{":
        return False
    try:
        return orjson.loads(text.split("\n", 1)[0].encode("utf-8", "surrogateescape"))
    except orjson.JSONDecodeError:
        return None


def _read_log(reading: Reading) -> Iterator[Event]:
    lines = ((number, raw.decode("utf-8", "surrogateescape").rstrip("\r\n"))
             for number, raw in enumerate(reading.handle, 1))
    return read_log(lines, reading.fmt, reading.report, reading.log_timezone)


INPUT_FORMATS: tuple[InputFormat, ...] = (
    InputFormat(("pcap", "pcapng"), lambda sample: sniff_pcap(sample.data), lambda r: read_pcap(r.handle, r.report)),
    InputFormat(("mitmproxy",), lambda sample: sniff_flows(sample.data), lambda r: read_flows(r.handle, r.report)),
    InputFormat(("capture",), _sniff_capture, lambda r: read_capture_lines(r.handle, r.report)),
    InputFormat(("oot",), _sniff_oot, lambda r: read_oot(r.handle, r.report)),
    InputFormat(tuple(LOG_FORMATS), lambda sample: sniff_log_format(sample.lines()), _read_log),
)
"""Every input format, in the order detection tries them."""

FORMATS = tuple(name for entry in INPUT_FORMATS for name in entry.names)
"""Input formats, as ``--input-format`` spells them."""


def read_events(
    path: str | os.PathLike[str],
    fmt: str = "auto",
    *,
    on_warning: WarningHandler | None = None,
    report: ReadReport | None = None,
    log_timezone: str = LOCAL_ZONE,
) -> Iterator[Event]:
    """Yield the events of ``path``, in order, in constant memory.

    ``fmt`` is ``"auto"`` (detect from the content) or one of :data:`FORMATS`; ``path`` may be ``-`` (standard
    input) or a pipe, read once. ``log_timezone`` is the zone a log's times are read in when it prints them
    without one (``--log-timezone``: ``local``, ``UTC``, ``+02:00``, ``Europe/Berlin``). Warnings (a last line
    cut short, lines of a log that are not OCPP traffic, a guess about who wrote a log) go to ``on_warning``
    (default: logged on ``ocppscope.capture``) and into ``report`` if one is given. Unusable input raises
    :class:`~proxy.capture.report.SourceError` (a :class:`CaptureError` for captures) naming the file and line,
    after yielding every event before the problem.
    """
    yield from open_events(path, fmt, on_warning=on_warning, report=report, log_timezone=log_timezone)


def open_events(
    path: str | os.PathLike[str],
    fmt: str = "auto",
    *,
    on_warning: WarningHandler | None = None,
    report: ReadReport | None = None,
    log_timezone: str = LOCAL_ZONE,
) -> Iterator[Event]:
    """:func:`read_events`, but the input is opened and its format detected now: an input that cannot be
    opened or recognised raises here, before the caller creates anything."""
    name = os.fspath(path)
    if report is None:
        report = ReadReport(name, on_warning=on_warning)
    if fmt != "auto" and fmt not in FORMATS:
        raise SourceError(name, f"unknown input format {fmt!r} (known: auto, {', '.join(FORMATS)})")
    handle, sample = open_sniffed(path)
    try:
        if fmt == "auto":
            fmt = _detect(sample)
    except BaseException:
        handle.close()
        raise
    report.format = fmt
    report.handle = handle
    entry = next(entry for entry in INPUT_FORMATS if fmt in entry.names)
    return _events(entry, Reading(handle, fmt, report, log_timezone))


def _events(entry: InputFormat, reading: Reading) -> Iterator[Event]:
    name, report = reading.report.source, reading.report
    try:
        yield from entry.read(reading)
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise SourceError(name, f"the compressed file is damaged or cut short ({exc}); "
                                f"{report.events} event(s) were read before it") from None
    except OSError as exc:
        raise SourceError(name, f"cannot read: {exc.strerror or exc}") from None
    finally:
        reading.handle.close()


class _Replayed(io.RawIOBase):
    """A stream of which the first bytes were already read: they are served again, then the rest."""

    def __init__(self, prefix: bytes, rest: BinaryIO) -> None:
        self._prefix = memoryview(prefix)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._prefix:
            count = min(len(buffer), len(self._prefix))
            buffer[:count] = self._prefix[:count]
            self._prefix = self._prefix[count:]
            return count
        return self._rest.readinto(buffer)  # type: ignore[attr-defined, no-any-return]

    def close(self) -> None:
        self._rest.close()
        super().close()


def _read_up_to(handle: BinaryIO, size: int) -> bytes:
    # A pipe hands out what has been written so far: read until the sample is full or the input ends.
    chunks: list[bytes] = []
    wanted = size
    while wanted > 0:
        chunk = handle.read(wanted)
        if not chunk:
            break
        chunks.append(chunk)
        wanted -= len(chunk)
    return b"".join(chunks)


_READ_BUFFER = 1024 * 1024
"""Bytes read at a time: with the default 8 KiB, a line of a big capture costs half as much again to read."""


def _open_raw(path: str | os.PathLike[str]) -> BinaryIO:
    if os.fspath(path) == STDIN:
        return open(os.dup(sys.stdin.fileno()), "rb")  # a copy: closing it leaves stdin open
    if Path(path).is_dir():
        raise SourceError(os.fspath(path), "is a folder: give it to a command that reads folders")
    return open(path, "rb", buffering=_READ_BUFFER)


def open_sniffed(path: str | os.PathLike[str]) -> tuple[BinaryIO, Sample]:
    """``path`` opened once for binary reading (decompressed if gzip), from its start, and its first bytes.

    A regular file is read again from its start; standard input, a pipe or a FIFO gets its first bytes
    served again from memory, so nothing is read twice and nothing is lost.
    """
    name = os.fspath(path)
    try:
        raw = _open_raw(path)
        try:
            head = _read_up_to(raw, _SNIFF_BYTES)
            seekable = raw.seekable()
            if seekable:
                raw.seek(0)
            stream: BinaryIO = raw if seekable else io.BufferedReader(_Replayed(head, raw))  # type: ignore[arg-type]
            if head[:2] != _GZIP_MAGIC:
                return stream, Sample(name, head, len(head) < _SNIFF_BYTES)
            unpacked: BinaryIO = gzip.GzipFile(fileobj=stream, mode="rb")  # type: ignore[assignment]
            sample = _read_up_to(unpacked, _SNIFF_BYTES)
            if seekable:
                unpacked.seek(0)
            handle = unpacked if seekable else io.BufferedReader(_Replayed(sample, unpacked))  # type: ignore[arg-type]
            return handle, Sample(name, sample, len(sample) < _SNIFF_BYTES)  # type: ignore[return-value]
        except BaseException:
            raw.close()
            raise
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise SourceError(name, f"the compressed file is damaged or cut short ({exc})") from None
    except OSError as exc:
        raise SourceError(name, f"cannot open: {exc.strerror or exc}") from None


def open_input(path: str | os.PathLike[str]) -> BinaryIO:
    """``path`` opened once for binary reading, decompressed on the fly if it is gzip."""
    return open_sniffed(path)[0]


def detect_format(path: str | os.PathLike[str]) -> str:
    """The format of ``path``, from its first bytes; :class:`SourceError` when nothing fits.

    This opens ``path`` on its own: for standard input or a pipe use :func:`open_events`, which reads once.
    """
    handle, sample = open_sniffed(path)
    handle.close()
    return _detect(sample)


def _detect(sample: Sample) -> str:
    if not sample.text:
        raise SourceError(sample.name, "the file is empty")
    for entry in INPUT_FORMATS:
        fmt = entry.sniff(sample)
        if fmt is not None:
            return fmt
    raise SourceError(
        sample.name,
        "cannot tell what this file is: not an ocppscope capture, not Open OCPP Trace, not a pcap/pcapng or "
        "mitmproxy flow file, and no line looks "
        "like a known log (" + ", ".join(LOG_FORMATS) + "); name it with --input-format",
    )


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
    from ocppscope.proxy.capture.inputs import Inputs, export_inputs

    return export_inputs(Inputs.of([path]), target, fmt=fmt, array=array, on_warning=on_warning)
