"""``ocppscope profiles list | show | lint`` and the options every traffic command shares."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from ocppscope.proxy.cli import main
from ocppscope.proxy.profiles import add_profile_arguments, profile_checker_from_args


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OCPPSCOPE_HOME", str(tmp_path / "home"))


def test_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profiles", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["ID", "EXTENDS", "DETECTED", "BY", "FROM", "TITLE"]
    evc5 = next(line for line in lines if line.startswith("ecotap-evc5"))
    assert "ecotap-ecclite" in evc5 and "serial 181*|185*|189*" in evc5 and "bundled" in evc5
    assert len(lines) == 8


def test_show(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profiles", "show", "ac-wallbox"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ac-wallbox: AC EV wallbox")
    assert "extends: ocpp16-generic" in out and "GetConfigurationMaxKeys 10" in out
    assert "HeartbeatInterval" in out and "..9: runs as 10" in out
    assert "MinimumStatusDuration" in out and "not on this model: listed as not supported" in out
    assert "Reset (type=Hard) [warning]" in out


def test_show_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profiles", "show", "ecotap-evc4", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["id"] == "ecotap-evc4" and data["transport"]["tls"] is False
    assert data["keys"]["com_Options"]["options"][5]["value"]["allowed"] == ["0"]
    assert data["keys"]["WebSocketPingInterval"]["value"]["range"] == "0.."


def test_show_unknown(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profiles", "show", "zaptek"]) == 2
    assert "did you mean zaptec?" in capsys.readouterr().err


def test_lint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.toml"
    good.write_text('title = "ok"\nextends = "zaptec"\nsources = ["site notes"]\n')
    assert main(["profiles", "lint", str(good)]) == 0
    assert capsys.readouterr().out == f"{good}: ok\n"
    bad = tmp_path / "bad.toml"
    bad.write_text('title = "bad"\nextends = "zaptec"\n\n[keys.Foo]\ntype = "integer"\nrange = "1..x"\n')
    assert main(["profiles", "lint", str(bad)]) == 1
    out = capsys.readouterr().out
    assert f"{bad}:6: keys.Foo.range: 'x' is neither" not in out  # the whole part is quoted
    assert f"{bad}:6: keys.Foo.range: '1..x' is neither a number nor a range a..b [error]" in out
    assert main(["profiles", "lint", str(tmp_path / "missing.toml")]) == 2


def test_lint_bundled_files(capsys: pytest.CaptureFixture[str]) -> None:
    from ocppscope.proxy.profiles.loader import BUNDLED_DIR

    files = sorted(str(p) for p in BUNDLED_DIR.glob("*.toml"))
    assert main(["profiles", "lint", *files]) == 0


def test_shared_options_build_the_checker(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    add_profile_arguments(parser)
    mapping = tmp_path / "map.toml"
    mapping.write_text('"CP2*" = "zaptec"\n')
    args = parser.parse_args(["--profile", "CP01=ecotap-evc5", "--profile-map", str(mapping)])
    checker = profile_checker_from_args(args)
    assert checker is not None
    assert checker.selector.explicit("CP01").profile.id == "ecotap-evc5"  # type: ignore[union-attr]
    assert checker.selector.explicit("CP22").profile.id == "zaptec"  # type: ignore[union-attr]
    assert profile_checker_from_args(parser.parse_args(["--no-profiles"])) is None
