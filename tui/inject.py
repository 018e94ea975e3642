"""The inject screen: send a CALL to the charger or the backend on a live connection, from a template.

The CALL is checked first by the analyzer's own rules (schema, direction, the charger's profile); errors must be
confirmed by sending again. The proxy holds the answer back from the other side, and it is shown here.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, ClassVar

import orjson
from ocppscope.proxy.core.findings import Severity
from ocppscope.proxy.core.protocol import version_of_subprotocol
from ocppscope.tui.describe import findings_table, pretty_json
from ocppscope.tui.templates import payload, templates_for
from ocppscope.tui.validation import check_call
from rich.console import Group
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, OptionList, RadioButton, RadioSet, Select, Static, TextArea

if TYPE_CHECKING:
    from ocppscope.tui.live import LiveSession


class InjectScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "send", "send"),
        Binding("escape", "app.pop_screen", "close"),
    ]
    DEFAULT_CSS = """
    InjectScreen { align: center middle; }
    InjectScreen > Vertical { width: 100%; max-width: 120; height: 100%; max-height: 40; background: $surface;
                              border: thick $accent; padding: 0 1; }
    InjectScreen #inject-head { height: auto; }
    InjectScreen #inject-to { height: auto; width: 1fr; }
    InjectScreen #inject-body { height: 1fr; min-height: 8; }
    InjectScreen #inject-templates { width: 26; height: 1fr; }
    InjectScreen #inject-payload { width: 1fr; height: 1fr; }
    InjectScreen #inject-result { height: auto; max-height: 12; }
    """

    def __init__(self, session: LiveSession, row: int | None, spec: object | None = None) -> None:
        super().__init__()
        self.session = session
        self.index = session.index
        self.spec = spec
        self._connections = self._open_connections()
        start = self.index.conn[row] if row is not None else None
        self.conn_no: int | None = start if start in self._connections else (
            self._connections[-1] if self._connections else None)
        self.to = "charger"
        self.action = ""
        self.message_id: str | None = None
        self._confirm_errors = False
        self._answer_timer = None

    def _open_connections(self) -> list[int]:
        return [number for number, info in enumerate(list(self.index.conns))
                if info.status == 101 and info.open_row is not None and info.close_row is None]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text("Inject a CALL on a live connection", "bold"), id="inject-title")
            with Horizontal(id="inject-head"):
                options = [(self._conn_label(n), n) for n in self._connections]
                yield Select(options, value=self.conn_no if self.conn_no is not None else Select.BLANK,
                             prompt="connection", id="inject-conn", allow_blank=self.conn_no is None)
                with RadioSet(id="inject-to"):
                    yield RadioButton("to the charger", value=True, id="to-charger")
                    yield RadioButton("to the backend", id="to-backend")
            with Horizontal(id="inject-body"):
                yield OptionList(id="inject-templates")
                yield TextArea("{}", id="inject-payload", language=None, soft_wrap=True)
            with VerticalScroll(id="inject-result"):
                yield Static(Text("choose a template, edit the payload, Ctrl+S sends", style="dim"),
                             id="inject-status")
            yield Footer()

    def on_mount(self) -> None:
        if self.conn_no is None:
            self.query_one("#inject-status", Static).update(Text("no connection is open: nothing to inject into",
                                                                 "bold red"))
        self._fill_templates()

    def _conn_label(self, number: int) -> str:
        info = self.index.conns[number]
        return f"{info.charger or '?'} · {info.conn_id} · {info.subprotocol or '?'}"

    @property
    def version(self) -> str | None:
        if self.conn_no is None:
            return None
        return version_of_subprotocol(self.index.conns[self.conn_no].subprotocol)

    def _fill_templates(self) -> None:
        options = self.query_one("#inject-templates", OptionList)
        options.clear_options()
        names = list(templates_for(self.version, self.to))
        options.add_options(names)
        if names:
            options.highlighted = 0
            self._take_template(names[0])

    def _take_template(self, action: str) -> None:
        self.action = action
        body = orjson.dumps(payload(self.version, self.to, action), option=orjson.OPT_INDENT_2).decode()
        self.query_one("#inject-payload", TextArea).text = body
        self._confirm_errors = False

    @on(OptionList.OptionHighlighted, "#inject-templates")
    def _template_chosen(self, event: OptionList.OptionHighlighted) -> None:
        self._take_template(str(event.option.prompt))

    @on(RadioSet.Changed, "#inject-to")
    def _direction_chosen(self, event: RadioSet.Changed) -> None:
        self.to = "charger" if event.radio_set.pressed_index == 0 else "backend"
        self._fill_templates()

    @on(Select.Changed, "#inject-conn")
    def _connection_chosen(self, event: Select.Changed) -> None:
        if isinstance(event.value, int):
            self.conn_no = event.value
            self._fill_templates()

    def frame_text(self) -> str | None:
        status = self.query_one("#inject-status", Static)
        try:
            body = orjson.loads(self.query_one("#inject-payload", TextArea).text or "{}")
        except orjson.JSONDecodeError as exc:
            status.update(Text(f"the payload is not valid JSON: {exc}", "bold red"))
            return None
        if not isinstance(body, dict):
            status.update(Text("the payload must be a JSON object", "bold red"))
            return None
        if self.message_id is None:
            self.message_id = f"ocppscope-{uuid.uuid4().hex[:12]}"
        return orjson.dumps([2, self.message_id, self.action, body]).decode()

    async def action_send(self) -> None:
        status = self.query_one("#inject-status", Static)
        if self.conn_no is None or not self.action:
            status.update(Text("choose an open connection and a template first", "bold red"))
            return
        text = self.frame_text()
        if text is None:
            return
        findings = check_call(self.index, self.conn_no, self.to, text, self.spec)  # type: ignore[arg-type]
        errors = [f for f in findings if f.severity >= Severity.ERROR]
        if errors and not self._confirm_errors:
            self._confirm_errors = True
            status.update(Group(Text("the proxy would report these; Ctrl+S again sends it anyway", "bold yellow"),
                                findings_table(findings)))
            return
        info = self.index.conns[self.conn_no]
        error = await self.session.inject(info.conn_id, self.to, text)
        if error is not None:
            status.update(Text(f"not sent: {error}", "bold red"))
            return
        sent_id = self.message_id
        self.message_id = None
        self._confirm_errors = False
        parts = [Text(f"sent {self.action} (id {sent_id}) to the {self.to}; waiting for the answer, which the "
                      f"{'backend' if self.to == 'charger' else 'charger'} will not see", "green")]
        if findings:
            parts.append(findings_table(findings))
        status.update(Group(*parts))
        self._watch_answer(info.conn_id, str(sent_id))

    def _watch_answer(self, conn_id: str, message_id: str) -> None:
        if self._answer_timer is not None:
            self._answer_timer.stop()

        def look() -> None:
            row = self.find_answer(conn_id, message_id)
            if row is None:
                return
            if self._answer_timer is not None:
                self._answer_timer.stop()
            record = self.index.record(row)
            self.query_one("#inject-status", Static).update(Group(
                Text(f"answer to {message_id} (held back from the other side):", "bold green"),
                pretty_json(record.get("text", "")), findings_table(list(self.index.findings_of(row)))))

        self._answer_timer = self.set_interval(0.2, look)

    def find_answer(self, conn_id: str, message_id: str) -> int | None:
        from ocppscope.tui.filters import message_id as id_of

        for row, kind in list(self.session.injected.items()):
            if kind == "answer" and self.index.conns[self.index.conn[row]].conn_id == conn_id and \
                    id_of(self.index.record(row)) == message_id:
                return row
        return None
