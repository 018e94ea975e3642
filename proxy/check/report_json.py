"""The check report as one JSON document, for scripts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any, BinaryIO

from ocppscope.proxy import __version__
from ocppscope.proxy.capture.report import Reading
from ocppscope.proxy.check.runner import InputResult
from ocppscope.proxy.check.verdict import Verdict
from ocppscope.proxy.core import render as safe
from ocppscope.proxy.core.findings import Severity


def render(results: Sequence[InputResult], verdict: Verdict, out: BinaryIO) -> None:
    document = {
        "tool": f"ocppscope {__version__}",
        "fail_on": str(verdict.fail_on) if verdict.fail_on is not None else "never",
        "failed": verdict.failed,
        "failing": len(verdict.failing),
        "unusable_lines": sum(result.reading.unusable for result in results if result.reading is not None),
        "inputs": [
            {
                "path": str(result.path),
                "files": result.files or [str(result.path)],
                "frames": result.frames,
                "events": result.events,
                "counts": {str(s): result.counts[s] for s in Severity},
                "connections": [asdict(summary) for summary in result.connections.values()],
                "findings": [
                    {**finding.to_json(), "baselined": id(finding) in verdict.accepted}
                    for finding in result.findings
                ],
                "omitted": [
                    {"charger": charger, "rule": rule, "count": count}
                    for (charger, rule), count in result.omitted.items()
                ],
                "internal_errors": result.internal_errors,
                "reading": _reading(result.reading),
            }
            for result in results
        ],
    }
    out.write(safe.json_bytes(document, indent=True))
    out.write(b"\n")


def _reading(reading: Reading | None) -> dict[str, Any] | None:
    if reading is None:
        return None
    return {"format": reading.format, "events": reading.events, "lines": reading.lines,
            "unusable_lines": reading.unusable, "cut_short_line": reading.truncated_line,
            "skipped_lines": reading.skipped, "warnings": reading.warnings, "notes": reading.notes}
