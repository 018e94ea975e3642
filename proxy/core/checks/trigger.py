"""TriggerMessage follow-up: after Accepted the requested message must come; a message that says it was
triggered needs a trigger.

1.6 §5.17 (ocpp-facts §6.3): the charger answers TriggerMessage first, then sends the requested message; a
message it sends anyway in normal operation may count. A StatusNotification trigger without connectorId is
answered by one message per connector. 2.x TriggerMessage and the 1.6 security extension's
ExtendedTriggerMessage work alike; their certificate triggers are answered by SignCertificate.
Other checkers ask :func:`was_triggered` whether a charger's message was one a trigger asked for.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ocppscope.proxy.core import payload as p
from ocppscope.proxy.core.analyzer import Checker, Context
from ocppscope.proxy.core.checks import view
from ocppscope.proxy.core.checks.percharger import charger_state
from ocppscope.proxy.core.connection import Connection, PendingCall
from ocppscope.proxy.core.events import ConnectionClosed, Direction, Message
from ocppscope.proxy.core.findings import Severity, rule
from ocppscope.proxy.core.frames import Frame
from ocppscope.proxy.core.words import duration

BOUND = 60.0
"""Seconds after the charger accepted a TriggerMessage by which the requested message must have come."""
SLOW = 10.0
"""Seconds after which a follow-up that did come is reported as late."""

NO_FOLLOW_UP = rule(
    "trigger.no-follow-up",
    Severity.WARNING,
    "Triggered message never came",
    f"The charger answered TriggerMessage Accepted but did not send the requested message within {BOUND:.0f} s, "
    "before the connection closed, or before the capture ended. The backend waits in vain for the status, meter "
    "values or boot it asked for. The finding lists what the charger sent instead, when it sent other messages.",
    'TriggerMessage {"requestedMessage":"MeterValues"} → Accepted, then only Heartbeats for a minute',
)
SLOW_FOLLOW_UP = rule(
    "trigger.slow-follow-up",
    Severity.INFO,
    "Triggered message came late",
    f"The requested message came, but more than {SLOW:.0f} s after the charger accepted the TriggerMessage; the "
    "finding says how long it took. Backends that wait a few seconds for it (to refresh a status screen, to read "
    "a meter before a stop) have given up by then.",
    "TriggerMessage StatusNotification → Accepted, StatusNotification 25 s later",
)
WRONG_MESSAGE = rule(
    "trigger.wrong-message",
    Severity.WARNING,
    "Charger sends a triggered message of another kind than requested",
    "The charger marks a message as triggered (sampled value context Trigger, 2.x triggerReason Trigger) while "
    "the TriggerMessage it accepted asked for a different message, which has not come.",
    'TriggerMessage StatusNotification → Accepted, then MeterValues with context "Trigger"',
)
UNREQUESTED = rule(
    "trigger.unrequested",
    Severity.INFO,
    "Message says it was triggered, with no trigger in view",
    "The charger marks a message as triggered (1.6/2.x sampled value context Trigger, 2.x triggerReason "
    "Trigger), but no accepted TriggerMessage for it is in the input. Info when the trigger may be out of view "
    "(the capture began mid-connection, a log, a reconnect without boot); a warning when the handshake and the "
    "charger's BootNotification are both in view: the firmware labels ordinary messages Trigger, and a backend "
    "that files triggered values apart misfiles them. Reported once per connection and action.",
    '[2,"8","MeterValues",{"connectorId":1,"meterValue":[{"sampledValue":[{"value":"10","context":"Trigger"}],...}]}]',
)

REQUESTED_ACTION: dict[str, str] = {
    "BootNotification": "BootNotification",
    "DiagnosticsStatusNotification": "DiagnosticsStatusNotification",
    "FirmwareStatusNotification": "FirmwareStatusNotification",
    "Heartbeat": "Heartbeat",
    "MeterValues": "MeterValues",
    "StatusNotification": "StatusNotification",
    "LogStatusNotification": "LogStatusNotification",
    "TransactionEvent": "TransactionEvent",
    "PublishFirmwareStatusNotification": "PublishFirmwareStatusNotification",
    "SignChargePointCertificate": "SignCertificate",
    "SignChargingStationCertificate": "SignCertificate",
    "SignV2GCertificate": "SignCertificate",
    "SignV2G20Certificate": "SignCertificate",
    "SignCombinedCertificate": "SignCertificate",
}
"""requestedMessage (1.6, ExtendedTriggerMessage, 2.0.1, 2.1) → the action that answers it."""

_FROM_CHARGER = Direction.FROM_CHARGER
_FROM_BACKEND = Direction.FROM_BACKEND
_TRIGGERS = frozenset({"TriggerMessage", "ExtendedTriggerMessage"})
_CLAIMING = frozenset({"MeterValues", "TransactionEvent"})
"""Actions whose payload can say it was triggered."""
_KEY = "trigger"
_GRACE = 10.0
"""Seconds after a follow-up during which more messages of its kind still count as triggered (one per
connector for a StatusNotification trigger without connectorId)."""
_REMEMBERED = 600.0
"""Seconds a charger's accepted trigger explains a message claiming it on a later connection (a queued one)."""
_AWAITED_KEPT = 16
_INSTEAD_LISTED = 3


def requested_action(request: Any) -> str | None:
    """The action a TriggerMessage/ExtendedTriggerMessage request asks the charger to send, or None."""
    requested = p.text(request, "requestedMessage")
    return REQUESTED_ACTION.get(requested) if requested is not None else None


def _place(action: str | None, body: Any) -> int | None:
    """The connector (1.6) or EVSE (2.x) a trigger asks about or a message is about; None when not said."""
    if action in _TRIGGERS:
        where = p.integer(body, "connectorId")
        return where if where is not None else p.integer(body, "evse", "id")
    where = p.integer(body, "connectorId") if action != "StatusNotification" or "evseId" not in p.obj(body) \
        else None
    if where is None:
        where = p.integer(body, "evseId")
    return where if where is not None else p.integer(body, "evse", "id")


class _Awaited:
    __slots__ = ("action", "answered_at", "call_seq", "instead", "place", "requested")

    def __init__(self, action: str, requested: str, call_seq: int, answered_at: float, place: int | None) -> None:
        self.action = action
        self.requested = requested
        self.call_seq = call_seq
        self.answered_at = answered_at
        self.place = place
        self.instead: list[tuple[str, int | None]] = []
        """The first few other messages the charger sent after accepting."""


class _State:
    __slots__ = ("asked", "awaited", "claimed", "early", "followed")

    def __init__(self) -> None:
        self.asked = 0
        """TriggerMessages of the backend still waiting for the charger's answer."""
        self.awaited: list[_Awaited] = []
        self.followed: dict[str, float] = {}
        """Action → time of its latest follow-up."""
        self.early: set[str] = set()
        """Actions the charger sent while the TriggerMessage for them still waited for its answer."""
        self.claimed: set[str] = set()
        """Actions already reported as claiming a trigger on this connection."""


def _state(conn: Connection) -> _State:
    state = conn.data.get(_KEY)
    if state is None:
        state = conn.data[_KEY] = _State()
    return state


def _asked_before_answer(conn: Connection, action: str) -> bool:
    """A TriggerMessage for ``action`` is still waiting for the charger's answer."""
    return any(call.action in _TRIGGERS and requested_action(call.payload) == action
               for call in conn.pending[_FROM_BACKEND].values())


def was_triggered(conn: Connection, action: str | None, now: float) -> bool:
    """Whether the charger's ``action`` sent at ``now`` is one an accepted trigger on this connection asked
    for: it fulfilled one, follows one closely, or a trigger for it is awaited or not yet answered."""
    if action is None:
        return False
    state = conn.data.get(_KEY)
    if state is None:
        return False
    if state.asked and _asked_before_answer(conn, action):
        return True
    followed = state.followed.get(action)
    if followed is not None and now - followed <= _GRACE:
        return True
    return any(awaited.action == action for awaited in state.awaited)


def _claims_trigger(content: bytes, body: Any) -> bool:
    """The message says it was triggered: 2.x triggerReason Trigger, or a sampled value with context Trigger."""
    if b"Trigger" not in content:
        return False  # the common case, decided without walking the samples
    if p.text(body, "triggerReason") == "Trigger":
        return True
    for meter_value in p.objects(body, "meterValue"):
        for sample in p.objects(meter_value, "sampledValue"):
            if sample.get("context") == "Trigger":
                return True
    return False


class TriggerChecker(Checker):
    name = "trigger"
    actions = frozenset({*REQUESTED_ACTION.values(), *_TRIGGERS})
    result_actions = _TRIGGERS

    def __init__(self) -> None:
        self._accepted: dict[str, dict[str, tuple[float, str]]] = {}
        """Per charger: action → (when, on which connection) an accepted trigger last asked for it."""

    def _accepted_for(self, conn: Connection) -> dict[str, tuple[float, str]]:
        return charger_state(self._accepted, conn, dict)

    def on_result(self, ctx: Context, conn: Connection, call: PendingCall, frame: Frame) -> None:
        if call.direction is not _FROM_BACKEND:
            return
        action = requested_action(call.payload)
        if action is None:
            return
        state = _state(conn)
        state.asked = max(0, state.asked - 1)
        early = action in state.early
        if early:
            state.early.discard(action)
        if p.text(frame.payload, "status") != "Accepted":
            return
        self._accepted_for(conn)[action] = (ctx.time, conn.conn_id)
        if early:
            return  # it came before the answer (the spec wants the answer first; the backend got it anyway)
        state.awaited.append(_Awaited(action, p.text(call.payload, "requestedMessage") or action, call.seq,
                                      ctx.time, _place(call.action, call.payload)))
        if len(state.awaited) > _AWAITED_KEPT:
            del state.awaited[0]

    def on_error(self, ctx: Context, conn: Connection, call: PendingCall, frame: Frame) -> None:
        self._unanswered(conn, call)

    def on_timeout(self, ctx: Context, conn: Connection, call: PendingCall) -> None:
        if call.action in _TRIGGERS:
            self._unanswered(conn, call)

    @staticmethod
    def _unanswered(conn: Connection, call: PendingCall) -> None:
        state = conn.data.get(_KEY)
        if state is not None and call.direction is _FROM_BACKEND:
            state.asked = max(0, state.asked - 1)
            state.early.discard(requested_action(call.payload) or "")

    def on_call(self, ctx: Context, conn: Connection, frame: Frame) -> None:
        action = frame.action
        if ctx.direction is not _FROM_CHARGER:
            if action in _TRIGGERS:
                _state(conn).asked += 1
            return
        if action is None:
            return
        if action == "BootNotification":
            view.note_boot(conn, ctx.seq, ctx.time)
        state: _State | None = conn.data.get(_KEY)
        fulfilled = False
        if state is not None and state.awaited:
            fulfilled = self._follow_up(ctx, conn, state, action, frame.payload)
        if not fulfilled and state is not None and state.asked and _asked_before_answer(conn, action):
            state.early.add(action)
            fulfilled = True
        if not fulfilled and action in _CLAIMING and type(ctx.event) is Message \
                and _claims_trigger(ctx.event.content, frame.payload) and not was_triggered(conn, action, ctx.time):
            self._claim(ctx, conn, action)

    def on_close(self, ctx: Context, conn: Connection, event: ConnectionClosed) -> None:
        state = conn.data.get(_KEY)
        if state is not None and state.awaited:
            self._overdue(ctx, conn, state, "closed")

    def on_finish(self, ctx: Context, open_connections: Sequence[Connection]) -> None:
        for conn in open_connections:
            state = conn.data.get(_KEY)
            if state is not None and state.awaited:
                self._overdue(ctx, conn, state, "ended")

    # -- helpers ---------------------------------------------------------------------------------------

    def _follow_up(self, ctx: Context, conn: Connection, state: _State, action: str, body: Any) -> bool:
        """Match the charger's ``action`` with what it was asked for; True when it is a follow-up."""
        place = None
        for awaited in state.awaited:
            if awaited.action != action:
                continue
            if awaited.place and place is None:
                place = _place(action, body)
            if awaited.place and place is not None and place != awaited.place:
                continue  # another connector's message: the triggered one may still come
            state.awaited.remove(awaited)
            state.followed[action] = ctx.time
            waited = ctx.time - awaited.answered_at
            if waited > SLOW:
                ctx.emit(SLOW_FOLLOW_UP,
                         f"{action} came {duration(waited)} after the charger accepted TriggerMessage "
                         f"{awaited.requested} (#{awaited.call_seq})",
                         {"requested": awaited.requested, "trigger_seq": awaited.call_seq,
                          "waited": round(waited, 3)}, action=action)
            self._overdue(ctx, conn, state, None)
            return True
        for awaited in state.awaited:
            if len(awaited.instead) < _INSTEAD_LISTED:
                awaited.instead.append((action, ctx.seq))
        self._overdue(ctx, conn, state, None)
        return False

    def _overdue(self, ctx: Context, conn: Connection, state: _State, end: str | None) -> None:
        """Report awaited messages past :data:`BOUND`; at ``end`` ("closed", "ended") every one still awaited
        on a closed connection, and those past the bound when the capture ended."""
        now = ctx.time
        for awaited in list(state.awaited):
            waited = now - awaited.answered_at
            if waited < BOUND and end != "closed":
                continue
            state.awaited.remove(awaited)
            text = (f"the charger accepted TriggerMessage {awaited.requested} (#{awaited.call_seq}) but sent no "
                    f"{awaited.action} ")
            text += {"closed": f"before the connection closed {duration(waited)} later",
                     "ended": f"in the {duration(waited)} until the capture ended"}.get(end or "",
                                                                                       f"within {BOUND:.0f} s")
            evidence: dict[str, Any] = {"requested": awaited.requested, "trigger_seq": awaited.call_seq,
                                        "waited": round(waited, 3)}
            if awaited.instead:
                text += "; it sent " + ", ".join(f"{name} (#{seq})" for name, seq in awaited.instead) + " instead"
                evidence["instead"] = [{"action": name, "seq": seq} for name, seq in awaited.instead]
            ctx.emit(NO_FOLLOW_UP, text, evidence, seq=awaited.call_seq, action="TriggerMessage", conn=conn)

    def _claim(self, ctx: Context, conn: Connection, action: str) -> None:
        state = _state(conn)
        if action in state.claimed:
            return
        state.claimed.add(action)
        other = state.awaited[0] if state.awaited else None
        if other is not None:
            ctx.emit(WRONG_MESSAGE,
                     f"{action} is marked as triggered, but the TriggerMessage the charger accepted "
                     f"(#{other.call_seq}) asked for {other.requested}, which has not come",
                     {"requested": other.requested, "trigger_seq": other.call_seq}, action=action)
            return
        accepted = self._accepted_for(conn).get(action)
        if accepted is not None and accepted[1] != conn.conn_id and ctx.time - accepted[0] <= _REMEMBERED:
            return  # triggered shortly before on an earlier connection: a queued triggered message
        boot = view.fresh_boot(conn)
        if boot is not None:
            ctx.emit(UNREQUESTED,
                     f"{action} is marked as triggered, but no TriggerMessage for it was accepted since the charger "
                     f"booted on this connection (#{boot[0]}): the firmware labels ordinary messages Trigger",
                     {"boot_seq": boot[0]}, action=action, severity=Severity.WARNING)
            return
        where = view.where_it_began(conn) or "the charger did not boot on this connection"
        ctx.emit(UNREQUESTED,
                 f"{action} is marked as triggered, with no TriggerMessage for it in view ({where}: it may be out "
                 "of view)", {}, action=action)
