"""Timestamps between the core's float epoch seconds and the text forms of captures, traces and logs."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def iso_utc(epoch: float) -> str:
    """``2024-01-15T10:00:00.500Z``: milliseconds when they say everything, microseconds otherwise."""
    moment = datetime.fromtimestamp(epoch, UTC)
    micro = moment.microsecond
    fraction = f"{micro // 1000:03d}" if micro % 1000 == 0 else f"{micro:06d}"
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{fraction}Z"


@lru_cache(maxsize=4096)
def parse_time(text: str) -> float:
    """Epoch seconds of an ISO-8601 date-time (``T`` or space, ``.`` or ``,`` fraction, ``/`` in the date).

    Times without a zone are taken as UTC: logs print local time without saying which, so absolute times of
    an imported log may be off by the zone offset while intervals stay right. Raises ValueError.
    """
    cleaned = text.strip()
    if cleaned[4:5] == "/":
        cleaned = cleaned.replace("/", "-", 2)
    moment = datetime.fromisoformat(cleaned)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


LOCAL_ZONE = "local"
"""``--log-timezone`` for the zone of the machine running ocppscope (the default)."""

_OFFSET = re.compile(r"^(?:UTC|GMT)?([+-])(\d\d?)(?::?(\d\d))?$")
_MONTHS = {name: number for number, names in enumerate(
    ("jan", "feb", "mar mär mrz", "apr", "may mai", "jun", "jul", "aug", "sep", "oct okt", "nov", "dec dez"), 1)
    for name in names.split()}


def log_zone(name: str) -> tzinfo | None:
    """The zone ``--log-timezone NAME`` means: None for local time, else UTC, an offset (``+02:00``) or an IANA
    name (``Europe/Berlin``). Raises ValueError naming what is accepted."""
    cleaned = name.strip()
    if cleaned.lower() == LOCAL_ZONE:
        return None
    if cleaned.upper() in ("UTC", "Z", "GMT"):
        return UTC
    offset = _OFFSET.match(cleaned.upper())
    if offset is not None:
        sign = -1 if offset[1] == "-" else 1
        return timezone(sign * timedelta(hours=int(offset[2]), minutes=int(offset[3] or 0)))
    try:
        return ZoneInfo(cleaned)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}: use 'local', 'UTC', an offset like +02:00 or a name like "
                         "Europe/Berlin") from None


class LogClock:
    """Reads the times a log prints: a time with an offset is absolute; one without is read in the chosen zone
    (``--log-timezone``, local time by default), and :attr:`assumed` says which zone that was."""

    def __init__(self, zone: str = LOCAL_ZONE) -> None:
        self.name = zone
        self.zone = log_zone(zone)
        self.assumed: str | None = None
        """Set once a time without a zone was read: ``"UTC"``, ``"local (UTC+01:00)"``, ``"Europe/Berlin"``."""
        self.year: int | None = None
        """The year of the last full date read, for syslog times that print none."""
        self.date: str | None = None
        self.dateless = False
        """Set once a clock time without a date was read (taken on the last date read, else 1970-01-01)."""

    def read(self, text: str) -> float:
        """Epoch seconds of an ISO-8601-like date-time (see :func:`parse_time`). Raises ValueError."""
        cleaned = text.strip()
        if cleaned[4:5] == "/":
            cleaned = cleaned.replace("/", "-", 2)
        elif cleaned[2:3] == ":":
            # A clock time without a date (a serial monitor's "17:21:38.612 ->"): on the last date read, if any.
            self.dateless = True
            cleaned = f"{self.date or '1970-01-01'}T{cleaned}"
        moment = datetime.fromisoformat(cleaned)
        self.year = moment.year
        self.date = cleaned[:10]
        if moment.tzinfo is not None:
            return moment.timestamp()
        # Local time: astimezone() applies the offset in force on that date.
        moment = moment.replace(tzinfo=self.zone) if self.zone is not None else moment.astimezone()
        if self.assumed is None:
            self.assumed = self._label(moment)
        return moment.timestamp()

    def read_syslog(self, text: str) -> float:
        """``Oct 11 11:40:20`` (a syslog or journalctl time: no year, no zone; English or German month)."""
        month_name, day, clock = text.split()
        month = _MONTHS.get(month_name.lower()[:3]) or _MONTHS.get(month_name.lower())
        if month is None:
            raise ValueError(f"unknown month {month_name!r}")
        year = self.year or datetime.now().year
        return self.read(f"{year:04d}-{month:02d}-{int(day):02d} {clock}")

    def _label(self, moment: datetime) -> str:
        if self.zone is None:
            offset = moment.utcoffset() or timedelta()
            minutes = int(offset.total_seconds() // 60)
            sign = "-" if minutes < 0 else "+"
            return f"local (UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d})"
        return "UTC" if self.zone is UTC else self.name
