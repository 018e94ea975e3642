"""The frame stream under a fast live stream: what one screen update repaints, and that the screen stays whole.

A live session is fed the stream's records directly (no proxy): each test counts what Textual asks the frame view
and its scrollbar to draw while new rows arrive, then reads the screen.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from ocppscope.proxy.capture.format import encode_event
from ocppscope.tui.app import OcppscopeApp
from ocppscope.tui.live import LiveSession
from ocppscope.tui.widgets.frames import REPAINT_SLICE_LINES, FrameView, QuietScrollBar
from textual.geometry import Region
from textual.pilot import Pilot
from textual.strip import Strip

from tests.tui_support import screen_with, session_events, wait_for

pytestmark = pytest.mark.timeout(60)


class FedSession(LiveSession):
    """A live session whose records come from the test instead of a proxy's stream."""

    def __init__(self) -> None:
        super().__init__("ws://127.0.0.1:9/stream", "token", reconnect=False)

    def start(self) -> None:
        pass


def stream_records(frames: int) -> list[dict[str, Any]]:
    """The stream's records of one charger's session, then ``frames`` CALLs whose summaries count: vendorId=v0, …"""
    extra = [("charger", f'[2,"x{n}","DataTransfer",{{"vendorId":"v{n}"}}]') for n in range(frames)]
    return [encode_event(event) for event in session_events(extra=extra)[:-1]]  # the connection stays open


@contextlib.asynccontextmanager
async def streaming(records: list[dict[str, Any]], size: tuple[int, int] = (160, 48), **options: Any
                    ) -> AsyncIterator[tuple[OcppscopeApp, Pilot[int], FedSession]]:
    """The app over a fed session, ``records`` taken in and the newest of them on screen."""
    session = FedSession()
    app = OcppscopeApp(session, **options)
    async with app.run_test(size=size) as pilot:
        session._received(records)
        session.poll()
        app.frame_view.set_limit(session.visible)
        app.frame_view.sync()
        await screen_with(app, pilot, f"=v{len(records) - 12} ")
        yield app, pilot, session


async def feed(pilot: Pilot[int], session: FedSession, records: list[dict[str, Any]], batch: int) -> None:
    """``records`` a batch at a time, at about the pace of the app's repaints."""
    for start in range(0, len(records), batch):
        session._received(records[start:start + batch])
        await pilot.pause(0.12)


def assert_newest_in_order(screen: str, frames: int, app: OcppscopeApp) -> None:
    """The rows on screen are the newest ones, in order, none missing or left over from an earlier repaint."""
    ids = [int(number) for number in re.findall(r"vendorId=v(\d+) ", screen)]
    assert ids == list(range(frames - len(ids), frames)) and len(ids) >= app.frame_view.size.height - 1


async def test_new_rows_repaint_the_frame_view_a_slice_per_screen_update(monkeypatch: pytest.MonkeyPatch) -> None:
    painted: list[int] = []
    """How many of the view's lines each screen update drew anew (the others come from Textual's line cache)."""
    render_lines, render_line = FrameView.render_lines, FrameView.render_line

    def counted_pass(self: FrameView, crop: Region) -> list[Strip]:
        painted.append(0)
        return render_lines(self, crop)

    def counted_line(self: FrameView, y: int) -> Strip:
        painted[-1] += 1
        return render_line(self, y)

    monkeypatch.setattr(FrameView, "render_lines", counted_pass)
    monkeypatch.setattr(FrameView, "render_line", counted_line)
    records = stream_records(400)
    async with streaming(records[:200]) as (app, pilot, session):
        height = app.frame_view.size.height
        assert height > 2 * REPAINT_SLICE_LINES
        painted.clear()
        await feed(pilot, session, records[200:], 50)
        screen = await screen_with(app, pilot, "=v399 ")
        assert sum(painted) >= 4 * height and max(painted) <= REPAINT_SLICE_LINES
        assert_newest_in_order(screen, 400, app)


async def test_the_scrollbar_repaints_when_its_thumb_moves_not_at_every_batch(monkeypatch: pytest.MonkeyPatch
                                                                               ) -> None:
    positions: list[float] = []
    render = QuietScrollBar.render

    def counted(self: QuietScrollBar) -> Any:
        drawn = render(self)
        positions.append(drawn.position)
        return drawn

    monkeypatch.setattr(QuietScrollBar, "render", counted)
    records = stream_records(3000)
    async with streaming(records[:2000], size=(100, 30)) as (app, pilot, session):
        await pilot.pause(0.2)
        view = app.frame_view
        assert isinstance(view.vertical_scrollbar, QuietScrollBar) and view.show_vertical_scrollbar
        positions.clear()
        await feed(pilot, session, records[2000:], 200)
        await screen_with(app, pilot, "=v2999 ")
        assert positions == []  # a thousand rows more: the thumb, a cell at the bottom, did not move
        await pilot.press("home")
        await wait_for(lambda: bool(positions), pilot)
        assert positions[-1] == 0


async def test_rows_that_arrive_under_another_view_are_on_screen_when_the_frames_return() -> None:
    records = stream_records(300)
    async with streaming(records[:100]) as (app, pilot, session):
        await pilot.press("2")
        session._received(records[100:])
        await wait_for(lambda: app.frame_view.rows.limit == session.index.count == len(records), pilot)
        await pilot.pause(0.3)
        await pilot.press("1")
        assert_newest_in_order(await screen_with(app, pilot, "=v299 "), 300, app)


async def test_rows_arriving_before_the_last_slice_do_not_starve_the_bottom_lines(monkeypatch: pytest.MonkeyPatch
                                                                                  ) -> None:
    # The app's timer is kept out (tick): the test moves the view and runs the slices itself.
    async with streaming(stream_records(100), tick=3600) as (app, _pilot, _session):
        view = app.frame_view
        repainted: list[Region] = []
        later: list[Callable[[], object]] = []
        monkeypatch.setattr(view, "refresh", lambda *regions, **_: repainted.extend(regions))
        monkeypatch.setattr(view, "call_after_refresh", lambda callback, *args: later.append(lambda: callback(*args)))
        height = view.size.height
        for _ in range(3 * height // REPAINT_SLICE_LINES):
            view.sync(sliced=True)  # new rows at every screen update: the slices never get to finish
            assert len(later) == 1 and all(r.height <= REPAINT_SLICE_LINES for r in repainted)
            later.pop()()
        assert {y for region in repainted for y in range(region.y, region.bottom)} == set(range(height))


async def test_a_repaint_of_the_frame_view_works_out_its_style_once_not_per_line(monkeypatch: pytest.MonkeyPatch
                                                                                 ) -> None:
    async with streaming(stream_records(100), tick=3600) as (app, pilot, _session):
        counts = {"lookups": 0, "passes": 0, "lines": 0}
        style_of = FrameView.rich_style.fget
        render_lines, render_line = FrameView.render_lines, FrameView.render_line
        assert style_of is not None

        def counted(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
            def call(*args: Any) -> Any:
                counts[name] += 1
                return function(*args)
            return call

        monkeypatch.setattr(FrameView, "rich_style", property(counted("lookups", style_of)))
        monkeypatch.setattr(FrameView, "render_lines", counted("passes", render_lines))
        monkeypatch.setattr(FrameView, "render_line", counted("lines", render_line))
        app.frame_view.refresh()
        await pilot.pause()
        # Once a pass, not twice a line (measured: those lookups were half of a repaint's time).
        assert counts["lines"] >= app.frame_view.size.height and counts["lookups"] <= counts["passes"] < 5


async def test_while_rows_pour_in_the_status_line_changes_with_the_repaints(monkeypatch: pytest.MonkeyPatch) -> None:
    waiting: list[bool] = []
    """For each status update: were there rows the view had not been synced with?"""
    update_status = OcppscopeApp._update_status

    def counted(self: OcppscopeApp) -> None:
        waiting.append(self.index.version != self._shown_version)
        update_status(self)

    monkeypatch.setattr(OcppscopeApp, "_update_status", counted)
    records = stream_records(600)
    async with streaming(records[:100]) as (app, pilot, session):
        waiting.clear()
        await feed(pilot, session, records[100:], 25)
        assert len(waiting) >= 10 and not any(waiting)
        await screen_with(app, pilot, f"{len(records)} rows")
