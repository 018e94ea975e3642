"""The check report as one JSON document, for scripts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import BinaryIO

import orjson

from proxy import __version__
from proxy.check.runner import InputResult
from proxy.check.verdict import Verdict
from proxy.core.findings import Severity


def render(results: Sequence[InputResult], verdict: Verdict, out: BinaryIO) -> None:
    document = {
        "tool": f"ocppscope {__version__}",
        "fail_on": str(verdict.fail_on) if verdict.fail_on is not None else "never",
        "failed": verdict.failed,
        "failing": len(verdict.failing),
        "inputs": [
            {
                "path": str(result.path),
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
            }
            for result in results
        ],
    }
    out.write(orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS, default=str))
    out.write(b"\n")
