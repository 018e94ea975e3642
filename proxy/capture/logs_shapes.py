"""Frames the way logs print them, back into one frame each: pretty-printed over many lines, wrapped by a copy,
glued to the next record, split over several records by the charger's logger, or cut short by the log.

Every join and every cut is counted in the :class:`~proxy.capture.report.ReadReport` (with the first lines
where it happened), so a reassembled frame is never taken for what went over the wire.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from proxy.capture.logs_entry import LogEntry
from proxy.capture.logs_json import is_json, json_extent, starts_frame
from proxy.capture.report import ReadReport

MAX_CONTINUATION_LINES = 5_000
_SHOWN = 5

_JSONISH = re.compile(r'\s*(?:[{}\]",:\-]|\d(?!\d{3}-\d\d-\d\d)|\[(?![A-Za-z])|true|false|null)')
_WORD_END = re.compile(r"[\w.+-]$")
_WORD_START = re.compile(r"[\w.]")
_CUT_MARKS = ("[…]", "[...]", "(truncated)", "[truncated]", "…", "...", ">")
"""What logs and pagers put where they cut a line: MicroOcpp's `` [...]`` at the end of its console buffer,
less's ``>`` in the last column (``--rscroll``, journalctl's pager), ticket systems' ``[…]``."""
_ELLIPSES = ("…", "...")


class Shapes:
    """Counts of what was done to frames to get them back whole, reported once at the end."""

    def __init__(self, report: ReadReport) -> None:
        self.report = report
        self.lines: dict[str, list[int]] = {"pretty": [], "wrapped": [], "glued": [], "records": [], "cut": []}
        self.counts = dict.fromkeys(self.lines, 0)

    def saw(self, shape: str, line: int) -> None:
        self.counts[shape] += 1
        if len(self.lines[shape]) < _SHOWN:
            self.lines[shape].append(line)

    def summary(self) -> None:
        words = {
            "pretty": "frame(s) printed over several lines were joined back",
            "wrapped": "frame(s) broken across lines by a copy or a terminal were joined (the line breaks inside "
                       "strings and tokens removed)",
            "glued": "frame(s) ran into the next log record without a line break and were split from it",
            "records": "frame(s) the logger split over several records were joined",
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


def join_records(entries: Iterable[LogEntry], shapes: Shapes) -> Iterator[LogEntry]:
    """Frames a charger's logger split over several records (each a frame line of its own whose text goes on
    where the previous one stopped) joined back into one entry."""
    pending: LogEntry | None = None
    for entry in entries:
        if pending is not None:
            if (entry.kind == "frame" and entry.text and not starts_frame(entry.text)
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
    if not starts_frame(text) or is_json(text):
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
