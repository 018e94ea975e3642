"""The chargers, findings and handshakes views: small tables and a tree, rebuilt from the index when it changed.

They show what happened below the playhead (live: everything so far). Each carries ``row`` data so that
selecting an entry jumps to its frame in the frame stream.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from ocppscope.proxy.core.findings import RULES, Finding, Severity
from ocppscope.tui.chargers import charger_rows
from ocppscope.tui.describe import handshake_view
from ocppscope.tui.index import FrameIndex, PlacedFinding
from ocppscope.tui.rows import SEVERITY_STYLES, clock
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import DataTable, Static, Tree
from textual.widgets.tree import TreeNode

_SEVERITY_CODE = {Severity.INFO: 1, Severity.WARNING: 2, Severity.ERROR: 3}
LEAVES_SHOWN = 500
HANDSHAKES_SHOWN = 5000


def _counts(findings: dict[Severity, int]) -> Text:
    text = Text()
    for severity, letter in ((Severity.ERROR, "E"), (Severity.WARNING, "W"), (Severity.INFO, "i")):
        count = findings.get(severity, 0)
        text.append(f"{letter}{count:<4}", SEVERITY_STYLES[_SEVERITY_CODE[severity]] if count else "dim")
    return text


class ChargersView(DataTable):
    """Identity, profile, connection state, since, reconnects, frames, findings, last close."""

    class Chosen(Message):
        def __init__(self, identity: str, open_row: int | None) -> None:
            super().__init__()
            self.identity = identity
            self.open_row = open_row

    def __init__(self, index: FrameIndex, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.index = index
        self._shown: tuple[object, ...] | None = None
        self._seen: tuple[int, int] | None = None
        self._open_rows: dict[str, int | None] = {}

    def on_mount(self) -> None:
        self.add_columns("charger", "profile", "state", "since", "reconn", "frames", "findings E/W/i",
                         "version", "last close")

    def update_from(self, limit: int) -> None:
        seen = (self.index.version, limit)
        if seen == self._seen:
            return
        self._seen = seen
        rows = charger_rows(self.index, limit)
        key = tuple((r.identity, r.state, r.since, r.connections, r.frames, tuple(sorted(r.findings.items())),
                     r.profile, r.last_close) for r in rows)
        if key == self._shown:
            return
        self._shown = key
        selected = self._selected_identity()
        self.clear()
        self._open_rows = {}
        for charger in rows:
            state_style = "green" if charger.state.startswith("connected") else \
                "red" if charger.state.startswith("refused") else "yellow"
            self.add_row(
                Text(charger.identity, "bold"),
                charger.profile or "—",
                Text(charger.state, state_style),
                clock(charger.since, millis=False) if charger.since else "",
                str(charger.reconnects),
                f"{charger.frames:,}",
                _counts(charger.findings),
                charger.subprotocol or "",
                charger.last_close,
                key=charger.identity,
            )
            self._open_rows[charger.identity] = charger.last_open_row
        if selected is not None and selected in self._open_rows:
            self.move_cursor(row=self.get_row_index(selected))

    def _selected_identity(self) -> str | None:
        if not self.row_count:
            return None
        try:
            return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except Exception:  # an empty or rebuilt table has no such cell
            return None

    def selected(self) -> tuple[str, int | None] | None:
        identity = self._selected_identity()
        return (identity, self._open_rows.get(identity)) if identity is not None else None

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        identity = event.row_key.value
        if identity is not None:
            self.post_message(self.Chosen(identity, self._open_rows.get(identity)))


@dataclass(frozen=True)
class _Group:
    rule: str
    charger: str | None


class FindingsView(Tree[object]):
    """All findings, grouped by rule and then charger; selecting one jumps to its frame."""

    class Chosen(Message):
        def __init__(self, placed: PlacedFinding) -> None:
            super().__init__()
            self.placed = placed

    def __init__(self, index: FrameIndex, *, id: str | None = None) -> None:
        super().__init__("findings", id=id)
        self.index = index
        self.show_root = False
        self._shown: tuple[int, int] | None = None
        self._groups: dict[_Group, list[PlacedFinding]] = {}

    def update_from(self, limit: int) -> None:
        placed = self.index.placed
        count = len(placed)
        if self._shown == (count, limit):
            return
        self._shown = (count, limit)
        complete = limit >= self.index.count
        visible = [p for p in placed[:count] if (p.row is None and complete) or (p.row is not None and p.row < limit)]
        groups: dict[_Group, list[PlacedFinding]] = defaultdict(list)
        for item in visible:
            groups[_Group(item.finding.rule, item.finding.charger)].append(item)
        self._groups = groups
        expanded = {node.data for node in self._all_nodes() if node.is_expanded and node.data is not None}
        self.clear()
        by_rule: dict[str, list[_Group]] = defaultdict(list)
        for group in groups:
            by_rule[group.rule].append(group)
        order = sorted(by_rule, key=lambda rule: (-max(groups[g][0].finding.severity for g in by_rule[rule]), rule))
        for rule in order:
            members = by_rule[rule]
            total = sum(len(groups[g]) for g in members)
            severity = max(groups[g][0].finding.severity for g in members)
            title = RULES[rule].title if rule in RULES else ""
            label = Text()
            label.append(f"{str(severity).upper():<8}", SEVERITY_STYLES[_SEVERITY_CODE[severity]])
            label.append(f"{rule} ", "bold")
            label.append(f"×{total}  ", "bold")
            label.append(title, "italic")
            rule_node = self.root.add(label, data=rule, expand=rule in expanded)
            for group in sorted(members, key=lambda g: g.charger or ""):
                items = groups[group]
                charger_label = Text(f"{group.charger or '(no charger)'} ×{len(items)}")
                node = rule_node.add(charger_label, data=group, expand=False)
                node.allow_expand = True
                if group in expanded:
                    self._fill(node, group)
                    node.expand()
        self.root.expand()
        if self.cursor_line < 0 and self.root.children:
            self.cursor_line = 0

    def _all_nodes(self) -> list[TreeNode[object]]:
        nodes = []
        stack = list(self.root.children)
        while stack:
            node = stack.pop()
            nodes.append(node)
            stack.extend(node.children)
        return nodes

    def _fill(self, node: TreeNode[object], group: _Group) -> None:
        if node.children:
            return
        items = self._groups.get(group, [])
        for item in items[:LEAVES_SHOWN]:
            finding = item.finding
            label = Text()
            label.append(clock(finding.time) + " " if finding.time else "", "dim")
            label.append(finding.message)
            node.add_leaf(label, data=item)
        if len(items) > LEAVES_SHOWN:
            node.add_leaf(Text(f"… {len(items) - LEAVES_SHOWN} more: filter with rule == \"{group.rule}\"",
                               "dim"))

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[object]) -> None:
        if isinstance(event.node.data, _Group):
            self._fill(event.node, event.node.data)

    def on_tree_node_selected(self, event: Tree.NodeSelected[object]) -> None:
        if isinstance(event.node.data, PlacedFinding):
            event.stop()
            self.post_message(self.Chosen(event.node.data))

    def first_finding(self) -> Finding | None:
        placed = self.index.placed
        return placed[0].finding if placed else None


class HandshakesView(Widget):
    """Every handshake (refused ones too) and, beside it, the one under the cursor in full."""

    DEFAULT_CSS = """
    HandshakesView { layout: vertical; }
    HandshakesView > Horizontal { height: 1fr; }
    HandshakesView #handshake-list { width: 1fr; min-width: 40; }
    HandshakesView #handshake-detail { width: 2fr; border-left: solid $primary; padding: 0 1; }
    HandshakesView.narrow > Horizontal { layout: vertical; }
    HandshakesView.narrow #handshake-list { height: 40%; width: 1fr; }
    HandshakesView.narrow #handshake-detail { border-left: none; border-top: solid $primary; width: 1fr; }
    """

    def __init__(self, index: FrameIndex, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.index = index
        self._shown: tuple[int, int, int] | None = None
        self._conn_numbers: list[int] = []

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield DataTable(id="handshake-list", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="handshake-detail"):
                yield Static(Text("no handshake yet", style="dim"), id="handshake-text")

    def on_mount(self) -> None:
        self.query_one("#handshake-list", DataTable).add_columns("time", "charger", "status", "subprotocol",
                                                                 "findings")

    def on_resize(self) -> None:
        self.set_class(self.size.width < 110, "narrow")

    def update_from(self, limit: int) -> None:
        index = self.index
        opened = [number for number, info in enumerate(list(index.conns))
                  if info.open_row is not None and info.open_row < limit][-HANDSHAKES_SHOWN:]
        key = (len(opened), opened[-1] if opened else -1, len(index.placed))
        if key == self._shown:
            return
        self._shown = key
        table = self.query_one("#handshake-list", DataTable)
        cursor = table.cursor_row
        table.clear()
        self._conn_numbers = opened
        for number in opened:
            info = index.conns[number]
            row = info.open_row
            assert row is not None
            findings = index.findings_of(row)
            status_style = "green" if info.status == 101 else "bold red"
            table.add_row(clock(index.time[row]), info.charger or "?", Text(str(info.status or "—"), status_style),
                          info.subprotocol or "—", str(len(findings)) if findings else "", key=str(number))
        if opened:
            table.move_cursor(row=min(cursor, len(opened) - 1) if cursor >= 0 else len(opened) - 1)
            self._show(table.cursor_row)

    def select_conn(self, conn_number: int) -> None:
        if conn_number in self._conn_numbers:
            table = self.query_one("#handshake-list", DataTable)
            table.move_cursor(row=self._conn_numbers.index(conn_number))
            self._show(table.cursor_row)

    def selected_open_row(self) -> int | None:
        table = self.query_one("#handshake-list", DataTable)
        if not self._conn_numbers or table.cursor_row < 0:
            return None
        return self.index.conns[self._conn_numbers[table.cursor_row]].open_row

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._show(event.cursor_row)

    def _show(self, position: int) -> None:
        if 0 <= position < len(self._conn_numbers):
            info = self.index.conns[self._conn_numbers[position]]
            self.query_one("#handshake-text", Static).update(handshake_view(self.index, info))
