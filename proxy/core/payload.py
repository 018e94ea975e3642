"""Reading payloads of any shape: the one way semantic rules take values out of a frame.

A charger may send anything the JSON grammar allows where an object is expected. The schema layer reports
the wrong shape; the semantic rules read through these helpers, which answer ``None`` (or an empty
sequence) for whatever is not of the kind asked for, so a rule skips what it cannot read instead of raising.
None of them raises on any JSON value.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

_EPOCH_RANGE = (-62135596800.0, 253402300799.0)
"""Years 1 to 9999: what :class:`datetime` can hold."""


def obj(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty dict."""
    return value if type(value) is dict else {}


def field(value: Any, *path: str) -> Any:
    """The value at ``path`` through nested objects, or None where any step is not an object or is missing."""
    for key in path:
        if type(value) is not dict:
            return None
        value = value.get(key)
    return value


def text(value: Any, *path: str) -> str | None:
    """The string at ``path``, or None."""
    found = field(value, *path) if path else value
    return found if type(found) is str else None


def integer(value: Any, *path: str) -> int | None:
    """The integer at ``path`` (a JSON number without fraction; not a bool), or None."""
    found = field(value, *path) if path else value
    if type(found) is int:
        return found
    if type(found) is float and found.is_integer():
        return int(found)
    return None


def number(value: Any, *path: str) -> float | None:
    """The finite number at ``path`` (not a bool), or None."""
    found = field(value, *path) if path else value
    if type(found) is int:
        return float(found)
    if type(found) is float and math.isfinite(found):
        return found
    return None


def items(value: Any, *path: str) -> list[Any]:
    """The array at ``path``, or an empty list."""
    found = field(value, *path) if path else value
    return found if type(found) is list else []


def objects(value: Any, *path: str) -> Iterator[dict[str, Any]]:
    """The objects of the array at ``path``, skipping elements that are not objects."""
    for item in items(value, *path):
        if type(item) is dict:
            yield item


def decimal(value: Any) -> float | None:
    """A finite number from a JSON number or a numeric string (1.6 sampledValue values are strings)."""
    if type(value) is str:
        try:
            parsed = float(value)
        except ValueError:
            return None
        return parsed if math.isfinite(parsed) else None
    return number(value)


def timestamp(value: Any, *path: str) -> float | None:
    """Epoch seconds of the RFC 3339 date-time at ``path``; None when absent or unreadable.

    A time without a zone is read as UTC (the schema layer reports the missing zone on its own).

    Parsed once, shared: results are memoised by the text (:data:`_STAMPS`), so every rule that reads a frame's
    timestamps calls this freely instead of handing parsed values around (a MeterValues' timestamp is read by
    the clock and the metering rules, a StartTransaction's on its CALL and again on its answer).
    """
    found = value
    if path:
        found = value.get(path[0]) if len(path) == 1 and type(value) is dict else field(value, *path)
    if type(found) is not str or len(found) > 64:
        return None  # long texts are not date-times, and are not kept
    seconds = _STAMPS.get(found, _UNREAD)
    if seconds is _UNREAD:
        seconds = _parse_timestamp(found)
        if len(_STAMPS) >= _STAMPS_KEPT:
            _STAMPS.clear()  # bounded memory; the cost is a re-parse of texts still in use
        _STAMPS[found] = seconds
    return seconds  # type: ignore[return-value]


_STAMPS: dict[str, float | None] = {}
"""Date-time text (at most 64 characters) → what :func:`timestamp` answers for it."""
_STAMPS_KEPT = 4096
_UNREAD = object()


def _parse_timestamp(found: str) -> float | None:
    if not found:
        return None
    try:
        moment = datetime.fromisoformat(found)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        seconds = moment.timestamp()
    except (OverflowError, OSError, ValueError):
        return None
    return seconds if _EPOCH_RANGE[0] <= seconds <= _EPOCH_RANGE[1] else None
