"""The terminal UI over a replayed capture, driven like a user would: every view, key and replay control.

The real app runs headless (``App.run_test``) over a real capture file; assertions read the screen as text or
the app's own state where the screen cannot show it (the clipboard, a file written).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import orjson
import pytest
from ocppscope.proxy.capture.sources import read_events
from ocppscope.proxy.check.runner import analyze_events
from ocppscope.proxy.core.findings import Finding, Severity
from ocppscope.tui.analysis import AnalysisSpec
from ocppscope.tui.app import OcppscopeApp
from ocppscope.tui.filters import FilterError
from ocppscope.tui.keys import KEY_HELP
from ocppscope.tui.rowlist import FilteredRows
from ocppscope.tui.screens import DetailScreen, HandshakeScreen, HelpScreen, PromptScreen
from ocppscope.tui.session import ReplaySession

from tests.tui_support import T0, screen_text, screen_with, session_events, wait_for, write_capture

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def capture(tmp_path: Path) -> Path:
    return write_capture(tmp_path / "session.jsonl", session_events())


async def loaded(app: OcppscopeApp, pilot: object) -> None:
    session = app.session
    assert isinstance(session, ReplaySession)
    await wait_for(lambda: session.loader.done and app.frame_view.rows.limit == app.index.count > 0, pilot)
    await pilot.pause(0.1)  # type: ignore[attr-defined]


@pytest.fixture
async def running(capture: Path) -> AsyncIterator[tuple[OcppscopeApp, object]]:
    app = OcppscopeApp(ReplaySession([str(capture)]))
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        yield app, pilot


def cursor_text(app: OcppscopeApp) -> str:
    row = app.frame_view.cursor_row
    assert row is not None
    return app.painter.plain(row)


# -- what a replay shows ---------------------------------------------------------------------------------------

async def test_replay_shows_every_frame_with_its_findings_in_an_80x24_terminal(running) -> None:
    app, _pilot = running
    screen = screen_text(app)
    lines = screen.splitlines()
    assert len(lines) == 24 and all(len(line) <= 80 for line in lines)
    assert "replay session.jsonl" in lines[0] and "12 rows" in lines[0]
    assert "BootNotification" in screen and "1000ms" in screen
    meter = next(line for line in lines if "→ CALL   MeterValues" in line)
    assert " E1 " in meter, "the schema violation is badged on its frame"
    assert any("← ERROR  MeterValues" in line for line in lines)
    assert any("INVAL" in line for line in lines), "the broken frame is shown, not hidden"
    assert "? help" in lines[-1] and "/ filter" in lines[-1]


async def test_replay_reports_exactly_what_check_reports(capture: Path) -> None:
    """The same analyzer and checkers as live and as `ocppscope check`: same findings on the same frames."""
    expected = analyze_events(capture, read_events(capture), checkers=AnalysisSpec().checkers())
    session = ReplaySession([str(capture)])
    session.start()
    try:
        assert session.loader.wait(10)
        shown = sorted((p.finding.rule, p.finding.seq) for p in session.index.placed)
    finally:
        session.stop()
    assert shown == sorted((f.rule, f.seq) for f in expected.findings)


async def test_big_capture_path_analysed_in_a_worker_process_gives_the_same_result(capture: Path) -> None:
    inline = ReplaySession([str(capture)])
    worker = ReplaySession([str(capture)], worker_min_bytes=0)
    for session in (inline, worker):
        session.start()
    try:
        assert inline.loader.wait(10) and worker.loader.wait(30)
        assert worker.loader.state.warnings == []
        assert sorted((p.finding.rule, p.row) for p in worker.index.placed) == \
            sorted((p.finding.rule, p.row) for p in inline.index.placed)
        assert list(worker.index.link) == list(inline.index.link)
        assert list(worker.index.action) == list(inline.index.action)
    finally:
        inline.stop()
        worker.stop()


async def test_several_inputs_merge_by_time(tmp_path: Path) -> None:
    first = write_capture(tmp_path / "a.jsonl", session_events("CP-A", "c1", T0))
    second = write_capture(tmp_path / "b.jsonl", session_events("CP-B", "c1", T0 + 0.5))
    session = ReplaySession([str(first), str(second)])
    session.start()
    try:
        assert session.loader.wait(10)
        index = session.index
        times = list(index.time)
        assert times == sorted(times) and index.count == 24
        assert {info.conn_id for info in index.conns} == {"1:c1", "2:c1"}
        assert {index.charger_of(row) for row in range(2)} == {"CP-A", "CP-B"}
        assert all(p.row is not None for p in index.placed if p.finding.seq is not None)
    finally:
        session.stop()


async def test_other_formats_are_converted_and_shown(tmp_path: Path) -> None:
    log = tmp_path / "plain.log"
    log.write_text(
        "2024-01-15T10:00:00.000Z CP01 -> [2,\"1\",\"Heartbeat\",{}]\n"
        "2024-01-15T10:00:00.100Z CP01 <- [3,\"1\",{\"currentTime\":\"2024-01-15T10:00:00Z\"}]\n",
        encoding="utf-8")
    app = OcppscopeApp(ReplaySession([str(log)]))
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        screen = screen_text(app)
    assert "Heartbeat" in screen and "100ms" in screen


# -- views and keys --------------------------------------------------------------------------------------------

async def test_view_keys_show_chargers_findings_and_handshakes(running) -> None:
    app, pilot = running
    await pilot.press("2")
    await pilot.pause(0.2)
    chargers = screen_text(app)
    assert "CP01" in chargers and "disconnected" in chargers and "ocpp16-generic" in chargers
    row = next(line for line in chargers.splitlines() if "CP01" in line)
    assert "E4" in row and "10" in row
    await pilot.press("3")
    await pilot.pause(0.2)
    findings = screen_text(app)
    assert "schema.violation" in findings and "rpc.unknown-id" in findings
    assert findings.index("ERROR") < findings.index("WARNING") < findings.index("INFO")
    await pilot.press("4")
    await pilot.pause(0.2)
    handshakes = screen_text(app)
    assert "ocpp1.6" in handshakes and "101" in handshakes and "Basic auth" in handshakes
    assert "user 'CP01', password redacted" in handshakes
    await pilot.press("1")
    await pilot.pause(0.1)
    assert "BootNotification" in screen_text(app)


async def test_enter_on_a_charger_filters_its_frames(running) -> None:
    app, pilot = running
    await pilot.press("2", "enter")
    await wait_for(lambda: app.current_view == "frames" and app.filter_text == 'charger == "CP01"', pilot)
    assert "filter" in screen_text(app).splitlines()[0]


async def test_findings_view_jumps_to_the_frame_of_a_finding(running) -> None:
    app, pilot = running
    await pilot.press("3")
    await pilot.pause(0.2)
    tree = app._widget("#findings")
    rule_line = next(n for n, node in enumerate(tree.root.children) if node.data == "schema.violation")
    tree.cursor_line = rule_line
    await pilot.press("enter")  # expand the rule
    await pilot.pause(0.1)
    await pilot.press("down", "enter")  # expand the charger
    await pilot.pause(0.1)
    await pilot.press("down", "enter")  # the finding
    await wait_for(lambda: app.current_view == "frames", pilot)
    assert "MeterValues" in cursor_text(app) and "CALL" in cursor_text(app)


async def test_detail_shows_pretty_json_pair_findings_and_raw(running) -> None:
    app, pilot = running
    meter_call = next(r for r in range(app.index.count) if app.index.action_of(r) == "MeterValues")
    app.frame_view.go_to_row(meter_call)
    await pilot.press("enter")
    await pilot.pause(0.3)
    assert isinstance(app.screen, DetailScreen)
    screen = screen_text(app)
    assert "CALL MeterValues charger → backend" in screen
    assert '"connectorId": "one"' in screen, "pretty-printed JSON"
    assert "FormatViolation" in screen, "the paired CALLERROR beside it"
    await pilot.press("2")
    await pilot.pause(0.2)
    findings = screen_text(app)
    assert "schema.violation" in findings and "rpc.call-error" in findings
    await pilot.press("3")
    await pilot.pause(0.2)
    assert '[2,"m1","MeterValues",{"connectorId":"one"}]' in screen_text(app)
    await pilot.press("p")
    await pilot.pause(0.2)
    assert app.screen.row == app.index.link[meter_call]  # type: ignore[attr-defined]
    assert app.frame_view.cursor_row == app.index.link[meter_call]
    await pilot.press("c")
    assert app.clipboard == '[4,"m1","FormatViolation","bad connectorId",{}]'
    await pilot.press("left_square_bracket")
    await pilot.pause(0.1)
    assert app.screen.row == meter_call  # type: ignore[attr-defined]
    await pilot.press("right_square_bracket", "right_square_bracket")
    await pilot.pause(0.1)
    assert app.screen.row == meter_call + 2  # type: ignore[attr-defined]
    await pilot.press("escape")
    await pilot.pause(0.1)
    assert not isinstance(app.screen, DetailScreen)


async def test_preview_shows_findings_that_come_after_it_was_drawn(capture: Path) -> None:
    # The analysis runs behind the indexer, and some findings (an unanswered CALL's timeout) name a frame long
    # after it arrived: the preview beside the cursor must show them once they come, not keep its first picture.
    app = OcppscopeApp(ReplaySession([str(capture)]))
    async with app.run_test(size=(160, 48)) as pilot:
        await loaded(app, pilot)
        heartbeat = next(r for r in range(app.index.count) if app.index.action_of(r) == "Heartbeat")
        app.frame_view.go_to_row(heartbeat)
        before = await screen_with(app, pilot, "CALL Heartbeat charger → backend", "no findings")
        assert "late.finding" not in before
        app.index.add_findings([Finding("late.finding", Severity.WARNING, "found after the preview was drawn",
                                        "c1", "CP01", app.index.seq[heartbeat])])
        after = await screen_with(app, pilot, "late.finding", "found after the preview was drawn")
        assert "no findings" not in after


async def test_pair_key_jumps_between_request_and_response(running) -> None:
    app, pilot = running
    boot = next(r for r in range(app.index.count) if app.index.action_of(r) == "BootNotification")
    app.frame_view.go_to_row(boot)
    await pilot.press("p")
    assert "RESULT" in cursor_text(app) and "BootNotification" in cursor_text(app)
    await pilot.press("p")
    assert app.frame_view.cursor_row == boot


async def test_finding_bookmark_follow_copy_and_handshake_keys(running) -> None:
    app, pilot = running
    view = app.frame_view
    await pilot.press("home")
    assert view.cursor_row == 0 and not view.follow
    await pilot.press("n")
    assert view.cursor_row == 0 or app.index.findings_of(view.cursor_row)
    first = view.cursor_row
    await pilot.press("n")
    assert view.cursor_row is not None and view.cursor_row > (first or 0)
    assert app.index.findings_of(view.cursor_row)
    await pilot.press("N")
    assert view.cursor_row == first
    await pilot.press("down", "m", "down", "down", "m", "home", "b")
    marks = sorted(view.bookmarks)
    assert len(marks) == 2 and view.cursor_row == marks[0]
    await pilot.press("b")
    assert view.cursor_row == marks[1]
    await pilot.press("B")
    assert view.cursor_row == marks[0]
    assert "★" in screen_text(app)
    await pilot.press("c")
    assert app.clipboard == app.index.record(marks[0])["text"]
    await pilot.press("h")
    await pilot.pause(0.2)
    assert isinstance(app.screen, HandshakeScreen)
    assert "subprotocols offered" in screen_text(app)
    await pilot.press("escape")
    await pilot.pause(0.1)
    await pilot.press("f")
    await pilot.pause(0.1)
    assert view.follow and view.cursor_row == app.index.count - 1


async def test_help_lists_every_key_binding(running) -> None:
    app, pilot = running
    await pilot.press("question_mark")
    await pilot.pause(0.2)
    assert isinstance(app.screen, HelpScreen)
    text = screen_text(app)
    assert "ocppscope keys" in text and "frame stream" in text
    await pilot.press("escape")
    documented = " ".join(keys for _, entries in KEY_HELP for keys, _ in entries).lower()
    names = {"question_mark": "?", "slash": "/", "comma": ",", "full_stop": ".", "space": "space",
             "left_square_bracket": "[", "right_square_bracket": "]", "escape": "esc", "pageup": "pgup",
             "pagedown": "pgdn", "enter": "enter", "home": "home", "end": "end", "up": "↑", "down": "↓"}
    bindings = [*app.BINDINGS, *app.frame_view.BINDINGS, *DetailScreen.BINDINGS]
    for binding in bindings:
        for key in binding.key.split(","):  # type: ignore[union-attr]
            assert names.get(key, key).lower() in documented, f"key {key} is missing from the help"


# -- filter ----------------------------------------------------------------------------------------------------

async def test_filter_line_narrows_frames_and_reports_errors(running) -> None:
    app, pilot = running
    await pilot.press("slash")
    await pilot.press(*'action == "BootNotification"')
    await pilot.press("enter")
    filtered = app.frame_view.rows
    assert isinstance(filtered, FilteredRows)
    filtered.wait(5)
    await pilot.pause(0.2)
    rows = [line for line in screen_text(app).splitlines() if "CP01" in line]
    assert len(rows) == 2 and all("BootNotification" in line for line in rows)
    assert 'filter action == "BootNotification" 2 shown' in screen_text(app).splitlines()[0]  # the filter in sight
    await pilot.press("slash")
    app._widget("#filter-input").value = "severity >= warning && dir == backend"
    await pilot.press("enter")
    app.frame_view.rows.wait(5)  # type: ignore[attr-defined]
    await pilot.pause(0.2)
    rows = [line for line in screen_text(app).splitlines() if "CP01" in line]
    assert rows and all("←" in line for line in rows)
    await pilot.press("slash")
    app._widget("#filter-input").value = "action === x"
    await pilot.press("enter")
    await pilot.pause(0.2)
    assert app.filter_error is not None and app._widget("#filter-input").display
    await pilot.press("escape", "x")
    await pilot.pause(0.2)
    assert app.filter_text == "" and len(app.frame_view.rows) == app.index.count


async def test_export_writes_the_filtered_frames_as_a_capture(running, tmp_path: Path) -> None:
    app, pilot = running
    assert app.apply_filter('action == "Heartbeat"')
    app.frame_view.rows.wait(5)  # type: ignore[attr-defined]
    await pilot.pause(0.1)
    await pilot.press("e")
    await pilot.pause(0.1)
    assert isinstance(app.screen, PromptScreen)
    target = tmp_path / "heartbeats.jsonl"
    app.screen.query_one("#prompt-input").value = str(target)
    await pilot.press("enter")
    await wait_for(target.exists, pilot)
    await pilot.pause(0.3)
    records = [orjson.loads(line) for line in target.read_bytes().splitlines()]
    assert records[0]["type"] == "header" and records[0]["redacted"] is True
    texts = [r.get("text", "") for r in records[1:]]
    assert [r["type"] for r in records[1:]] == ["open", "msg", "msg", "close"]
    assert all("Heartbeat" in t or "currentTime" in t for t in texts if t)
    assert "Q1AwMTpzZWNyZXQ=" not in target.read_text()


# -- replay controls -------------------------------------------------------------------------------------------

async def test_replay_controls_play_pause_speed_step_and_seek(running) -> None:
    app, pilot = running
    session = app.session
    assert isinstance(session, ReplaySession)
    playback = session.playback
    bar = lambda: screen_text(app).splitlines()[-2]  # noqa: E731
    assert "all shown" in bar() and "12/12" in bar()
    await pilot.press("space")
    assert playback.playing and playback.visible <= 1, "from the start: only the first event is due at once"
    await pilot.press("s", "s", "s")
    assert playback.speed == float("inf")
    await wait_for(lambda: not playback.playing, pilot)
    assert playback.visible == 12
    await pilot.press("comma", "comma", "comma")
    await pilot.pause(0.1)
    assert playback.visible == 9 and "paused" in bar() and "9/12" in bar()
    assert len(app.frame_view.rows) == 9
    await pilot.press("full_stop")
    assert playback.visible == 10
    await pilot.press("s")
    assert playback.speed == 1.0
    await pilot.press("g")
    await pilot.pause(0.1)
    await pilot.press(*"+5s", "enter")
    await pilot.pause(0.1)
    assert playback.visible == 5, "rows recorded up to T0+5 s: the open and four frames"
    await pilot.press("g")
    await pilot.press(*"nonsense", "enter")
    await pilot.pause(0.1)
    assert isinstance(app.screen, PromptScreen) and "cannot read" in screen_text(app)
    await pilot.press("escape")
    await pilot.press("space")
    started = playback.visible
    await wait_for(lambda: playback.visible > started, pilot, timeout=3)
    assert playback.playing
    await pilot.press("space")
    assert not playback.playing


async def test_next_finding_moves_the_playhead_to_it(running) -> None:
    app, pilot = running
    playback = app.session.playback  # type: ignore[attr-defined]
    playback.seek_row(1)
    await pilot.pause(0.1)
    app.frame_view.go_to_row(1)
    await pilot.press("n")
    row = app.frame_view.cursor_row
    assert row is not None and app.index.findings_of(row) and row > 1
    assert playback.visible == row + 1 and not playback.playing


async def test_initial_filter_and_play_options(capture: Path) -> None:
    app = OcppscopeApp(ReplaySession([str(capture)], play=True, speed=float("inf")),
                       initial_filter="type == CALL")
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(lambda: app.session.playback.at_end and not app.session.playback.playing, pilot)  # type: ignore[attr-defined]
        app.frame_view.rows.wait(5)  # type: ignore[attr-defined]

        def calls() -> list[str]:
            return [line for line in screen_text(app).splitlines() if "CP01" in line]

        # The filtered rows reach the screen at the next repaint, which a loaded machine may delay.
        await wait_for(lambda: len(calls()) >= 4, pilot)
        shown = calls()
    assert len(shown) == 4 and all("CALL" in line for line in shown)


async def test_a_bad_filter_option_is_reported_not_fatal(capture: Path) -> None:
    app = OcppscopeApp(ReplaySession([str(capture)]), initial_filter="action ==")
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        assert app.filter_error is not None and len(app.frame_view.rows) == 12
    with pytest.raises(FilterError):
        from ocppscope.tui.filters import parse

        parse("action ==")


async def test_a_damaged_capture_shows_what_was_read_and_says_why(tmp_path: Path) -> None:
    path = write_capture(tmp_path / "cut.jsonl", session_events())
    data = path.read_bytes()
    path.write_bytes(data + b'{"type":"msg","seq":99,"t":1,"conn":"c1","dir":"cp-to-csms","text":"[2,')
    app = OcppscopeApp(ReplaySession([str(path)]))
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        assert app.index.count == 12
        assert app.session.loader.state.warnings  # type: ignore[attr-defined]


async def test_paging_keys_and_quit(tmp_path: Path) -> None:
    events = session_events()
    for n in range(60):  # more frames than a screen holds
        events.insert(-1, events[3].__class__("c1", T0 + 20 + n, events[3].direction, b'[2,"x%d","Heartbeat",{}]' % n,
                                              True, 100 + n))
    capture = write_capture(tmp_path / "long.jsonl", events)
    app = OcppscopeApp(ReplaySession([str(capture)]))
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        view = app.frame_view
        await pilot.press("home")
        assert view.cursor_row == 0
        await pilot.press("pagedown")
        assert view.cursor_row is not None and view.cursor_row >= 15
        below = view.cursor_row
        await pilot.press("j", "j", "k")
        assert view.cursor_row == below + 1
        await pilot.press("pageup")
        assert view.cursor_row is not None and view.cursor_row < below
        await pilot.press("end")
        assert view.follow and view.cursor_row == app.index.count - 1
        await pilot.press("q")
        await pilot.pause(0.2)
    assert app.return_code == 0 and not app.is_running
