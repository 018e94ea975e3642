"""What a log line carries before the producer's own text: colours, the line numbers of a paste, the prefix
docker compose, kubectl, journald or syslog put in front. :class:`LineCleaner` takes them off so the producer's
parser sees the line as the producer printed it; a journald or syslog time is kept for lines that print none.
"""

from __future__ import annotations

import re

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][A-Z0-9]")
_PASTE_NUMBER = re.compile(r"\s*(?P<number>\d{1,6})(?:\s*[|│](?!\|)\s?|:(?!\d)\s?|\t)")
_KUBECTL = re.compile(r"\[pod/[^\]\s]+\] ")
_COMPOSE = re.compile(r"[A-Za-z0-9][\w.-]*\s*\| ")
_SYSLOG = re.compile(
    r"(?:<\d{1,3}>\d?\s*)?"
    r"(?:(?P<month>[A-Z][a-zä]{2}\.?) {1,2}(?P<day>\d{1,2}) (?P<clock>\d\d:\d\d:\d\d(?:\.\d+)?)"
    r"|(?P<iso>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?))"
    r" (?P<writer>[\w.-]+ [^\s:\[\]]+(?:\[\d+\])?): "
)
_RECORD_START = re.compile(
    r"\s*(?:\[?\d{4}[-/.]\d\d[-/.]\d\d[T ]\d\d:\d\d|\[?\d\d:\d\d:\d\d"
    r"|[A-Z][a-z]{2} [ \d]\d \d\d:\d\d|time=|level=|\d{9,10}(?:\.\d+)?\s"
    r"|\[?(?:TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|FATAL|CRITICAL)\b"
    r"|\[[A-Za-z][\w .:/-]{0,30}\]\s+(?i:trace|debug|info|notice|warn|warning|error|fatal|critical)\b)"
    # the last: a logger's tag and level, "[ocpp  ] TRACE …", "[MO] info …"
)


class SyslogTime:
    """What a journald/syslog prefix printed: the time (``Oct 11 11:40:20``, no year, or an ISO time) and who
    logged (``host unit[pid]``: journald splits a line longer than its LineMax into records of the same
    writer)."""

    __slots__ = ("iso", "text", "writer")

    def __init__(self, text: str, iso: bool, writer: str) -> None:
        self.text = text
        self.iso = iso
        self.writer = writer


class LineCleaner:
    """Takes off what comes before the producer's text of each line of one log,
    following the line numbers of a paste: a paste numbers its first line and counts up by one, so in a log whose
    first line has no number, or on a line whose number is not the next one, there is none (the rest of a line
    a ticket system or a terminal wrapped may start with ``7: ``)."""

    __slots__ = ("first", "paste_number")

    def __init__(self) -> None:
        self.first = True
        self.paste_number: int | None = None

    def clean(self, line: str) -> tuple[str, SyslogTime | None]:
        """``line`` without colours and the prefixes of pastes, containers and the journal; the journal's time."""
        if "\x1b" in line:
            line = _ANSI.sub("", line)
        match = _PASTE_NUMBER.match(line)
        if match is not None and match.end() < len(line):
            number = int(match["number"])
            if (self.first and self.paste_number is None) or (self.paste_number is not None
                                                              and number == self.paste_number + 1):
                self.paste_number = number
                line = line[match.end():]
        if line.strip():
            self.first = False
        return _clean_prefixes(line)


def _clean_prefixes(line: str) -> tuple[str, SyslogTime | None]:
    match = _KUBECTL.match(line)
    if match is not None:
        line = line[match.end():]
    match = _COMPOSE.match(line)
    if match is not None:
        line = line[match.end():]
    stamp = None
    match = _SYSLOG.match(line)
    if match is not None:
        if match["iso"]:
            stamp = SyslogTime(match["iso"], True, match["writer"])
        else:
            stamp = SyslogTime(f"{match['month'].rstrip('.')} {match['day']} {match['clock']}", False,
                               match["writer"])
        line = line[match.end():]
    return line, stamp


def looks_like_record(line: str) -> bool:
    """Whether ``line`` starts like a log record of its own (a time, a level), not like the rest of a frame."""
    return _RECORD_START.match(line) is not None
