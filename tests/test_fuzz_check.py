"""Fuzzed traffic through the real ``ocppscope check``: it never crashes, whatever the charger sent.

Valid OCPP sessions are mutated by tests/fuzzing.py (wrong JSON types, NaN and huge numbers, duplicate keys,
deep nesting, lone surrogates, invalid UTF-8, wrong message type ids, absurd times and sequence numbers) and
written as an ocppscope capture, Open OCPP Trace and a plain log. Every run, in every report format, must
exit 0, 1 or 2, leave a report that parses (JSON, JUnit) or reads as UTF-8 text, and report no
``ocppscope.internal-error``: the rules treat a payload of the wrong shape as data. ``make fuzz`` runs the
same mutations at scale, through the live proxy too (tests/fuzz_run.py).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from ocppscope.proxy.cli import main

from tests import fuzzing

PROFILE_OPTIONS = ([], [], ["--profile", "ac-wallbox"], ["--profile", "ecotap-cpa"], ["--no-profiles"])
"""Detection from the BootNotification (twice as often), the profiles nothing detects, and none."""


def judge_run(path: Path, report_format: str, out: Path, extra: list[str],
              capsys: pytest.CaptureFixture[str]) -> int:
    """Run ``check`` on ``path`` and assert what must hold of every run; return the exit code."""
    out.unlink(missing_ok=True)
    code = main(["check", "--format", report_format, "-o", str(out), *extra, str(path)])
    err = capsys.readouterr().err
    assert code in (0, 1, 2), err
    assert "internal error" not in err, err
    if code == 2:
        assert str(path) in err  # unusable input is named
        if not out.exists():
            return code
    data = out.read_bytes()
    if report_format == "json":
        document = json.loads(data)
        for result in document["inputs"]:
            assert result["internal_errors"] == 0, [f["message"] for f in result["findings"]
                                                    if f["rule"] == "ocppscope.internal-error"]
            assert result["reading"] is not None
    elif report_format == "junit":
        ET.fromstring(data)
    else:
        text = data.decode("utf-8")
        assert text.rstrip().endswith(".") and ("PASS" in text or "FAIL" in text or "not failing" in text)
    return code


# No shrinking: a seeded Random does not shrink into anything smaller, and a failure should be reported fast.
@settings(max_examples=40, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate], suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])
@given(rnd=st.randoms(use_true_random=False), input_format=st.sampled_from(fuzzing.FORMATS),
       extra=st.sampled_from(PROFILE_OPTIONS))
def test_fuzzed_inputs_never_crash_check_in_any_report_format(
        rnd: random.Random, input_format: str, extra: list[str], tmp_path_factory: pytest.TempPathFactory,
        capsys: pytest.CaptureFixture[str]) -> None:
    directory = tmp_path_factory.mktemp("fuzz")
    sessions = [fuzzing.fuzzed_session(rnd, rate=0.4) for _ in range(rnd.randint(1, 4))]
    written = fuzzing.WRITERS[input_format](sessions, rnd, 0.05)
    path = directory / f"input{fuzzing.SUFFIX[input_format]}"
    path.write_bytes(written.data)
    codes = {judge_run(path, fmt, directory / f"report.{fmt}", extra, capsys) for fmt in ("text", "json", "junit")}
    assert len(codes) == 1  # the report format never changes the verdict


HOSTILE_FRAMES = [
    b'[2,"1","DataTransfer",{"vendorId":"\\ud800","data":"a\\udc80b\\u001b[31m"}]',  # lone surrogates, ESC
    b'[2,"2","MeterValues",{"connectorId":NaN,"meterValue":[{"timestamp":"9999-12-31T23:59:59Z",'
    b'"sampledValue":[{"value":Infinity}]}]}]',
    b'[2,"3","Heartbeat",' + b"[" * 900 + b"]" * 900 + b"]",  # deep, but within what the parser reads
    b'[2,"4","Heartbeat",' + b"{\"a\":" * 5000 + b"1" + b"}" * 5000 + b"]",  # deeper than any parser reads
    b'[2,"5","StatusNotification",{"connectorId":1,"connectorId":[],"status":{},"errorCode":1e400}]',
    b'[' + str(2**70).encode() + b',"6","Authorize",{"idTag":"x"}]',
    b'[2,"7","BootNotification",{"chargePointVendor":"\xff\xfe","chargePointModel":"\xed\xa0\x80"}]',
    b'[2,["8"],"Heartbeat",{}]',
]


@pytest.mark.parametrize("input_format", fuzzing.FORMATS)
def test_hostile_frames_through_the_real_cli_on_a_terminal_that_only_knows_ascii(
        input_format: str, tmp_path: Path) -> None:
    rnd = random.Random(14)
    session = [fuzzing.Frame(sender, dumps_frame(frame), False) for sender, frame in fuzzing.session_16(rnd)[:2]]
    session += [fuzzing.Frame("cp", frame, True) for frame in HOSTILE_FRAMES]
    written = fuzzing.WRITERS[input_format]([session], rnd, 0.0)
    path = tmp_path / f"hostile{fuzzing.SUFFIX[input_format]}"
    path.write_bytes(written.data)
    environment = {**os.environ, "LC_ALL": "C", "LANG": "C", "PYTHONIOENCODING": "ascii", "PYTHONUTF8": "0"}
    for report_format in ("text", "json", "junit"):
        done = subprocess.run([sys.executable, "-m", "ocppscope", "check", "--format", report_format, str(path)],
                              capture_output=True, env=environment, timeout=120, check=False)
        assert done.returncode in (0, 1), done.stderr.decode("utf-8", "replace")
        if report_format == "json":
            document = json.loads(done.stdout)
            [result] = document["inputs"]
            assert result["internal_errors"] == 0 and result["frames"] >= len(HOSTILE_FRAMES)
        elif report_format == "junit":
            ET.fromstring(done.stdout)
        else:
            assert b"\\ud800" in done.stdout or b"\\xff" in done.stdout  # shown escaped, not dropped


def dumps_frame(frame: object) -> bytes:
    return fuzzing.dumps(frame).encode()


def test_a_ten_megabyte_line_is_checked_in_every_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rnd = random.Random(10)
    big = b'[2,"big","DataTransfer",{"vendorId":"x","data":"' + b"y" * (10 << 20) + b'"}]'
    session = [fuzzing.Frame(sender, dumps_frame(frame), False) for sender, frame in fuzzing.session_16(rnd)[:2]]
    session.append(fuzzing.Frame("cp", big, True))
    for input_format in fuzzing.FORMATS:
        written = fuzzing.WRITERS[input_format]([session], rnd, 0.0)
        path = tmp_path / f"big{fuzzing.SUFFIX[input_format]}"
        path.write_bytes(written.data)
        assert judge_run(path, "json", tmp_path / "report.json", [], capsys) in (0, 1)
        document = json.loads((tmp_path / "report.json").read_bytes())
        assert document["inputs"][0]["frames"] == 3
