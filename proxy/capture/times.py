"""Timestamps between the core's float epoch seconds and the text forms of captures, traces and logs."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache


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
