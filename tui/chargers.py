"""The chargers table: what each charger is doing at the playhead (live: now), from the index alone."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ocppscope.proxy.core.findings import Severity
from ocppscope.tui.index import FrameIndex

PROFILE_RULE = "profile.selected"


@dataclass
class ChargerRow:
    identity: str
    state: str = "never connected"
    since: float | None = None
    connections: int = 0
    refused: int = 0
    frames: int = 0
    findings: Counter[Severity] = field(default_factory=Counter)
    profile: str | None = None
    subprotocol: str | None = None
    last_close: str = ""
    conn_ids: list[str] = field(default_factory=list)
    last_open_row: int | None = None

    @property
    def reconnects(self) -> int:
        return max(0, self.connections - 1)


def charger_rows(index: FrameIndex, limit: int) -> list[ChargerRow]:
    """One row per charger identity seen below row ``limit``, sorted by identity."""
    rows: dict[str, ChargerRow] = {}
    complete_view = limit >= index.count
    frames_by_conn: Counter[int] = Counter() if complete_view else Counter(index.conn[:limit])
    for number, info in enumerate(list(index.conns)):
        unseen_handshake = info.open_row is None
        if unseen_handshake and not (info.frames and complete_view):
            continue
        if not unseen_handshake and info.open_row >= limit:  # type: ignore[operator]
            continue
        identity = info.charger or "?"
        row = rows.get(identity)
        if row is None:
            row = rows[identity] = ChargerRow(identity)
        row.conn_ids.append(info.conn_id)
        row.frames += info.frames if complete_view else frames_by_conn[number]
        if info.status != 101:
            row.refused += 1
            if row.state != "connected":
                row.state = f"refused {info.status or 'no answer'}"
            continue
        row.connections += 1
        row.subprotocol = info.subprotocol
        row.last_open_row = info.open_row
        closed = info.close_row is not None and info.close_row < limit
        if unseen_handshake and not closed:
            row.state = "connected (handshake not seen)"
        elif closed:
            row.state = "disconnected"
            row.since = index.time[info.close_row]  # type: ignore[index]
            row.last_close = close_text(index, info.close_row)  # type: ignore[arg-type]
        else:
            row.state = "connected"
            row.since = index.time[info.open_row] if info.open_row is not None else None
    for placed in list(index.placed):
        if placed.row is not None and placed.row >= limit:
            continue
        if placed.row is None and not complete_view:
            continue
        finding = placed.finding
        row = rows.get(finding.charger or "?")
        if row is None:
            continue
        row.findings[finding.severity] += 1
        if finding.rule == PROFILE_RULE:
            row.profile = finding.evidence.get("profile") or "none"
    return [rows[key] for key in sorted(rows)]


def close_text(index: FrameIndex, row: int) -> str:
    try:
        record = index.record(row)
    except (OSError, ValueError):
        return "?"
    code = record.get("code")
    reason = record.get("reason") or ""
    return f"{code if code is not None else '—'} {reason}".strip()
