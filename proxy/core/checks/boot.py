"""BootNotification rules: what a charger may send before it is Accepted, and how it retries.

OCPP 1.6 §4.2 and 2.0.1 B02/B03 (shared/reference/ocpp-facts.md §6.1): until a BootNotification is Accepted
or Pending the charger sends nothing else; while Pending it sends requests only when triggered; while
Rejected it sends nothing at all until the retry interval has passed, and the backend should not call it.
"""

from __future__ import annotations

from typing import Any

from ocppscope.proxy.core.analyzer import Checker, Context, Inspection
from ocppscope.proxy.core.checks.percharger import charger_state
from ocppscope.proxy.core.connection import Connection, PendingCall
from ocppscope.proxy.core.events import ConnectionOpened, Direction
from ocppscope.proxy.core.findings import Severity, rule
from ocppscope.proxy.core.frames import Frame
from ocppscope.proxy.core.protocol import MessageType

REQUEST_BEFORE_ACCEPTED = rule(
    "boot.request-before-accepted",
    Severity.ERROR,
    "Charger request before its BootNotification was accepted",
    "Until the backend answers BootNotification with Accepted, the charger must not send other requests "
    "(while Pending only those asked for by TriggerMessage). Backends commonly reject or ignore them.",
    'BootNotification sent, then [2,"2","StatusNotification",{...}] before the answer',
)
SENDING_AFTER_REJECTED = rule(
    "boot.sending-after-rejected",
    Severity.ERROR,
    "Charger keeps sending after its BootNotification was rejected",
    "After Rejected the charger must stay silent until the interval the backend gave has passed, then send "
    "a new BootNotification. 2.x backends answer anything else with CALLERROR SecurityError.",
    'BootNotification → Rejected (interval 60), then [2,"3","Heartbeat",{}] 5 s later',
)
RETRY = rule(
    "boot.retry",
    Severity.INFO,
    "BootNotification retried",
    "The charger sent BootNotification again because the previous one was not Accepted (Pending, Rejected "
    "or unanswered). The finding gives the interval between attempts; many retries are a boot loop.",
    "BootNotification → Pending (interval 30), BootNotification again 30 s later",
)
RETRY_TOO_EARLY = rule(
    "boot.retry-too-early",
    Severity.WARNING,
    "BootNotification retried before the interval the backend asked for",
    "When not Accepted, the answer's interval is the minimum wait before the next BootNotification.",
    "BootNotification → Rejected (interval 300), BootNotification again 10 s later",
)
REMOTE_START_WHILE_PENDING = rule(
    "boot.remote-start-while-pending",
    Severity.WARNING,
    "Backend starts or stops a transaction while the charger is Pending",
    "RemoteStart/RemoteStop (2.x: RequestStart/RequestStop) are not allowed while the registration is "
    "Pending; the charger rejects them.",
    'BootNotification → Pending, then [2,"9","RemoteStartTransaction",{"idTag":"A"}]',
)
BACKEND_CALL_WHILE_REJECTED = rule(
    "boot.backend-call-while-rejected",
    Severity.WARNING,
    "Backend calls a charger it rejected",
    "While the registration is Rejected the charger must not answer backend requests, and the backend should "
    "not send any.",
    'BootNotification → Rejected, then [2,"9","GetConfiguration",{}]',
)

_REMOTE_TX = frozenset(
    {"RemoteStartTransaction", "RemoteStopTransaction", "RequestStartTransaction", "RequestStopTransaction"}
)
_KEY = "boot"


class _BootState:
    __slots__ = ("answered_at", "interval", "rejected_until", "status", "triggered")

    def __init__(self) -> None:
        self.rejected_until = 0.0
        """While the charger's registration is Rejected, the end of its retry interval; 0 otherwise."""
        self.status: str | None = None
        """None (no boot seen), "waiting" (sent, unanswered), "Accepted", "Pending", "Rejected", "failed"."""
        self.interval = 0
        self.answered_at = 0.0
        self.triggered: set[str] = set()


class _ChargerBoots:
    """What a charger's earlier BootNotifications were answered, across its connections."""

    __slots__ = ("attempts", "last_interval", "last_sent", "last_status", "retry_after")

    def __init__(self) -> None:
        self.attempts = 0
        self.last_interval = 0
        self.last_sent = 0.0
        self.last_status: str | None = None
        self.retry_after = 0.0


class BootChecker(Checker):
    name = "boot"
    result_actions = frozenset({"BootNotification", "TriggerMessage"})

    def __init__(self) -> None:
        self._chargers: dict[str, _ChargerBoots] = {}

    def _charger(self, conn: Connection) -> _ChargerBoots:
        return charger_state(self._chargers, conn, _ChargerBoots)

    @staticmethod
    def _state(conn: Connection) -> _BootState:
        state = conn.data.get(_KEY)
        if state is None:
            state = conn.data[_KEY] = _BootState()
        return state

    def _boot_sent(self, ctx: Context, conn: Connection, state: _BootState) -> None:
        boots = self._charger(conn)
        now = ctx.time
        if boots.attempts and boots.last_status != "Accepted":
            since = now - boots.last_sent
            previous = boots.last_status or "no answer"
            ctx.emit(RETRY,
                     f"BootNotification attempt {boots.attempts + 1}, {since:.0f} s after the previous one "
                     f"({previous})",
                     {"attempt": boots.attempts + 1, "since_previous": round(since, 3), "previous": previous},
                     action="BootNotification")
            if now < boots.retry_after:
                ctx.emit(RETRY_TOO_EARLY,
                         f"BootNotification retried {boots.retry_after - now:.0f} s too early: the backend "
                         f"answered {previous} with interval {boots.last_interval} s",
                         {"since_previous": round(since, 3), "interval": boots.last_interval},
                         action="BootNotification")
        boots.attempts = boots.attempts + 1 if boots.last_status != "Accepted" else 1
        boots.last_sent = now
        boots.last_status = None
        state.status = "waiting"
        state.rejected_until = 0.0
        state.triggered.clear()

    def on_result(self, ctx: Context, conn: Connection, call: PendingCall, frame: Frame) -> None:
        payload: Any = frame.payload if isinstance(frame.payload, dict) else {}
        state = self._state(conn)
        if call.action == "BootNotification":
            status = payload.get("status")
            interval = payload.get("interval")
            state.status = status if status in ("Accepted", "Pending", "Rejected") else "failed"
            state.interval = interval if isinstance(interval, int) and not isinstance(interval, bool) else 0
            state.answered_at = ctx.time
            boots = self._charger(conn)
            boots.last_status = state.status
            boots.last_interval = state.interval
            boots.retry_after = ctx.time + state.interval if state.status != "Accepted" else 0.0
            state.rejected_until = boots.retry_after if state.status == "Rejected" else 0.0
        elif call.action == "TriggerMessage" and payload.get("status") == "Accepted":
            requested = call.payload.get("requestedMessage") if isinstance(call.payload, dict) else None
            if isinstance(requested, str):
                state.triggered.add(requested)

    def on_error(self, ctx: Context, conn: Connection, call: PendingCall, frame: Frame) -> None:
        if call.action == "BootNotification":
            self._failed(conn)

    def on_timeout(self, ctx: Context, conn: Connection, call: PendingCall) -> None:
        if call.action == "BootNotification":
            self._failed(conn)

    def _failed(self, conn: Connection) -> None:
        self._state(conn).status = "failed"
        self._charger(conn).last_status = "failed"

    def on_open(self, ctx: Context, conn: Connection, event: ConnectionOpened) -> None:
        boots = self._chargers.get(conn.charger or conn.conn_id)
        if boots is not None and boots.last_status == "Rejected" and boots.retry_after > ctx.time:
            # A rejected charger that reconnects is still inside its retry interval.
            self._state(conn).rejected_until = boots.retry_after

    def on_message(self, ctx: Context, conn: Connection, inspection: Inspection) -> None:
        frame = inspection.frame
        state = conn.data.get(_KEY)
        if (frame is None or frame.action != "BootNotification") and (
                state is None or state.status == "Accepted" or (state.status is None and not state.rejected_until)):
            return  # the hot path: a registered charger, or one not booting
        is_call = frame is not None and frame.message_type is MessageType.CALL
        from_charger = ctx.direction is Direction.FROM_CHARGER
        if is_call and from_charger and frame.action == "BootNotification":  # type: ignore[union-attr]
            self._boot_sent(ctx, conn, state or self._state(conn))
            return
        if state is None or state.status == "Accepted" or (state.status is None and not state.rejected_until):
            return  # the hot path: a registered charger
        action = (frame.action if frame is not None else None) or ""
        if from_charger and ctx.time < state.rejected_until:
            ctx.emit(SENDING_AFTER_REJECTED,
                     f"charger sends {action or 'a frame'} {state.rejected_until - ctx.time:.0f} s before the retry "
                     f"interval of its rejected BootNotification ends",
                     {"retry_until": state.rejected_until}, action=action or None)
            return
        if not is_call:
            return
        if not from_charger:
            if state.status == "Pending" and action in _REMOTE_TX:
                ctx.emit(REMOTE_START_WHILE_PENDING,
                         f"backend sends {action} while the charger's registration is Pending", action=action)
            elif state.status == "Rejected":
                ctx.emit(BACKEND_CALL_WHILE_REJECTED,
                         f"backend sends {action} to a charger whose BootNotification it rejected", action=action)
            return
        if state.status in ("waiting", "failed", "Rejected"):
            answer = "answered" if state.status == "waiting" else "accepted"
            ctx.emit(REQUEST_BEFORE_ACCEPTED,
                     f"charger sends {action} before its BootNotification was {answer}", action=action)
        elif state.status == "Pending":
            if action in state.triggered:
                state.triggered.discard(action)
            else:
                ctx.emit(REQUEST_BEFORE_ACCEPTED,
                         f"charger sends {action} while its registration is Pending (not triggered by the backend)",
                         action=action)
