"""``replay --record``: the folders it creates hold traffic, so they are private (0700) whatever the umask."""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from ocppscope.proxy.cli import main
from ocppscope.proxy.demo.scenarios import SCENARIOS

from tests.engine_support import ocppscope_home  # noqa: F401
from tests.test_replay_live import CLEAN, backend_thread

pytestmark = [pytest.mark.usefixtures("ocppscope_home"), pytest.mark.timeout(60)]


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("permissive_umask")
def test_record_folder_and_its_parents_are_private(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    captures = [shutil.copy(CLEAN, tmp_path / name) for name in ("first.jsonl", "second.jsonl")]
    folder = tmp_path / "records" / "today"
    with backend_thread(SCENARIOS["clean-ocpp16"].backend) as url:
        assert main(["replay", *map(str, captures), "--target", url, "--speed", "max", "--record", str(folder)]) == 0
    capsys.readouterr()
    assert (mode(tmp_path / "records"), mode(folder)) == (0o700, 0o700)
    recorded = sorted(folder.iterdir())
    assert [path.name for path in recorded] == ["first.live.jsonl", "second.live.jsonl"]
    assert {mode(path) for path in recorded} == {0o600}


@pytest.mark.usefixtures("permissive_umask")
def test_record_file_in_a_missing_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    live = tmp_path / "new" / "live.jsonl"
    with backend_thread(SCENARIOS["clean-ocpp16"].backend) as url:
        assert main(["replay", str(CLEAN), "--target", url, "--speed", "max", "--record", str(live)]) == 0
    capsys.readouterr()
    assert (mode(live.parent), mode(live)) == (0o700, 0o600)
    assert main(["check", "--fail-on", "never", str(live)]) == 0


def test_record_where_a_file_blocks_the_folder_is_unusable_input(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "taken"
    blocker.write_text("not a folder\n")
    captures = [shutil.copy(CLEAN, tmp_path / name) for name in ("a.jsonl", "b.jsonl")]
    with backend_thread(SCENARIOS["clean-ocpp16"].backend) as url:
        code = main(["replay", *map(str, captures), "--target", url, "--speed", "max",
                     "--record", str(blocker / "sub")])
    assert code == 2
    assert "--record" in capsys.readouterr().err
