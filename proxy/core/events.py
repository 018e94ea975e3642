"""Input events of the inspection core.

Whatever produces traffic (the live mitmproxy addon, a capture reader, an importer) turns it into these
events and feeds them, in order, to :class:`proxy.core.analyzer.Analyzer`. They are plain data: no I/O
object ever reaches the core.

Events are treated as immutable once fed; they are not frozen only because frozen dataclasses cost four times
as much to build, and a capture replay builds a million messages.

``seq`` is the producer's sequence number for the event. The capture format stores it, so a finding's
frame reference means the same record live, in a capture file and in a replay.
Times are seconds since the Unix epoch (float), as the producer observed them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

import msgspec


class Direction(StrEnum):
    """Who sent a frame. The values are the Open OCPP Trace spellings."""

    FROM_CHARGER = "cp-to-csms"
    FROM_BACKEND = "csms-to-cp"

    @property
    def reverse(self) -> Direction:
        return Direction.FROM_BACKEND if self is Direction.FROM_CHARGER else Direction.FROM_CHARGER

    @property
    def arrow(self) -> str:
        """Short form for one-line displays: the charger is always on the left."""
        return "→" if self is Direction.FROM_CHARGER else "←"

    @property
    def sender(self) -> str:
        return "charger" if self is Direction.FROM_CHARGER else "backend"


Headers = tuple[tuple[str, str], ...]
"""HTTP headers in wire order, names as sent (lookups are case-insensitive, see :func:`header`)."""

ClosedBy = Literal["charger", "backend", "proxy", "unknown"]


def header(headers: Headers, name: str) -> str | None:
    """The first value of header ``name`` (case-insensitive), or None."""
    lname = name.lower()
    for key, value in headers:
        if key.lower() == lname:
            return value
    return None


@dataclass(frozen=True, slots=True)
class TlsInfo:
    """What is known of TLS on one leg of the connection."""

    version: str | None = None
    cipher: str | None = None
    sni: str | None = None
    alpn: str | None = None
    peer_certificate_subject: str | None = None
    verified: bool | None = None


@dataclass(frozen=True, slots=True)
class AuthSummary:
    """Facts about a Basic ``Authorization`` header, kept when the capture redacts the password.

    The handshake rules read these instead of the header when the header itself was redacted, so a replay
    judges credentials exactly as the live run did.
    """

    scheme: str | None
    user: str | None = None
    password_bytes: int | None = None
    password_kind: Literal["hex-text", "binary", "text"] | None = None
    password_hmac: str | None = None
    error: str | None = None


@dataclass(slots=True)
class ConnectionOpened:
    """A WebSocket upgrade request and the answer the charger got.

    ``status`` is 101 when the WebSocket opened. Anything else (401, 404, a 502 made by the proxy because the
    backend was unreachable) means no message follows; ``error`` then says why when the proxy knows.
    """

    conn_id: str
    time: float
    client: str
    path: str
    request_headers: Headers = ()
    status: int = 101
    response_headers: Headers = ()
    subprotocol: str | None = None
    upstream: str | None = None
    seq: int = 0
    error: str | None = None
    client_tls: TlsInfo | None = None
    upstream_tls: TlsInfo | None = None
    auth: AuthSummary | None = None
    synthetic: bool = False
    """True when no handshake was seen (an imported log or trace): there is nothing to judge in it."""
    assumed_zone: str | None = None
    """For traffic imported from a log that printed its times without a zone: the zone they were read in
    (``"UTC"``, ``"local (UTC+01:00)"``, a ``--log-timezone`` name). None when times are absolute (live traffic,
    captures, logs that print an offset). Clock rules say they assumed it."""


class Message(msgspec.Struct):
    """One WebSocket data message, exactly as it crossed the proxy.

    A msgspec Struct, not a dataclass like the other events: there is one per frame, and a Struct is built
    in C at a third of the cost. It behaves the same (fields in this order, equality by value); change one
    with ``msgspec.structs.replace``.
    """

    conn_id: str
    time: float
    direction: Direction
    content: bytes
    is_text: bool = True
    seq: int = 0
    redacted: bool = False
    cut: bool = False
    """True when a log importer saw only the start of this frame: the log (journalctl, a terminal, a ticket) cut
    it before its JSON ended. ``content`` is the visible part; the analyzer reads what it can from it."""
    injected: bool = False
    """True for ocppscope's own traffic on this connection: a CALL a user injected from the UI, and the answer
    to it that the proxy held back from the side that did not ask. Replay and diff leave these out."""


@dataclass(slots=True)
class Ping:
    """A WebSocket ping or pong (``pong`` True) where the producer could observe it."""

    conn_id: str
    time: float
    direction: Direction
    data: bytes = b""
    pong: bool = False
    seq: int = 0


@dataclass(slots=True)
class ConnectionClosed:
    """The end of a connection: close code and reason as seen by the proxy, and who started it."""

    conn_id: str
    time: float
    code: int | None = None
    reason: str = ""
    closed_by: ClosedBy = "unknown"
    seq: int = 0
    relayed_code: int | None = None
    """The code the other side actually received when the proxy could not forward ``code`` (1006 → 1000)."""
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Gap:
    """Traffic of one connection that the producer saw but could not pass on: the record has a hole here.

    The live proxy sends one when its analysis process fell behind and events were relayed without being
    analysed or captured; ``frames`` is how many events of this connection are missing (messages, pings, a
    close), and ``since`` when the first of them was relayed.
    """

    conn_id: str
    time: float
    frames: int
    since: float | None = None
    reason: str = ""
    seq: int = 0


Event = ConnectionOpened | Message | Ping | ConnectionClosed | Gap
