"""Transactions over time: references to transactions no start in view created, starts nobody authorized in
view, and idTags that are not a driver's token.

1.6: StartTransaction's answer creates the transaction id; MeterValues, StopTransaction and
RemoteStopTransaction refer to it (transactionId -1, a charger that never got the answer, errata 3.18, is
:mod:`values`' to report). 2.x: TransactionEvent Started creates the id (the charger makes it); Updated, Ended
and RequestStopTransaction refer to it. State is kept per charger across its connections (transactions
outlive reconnects), bounded.
"""

from __future__ import annotations

import re
from typing import Any

from ocppscope.proxy.core import payload as p
from ocppscope.proxy.core.analyzer import Checker, Context
from ocppscope.proxy.core.checks import view
from ocppscope.proxy.core.checks.clocks import TOLERANCE, age, charger_stamp
from ocppscope.proxy.core.checks.percharger import charger_state
from ocppscope.proxy.core.connection import Connection, PendingCall
from ocppscope.proxy.core.events import Direction
from ocppscope.proxy.core.findings import Severity, rule
from ocppscope.proxy.core.frames import Frame

UNKNOWN_TRANSACTION = rule(
    "transaction.unknown-id",
    Severity.INFO,
    "Reference to a transaction no start in view created",
    "MeterValues, StopTransaction or RemoteStopTransaction (2.x: TransactionEvent Updated/Ended, "
    "RequestStopTransaction answered Rejected) name a transaction id that no StartTransaction answer (2.x: "
    "TransactionEvent Started) in the input created. Info when the transaction may predate what the input "
    "shows: the capture began mid-connection, the input is a log, the charger reconnected without booting, or "
    "the message is a stop after a restart or stamped before the boot. A warning when the handshake and the "
    "charger's BootNotification on this connection are both in view, so its transactions started in front of "
    "us: the id is stale, made up, or another backend's. transactionId -1 (a 1.6 charger that never got "
    "StartTransaction's answer, OCPP 1.6 errata 3.18) is not reported here: value.sentinel-id says it.",
    'BootNotification, then [2,"9","StopTransaction",{"transactionId":4711,...}] with no StartTransaction before',
)
LOCAL_START = rule(
    "transaction.local-start",
    Severity.INFO,
    "Charger started a transaction nobody authorized in view",
    "The charger started a transaction for an idTag it neither sent in Authorize nor got in RemoteStart or a "
    "reservation (2.x: Authorize, RequestStartTransaction, triggerReason RemoteStart, idToken type Central), "
    "or with no token at all: it authorized the tag itself, from its local authorization list or cache, "
    "offline, or in free-vend/autostart mode. The backend must accept such a StartTransaction (answer it with "
    "the tag's real idTagInfo, never refuse it for lack of an Authorize), bill it by the idTag, and, for a "
    "transaction without any token, decide who pays. Reported once per charger and idTag (and once per charger "
    "for transactions without a token).",
    '[2,"5","StartTransaction",{"connectorId":1,"idTag":"04A2C3B91F6E80",...}] with no Authorize for that tag',
)
PLACEHOLDER_TAG = rule(
    "transaction.placeholder-id-tag",
    Severity.INFO,
    "idTag that is not a driver's token",
    "The idTag is a placeholder (FreeCharging, autostart, all zeros, 12345678...) or the charger's own identity "
    "or serial number: the fixed tag of a charger in free-vend/autostart mode or of a backend's free-charging "
    "feature. Nobody can be billed for it; the backend must accept it explicitly (or the charger be configured "
    "with a real token), and reports per driver count all such sessions as one driver.",
    '[2,"5","StartTransaction",{"connectorId":1,"idTag":"FreeCharging",...}]',
)

_FROM_CHARGER = Direction.FROM_CHARGER
_FROM_BACKEND = Direction.FROM_BACKEND
_KEPT = 256
"""Transaction ids, tags and reports remembered per charger (the oldest are forgotten)."""
_AUTHORIZED_FOR = 600.0
"""Seconds an Authorize, remote start or reservation counts for a following start (ConnectionTimeOut is
usually 30-180 s; a reservation may be held longer, but a start ten minutes later is a new decision)."""
_RESTART_REASONS = frozenset({"PowerLoss", "Reboot", "HardReset", "SoftReset", "ImmediateReset"})
_NOT_THE_STARTING_TOKEN = frozenset({"StopAuthorized", "Deauthorized"})
_PLACEHOLDER_WORDS = frozenset({
    "freecharging", "freecharge", "free", "freevend", "freemode", "autostart", "autocharge", "autoauth",
    "default", "defaulttag", "defaultidtag", "defaulttoken", "noauth", "noauthorization", "none", "null", "nil",
    "undefined", "unknown", "anonymous", "guest", "localstart", "localauth", "test", "testtag", "idtag",
    "token", "plugandcharge", "plugcharge", "abc", "abcd", "abcdef",
})
_NOT_ALNUM = re.compile(r"[^0-9a-z]")
_SERIALS: tuple[tuple[str, ...], ...] = (("chargePointSerialNumber",), ("chargeBoxSerialNumber",),
                                         ("chargingStation", "serialNumber"))


def not_a_user_token(tag: str, own_names: dict[str, str]) -> str | None:
    """Why ``tag`` is not a driver's token (words for the message), or None when it may be one.

    ``own_names`` maps case-folded names of the charger (identity, serial numbers) to what they are.
    """
    norm = _NOT_ALNUM.sub("", tag.casefold())
    if not norm:
        return None  # empty or punctuation only: value.empty-required says it
    if len(norm) >= 4 and len(set(norm)) == 1:
        return f"every character {norm[0]!r}"
    if norm in _PLACEHOLDER_WORDS:
        return "a placeholder word"
    if len(norm) >= 4 and ("1234567890".startswith(norm) or "0123456789".startswith(norm)):
        return "a counting sequence"
    own = own_names.get(tag.casefold())
    return f"the charger's own {own}" if own else None


class _Bounded(dict[Any, Any]):
    """A dict that forgets its first-inserted entries beyond ``_KEPT``."""

    def put(self, key: Any, value: Any = True) -> None:
        known = key in self
        self[key] = value
        if not known and len(self) > _KEPT:
            del self[next(iter(self))]


class _Charger:
    __slots__ = ("authorized", "charging", "known", "names", "reported", "started", "tokened", "verdicts")

    def __init__(self, identity: str | None) -> None:
        self.known = _Bounded()
        """Transaction id (as text) → seq of the frame that created it or showed the charger knows it."""
        self.authorized = _Bounded()
        """Case-folded idTag → time of the latest Authorize, remote start or reservation for it."""
        self.reported = _Bounded()
        """Transaction ids and tags already reported, so each rule says it once."""
        self.started = _Bounded()
        """2.x transaction ids whose Started event is in view (only their tokens are judged)."""
        self.tokened = _Bounded()
        """2.x transaction ids that carried an idToken."""
        self.charging = _Bounded()
        """2.x transaction ids seen in chargingState Charging."""
        self.names: dict[str, str] = {identity.casefold(): "identity"} if identity else {}
        """Case-folded identity and serial numbers → what they are."""
        self.verdicts = _Bounded()
        """idTag → why it is no driver's token ("" when it may be one): the same few tags come again and again."""


def _tx_id(value: Any) -> int | str | None:
    """A transaction id as the key it is kept under: an integer (1.6) or a string (2.x)."""
    if type(value) is int or type(value) is str:
        return value
    return p.integer(value)


def _tag(body: dict[str, Any]) -> tuple[str | None, str | None]:
    """The idTag (1.6) or idToken.idToken (2.x) of a request, and the 2.x token type.

    Plain lookups, not :mod:`proxy.core.payload`'s path readers: this runs for every Authorize and start.
    """
    tag = body.get("idTag")
    if type(tag) is str:
        return tag, None
    token = body.get("idToken")
    if type(token) is not dict:
        return None, None
    tag, kind = token.get("idToken"), token.get("type")
    return (tag if type(tag) is str else None), (kind if type(kind) is str else None)


class TransactionChecker(Checker):
    name = "transactions"
    actions = frozenset({"BootNotification", "Authorize", "StartTransaction", "StopTransaction", "MeterValues",
                         "TransactionEvent", "RemoteStartTransaction", "RequestStartTransaction", "ReserveNow"})
    result_actions = frozenset({"StartTransaction", "RemoteStopTransaction", "RequestStopTransaction"})

    def __init__(self) -> None:
        self._chargers: dict[str, _Charger] = {}

    def _charger(self, conn: Connection) -> _Charger:
        return charger_state(self._chargers, conn, lambda: _Charger(conn.charger))

    # -- hooks -----------------------------------------------------------------------------------------

    def on_call(self, ctx: Context, conn: Connection, frame: Frame) -> None:
        body = frame.payload
        if type(body) is not dict:
            return  # the schema layer reports it; there is nothing to read
        action = frame.action
        if action == "MeterValues" or action == "StopTransaction":  # the hot path: mostly known transactions
            if ctx.direction is not _FROM_CHARGER:
                return
            state = self._chargers.get(conn.charger or conn.conn_id) or self._charger(conn)
            tx = body.get("transactionId")
            if type(tx) is not int and tx is not None:
                tx = _tx_id(tx)
            if tx is not None and tx not in state.known and tx not in state.reported:
                reason = body.get("reason")
                self._reference(ctx, conn, action, tx, body, reason if type(reason) is str else None)
            if action == "StopTransaction":
                tag = body.get("idTag")
                if type(tag) is str:
                    self._placeholder(ctx, state, action, tag, "charger")
            return
        if ctx.direction is _FROM_BACKEND:
            tag, kind = _tag(body)
            if tag is not None and action != "Authorize":  # a remote start or a reservation names the tag
                state = self._charger(conn)
                state.authorized.put(tag.casefold(), ctx.time)
                if action != "ReserveNow":
                    self._placeholder(ctx, state, action or "", tag, "backend", kind)
            return
        state = self._charger(conn)
        if action == "Authorize":
            tag, kind = _tag(body)
            if tag is not None:
                state.authorized.put(tag.casefold(), ctx.time)
                self._placeholder(ctx, state, action, tag, "charger", kind)
        elif action == "StartTransaction":
            tag = body.get("idTag")
            if type(tag) is str and not self._placeholder(ctx, state, action, tag, "charger") \
                    and self._self_authorized(state, tag, ctx.time):
                self._local_start(ctx, conn, tag, f"StartTransaction on connector {p.integer(body, 'connectorId')}",
                                  None)
        elif action == "TransactionEvent":
            self._event(ctx, conn, state, body)
        elif action == "BootNotification":
            view.note_boot(conn, ctx.seq, ctx.time)
            state.verdicts.clear()  # a tag may be the serial number it names now
            for path in _SERIALS:
                serial = p.text(body, *path)
                if serial:
                    state.names[serial.casefold()] = "serial number"

    def on_result(self, ctx: Context, conn: Connection, call: PendingCall, frame: Frame) -> None:
        state = self._charger(conn)
        if call.action == "StartTransaction":
            answer = frame.payload
            tx = _tx_id(answer.get("transactionId")) if type(answer) is dict else None
            if tx is not None:
                state.known.put(tx, ctx.seq)
            return
        # RemoteStop/RequestStop: the answer says whether the charger knew the transaction.
        tx = _tx_id(p.field(call.payload, "transactionId"))
        if tx is None or tx in state.known or tx in state.reported:
            return
        status = p.text(frame.payload, "status")
        if status == "Accepted":
            state.known.put(tx, call.seq)  # the charger knows it: it started before the input
        elif status == "Rejected":
            self._unknown(ctx, conn, state, call.action or "", tx, call.seq, None, None,
                          "; the charger answered Rejected: it does not know it either")

    # -- 2.x -------------------------------------------------------------------------------------------

    def _event(self, ctx: Context, conn: Connection, state: _Charger, body: Any) -> None:
        tx = _tx_id(p.field(body, "transactionInfo", "transactionId"))
        if tx is None:
            return
        event_type = p.text(body, "eventType")
        trigger = p.text(body, "triggerReason")
        if event_type == "Started":
            state.known.put(tx, ctx.seq)
            state.started.put(tx)
        elif tx not in state.known:
            reason = "TxResumed" if trigger == "TxResumed" else p.text(body, "transactionInfo", "stoppedReason")
            self._reference(ctx, conn, f"TransactionEvent {event_type}", tx, body, reason)
            state.known.put(tx, ctx.seq)
        if tx not in state.started:
            return  # started out of view: who authorized it is out of view too
        if p.text(body, "transactionInfo", "chargingState") == "Charging":
            state.charging.put(tx)
        remote = trigger == "RemoteStart" or p.field(body, "transactionInfo", "remoteStartId") is not None
        token, kind = _tag(body)
        if token is not None and tx not in state.tokened and trigger not in _NOT_THE_STARTING_TOKEN:
            state.tokened.put(tx)
            if kind == "NoAuthorization":
                if "local:noauth" in state.reported:
                    return
                state.reported.put("local:noauth")
                self._local(ctx, f"TransactionEvent {event_type}: transaction {tx} runs with idToken type "
                            "NoAuthorization (free vend): nobody authorized it; the CSMS must accept it and decide "
                            "who pays", {"transaction_id": tx, "id_token_type": kind})
            elif not self._placeholder(ctx, state, "TransactionEvent", token, "charger", kind) \
                    and not remote and kind != "Central" and self._self_authorized(state, token, ctx.time):
                self._local_start(ctx, conn, token, f"TransactionEvent {event_type} of transaction {tx}", tx)
        elif event_type == "Ended" and tx not in state.tokened and tx in state.charging and not remote \
                and "local:untokened" not in state.reported:
            state.reported.put("local:untokened")
            self._local(ctx, f"TransactionEvent Ended: transaction {tx} charged without any idToken (free vend or "
                        "autostart): nobody authorized it; the CSMS must accept it and decide who pays",
                        {"transaction_id": tx})

    # -- shared ----------------------------------------------------------------------------------------

    def _reference(self, ctx: Context, conn: Connection, action: str, tx: int | str, body: Any,
                   reason: str | None = None) -> None:
        state = self._charger(conn)
        if tx == -1 or tx == "-1" or tx in state.known or tx in state.reported:
            return
        self._unknown(ctx, conn, state, action, tx, ctx.seq, body, reason, "")

    def _unknown(self, ctx: Context, conn: Connection, state: _Charger, action: str, tx: int | str, seq: int | None,
                 body: Any, reason: str | None, answer: str) -> None:
        state.reported.put(tx)
        boot = view.fresh_boot(conn)
        creator = "TransactionEvent Started" if action.startswith(("TransactionEvent", "RequestStop")) else \
            "StartTransaction answer"
        text = f"{action} refers to transaction {tx}, which no {creator} in view created"
        evidence: dict[str, Any] = {"transaction_id": tx, "known": list(state.known)[-5:]}
        severity = Severity.INFO
        stamp = charger_stamp(action.split(" ", 1)[0], body) if boot is not None and body is not None else None
        if reason in _RESTART_REASONS or reason == "TxResumed":
            text += f": it may have started before the charger restarted ({reason})"
            evidence["reason"] = reason
        elif boot is None:
            where = view.where_it_began(conn)
            text += (f": {where}, it may have started before" if where else
                     ": the charger reconnected without booting, it may have started on an earlier connection")
        elif stamp is not None and stamp[0] < boot[1] - TOLERANCE:
            text += (f": it is stamped {age(boot[1] - stamp[0])} before the charger's BootNotification (#{boot[0]}), "
                     "a transaction from before the restart")
            evidence["boot_seq"] = boot[0]
        else:
            severity = Severity.WARNING
            text += (f", although the charger booted on this connection in view (#{boot[0]}): the id is stale, "
                     "made up or another backend's")
            evidence["boot_seq"] = boot[0]
        ctx.emit(UNKNOWN_TRANSACTION, text + answer, evidence, seq=seq, action=action.split(" ", 1)[0],
                 severity=severity)

    @staticmethod
    def _self_authorized(state: _Charger, tag: str, now: float) -> bool:
        """No Authorize, remote start or reservation named ``tag`` shortly before (and it was not said yet)."""
        key = tag.casefold()
        seen = state.authorized.get(key)
        if (seen is not None and now - seen <= _AUTHORIZED_FOR) or "local:" + key in state.reported:
            return False
        state.reported.put("local:" + key)
        return True

    def _local_start(self, ctx: Context, conn: Connection, tag: str, what: str, tx: int | str | None) -> None:
        where = view.where_it_began(conn)
        self._local(ctx, f"{what} for idTag {tag!r} with no Authorize or remote start for it in view"
                    + (f" ({where}: one may be out of view)" if where else "")
                    + ": the charger authorized it itself (local list, cache, offline or free vend); the backend "
                    "must accept it and answer with the tag's real status",
                    {"id_tag": tag, "transaction_id": tx})

    def _local(self, ctx: Context, text: str, evidence: dict[str, Any]) -> None:
        action = "StartTransaction" if evidence.get("transaction_id") is None else "TransactionEvent"
        ctx.emit(LOCAL_START, text, evidence, action=action)

    def _placeholder(self, ctx: Context, state: _Charger, action: str, tag: str, sender: str,
                     kind: str | None = None) -> bool:
        """Report a tag that is no driver's token (once per charger and tag); True when it is one."""
        if kind in ("NoAuthorization", "Central"):
            return False  # 2.x names these for what they are
        why = state.verdicts.get(tag)
        if why is None:
            why = not_a_user_token(tag, state.names) or ""
            state.verdicts.put(tag, why)
        if not why:
            return False
        key = "tag:" + tag.casefold()
        if key not in state.reported:
            state.reported.put(key)
            ctx.emit(PLACEHOLDER_TAG,
                     f"{action}: the {sender} uses idTag {tag!r} ({why}), not a driver's token: free vend or "
                     "autostart; the backend must accept it explicitly and cannot bill anyone for it",
                     {"id_tag": tag, "why": why, "sender": sender}, action=action)
        return True
