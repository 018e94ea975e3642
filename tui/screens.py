"""Screens pushed over the main view: a frame in detail, a handshake, the help, and a one-line prompt."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from ocppscope.tui.describe import findings_table, frame_body, handshake_view, raw_text, row_title
from ocppscope.tui.index import FrameIndex
from ocppscope.tui.keys import KEY_HELP
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Input, Label, Static, TabbedContent, TabPane


class DetailScreen(Screen[None]):
    """One frame: pretty JSON beside its paired request or response, its findings explained, its raw text."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "app.pop_screen", "back"),
        Binding("p", "pair", "go to pair"),
        Binding("c", "copy", "copy JSON"),
        Binding("left_square_bracket", "neighbour(-1)", "previous"),
        Binding("right_square_bracket", "neighbour(1)", "next"),
        Binding("1", "tab('tab-frame')", "frame", show=False),
        Binding("2", "tab('tab-findings')", "findings", show=False),
        Binding("3", "tab('tab-raw')", "raw", show=False),
    ]
    DEFAULT_CSS = """
    DetailScreen #detail-title { height: auto; padding: 0 1; background: $boost; }
    DetailScreen TabbedContent { height: 1fr; }
    DetailScreen TabPane { height: 1fr; padding: 0; }
    DetailScreen #pair { height: auto; }
    DetailScreen .side { width: 1fr; height: auto; padding: 0 1; }
    DetailScreen.narrow #pair { layout: vertical; }
    DetailScreen #detail-pair-side { border-left: solid $primary; }
    DetailScreen.narrow #detail-pair-side { border-left: none; border-top: solid $primary; }
    """

    def __init__(self, index: FrameIndex, row: int, *, goto: Callable[[int], None] | None = None,
                 neighbour: Callable[[int, int], int | None] | None = None) -> None:
        """``goto(row)`` keeps the frame stream's cursor on the frame shown; ``neighbour(row, step)`` is the
        row ``step`` places away in the frame stream as filtered."""
        super().__init__()
        self.index = index
        self.row = row
        self._goto = goto
        self._neighbour = neighbour

    def compose(self) -> ComposeResult:
        yield Static(id="detail-title")
        with TabbedContent(initial="tab-frame"):
            with TabPane("frame & pair", id="tab-frame"), VerticalScroll(), Horizontal(id="pair"):
                yield Static(id="detail-this-side", classes="side")
                yield Static(id="detail-pair-side", classes="side")
            with TabPane("findings", id="tab-findings"), VerticalScroll():
                yield Static(id="detail-findings")
            with TabPane("raw", id="tab-raw"), VerticalScroll():
                yield Static(id="detail-raw", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.show(self.row)

    def on_resize(self) -> None:
        self.set_class(self.size.width < 100, "narrow")

    def show(self, row: int) -> None:
        self.row = row
        index = self.index
        pair = index.link[row]
        self.query_one("#detail-title", Static).update(row_title(index, row))
        self.query_one("#detail-this-side", Static).update(Group(Text("this frame", "bold underline"),
                                                                 frame_body(index, row)))
        pair_side: RenderableType
        if pair >= 0:
            pair_side = Group(Text("request" if pair < row else "response", "bold underline"), row_title(index, pair),
                              frame_body(index, pair))
        else:
            pair_side = Text("no paired request or response", style="dim")
        self.query_one("#detail-pair-side", Static).update(pair_side)
        findings = list(index.findings_of(row)) + (list(index.findings_of(pair)) if pair >= 0 else [])
        tab = self.query_one(TabbedContent)
        tab.get_tab("tab-findings").label = f"findings ({len(findings)})"
        self.query_one("#detail-findings", Static).update(findings_table(findings))
        record = index.record(row)
        self.query_one("#detail-raw", Static).update(Text(raw_text(record)))

    def action_pair(self) -> None:
        pair = self.index.link[self.row]
        if pair < 0:
            self.notify("this frame has no paired request or response", severity="warning")
            return
        self._moved(pair)

    def action_neighbour(self, step: int) -> None:
        row = self._neighbour(self.row, step) if self._neighbour is not None else None
        if row is not None:
            self._moved(row)

    def _moved(self, row: int) -> None:
        self.show(row)
        if self._goto is not None:
            self._goto(row)

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(raw_text(self.index.record(self.row)))
        self.notify("frame JSON copied to the clipboard")

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab


class HandshakeScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q", "app.pop_screen", "back")]

    def __init__(self, index: FrameIndex, conn_number: int) -> None:
        super().__init__()
        self.index = index
        self.conn_number = conn_number

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(handshake_view(self.index, self.index.conns[self.conn_number]), id="handshake-full")
        yield Footer()


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark,f1", "app.pop_screen", "close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 100; max-width: 100%; height: 90%; border: thick $primary;
                                   background: $surface; padding: 0 1; }
    """

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(help_text(), id="help-text")

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()


def help_text() -> RenderableType:
    parts: list[RenderableType] = [Text.assemble(("ocppscope keys", "bold underline"),
                                                 "   (Esc closes; filters are described in docs/tui.md)")]
    for section, entries in KEY_HELP:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold cyan", no_wrap=True, min_width=14)
        table.add_column()
        for keys, what in entries:
            table.add_row(keys, what)
        parts += [Text(""), Text(section, "bold"), table]
    return Group(*parts)


class PromptScreen(ModalScreen[str | None]):
    """Asks for one line (a seek time, a file name); ``check`` returns an error to show, or None to accept."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "cancel")]
    DEFAULT_CSS = """
    PromptScreen { align: center bottom; }
    PromptScreen > Vertical { height: auto; width: 100%; background: $boost; border-top: solid $primary;
                              padding: 0 1; }
    PromptScreen #prompt-error { color: $error; height: auto; }
    """

    def __init__(self, title: str, value: str = "", placeholder: str = "",
                 check: Callable[[str], str | None] | None = None) -> None:
        super().__init__()
        self._title = title
        self._value = value
        self._placeholder = placeholder
        self._check = check

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self._title)
            yield Input(self._value, placeholder=self._placeholder, id="prompt-input")
            yield Label("", id="prompt-error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        error = self._check(event.value) if self._check is not None else None
        if error:
            self.query_one("#prompt-error", Label).update(error)
            return
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)
