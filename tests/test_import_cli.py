"""``ocppscope import`` and ``ocppscope export`` from the command line."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from ocppscope.proxy.capture import read_capture
from ocppscope.proxy.cli import main
from ocppscope.proxy.core.events import ConnectionOpened, Message

DATA = Path(__file__).parent / "data"
LOGS = DATA / "logs"
TRACE = DATA / "open-ocpp-trace" / "fixtures" / "normal-session" / "trace.jsonl"


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh configuration folder, so the redaction salt is never the user's."""
    monkeypatch.setenv("OCPPSCOPE_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_import_a_log_into_a_redacted_capture(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capture = tmp_path / "steve.jsonl"
    assert main(["import", str(LOGS / "steve.log"), "-o", str(capture)]) == 0
    err = capsys.readouterr().err
    assert f"steve.log (steve) -> {capture}: 13 event(s), 8 frame(s) on 2 connection(s)" in err
    assert "secrets redacted in 1 event(s); 4 line(s) skipped" in err
    assert "4 line(s) were not recognised as OCPP traffic and were skipped (lines 1, 9, 10, 11)" in err
    data = capture.read_bytes()
    assert b"SteveSecretKey0123456789abcdef01" not in data
    events = list(read_capture(capture))
    assert sum(isinstance(e, Message) for e in events) == 8


@pytest.mark.parametrize("secret_file", ["home-assistant.log", "plain.log"])
def test_secrets_found_in_logs_do_not_reach_the_capture(tmp_path: Path, secret_file: str) -> None:
    capture = tmp_path / "c.jsonl"
    assert main(["import", str(LOGS / secret_file), "-o", str(capture)]) == 0
    data = capture.read_bytes()
    assert b"HaLeakedKey0123456789" not in data and b"PlainBasicAuthSecret99" not in data
    assert b"<redacted kind=text" in data


def test_no_redact_keeps_secrets_and_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             caplog: pytest.LogCaptureFixture) -> None:
    capture = tmp_path / "clear.jsonl"
    assert main(["import", str(LOGS / "plain.log"), "-o", str(capture), "--no-redact"]) == 0
    assert "NOT redacted" in caplog.text + capsys.readouterr().err
    assert b"PlainBasicAuthSecret99" in capture.read_bytes()
    assert orjson.loads(capture.read_bytes().splitlines()[0])["redacted"] is False


def test_import_a_trace_and_export_it_again(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capture = tmp_path / "c.jsonl"
    assert main(["import", str(TRACE), "-o", str(capture), "--input-format", "oot"]) == 0
    opened = next(iter(read_capture(capture)))
    assert isinstance(opened, ConnectionOpened) and opened.subprotocol == "ocpp1.6"
    out = tmp_path / "again.json"
    assert main(["export", str(capture), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "wrote 22 Open OCPP Trace record(s) from 1 connection(s)" in err and "nothing was lost" in err
    records = orjson.loads(out.read_bytes())  # .json: one array
    assert [r["raw"] for r in records] == [orjson.loads(line)["raw"] for line in TRACE.read_bytes().splitlines()]


def test_export_lists_the_loss_on_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capture = tmp_path / "c.jsonl"
    assert main(["import", str(LOGS / "steve.log"), "-o", str(capture)]) == 0
    out = tmp_path / "steve.jsonl"
    assert main(["export", str(capture), "-o", str(out), "--format", "oot-jsonl"]) == 0
    err = capsys.readouterr().err
    assert "not representable in Open OCPP Trace, left out: 2 pings and pongs" in err
    assert len(out.read_bytes().splitlines()) == 8


def test_a_damaged_line_is_named_with_file_and_line_and_the_rest_imported(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capture = tmp_path / "c.jsonl"
    assert main(["import", str(TRACE), "-o", str(capture)]) == 0
    lines = capture.read_bytes().splitlines(keepends=True)
    damaged = tmp_path / "damaged.jsonl"
    damaged.write_bytes(b"".join(lines[:5]) + b"{garbage\n" + b"".join(lines[5:]))
    capsys.readouterr()
    assert main(["import", str(damaged), "-o", str(tmp_path / "out.jsonl")]) == 0
    err = capsys.readouterr().err
    assert f"{damaged}: line 6 cannot be used and was skipped: not a JSON record" in err
    assert len(list(read_capture(tmp_path / "out.jsonl"))) == len(lines) - 1  # nothing around the damage is lost


def test_unreadable_inputs_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("nothing to see\n", encoding="utf-8")
    assert main(["import", str(notes), "-o", str(tmp_path / "c.jsonl")]) == 2
    assert "cannot tell what this file is" in capsys.readouterr().err
    assert not (tmp_path / "c.jsonl").exists()
    assert main(["export", str(tmp_path / "missing.jsonl"), "-o", str(tmp_path / "x.jsonl")]) == 2
    assert "missing.jsonl: cannot open: No such file or directory" in capsys.readouterr().err
    assert not (tmp_path / "x.jsonl").exists()
    assert main(["import", str(notes), "-o", str(notes)]) == 2
    assert "overwrite its own input" in capsys.readouterr().err
    assert notes.read_text(encoding="utf-8") == "nothing to see\n"
