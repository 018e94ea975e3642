"""The frame stream: a Line-API scroll view over a :class:`~tui.rowlist.RowList`, no widget per row.

Textual asks for the lines on screen only (``render_line``), so a million rows cost what fifty do. The app calls
:meth:`FrameView.sync` from its ~50 ms timer after new rows arrived; following, the view keeps the newest row in
sight, and scrolling up stops following.
"""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widget import Widget

from tui.rowlist import AllRows, RowList
from tui.rows import RowPainter


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

    def sync(self, force: bool = False) -> None:
        """Catch up with rows that arrived (or a limit that moved): size, follow, repaint."""
        length = len(self.rows)
        if self.virtual_size.height != length or force:
            self._set_virtual_height(length)
        if self.follow and length:
            self.cursor = length - 1
            self.scroll_to(y=max(0, length - self.size.height), animate=False, immediate=True)
        elif self.cursor >= length:
            self.cursor = max(0, length - 1)
        self.refresh()
        self._announce()

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

    def render_line(self, y: int) -> Strip:
        _, scroll_y = self.scroll_offset
        position = scroll_y + y
        width = self.size.width
        rows = self.rows
        if position >= len(rows):
            return Strip.blank(width, self.rich_style)
        row = rows.row(position)
        cursor_row = self.cursor_row
        style = None
        if position == self.cursor:
            style = self.get_component_rich_style("frame-view--cursor")
        elif cursor_row is not None and self.painter.index.link[cursor_row] == row:
            style = self.get_component_rich_style("frame-view--pair")
        segments = self.painter.segments(row, width, bookmarked=row in self.bookmarks, style=style)
        return Strip(segments).crop_extend(0, width, self.rich_style).apply_style(self.rich_style)

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
