"""Small wording helpers the cause detectors share."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from statistics import median

from ocppscope.proxy.core.findings import Finding
from ocppscope.proxy.diagnose.model import ConnectionTimeline, FrameRef


def counted(items: Iterable[object]) -> str:
    """``401 ×3, 404`` (most common first)."""
    return ", ".join(f"{item} ×{n}" if n > 1 else f"{item}" for item, n in Counter(items).most_common())


def middle(values: Iterable[float]) -> float:
    values = list(values)
    return median(values) if values else 0.0


def open_ref(conn: ConnectionTimeline) -> FrameRef:
    if conn.opened:
        text = f"connection {conn.conn_id} opened ({conn.subprotocol or 'no subprotocol'})"
    else:
        text = f"upgrade of {conn.conn_id} answered {conn.status or 'not at all'}" + (
            f": {conn.handshake_error}" if conn.handshake_error else "")
    return FrameRef(conn.open_seq, conn.conn_id, conn.opened_at, text)


def close_ref(conn: ConnectionTimeline) -> FrameRef:
    return FrameRef(conn.close_seq, conn.conn_id, conn.closed_at or conn.opened_at,
                    f"{conn.conn_id} {conn.close_text}")


def closed(connections: Iterable[ConnectionTimeline]) -> list[ConnectionTimeline]:
    """Connections that opened and have a close."""
    return [c for c in connections if c.opened and c.closed_at is not None]


def ending(conn: ConnectionTimeline) -> str:
    """``the backend closed with 1013`` — how a connection ended, briefly."""
    who = {"proxy": "ocppscope", "unknown": "an unknown side"}.get(conn.closed_by or "", f"the {conn.closed_by}")
    code = conn.code if conn.code is not None else "no code"
    return f"{who} closed with {code}" + (f" {conn.reason!r}" if conn.reason else "")


def finding_ref(finding: Finding) -> FrameRef:
    """A finding as evidence: its frame, and its message as the description."""
    return FrameRef(finding.seq, finding.conn_id or "", finding.time or 0.0, finding.message)
