"""The check report as JUnit XML: one test suite per input, one test case per charger connection."""

from __future__ import annotations

from collections.abc import Sequence
from typing import BinaryIO
from xml.etree import ElementTree as ET

from proxy.check.runner import InputResult
from proxy.check.verdict import Verdict
from proxy.core.findings import Finding


def render(results: Sequence[InputResult], verdict: Verdict, out: BinaryIO, title: str = "ocppscope check") -> None:
    failing = {id(f) for f in verdict.failing}
    root = ET.Element("testsuites", name=title)
    for result in results:
        by_conn: dict[str | None, list[Finding]] = {conn_id: [] for conn_id in result.connections}
        for finding in result.findings:
            by_conn.setdefault(finding.conn_id, []).append(finding)
        suite = ET.SubElement(root, "testsuite", name=str(result.path), tests=str(len(by_conn)))
        failures = 0
        for conn_id, found in by_conn.items():
            summary = result.connections.get(conn_id) if conn_id is not None else None
            charger = (summary.charger if summary else None) or (found[0].charger if found else None) or "?"
            case = ET.SubElement(
                suite, "testcase", classname=f"ocppscope.{charger}", name=f"connection {conn_id or '-'}"
            )
            bad = [f for f in found if id(f) in failing]
            if bad:
                failures += 1
                failure = ET.SubElement(
                    case, "failure", message=f"{len(bad)} finding(s): {bad[0].message}", type=bad[0].rule
                )
                failure.text = "\n".join(
                    f"{f.severity} #{f.seq if f.seq is not None else '-'} {f.rule}: {f.message}" for f in bad
                )
            others = [f for f in found if id(f) not in failing]
            if others:
                ET.SubElement(case, "system-out").text = "\n".join(
                    f"{f.severity} #{f.seq if f.seq is not None else '-'} {f.rule}: {f.message}" for f in others
                )
        suite.set("failures", str(failures))
    ET.ElementTree(root).write(out, encoding="utf-8", xml_declaration=True)
    out.write(b"\n")
