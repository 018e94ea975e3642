"""Frames the way logs print them, back into one frame each: pretty-printed over many lines, wrapped by a copy
(inside the frame or before it), glued to the next record, split over several records by the charger's logger,
or cut short by the log.

Every join and every cut is counted in the :class:`~proxy.capture.report.ReadReport` (with the first lines
where it happened), so a reassembled frame is never taken for what went over the wire.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from ocppscope.proxy.capture.logs_entry import LineParser, LogEntry
from ocppscope.proxy.capture.logs_json import is_json, json_extent, starts_frame
from ocppscope.proxy.capture.logs_prefix import SyslogTime, looks_like_record
from ocppscope.proxy.capture.report import ReadReport

MAX_CONTINUATION_LINES = 5_000
WRAPPED_RECORD_LINES = 3
"""Lines a record may have been wrapped into before the part of it that says what it is."""
_SHOWN = 5

_JSONISH = re.compile(r'\s*(?:[{}\]",:\-]|\d(?!\d{3}-\d\d-\d\d)|\[(?![A-Za-z])|true|false|null)')
_WORD_END = re.compile(r"[\w.+-]$")
_WORD_START = re.compile(r"[\w.]")
_CUT_MARKS = ("[…]", "[...]", "(truncated)", "[truncated]", "…", "...", ">")
"""What logs and pagers put where they cut a line: MicroOcpp's `` [...]`` at the end of its console buffer,
less's ``>`` in the last column (``--rscroll``, journalctl's pager), ticket systems' ``[…]``."""
_ELLIPSES = ("…", "...")
_JSON_PIECE = re.compile(r'"\s*[:,\]}]|[\[{,:]\s*"|[\[{]\s*$|^\s*[\]}]')
"""A string's quote next to JSON punctuation, or a bracket opening or closing a line: JSON, not prose."""


class Shapes:
    """Counts of what was done to frames to get them back whole, reported once at the end."""

    def __init__(self, report: ReadReport) -> None:
        self.report = report
        self.lines: dict[str, list[int]] = {"pretty": [], "wrapped": [], "glued": [], "records": [], "cut": []}
        self.counts = dict.fromkeys(self.lines, 0)
        self.last: dict[str, int] = {}

    def saw(self, shape: str, line: int) -> None:
        """A frame (the one whose record starts at ``line``) had ``shape``; counted once per frame."""
        if self.seen(shape, line):
            return  # a record wrapped both before its frame and inside it
        self.last[shape] = line
        self.counts[shape] += 1
        if len(self.lines[shape]) < _SHOWN:
            self.lines[shape].append(line)

    def seen(self, shape: str, line: int) -> bool:
        """Whether the frame whose record starts at ``line`` was counted with ``shape`` already."""
        return self.last.get(shape) == line

    def summary(self) -> None:
        words = {
            "pretty": "frame(s) printed over several lines were joined back",
            "wrapped": "record(s) broken across lines by a copy or a terminal were joined (the line breaks inside "
                       "strings and tokens removed)",
            "glued": "frame(s) ran into the next log record without a line break and were split from it",
            "records": "frame(s) the logger (or journald, at its LineMax) split over several records were joined",
        }
        for shape, text in words.items():
            if self.counts[shape]:
                self.report.note(f"{self.counts[shape]} {text} ({_where(self.lines[shape], self.counts[shape])}); "
                                 "the log did this, not the wire")
        if self.counts["cut"]:
            self.report.warn(f"{self.counts['cut']} frame(s) were cut short by the log "
                             f"({_where(self.lines['cut'], self.counts['cut'])}): reported as input.frame-cut, "
                             "paired by the id they still show, not judged")


def _where(lines: list[int], count: int) -> str:
    more = ", …" if count > len(lines) else ""
    return ("line " if count == 1 else "lines ") + ", ".join(map(str, lines)) + more


def join_lines(text: str, line: str) -> tuple[str, bool]:
    """``text`` (an incomplete frame) continued by ``line``; True when the break was a wrap (joined without it)."""
    if not text:
        return line, False
    extent = json_extent(text)
    if extent.in_string:
        return text + line, True  # JSON has no raw line breaks in strings: a wrap by the copy
    if _WORD_END.search(text) and _WORD_START.match(line):
        return text + line, True  # inside a number or a literal
    stripped = text.rstrip()
    if line[:1].isspace() or stripped.endswith(("[", "{", ",", ":")) or line.lstrip()[:1] in ("]", "}"):
        return text + "\n" + line, False  # between tokens, as a pretty-printer puts them: kept as logged
    return text + line, True


def jsonish(line: str) -> bool:
    """Whether ``line`` could be a line of pretty-printed JSON."""
    return _JSONISH.match(line) is not None


def split_glued(entry: LogEntry) -> str | None:
    """Cut ``entry``'s text after its frame; the rest of the line (a record glued to it), if any."""
    text = entry.text
    if not starts_frame(text):
        return None
    if any(mark in text for mark in _ELLIPSES) and not is_json(text.rstrip()):
        return None  # journalctl kept the end of the line after its ellipsis: no record follows
    extent = json_extent(text)
    if extent.end is None:
        return None
    rest = text[extent.end:]
    if not rest.strip():
        return None
    entry.text = text[: extent.end]
    return rest.lstrip()


class UnreadLines:
    """Lines no record of the log's format was read from yet. A ticket system or a terminal that wraps long lines
    may have broken a record before the part that says what it is (SteVe's ``[chargeBoxId=…] Received:``): the
    next lines, when they do not start a record of their own, are tried joined to them. What stays unread is
    reported as skipped."""

    __slots__ = ("lines", "report", "syslog")

    def __init__(self, report: ReadReport) -> None:
        self.report = report
        self.lines: list[tuple[int, str]] = []
        self.syslog: SyslogTime | None = None

    def journal_rest(self, syslog: SyslogTime | None) -> bool:
        """Whether a line without a journal prefix (``syslog`` None) follows unread journal lines: every record of
        a journal has one, so the line is the rest of the one before, even if it parses on its own."""
        return syslog is None and self.syslog is not None and bool(self.lines)

    def join(self, line: str, syslog: SyslogTime | None,
             parse: LineParser) -> tuple[LogEntry, int, SyslogTime | None] | None:
        """The entry the unread lines and ``line`` make together, with the number of its first line and its
        journal prefix; None when they make none."""
        if not self._continued_by(line, syslog):
            return None
        first = self.lines[0][0]
        entry = parse("".join(text for _, text in self.lines) + line, first)
        if entry is None or (entry.kind == "frame" and entry.text.strip() and not starts_frame(entry.text)):
            return None  # a wrap puts a record back together only where a frame follows its prefix
        self.lines.clear()
        return entry, first, self.syslog

    def add(self, line: str, number: int, syslog: SyslogTime | None) -> None:
        """``line`` could not be read (alone or joined): unread, until a line shows what it was."""
        if not self._continued_by(line, syslog):
            self.skip_all()
            self.syslog = syslog
        self.lines.append((number, line))
        if len(self.lines) > WRAPPED_RECORD_LINES:
            self.report.skip(*self.lines.pop(0))

    def skip_all(self) -> None:
        for number, line in self.lines:
            self.report.skip(number, line)
        self.lines.clear()

    def _continued_by(self, line: str, syslog: SyslogTime | None) -> bool:
        if not self.lines:
            return False
        if syslog is not None:
            return self.syslog is not None and syslog.writer == self.syslog.writer and not looks_like_record(line)
        return self.syslog is not None or not looks_like_record(line)


def wrap_explained(text: str, first_line: str, lines: list[str]) -> bool:
    """Whether ``lines``, joined as a wrap to a frame that never ends (``text``, shown from ``first_line``), are
    one: the frame ends in a log's cut mark; or each line holds a piece of JSON (a word-wrapped frame);
    or the lines before the last all have one width, as a terminal's or a ticket's wrap leaves them (the first
    may be shorter, its prefix taken off; a single joined line tells nothing). A note or garbage pasted after
    a cut frame is none of these."""
    if text.rstrip().endswith(_CUT_MARKS):
        return True
    if all(_JSON_PIECE.search(line) for line in lines):
        return True
    full = lines[:-1]
    widths = {len(line) for line in full}
    if len(widths) != 1:
        return False
    width = widths.pop()
    return len(first_line) == width or (len(full) >= 2 and len(first_line) < width)


def whole_json(text: str) -> bool:
    """Whether ``text`` is one JSON value from start to end: a frame of its own, however wrong, unless it has
    the length of the pieces a logger splits a frame into (a middle piece of digits is a number too)."""
    stripped = text.strip()
    if stripped[:1] in ("[", "{"):
        return json_extent(stripped).end == len(stripped)
    return is_json(stripped)


def join_records(entries: Iterable[LogEntry], shapes: Shapes) -> Iterator[LogEntry]:
    """Frames a charger's logger split over several records (each a frame line of its own whose text goes on
    where the previous one stopped) joined back into one entry."""
    pending: LogEntry | None = None
    chunk = 0  # the length of the pending frame's first piece: a logger splits at a fixed size
    for entry in entries:
        if pending is not None:
            text = entry.text
            if (entry.kind == "frame" and text and not starts_frame(text)
                    and (len(text) == chunk or not whole_json(text))  # a whole value is a frame of its own
                    and entry.charger == pending.charger and entry.session == pending.session
                    and entry.inbound == pending.inbound and entry.direction == pending.direction):
                pending.text += entry.text
                pending.last_line = entry.last_line
                shapes.saw("records", pending.line)
                if json_extent(pending.text).end is not None:
                    yield pending
                    pending = None
                continue
            yield pending
            pending = None
        if entry.kind == "frame" and starts_frame(entry.text) and json_extent(entry.text).end is None:
            pending = entry
            chunk = len(entry.text)
            continue
        yield entry
    if pending is not None:
        yield pending


def mark_cut(entries: Iterable[LogEntry], shapes: Shapes) -> Iterator[LogEntry]:
    """Frames whose JSON ends before the text does are cut by the log: their visible part, marked ``cut``."""
    for entry in entries:
        if entry.kind == "frame":
            _mark(entry, shapes)
        yield entry


def _mark(entry: LogEntry, shapes: Shapes) -> None:
    text = entry.text.rstrip()
    if not starts_frame(text):
        return
    if entry.journal and "…" in text:
        # journalctl's ellipsis: what is left around it may even be valid JSON when the cut fell inside a string
        # ("2023-10-1…09:40:40Z"), which is not what the sender sent.
        at = text.find("…")
        if json_extent(text[:at]).end is None:
            _cut(entry, text[:at], shapes)
            return
    if is_json(text):
        return
    for mark in _CUT_MARKS:
        if text.endswith(mark):
            visible = text[: -len(mark)].rstrip()
            if json_extent(visible).end is None:
                _cut(entry, visible, shapes)
                return
    for ellipsis in _ELLIPSES:  # journalctl --no-full keeps the end of the line after its ellipsis
        at = text.find(ellipsis)
        if at > 0 and json_extent(text[:at]).end is None:
            _cut(entry, text[:at], shapes)
            return
    if json_extent(text).end is None:
        _cut(entry, text, shapes)
    # else: complete but not valid JSON, which is what the sender sent


def _cut(entry: LogEntry, text: str, shapes: Shapes) -> None:
    entry.text = text
    entry.cut = True
    entry.keyed = False
    shapes.saw("cut", entry.line)
