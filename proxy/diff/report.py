"""Differences as ``check`` results: the same text, JSON and JUnit reports, verdict and baseline."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import cast

from ocppscope.proxy.check.baseline import BaselineKey
from ocppscope.proxy.check.runner import ConnectionSummary, InputResult, finding_order
from ocppscope.proxy.check.verdict import Verdict, judge
from ocppscope.proxy.core.findings import Finding, Severity
from ocppscope.proxy.diff.conversation import Exchange


def diff_result(label: str, exchanges: Iterable[Exchange], differences: Sequence[Finding]) -> InputResult:
    """One report section: the compared connections (of the live side) and their differences."""
    # A label, not a file: Path() would fold the '//' of a ws:// URL.
    result = InputResult(cast(Path, label))
    for exchange in exchanges:
        opened, closed = exchange.opened, exchange.closed
        result.connections[exchange.conn_id] = ConnectionSummary(
            exchange.conn_id,
            charger=exchange.charger,
            client=opened.client if opened else None,
            path=opened.path if opened else None,
            status=opened.status if opened else None,
            subprotocol=opened.subprotocol if opened else None,
            version=exchange.version,
            opened_at=opened.time if opened else None,
            closed_at=closed.time if closed else None,
            close_code=closed.code if closed else None,
            closed_by=closed.closed_by if closed else None,
            frames=exchange.frames,
        )
        result.frames += exchange.frames
    result.findings = sorted(differences, key=finding_order)
    result.counts = Counter(f.severity for f in differences)
    return result


def verdict(results: Sequence[InputResult], fail_on: str, baseline: set[BaselineKey] | None) -> Verdict:
    return judge(results, None if fail_on == "never" else Severity.parse(fail_on), baseline)


def write_report(fmt: str, output: Path | None, results: Sequence[InputResult], outcome: Verdict) -> None:
    # The check command's writer: one implementation of stdout/file, colour and the three formats.
    from ocppscope.proxy.commands import check

    check.write_report(fmt, output, results, outcome, title="ocppscope diff")
