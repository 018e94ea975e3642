"""Rules about connections over time: reconnects per charger, concurrent connections, how each one ended.

Fed by ConnectionOpened / ConnectionClosed only, with the producer's timestamps, so a capture gives the same
findings as the live run. State per charger is bounded (the least recently seen are forgotten).
"""

from __future__ import annotations

from collections import OrderedDict, deque
from typing import Any

from ocppscope.proxy.core.analyzer import Checker, Context
from ocppscope.proxy.core.connection import Connection
from ocppscope.proxy.core.events import ConnectionClosed, ConnectionOpened, Ping
from ocppscope.proxy.core.findings import Severity, rule
from ocppscope.proxy.core.words import duration

RECONNECT = rule(
    "lifecycle.reconnect",
    Severity.INFO,
    "Charger reconnected",
    "Another handshake from a charger seen before, with the count so far and the time since its previous "
    "connection ended. Frequent reconnects point at the close reason of the previous connection.",
    "CP01 connects for the 3rd time, 12 s after its previous connection closed with 1006",
)
RECONNECT_BURST = rule(
    "lifecycle.reconnect-burst",
    Severity.WARNING,
    "Charger reconnects in quick succession",
    "Five or more handshakes within a minute: the charger keeps failing to stay connected (refused "
    "handshake, a backend that closes at once, an unstable network) and is not backing off as OCPP 2.x "
    "asks (RetryBackOffWaitMinimum, doubled after each failure).",
    "CP01: 5 handshakes in 20 s, each answered 401",
)
CONCURRENT = rule(
    "lifecycle.concurrent-connection",
    Severity.ERROR,
    "Two open connections for one charger identity",
    "A new connection opened while the previous one of the same identity is still open: a charger that "
    "reconnects without closing (the backend may still send to the old one), or two devices configured with "
    "the same identity. Backends usually drop one of them.",
    "CP01 connects again while its first connection is open",
)
RETRY_CLOSE = rule(
    "lifecycle.retry-close",
    Severity.WARNING,
    "Connection closed for a restart or overload",
    "1012 service restart or 1013 try again later: the closing side is restarting or overloaded and expects "
    "the charger to reconnect later. Clean closes (1000, 1001, no code) are not findings; the console line "
    "of every close still says who closed, how long it lasted and how long it was idle.",
    "backend closes with 1012 during a deployment",
)
ABNORMAL_CLOSE = rule(
    "lifecycle.abnormal-close",
    Severity.WARNING,
    "Connection dropped without a close frame (1006)",
    "TCP ended without a WebSocket close: network loss, power cut, a process killed, or a NAT, firewall or "
    "load balancer dropping an idle connection (WebSocket pings, WebSocketPingInterval, keep it alive). "
    "A proxy cannot forward 1006: the other side gets a normal 1000 close from ocppscope instead.",
    "backend drops TCP after 300 s idle; the charger receives 1000",
)
ERROR_CLOSE = rule(
    "lifecycle.error-close",
    Severity.ERROR,
    "Connection closed because of an error",
    "A close code that reports a fault: 1002 protocol error, 1003 unsupported data, 1007 invalid payload "
    "(e.g. invalid UTF-8 in a text frame), 1008 policy violation (often a refused identity or credentials "
    "after the handshake), 1009 message too big, 1011 internal error, 1015 TLS failure.",
    "backend closes with 1008 policy violation",
)
APPLICATION_CLOSE = rule(
    "lifecycle.application-close",
    Severity.WARNING,
    "Connection closed with an application-specific code",
    "Codes 3000–4999 mean what the closing application says they mean (often a backend refusing the "
    "charger); look the code and the reason up in the backend's or the charger's documentation.",
    "backend closes with 4001 'unknown charge point'",
)

_CLOSE_WORDS = {
    1000: "normal closure",
    1001: "going away (shutting down or restarting)",
    1002: "protocol error",
    1003: "unsupported data",
    1005: "no status code in the close frame",
    1006: "abnormal closure, no close frame (TCP dropped)",
    1007: "invalid frame payload (e.g. text that is not UTF-8)",
    1008: "policy violation",
    1009: "message too big",
    1010: "a required extension was not negotiated",
    1011: "internal error",
    1012: "service restart",
    1013: "try again later",
    1014: "bad gateway",
    1015: "TLS handshake failure",
}
_CLEAN = {1000, 1001, 1005, None}
_IDLE_TIMEOUT_HINT = 30.0
_BURST_COUNT, _BURST_WINDOW = 5, 60.0
_CHARGERS_KEPT = 10_000


def close_words(code: int | None) -> str:
    """A close code in words, for people."""
    if code is None:
        return "no close code"
    if code in _CLOSE_WORDS:
        return _CLOSE_WORDS[code]
    if 3000 <= code <= 3999:
        return "registered for libraries and frameworks"
    if 4000 <= code <= 4999:
        return "application-specific"
    return "not a registered close code"


class _Charger:
    __slots__ = ("handshakes", "last_close", "open", "recent")

    def __init__(self) -> None:
        self.handshakes = 0
        self.open: set[str] = set()
        self.last_close: float | None = None
        self.recent: deque[float] = deque(maxlen=_BURST_COUNT)


class LifecycleChecker(Checker):
    name = "lifecycle"

    def __init__(self) -> None:
        self._chargers: OrderedDict[str, _Charger] = OrderedDict()

    def _charger(self, identity: str) -> _Charger:
        state = self._chargers.pop(identity, None) or _Charger()
        self._chargers[identity] = state
        if len(self._chargers) > _CHARGERS_KEPT:
            self._chargers.popitem(last=False)
        return state

    def on_open(self, ctx: Context, conn: Connection, event: ConnectionOpened) -> None:
        if not conn.charger:
            return
        state = self._charger(conn.charger)
        state.handshakes += 1
        state.recent.append(event.time)
        if state.handshakes > 1:
            since = event.time - state.last_close if state.last_close is not None else None
            ctx.emit(RECONNECT,
                     f"{conn.charger} handshake #{state.handshakes}"
                     + (f", {duration(since)} after its previous connection closed" if since is not None else ""),
                     {"handshakes": state.handshakes, "since_close": round(since, 3) if since is not None else None,
                      "status": event.status})
        if len(state.recent) == _BURST_COUNT and event.time - state.recent[0] <= _BURST_WINDOW:
            window = event.time - state.recent[0]
            ctx.emit(RECONNECT_BURST, f"{conn.charger}: {_BURST_COUNT} handshakes in {window:.0f} s",
                     {"handshakes": _BURST_COUNT, "window": round(window, 3)})
            state.recent.clear()  # one finding per burst, not one per handshake after it
        if event.status != 101:
            return
        if state.open:
            ctx.emit(CONCURRENT, f"{conn.charger} opened a connection while {len(state.open)} other(s) are "
                     "still open", {"open": sorted(state.open)})
        state.open.add(conn.conn_id)

    def on_ping(self, ctx: Context, conn: Connection, event: Ping) -> None:
        conn.data[self.name] = event.time

    def on_close(self, ctx: Context, conn: Connection, event: ConnectionClosed) -> None:
        if conn.charger:
            state = self._charger(conn.charger)
            state.open.discard(conn.conn_id)
            state.last_close = event.time
        code = event.code
        if code in _CLEAN:
            return
        text, evidence = describe_close(conn, event)
        if code == 1006:
            if evidence["idle"] >= _IDLE_TIMEOUT_HINT:
                text += "; the silence before the drop suggests an idle timeout on the network path"
            ctx.emit(ABNORMAL_CLOSE, text, evidence)
        elif 3000 <= code <= 4999:
            ctx.emit(APPLICATION_CLOSE, text, evidence)
        elif code in (1012, 1013):
            ctx.emit(RETRY_CLOSE, text, evidence)
        else:
            ctx.emit(ERROR_CLOSE, text, evidence)


def describe_close(conn: Connection, event: ConnectionClosed) -> tuple[str, dict[str, Any]]:
    """Who closed, the code in words, how long the connection lasted and was idle; for findings and consoles.

    When the proxy could not forward the code (1006 → 1000), the text says what the other side received.
    """
    opened_at = conn.opened_at if conn.opened_at is not None else event.time
    last_traffic = max(conn.last_from.values(), default=opened_at)
    idle = max(0.0, event.time - last_traffic)
    lasted = max(0.0, event.time - opened_at)
    code = event.code
    evidence: dict[str, Any] = {
        "code": code, "reason": event.reason, "closed_by": event.closed_by, "duration": round(lasted, 3),
        "idle": round(idle, 3), "frames": conn.frames,
    }
    last_ping = conn.data.get(LifecycleChecker.name)
    if last_ping is not None:
        evidence["since_ping"] = round(event.time - last_ping, 3)
    who = {"proxy": "ocppscope", "unknown": "an unknown side"}.get(event.closed_by, f"the {event.closed_by}")
    text = (f"closed by {who} with {code if code is not None else 'no code'} ({close_words(code)})"
            + (f" {event.reason!r}" if event.reason else "")
            + f" after {duration(lasted)}, idle {duration(idle)} before the close")
    if event.relayed_code is not None and event.relayed_code != code:
        evidence["relayed_code"] = event.relayed_code
        other = "charger" if event.closed_by == "backend" else "backend"
        text += f"; the {other} received {event.relayed_code} (a proxy cannot forward {code})"
    return text, evidence
