"""Heartbeat cadence against the interval the backend gave.

The interval comes from an Accepted BootNotification answer, a ChangeConfiguration of HeartbeatInterval
(1.6) or a SetVariables of OCPPCommCtrlr.HeartbeatInterval (2.x) that the charger accepted. HeartbeatInterval
is an interval of *inactivity*: a charger may skip a heartbeat after other traffic (OCPP 1.6 §4.6), so lateness
is measured from the charger's last frame of any kind, frequency between heartbeats: one per answered Heartbeat
CALL (a CALL sent twice under one id, or resent unanswered, is one heartbeat, not two).
"""

from __future__ import annotations

from typing import Any

from ocppscope.proxy.core.analyzer import Checker, Context
from ocppscope.proxy.core.connection import Connection, PendingCall
from ocppscope.proxy.core.events import ConnectionClosed, Direction
from ocppscope.proxy.core.findings import Severity, rule
from ocppscope.proxy.core.frames import Frame
from ocppscope.proxy.core.payload import field

LATE = rule(
    "heartbeat.late",
    Severity.WARNING,
    "Heartbeat later than the interval the backend set",
    "The charger was silent for more than 1.5 × HeartbeatInterval (+5 s) before this Heartbeat. Backends "
    "that treat silence as offline mark it unavailable; a read deadline equal to the interval drops it.",
    "interval 300 s, Heartbeat 600 s after the charger's previous frame",
)
TOO_FREQUENT = rule(
    "heartbeat.too-frequent",
    Severity.WARNING,
    "Heartbeats more often than the interval the backend set",
    "Heartbeats arrive in less than half the HeartbeatInterval: the charger ignores the interval from the "
    "BootNotification answer or ChangeConfiguration, which costs mobile data and backend load.",
    "interval 300 s, Heartbeats every 60 s",
)

SILENT_BEFORE_CLOSE = rule(
    "heartbeat.silent-before-close",
    Severity.WARNING,
    "Charger silent past its HeartbeatInterval, then the connection closed",
    "The charger sent nothing (no Heartbeat, no other message) for more than 1.5 × HeartbeatInterval (+5 s) and "
    "then the connection ended, whoever closed it. A charger that stops talking has a hung OCPP task or lost its "
    "link; a backend or load balancer that closes silent connections closed this one for that silence. "
    "`ocppscope diagnose` ranks it as the missing-heartbeats cause.",
    "interval 60 s from the BootNotification answer, no frame from the charger for 400 s, closed by the backend",
)

_SLACK = 5.0
_KEY = "heartbeat"


class _Cadence:
    __slots__ = ("interval", "last_heartbeat", "since")

    def __init__(self) -> None:
        self.interval = 0
        self.last_heartbeat: float | None = None
        self.since = 0.0
        """When the current interval took effect: silence before it is not judged against it."""


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


class HeartbeatChecker(Checker):
    name = "heartbeat"
    actions = frozenset({"Heartbeat"})
    result_actions = frozenset({"BootNotification", "ChangeConfiguration", "SetVariables", "Heartbeat"})

    @staticmethod
    def _cadence(conn: Connection) -> _Cadence:
        cadence = conn.data.get(_KEY)
        if cadence is None:
            cadence = conn.data[_KEY] = _Cadence()
        return cadence

    def on_call(self, ctx: Context, conn: Connection, frame: Frame) -> None:
        if ctx.direction is not Direction.FROM_CHARGER or frame.action != "Heartbeat":
            return
        cadence = self._cadence(conn)
        now = ctx.time
        interval = cadence.interval
        if interval > 0:
            # last_from still holds the charger's previous frame: the analyzer updates it after the hooks.
            previous = conn.last_from.get(Direction.FROM_CHARGER, now)
            silence = now - max(previous, cadence.since)
            if silence > 1.5 * interval + _SLACK:
                ctx.emit(LATE,
                         f"Heartbeat after {silence:.0f} s of silence; the backend set HeartbeatInterval {interval} s",
                         {"silence": round(silence, 3), "interval": interval}, action="Heartbeat")

    def _heartbeat_answered(self, conn: Connection, ctx: Context, call: PendingCall) -> None:
        """Frequency is judged per answered Heartbeat CALL, at the time the charger sent it."""
        if call.direction is not Direction.FROM_CHARGER:
            return
        cadence = self._cadence(conn)
        sent = call.time
        interval = cadence.interval
        if interval > 0 and cadence.last_heartbeat is not None and sent - cadence.last_heartbeat < 0.5 * interval:
            ctx.emit(TOO_FREQUENT,
                     f"Heartbeat {sent - cadence.last_heartbeat:.0f} s after the previous one; the backend set "
                     f"HeartbeatInterval {interval} s",
                     {"gap": round(sent - cadence.last_heartbeat, 3), "interval": interval},
                     seq=call.seq, action="Heartbeat")
        cadence.last_heartbeat = sent

    def on_error(self, ctx: Context, conn: Connection, call: PendingCall, frame: Frame) -> None:
        if call.action == "Heartbeat":
            self._heartbeat_answered(conn, ctx, call)

    def on_close(self, ctx: Context, conn: Connection, event: ConnectionClosed) -> None:
        cadence = conn.data.get(_KEY)
        if cadence is None or cadence.interval <= 0:
            return
        interval = cadence.interval
        last = conn.last_from.get(Direction.FROM_CHARGER, conn.opened_at or event.time)
        silence = event.time - max(last, cadence.since)
        if silence <= 1.5 * interval + _SLACK:
            return
        who = f"the {event.closed_by}" if event.closed_by != "unknown" else "an unknown side"
        ctx.emit(SILENT_BEFORE_CLOSE,
                 f"the charger sent nothing for {silence:.0f} s ({silence / interval:.1f} × the HeartbeatInterval "
                 f"{interval} s the backend set), then {who} closed the connection ({event.code or 'no close code'})",
                 {"silence": round(silence, 3), "interval": interval, "closed_by": event.closed_by,
                  "close_code": event.code})

    def on_result(self, ctx: Context, conn: Connection, call: PendingCall, frame: Frame) -> None:
        if call.action == "Heartbeat":
            self._heartbeat_answered(conn, ctx, call)
            return
        payload = frame.payload if isinstance(frame.payload, dict) else {}
        request = call.payload if isinstance(call.payload, dict) else {}
        interval: int | None = None
        if call.action == "BootNotification" and payload.get("status") == "Accepted":
            interval = _int(payload.get("interval"))
        elif call.action == "ChangeConfiguration" and payload.get("status") == "Accepted":
            if str(request.get("key", "")).lower() == "heartbeatinterval":
                interval = _int(request.get("value"))
        elif call.action == "SetVariables":
            interval = _heartbeat_from_set_variables(request, payload)
        if interval is not None:
            cadence = self._cadence(conn)
            if interval != cadence.interval:
                cadence.interval = interval
                # The charger restarts its timer on a new interval: do not judge the gap that straddles it.
                cadence.last_heartbeat = None
                cadence.since = ctx.time


def _heartbeat_from_set_variables(request: dict[str, Any], answer: dict[str, Any]) -> int | None:
    results = answer.get("setVariableResult")
    data = request.get("setVariableData")
    if not isinstance(results, list) or not isinstance(data, list):
        return None
    for item in data:
        if not isinstance(item, dict):
            continue
        if (field(item, "variable", "name") != "HeartbeatInterval"
                or field(item, "component", "name") != "OCPPCommCtrlr"):
            continue
        for result in results:
            if (
                isinstance(result, dict)
                and field(result, "variable", "name") == "HeartbeatInterval"
                and result.get("attributeStatus") == "Accepted"
            ):
                return _int(item.get("attributeValue"))
    return None
