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
decides, the format's usual author if nothing does. Lines that are not OCPP traffic are counted and reported,
never dropped silently; a time no recording can have is named with its line and replaced by the time of the
record next to it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

import orjson
from ocppscope.proxy.capture.format import PLAUSIBLE_TIMES
from ocppscope.proxy.capture.logs_backends import (
    parse_home_assistant,
    parse_ocpp_go,
    parse_ocpp_python,
    parse_plain,
    parse_steve,
)
from ocppscope.proxy.capture.logs_chargers import parse_charger, parse_everest
from ocppscope.proxy.capture.logs_entry import LogEntry, LogFormat, Role
from ocppscope.proxy.capture.logs_json import json_extent, starts_frame
from ocppscope.proxy.capture.logs_order import WireOrder, in_time_order
from ocppscope.proxy.capture.logs_prefix import LineCleaner, SyslogTime, looks_like_record
from ocppscope.proxy.capture.logs_shapes import (
    MAX_CONTINUATION_LINES,
    Shapes,
    UnreadLines,
    join_lines,
    join_records,
    jsonish,
    mark_cut,
    split_glued,
    wrap_explained,
)
from ocppscope.proxy.capture.report import UNUSABLE_NAMED, ReadReport
from ocppscope.proxy.capture.synthetic import SyntheticConnections
from ocppscope.proxy.capture.times import LOCAL_ZONE, LogClock
from ocppscope.proxy.core.events import Direction, Event, Message, Ping
from ocppscope.proxy.core.protocol import VERSIONS, action_direction

__all__ = ["LOG_FORMATS", "LogEntry", "LogFormat", "LogImporter", "read_log", "sniff_log_format"]

_STRING_REST = re.compile(r'[^\s"]*"\s*[,}\]:]')
"""The end of a JSON string without blanks (a date-time, an id) and what follows a string in JSON."""
_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?\Z")
"""A time printed as seconds since the epoch (or a number that cannot be one: named as such)."""
_DATE_SECONDS = 100_000_000.0
"""Epoch seconds below this (before March 1973) are no date a log prints: seconds since a start."""
_UNTIMED_HELD = 1_000
"""Entries without a time held at the start of a log until one with a time gives them its own."""
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
        LogFormat("charger", parse_charger, None,
                  '12:00:01.120 [OCPP] TX: [2,"42","Heartbeat",{}] or [MO] Recv: [3,"42",{…}]', "charger", True),
    )
}


def sniff_log_format(lines: Iterable[str]) -> str | None:
    """The log format most of ``lines`` parse as (the first listed on a tie), or None if none of them does."""
    scores = dict.fromkeys(LOG_FORMATS, 0)
    unread: dict[str, str] = {}  # per format, the line(s) it read nothing from, as a wrapped record's start
    cleaner = LineCleaner()
    for number, raw in enumerate(lines, 1):
        line, _ = cleaner.clean(raw)
        continues = not looks_like_record(line)
        for name, fmt in LOG_FORMATS.items():
            before = unread.pop(name, None)
            if fmt.parse(line, number) is not None or (
                    before is not None and continues and fmt.parse(before + line, number) is not None):
                scores[name] += 1
            elif line.strip():
                unread[name] = before + line if before is not None and continues and len(before) < 4096 else line
    best = max(scores, key=lambda name: scores[name])
    if LOG_FORMATS[best].catch_all:
        # "send"/"RX" lines of any logger parse as a charger's: a format that knows the lines' own shape wins
        # when it reads at least half as many (a wrap can hide that shape on some of them).
        specific = max((name for name in scores if not LOG_FORMATS[name].catch_all), key=lambda name: scores[name])
        if 2 * scores[specific] >= scores[best]:
            best = specific
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
        self.absurd_times = 0
        self.small_numbers: int | None = None
        """The first line whose time is a number of seconds too small for a date (seconds since start?)."""

    def events(self, lines: Iterable[tuple[int, str]]) -> Iterator[Event]:
        entries = in_time_order(_first_times(self._records(lines)), self.report)
        entries = WireOrder(self.report).order(mark_cut(join_records(entries, self.shapes), self.shapes))
        for entry in entries:
            yield from self._entry(entry)
        if self.undecided:
            self.report.warn("could not tell from the traffic whether this log was written by the backend or "
                             f"the charger; {_assumed(self.format.usual_author)}")
            yield from self._decide(self.format.usual_author)
        self.shapes.summary()
        if self.absurd_times > UNUSABLE_NAMED:
            self.report.warn(f"{self.absurd_times - UNUSABLE_NAMED} more line(s) print a time that cannot be true "
                             f"(only the first {UNUSABLE_NAMED} are named); each was read at the time of the record "
                             "next to it")
        if self.clock.dateless:
            self.report.note("the log prints clock times without a date; they were read on "
                             f"{self.clock.date or '1970-01-01'}, so only the intervals between them are right")
        if self.small_numbers is not None:
            self.report.note(f"the log prints times as small numbers (line {self.small_numbers} first), seconds since "
                             "a start rather than dates; they were read as seconds after 1970-01-01, so only the "
                             "intervals between them are right")
        if self.clock.assumed is not None:
            self.report.note(f"the log prints its times without a zone; they were read as {self.clock.assumed} "
                             "(--log-timezone changes it)")
        self.report.note(f"read as a {self.format.name} log: {self.report.counts()}")

    # -- lines to entries ------------------------------------------------------------------------------

    def _records(self, lines: Iterable[tuple[int, str]]) -> Iterator[LogEntry]:
        """One entry per record of traffic, frames printed over several lines joined back."""
        parse = self.format.parse
        report = self.report
        pending: LogEntry | None = None
        writer: str | None = None  # the journald writer of the pending frame's record
        joined: list[tuple[int, str, str, bool]] = []  # (line number, line, text before it, wrapped)
        pending_line = ""
        unread = UnreadLines(report)
        cleaner = LineCleaner()
        for number, raw in lines:
            report.lines += 1
            line: str | None
            line, syslog = cleaner.clean(raw)
            while line is not None:
                if pending is not None:
                    if not line.strip():
                        break  # blank lines inside a pretty-printed frame, or after one (EVerest's file log)
                    if len(joined) < MAX_CONTINUATION_LINES and self._continues(pending.text, line, number, syslog,
                                                                                  writer):
                        before = pending.text
                        pending.text, wrapped = join_lines(before, line)
                        joined.append((number, line, before, wrapped))
                        pending.last_line = number
                        if syslog is not None:
                            self.shapes.saw("records", pending.line)  # journald split it at its LineMax
                        if json_extent(pending.text).end is None:
                            break
                        line = split_glued(pending)
                        yield from self._joined(pending, joined, pending_line)
                        pending = None
                        continue
                    yield from self._joined(pending, joined, pending_line, complete=False)
                    pending = None
                if not line.strip():
                    unread.skip_all()
                    break
                first = number
                entry = parse(line, number)
                wrapped = unread.join(line, syslog, parse) if entry is None or unread.journal_rest(syslog) else None
                if wrapped is not None:
                    entry, first, syslog = wrapped
                    self.shapes.saw("wrapped", first)
                elif entry is None:
                    unread.add(line, number, syslog)
                    break
                else:
                    unread.skip_all()
                entry.line, entry.last_line = first, number
                self._stamp(entry, syslog)
                entry.journal = syslog is not None
                if entry.kind == "frame":
                    if (not entry.text.strip() or starts_frame(entry.text)) and json_extent(entry.text).end is None:
                        pending, joined, pending_line = entry, [], line
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
            yield from self._joined(pending, joined, pending_line, complete=False)
        unread.skip_all()

    def _continues(self, text: str, line: str, number: int, syslog: SyslogTime | None, writer: str | None) -> bool:
        """Whether ``line`` goes on with the incomplete frame ``text`` (a journald record of ``writer``'s)."""
        if syslog is not None and syslog.writer != writer and not jsonish(line):
            return False
        if not text.strip():
            return starts_frame(line)  # a header whose frame follows (EVerest's file log): only a frame goes on
        if self.format.parse(line, number) is None and not looks_like_record(line):
            return True
        # A line that looks like a record of its own but goes on with the string the frame stopped in (and JSON after
        # it) is the rest of that string wrapped by a copy: '{"currentTime":"' then '2024-03-01T08:00:22.500Z"}]'.
        return _STRING_REST.match(line) is not None and json_extent(text).in_string

    def _joined(self, entry: LogEntry, joined: list[tuple[int, str, str, bool]], first_line: str,
                complete: bool = True) -> Iterator[LogEntry]:
        """``entry`` with the lines joined to it; for a frame that never completed, only those that look like
        the rest of a frame (the others are reported as skipped lines). Nothing for a header no frame followed
        (``first_line`` is then reported as skipped)."""
        if not complete:
            # Lines taken as a wrap of a frame that then never ends stay with it only where something says they
            # are one (journald split the record, see wrap_explained); otherwise they are whatever came next (a
            # note, garbage) and are reported as skipped lines.
            wraps = self.shapes.seen("records", entry.line) or wrap_explained(
                entry.text, first_line, [line for _, line, _, _ in joined])
            for index, (_, line, before, wrapped) in enumerate(joined):
                if (not wrapped or not wraps) and not jsonish(line):
                    entry.text = before
                    entry.last_line = joined[index - 1][0] if index else entry.line
                    for skipped_number, skipped, _, _ in joined[index:]:
                        self.report.skip(skipped_number, skipped)
                    joined = joined[:index]
                    break
        if not entry.text.strip():
            self.report.skip(entry.line, first_line)
            return
        if joined and joined[0][2].strip() and not self.shapes.seen("records", entry.line):
            self.shapes.saw("wrapped" if any(wrapped for *_, wrapped in joined) else "pretty", entry.line)
        yield entry

    def _stamp(self, entry: LogEntry, syslog: SyslogTime | None) -> None:
        clock = self.clock
        stamp = entry.stamp
        try:
            if stamp is not None:
                if _NUMBER.match(stamp):
                    entry.time = float(stamp)
                    if 0 <= entry.time < _DATE_SECONDS and self.small_numbers is None:
                        self.small_numbers = entry.line
                else:
                    entry.time = clock.read(stamp)
            elif syslog is not None:
                stamp = syslog.text
                entry.time = clock.read(stamp) if syslog.iso else clock.read_syslog(stamp)
        except (ValueError, OverflowError):
            self._absurd(entry, stamp, "is no date and time")
            return
        time = entry.time
        if time is not None and not PLAUSIBLE_TIMES[0] <= time <= PLAUSIBLE_TIMES[1]:
            self._absurd(entry, stamp, "is not a plausible time (1970 to 2100)")

    def _absurd(self, entry: LogEntry, stamp: str | None, why: str) -> None:
        """``entry``'s time cannot be true: it is named, and the entry read at the time of the record next to it."""
        entry.time = None
        self.absurd_times += 1
        if self.absurd_times <= UNUSABLE_NAMED:
            self.report.warn(f"line {entry.line}: the time {_text(stamp)!r} {why}; the line was read at the time "
                             "of the record next to it")

    # -- entries to events -----------------------------------------------------------------------------

    def _entry(self, entry: LogEntry) -> Iterator[Event]:
        if self.author is not None or entry.direction is not None:
            yield from self._emit(entry)
            return
        self.undecided.append(entry)
        author = _author_from(entry)
        if author is None and len(self.undecided) >= _UNDECIDED_LIMIT:
            author = self.format.usual_author
            self.report.warn(f"no one-way OCPP action in the first {_UNDECIDED_LIMIT} entries to tell who "
                             f"wrote this log; {_assumed(author)}")
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


def _assumed(author: Role) -> str:
    received = "from the charger" if author == "backend" else "from the backend"
    return f"assumed the {author} (received = {received})"


def _first_times(entries: Iterable[LogEntry]) -> Iterator[LogEntry]:
    """``entries``, those before the first with a time given that time (later ones without one take the time of
    the record before them, see :meth:`LogImporter._emit`), so an unreadable first time is not read as 1970."""
    waiting: list[LogEntry] = []
    iterator = iter(entries)
    for entry in iterator:
        if entry.time is None and len(waiting) < _UNTIMED_HELD:
            waiting.append(entry)
            continue
        for held in waiting:
            held.time = entry.time
        yield from waiting
        yield entry
        break
    else:
        yield from waiting
        return
    yield from iterator


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
