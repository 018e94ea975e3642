"""Rule sets of the inspection core. Importing a module declares its rules."""

from __future__ import annotations

from proxy.core.analyzer import Checker
from proxy.core.checks.boot import BootChecker
from proxy.core.checks.heartbeat import HeartbeatChecker
from proxy.core.checks.schema import SchemaChecker


def default_checkers() -> list[Checker]:
    """The checkers every consumer (proxy, check, replay, TUI) runs; configured ones are added by the caller."""
    return [
        SchemaChecker(),
        BootChecker(),
        HeartbeatChecker(),
    ]
