"""Run the analyzer over inputs and collect what a report needs, in bounded memory."""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ocppscope.proxy.capture.report import Reading
from ocppscope.proxy.core.analyzer import Analyzer, AnalyzerOptions, Checker
from ocppscope.proxy.core.checks import default_checkers
from ocppscope.proxy.core.connection import Connection
from ocppscope.proxy.core.events import ConnectionClosed, ConnectionOpened, Event, Message
from ocppscope.proxy.core.findings import Finding, Severity

BATCH_GC_THRESHOLDS = (50_000, 20, 100)
"""Collector thresholds for a batch run; see :func:`batch_gc`."""

PROGRESS_EVERY = 1024
"""Frames between two calls of :func:`analyze_events`'s ``progress``."""

KEPT_PER_RULE = 200
"""Findings kept per (input, charger, rule) for the report; the rest are counted, so memory stays bounded."""


@dataclass(slots=True)
class ConnectionSummary:
    conn_id: str
    charger: str | None = None
    client: str | None = None
    path: str | None = None
    status: int | None = None
    subprotocol: str | None = None
    version: str | None = None
    opened_at: float | None = None
    closed_at: float | None = None
    close_code: int | None = None
    closed_by: str | None = None
    frames: int = 0
    source: str | None = None
    """The file the connection was read from."""


@dataclass(slots=True)
class InputResult:
    path: Path
    events: int = 0
    frames: int = 0
    connections: dict[str, ConnectionSummary] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    omitted: Counter[tuple[str | None, str]] = field(default_factory=Counter)
    """Findings counted but not kept, per (charger, rule)."""
    counts: Counter[Severity] = field(default_factory=Counter)
    internal_errors: int = 0
    reading: Reading | None = None
    files: list[str] = field(default_factory=list)
    """The files read as this one input, when it was several (a capture folder)."""
    """What reading the input found (format, lines unusable, cut or skipped); see proxy/check/reading.py."""


@contextmanager
def batch_gc() -> Iterator[None]:
    """Garbage collection suited to analysing a big input, restored afterwards.

    Every frame allocates a dozen short-lived containers and almost none survive, so the collector's default
    pace (a young collection every 700 allocations, rescanning everything imported at start-up) costs about
    5% of a million-frame check. Start-up objects are frozen and young collections made rarer; cyclic garbage
    is still collected.
    """
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(*BATCH_GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def analyze_events(
    path: Path,
    events: Iterable[Event],
    checkers: list[Checker] | None = None,
    options: AnalyzerOptions | None = None,
    progress: Callable[[int], None] | None = None,
    end_time: Callable[[], float | None] | None = None,
) -> InputResult:
    """Feed ``events`` to a fresh analyzer and summarise connections and findings.

    ``end_time`` tells when the input really ended, for a caller that fed only part of it (a shard).
    """
    analyzer = Analyzer(default_checkers() if checkers is None else checkers, options)
    result = InputResult(path)
    kept: Counter[tuple[str | None, str]] = Counter()
    connections = result.connections

    def collect(findings: list[Finding]) -> None:
        for finding in findings:
            result.counts[finding.severity] += 1
            key = (finding.charger, finding.rule)
            if kept[key] < KEPT_PER_RULE:
                kept[key] += 1
                result.findings.append(finding)
            else:
                result.omitted[key] += 1

    count = retired_frames = 0
    feed = analyzer.feed
    open_now = analyzer.connections
    for event in events:
        count += 1
        kind = type(event)
        if kind is ConnectionOpened:
            # An id used again: its summary is replaced, its frames still count. Still open (never closed, or
            # known only from its messages), only the analyzer's connection, which the open replaces, has them.
            previous = open_now.get(event.conn_id)
            reopened = connections.get(event.conn_id)
            if previous is not None:
                retired_frames += previous.frames
            elif reopened is not None:
                retired_frames += reopened.frames
        inspection = feed(event)
        if kind is not Message:
            conn = inspection.conn
            if kind is ConnectionOpened:
                connections[event.conn_id] = ConnectionSummary(
                    event.conn_id,
                    charger=conn.charger,
                    client=event.client,
                    path=event.path,
                    status=event.status,
                    subprotocol=event.subprotocol,
                    version=conn.version,
                    opened_at=event.time,
                )
            elif kind is ConnectionClosed:
                summary = connections.setdefault(event.conn_id, ConnectionSummary(event.conn_id))
                summary.closed_at = event.time
                summary.close_code = event.code
                summary.closed_by = event.closed_by
                _update(summary, conn)
        elif progress is not None and count % PROGRESS_EVERY == 0:
            progress(count)
        if inspection.findings:
            collect(inspection.findings)
    for conn in analyzer.connections.values():  # still open at the end of the input
        _update(connections.setdefault(conn.conn_id, ConnectionSummary(conn.conn_id)), conn)
    result.events = count
    result.frames = retired_frames + sum(summary.frames for summary in connections.values())
    collect(analyzer.finish(end_time() if end_time is not None else None))
    result.internal_errors = analyzer.internal_errors
    result.findings.sort(key=finding_order)
    result.connections = dict(sorted(connections.items(), key=connection_order))
    result.omitted = sorted_omitted(result.omitted)
    return result


def sorted_omitted(omitted: Counter[tuple[str | None, str]]) -> Counter[tuple[str | None, str]]:
    """``omitted`` by charger then rule: reports list it in an order no worker or event order changes."""
    return Counter(dict(sorted(omitted.items(), key=lambda item: (item[0][0] or "", item[0][1]))))


def _update(summary: ConnectionSummary, conn: Connection) -> None:
    # The analyzer counts frames and learns the version and identity; the summary copies them at the end.
    summary.frames = conn.frames
    summary.version = conn.version
    summary.charger = summary.charger or conn.charger


def connection_order(item: tuple[str, ConnectionSummary]) -> tuple[float, str]:
    """The order reports list connections in: by opening time (those with no open record first: they were
    open when recording began), then id; the same whatever the order the events or the workers came in."""
    return (item[1].opened_at or 0.0, item[0])


def finding_order(finding: Finding) -> tuple[bool, int, str]:
    """The order reports and baselines list findings in: by event, then connection; a stable sort keeps
    the analyzer's order among findings of the same event, so a parallel run lists exactly what a serial
    one does."""
    return (finding.seq is None, finding.seq or 0, finding.conn_id or "")
