"""Reading TOML files so that every complaint can name the file, the line and the key.

``tomllib`` returns plain dicts without positions, so :class:`SourceMap` scans the text once and remembers
on which line each dotted key (and each ``[[array]]`` element or ``{...}`` element of a multi-line array) is
written. Keys set inside an inline table resolve to the line of the table.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ocppscope.proxy.errors import OcppscopeError

KeyPath = tuple[str | int, ...]

_BARE = re.compile(r"[A-Za-z0-9_-]+")
_DECODE_POSITION = re.compile(r"\(at line (\d+), column \d+\)")


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a profile or mapping file, located as precisely as the text allows."""

    path: Path | None
    line: int | None
    key: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        where = str(self.path) if self.path else "<profile>"
        if self.line:
            where += f":{self.line}"
        return f"{where}: {self.key + ': ' if self.key else ''}{self.message}"


class ProfileError(OcppscopeError):
    """A profile or mapping file cannot be used; the message lists every problem with file and line."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def dotted(path: KeyPath) -> str:
    return ".".join(f"[{p}]" if isinstance(p, int) else (p if _BARE.fullmatch(p) else f'"{p}"') for p in path)


def _split_key(text: str) -> tuple[list[str], str] | None:
    """A (possibly dotted, possibly quoted) key at the start of ``text``, and the rest after it."""
    parts: list[str] = []
    rest = text.lstrip()
    while True:
        if rest[:1] in ('"', "'"):
            end = rest.find(rest[0], 1)
            if end < 0:
                return None
            parts.append(rest[1:end])
            rest = rest[end + 1 :].lstrip()
        else:
            match = _BARE.match(rest)
            if match is None:
                return None
            parts.append(match.group())
            rest = rest[match.end() :].lstrip()
        if rest.startswith("."):
            rest = rest[1:].lstrip()
            continue
        return parts, rest


def _bracket_depth(text: str) -> int:
    """Net ``[``/``{`` minus ``]``/``}`` outside strings and comments."""
    depth = 0
    quote = ""
    for char in text:
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "#":
            break
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
    return depth


def _outside_multiline(text: str, quote: str = "") -> tuple[str, str]:
    """The parts of ``text`` outside triple-quoted strings, and the quote still open at its end ("" if none).

    ``quote`` is the triple quote already open when the line starts.
    """
    kept = []
    rest = text
    while rest:
        if quote:
            end = rest.find(quote)
            if end < 0:
                return "".join(kept), quote
            rest, quote = rest[end + 3 :], ""
            continue
        starts = [(rest.find(q), q) for q in ('"""', "'''") if rest.find(q) >= 0]
        if not starts:
            kept.append(rest)
            break
        start, quote = min(starts)
        kept.append(rest[:start] + '""')
        rest = rest[start + 3 :]
    return "".join(kept), quote


class SourceMap:
    """Dotted key path → line number (1-based) in one TOML text."""

    def __init__(self, text: str) -> None:
        self.lines: dict[KeyPath, int] = {}
        table: KeyPath = ()
        array_counts: dict[KeyPath, int] = {}
        multiline = ""
        open_array: KeyPath | None = None
        depth = 0
        element = 0
        for number, raw in enumerate(text.splitlines(), start=1):
            starts_inside = bool(multiline)
            code, multiline = _outside_multiline(raw, multiline)
            line = code.strip()
            if open_array is not None:
                if line.startswith("{") and depth == 1 and not starts_inside:
                    self.lines.setdefault((*open_array, element), number)
                    element += 1
                depth += _bracket_depth(line)
                if depth <= 0:
                    open_array = None
                continue
            if starts_inside or not line or line.startswith("#"):
                continue
            if line.startswith("[["):
                split = _split_key(line[2:])
                if split:
                    path = tuple(split[0])
                    index = array_counts.get(path, 0)
                    array_counts[path] = index + 1
                    table = (*path, index)
                    self.lines.setdefault(table, number)
                continue
            if line.startswith("["):
                split = _split_key(line[1:])
                if split:
                    table = tuple(split[0])
                    self.lines.setdefault(table, number)
                continue
            split = _split_key(line)
            if split is None or not split[1].startswith("="):
                continue
            key = (*table, *split[0])
            self.lines.setdefault(key, number)
            value = split[1][1:].strip()
            if value.startswith("["):
                depth = _bracket_depth(value)
                if depth > 0:
                    open_array, element = key, 0
                    # Elements may start on the same line as the key.
                    if value[1:].lstrip().startswith("{"):
                        self.lines.setdefault((*key, 0), number)
                        element = 1

    def line(self, path: KeyPath) -> int | None:
        """The line of ``path``, or of its nearest enclosing key that is written down."""
        for end in range(len(path), 0, -1):
            found = self.lines.get(path[:end])
            if found is not None:
                return found
        return None

    def has(self, path: KeyPath) -> bool:
        return path in self.lines


@dataclass(frozen=True, slots=True)
class TomlFile:
    path: Path
    data: dict[str, Any]
    source: SourceMap

    def problem(self, path: KeyPath, message: str, severity: str = "error") -> Problem:
        return Problem(self.path, self.source.line(path), dotted(path), message, severity)


def read_toml(path: Path) -> TomlFile:
    """Parse ``path``; a missing file or a syntax error raises :class:`ProfileError` with the line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProfileError([Problem(path, None, "", "no such file")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError([Problem(path, None, "", f"cannot read: {exc}")]) from None
    return parse_toml(text, path)


def parse_toml(text: str, path: Path) -> TomlFile:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = _DECODE_POSITION.search(message)
        line = int(match.group(1)) if match else None
        message = _DECODE_POSITION.sub("", message).strip()
        raise ProfileError([Problem(path, line, "", f"not valid TOML: {message}")]) from None
    return TomlFile(path, data, SourceMap(text))
