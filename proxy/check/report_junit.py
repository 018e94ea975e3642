"""The check report as JUnit XML: one test suite per input, one test case per charger connection."""

from __future__ import annotations

from collections.abc import Sequence
from typing import BinaryIO
from xml.etree import ElementTree as ET

from proxy.check.runner import InputResult
from proxy.check.verdict import Verdict
from proxy.core import render as safe
from proxy.core.findings import Finding


def render(results: Sequence[InputResult], verdict: Verdict, out: BinaryIO, title: str = "ocppscope check") -> None:
    failing = {id(f) for f in verdict.failing}
    root = ET.Element("testsuites", name=title)
    for result in results:
        by_conn: dict[str | None, list[Finding]] = {conn_id: [] for conn_id in result.connections}
        for finding in result.findings:
            by_conn.setdefault(finding.conn_id, []).append(finding)
        suite = ET.SubElement(root, "testsuite", name=safe.xml(result.path), tests=str(len(by_conn)))
        failures = 0
        reading = result.reading
        if reading is not None and reading.warnings:
            # Reading problems do not fail the check, but every CI server shows a skipped case.
            case = ET.SubElement(suite, "testcase", classname="ocppscope.input", name=f"reading as {reading.format}")
            if reading.unusable:
                ET.SubElement(case, "skipped", message=f"{reading.unusable} line(s) could not be used")
            ET.SubElement(case, "system-out").text = safe.xml("\n".join(reading.warnings))
            suite.set("tests", str(len(by_conn) + 1))
        for conn_id, found in by_conn.items():
            summary = result.connections.get(conn_id) if conn_id is not None else None
            charger = (summary.charger if summary else None) or (found[0].charger if found else None) or "?"
            case = ET.SubElement(suite, "testcase", classname=safe.xml(f"ocppscope.{charger}"),
                                 name=safe.xml(f"connection {conn_id or '-'}"))
            bad = [f for f in found if id(f) in failing]
            if bad:
                failures += 1
                failure = ET.SubElement(
                    case, "failure", message=safe.xml(f"{len(bad)} finding(s): {bad[0].message}"),
                    type=safe.xml(bad[0].rule),
                )
                failure.text = "\n".join(_finding_line(f) for f in bad)
            others = [f for f in found if id(f) not in failing]
            if others:
                ET.SubElement(case, "system-out").text = "\n".join(_finding_line(f) for f in others)
        suite.set("failures", str(failures))
    ET.ElementTree(root).write(out, encoding="utf-8", xml_declaration=True)
    out.write(b"\n")


def _finding_line(finding: Finding) -> str:
    where = finding.seq if finding.seq is not None else "-"
    return safe.line(f"{finding.severity} #{where} {finding.rule}: {finding.message}")
