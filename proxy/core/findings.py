"""Findings are data: a stable rule id, a severity, where, a one-line message and the evidence.

Every rule is declared once with :func:`rule`; ``docs/rules.md`` is generated from these declarations
(``python -m ocppscope.proxy.core.rulesdoc``) and a test keeps it in step.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import msgspec


class Severity(IntEnum):
    INFO = 10
    WARNING = 20
    ERROR = 30

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown severity {text!r} (info, warning, error)") from None

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class Rule:
    """The declaration of one rule: what it checks and an example that triggers it."""

    id: str
    severity: Severity
    title: str
    explanation: str
    example: str = ""
    area: str = ""


RULES: dict[str, Rule] = {}


def rule(
    rule_id: str, severity: Severity, title: str, explanation: str, example: str = "", area: str = ""
) -> Rule:
    """Declare a rule (once per id, at import time) and return it."""
    if rule_id in RULES:
        raise ValueError(f"rule {rule_id} declared twice")
    declared = Rule(rule_id, severity, title, explanation, example, area or rule_id.split(".", 1)[0])
    RULES[rule_id] = declared
    return declared


class Finding(msgspec.Struct, frozen=True):
    """One thing a rule noticed.

    ``seq`` is the sequence number of the event it is about (see :mod:`proxy.core.events`), ``None`` for
    findings about a whole connection or charger. ``charger`` is the identity from the URL path.
    A frozen msgspec Struct: immutable like a frozen dataclass, and built in C, which a frozen dataclass
    is not (it sets each field through ``object.__setattr__``).
    """

    rule: str
    severity: Severity
    message: str
    conn_id: str | None = None
    charger: str | None = None
    seq: int | None = None
    time: float | None = None
    action: str | None = None
    evidence: dict[str, Any] = {}
    """A new dict for each finding: msgspec copies an empty mutable default."""

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": str(self.severity),
            "message": self.message,
            "conn": self.conn_id,
            "charger": self.charger,
            "seq": self.seq,
            "time": self.time,
            "action": self.action,
            "evidence": self.evidence,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Finding:
        return cls(
            rule=data["rule"],
            severity=Severity.parse(data["severity"]),
            message=data["message"],
            conn_id=data.get("conn"),
            charger=data.get("charger"),
            seq=data.get("seq"),
            time=data.get("time"),
            action=data.get("action"),
            evidence=data.get("evidence") or {},
        )
