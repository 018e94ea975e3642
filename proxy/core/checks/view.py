"""How much of a connection the input shows: its start, and whether the charger booted on it in view.

Rules about messages that refer to earlier ones (a transaction's start, a TriggerMessage) can only call a
reference wrong when the earlier part of the charger's life is in view. A capture begun mid-connection, an
imported log (its connection is synthetic, its first line anywhere in the charger's day) and a reconnect that
resumes a session all legitimately refer to what came before; a connection whose handshake and
BootNotification are both in view started afresh in front of us.
"""

from __future__ import annotations

from ocppscope.proxy.core.connection import Connection

_BOOT = "view.boot"


def start_in_view(conn: Connection) -> bool:
    """The handshake of this connection is in the input (not a capture begun mid-connection, not a log)."""
    opened = conn.opened
    return opened is not None and not opened.synthetic


def where_it_began(conn: Connection) -> str:
    """Why earlier traffic of ``conn`` may be out of view, in words; empty when its start is in view."""
    if conn.opened is None:
        return "the capture began mid-connection"
    if conn.opened.synthetic:
        return "the input is a log, not a capture from the connection's start"
    return ""


def note_boot(conn: Connection, seq: int | None, time: float) -> None:
    """Record the charger's first BootNotification CALL on this connection (every checker that sees one may)."""
    if _BOOT not in conn.data:
        conn.data[_BOOT] = (seq, time)


def fresh_boot(conn: Connection) -> tuple[int | None, float] | None:
    """(seq, time) of the charger's BootNotification when both the handshake and a BootNotification of this
    connection are in view: the charger started afresh in front of us. None otherwise (mid-connection, a log,
    a reconnect without boot, or before the boot)."""
    return conn.data.get(_BOOT) if start_in_view(conn) else None
