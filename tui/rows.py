"""One line per row of the frame stream: time, charger, direction, type, action, latency, badge, id, summary.

Only the rows on screen are ever drawn, and each reads its record back from the capture (a few microseconds),
so a row costs nothing until it is looked at. Column widths follow the terminal: at 80 columns the message id
goes and the summary keeps what is left.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from ocppscope.tui.index import (
    CALL,
    CLOSE,
    ERROR,
    FRAME_KINDS,
    FROM_BACKEND,
    FROM_CHARGER,
    GAP,
    INVALID,
    KIND_NAMES,
    OPEN,
    PING,
    PONG,
    RESULT,
    FrameIndex,
)
from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style

SEVERITY_STYLES = {3: Style(color="red", bold=True), 2: Style(color="yellow", bold=True), 1: Style(color="cyan")}
SEVERITY_LETTERS = {3: "E", 2: "W", 1: "i"}
KIND_STYLES = {CALL: Style(color="bright_white", bold=True), RESULT: Style(color="green"),
               ERROR: Style(color="red"), INVALID: Style(color="red", reverse=True),
               OPEN: Style(color="blue", bold=True), CLOSE: Style(color="magenta", bold=True)}
ARROWS = {FROM_CHARGER: "→", FROM_BACKEND: "←"}
DIM = Style(dim=True)
_STAR = Style(color="yellow")
_INJECTED_MARKS = {"call": "»", "answer": "«"}
_CACHE_ROWS = 4096


def clock(when: float, millis: bool = True) -> str:
    """Local wall-clock time of ``when``, as a field engineer reads it off the charger's display."""
    text = time.strftime("%H:%M:%S", time.localtime(when))
    return text + f".{int(when % 1 * 1000):03d}" if millis else text


def full_time(when: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(when)) + f".{int(when % 1 * 1000):03d} " + \
        time.strftime("%Z", time.localtime(when))


def latency_text(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 10:
        return f"{seconds * 1000:.0f}ms"
    return f"{seconds:.1f}s"


def summarise(value: Any, width: int = 200) -> str:
    """A one-line ``key=value`` summary of a payload: scalars shown, objects and lists abbreviated."""
    if isinstance(value, dict):
        parts = []
        length = 0
        for key, item in value.items():
            part = f"{key}={_short(item)}"
            parts.append(part)
            length += len(part) + 1
            if length > width:
                break
        return " ".join(parts)
    return _short(value)


def _short(value: Any) -> str:
    if isinstance(value, dict):
        if not value:
            return "{}"
        inner = summarise(value, 60)
        return "{" + (inner if len(inner) <= 60 else inner[:59] + "…") + "}"
    if isinstance(value, list):
        return f"[{len(value)}]" if value else "[]"
    if isinstance(value, str):
        return value if len(value) <= 40 else value[:39] + "…"
    return orjson.dumps(value).decode()


@dataclass(frozen=True, slots=True)
class RowFacts:
    """What a row's record says that the index does not keep: the message id and the summary."""

    message_id: str
    summary: str


def record_facts(kind: int, record: dict[str, Any]) -> RowFacts:
    if kind in FRAME_KINDS:
        text = record.get("text")
        if text is None:
            return RowFacts("", f"binary {len(record.get('b64', '')) * 3 // 4} B")
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError:
            return RowFacts("", text.replace("\n", "⏎"))
        if type(value) is not list or len(value) < 2:
            return RowFacts("", text.replace("\n", "⏎"))
        message_id = value[1] if isinstance(value[1], str) else orjson.dumps(value[1]).decode()
        if value[0] == 4 and len(value) >= 4:  # CALLERROR: code and description say more than the details
            return RowFacts(message_id, f"{value[2]} {value[3]!s} {summarise(value[4]) if len(value) > 4 else ''}")
        return RowFacts(message_id, summarise(value[-1]))
    if kind == OPEN:
        status = record.get("status")
        if status == 101:
            summary = f"from {record.get('client') or '?'} {record.get('path', '')}"
        else:
            summary = f"refused {status or 'no answer'} {record.get('error') or ''} {record.get('path', '')}"
        return RowFacts("", summary)
    if kind == CLOSE:
        reason = record.get("reason") or ""
        code = record.get("code")
        return RowFacts("", f"{code if code is not None else 'no code'} {reason!r} by {record.get('closed_by')}")
    if kind in (PING, PONG):
        return RowFacts("", f"{len(record.get('b64', '')) * 3 // 4} B")
    if kind == GAP:
        return RowFacts("", f"{record.get('frames')} event(s) relayed but not recorded: {record.get('reason') or ''}")
    return RowFacts("", "")


class RowPainter:
    """Builds the styled line of a row; caches what it read from the capture."""

    def __init__(self, index: FrameIndex, injected: Mapping[int, str] | None = None) -> None:
        self.index = index
        self.injected = injected if injected is not None else index.injected
        """Rows of injected CALLs ("call") and their held-back answers ("answer"), marked » and «: those a live
        session saw injected, else those the capture recorded as such."""
        self._facts: OrderedDict[int, RowFacts] = OrderedDict()

    def facts(self, row: int) -> RowFacts:
        facts = self._facts.get(row)
        if facts is None:
            try:
                facts = record_facts(self.index.kind[row], self.index.record(row))
            except (OSError, ValueError) as exc:
                facts = RowFacts("", f"(cannot read this record: {exc})")
            self._facts[row] = facts
            if len(self._facts) > _CACHE_ROWS:
                self._facts.popitem(last=False)
        else:
            self._facts.move_to_end(row)
        return facts

    def segments(self, row: int, width: int, *, bookmarked: bool = False, style: Style | None = None
                 ) -> list[Segment]:
        """The line of ``row`` as styled segments, ``width`` cells wide (``style`` over all of it, e.g. the
        cursor). Built directly, not through rich Text: the screen redraws every visible line on each batch."""
        index = self.index
        kind = index.kind[row]
        facts = self.facts(row)
        severity = index.severity[row]
        wide = width >= 120
        action = self._action_column(row, kind)
        findings = index.findings_of(row)
        if findings:
            letter = SEVERITY_LETTERS[severity]
            badge = (f"{letter}{len(findings)}" if len(findings) < 10 else f"{letter}+").ljust(2) + " "
        else:
            badge = "   "
        arrow = ARROWS.get(index.direction[row], "⇄" if kind == OPEN else "✕" if kind == CLOSE else " ")
        name = KIND_NAMES[kind].upper() if kind in (OPEN, CLOSE) else KIND_NAMES[kind]
        parts: list[tuple[str, Style | None]] = [
            ("★" if bookmarked else _INJECTED_MARKS.get(self.injected.get(row, ""), " "), _STAR),
            (clock(index.time[row]) + " ", DIM),
            (_fit(index.charger_of(row) or "?", _grown(index.longest_charger, 12 if wide else 8, width // 6)) + " ",
             None),
            (arrow + " ", None),
            (_fit(name, 6) + " ", KIND_STYLES.get(kind)),
            (_fit(action, _grown(index.longest_action, 24 if wide else 17, width // 4)) + " ",
             SEVERITY_STYLES.get(severity) if severity >= 2 else None),
            (_fit(latency_text(index.latency_of(row)), 6, right=True) + " ", DIM),
            (badge, SEVERITY_STYLES.get(severity) if findings else None),
        ]
        if wide:
            parts.append((_fit(facts.message_id, 14) + " ", DIM))
        room = width - sum(cell_len(text) for text, _ in parts)
        summary = facts.summary
        if cell_len(summary) > room:
            summary = set_cell_size(summary, room - 1) + "…" if room > 0 else ""
        parts.append((summary, None))
        segments = [Segment(text, style + part_style if style and part_style else part_style or style)
                    for text, part_style in parts]
        used = width - room + cell_len(summary)
        if used < width:
            segments.append(Segment(" " * (width - used), style))
        return segments

    def plain(self, row: int, width: int = 200) -> str:
        return "".join(segment.text for segment in self.segments(row, width))

    def _action_column(self, row: int, kind: int) -> str:
        index = self.index
        if kind == OPEN:
            info = index.conn_info(row)
            return f"{info.status} {info.subprotocol or ''}".strip()
        if kind in (PING, PONG, GAP):
            return ""
        return index.action_of(row)


def _grown(longest: int, least: int, most: int) -> int:
    """A column as wide as its widest value, never narrower than ``least`` nor wider than ``most`` (a share of
    the view) unless ``least`` is."""
    return max(least, min(longest, most))


def _fit(text: str, width: int, *, right: bool = False) -> str:
    if len(text) > width:
        return text[: width - 1] + "…"
    return text.rjust(width) if right else text.ljust(width)
