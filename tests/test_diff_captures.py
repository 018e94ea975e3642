"""``ocppscope diff A B`` on real captures and on copies changed the way a backend release changes answers."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from ocppscope.proxy.capture import CaptureWriter, read_events
from ocppscope.proxy.cli import main
from ocppscope.proxy.core.events import Direction, Event, Message
from ocppscope.proxy.diff import diff_events
from ocppscope.proxy.diff.compare import DiffOptions

CAPTURES = Path(__file__).resolve().parents[1] / "captures"
CLEAN = CAPTURES / "clean-ocpp16.jsonl"


def rewritten(tmp_path: Path, source: Path, change: Callable[[list[Any]], list[Any] | None]) -> Path:
    """A copy of ``source`` with every backend frame passed through ``change`` (None drops the frame)."""
    target = tmp_path / f"changed-{source.name}"
    with CaptureWriter(target, salt=b"test") as writer:
        for event in read_events(source):
            if isinstance(event, Message) and event.direction is Direction.FROM_BACKEND:
                frame = change(json.loads(event.content))
                if frame is None:
                    continue
                event.content = json.dumps(frame).encode()
            writer.write(event)
    return target


def rules_of(differences: list[Any]) -> list[str]:
    return [d.rule for d in differences]


def test_a_capture_against_itself_has_no_difference(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", str(CLEAN), str(CLEAN)]) == 0
    assert "PASS" in capsys.readouterr().out


def first_only(predicate: Callable[[list[Any]], bool], new: Callable[[list[Any]], list[Any]]
               ) -> Callable[[list[Any]], list[Any]]:
    """A frame change applied to the first frame ``predicate`` accepts."""
    done: list[bool] = []

    def change(frame: list[Any]) -> list[Any]:
        if done or not predicate(frame):
            return frame
        done.append(True)
        return new(frame)

    return change


def test_status_change_and_exit_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The first answer that is only an idTagInfo answers Authorize.
    blocked = first_only(lambda f: f[0] == 3 and f[2] == {"idTagInfo": {"status": "Accepted"}},
                         lambda f: [3, f[1], {"idTagInfo": {"status": "Blocked"}}])
    changed = rewritten(tmp_path, CLEAN, blocked)
    assert main(["diff", str(CLEAN), str(changed)]) == 1
    out = capsys.readouterr().out
    assert "diff.status-changed" in out and 'Authorize answer: idTagInfo.status "Accepted" → "Blocked"' in out
    assert "FAIL" in out
    # Ignoring the field makes the difference go away.
    assert main(["diff", str(CLEAN), str(changed), "--ignore", "Authorize:$.idTagInfo.status"]) == 0


def _drop_current_time(frame: list[Any]) -> list[Any]:
    if frame[0] == 3 and isinstance(frame[2], dict) and set(frame[2]) == {"currentTime"}:
        return [3, frame[1], {}]
    return frame


def test_missing_field_and_new_schema_finding() -> None:
    events = list(read_events(CLEAN))
    changed = [Message(e.conn_id, e.time, e.direction, json.dumps(_drop_current_time(json.loads(e.content))).encode(),
                       seq=e.seq) if isinstance(e, Message) and e.direction is Direction.FROM_BACKEND else e
               for e in events]
    differences, _ = diff_events(events, changed)
    found = {(d.rule, d.action) for d in differences}
    assert ("diff.field-missing", "Heartbeat") in found
    assert ("diff.new-finding", "Heartbeat") in found
    [new] = [d for d in differences if d.rule == "diff.new-finding"]
    assert new.severity.name == "ERROR" and "currentTime" in new.message


def test_new_call_error_json_and_junit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The first empty answer answers the first StatusNotification.
    refused = first_only(lambda f: f[0] == 3 and f[2] == {}, lambda f: [4, f[1], "InternalError", "database down", {}])
    changed = rewritten(tmp_path, CLEAN, refused)
    report = tmp_path / "report.json"
    assert main(["diff", str(CLEAN), str(changed), "--format", "json", "-o", str(report)]) == 1
    [section] = json.loads(report.read_text())["inputs"]
    [error] = section["findings"]
    assert error["rule"] == "diff.call-error-new" and error["action"] == "StatusNotification"
    assert "database down" in error["message"] and error["evidence"]["live"] == "InternalError"
    junit = tmp_path / "report.xml"
    assert main(["diff", str(CLEAN), str(changed), "--format", "junit", "-o", str(junit)]) == 1
    suite = ElementTree.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "1"


def test_fail_on_error_and_baseline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def slower_interval(frame: list[Any]) -> list[Any]:
        if frame[0] == 3 and isinstance(frame[2], dict) and frame[2].get("interval") == 1:
            return [3, frame[1], {**frame[2], "interval": 60}]
        return frame

    changed = rewritten(tmp_path, CLEAN, slower_interval)
    assert main(["diff", str(CLEAN), str(changed)]) == 1  # a warning-level value change
    assert main(["diff", str(CLEAN), str(changed), "--fail-on", "error"]) == 0
    baseline = tmp_path / "baseline.json"
    assert main(["diff", str(CLEAN), str(changed), "--write-baseline", str(baseline)]) == 0
    assert main(["diff", str(CLEAN), str(changed), "--baseline", str(baseline)]) == 0
    assert "interval 1 → 60" in capsys.readouterr().out


def test_missing_backend_call_and_unanswered(tmp_path: Path) -> None:
    def without_get_configuration(frame: list[Any]) -> list[Any] | None:
        if frame[0] == 2 and frame[2] == "GetConfiguration":
            return None
        return frame

    changed = rewritten(tmp_path, CLEAN, without_get_configuration)
    differences, _ = diff_events(read_events(CLEAN), read_events(changed))
    assert rules_of(differences) == ["diff.backend-call-missing"]

    def silent_after_stop(frame: list[Any]) -> list[Any] | None:
        return None if frame[0] == 3 and frame[2] == {"idTagInfo": {"status": "Accepted"}} else frame

    changed = rewritten(tmp_path, CLEAN, silent_after_stop)
    differences, _ = diff_events(read_events(CLEAN), read_events(changed))
    assert {(d.rule, d.action) for d in differences} == {("diff.no-answer", "Authorize"),
                                                         ("diff.no-answer", "StopTransaction")}


def test_different_captures_of_one_charger_each_are_compared() -> None:
    differences, _ = diff_events(read_events(CAPTURES / "demo-session.jsonl"),
                                 read_events(CAPTURES / "schema-violation.jsonl"))
    found = set(rules_of(differences))
    assert {"diff.status-changed", "diff.call-error-new", "diff.call-error-gone", "diff.new-finding",
            "diff.backend-call-missing", "diff.exchange-missing"} <= found
    assert "diff.connection-missing" not in found  # one charger each: compared despite other identities


def test_subject_charger_compares_what_the_charger_sent() -> None:
    events: list[Event] = list(read_events(CLEAN))
    differences, _ = diff_events(events, events, DiffOptions(subject=Direction.FROM_CHARGER))
    assert differences == []
    differences, _ = diff_events(read_events(CAPTURES / "demo-session.jsonl"),
                                 read_events(CAPTURES / "schema-violation.jsonl"),
                                 DiffOptions(subject=Direction.FROM_CHARGER))
    assert "diff.charger-call-missing" in rules_of(differences) or "diff.charger-call-new" in rules_of(differences)


def test_slower_answers_beyond_the_threshold(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    events = list(read_events(CLEAN))
    slow = [Message(e.conn_id, e.time + 3.0, e.direction, e.content, seq=e.seq)
            if isinstance(e, Message) and b'"transactionId":1,' in e.content and e.content.startswith(b"[3,")
            else e for e in events]
    differences, _ = diff_events(events, slow)
    [late] = differences
    assert late.rule == "diff.latency" and late.action == "StartTransaction"
    assert late.evidence["live"] - late.evidence["recorded"] == pytest.approx(3.0, abs=0.01)
    assert diff_events(events, slow, DiffOptions(latency_threshold=5.0))[0] == []
