"""A connection id that opens again while it is open (two captures joined with ``cat``: each numbers its
connections from c1): the earlier connection is closed there, what waited on it is reported, and ``check``
says the same with any ``-j``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ocppscope.proxy.capture.sources import read_events
from ocppscope.proxy.capture.writer import CaptureWriter
from ocppscope.proxy.check import parallel
from ocppscope.proxy.check.parallel import SerialNeeded, analyze_parallel
from ocppscope.proxy.check.runner import analyze_events
from ocppscope.proxy.cli import main
from ocppscope.proxy.core.analyzer import AnalyzerOptions
from ocppscope.proxy.core.events import Event

from tests.traffic import T0, Wire, analyze, hits, numbered, rules


def joined(close_first: bool) -> list[Event]:
    """c1 of one capture (CP-1, a CALL left waiting), then c1 of another (CP-7), as ``cat a b`` leaves them."""
    first = Wire(charger="CP-1", conn_id="c1", t0=T0)
    first.boot()
    first.cp('[2,"m1","Heartbeat",{}]')
    if close_first:
        first.cs('[3,"m1",{}]')
        first.close()
    second = Wire(charger="CP-7", conn_id="c1", t0=T0 + 10)
    second.boot()
    second.close()
    return numbered(first, second)


def test_an_id_opened_again_while_open_closes_the_earlier_connection() -> None:
    found = analyze(joined(close_first=False))
    reopened = hits(found, "capture.connection-reopened")
    assert [f.message for f in reopened] == [
        "connection c1 opens again on /ocpp/CP-7 while the one opened on /ocpp/CP-1 is still open: two captures "
        "joined? The earlier one is read as closed here"]
    assert reopened[0].severity.name == "WARNING"
    waited = hits(found, "rpc.unanswered-at-close")
    assert [f.evidence["message_id"] for f in waited] == ["m1"]  # reported, not dropped with the connection
    assert "rpc.unanswered-at-end" not in rules(found)


def test_an_id_used_again_after_its_close_is_not_flagged() -> None:
    """Must not flag: one proxy run's c1 closed before the next run's c1 opened."""
    found = analyze(joined(close_first=True))
    assert "capture.connection-reopened" not in rules(found)


def _capture(path: Path, events: list[Event], style: str = "ocppscope") -> Path:
    """``events`` as a capture written by ocppscope, or rewritten by Python's ``json.dumps`` (spaces after
    colons), which the parallel router reads by decoding each line instead of its byte search."""
    with CaptureWriter(path, salt=b"test") as writer:
        for event in events:
            writer.write(event)
    if style == "json.dumps":
        lines = path.read_bytes().splitlines()
        path.write_text("".join(json.dumps(json.loads(line)) + "\n" for line in lines), encoding="utf-8")
    return path


@pytest.mark.parametrize("style", ["ocppscope", "json.dumps"])
def test_a_capture_that_reopens_an_open_id_is_checked_in_one_process(tmp_path: Path, style: str,
                                                                    monkeypatch: pytest.MonkeyPatch,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """The shards of a parallel check hold whole connections: the one with the earlier c1 never sees the id
    open again elsewhere, so the check runs in one process, says why, and reports what -j 1 reports."""
    path = _capture(tmp_path / "joined.jsonl", joined(close_first=False), style)
    options = AnalyzerOptions()
    with pytest.raises(SerialNeeded, match="opens connection c1 again while it is open"):
        analyze_parallel(path, 2, options)
    serial = analyze_events(path, read_events(path), options=options)
    assert "capture.connection-reopened" in rules(serial.findings)
    monkeypatch.setattr(parallel, "MIN_PARALLEL_BYTES", 0)
    reports = []
    for jobs in (1, 2):
        code = main(["check", "-j", str(jobs), "--format", "json", "-o", str(tmp_path / "report"), str(path)])
        reports.append((code, json.loads((tmp_path / "report").read_text(encoding="utf-8"))))
    assert reports[0] == reports[1]
    assert "opens connection c1 again while it is open: checked in one process" in capsys.readouterr().err


def test_a_capture_that_reuses_closed_ids_stays_parallel(tmp_path: Path) -> None:
    """Must not fall back: ids used again after their close split by connection as usual."""
    path = _capture(tmp_path / "reused.jsonl", joined(close_first=True))
    options = AnalyzerOptions()
    merged = analyze_parallel(path, 2, options)
    serial = analyze_events(path, read_events(path), options=options)
    assert [(f.rule, f.seq, f.message) for f in merged.findings] == [
        (f.rule, f.seq, f.message) for f in serial.findings]


@pytest.mark.parametrize("style", ["ocppscope", "json.dumps"])
def test_a_record_after_a_close_opens_the_id_again_for_both_paths(tmp_path: Path, style: str) -> None:
    """c1 closes, a frame of c1 follows (the analyzer keeps a connection for it), then c1 opens again: the
    reopening is reported, and a parallel run hands the capture to one process instead of missing it."""
    first = Wire(charger="CP-1", conn_id="c1", t0=T0)
    first.boot()
    first.close()
    first.cp('[2,"m9","Heartbeat",{}]')
    second = Wire(charger="CP-7", conn_id="c1", t0=T0 + 10)
    second.boot()
    path = _capture(tmp_path / "after-close.jsonl", numbered(first, second), style)
    serial = analyze_events(path, read_events(path), options=AnalyzerOptions())
    assert "capture.connection-reopened" in rules(serial.findings)
    with pytest.raises(SerialNeeded):
        analyze_parallel(path, 2, AnalyzerOptions())


@pytest.mark.parametrize("style", ["ocppscope", "json.dumps"])
def test_a_refused_handshake_does_not_hold_its_id_open(tmp_path: Path, style: str) -> None:
    """Must not fall back or flag: c1's upgrade refused with 401, then c1 (another capture's) accepted."""
    refused = Wire(charger="CP-1", conn_id="c1", t0=T0, status=401)
    accepted = Wire(charger="CP-7", conn_id="c1", t0=T0 + 10)
    accepted.boot()
    accepted.close()
    path = _capture(tmp_path / "refused.jsonl", numbered(refused, accepted), style)
    options = AnalyzerOptions()
    serial = analyze_events(path, read_events(path), options=options)
    merged = analyze_parallel(path, 2, options)
    assert "capture.connection-reopened" not in rules(serial.findings)
    assert [(f.rule, f.seq, f.message) for f in merged.findings] == [
        (f.rule, f.seq, f.message) for f in serial.findings]
