"""Showing any frame safely: the one place that turns whatever a peer sent into printable text and JSON.

A frame can hold anything the wire allows: lone UTF-16 surrogates (``"\\ud800"`` decodes to a str that no
UTF-8 stream accepts), bytes that are not UTF-8, control characters that would recolour a terminal or break an
XML report, NaN and Infinity (which JSON cannot hold), integers beyond 64 bits, and nesting thousands deep.
Every report (text, JSON, JUnit, diagnose, diff, the TUI detail) passes what it shows through these helpers,
which never raise:

- :func:`line` for one line of text: surrogates, control characters and newlines shown as escapes;
- :func:`block` for text of several lines (a pretty-printed frame): the same, line breaks and tabs kept;
- :func:`xml` for XML text and attributes: the same, plus what XML 1.0 cannot hold;
- :func:`plain` for a value about to become JSON: strings made safe, non-finite numbers spelled out, integers
  beyond 64 bits as their digits, structures deeper than :data:`MAX_DEPTH` cut with a marker;
- :func:`json_bytes` / :func:`json_text` to serialise a value after :func:`plain`;
- :func:`preview` for a short quote of any value inside a one-line message;
- :func:`data` for bytes (invalid UTF-8 shown as ``\\xNN``), :func:`timestamp` for epoch seconds.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any

import orjson

MAX_DEPTH = 32
"""Nesting levels shown; deeper structures are replaced by :data:`CUT`."""
CUT = "…(nested deeper than 32 levels, cut)"
_INT64 = (-(2**63), 2**64 - 1)

_UNSAFE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029]")
_UNSAFE_BLOCK = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029]")
_UNSAFE_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_UNSAFE_JSON = re.compile("[\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def line(text: Any) -> str:
    """``text`` (any value, usually a str) as one printable line: control characters, line breaks and lone
    surrogates become backslash escapes."""
    if type(text) is not str:
        text = str(text)
    return _UNSAFE_LINE.sub(_escape, text) if _UNSAFE_LINE.search(text) else text


def block(text: Any) -> str:
    """``text`` as printable lines: like :func:`line`, but line breaks and tabs stay what they are."""
    if type(text) is not str:
        text = str(text)
    return _UNSAFE_BLOCK.sub(_escape, text) if _UNSAFE_BLOCK.search(text) else text


def xml(text: Any) -> str:
    """``text`` as XML 1.0 character data: what XML cannot hold becomes a backslash escape (line breaks and
    tabs stay, so multi-line failure texts keep their lines)."""
    if type(text) is not str:
        text = str(text)
    return _UNSAFE_XML.sub(_escape, text) if _UNSAFE_XML.search(text) else text


def data(content: bytes) -> str:
    """Bytes as text: UTF-8 where they are, ``\\xNN`` for each byte that is not."""
    return content.decode("utf-8", "backslashreplace")


def _string(text: str) -> str:
    return _UNSAFE_JSON.sub(_escape, text) if _UNSAFE_JSON.search(text) else text


def plain(value: Any, depth: int = 0) -> Any:
    """``value`` made serialisable by any JSON encoder: see the module docstring. Tuples and sets become
    lists (sets sorted by their text, so the output is the same on every run)."""
    kind = type(value)
    if kind is str:
        return _string(value)
    if value is None or kind is bool:
        return value
    if kind is int:
        return value if _INT64[0] <= value <= _INT64[1] else str(value)
    if kind is float:
        if math.isfinite(value):
            return value
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if depth >= MAX_DEPTH and kind in (dict, list, tuple, set, frozenset):
        return CUT
    if kind is dict:
        return {_string(key) if type(key) is str else line(key): plain(inner, depth + 1)
                for key, inner in value.items()}
    if kind is list or kind is tuple:
        return [plain(inner, depth + 1) for inner in value]
    if kind is set or kind is frozenset:
        return sorted((plain(inner, depth + 1) for inner in value), key=str)
    if kind is bytes:
        return _string(data(value))
    if isinstance(value, int | float | str):  # enums and other subclasses: their plain value
        return plain(str(value) if isinstance(value, str) else value.real, depth)
    return line(value)


def json_bytes(value: Any, *, indent: bool = False) -> bytes:
    """``value`` as JSON (UTF-8), after :func:`plain`; never raises."""
    return orjson.dumps(plain(value), option=orjson.OPT_INDENT_2 if indent else 0)


def json_text(value: Any, *, indent: bool = False) -> str:
    """``value`` as JSON text, after :func:`plain`; never raises."""
    return json_bytes(value, indent=indent).decode("utf-8")


def preview(value: Any, limit: int = 60) -> str:
    """A short one-line quote of ``value`` (JSON, cut at ``limit`` characters with ``…``) for a message; unlike
    ``repr`` it never recurses deeper than :data:`MAX_DEPTH`, and a string is not copied whole to be cut."""
    if type(value) is str and len(value) > limit:
        value = value[: limit + 1]
    text = line(json_text(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def timestamp(epoch: Any, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """Epoch seconds as a UTC date and time; a value no calendar holds is shown as the number it is."""
    if type(epoch) not in (int, float) or not math.isfinite(epoch):
        return f"t={line(plain(epoch))}"
    try:
        return datetime.fromtimestamp(epoch, UTC).strftime(fmt)
    except (OverflowError, OSError, ValueError):
        return f"t={epoch:g} (outside the calendar)"
