"""Integer ranges as vendor sheets write them: ``"0 | 10..65535"`` means 0, or 10 to 65535 inclusive.

Alternatives are separated by ``|`` (or ``,``); an interval is ``a..b`` (an en dash ``a–b`` works too) and
either end may be left open (``10..``, ``..9``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NUMBER = r"[+-]?\d+"
_PART = re.compile(rf"^\s*(?:(?P<single>{_NUMBER})|(?P<low>{_NUMBER})?\s*(?:\.\.|–)\s*(?P<high>{_NUMBER})?)\s*$")


@dataclass(frozen=True, slots=True)
class Interval:
    low: int | None
    high: int | None

    def __contains__(self, value: int) -> bool:
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)

    def __str__(self) -> str:
        if self.low == self.high and self.low is not None:
            return str(self.low)
        if self.low is None:
            return f"at most {self.high}"
        if self.high is None:
            return f"{self.low} or more"
        return f"{self.low}–{self.high}"


@dataclass(frozen=True, slots=True)
class IntRanges:
    """A union of inclusive integer intervals."""

    intervals: tuple[Interval, ...]
    text: str

    def __contains__(self, value: int) -> bool:
        return any(value in interval for interval in self.intervals)

    @property
    def minimum(self) -> int | None:
        lows = [i.low for i in self.intervals]
        return None if None in lows else min(lows)  # type: ignore[type-var]

    def __str__(self) -> str:
        return " or ".join(str(i) for i in self.intervals)


def parse_ranges(text: str) -> IntRanges:
    """Parse a range expression; ValueError names the part that is not a number or ``a..b``."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("a range is a text such as \"0 | 10..65535\"")
    intervals = []
    for part in re.split(r"[|,]", text):
        match = _PART.match(part)
        if match is None or (match["single"] is None and match["low"] is None and match["high"] is None):
            raise ValueError(f"{part.strip()!r} is neither a number nor a range a..b")
        if match["single"] is not None:
            value = int(match["single"])
            intervals.append(Interval(value, value))
            continue
        low = int(match["low"]) if match["low"] is not None else None
        high = int(match["high"]) if match["high"] is not None else None
        if low is not None and high is not None and low > high:
            raise ValueError(f"{part.strip()!r} is empty: {low} is above {high}")
        intervals.append(Interval(low, high))
    return IntRanges(tuple(intervals), text.strip())
