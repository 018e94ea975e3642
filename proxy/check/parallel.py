"""Check one big capture on several cores: each worker analyses the chargers of its shard.

Every worker reads the whole file but fully decodes only its own records: a message or close record names
its connection near the start of the line, so a foreign one is skipped after a byte search. Open records are
decoded by all workers, because they map a connection to its charger, and a shard is a set of chargers: all
connections of one charger go to one worker, so rules that follow a charger across reconnects see them all.
Records written another way than ocppscope writes them (a space after colons, other key order: Python's
``json.dumps``, ``jq``) are routed by decoding them: slower, never counted twice.

A worker sees only its own lines, so it cannot name a bad line by its number: when any worker's read found
something to say (an unusable or cut line), :func:`analyze_parallel` returns None and the caller runs the
capture serially, which names it exactly. A worker that fails (an exception, or killed by a signal or the
out-of-memory killer) is an error, :class:`WorkerFailed`: the command exits 3, never reruns the capture serially
as if nothing happened. Each worker tells how far into the file it is, for the progress line.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import sys
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import orjson
from ocppscope.proxy.capture.reader import read_capture_lines
from ocppscope.proxy.capture.report import ReadReport
from ocppscope.proxy.capture.sources import detect_format, open_input
from ocppscope.proxy.check.progress import Progress
from ocppscope.proxy.check.runner import InputResult, analyze_events, connection_order, finding_order, sorted_omitted
from ocppscope.proxy.core.analyzer import AnalyzerOptions, Checker
from ocppscope.proxy.core.connection import identity_from_path

MIN_PARALLEL_BYTES = 32 * 1024 * 1024
"""Below this a capture is checked in one process: starting workers would cost more than it saves."""

_CONN = b'"conn":"'
_OPEN = b'{"type":"open"'
_CLOSE = b'{"type":"close"'
_TYPE_FIRST = b'{"type":"'
_CONN_KEY = b'"conn"'
_STYLE_SAMPLE = 64
"""Records looked at to tell whether a capture is written the way ocppscope writes it (the fast path)."""


class WorkerFailed(RuntimeError):
    """A worker process of a parallel check died: the result would be incomplete, so there is none."""


_positions: Any = None
"""In a worker: the shared array where each shard writes how many bytes of the file it has read."""


def _share_positions(positions: Any) -> None:
    global _positions
    _positions = positions


def default_jobs() -> int:
    return max(1, min(os.cpu_count() or 1, 4))


def worth_parallel(path: Path, jobs: int) -> bool:
    try:
        return jobs > 1 and path.stat().st_size >= MIN_PARALLEL_BYTES and detect_format(path) == "capture"
    except OSError:
        return False


class SerialNeeded(Exception):
    """The capture cannot be split by connection: the message says why (a run in one process follows)."""


def _shard_of(key: str, shards: int) -> int:
    # crc32, not hash(): every worker process must place a key in the same shard.
    return zlib.crc32(key.encode("utf-8", "surrogatepass")) % shards


class _ShardLines:
    """The lines of a capture that belong to one shard: the header goes to every shard, a line that is no
    routable record (blank, broken) to the first one only, so nothing is counted twice."""

    def __init__(self, lines: Iterable[bytes], shard: int, shards: int) -> None:
        self._lines = lines
        self._shard = shard
        self._shards = shards
        self._conn_shard: dict[bytes, int] = {}
        self._closed: set[bytes] = set()
        self.last_line = b""
        self.count = 0
        """Lines read, this shard's or not."""

    def __iter__(self) -> Iterator[bytes]:
        lines = iter(self._lines)
        header = next(lines, None)
        if header is None:
            return
        self.last_line = header
        self.count = 1
        yield header
        sample = list(itertools.islice(lines, _STYLE_SAMPLE))
        ours = all(line.startswith(_TYPE_FIRST) and _CONN in line for line in sample if line.strip())
        rest = itertools.chain(sample, lines)
        yield from (self._written_by_us(rest) if ours else self._decoded(rest))

    def _written_by_us(self, lines: Iterable[bytes]) -> Iterator[bytes]:
        # Half of all lines are another worker's; this loop is most of what they cost, so it does the least.
        # partition(), not find(): find() parses its arguments on every call, which costs more than the search.
        # The first `"conn":"` of a line is the record's own field: inside a JSON string every quote is escaped.
        shard, conn_shard, owner_of, closed = self._shard, self._conn_shard, self._owner, self._closed
        last = b""
        count = 0
        try:
            for count, line in enumerate(lines, 2):  # noqa: B007 - kept for the count
                _, found, rest = line.partition(_CONN)
                if not found:
                    if line and not line.isspace():  # blank lines after the last record do not end the input
                        last = line
                    if self._route(line) == shard:  # written another way, or no record at all
                        yield line
                    continue
                last = line
                conn, quoted, _ = rest.partition(b'"')
                owner = conn_shard.get(conn)
                try:
                    # Cheaper than startswith(): the "o" (111) of {"type":"open" (reopened ids are rerouted), the
                    # "c" (99) of {"type":"close"; any other record opens a closed id again for the analyzer.
                    kind = line[9]
                    if owner is None or kind == 111:
                        owner = owner_of(line, conn, bool(quoted))
                    elif kind == 99:
                        closed.add(conn)
                    elif closed and conn in closed:
                        closed.discard(conn)
                except IndexError:  # a broken 9-byte line
                    owner = 0
                if owner == shard:
                    yield line
        finally:
            self.last_line = last or self.last_line
            self.count = max(self.count, count)

    def _decoded(self, lines: Iterable[bytes]) -> Iterator[bytes]:
        shard, route = self._shard, self._route
        last = b""
        count = 0
        try:
            for count, line in enumerate(lines, 2):  # noqa: B007 - kept for the count
                if line and not line.isspace():
                    last = line
                if route(line) == shard:
                    yield line
        finally:
            self.last_line = last or self.last_line
            self.count = max(self.count, count)

    def _route(self, line: bytes) -> int:
        """The shard of a line, from its decoded record; the first shard's for a line that is none."""
        if _CONN_KEY not in line:
            return 0
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            return 0
        conn = record.get("conn") if isinstance(record, dict) else None
        if not isinstance(conn, str):
            return 0
        key = orjson.dumps(conn)[1:-1]  # as the fast path sees it: the id between its quotes, escaped
        kind = record.get("type")
        if kind == "open":
            self._opening(key, record.get("status"))
            path = record.get("path")
            return self._remember(key, identity_from_path(path) if isinstance(path, str) else None)
        if kind == "close":
            self._closed.add(key)
        else:
            self._closed.discard(key)
        owner = self._conn_shard.get(key)
        return owner if owner is not None else self._remember(key, None)

    def _remember(self, conn: bytes, charger: str | None) -> int:
        owner = self._conn_shard[conn] = (_shard_of(charger, self._shards) if charger
                                          else zlib.crc32(conn) % self._shards)
        return owner

    def _owner(self, line: bytes, conn: bytes, quoted: bool) -> int:
        if line.startswith(_OPEN):
            return self._open_owner(line, conn)
        if not quoted:
            return 0  # a broken line: the first worker's reader reports it
        if line.startswith(_CLOSE):
            self._closed.add(conn)
        return self._remember(conn, None)

    def _open_owner(self, line: bytes, conn: bytes) -> int:
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            return 0  # broken: the first worker's reader reports it
        self._opening(conn, record.get("status"))
        path = record.get("path") or ""
        return self._remember(conn, identity_from_path(path) if isinstance(path, str) else None)

    def _opening(self, conn: bytes, status: object) -> None:
        if conn in self._conn_shard and conn not in self._closed:
            # The analyzer closes the open one where the id opens again (capture.connection-reopened): the
            # shard that has it may not be the one the new opening goes to.
            raise SerialNeeded(f"opens connection {conn.decode('utf-8', 'replace')} again while it is open: "
                               "checked in one process, where the open one is closed first")
        if status == 101:
            self._closed.discard(conn)
        else:
            self._closed.add(conn)  # a refused handshake: the analyzer keeps nothing of it

    def end_time(self) -> float | None:
        try:
            record = orjson.loads(self.last_line)
        except orjson.JSONDecodeError:
            return None
        time = record.get("t") if isinstance(record, dict) else None
        return float(time) if isinstance(time, int | float) else None


def _analyze_shard(path: Path, shard: int, shards: int, options: AnalyzerOptions,
                   checkers: Callable[[], list[Checker]] | None) -> InputResult | str:
    """This shard's result, or why the capture must be checked in one process."""
    report = ReadReport(str(path), on_warning=lambda _text: None)
    report.format = "capture"  # as the serial reader says (worth_parallel took only captures)
    handle = open_input(path)
    try:
        lines = _ShardLines(handle, shard, shards)
        try:
            result = analyze_events(path, read_capture_lines(lines, report), checkers() if checkers else None,
                                    options, progress=_position_reporter(handle, shard), end_time=lines.end_time)
        except SerialNeeded as exc:
            return str(exc)
        result.reading = report.summary()
        result.reading.lines = lines.count
        return result
    finally:
        handle.close()


def _position_reporter(handle: Any, shard: int) -> Callable[[int], None] | None:
    """A progress callback that stores how far into the file (compressed or not) this worker has read."""
    if _positions is None:
        return None
    try:
        fd = handle.fileno()
    except (AttributeError, OSError, ValueError):
        return None

    def report(_count: int) -> None:
        _positions[shard] = os.lseek(fd, 0, os.SEEK_CUR)  # the raw file's offset: right for gzip too

    return report


def analyze_parallel(path: Path, jobs: int, options: AnalyzerOptions,
                     checkers: Callable[[], list[Checker]] | None = None,
                     progress: Progress | None = None) -> InputResult:
    """Analyse ``path`` in ``jobs`` processes and merge their results as a serial run would report them.

    Raises :class:`SerialNeeded` when reading found lines to report (unusable, cut short: only a serial run can
    name them by their number) or the capture opens a connection id again while it is open. A worker that
    fails raises :class:`WorkerFailed` (or the worker's own exception). ``checkers``
    builds each worker's own checkers (default: :func:`default_checkers`); it must be picklable. ``progress``
    gets the mean share of the file the workers have read (every worker reads all of it).
    """
    context = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
    positions = context.Array("d", jobs, lock=False)
    try:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_share_positions,
                                 initargs=(positions,)) as pool:
            futures = [pool.submit(_analyze_shard, path, shard, jobs, options, checkers) for shard in range(jobs)]
            pending = set(futures)
            while pending:
                _, pending = wait(pending, timeout=0.25, return_when=FIRST_EXCEPTION)
                if any(future.exception() is not None for future in futures if future.done()):
                    break
                if progress is not None:
                    progress.update(done=sum(positions) / jobs)
            parts = [future.result() for future in futures]
    except BrokenProcessPool as exc:
        raise WorkerFailed(f"{path}: a worker process of the parallel check ended abruptly (killed by a signal, "
                           "or by the system for lack of memory); no result was kept, rerun with -j 1 to check "
                           "in one process") from exc
    for part in parts:
        if isinstance(part, str):
            raise SerialNeeded(part)
    results = [part for part in parts if not isinstance(part, str)]
    if any(part.reading is not None and part.reading.warnings for part in results):
        raise SerialNeeded("has lines to report: checked in one process, to name them by line number")
    merged = InputResult(path)
    for part in results:
        merged.events += part.events
        merged.frames += part.frames
        for conn_id, summary in part.connections.items():
            kept = merged.connections.get(conn_id)
            if kept is None or (kept.opened_at or 0.0) <= (summary.opened_at or 0.0):  # an id used again: the
                merged.connections[conn_id] = summary  # latest connection's summary, as in a serial run
        merged.findings += part.findings
        merged.omitted.update(part.omitted)
        merged.counts.update(part.counts)
        merged.internal_errors += part.internal_errors
    merged.findings.sort(key=finding_order)
    if results and results[0].reading is not None:
        merged.reading = results[0].reading
        merged.reading.events = merged.events
    merged.connections = dict(sorted(merged.connections.items(), key=connection_order))
    merged.omitted = sorted_omitted(merged.omitted)
    return merged


MIN_MANY_BYTES = 8 * 1024 * 1024
"""Below this, several inputs together are checked in one process."""


def worth_many(paths: Sequence[Path], jobs: int) -> bool:
    if jobs < 2 or len(paths) < 2:
        return False
    total = 0
    for path in paths:
        try:
            total += path.stat().st_size
        except OSError:
            return False  # the serial run names the missing file
    return total >= MIN_MANY_BYTES


def _analyze_input(path: Path, fmt: str, options: AnalyzerOptions,
                   checkers: Callable[[], list[Checker]] | None) -> InputResult:
    from ocppscope.proxy.capture.sources import read_events

    report = ReadReport(str(path))
    result = analyze_events(path, read_events(path, fmt, report=report), checkers() if checkers else None, options)
    result.reading = report.summary()
    result.files = [str(path)]
    for summary in result.connections.values():
        summary.source = str(path)  # as a serial run says where each connection was read
    return result


def analyze_many(paths: Sequence[Path], fmt: str, jobs: int, options: AnalyzerOptions,
                 checkers: Callable[[], list[Checker]] | None = None) -> list[InputResult]:
    """Analyse whole inputs in ``jobs`` processes, results in the order of ``paths``; an unusable input
    raises its error here, as a serial run would."""
    context = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
    count = len(paths)
    with ProcessPoolExecutor(max_workers=min(jobs, count), mp_context=context) as pool:
        return list(pool.map(_analyze_input, paths, [fmt] * count, [options] * count, [checkers] * count))
