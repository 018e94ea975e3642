"""Which files a command reads, and several files read as one stream.

Every command that reads traffic resolves its arguments with :func:`resolve_inputs`: files, folders (their
captures and importable files, sorted by name; the folders inside with ``recursive``), glob patterns the shell
left alone, and ``-`` for standard input. What a folder holds that is not traffic is listed in
:attr:`Inputs.ignored`, not fatal.

The files of one capture (the folder a proxy run wrote, one file per connection, or several files given
together) are one recording: :class:`MergedEvents` reads them as one stream ordered by time and sequence, so
rules that follow a charger across connections (reconnects, bursts, concurrent connections, boot retries) see
what the live proxy saw. Files are opened as the merge reaches their first event, so a folder of thousands of
connections keeps only the ones that overlap in time open. A file continued in parts (``name.part002.jsonl``)
is read as one stream with its first part.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import heapq
import itertools
import os
import re
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from ocppscope.proxy.capture.oot import ExportReport, export_oot
from ocppscope.proxy.capture.pcap import add_tls_keylog_argument
from ocppscope.proxy.capture.report import Reading, ReadReport, SourceError, WarningHandler
from ocppscope.proxy.capture.sources import FORMATS, STDIN, detect_format, open_events
from ocppscope.proxy.capture.times import LOCAL_ZONE, log_zone
from ocppscope.proxy.core.events import Event

if TYPE_CHECKING:
    from ocppscope.proxy.check.progress import Progress

_PART = re.compile(r"^(?P<base>.+)\.part\d{3,}(?P<suffix>\.[^.]+)?$")
_GLOB = re.compile(r"[*?[]")


@dataclass(frozen=True, slots=True)
class InputFile:
    """One file to read."""

    name: str
    """As the user named it (or as found in a folder): what messages and reports say."""
    path: str
    """Where to read it: ``name``, or a private copy of a pipe's bytes (:func:`spooled`)."""
    fmt: str | None = None
    """The format found while looking through a folder, so it is not detected twice."""

    @property
    def regular(self) -> bool:
        """A regular file, which can be opened again (standard input, a pipe or a FIFO cannot)."""
        if self.path == STDIN:
            return False
        try:
            return stat.S_ISREG(os.stat(self.path).st_mode)
        except OSError:
            return False


@dataclass
class Inputs:
    """The resolved inputs of a command."""

    files: list[InputFile]
    ignored: list[tuple[str, str]] = field(default_factory=list)
    """(path, why) of what the folders held that is not traffic."""
    label: str = ""
    """The arguments, as a report names the whole set."""

    @classmethod
    def of(cls, names: Iterable[str | os.PathLike[str]]) -> Inputs:
        """Inputs of the given files as they are (no folder lookup)."""
        files = [InputFile(os.fspath(name), os.fspath(name)) for name in names]
        return cls(files, label=_label([file.name for file in files]))

    @property
    def names(self) -> list[str]:
        return [file.name for file in self.files]

    def groups(self) -> list[list[InputFile]]:
        """The files, each with the parts that continue it: one stream of events per group."""
        groups: list[list[InputFile]] = []
        by_base: dict[str, list[InputFile]] = {}
        for file in self.files:
            match = _PART.match(file.name)
            base = f"{match['base']}{match['suffix'] or ''}" if match else None
            if base is not None and base in by_base:
                by_base[base].append(file)
                continue
            group = [file]
            by_base[file.name] = group
            groups.append(group)
        return groups


def resolve_inputs(arguments: Sequence[str | os.PathLike[str]], *, recursive: bool = False,
                   fmt: str = "auto") -> Inputs:
    """The files ``arguments`` name: files as given, folders' traffic files sorted, glob patterns expanded.

    Raises :class:`SourceError` for a name that does not exist, a pattern nothing matches, or inputs that hold
    no traffic at all (with what was found instead).
    """
    files: list[InputFile] = []
    ignored: list[tuple[str, str]] = []
    for argument in arguments:
        name = os.fspath(argument)
        if name == STDIN or os.path.exists(name):
            _add(name, recursive, fmt, files, ignored, given=True)
        elif _GLOB.search(name):
            matches = sorted(glob.glob(name, recursive=True))
            if not matches:
                raise SourceError(name, "no file matches this pattern")
            for match in matches:
                _add(match, recursive, fmt, files, ignored, given=True)
        else:
            raise SourceError(name, "cannot open: No such file or directory")
    unique: dict[str, InputFile] = {}
    for file in files:  # a file named twice (a folder and a file in it) is read once
        key = file.name if file.name == STDIN else os.path.realpath(file.name)
        unique.setdefault(key, file)
    label = _label([os.fspath(argument) for argument in arguments])
    if not unique:
        found = "; ".join(f"{path}: {why}" for path, why in ignored[:5]) or "nothing"
        raise SourceError(label, f"holds no traffic to read (found {found})")
    return Inputs(list(unique.values()), ignored, label)


def _label(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else f"{names[0]} and {len(names) - 1} more"


def _add(name: str, recursive: bool, fmt: str, files: list[InputFile], ignored: list[tuple[str, str]],
         *, given: bool) -> None:
    if name != STDIN and os.path.isdir(name):
        if given or recursive:
            with os.scandir(name) as entries:
                for entry in sorted(entries, key=lambda entry: entry.name):
                    _add(os.path.join(name, entry.name), recursive, fmt, files, ignored, given=False)
        else:
            ignored.append((name, "a folder (-r reads the folders inside)"))
        return
    if given:
        files.append(InputFile(name, name))  # named by the user: an unreadable file is an error, not a note
        return
    if not os.path.isfile(name):
        ignored.append((name, "not a regular file"))
        return
    if fmt != "auto":
        files.append(InputFile(name, name, fmt))
        return
    try:
        found = detect_format(name)
    except SourceError as exc:
        ignored.append((name, f"not traffic: {exc.detail.split(':', 1)[0]}"))
        return
    files.append(InputFile(name, name, found))


@contextlib.contextmanager
def spooled(inputs: Inputs, directory: str | None = None) -> Iterator[Inputs]:
    """``inputs`` with every pipe, FIFO or standard input copied once into a private temporary file (named
    after the input, ``stdin`` for standard input), for a reader that needs to read its inputs more than once;
    the copies are removed afterwards."""
    if all(file.regular for file in inputs.files):
        yield inputs
        return
    with tempfile.TemporaryDirectory(prefix="ocppscope-input-", dir=directory) as folder:  # 0700: secrets
        files = []
        for number, file in enumerate(inputs.files, 1):
            if file.regular:
                files.append(file)
                continue
            copy = os.path.join(folder, str(number), "stdin" if file.path == STDIN else os.path.basename(file.path))
            os.mkdir(os.path.dirname(copy))
            try:
                source = open(os.dup(0), "rb") if file.path == STDIN else open(file.path, "rb")  # noqa: SIM115
            except OSError as exc:
                raise SourceError(file.name, f"cannot open: {exc.strerror or exc}") from None
            with source, open(copy, "xb") as out:
                shutil.copyfileobj(source, out, 1024 * 1024)
            files.append(replace(file, path=copy))
        yield replace(inputs, files=files)


@contextlib.contextmanager
def file_paths(inputs: Inputs, fmt: str = "auto", log_timezone: str = LOCAL_ZONE) -> Iterator[list[str]]:
    """Paths of ``inputs`` for a reader that opens its files by name, perhaps more than once (the terminal UI):
    pipes, FIFOs and standard input copied once (:func:`spooled`); and, when ``log_timezone`` is not local
    time, the logs among them read in that zone into private, redacted capture copies. Removed afterwards."""
    from ocppscope.proxy.capture.logs import LOG_FORMATS
    from ocppscope.proxy.capture.writer import CaptureWriter

    with spooled(inputs) as readable:
        if log_timezone == LOCAL_ZONE:
            yield [file.path for file in readable.files]
            return
        with tempfile.TemporaryDirectory(prefix="ocppscope-input-") as folder:
            paths = []
            for number, file in enumerate(readable.files, 1):
                found = file.fmt or (fmt if fmt != "auto" else detect_format(file.path))
                if found not in LOG_FORMATS:
                    paths.append(file.path)
                    continue
                copy = os.path.join(folder, f"{number}-{os.path.basename(file.name) or 'stdin'}.jsonl")
                report = ReadReport(file.name, on_warning=lambda _text: None)  # the reader itself says them
                with CaptureWriter(copy) as writer:
                    for event in open_events(file.path, found, report=report, log_timezone=log_timezone):
                        writer.write(event)
                paths.append(copy)
            yield paths


class MergedEvents:
    """The events of several inputs as one stream, by time, then sequence number, then input order.

    Connection ids are kept (those of one proxy run are unique across its files) unless two inputs use the
    same one: the input that used it first keeps it, the other's become ``N:id`` (N its place in the list).
    :attr:`source_of` maps each connection id to the file it came from; :attr:`reports` holds one
    :class:`ReadReport` per file, in order.
    """

    def __init__(self, inputs: Inputs, fmt: str = "auto", *, on_warning: WarningHandler | None = None,
                 log_timezone: str = LOCAL_ZONE) -> None:
        self.inputs = inputs
        self.reports = [ReadReport(file.name, on_warning=on_warning) for file in inputs.files]
        self.source_of: dict[str, str] = {}
        self._fmt = fmt
        self._zone = log_timezone
        self._report_of = {file.name: report for file, report in zip(inputs.files, self.reports, strict=True)}
        self._owner: dict[str, int] = {}

    def reading(self) -> Reading:
        """What reading all inputs found, as one :class:`Reading` (the warnings name their files)."""
        parts = [report.summary() for report in self.reports]
        formats = sorted({part.format for part in parts})
        cut = [part.truncated_line for part in parts if part.truncated_line is not None]
        return Reading(
            self.inputs.label, "+".join(formats), sum(p.events for p in parts), sum(p.lines for p in parts),
            sum(p.unusable for p in parts), cut[0] if len(parts) == 1 and cut else None,
            sum(p.skipped for p in parts), [warning for part in parts for warning in part.warnings],
            [note for report in self.reports for note in report.notes],
        )

    def size(self) -> int | None:
        """Bytes of all inputs when every one is a regular file, else None (a pipe's size is not known)."""
        if not all(file.regular for file in self.inputs.files):
            return None
        total = 0
        for file in self.inputs.files:
            with contextlib.suppress(OSError):
                total += os.stat(file.path).st_size
        return total

    def bytes_read(self) -> int:
        """How far the readers have come, in bytes over all inputs (a finished input counts whole)."""
        done = 0
        for file, report in zip(self.inputs.files, self.reports, strict=True):
            handle = report.handle
            if handle is None:
                continue
            try:
                done += handle.tell()
            except (OSError, ValueError):  # closed: read to its end
                with contextlib.suppress(OSError):
                    done += os.stat(file.path).st_size
        return done

    def notes(self) -> list[str]:
        """What the readers did that is worth knowing (the zone a log's times were read in, …), file by file."""
        return [note for report in self.reports for note in report.notes]

    def __iter__(self) -> Iterator[Event]:
        groups = self.inputs.groups()
        if len(groups) == 1:
            source = groups[0][0].name
            for event in self._group_events(groups[0]):
                self.source_of.setdefault(event.conn_id, source)
                yield event
            return
        yield from self._merge(groups)

    def _open(self, file: InputFile) -> Iterator[Event]:
        return open_events(file.path, file.fmt or self._fmt, report=self._report_of[file.name],
                           log_timezone=self._zone)

    def _group_events(self, group: list[InputFile]) -> Iterator[Event]:
        for file in group:
            yield from self._open(file)

    def _merge(self, groups: list[list[InputFile]]) -> Iterator[Event]:
        # Each group waits, by the time of its first event, until the merge reaches it: only the inputs that
        # overlap in time are open at once. Pipes cannot be peeked and opened again: they are open throughout.
        waiting: list[tuple[float, int, int]] = []
        streams: dict[int, Iterator[Event]] = {}
        for number, group in enumerate(groups):
            if all(file.regular for file in group):
                start = self._first_time(group[0])
                if start is not None:
                    waiting.append((start, 0, number))
                    continue
            streams[number] = self._group_events(group)  # a pipe, or nothing to wait for (it reports why)
        waiting.sort()
        waiting.reverse()
        heap: list[tuple[float, int, int, Event]] = []

        def advance(number: int) -> None:
            stream = streams[number]
            for event in stream:
                heapq.heappush(heap, (event.time, event.seq, number, self._owned(event, number, groups)))
                return
            del streams[number]

        for number in list(streams):
            advance(number)
        while heap or waiting:
            while waiting and (not heap or waiting[-1][0] <= heap[0][0]):
                number = waiting.pop()[2]
                streams[number] = self._group_events(groups[number])
                advance(number)
            if not heap:
                continue
            _time, _seq, number, event = heapq.heappop(heap)
            yield event
            advance(number)

    def _first_time(self, file: InputFile) -> float | None:
        quiet = ReadReport(file.name, on_warning=lambda _text: None)
        events = open_events(file.path, file.fmt or self._fmt, report=quiet, log_timezone=self._zone)
        try:
            first = next(events, None)
        finally:
            events.close()  # type: ignore[attr-defined]
        return first.time if first is not None else None

    def _owned(self, event: Event, number: int, groups: list[list[InputFile]]) -> Event:
        conn = event.conn_id
        owner = self._owner.setdefault(conn, number)
        if owner != number:
            conn = event.conn_id = f"{number + 1}:{conn}"
            self._owner.setdefault(conn, number)
        if conn not in self.source_of:
            self.source_of[conn] = groups[number][0].name
        return event


def merged_events(inputs: Inputs, fmt: str = "auto", *, on_warning: WarningHandler | None = None,
                  log_timezone: str = LOCAL_ZONE) -> MergedEvents:
    """The events of ``inputs`` as one stream; see :class:`MergedEvents`."""
    return MergedEvents(inputs, fmt, on_warning=on_warning, log_timezone=log_timezone)


def input_paths(inputs: Inputs) -> list[Path]:
    """The files to read, as paths."""
    return [Path(file.path) for file in inputs.files]


def export_inputs(inputs: Inputs, target: str | os.PathLike[str] | BinaryIO, *, fmt: str = "auto",
                  array: bool = False, on_warning: WarningHandler | None = None,
                  log_timezone: str = LOCAL_ZONE, on_note: WarningHandler | None = None,
                  progress: bool = False) -> ExportReport:
    """Export ``inputs`` as one stream to Open OCPP Trace; a pipe among them is read once (into a copy).

    The export reads its input twice (see :func:`~proxy.capture.oot.export_oot`); the warnings and notes are
    given once, from the pass that writes.
    """
    if isinstance(target, str | os.PathLike):
        written = os.path.realpath(target)
        for file in inputs.files:
            if file.name != STDIN and os.path.realpath(file.name) == written:
                raise SourceError(file.name, "the export would overwrite its own input")
    with spooled(inputs) as readable:
        planning = merged_events(readable, fmt, on_warning=lambda _message: None, log_timezone=log_timezone)
        first = iter(planning)
        head = next(first, None)  # an unreadable input fails here, before the output is created
        plan = itertools.chain([] if head is None else [head], first)
        writing = merged_events(readable, fmt, on_warning=on_warning, log_timezone=log_timezone)
        from ocppscope.proxy.check.progress import counted

        shown = progress_of(argparse.Namespace(progress=progress), writing)
        report = export_oot(plan, counted(writing, shown), target, array=array)
        for note in writing.notes() if on_note is not None else ():
            on_note(note)
        return report


INPUTS_HELP = ("ocppscope captures, Open OCPP Trace files or logs; folders (their traffic files, sorted), "
               "glob patterns, or - for standard input")


def add_input_arguments(parser: argparse.ArgumentParser, *, dest: str = "inputs", metavar: str = "CAPTURE",
                        nargs: str | None = "+", help: str = INPUTS_HELP, reading: bool = True) -> None:
    """The positional inputs, ``-r/--recursive`` and (unless ``reading`` is false) how they are read:
    ``--input-format`` and ``--log-timezone``. Every command that reads traffic takes them this way."""
    parser.add_argument(dest, nargs=nargs, metavar=metavar, help=help)
    add_recursive_argument(parser)
    if reading:
        add_reading_arguments(parser)


def add_recursive_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-r", "--recursive", action="store_true",
                        help="read the folders inside a folder too")


def add_reading_arguments(parser: argparse.ArgumentParser) -> None:
    """``--input-format``, ``--log-timezone`` and ``--tls-keylog``."""
    parser.add_argument("--input-format", default="auto", choices=("auto", *FORMATS), metavar="FORMAT",
                        help="format of the inputs: auto (detect from the content, the default) or one of "
                        + ", ".join(FORMATS))
    parser.add_argument("--log-timezone", default=LOCAL_ZONE, type=zone_argument, metavar="ZONE",
                        help="the zone of log times printed without one: local (the default), UTC, an offset "
                        "like +02:00 or a name like Europe/Berlin; times printed with a zone are read in it. "
                        "The report says which zone was used")
    add_tls_keylog_argument(parser)


def zone_argument(text: str) -> str:
    """``--log-timezone``: a zone :func:`~proxy.capture.times.log_zone` accepts, kept as given."""
    try:
        log_zone(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def inputs_from_args(args: argparse.Namespace, names: Sequence[str | os.PathLike[str]] | None = None,
                     fmt: str | None = None) -> Inputs:
    """The resolved inputs (``args.inputs`` unless ``names``); what the folders held besides traffic is listed
    on stderr."""
    arguments = args.inputs if names is None else names
    if sum(os.fspath(name) == STDIN for name in arguments) > 1:
        raise SourceError(STDIN, "standard input can be read only once: give - once")
    inputs = resolve_inputs(arguments, recursive=getattr(args, "recursive", False),
                            fmt=fmt or getattr(args, "input_format", "auto"))
    for path, why in inputs.ignored:
        print(f"ocppscope: not read: {path}: {why}", file=sys.stderr)
    return inputs


def warn_on_stderr(message: str) -> None:
    """The warning handler of commands that print their report on stdout."""
    print(f"ocppscope: warning: {message}", file=sys.stderr)


def events_from_args(args: argparse.Namespace, inputs: Inputs, *, on_warning: WarningHandler | None = warn_on_stderr
                     ) -> MergedEvents:
    """The events of ``inputs`` as one stream, read as ``--input-format`` and ``--log-timezone`` say."""
    return merged_events(inputs, getattr(args, "input_format", "auto"), on_warning=on_warning,
                         log_timezone=getattr(args, "log_timezone", LOCAL_ZONE))


def progress_of(args: argparse.Namespace, events: MergedEvents) -> Progress | None:
    """Progress on stderr for reading ``events`` (a terminal, or ``--progress``): percent and time left when
    every input is a regular file."""
    from ocppscope.proxy.check.progress import Progress, wanted

    if not wanted(sys.stderr, getattr(args, "progress", False)):
        return None
    return Progress(events.inputs.label, sys.stderr, events.size(), position=events.bytes_read)


def say_notes(events: MergedEvents) -> None:
    """Print on stderr what the readers noted (the zone a log's times were read in, frames joined back, …)."""
    for note in events.notes():
        note_on_stderr(note)


def note_on_stderr(note: str) -> None:
    print(f"ocppscope: note: {note}", file=sys.stderr)
