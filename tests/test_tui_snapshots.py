"""Snapshots of the main views, as text, in a small (80×24) and a large (160×48) terminal.

A snapshot is the screen a person reads (no colours: those are asserted in the pilot tests). After an
intended change, review the difference and rewrite them with ``OCPPSCOPE_UPDATE_SNAPSHOTS=1 pytest
tests/test_tui_snapshots.py``; a missing snapshot fails the test rather than being written silently.
"""

from __future__ import annotations

import difflib
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from ocppscope.tui.app import OcppscopeApp
from ocppscope.tui.session import ReplaySession

from tests.tui_support import screen_text, session_events, wait_for, write_capture

pytestmark = pytest.mark.timeout(60)
SNAPSHOTS = Path(__file__).parent / "snapshots" / "tui"
UPDATE = os.environ.get("OCPPSCOPE_UPDATE_SNAPSHOTS") == "1"


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def check_snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / f"{name}.txt"
    text = "\n".join(line.rstrip() for line in text.splitlines()) + "\n"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"no snapshot {path}; write it with OCPPSCOPE_UPDATE_SNAPSHOTS=1"
    expected = path.read_text(encoding="utf-8")
    if text != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(True), text.splitlines(True), "snapshot", "now"))
        pytest.fail(f"screen differs from {path.name}:\n{diff}")


VIEWS = [
    ("frames", ()),
    ("chargers", ("2",)),
    ("findings", ("3",)),
    ("handshakes", ("4",)),
    ("detail", ("home", "down", "down", "enter")),
    ("help", ("question_mark",)),
]


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
@pytest.mark.parametrize(("view", "keys"), VIEWS, ids=[name for name, _ in VIEWS])
async def test_main_views(tmp_path: Path, view: str, keys: tuple[str, ...], size: tuple[int, int]) -> None:
    capture = write_capture(tmp_path / "session.jsonl", session_events())
    app = OcppscopeApp(ReplaySession([str(capture)]))
    async with app.run_test(size=size) as pilot:
        session = app.session
        assert isinstance(session, ReplaySession)
        await wait_for(lambda: session.loader.done and len(app.frame_view.rows) == app.index.count, pilot)
        await pilot.pause(0.2)
        for key in keys:
            await pilot.press(key)
        await pilot.pause(0.5)
        check_snapshot(f"{view}-{size[0]}x{size[1]}", screen_text(app))
