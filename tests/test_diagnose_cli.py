"""``ocppscope diagnose`` on the bundled captures (recorded with real ocpp peers): text, JSON, filters."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ocppscope.proxy.cli import main

CAPTURES = Path(__file__).resolve().parents[1] / "captures"


def test_text_report_ranks_causes_and_lists_the_timeline(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diagnose", str(CAPTURES / "bad-basic-auth.jsonl")]) == 0
    out = capsys.readouterr().out
    assert "Charger CP-AUTH-16: 4 connection(s)" in out
    assert "1. [88] Handshakes refused: 401 ×3  (handshake-failures)" in out
    assert "Change:" in out and "Evidence:" in out
    assert out.count("upgrade answered 401") == 3  # the timeline
    assert "A1B2C3D4E5F6" not in out


def test_json_report(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diagnose", "--json", str(CAPTURES / "boot-loop.jsonl")]) == 0
    document = json.loads(capsys.readouterr().out)
    [charger] = document["chargers"]
    assert charger["charger"] == "CP-BOOTLOOP-16"
    assert charger["causes"][0]["kind"] == "boot-loop"
    assert charger["causes"][0]["evidence"][0]["seq"] == 2
    assert charger["connections"][0]["closed_by"] == "charger"
    assert charger["settings"]["HeartbeatInterval"]["value"] == 300


def test_several_inputs_keep_connections_apart_and_filter(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "diagnosis.json"
    inputs = [str(CAPTURES / "boot-loop.jsonl"), str(CAPTURES / "clean-ocpp16.jsonl")]
    assert main(["diagnose", *inputs, "--format", "json", "-o", str(report), "--charger", "CP-CLEAN-16"]) == 0
    document = json.loads(report.read_text())
    assert document["inputs"] == inputs
    [charger] = document["chargers"]
    assert charger["charger"] == "CP-CLEAN-16" and charger["causes"] == []
    # The input that used c1 first (in time) keeps it; the other's becomes 1:c1 (see MergedEvents).
    assert [(c["conn_id"], c["source"]) for c in charger["connections"]] == [("c1", inputs[1])]
    assert main(["diagnose", *inputs, "--format", "json", "-o", str(report)]) == 0
    ids = [c["conn_id"] for charger in json.loads(report.read_text())["chargers"] for c in charger["connections"]]
    assert sorted(ids) == ["1:c1", "c1"]


def test_clean_capture_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diagnose", str(CAPTURES / "clean-ocpp201.jsonl")]) == 0
    assert "No cause of lost connections found" in capsys.readouterr().out


def test_unreadable_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    garbage = tmp_path / "x.jsonl"
    garbage.write_text("this is not traffic\n")
    assert main(["diagnose", str(garbage)]) == 2
    assert "ocppscope: error:" in capsys.readouterr().err
