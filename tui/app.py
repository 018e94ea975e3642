"""The ocppscope terminal UI: the frame stream, chargers, findings and handshakes over a live proxy or a replay.

Everything the views show comes from the session's :class:`~tui.index.FrameIndex`. One ~50 ms timer takes in
what arrived (a live stream's batch, a replay's playhead), and repaints only what changed: never one update per
frame (measured: per-message updates stall Textual long before 2000 frames/s).
"""

from __future__ import annotations

import gc
import time
from pathlib import Path
from typing import Any, ClassVar

from ocppscope.tui.describe import findings_table, frame_body, row_title, shown_state
from ocppscope.tui.export import export_rows
from ocppscope.tui.filters import FilterError, compile_filter, needs_analysis, parse
from ocppscope.tui.playback import parse_seek
from ocppscope.tui.rowlist import AllRows, FilteredRows
from ocppscope.tui.rows import RowPainter
from ocppscope.tui.screens import DetailScreen, HandshakeScreen, HelpScreen, PromptScreen
from ocppscope.tui.session import ReplaySession, Session
from ocppscope.tui.views import ChargersView, FindingsView, HandshakesView
from ocppscope.tui.widgets.frames import FrameView
from rich.console import Group
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.css.query import NoMatches
from textual.widgets import ContentSwitcher, Footer, Input, Static

TICK_SECONDS = 0.05
SIDE_VIEWS_EVERY = 0.5
"""Seconds between rebuilds of the chargers, findings and handshakes views (they summarise, so need not
follow every batch)."""
QUIT_CONFIRM_SECONDS = 5.0
"""How long the second ``q`` that stops a proxy may wait for."""
REPAINT_EVERY = 0.1
"""Seconds between repaints of the frame stream while rows keep coming (followed, or a live stream under a
scrolled-up view): ten a second, not one per batch."""
PREVIEW_EVERY = 0.25
"""Seconds between redraws of the preview pane (a layout pass and JSON highlighting)."""
VIEWS = ("frames", "chargers", "findings", "handshakes")
GC_THRESHOLDS = (20_000, 20, 50)
"""Fewer, cheaper collections than CPython's (700, 10, 10): a batch of rows allocates thousands of short-lived
objects, and a young collection every 700 of them costs more than it frees."""
_FRAME_ACTIONS = frozenset({"pair", "copy", "bookmark", "next_bookmark", "next_finding", "handshake", "follow",
                            "detail", "export"})
_REPLAY_ACTIONS = frozenset({"speed", "step", "seek"})
_MAIN_VIEW_ACTIONS = _FRAME_ACTIONS | _REPLAY_ACTIONS | frozenset({"show", "filter", "clear_filter", "play_pause",
                                                                   "inject"})


class OcppscopeApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "ocppscope"
    ENABLE_COMMAND_PALETTE = False

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "show('frames')", "frames", show=False),
        Binding("2", "show('chargers')", "chargers", show=False),
        Binding("3", "show('findings')", "findings", show=False),
        Binding("4", "show('handshakes')", "handshakes", show=False),
        Binding("question_mark,f1", "help", "help"),
        Binding("q", "quit", "quit"),
        Binding("slash", "filter", "filter"),
        Binding("x", "clear_filter", "clear filter", show=False),
        Binding("space", "play_pause", "play/pause"),
        Binding("f", "follow", "follow", show=False),
        Binding("s", "speed", "speed", show=False),
        Binding("comma", "step(-1)", "step back", show=False),
        Binding("full_stop", "step(1)", "step", show=False),
        Binding("g", "seek", "seek", show=False),
        Binding("n", "next_finding(1)", "next finding"),
        Binding("N", "next_finding(-1)", "previous finding", show=False),
        Binding("m", "bookmark", "bookmark", show=False),
        Binding("b", "next_bookmark(1)", "next bookmark", show=False),
        Binding("B", "next_bookmark(-1)", "previous bookmark", show=False),
        Binding("p", "pair", "pair", show=False),
        Binding("c", "copy", "copy", show=False),
        Binding("e", "export", "export", show=False),
        Binding("h", "handshake", "handshake", show=False),
        Binding("i", "inject", "inject"),
    ]

    def __init__(self, session: Session, *, initial_filter: str = "", tick: float = TICK_SECONDS) -> None:
        super().__init__()
        self.session = session
        self.index = session.index
        self.painter = RowPainter(self.index, getattr(session, "injected", None))
        self.filter_text = ""
        self.filter_error: str | None = None
        self._initial_filter = initial_filter
        self._tick_seconds = tick
        self._shown_version = -1
        self._shown_limit = -1
        self._shown_length = -1
        self._synced_at = 0.0
        self._count_seen = 0
        self._grew_at = 0.0
        self._side_views_at = 0.0
        self._preview_row: int | None = -1
        self._preview_state: tuple[object, ...] = ()
        self._preview_at = 0.0
        self.first_paint_at: float | None = None
        """When the first rows reached the screen (monotonic clock), for the benchmark."""
        self._status_text = ""
        self._filtered: FilteredRows | None = None
        self.tick_lags: list[float] = []
        """How late each timer tick ran (seconds), for the benchmark's event-loop lag."""
        self._last_tick: float | None = None
        self._quit_asked_at: float | None = None

    # -- layout ----------------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(id="status")
        with ContentSwitcher(initial="frames", id="views"):
            with Horizontal(id="frames"):
                yield FrameView(self.painter, id="frame-view")
                with VerticalScroll(id="preview"):
                    yield Static(id="preview-text")
            yield ChargersView(self.index, id="chargers")
            yield FindingsView(self.index, id="findings")
            yield HandshakesView(self.index, id="handshakes")
        yield Static(id="replay-bar")
        yield Input(id="filter-input", placeholder='filter, e.g. action == "BootNotification" && severity >= warning')
        yield Footer()

    def _widget(self, selector: str) -> Any:
        """A widget of the main screen, whichever screen is on top (the detail screen, a prompt)."""
        return self.screen_stack[0].query_one(selector)

    @property
    def frame_view(self) -> FrameView:
        return self._widget("#frame-view")  # type: ignore[no-any-return]

    @property
    def current_view(self) -> str:
        return self._widget("#views").current or "frames"

    def on_mount(self) -> None:
        gc.set_threshold(*GC_THRESHOLDS)
        self._widget("#replay-bar").display = isinstance(self.session, ReplaySession)
        self._widget("#filter-input").display = False
        if isinstance(self.session, ReplaySession) and not self.session.plays_on_start:
            self.frame_view.follow = False  # a recording is read from its start; live traffic, and play, follow
        self.session.start()
        if self._initial_filter:
            self.apply_filter(self._initial_filter)
        self.frame_view.focus()
        self._layout_for_size()
        self.set_interval(self._tick_seconds, self._tick)
        self._tick()

    def on_resize(self) -> None:
        self._layout_for_size()

    def _layout_for_size(self) -> None:
        """A preview of the frame under the cursor where the terminal has room: beside it, or below it."""
        width, height = self.size
        wide = width >= 150
        tall = not wide and height >= 45
        frames = self._widget("#frames")
        frames.set_class(wide, "wide")
        frames.set_class(tall, "tall")
        self._widget("#preview").display = wide or tall
        self._preview_row = -1

    def on_unmount(self) -> None:
        if self._filtered is not None:
            self._filtered.cancel()
        self.session.stop()

    # -- the timer -------------------------------------------------------------------------------------------

    def _tick(self) -> None:
        if not self.screen_stack:
            return  # the app is closing: its screens are already gone, and a last tick may still fire
        try:
            self._advance()
        except NoMatches:  # the app is closing and its screen is gone
            return

    def _advance(self) -> None:
        now = time.monotonic()
        if self._last_tick is not None:
            self.tick_lags.append(max(0.0, now - self._last_tick - self._tick_seconds))
            if len(self.tick_lags) > 100_000:
                del self.tick_lags[:50_000]
        self._last_tick = now
        self.session.poll()
        while self.session.notes:
            note = self.session.notes.pop(0)
            self.notify(note, severity="error" if note.startswith(("stream refused", "reading stopped")) else
                        "information", timeout=8)
        limit = self.session.visible
        view = self.frame_view
        view.set_limit(limit)
        listed = len(view.rows)
        changed = limit != self._shown_limit or self.index.version != self._shown_version or \
            listed != self._shown_length
        deferred = changed and (view.follow or self.session.live) and now - self._synced_at < REPAINT_EVERY
        if deferred:
            changed = False
        if changed:
            self._synced_at = now
            self._shown_limit = limit
            self._shown_version = self.index.version
            self._shown_length = listed
            view.sync(sliced=True)  # a slice of its lines per screen update: no update holds the loop for long
            if self.first_paint_at is None and len(view.rows):
                self.call_after_refresh(self._first_paint)
        if now - self._side_views_at >= SIDE_VIEWS_EVERY:
            self._refresh_side_view(limit)
            self._side_views_at = now
        if self.index.count != self._count_seen:
            self._count_seen = self.index.count
            self._grew_at = now
        streaming = view.follow and self.session.live and now - self._grew_at < 1.0
        if not streaming and (now - self._preview_at >= PREVIEW_EVERY or self._preview_row in (None, -1)):
            # Not while following a live stream: the newest frame changes every batch, and each new preview is
            # a layout pass of the whole screen (measured: the UI's worst stalls at 2000 frames/s).
            self._update_preview()
            self._preview_at = now
        if not deferred:
            # Rows pouring in: the status line waits for the repaint, whose first slice (at the top) shares its screen
            # update; with a later slice, Textual would redraw the box around both, the whole view, for one line.
            self._update_status()

    def _first_paint(self) -> None:
        if self.first_paint_at is None:
            self.first_paint_at = time.monotonic()
            self.session.painted()
            # What exists now (Textual's widgets, styles, the imported modules) lives as long as the app: keep the
            # full collections from walking it. Measured at 2000 frames/s: 25-50 ms stalls without this.
            gc.freeze()

    def _refresh_side_view(self, limit: int) -> None:
        current = self.current_view
        if current == "chargers":
            self._widget("#chargers").update_from(limit)
        elif current == "findings":
            self._widget("#findings").update_from(limit)
        elif current == "handshakes":
            self._widget("#handshakes").update_from(limit)

    def _update_status(self) -> None:
        status = self.session.status()
        if self.filter_text:
            shown = self.filter_text if len(self.filter_text) <= 48 else self.filter_text[:47] + "…"
            status.append(" │ filter ", "bold")
            status.append(shown, "bold cyan")  # the active filter stays in sight while its rows are shown
            status.append(" ")
            filtered = self._filtered
            if filtered is not None:
                status.append(f"{len(filtered):,} shown")
                if filtered.error:
                    status.append(f" ({filtered.error})", "red")
                elif not filtered.finished:
                    status.append(f" (scanning {filtered.progress:.0%})", "yellow")
        view = self.frame_view
        if self.session.live:
            status.append(" │ following" if view.follow else " │ not following (End)", "dim")
        if status.plain != self._status_text:
            self._status_text = status.plain
            self._widget("#status").update(status, layout=False)  # one line, always: no layout pass
        if isinstance(self.session, ReplaySession):
            self._widget("#replay-bar").update(self.session.replay_status(), layout=False)

    def _update_preview(self) -> None:
        preview = self._widget("#preview")
        if not preview.display:
            return
        row = self.frame_view.cursor_row
        # Not the index's version: the frame stream has already caught up with it by now, while the findings of
        # this row may have come after it was drawn (the analysis runs behind the indexer; a timeout comes later).
        state = shown_state(self.index, row) if row is not None else ()
        if row == self._preview_row and state == self._preview_state:
            return
        self._preview_row = row
        self._preview_state = state
        target = self._widget("#preview-text")
        if row is None:
            target.update(Text("no frame", style="dim"))
            return
        pair = self.index.link[row]
        findings = list(self.index.findings_of(row)) + (list(self.index.findings_of(pair)) if pair >= 0 else [])
        target.update(Group(row_title(self.index, row), frame_body(self.index, row), Text(""),
                            findings_table(findings)))

    # -- views -----------------------------------------------------------------------------------------------

    async def action_quit(self) -> None:
        """Quit; when quitting stops the proxy this UI runs (``proxy --tui``), only at the second ``q``."""
        if getattr(self.session, "owns_proxy", False):
            now = time.monotonic()
            if self._quit_asked_at is None or now - self._quit_asked_at > QUIT_CONFIRM_SECONDS:
                self._quit_asked_at = now
                self.notify("q again stops the proxy and closes every charger's connection (1001); any other key "
                            "keeps it running", title="stop the proxy?", severity="warning",
                            timeout=QUIT_CONFIRM_SECONDS)
                return
        self.exit()

    def action_show(self, view: str) -> None:
        self._widget("#views").current = view
        self._refresh_side_view(self.session.visible)
        target = {"frames": "#frame-view", "chargers": "#chargers", "findings": "#findings",
                  "handshakes": "#handshake-list"}[view]
        self._widget(target).focus()
        self.refresh_bindings()

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        replay = isinstance(self.session, ReplaySession)
        if len(self.screen_stack) > 1 and action in _MAIN_VIEW_ACTIONS:
            return False  # a detail or prompt screen is on top: the main view's keys wait for it
        if action in _REPLAY_ACTIONS and not replay:
            return False
        if action == "inject" and not self.session.live:
            return False
        return not (action in _FRAME_ACTIONS and self.current_view != "frames")

    # -- the frame stream ------------------------------------------------------------------------------------

    def on_frame_view_activated(self, message: FrameView.Activated) -> None:
        self.open_detail(message.row)

    def open_detail(self, row: int) -> None:
        self.push_screen(DetailScreen(self.index, row, goto=self.frame_view.go_to_row, neighbour=self._neighbour))

    def _neighbour(self, row: int, step: int) -> int | None:
        rows = self.frame_view.rows
        position = rows.position_of(row) + step
        return rows.row(position) if 0 <= position < len(rows) else None

    def action_follow(self) -> None:
        self.frame_view.action_last()

    def action_pair(self) -> None:
        row = self.frame_view.cursor_row
        if row is None:
            return
        pair = self.index.link[row]
        if pair < 0:
            self.notify("no paired request or response for this frame", severity="warning")
            return
        self._reveal(pair)

    def action_copy(self) -> None:
        row = self.frame_view.cursor_row
        if row is None:
            return
        from ocppscope.tui.describe import raw_text

        self.copy_to_clipboard(raw_text(self.index.record(row)))
        self.notify("frame JSON copied to the clipboard")

    def action_bookmark(self) -> None:
        view = self.frame_view
        row = view.cursor_row
        if row is None:
            return
        view.bookmarks.symmetric_difference_update({row})
        view.refresh()

    def action_next_bookmark(self, step: int) -> None:
        view = self.frame_view
        current = view.cursor_row if view.cursor_row is not None else -1
        marks = sorted(view.bookmarks)
        candidates = [r for r in marks if r > current] if step > 0 else [r for r in reversed(marks) if r < current]
        if not candidates:
            self.notify("no more bookmarks that way (m sets one)", severity="warning")
            return
        view.go_to_row(candidates[0])

    def action_next_finding(self, step: int) -> None:
        """The next frame with a finding; in a replay the playhead moves on to it if it lies ahead."""
        view = self.frame_view
        current = view.cursor_row if view.cursor_row is not None else -1
        session = self.session
        horizon = self.index.count if isinstance(session, ReplaySession) else session.visible
        rows = self.index.rows_with_findings(horizon)
        candidates = [r for r in rows if r > current] if step > 0 else [r for r in reversed(rows) if r < current]
        candidates = [r for r in candidates[:5000] if self._passes_filter(r)]
        if not candidates:
            self.notify("no more findings that way", severity="information")
            return
        self._reveal(candidates[0])

    def _passes_filter(self, row: int) -> bool:
        return self._filtered is None or self._filtered.predicate(row)

    def _reveal(self, row: int) -> None:
        """Put the cursor on ``row``, moving a replay's playhead to it if needed."""
        session = self.session
        if isinstance(session, ReplaySession) and row >= session.visible:
            session.playback.seek_row(row)
        view = self.frame_view
        view.set_limit(session.visible)
        if self._filtered is not None and not self._filtered.contains(row) and row < self._filtered.scanned:
            self.notify("that frame is hidden by the filter: filter cleared")
            self.apply_filter("")
        view.sync(force=True)
        view.go_to_row(row)

    def action_handshake(self) -> None:
        row = self.frame_view.cursor_row
        if row is None:
            return
        self.push_screen(HandshakeScreen(self.index, self.index.conn[row]))

    # -- filter ----------------------------------------------------------------------------------------------

    def action_filter(self) -> None:
        field = self._widget("#filter-input")
        field.display = True
        field.value = self.filter_text
        field.focus()
        self.refresh_bindings()

    def action_clear_filter(self) -> None:
        self.apply_filter("")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "filter-input":
            return
        if self.apply_filter(event.value):
            event.input.display = False
            self.frame_view.focus()
            self.refresh_bindings()

    def on_key(self, event: object) -> None:
        if getattr(event, "key", None) != "q":
            self._quit_asked_at = None  # any other key answers "keep it running"
        field = self._widget("#filter-input")
        if getattr(event, "key", None) == "escape" and field.has_focus:
            field.display = False
            self.frame_view.focus()
            self.refresh_bindings()

    def apply_filter(self, text: str) -> bool:
        """Show the rows passing ``text``; False (and the error shown) when it cannot be parsed."""
        field = self._widget("#filter-input")
        try:
            node = parse(text)
        except FilterError as exc:
            self.filter_error = str(exc)
            field.border_subtitle = str(exc)
            field.add_class("error")
            self.notify(f"filter: {exc}", severity="error")
            return False
        field.border_subtitle = ""
        field.remove_class("error")
        self.filter_error = None
        if self._filtered is not None:
            self._filtered.cancel()
            self._filtered = None
        view = self.frame_view
        keep = view.cursor_row
        self.filter_text = text.strip()
        if node is None:
            view.set_rows(AllRows(), keep_row=keep)
        else:
            filtered = FilteredRows(self.index, compile_filter(node, self.index, view.bookmarks),
                                    needs_analysis=needs_analysis(node))
            self._filtered = filtered
            filtered.start()
            view.set_rows(filtered, keep_row=keep)
        if self.current_view != "frames":
            self.action_show("frames")
        return True

    # -- replay controls -------------------------------------------------------------------------------------

    def action_play_pause(self) -> None:
        session = self.session
        if isinstance(session, ReplaySession):
            session.playback.toggle()
            if session.playback.playing:
                self.frame_view.follow = True
        elif hasattr(session, "toggle_pause"):
            session.toggle_pause()

    def action_speed(self) -> None:
        if isinstance(self.session, ReplaySession):
            self.session.playback.cycle_speed()

    def action_step(self, rows: int) -> None:
        if isinstance(self.session, ReplaySession):
            self.session.playback.step(rows)
            self.frame_view.follow = True

    def action_seek(self) -> None:
        session = self.session
        if not isinstance(session, ReplaySession) or not self.index.count:
            return
        start = self.index.time[0]

        def check(text: str) -> str | None:
            try:
                parse_seek(text, start)
            except ValueError as exc:
                return str(exc)
            return None

        def done(text: str | None) -> None:
            if text:
                session.playback.seek_time(parse_seek(text, start))
                self.frame_view.follow = True

        self.push_screen(PromptScreen("seek to (HH:MM:SS, +90s, +1m30s or an ISO date-time)",
                                      placeholder="+1m30s", check=check), done)

    # -- export and inject -----------------------------------------------------------------------------------

    def action_export(self) -> None:
        default = "ocppscope-export.jsonl"

        def check(text: str) -> str | None:
            path = Path(text.strip() or default)
            if path.exists():
                return f"{path} exists; choose another name"
            if not path.parent.exists():
                return f"the folder {path.parent} does not exist"
            return None

        def done(text: str | None) -> None:
            if text is None:
                return
            path = Path(text.strip() or default)
            rows = self.frame_view.rows
            selected = [rows.row(position) for position in range(len(rows))]
            self.run_worker(lambda: self._export(path, selected), thread=True, name="export")

        self.push_screen(PromptScreen("export the frames shown to the capture file", value=default,
                                      check=check), done)

    def _export(self, path: Path, rows: list[int]) -> None:
        try:
            written = export_rows(self.index, rows, path)
        except Exception as exc:
            self.call_from_thread(self.notify, f"export failed: {exc}", severity="error")
            return
        self.call_from_thread(self.notify, f"exported {written:,} events to {path}")

    def action_inject(self) -> None:
        session = self.session
        if not session.live:
            return
        from ocppscope.tui.inject import InjectScreen

        row = self.frame_view.cursor_row
        self.push_screen(InjectScreen(session, row, getattr(session, "spec", None)))  # type: ignore[arg-type]

    # -- the other views -------------------------------------------------------------------------------------

    def on_chargers_view_chosen(self, message: ChargersView.Chosen) -> None:
        self.apply_filter(f'charger == "{message.identity}"')

    def on_findings_view_chosen(self, message: FindingsView.Chosen) -> None:
        placed = message.placed
        row = placed.row
        if row is None and placed.finding.conn_id is not None:
            number = self.index.conn_ids.get(placed.finding.conn_id)
            row = self.index.conns[number].open_row if number is not None else None
        if row is None:
            self.notify("this finding is about the whole capture, not one frame", severity="information")
            return
        self.action_show("frames")
        self._reveal(row)
