"""The check report a person reads: findings grouped by charger and connection."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TextIO

from ocppscope.proxy.check.runner import ConnectionSummary, InputResult
from ocppscope.proxy.check.verdict import Verdict
from ocppscope.proxy.core import render as safe
from ocppscope.proxy.core.findings import Finding, Severity

_COLOURS = {Severity.ERROR: "\x1b[31m", Severity.WARNING: "\x1b[33m", Severity.INFO: "\x1b[36m"}
_RESET = "\x1b[0m"


def _time(value: float | None) -> str:
    return "?" if value is None else safe.timestamp(value)


def _connection_line(summary: ConnectionSummary, several_files: bool = False) -> str:
    parts = [f"charger {summary.charger or '?'}", f"connection {summary.conn_id}"]
    if several_files and summary.source:
        parts.append(f"in {summary.source}")
    if summary.client or summary.path:
        parts.append(f"{summary.client or '?'} → {summary.path or '?'}")
    if summary.status is not None and summary.status != 101:
        parts.append(f"handshake answered {summary.status}")
    parts.append(summary.subprotocol or "no subprotocol")
    if summary.version and summary.version != (summary.subprotocol or "").removeprefix("ocpp"):
        parts.append(f"OCPP {summary.version}")
    parts.append(f"{summary.frames} frames")
    if summary.opened_at is not None:
        parts.append(f"opened {_time(summary.opened_at)}")
    if summary.closed_at is not None:
        code = f" {summary.close_code}" if summary.close_code is not None else ""
        parts.append(f"closed{code} by {summary.closed_by or 'unknown'}")
    return safe.line("  ".join(parts))


def render(results: Sequence[InputResult], verdict: Verdict, out: TextIO, colour: bool = False) -> None:
    def severity(finding: Finding) -> str:
        label = f"{finding.severity!s:<7}"
        return f"{_COLOURS[finding.severity]}{label}{_RESET}" if colour else label

    totals: Counter[Severity] = Counter()
    frames = connections = 0
    for result in results:
        totals.update(result.counts)
        frames += result.frames
        connections += len(result.connections)
        reading = result.reading
        unusable = f", {reading.unusable} line(s) unusable" if reading is not None and reading.unusable else ""
        out.write(safe.line(f"{result.path}: {len(result.connections)} connection(s), {result.frames} frames"
                            f"{unusable}") + "\n")
        if len(result.files) > 1:
            out.write(safe.line(f"  read as one recording: {len(result.files)} files, merged by time") + "\n")
        for warning in reading.warnings if reading is not None else ():
            out.write(f"  reading: {safe.line(warning)}\n")
        for note in reading.notes if reading is not None else ():
            out.write(f"  note: {safe.line(note)}\n")
        by_conn: dict[str | None, list[Finding]] = {}
        for finding in result.findings:
            by_conn.setdefault(finding.conn_id, []).append(finding)
        order = list(result.connections) + [c for c in by_conn if c not in result.connections]
        for conn_id in order:
            summary = result.connections.get(conn_id) if conn_id is not None else None
            found = by_conn.get(conn_id, [])
            if summary is not None:
                out.write(f"  {_connection_line(summary, len(result.files) > 1)}\n")
            elif found:
                out.write(f"  charger {safe.line(found[0].charger or '?')} (no connection)\n")
            for finding in sorted(found, key=lambda f: (f.seq if f.seq is not None else -1)):
                where = f"#{finding.seq}" if finding.seq is not None else "-"
                mark = "  (in baseline)" if id(finding) in verdict.accepted else ""
                out.write(f"    {severity(finding)} {where:>7}  {safe.line(finding.rule):<34} "
                          f"{safe.line(finding.message)}{mark}\n")
        for (charger, rule), count in sorted(result.omitted.items(), key=lambda item: str(item[0])):
            out.write(safe.line(f"  … {count} more {rule} finding(s) for charger {charger or '?'} not listed")
                      + "\n")
        if result.internal_errors:
            out.write(f"  ocppscope hit {result.internal_errors} internal error(s); see the log\n")
    summary = (
        f"{len(results)} input(s), {connections} connection(s), {frames} frames: "
        f"{totals[Severity.ERROR]} error(s), {totals[Severity.WARNING]} warning(s), {totals[Severity.INFO]} info"
    )
    unusable = sum(r.reading.unusable for r in results if r.reading is not None)
    if unusable:
        summary += f"; {unusable} input line(s) could not be used"
    if verdict.fail_on is None:
        outcome = "not failing on findings (--fail-on never)"
    elif verdict.failed:
        outcome = f"FAIL: {len(verdict.failing)} finding(s) at or above {verdict.fail_on}"
        if verdict.accepted:
            outcome += " not in the baseline"
    else:
        outcome = f"PASS: nothing at or above {verdict.fail_on}"
        if verdict.accepted:
            outcome += f" beyond the {len(verdict.accepted)} baseline finding(s)"
    out.write(f"{summary}. {outcome}.\n")
