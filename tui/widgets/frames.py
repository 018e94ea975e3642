"""The frame stream: a Line-API scroll view over a :class:`~tui.rowlist.RowList`, no widget per row.

Textual asks for the lines on screen only (``render_line``), so a million rows cost what fifty do. The app calls
:meth:`FrameView.sync` from its ~50 ms timer after new rows arrived; following, the view keeps the newest row in
sight, and scrolling up stops following.

Following a fast stream, every line changes at each repaint, and the screen update that drew them all was the
event loop's longest stall (measured at 2000 frames/s, 160×48: 20 ms of CPU, 30-60 ms late on a busy machine). So
a pass over the lines works out the view's styles once, the scrollbar repaints only when its thumb moves, and the
timer's repaints come a slice of lines per screen update.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import ClassVar

from ocppscope.tui.rowlist import AllRows, RowList
from ocppscope.tui.rows import RowPainter
from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual import events, messages
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.scrollbar import ScrollBar, ScrollBarRender
from textual.strip import Strip
from textual.widget import Widget

REPAINT_SLICE_LINES = 16
"""Lines of the frame stream repainted per screen update when the app's timer catches it up with new rows: a third
of a 48-line terminal, about 3 ms of CPU (a whole view at once: about 9 ms)."""


class QuietScrollBar(ScrollBar):
    """A scrollbar that repaints only when what it draws changes.

    Following a stream, the view's length and offset change at every batch and Textual repaints its scrollbar each
    time, though the thumb, one cell at the bottom, stays put (measured at 2000 frames/s: a fifth of the time of
    each repaint of the frame stream). Changes made under :meth:`held` are judged together when it ends: the
    length and the offset of a view move one after the other, and in between the thumb would seem to move.
    """

    def __init__(self, vertical: bool = True, name: str | None = None, *, thickness: int = 1) -> None:
        super().__init__(vertical, name, thickness=thickness)
        self._drawn: list[Segment] | None = None
        self._held = 0
        self._pending = False

    @contextmanager
    def held(self) -> Iterator[None]:
        self._held += 1
        try:
            yield
        finally:
            self._held -= 1
            if not self._held and self._pending:
                self._pending = False
                self.refresh()

    def render(self) -> ScrollBarRender:
        bar = super().render()
        assert isinstance(bar, ScrollBarRender)
        self._drawn = self._drawing(bar)
        return bar

    def refresh(self, *regions: Region, repaint: bool = True, layout: bool = False, recompose: bool = False
                ) -> QuietScrollBar:
        if repaint and not (regions or layout or recompose) and self._drawn is not None and self.is_mounted:
            if self._held:
                self._pending = True
                return self
            bar = super().render()
            if isinstance(bar, ScrollBarRender) and self._drawing(bar) == self._drawn:
                return self
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    def _drawing(self, bar: ScrollBarRender) -> list[Segment]:
        """The cells ``bar`` fills at the scrollbar's size (what ``ScrollBarRender`` passes to ``render_bar``)."""
        width, height = self.size
        style = bar.style if isinstance(bar.style, Style) else Style.parse(bar.style)
        colors: dict[str, Color] = {}  # unset: render_bar's own defaults, as for ScrollBarRender
        if style.bgcolor:
            colors["back_color"] = style.bgcolor
        if style.color:
            colors["bar_color"] = style.color
        size, thickness = (height, width) if bar.vertical else (width, height)
        return bar.render_bar(size=size, virtual_size=bar.virtual_size, window_size=bar.window_size,
                              position=bar.position, thickness=thickness, vertical=bar.vertical, **colors).segments


_SLICE_WAITS = 3
"""Refreshes a slice waits for the previous one to be drawn before it is asked for anyway."""


class FrameView(ScrollView, can_focus=True):
    """Every frame and connection event, one line each; the cursor row is the one the other views talk about."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"frame-view--cursor", "frame-view--pair"}
    DEFAULT_CSS = """
    FrameView { background: $surface; overflow-x: hidden; }
    FrameView > .frame-view--cursor { background: $accent 60%; }
    FrameView > .frame-view--pair { background: $primary 25%; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor(-1)", "up", show=False),
        Binding("down,j", "cursor(1)", "down", show=False),
        Binding("pageup", "page(-1)", "page up", show=False),
        Binding("pagedown", "page(1)", "page down", show=False),
        Binding("home", "first", "first", show=False),
        Binding("end", "last", "last (follow)", show=False),
        Binding("enter", "activate", "detail"),
    ]

    follow: reactive[bool] = reactive(True)

    class CursorMoved(Message):
        def __init__(self, row: int | None) -> None:
            super().__init__()
            self.row = row

    class Activated(Message):
        def __init__(self, row: int) -> None:
            super().__init__()
            self.row = row

    def __init__(self, painter: RowPainter, *, name: str | None = None, id: str | None = None) -> None:
        super().__init__(name=name, id=id)
        self.painter = painter
        self.rows: RowList = AllRows()
        self.cursor = 0
        self.bookmarks: set[int] = set()
        self._last_row: int | None = None
        self._pass_styles: tuple[Style, Style, Style] | None = None
        self._scroll_repaints = True
        self._slicing = False
        self._slice_top = 0
        self._unpainted = 0
        self._slice_painted = True
        self._slice_waits = 0

    @property
    def vertical_scrollbar(self) -> QuietScrollBar:
        # Textual's own creation of the scrollbar (Widget.vertical_scrollbar), with one that repaints less.
        if self._vertical_scrollbar is None:
            self._vertical_scrollbar = bar = QuietScrollBar(vertical=True, name="vertical",
                                                            thickness=self.scrollbar_size_vertical)
            bar.display = False
            self.app._start_widget(self, bar)
        return self._vertical_scrollbar  # type: ignore[return-value]

    # -- data ------------------------------------------------------------------------------------------------

    @property
    def cursor_row(self) -> int | None:
        rows = self.rows
        return rows.row(self.cursor) if 0 <= self.cursor < len(rows) else None

    def set_rows(self, rows: RowList, keep_row: int | None = None) -> None:
        """Show ``rows`` (a new filter); the cursor stays on ``keep_row`` or the nearest row before it."""
        rows.limit = self.rows.limit
        self.rows = rows
        if keep_row is not None and len(rows):
            self.cursor = rows.position_of(keep_row)
        else:
            self.cursor = 0
        self.sync(force=True)

    def set_limit(self, limit: int) -> None:
        self.rows.limit = limit

    def sync(self, force: bool = False, *, sliced: bool = False) -> None:
        """Catch up with rows that arrived (or a limit that moved): size, follow, repaint.

        ``sliced``: repaint the view a slice at a time, one screen update each, so that no single update holds the
        event loop for a whole view's lines (the app's timer, following a fast stream)."""
        length = len(self.rows)
        self._scroll_repaints = not sliced
        try:
            with self.vertical_scrollbar.held():
                if self.virtual_size.height != length or force:
                    self._set_virtual_height(length)
                if self.follow and length:
                    self.cursor = length - 1
                    self.scroll_to(y=max(0, length - self.size.height), animate=False, immediate=True)
        finally:
            self._scroll_repaints = True
        if self.cursor >= length:
            self.cursor = max(0, length - 1)
        if sliced:
            self._refresh_slices()
        else:
            self.refresh()
        self._announce()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        if self._scroll_repaints:
            super().watch_scroll_y(old_value, new_value)
        elif self.show_vertical_scrollbar:
            self.vertical_scrollbar.position = new_value  # the lines: repainted by the caller, in slices

    def _refresh_slices(self) -> None:
        """Repaint every line, REPAINT_SLICE_LINES of them per screen update. Rows arriving again before the last
        slice start the count again but not the place: it goes on round the view, so no line waits for long however
        often rows arrive."""
        self._unpainted = self.size.height
        if not self._slicing:
            self._slicing = True
            self._refresh_slice()

    def _refresh_slice(self) -> None:
        width, height = self.size
        if height <= 0:  # not on screen: all of it, when it shows again
            self._slicing = False
            self.refresh()
            return
        if self._unpainted <= 0:  # the last slice is on screen
            self._slicing = False
            return
        if not self._slice_painted and self._slice_waits < _SLICE_WAITS:
            # The refresh ran before the screen drew the previous slice (another widget's update came first): a
            # second region now would be drawn in the same update as the first.
            self._slice_waits += 1
            self.call_after_refresh(self._refresh_slice)
            return
        self._slice_painted = False
        self._slice_waits = 0
        top = self._slice_top if self._slice_top < height else 0
        lines = min(REPAINT_SLICE_LINES, self._unpainted, height - top)
        self.refresh(Region(0, top, width, lines))
        self._slice_top = (top + lines) % height
        self._unpainted -= lines
        # The screen hears of this slice now, not at this view's next idle: told of the callback first, an idle
        # screen would run it at once, and two slices would share one update.
        self.screen.post_message(messages.Update(self))
        self.call_after_refresh(self._refresh_slice)

    def _set_virtual_height(self, length: int) -> None:
        # Not through the reactive: it would lay the whole screen out again on every batch of rows (measured:
        # ~100 ms a time at 160×48, the UI's worst stall). A line view's size changes nothing else's layout.
        size = Size(self.size.width, length)
        self.set_reactive(Widget.virtual_size, size)
        self._scroll_update(size)

    def go_to_row(self, row: int) -> None:
        """Put the cursor on ``row`` (or the nearest listed row before it) and stop following."""
        if not len(self.rows):
            return
        self.follow = False
        self.cursor = self.rows.position_of(row)
        self._scroll_to_cursor(center=True)

    # -- drawing ---------------------------------------------------------------------------------------------

    def render_lines(self, crop: Region) -> list[Strip]:
        # Textual's rich_style walks every ancestor's CSS: worked out once per pass, not twice per line (measured:
        # half the time of a following repaint at 2000 frames/s).
        self._pass_styles = self._line_styles()
        self._slice_painted = True
        try:
            return super().render_lines(crop)
        finally:
            self._pass_styles = None

    def _line_styles(self) -> tuple[Style, Style, Style]:
        """The view's own style, and that of the cursor row and of its pair on top of it."""
        base = self.rich_style
        return (base, base + self.get_component_rich_style("frame-view--cursor"),
                base + self.get_component_rich_style("frame-view--pair"))

    def render_line(self, y: int) -> Strip:
        base, cursor_style, pair_style = self._pass_styles or self._line_styles()
        _, scroll_y = self.scroll_offset
        position = scroll_y + y
        width = self.size.width
        rows = self.rows
        if position >= len(rows):
            return Strip.blank(width, base)
        row = rows.row(position)
        style = base
        if position == self.cursor:
            style = cursor_style
        else:
            cursor_row = self.cursor_row
            if cursor_row is not None and self.painter.index.link[cursor_row] == row:
                style = pair_style
        segments = self.painter.segments(row, width, bookmarked=row in self.bookmarks, style=style)
        strip = Strip(segments)
        # The painter fills the width exactly unless the terminal is narrower than its fixed columns.
        return strip if strip.cell_length == width else strip.crop_extend(0, width, base)

    # -- moving ----------------------------------------------------------------------------------------------

    def action_cursor(self, delta: int) -> None:
        self._move(self.cursor + delta)

    def action_page(self, pages: int) -> None:
        self._move(self.cursor + pages * max(1, self.size.height - 1))

    def action_first(self) -> None:
        self._move(0)

    def action_last(self) -> None:
        self.follow = True
        self.sync()

    def action_activate(self) -> None:
        row = self.cursor_row
        if row is not None:
            self.post_message(self.Activated(row))

    def _move(self, position: int) -> None:
        length = len(self.rows)
        if not length:
            return
        position = max(0, min(position, length - 1))
        self.follow = position == length - 1 and self.follow
        if position < length - 1:
            self.follow = False
        self.cursor = position
        self._scroll_to_cursor()

    def _scroll_to_cursor(self, center: bool = False) -> None:
        height = max(1, self.size.height)
        top = self.scroll_offset.y
        if center:
            self.scroll_to(y=max(0, self.cursor - height // 2), animate=False, immediate=True)
        elif self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)
        self.refresh()
        self._announce()

    def _announce(self) -> None:
        row = self.cursor_row
        if row != self._last_row:
            self._last_row = row
            self.post_message(self.CursorMoved(row))

    def on_click(self, event: events.Click) -> None:
        position = self.scroll_offset.y + event.y
        if 0 <= position < len(self.rows):
            self.follow = False
            self.cursor = position
            self.refresh()
            self._announce()
            if event.chain == 2:
                self.action_activate()

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        self.follow = False

    def on_resize(self, event: events.Resize) -> None:
        self.virtual_size = Size(event.size.width, len(self.rows))  # a resize lays out anyway
        if self.follow:
            self.sync()
