"""Reports are the same bytes on every run: no set or dict order, no hash seed, reaches a message or a report.

Each run is its own process with its own ``PYTHONHASHSEED``, so an iteration over a set of strings would
come out in another order in the other run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_redaction_everywhere import SECRETS, _events, _write

ROOT = Path(__file__).resolve().parents[1]
CAPTURES = sorted(str(path) for path in (ROOT / "captures").glob("*.jsonl"))
REPORTS = {
    "check.txt": ["check", "--fail-on", "never", "--format", "text"],
    "check.json": ["check", "--fail-on", "never", "--format", "json"],
    "check.xml": ["check", "--fail-on", "never", "--format", "junit"],
    "check-profiles.json": ["check", "--fail-on", "never", "--format", "json", "--profile", "CP-ECO=ecotap-evc5"],
    "diagnose.txt": ["diagnose", "--format", "text"],
    "diagnose.json": ["diagnose", "--format", "json"],
}
_RUN = """
import sys
from ocppscope.proxy.cli import main
out, inputs = sys.argv[1], sys.argv[2:]
for name, argv in {reports!r}.items():
    main([*argv, "-o", out + "/" + name, *inputs])
"""


def _run(out: Path, inputs: list[str], seed: str, home: Path) -> dict[str, bytes]:
    out.mkdir()
    env = {**os.environ, "PYTHONHASHSEED": seed, "OCPPSCOPE_HOME": str(home), "TZ": "UTC"}
    subprocess.run([sys.executable, "-c", _RUN.format(reports=REPORTS), str(out), *inputs], cwd=ROOT, env=env,
                   check=True, timeout=300, capture_output=True)
    return {path.name: path.read_bytes() for path in sorted(out.iterdir())}


@pytest.mark.timeout(600)
def test_two_runs_write_the_same_bytes_in_every_format(tmp_path: Path) -> None:
    secrets = _write(tmp_path / "secrets.jsonl", _events(SECRETS))
    inputs = [*CAPTURES, str(secrets)]
    assert len(CAPTURES) >= 5
    home = tmp_path / "home"
    first = _run(tmp_path / "one", inputs, "1", home)
    second = _run(tmp_path / "two", inputs, "2", home)
    assert sorted(first) == sorted(REPORTS)
    assert all(len(data) > 200 for data in first.values())
    assert [name for name in first if first[name] != second[name]] == []
