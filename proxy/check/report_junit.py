"""The check report as JUnit XML: one test suite per input, one test case per charger and rule.

A case is named by what stays the same when the same chargers are recorded again: ``classname`` is
``ocppscope.<charger identity>`` and ``name`` the rule id, never a connection id (the proxy makes a new one per
connection), so a CI server follows each case from build to build. Every rule that can fail the check (at or
above ``--fail-on``) gets a case for every charger in the input, passing when it found nothing, so a fixed
problem shows as a case that passes again rather than one that vanished; rules below the threshold get a case
where they reported something. A case fails with the message of its first failing finding; the text lists them
all. ``time`` is the seconds of recorded traffic the case judged (the charger's first open to its last event),
not how long ocppscope ran: the same input gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import BinaryIO
from xml.etree import ElementTree as ET

from ocppscope.proxy.check.runner import ConnectionSummary, InputResult
from ocppscope.proxy.check.verdict import Verdict
from ocppscope.proxy.core import render as safe
from ocppscope.proxy.core.findings import RULES, Finding, Severity

NO_IDENTITY = "(no identity)"
"""The charger name of findings and connections whose URL path gave no identity."""


def gate_rules(fail_on: Severity | None) -> list[str]:
    """The declared rules that can fail a check at ``fail_on``: each gets a case per charger, found or not."""
    if fail_on is None:
        return []
    return sorted(rule.id for rule in RULES.values() if rule.severity >= fail_on and rule.area != "diff")


def render(results: Sequence[InputResult], verdict: Verdict, out: BinaryIO, title: str = "ocppscope check",
           rules: Iterable[str] = ()) -> None:
    """Write the report; ``rules`` are the rules every charger gets a case for (see :func:`gate_rules`)."""
    failing = {id(f) for f in verdict.failing}
    every = sorted(set(rules))
    root = ET.Element("testsuites", name=title)
    total = 0.0
    for result in results:
        suite = _suite(root, result, failing, every)
        total += float(suite.get("time") or 0)
    root.set("time", _seconds(total))
    ET.ElementTree(root).write(out, encoding="utf-8", xml_declaration=True)
    out.write(b"\n")


def _suite(root: ET.Element, result: InputResult, failing: set[int], every: list[str]) -> ET.Element:
    by_charger: dict[str, dict[str, list[Finding]]] = {}
    spans: dict[str, list[ConnectionSummary]] = {}
    for summary in result.connections.values():
        spans.setdefault(summary.charger or NO_IDENTITY, []).append(summary)
        by_charger.setdefault(summary.charger or NO_IDENTITY, {})
    for finding in result.findings:
        by_charger.setdefault(finding.charger or NO_IDENTITY, {}).setdefault(finding.rule, []).append(finding)
    suite = ET.SubElement(root, "testsuite", name=safe.xml(result.path))
    tests = failures = skipped = 0
    reading = result.reading
    if reading is not None and reading.warnings:
        # Reading problems do not fail the check, but every CI server shows a skipped case.
        case = ET.SubElement(suite, "testcase", classname="ocppscope.input", name=f"reading as {reading.format}",
                             time="0")
        if reading.unusable:
            ET.SubElement(case, "skipped", message=f"{reading.unusable} line(s) could not be used")
            skipped += 1
        ET.SubElement(case, "system-out").text = safe.xml("\n".join(reading.warnings))
        tests += 1
    first, last = _span([s for summaries in spans.values() for s in summaries], result.findings)
    for charger in sorted(by_charger):
        found = by_charger[charger]
        start, end = _span(spans.get(charger, ()), [f for fs in found.values() for f in fs])
        time = _seconds(max(0.0, end - start) if start is not None and end is not None else 0.0)
        for rule_id in sorted(set(every) | set(found)):
            findings = found.get(rule_id, [])
            case = ET.SubElement(suite, "testcase", classname=safe.xml(f"ocppscope.{charger}"), name=rule_id,
                                 time=time)
            tests += 1
            bad = [f for f in findings if id(f) in failing]
            more = result.omitted.get((None if charger == NO_IDENTITY else charger, rule_id), 0)
            if bad:
                failures += 1
                failure = ET.SubElement(case, "failure", message=safe.xml(safe.line(bad[0].message)), type=rule_id)
                failure.text = _lines(bad, more)
            others = [f for f in findings if id(f) not in failing]
            if others:
                ET.SubElement(case, "system-out").text = _lines(others, 0 if bad else more)
    suite.set("tests", str(tests))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suite.set("skipped", str(skipped))
    suite.set("time", _seconds(max(0.0, last - first) if first is not None and last is not None else 0.0))
    return suite


def _span(summaries: Iterable[ConnectionSummary], findings: Iterable[Finding]) -> tuple[float | None, float | None]:
    """The first and last time a charger's connections and findings show."""
    times = [t for s in summaries for t in (s.opened_at, s.closed_at) if t is not None]
    times += [f.time for f in findings if f.time is not None]
    return (min(times), max(times)) if times else (None, None)


def _seconds(value: float) -> str:
    return f"{value:.3f}"


def _lines(findings: Sequence[Finding], more: int) -> str:
    text = "\n".join(_finding_line(f) for f in findings)
    return text + (f"\n… and {more} more not listed" if more else "")


def _finding_line(finding: Finding) -> str:
    where = finding.seq if finding.seq is not None else "-"
    return safe.xml(safe.line(f"{finding.severity} #{where} connection {finding.conn_id or '-'}: "
                              f"{finding.message}"))
