"""Regression diff: compare two conversations with a charger and report what the side under test changed.

``ocppscope diff A B`` compares two captures; ``ocppscope replay --target`` compares a capture with the live
session it just played. Both go through :func:`diff_events`::

    differences, live = diff_events(read_events(a), read_events(b))

The differences are :class:`~proxy.core.findings.Finding` objects (``diff.*`` ids, docs/ci.md), so the
``check`` reports, verdict and baseline handle them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ocppscope.proxy.core.analyzer import AnalyzerOptions, Checker
from ocppscope.proxy.core.checks import default_checkers
from ocppscope.proxy.core.events import Event
from ocppscope.proxy.core.findings import Finding
from ocppscope.proxy.diff.compare import DiffOptions, compare_conversations
from ocppscope.proxy.diff.conversation import Exchange, conversation
from ocppscope.proxy.diff.payload import IgnoreRules


def diff_events(
    recorded: Iterable[Event],
    live: Iterable[Event],
    options: DiffOptions | None = None,
    *,
    checkers: Callable[[], list[Checker]] = default_checkers,
    analyzer: AnalyzerOptions | None = None,
    keep_recorded: Callable[[str], bool] | None = None,
) -> tuple[list[Finding], list[Exchange]]:
    """The differences from ``recorded`` to ``live`` and the live conversation they refer to.

    ``keep_recorded(conn_id)`` limits the recorded side to some connections (a replay skips refused
    handshakes). Secrets are redacted on both sides first.
    """
    # Both sides redacted as captures are: a recording made with --no-redact shows no secret in the report,
    # and a secret compares as a marker would (not at all).
    from ocppscope.proxy.capture.redact import Redactor, installation_salt

    redactor = Redactor(installation_salt())
    before = conversation(redactor.events(recorded), checkers, analyzer, keep_recorded)
    after = conversation(redactor.events(live), checkers, analyzer)
    return compare_conversations(before, after, options), after


__all__ = ["DiffOptions", "Exchange", "IgnoreRules", "conversation", "diff_events"]
