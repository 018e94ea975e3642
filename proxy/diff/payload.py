"""Structural comparison of two OCPP payloads: which fields went missing, were added or changed value.

Volatile fields are compared for presence only: their values differ on every run (the backend's clock, the
transaction ids it assigns). By default these are ``currentTime``, ``timestamp`` and ``transactionId`` at any
depth, and any two strings that are both ISO 8601 date-times. Secrets a capture redacted are not compared
either. ``ignore`` patterns drop fields entirely.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ocppscope.proxy.core.basic_auth import is_redacted
from ocppscope.proxy.diff.paths import ConcretePath, FieldPattern, patterns

VOLATILE = ("$..currentTime", "$..timestamp", "$..transactionId")
"""Fields whose values are ignored by default; their presence is still compared."""

_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?\Z")

ChangeKind = Literal["missing", "added", "changed"]


@dataclass(frozen=True, slots=True)
class Change:
    path: ConcretePath
    kind: ChangeKind
    recorded: Any = None
    live: Any = None

    @property
    def is_status(self) -> bool:
        """A change of a field named ``status`` or ``...Status`` (idTagInfo.status, attributeStatus)."""
        last = next((key for key in reversed(self.path) if isinstance(key, str)), "")
        return last == "status" or last.endswith("Status")


@dataclass(frozen=True)
class IgnoreRules:
    """What to leave out of a comparison: ``ignored`` entirely, ``volatile`` values only."""

    ignored: tuple[FieldPattern, ...] = ()
    volatile: tuple[FieldPattern, ...] = patterns(VOLATILE)
    date_times_volatile: bool = True

    @classmethod
    def build(cls, ignore: Sequence[str] = (), volatile: Sequence[str] = VOLATILE) -> IgnoreRules:
        return cls(patterns(list(ignore)), patterns(list(volatile)))

    def is_ignored(self, path: ConcretePath, action: str | None) -> bool:
        return any(p.matches(path, action) for p in self.ignored)

    def is_volatile(self, path: ConcretePath, action: str | None, recorded: Any, live: Any) -> bool:
        if any(p.matches(path, action) for p in self.volatile):
            return True
        return (self.date_times_volatile and isinstance(recorded, str) and isinstance(live, str)
                and bool(_DATE_TIME.match(recorded)) and bool(_DATE_TIME.match(live)))


def compare(recorded: Any, live: Any, rules: IgnoreRules | None = None, action: str | None = None) -> list[Change]:
    """The changes from ``recorded`` to ``live``, depth first in the recorded payload's field order."""
    changes: list[Change] = []
    _walk(recorded, live, (), rules or IgnoreRules(), action, changes)
    return changes


def _walk(recorded: Any, live: Any, path: ConcretePath, rules: IgnoreRules, action: str | None,
          out: list[Change]) -> None:
    if path and rules.is_ignored(path, action):
        return
    if isinstance(recorded, dict) and isinstance(live, dict):
        for key, value in recorded.items():
            child = (*path, key)
            if key in live:
                _walk(value, live[key], child, rules, action, out)
            elif not rules.is_ignored(child, action):
                out.append(Change(child, "missing", recorded=value))
        for key, value in live.items():
            child = (*path, key)
            if key not in recorded and not rules.is_ignored(child, action):
                out.append(Change(child, "added", live=value))
        return
    if isinstance(recorded, list) and isinstance(live, list):
        for index in range(max(len(recorded), len(live))):
            child = (*path, index)
            if index >= len(live):
                if not rules.is_ignored(child, action):
                    out.append(Change(child, "missing", recorded=recorded[index]))
            elif index >= len(recorded):
                if not rules.is_ignored(child, action):
                    out.append(Change(child, "added", live=live[index]))
            else:
                _walk(recorded[index], live[index], child, rules, action, out)
        return
    # Scalars (or a type change): equal only with the same JSON type; 1 and True are not the same value.
    if type(recorded) is type(live) and recorded == live:
        return
    if rules.is_volatile(path, action, recorded, live):
        return
    if _redacted(recorded) or _redacted(live):
        return  # a secret the capture redacted: nothing to compare it with
    out.append(Change(path, "changed", recorded, live))


def _redacted(value: Any) -> bool:
    return isinstance(value, str) and is_redacted(value)
