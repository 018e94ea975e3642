"""Pointless retry loops: one CALL sent again and again, unchanged, and refused the same way each time.

Per charger, sender and action, the answered CALLs form a run while each repeats the previous one's payload
(its own timestamp aside: firmware restamps what it resends) and gets the same refusal (a CALLERROR code, or
a status such as Rejected or NotSupported). An accepted answer, another payload or another refusal ends the
run. Runs carry over reconnects: a charger that resends its refused StartTransaction after every reconnect
loops as surely as one that resends it every minute. BootNotification (the boot rules judge its retries) and
Heartbeat (periodic by design) are not retries. Memory: one run per (sender, action) per charger, for a
bounded number of chargers.

``diagnose`` finds the same runs to rank a retry-loop cause; :func:`refusal` and :func:`call_signature` are
the one definition both use.
"""

from __future__ import annotations

from typing import Any

import orjson
from ocppscope.proxy.core.analyzer import Checker, Context
from ocppscope.proxy.core.checks.percharger import charger_state
from ocppscope.proxy.core.connection import Connection, PendingCall
from ocppscope.proxy.core.events import Direction
from ocppscope.proxy.core.findings import Severity, rule
from ocppscope.proxy.core.frames import Frame
from ocppscope.proxy.core.protocol import MessageType

RETRY_LOOP = rule(
    "call.retry-loop",
    Severity.WARNING,
    "The same CALL resent again and again, refused the same way each time",
    "One side sends the same CALL (same action, same payload apart from its timestamp) at least three times in "
    "a row, and every time the other side gives the same refusal: a CALLERROR, Rejected, NotSupported... "
    "Resending a request that was answered cannot change the answer: the sender should act on the answer (only "
    "unanswered transaction messages are retried), and the receiver's refusal is what to fix. Reported once per "
    "run, when it reaches three; an Authorize loop is only an info (a driver presenting a refused card again "
    "looks the same).",
    'StatusNotification {"connectorId":1,"status":"Faulted",...} ×3, every 30 s, answered CALLERROR '
    "FormationViolation each time",
)

LOOP = 3
"""Identical refused CALLs in a row that make a loop."""
_NOT_RETRIES = frozenset({"BootNotification", "Heartbeat"})
_RESTAMPED = ("timestamp", "generatedAt")
_REFUSALS = frozenset({"Rejected", "NotSupported", "NotImplemented", "Invalid", "Blocked", "Expired", "Unknown",
                       "Failed", "UnknownMessageId", "UnknownVendorId", "NotFound", "Unavailable"})
_CALLERROR = MessageType.CALLERROR
_PEOPLE = frozenset({"Authorize"})
"""Actions a person repeats: a loop of them may be a driver, not firmware."""


def refusal(frame: Frame) -> str | None:
    """How ``frame`` refuses the CALL it answers (``CALLERROR <code>``, ``Rejected``...), or None."""
    if frame.message_type is _CALLERROR:
        return f"CALLERROR {frame.error_code}"
    answer = frame.payload
    if type(answer) is not dict:
        return None
    # Every answer passes here: plain lookups, the idTag/idToken status only without a top-level one.
    status = answer.get("status")
    if status is None:
        info = answer.get("idTagInfo")
        if info is None:
            info = answer.get("idTokenInfo")
        status = info.get("status") if type(info) is dict else None
    return status if type(status) is str and status in _REFUSALS else None


def call_signature(payload: Any) -> bytes:
    """What two CALLs must share to be the same request: the payload, keys sorted, its own timestamp aside."""
    body = {k: v for k, v in payload.items() if k not in _RESTAMPED} if type(payload) is dict else payload
    try:
        return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # integers beyond 64 bits, nesting orjson refuses: compare their text instead
        try:
            return repr(body).encode("utf-8", "backslashreplace")
        except RecursionError:
            return b"\0unreadable %d" % id(payload)  # equal to nothing else


class _Run:
    __slots__ = ("answer", "count", "first_seq", "first_time", "reported", "signature")

    def __init__(self, signature: bytes, answer: str, call: PendingCall) -> None:
        self.signature = signature
        self.answer = answer
        self.count = 1
        self.first_seq = call.seq
        self.first_time = call.time
        self.reported = False


class RetryChecker(Checker):
    name = "retries"

    def __init__(self) -> None:
        self._runs: dict[str, dict[tuple[Direction, str], _Run]] = {}

    def on_result(self, ctx: Context, conn: Connection, call: PendingCall, frame: Frame) -> None:
        # Every CALLRESULT passes here, nearly all of them accepting: settle those at once.
        if refusal(frame) is None:
            if self._runs:
                self._end(conn, call)
            return
        self._answered(ctx, conn, call, frame)

    def on_error(self, ctx: Context, conn: Connection, call: PendingCall, frame: Frame) -> None:
        self._answered(ctx, conn, call, frame)

    def _answered(self, ctx: Context, conn: Connection, call: PendingCall, frame: Frame) -> None:
        action = call.action
        if action is None or action in _NOT_RETRIES:
            return
        key = (call.direction, action)
        refused = refusal(frame)
        if refused is None:
            if self._runs:
                self._end(conn, call)
            return
        runs = charger_state(self._runs, conn, dict)
        signature = call_signature(call.payload)
        run = runs.get(key)
        if run is None or run.signature != signature or run.answer != refused:
            runs[key] = _Run(signature, refused, call)
            return
        run.count += 1
        if run.count >= LOOP and not run.reported:
            run.reported = True
            self._report(ctx, call, run)

    def _end(self, conn: Connection, call: PendingCall) -> None:
        """An answer that refuses nothing ends the run of its (sender, action)."""
        charger = conn.charger or conn.conn_id
        runs = self._runs.get(charger)
        if runs and runs.pop((call.direction, call.action), None) is not None and not runs:
            del self._runs[charger]  # so that traffic without refusals finds nothing to look up

    @staticmethod
    def _report(ctx: Context, call: PendingCall, run: _Run) -> None:
        sender = call.direction.sender
        period = (call.time - run.first_time) / (run.count - 1)
        ctx.emit(
            RETRY_LOOP,
            f"the {sender} sent {call.action} {run.count} times with the same payload, one every {period:.0f} s, "
            f"and the {call.direction.reverse.sender} answered {run.answer} each time: resending cannot change "
            "the answer",
            {"action": call.action, "sender": sender, "attempts": run.count, "period": round(period, 3),
             "answer": run.answer, "first_seq": run.first_seq, "call_seq": call.seq},
            seq=call.seq,
            action=call.action,
            severity=Severity.INFO if call.action in _PEOPLE else None,
        )
