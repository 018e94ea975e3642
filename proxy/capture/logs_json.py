"""Where a frame's JSON ends in a line of log text, without decoding it: enough to tell a complete frame from
one the log cut, one glued to the next record, and a line break inside a string from one between tokens."""

from __future__ import annotations

import re
from dataclasses import dataclass

import orjson

# The string alternative is unrolled ([^"\\]* runs, not one character per repetition): on a 10 MB string the
# per-character form takes seconds and a gigabyte of backtracking state.
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*(")?|[\[\]{}]', re.DOTALL)
_OPENERS = frozenset("[{")


@dataclass(frozen=True, slots=True)
class JsonExtent:
    """How far the JSON value at the start of a text goes."""

    end: int | None
    """Index just past the value's closing bracket; None when the text ends first (the value is incomplete)."""
    in_string: bool = False
    """For an incomplete value: whether the text ends inside a string."""


def json_extent(text: str) -> JsonExtent:
    """The extent of the JSON array or object ``text`` starts with (after blanks)."""
    depth = 0
    for match in _TOKEN.finditer(text):
        token = match.group()
        first = token[0]
        if first == '"':
            if match.group(1) is None:
                return JsonExtent(None, in_string=True)
            if depth == 0:
                return JsonExtent(match.end())  # a bare string: nothing of a frame
            continue
        depth += 1 if first in _OPENERS else -1
        if depth <= 0:
            return JsonExtent(match.end())
    return JsonExtent(None)


def is_json(text: str) -> bool:
    try:
        orjson.loads(text.encode("utf-8", "surrogateescape"))
    except orjson.JSONDecodeError:
        return False
    return True


def starts_frame(text: str) -> bool:
    """Whether ``text`` begins like an OCPP-J frame (``[2,``, ``[ 3 ,``…, or a ``[`` the line ends after) or a
    JSON object."""
    stripped = text.lstrip()
    if stripped[:1] == "{":
        return True
    if stripped[:1] != "[":
        return False
    rest = stripped[1:].lstrip()
    return not rest or rest[:1].isdigit()
