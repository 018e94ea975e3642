"""Connections for inputs that only know frames per charger (Open OCPP Trace, CSMS logs).

Such inputs never saw the WebSocket handshake. Their connections open with a :class:`ConnectionOpened` that has
no request headers, no client address and status 101: handshake rules have nothing to judge there and must
not treat the missing headers as missing on the wire.
"""

from __future__ import annotations

from urllib.parse import quote

from ocppscope.proxy.core.events import ConnectionClosed, ConnectionOpened, Event

IMPORTED_CLIENT = ""
"""The ``client`` of a connection made up by an importer: the address was never known."""


class SyntheticConnections:
    """Which connection each charger (or log session) is on, and the sequence numbers of imported events."""

    def __init__(self) -> None:
        self._open: dict[str, str] = {}
        self._opened_per_key: dict[str, int] = {}
        self._seq = 0
        self.assumed_zone: str | None = None
        """Put on each connection opened: the zone the input's times were read in when it printed none."""

    def next_seq(self, seq: int | None = None) -> int:
        """``seq`` when the input kept one, else the next number after every one given out so far."""
        if seq is None:
            seq = self._seq + 1
        self._seq = max(self._seq, seq)
        return seq

    def current(self, key: str) -> str | None:
        return self._open.get(key)

    def conn_for(self, key: str, charger: str | None, time: float, subprotocol: str | None = None,
                 out: list[Event] | None = None, conn_id: str | None = None) -> str:
        """The connection ``key`` is on, opening one (appended to ``out``) if there is none."""
        current = self._open.get(key)
        if current is None:
            opened = self.open(key, charger, time, subprotocol, conn_id)
            if out is not None:
                out.append(opened)
            current = opened.conn_id
        return current

    def open(self, key: str, charger: str | None, time: float, subprotocol: str | None = None,
             conn_id: str | None = None) -> ConnectionOpened:
        """A new connection for ``key`` (a reconnect if it had one)."""
        number = self._opened_per_key.get(key, 0) + 1
        self._opened_per_key[key] = number
        conn_id = conn_id or f"{charger or 'unknown'}#{number}"
        self._open[key] = conn_id
        path = "/" + quote(charger, safe="") if charger else "/"
        return ConnectionOpened(conn_id, time, IMPORTED_CLIENT, path, subprotocol=subprotocol,
                                seq=self.next_seq(), synthetic=True, assumed_zone=self.assumed_zone)

    def adopt(self, key: str, event: ConnectionOpened) -> None:
        """Track ``event`` (a handshake the input did record) as ``key``'s connection."""
        self._opened_per_key[key] = self._opened_per_key.get(key, 0) + 1
        self._open[key] = event.conn_id
        self.next_seq(event.seq)

    def close(self, key: str, time: float, code: int | None = None, reason: str = "",
              note: str | None = None) -> ConnectionClosed | None:
        """The close of ``key``'s connection, or None if it has none open."""
        conn_id = self._open.pop(key, None)
        if conn_id is None:
            return None
        extra = {"imported": note} if note else {}
        return ConnectionClosed(conn_id, time, code, reason, "unknown", self.next_seq(), extra=extra)

    def forget(self, key: str) -> None:
        self._open.pop(key, None)
