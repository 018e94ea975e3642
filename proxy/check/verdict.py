"""Which findings fail a check: at or above ``--fail-on`` and not accepted by the baseline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ocppscope.proxy.check.baseline import BaselineKey, keys_of
from ocppscope.proxy.check.runner import InputResult
from ocppscope.proxy.core.findings import Finding, Severity


@dataclass(slots=True)
class Verdict:
    fail_on: Severity | None
    failing: list[Finding]
    accepted: set[int]
    """``id()`` of findings the baseline accepted."""

    @property
    def failed(self) -> bool:
        return bool(self.failing)


def judge(results: Sequence[InputResult], fail_on: Severity | None, baseline: set[BaselineKey] | None) -> Verdict:
    findings = [finding for result in results for finding in result.findings]
    accepted: set[int] = set()
    if baseline:
        for finding, key in zip(findings, keys_of(findings), strict=True):
            if key in baseline:
                accepted.add(id(finding))
    failing = (
        []
        if fail_on is None
        else [f for f in findings if f.severity >= fail_on and id(f) not in accepted]
    )
    return Verdict(fail_on, failing, accepted)
