"""Importers for the logs people paste into bug reports: CSMS logs, library logs and chargers' own logs.

Formats (``--input-format`` names; an example line of each in docs/capture-format.md, test files in
tests/data/logs/, where each shape was seen in tests/data/logs/SOURCES.md):

``ocpp-go``, ``home-assistant``, ``ocpp-python``, ``steve``, ``plain``
    Backend logs, see :mod:`proxy.capture.logs_backends`.
``charger``, ``everest``
    Charge points' own logs, see :mod:`proxy.capture.logs_chargers`.

Every format is read through the same steps: prefixes taken off (:mod:`~proxy.capture.logs_prefix`), frames
put back together (:mod:`~proxy.capture.logs_shapes`), the log put in wire order
(:mod:`~proxy.capture.logs_order`), times read in the zone the log printed or ``--log-timezone``
(:class:`~proxy.capture.times.LogClock`). Whether "received" means "from the charger" depends on who wrote the
log: the format says so, or the first CALL of a one-way action (BootNotification, RemoteStartTransaction…)
decides, backend if nothing does. Lines that are not OCPP traffic are counted and reported, never dropped
silently.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import orjson

from proxy.capture.logs_backends import parse_home_assistant, parse_ocpp_go, parse_ocpp_python, parse_plain, parse_steve
from proxy.capture.logs_chargers import parse_charger, parse_everest
from proxy.capture.logs_entry import LogEntry, LogFormat, Role
from proxy.capture.logs_json import json_extent, starts_frame
from proxy.capture.logs_order import WireOrder, in_time_order
from proxy.capture.logs_prefix import SyslogTime, clean_line, looks_like_record
from proxy.capture.logs_shapes import (
    MAX_CONTINUATION_LINES,
    Shapes,
    join_lines,
    join_records,
    jsonish,
    mark_cut,
    split_glued,
)
from proxy.capture.report import ReadReport
from proxy.capture.synthetic import SyntheticConnections
from proxy.capture.times import LOCAL_ZONE, LogClock
from proxy.core.events import Direction, Event, Message, Ping
from proxy.core.protocol import VERSIONS, action_direction

__all__ = ["LOG_FORMATS", "LogEntry", "LogFormat", "LogImporter", "read_log", "sniff_log_format"]

_UNDECIDED_LIMIT = 10_000
"""Entries held back while the log's author (backend or charger) is unknown."""

LOG_FORMATS: dict[str, LogFormat] = {
    fmt.name: fmt for fmt in (
        LogFormat("ocpp-go", parse_ocpp_go, None,
                  '[ocpp  ] TRACE 2024/07/11 17:12:57 recv WB-4711: [2,"b2f9-0001","BootNotification",{…}]'),
        LogFormat("home-assistant", parse_home_assistant, None,
                  '2025-01-30 14:41:45.001 INFO (MainThread) [ocpp] Garage_EV: receive message [2,"7f0c…",…]'),
        LogFormat("ocpp-python", parse_ocpp_python, None,
                  'INFO:ocpp:CP_1: send [2,"d886…","BootNotification",{"chargePointModel":"Optimus",…}]'),
        LogFormat("steve", parse_steve, "backend",
                  "[INFO ] 2023-10-13 07:55:01,338 de.rwth.idsg.steve.ocpp.ws.WebSocketLogger (qtp…) - "
                  '[chargeBoxId=TG2, sessionId=d726…] Received: [2,"66606270","BootNotification",{…}]'),
        LogFormat("plain", parse_plain, None,
                  '2024-03-01T08:00:00.000Z CS-PLAIN-1 cp-to-csms [2,"p-1","BootNotification",{…}]'),
        LogFormat("everest", parse_everest, "charger",
                  "2024-05-21T15:17:02.094Z: ChargePoint>CentralSystem BootNotification (frame on the next lines)"),
        LogFormat("charger", parse_charger, "charger",
                  '12:00:01.120 [OCPP] TX: [2,"42","Heartbeat",{}] or [MO] Recv: [3,"42",{…}]'),
    )
}


def sniff_log_format(lines: Iterable[str]) -> str | None:
    """The log format most of ``lines`` parse as (the first listed on a tie), or None if none of them does."""
    scores = dict.fromkeys(LOG_FORMATS, 0)
    for number, raw in enumerate(lines, 1):
        line, _ = clean_line(raw)
        for name, fmt in LOG_FORMATS.items():
            if fmt.parse(line, number) is not None:
                scores[name] += 1
    best = max(scores, key=lambda name: scores[name])
    return best if scores[best] else None


class LogImporter:
    """Turns the lines of one log into events: puts frames back together, orders them as on the wire, decides
    who wrote the log, opens a connection per charger (or session) and closes it where the log says so."""

    def __init__(self, fmt: LogFormat, report: ReadReport, zone: str = LOCAL_ZONE) -> None:
        self.format = fmt
        self.report = report
        self.clock = LogClock(zone)
        self.author: Role | None = fmt.author
        self.connections = SyntheticConnections()
        self.undecided: list[LogEntry] = []
        self.last_time = 0.0
        self.shapes = Shapes(report)

    def events(self, lines: Iterable[tuple[int, str]]) -> Iterator[Event]:
        entries = in_time_order(self._records(lines), self.report)
        entries = WireOrder(self.report).order(mark_cut(join_records(entries, self.shapes), self.shapes))
        for entry in entries:
            yield from self._entry(entry)
        if self.undecided:
            self.report.warn("could not tell from the traffic whether this log was written by the backend or "
                             "the charger; assumed the backend (received = from the charger)")
            yield from self._decide("backend")
        self.shapes.summary()
        if self.clock.dateless:
            self.report.note("the log prints clock times without a date; they were read on "
                             f"{self.clock.date or '1970-01-01'}, so only the intervals between them are right")
        if self.clock.assumed is not None:
            self.report.note(f"the log prints its times without a zone; they were read as {self.clock.assumed} "
                             "(--log-timezone changes it)")

    # -- lines to entries ------------------------------------------------------------------------------

    def _records(self, lines: Iterable[tuple[int, str]]) -> Iterator[LogEntry]:
        """One entry per record of traffic, frames printed over several lines joined back."""
        parse = self.format.parse
        report = self.report
        pending: LogEntry | None = None
        writer: str | None = None  # the journald writer of the pending frame's record
        joined: list[tuple[int, str, str, bool]] = []  # (line number, line, text before it, wrapped)
        for number, raw in lines:
            report.lines += 1
            line: str | None
            line, syslog = clean_line(raw)
            while line is not None:
                if pending is not None:
                    if not line.strip():
                        break  # blank lines inside a pretty-printed frame, or after one (EVerest's file log)
                    if (parse(line, number) is None and not looks_like_record(line)
                            and (syslog is None or syslog.writer == writer or jsonish(line))
                            and len(joined) < MAX_CONTINUATION_LINES):
                        before = pending.text
                        pending.text, wrapped = join_lines(before, line)
                        joined.append((number, line, before, wrapped))
                        pending.last_line = number
                        if json_extent(pending.text).end is None:
                            break
                        line = split_glued(pending)
                        yield self._joined(pending, joined)
                        pending = None
                        continue
                    yield self._joined(pending, joined, complete=False)
                    pending = None
                if not line.strip():
                    break
                entry = parse(line, number)
                if entry is None:
                    report.skip(number, line)
                    break
                self._stamp(entry, syslog)
                entry.line = entry.last_line = number
                if entry.kind == "frame":
                    if (not entry.text.strip() or starts_frame(entry.text)) and json_extent(entry.text).end is None:
                        pending, joined = entry, []
                        writer = syslog.writer if syslog is not None else None
                        break
                    line = split_glued(entry)
                    if line is not None:
                        self.shapes.saw("glued", number)
                    yield entry
                    continue
                yield entry
                break
        if pending is not None:
            yield self._joined(pending, joined, complete=False)

    def _joined(self, entry: LogEntry, joined: list[tuple[int, str, str, bool]], complete: bool = True) -> LogEntry:
        """``entry`` with the lines joined to it; for a frame that never completed, only those that look like
        the rest of a frame (the others are reported as skipped lines)."""
        if not complete:
            for index, (_, line, before, wrapped) in enumerate(joined):
                if not wrapped and not jsonish(line):
                    entry.text = before
                    entry.last_line = joined[index - 1][0] if index else entry.line
                    for skipped_number, skipped, _, _ in joined[index:]:
                        self.report.skip(skipped_number, skipped)
                    joined = joined[:index]
                    break
        if joined and entry.text.strip() and joined[0][2].strip():
            self.shapes.saw("wrapped" if any(wrapped for *_, wrapped in joined) else "pretty", entry.line)
        return entry

    def _stamp(self, entry: LogEntry, syslog: SyslogTime | None) -> None:
        clock = self.clock
        try:
            stamp = entry.stamp
            if stamp is not None:
                entry.time = float(stamp) if stamp.replace(".", "", 1).isdigit() else clock.read(stamp)
            elif syslog is not None:
                entry.time = clock.read(syslog.text) if syslog.iso else clock.read_syslog(syslog.text)
        except ValueError:
            entry.time = None

    # -- entries to events -----------------------------------------------------------------------------

    def _entry(self, entry: LogEntry) -> Iterator[Event]:
        if self.author is not None or entry.direction is not None:
            yield from self._emit(entry)
            return
        self.undecided.append(entry)
        author = _author_from(entry)
        if author is None and len(self.undecided) >= _UNDECIDED_LIMIT:
            self.report.warn(f"no one-way OCPP action in the first {_UNDECIDED_LIMIT} entries to tell who "
                             "wrote this log; assumed the backend (received = from the charger)")
            author = "backend"
        if author is not None:
            yield from self._decide(author)

    def _decide(self, author: Role) -> Iterator[Event]:
        self.author = author
        held, self.undecided = self.undecided, []
        for entry in held:
            yield from self._emit(entry)

    def _emit(self, entry: LogEntry) -> Iterator[Event]:
        # Names and reasons become text fields of events (and of captures): bytes that were not UTF-8 in the
        # log are replaced there. Frames keep their exact bytes.
        entry.charger = _text(entry.charger)
        entry.session = _text(entry.session)
        entry.reason = _text(entry.reason) or ""
        time = entry.time if entry.time is not None else self.last_time
        self.last_time = time
        key = entry.session or entry.charger or ""
        connections = self.connections
        connections.assumed_zone = self.clock.assumed
        if entry.kind == "open":
            replaced = connections.close(key, time, note="the log shows a new connection before this one closed")
            if replaced is not None:
                yield replaced
            yield connections.open(key, entry.charger, time, conn_id=entry.session)
            return
        if entry.kind == "close":
            closed = connections.close(key, time, entry.code, entry.reason)
            if closed is not None:
                yield closed
            return
        opened: list[Event] = []
        conn_id = connections.conn_for(key, entry.charger, time, out=opened, conn_id=entry.session)
        yield from opened
        direction = entry.direction or self._direction(entry.inbound)
        if entry.kind == "frame":
            content = entry.text.rstrip().encode("utf-8", "surrogateescape")
            self.report.frames += 1
            self.report.frames_cut += entry.cut
            yield Message(conn_id, time, direction, content, True, connections.next_seq(), cut=entry.cut)
        else:
            yield Ping(conn_id, time, direction, b"", entry.kind == "pong", connections.next_seq())

    def _direction(self, inbound: bool | None) -> Direction:
        from_charger = bool(inbound) == (self.author == "backend")
        return Direction.FROM_CHARGER if from_charger else Direction.FROM_BACKEND


def _text(value: str | None) -> str | None:
    if value is None or value.isascii():
        return value
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _author_from(entry: LogEntry) -> Role | None:
    """Who wrote the log, if ``entry`` is a CALL of an action that only one side ever sends."""
    if entry.kind != "frame" or entry.inbound is None:
        return None
    try:
        value = orjson.loads(entry.text.encode("utf-8", "surrogateescape"))
    except orjson.JSONDecodeError:
        return None
    if type(value) is not list or len(value) < 3 or value[0] != 2 or type(value[2]) is not str:
        return None
    directions = {action_direction(version, value[2]) for version in VERSIONS} - {None, "both"}
    if len(directions) != 1:
        return None
    sent_by_charger = directions == {Direction.FROM_CHARGER.value}
    return "backend" if entry.inbound == sent_by_charger else "charger"


def read_log(lines: Iterable[tuple[int, str]], fmt: str, report: ReadReport, zone: str = LOCAL_ZONE) -> Iterator[Event]:
    """The events of a log in format ``fmt`` (a key of :data:`LOG_FORMATS`), given as (number, line); times
    printed without a zone are read in ``zone`` (a ``--log-timezone`` value)."""
    report.format = fmt
    for event in LogImporter(LOG_FORMATS[fmt], report, zone).events(lines):
        report.events += 1
        yield event
    report.finish()
