"""A small JSONPath subset for naming payload fields to ignore: ``--ignore '$..expiryDate'``.

Supported: ``$`` (the payload), ``.name``, ``['name']``, ``[3]``, ``[*]`` and ``.*`` (any member or element),
and ``..name`` / ``..*`` (at any depth). A pattern may start with an action and a colon to apply only to that
action's payloads: ``BootNotification:$.interval``. Filters and slices are not supported: a diff needs to
name fields, not query them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from ocppscope.proxy.errors import OcppscopeError

PathKey = str | int
ConcretePath = tuple[PathKey, ...]

_ANY = object()
_DEEP = object()
_TOKEN = re.compile(
    r"""\.\.(?P<deep>[A-Za-z_][\w-]*|\*)      # ..name or ..*
      | \.(?P<name>[A-Za-z_][\w-]*|\*)         # .name or .*
      | \[\s*(?P<index>\d+)\s*\]               # [3]
      | \[\s*\*\s*\]                           # [*]
      | \[\s*(?P<quote>['"])(?P<key>(?:(?!(?P=quote)).)*)(?P=quote)\s*\]  # ['name']
    """,
    re.VERBOSE,
)

Segment = str | int | object


class PathError(OcppscopeError):
    """A pattern given with --ignore cannot be parsed."""


@dataclass(frozen=True)
class FieldPattern:
    """One parsed pattern: an optional action and the segments (names, indexes, wildcards, deep markers)."""

    text: str
    action: str | None
    segments: tuple[Segment, ...]

    def matches(self, path: ConcretePath, action: str | None = None) -> bool:
        if self.action is not None and self.action != action:
            return False
        return _match(self.segments, path)


def parse(text: str) -> FieldPattern:
    """Parse ``[ACTION:]$...``; raises :class:`PathError` naming the problem."""
    source = text.strip()
    action = None
    if not source.startswith("$"):
        head, colon, rest = source.partition(":")
        if not colon or not rest.strip().startswith("$") or not head.strip():
            raise PathError(f"--ignore {text!r}: a JSONPath starts with '$' (e.g. '$..currentTime', "
                            "'StartTransaction:$.idTagInfo.expiryDate')")
        action, source = head.strip(), rest.strip()
    segments: list[Segment] = []
    position = 1
    while position < len(source):
        match = _TOKEN.match(source, position)
        if match is None:
            raise PathError(f"--ignore {text!r}: cannot read the path from {source[position:]!r} on "
                            "(supported: .name, ['name'], [n], [*], .*, ..name)")
        if match.group("deep") is not None:
            deep = match.group("deep")
            segments += [_DEEP, _ANY if deep == "*" else deep]
        elif match.group("name") is not None:
            name = match.group("name")
            segments.append(_ANY if name == "*" else name)
        elif match.group("index") is not None:
            segments.append(int(match.group("index")))
        elif match.group("key") is not None:
            segments.append(match.group("key"))
        else:
            segments.append(_ANY)
        position = match.end()
    return FieldPattern(text, action, tuple(segments))


def _match(segments: tuple[Segment, ...], path: ConcretePath) -> bool:
    return _match_from(segments, path, 0, 0)


def _match_from(segments: tuple[Segment, ...], path: ConcretePath, s: int, p: int) -> bool:
    while s < len(segments):
        segment = segments[s]
        if segment is _DEEP:
            # '..' consumes any number of path keys before the next segment.
            return any(_match_from(segments, path, s + 1, start) for start in range(p, len(path) + 1))
        if p >= len(path):
            return False
        key = path[p]
        if segment is not _ANY and segment != key:
            return False
        if isinstance(segment, int) and isinstance(key, bool):
            return False
        s += 1
        p += 1
    return p == len(path)


@cache
def _cached(text: str) -> FieldPattern:
    return parse(text)


def patterns(texts: tuple[str, ...] | list[str]) -> tuple[FieldPattern, ...]:
    return tuple(_cached(text) for text in texts)


def format_path(path: ConcretePath) -> str:
    """``idTagInfo.status``, ``configurationKey[1].value``; ``(payload)`` for the payload itself."""
    text = ""
    for key in path:
        if isinstance(key, int):
            text += f"[{key}]"
        elif re.fullmatch(r"[A-Za-z_][\w-]*", key):
            text += f".{key}" if text else key
        else:
            text += f"[{key!r}]"
    return text or "(payload)"
