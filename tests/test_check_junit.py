"""The JUnit report: a test case per charger and rule, named so CI follows it from one recording to the next."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

from ocppscope.proxy.check.report_junit import gate_rules
from ocppscope.proxy.cli import main
from ocppscope.proxy.core.findings import Severity

from tests.test_check_cli import faulty_session, write_capture
from tests.traffic import T0, Wire


def junit(tmp_path: Path, capture: Path, *extra: str) -> tuple[int, ET.Element, bytes]:
    out = tmp_path / f"{capture.stem}.xml"
    code = main(["check", "--format", "junit", "-o", str(out), *extra, str(capture)])
    data = out.read_bytes()
    return code, ET.fromstring(data), data


def cases(root: ET.Element) -> dict[tuple[str, str], ET.Element]:
    found = {(case.get("classname") or "", case.get("name") or ""): case for case in root.iter("testcase")}
    assert len(found) == len(list(root.iter("testcase"))), "case names must be unique"
    return found


def recording(path: Path, conn_prefix: str, t0: float, fixed: bool = False) -> Path:
    """Two chargers, one reconnecting, recorded with the connection ids and times of one proxy run."""
    events = []
    for n, charger in enumerate(("CP01", "CP02")):
        for attempt in range(2 if charger == "CP01" else 1):
            wire = faulty_session(conn_id=f"{conn_prefix}-{n}-{attempt}", charger=charger,
                                  t0=t0 + n * 3 + attempt * 60)
            if fixed and charger == "CP02":  # the backend was fixed: no more answers to unknown ids
                wire.events = [e for e in wire.events if b'"ghost"' not in getattr(e, "content", b"")]
            events += wire.events
    events.sort(key=lambda event: event.time)
    for seq, event in enumerate(events, 1):
        event.seq = seq
    return write_capture(path, events)


def test_cases_are_named_by_charger_and_rule_the_same_in_two_recordings(tmp_path: Path) -> None:
    first = recording(tmp_path / "first.jsonl", "f3a9c1", T0)
    second = recording(tmp_path / "again.jsonl", "77b0e2", T0)  # recorded again: new connection ids
    code1, root1, _ = junit(tmp_path, first)
    code2, root2, _ = junit(tmp_path, second)
    assert code1 == code2 == 1
    names = set(cases(root1))
    assert names == set(cases(root2))
    assert {charger for charger, _ in names} == {"ocppscope.CP01", "ocppscope.CP02"}
    # Every rule that can fail the check has a case per charger, found or not; the rest where they reported.
    for charger in ("ocppscope.CP01", "ocppscope.CP02"):
        rules = {rule for classname, rule in names if classname == charger}
        assert set(gate_rules(Severity.ERROR)) <= rules
        assert "schema.datetime-no-timezone" in rules  # a warning that reported
    text = ET.tostring(root1, encoding="unicode") + ET.tostring(root2, encoding="unicode")
    assert "f3a9c1-" not in "".join(f"{c} {n}" for c, n in names)  # connection ids only in the failure text
    assert "f3a9c1-0-1" in text


def test_a_failure_carries_the_finding_message_and_lists_every_finding(tmp_path: Path) -> None:
    capture = recording(tmp_path / "run.jsonl", "c", T0)
    report = tmp_path / "run.json"
    assert main(["check", "--format", "json", "-o", str(report), str(capture)]) == 1
    findings = json.loads(report.read_bytes())["inputs"][0]["findings"]
    _, root, _ = junit(tmp_path, capture)
    found = cases(root)
    unknown = [f for f in findings if f["rule"] == "rpc.unknown-id" and f["charger"] == "CP01"]
    assert len(unknown) == 2  # one per connection of the reconnecting charger: one case
    failure = found[("ocppscope.CP01", "rpc.unknown-id")].find("failure")
    assert failure is not None
    assert failure.get("message") == unknown[0]["message"] and failure.get("type") == "rpc.unknown-id"
    assert (failure.text or "").splitlines() == [f"error #{f['seq']} connection {f['conn']}: {f['message']}"
                                                 for f in unknown]
    passing = found[("ocppscope.CP01", "auth.missing")]
    assert list(passing) == []  # a gate rule that found nothing passes
    warning = found[("ocppscope.CP01", "schema.datetime-no-timezone")]
    assert warning.find("failure") is None and "has no timezone" in (warning.findtext("system-out") or "")
    [suite] = root.findall("testsuite")
    assert suite.get("failures") == str(sum(case.find("failure") is not None for case in found.values()))
    assert suite.get("tests") == str(len(found))


def test_a_fixed_problem_shows_as_the_same_case_passing(tmp_path: Path) -> None:
    _, before, _ = junit(tmp_path, recording(tmp_path / "before.jsonl", "x", T0))
    _, after, _ = junit(tmp_path, recording(tmp_path / "after.jsonl", "y", T0, fixed=True))
    key = ("ocppscope.CP02", "rpc.unknown-id")
    assert cases(before)[key].find("failure") is not None
    assert key in cases(after) and cases(after)[key].find("failure") is None
    assert set(cases(before)) == set(cases(after))


def test_time_attributes_are_the_recorded_traffic_and_reports_are_the_same_bytes(tmp_path: Path) -> None:
    capture = recording(tmp_path / "run.jsonl", "c", T0)
    _, root, data = junit(tmp_path, capture)
    assert junit(tmp_path, capture)[2] == data
    for element in [root, *root.iter("testsuite"), *root.iter("testcase")]:
        assert float(element.get("time") or "nan") >= 0
    found = cases(root)
    # CP01 connected twice, a minute apart: its cases judged from its first open to its last close.
    cp01 = float(found[("ocppscope.CP01", "rpc.unknown-id")].get("time") or 0)
    cp02 = float(found[("ocppscope.CP02", "rpc.unknown-id")].get("time") or 0)
    assert cp01 > 60 > cp02 > 0


def test_a_charger_without_identity_and_fail_on_never(tmp_path: Path) -> None:
    wire = Wire(charger="", conn_id="anon", t0=T0)
    wire.events[0] = type(wire.events[0])("anon", T0, "127.0.0.1:5", "/", request_headers=(),
                                          status=101, subprotocol="ocpp1.6", seq=1)
    wire.boot()
    wire.cs('[3,"ghost",{}]')
    wire.close()
    capture = write_capture(tmp_path / "anon.jsonl", wire.events)
    code, root, _ = junit(tmp_path, capture, "--fail-on", "never")
    assert code == 0
    found = cases(root)
    assert ("ocppscope.(no identity)", "rpc.unknown-id") in found
    assert all(case.find("failure") is None for case in found.values())
    assert not any(name == "auth.missing" for _, name in found)  # no gate rules when nothing fails the check
