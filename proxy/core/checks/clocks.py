"""The charger's clock: every timestamp a charger writes, against the moment its frame was received.

The offset (charger timestamp − receipt time) tells four stories apart (OCPP 1.6 §4.9/§5.10 timestamps,
2.0.1 B01/E/N "timestamp"/"generatedAt"):

- ahead of receipt by more than :data:`TOLERANCE`: the charger's clock is ahead (a message cannot be sent
  before it was written);
- behind by minutes or hours: a message queued while the charger was offline and sent now, normal after a
  reconnect (one finding per run of them, never a clock jump); the same offset holding over minutes of live
  traffic is a clock that runs behind;
- years off, or a date before OCPP existed: the clock was never set, though the BootNotification answer's
  currentTime should have set it;
- a transaction stamped before the charger's boot (or open) on this connection: a transaction that ran
  offline and is replayed now (2.x says so itself with ``offline: true``).

For imported logs the receipt time is the log's time. When the log printed no zone
(``ConnectionOpened.assumed_zone``), the findings say which zone was assumed, and an offset of a whole
number of quarter hours (what a wrong zone makes) is reported as info: it is as likely the zone as the clock.
Jumps of the clock over time are judged by ``diagnose``, which sees the whole series.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ocppscope.proxy.core import payload as read
from ocppscope.proxy.core.analyzer import Checker, Context
from ocppscope.proxy.core.connection import Connection, PendingCall
from ocppscope.proxy.core.events import Direction
from ocppscope.proxy.core.findings import Severity, rule
from ocppscope.proxy.core.frames import Frame
from ocppscope.proxy.core.words import duration

AHEAD = rule(
    "clock.ahead",
    Severity.WARNING,
    "Charger clock ahead of the time its message arrived",
    "The charger stamped a message later than the moment it was received: its clock is ahead (a message "
    "cannot be sent before it was written). Meter values, transactions and status changes get future times, "
    "and a clock far ahead breaks TLS certificate checks. Set it with NTP or from the backend's currentTime.",
    'StatusNotification "timestamp": "2025-03-01T12:10:00Z" received at 12:00:00Z (10 min ahead)',
)
QUEUED = rule(
    "clock.queued",
    Severity.INFO,
    "Message sent long after it was stamped (queued while offline)",
    "A charger that loses its connection keeps transaction messages, meter values and status changes in a "
    "queue and sends them, with their original timestamps, once it is back. This is normal after a reconnect "
    "and not a clock fault; the age says how long the charger was offline at least. Reported once for each "
    "run of such messages.",
    "MeterValues stamped 10:02 received at 11:47 right after a reconnect (1.8 h old)",
)
BEHIND = rule(
    "clock.behind",
    Severity.WARNING,
    "Charger clock behind the time its messages arrive",
    "Messages keep arriving with the same offset behind their receipt over minutes of traffic: not a queue "
    "being emptied (that sends old messages in a burst) but a clock that runs behind. Set it with NTP or "
    "from the backend's currentTime.",
    "every StatusNotification and MeterValues for 20 min stamped 15 min before it arrived",
)
NEVER_SET = rule(
    "clock.never-set",
    Severity.WARNING,
    "Charger clock was never set",
    "A timestamp years away from the receipt time, or before 2015 (1970 or 2000 after a reset of the RTC): "
    "the charger never took the time from NTP or from the currentTime of the BootNotification answer. Its "
    "transactions and meter values carry meaningless dates, and TLS certificate checks fail.",
    'StatusNotification "timestamp": "1970-01-01T00:03:12Z" after a BootNotification answer with currentTime',
)
OFFLINE_TRANSACTION = rule(
    "clock.offline-transaction",
    Severity.INFO,
    "Transaction from before this connection: replayed after running offline",
    "A StartTransaction/StopTransaction (2.x TransactionEvent) stamped before the charger booted or connected "
    "on this connection, or a TransactionEvent with offline true: the transaction ran while the charger was "
    "offline and reaches the backend only now. The backend must accept it late (authorisation was local: "
    "LocalAuthListEnabled, LocalAuthorizeOffline, AllowOfflineTxForUnknownId decide who could charge).",
    "StartTransaction stamped 09:12 sent at 09:40, right after the BootNotification of 09:39",
)

TOLERANCE = 60.0
"""Seconds of skew either way that are no finding: clocks drift, and some firmware stamps when it queued."""
BEHIND_HOLDS = 120.0
"""Seconds of receipt time over which an unchanged offset behind makes a clock behind, not a queue."""
NEVER_SET_OFFSET = 365 * 86400.0
EARLIEST_PLAUSIBLE = 1420070400.0
"""2015-01-01T00:00:00Z: no charger speaking OCPP-J was set to an earlier date on purpose."""
_QUARTER_HOUR = 900.0
_MAX_ZONE = 14 * 3600.0
_KEY = "clock"
_TRANSACTIONS_KEPT = 256

# The charger's own timestamp, by action: the field that says when it wrote the message.
_STAMP_FIELD = {
    "StatusNotification": "timestamp",
    "StartTransaction": "timestamp",
    "StopTransaction": "timestamp",
    "TransactionEvent": "timestamp",
    "SecurityEventNotification": "timestamp",
    "NotifyEvent": "generatedAt",
    "NotifyReport": "generatedAt",
    "NotifyMonitoringReport": "generatedAt",
    "NotifyCustomerInformation": "generatedAt",
}
_TRANSACTION_ACTIONS = frozenset({"StartTransaction", "StopTransaction", "TransactionEvent"})
_timestamp = read.timestamp
_FROM_CHARGER = Direction.FROM_CHARGER


def charger_stamp(action: str | None, payload: Any) -> tuple[float, str] | None:
    """The charger's "now" in a CALL it sent (epoch seconds and the text as written), when the action has one.

    MeterValues: the latest of its meterValue timestamps (the first and last are read; samples are in order).
    """
    # Plain dict lookups rather than proxy.core.payload's path readers: this runs for most charger frames.
    if type(payload) is not dict:
        return None
    if action == "MeterValues":
        values = payload.get("meterValue")
        if type(values) is not list or not values:
            return None
        best: tuple[float, str] | None = None
        for sample in (values[0], values[-1]) if len(values) > 1 else values:
            written = sample.get("timestamp") if type(sample) is dict else None
            seconds = _timestamp(written)
            if seconds is not None and (best is None or seconds > best[0]):
                best = (seconds, written)  # type: ignore[assignment]
        return best
    name = _STAMP_FIELD.get(action)  # type: ignore[arg-type]
    if name is None:
        return None
    written = payload.get(name)
    seconds = _timestamp(written)
    return None if seconds is None else (seconds, written)


def age(seconds: float) -> str:
    """:func:`proxy.core.words.duration`, in days and years beyond two days."""
    seconds = abs(seconds)
    if seconds < 172800:
        return duration(seconds)
    if seconds < 2 * 365 * 86400:
        return f"{seconds / 86400:.0f} days"
    return f"{seconds / (365.25 * 86400):.1f} years"


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def zone_like(offset: float) -> bool:
    """A non-zero whole number of quarter hours (within :data:`TOLERANCE`), as a wrong time zone makes."""
    if abs(offset) > _MAX_ZONE + TOLERANCE:
        return False
    quarters = round(offset / _QUARTER_HOUR)
    return quarters != 0 and abs(offset - quarters * _QUARTER_HOUR) <= TOLERANCE


class _Clock:
    __slots__ = ("ahead_reported", "behind_reported", "boot", "current_time", "never_set_reported", "queued_run",
                 "transactions")

    def __init__(self) -> None:
        self.boot: tuple[float, int] | None = None
        """Receipt time and seq of this connection's first BootNotification."""
        self.current_time: tuple[str, int] | None = None
        """The currentTime of the BootNotification answer on this connection, and the answer's seq."""
        self.ahead_reported = False
        self.queued_run: tuple[float, float, int] | None = None
        """While messages arrive behind: receipt time, offset and seq of the first of the run."""
        self.behind_reported = False
        self.never_set_reported = False
        self.transactions: set[str] = set()


class ClockChecker(Checker):
    name = "clocks"
    actions = frozenset({*_STAMP_FIELD, "MeterValues", "BootNotification"})
    result_actions = frozenset({"BootNotification"})

    @staticmethod
    def _clock(conn: Connection) -> _Clock:
        clock = conn.data.get(_KEY)
        if clock is None:
            clock = conn.data[_KEY] = _Clock()
        return clock

    def on_call(self, ctx: Context, conn: Connection, frame: Frame) -> None:
        if ctx.direction is not _FROM_CHARGER:
            return
        action = frame.action
        if action == "BootNotification":
            clock = self._clock(conn)
            if clock.boot is None:
                clock.boot = (ctx.time, ctx.seq or 0)
            return
        stamp = charger_stamp(action, frame.payload)
        replayed = action in _TRANSACTION_ACTIONS and self._offline_transaction(
            ctx, conn, frame, stamp[0] if stamp is not None else None)
        if stamp is None:
            return
        seconds, written = stamp
        offset = seconds - ctx.time
        clock = conn.data.get(_KEY)
        if -TOLERANCE <= offset <= TOLERANCE:  # the hot path: a clock in step
            if clock is not None:
                clock.ahead_reported = False
                clock.queued_run = None
            return
        if ctx.time < EARLIEST_PLAUSIBLE:
            return  # the receipt time is no date (a log that prints times of day only): nothing to compare with
        if clock is None:
            clock = self._clock(conn)
        elif clock.ahead_reported and TOLERANCE < offset < NEVER_SET_OFFSET:
            clock.queued_run = None  # the other hot path: a clock ahead, already said (as _ahead does)
            return
        zone = conn.opened.assumed_zone if conn.opened is not None else None
        # Before 2015 only counts when the receipt time is plausible itself (a recorder whose clock is unset too
        # gives nothing to compare with).
        if abs(offset) >= NEVER_SET_OFFSET or seconds < EARLIEST_PLAUSIBLE <= ctx.time:
            self._never_set(ctx, conn, clock, action, written, offset, zone)
        elif offset > TOLERANCE:
            self._ahead(ctx, clock, action, written, offset, zone)
        else:
            self._behind(ctx, conn, clock, action, written, offset, zone, replayed)

    def on_result(self, ctx: Context, conn: Connection, call: PendingCall, frame: Frame) -> None:
        current = read.text(frame.payload, "currentTime")
        if current is not None and read.timestamp(current) is not None:
            clock = self._clock(conn)
            if clock.current_time is None:
                clock.current_time = (current, ctx.seq or 0)

    # -- the four stories --------------------------------------------------------------------------------------

    def _ahead(self, ctx: Context, clock: _Clock, action: str | None, written: str, offset: float,
               zone: str | None) -> None:
        clock.queued_run = None
        if clock.ahead_reported:
            return
        clock.ahead_reported = True
        message = f"{action} stamped {written}, {age(offset)} ahead of its receipt: the charger's clock is ahead"
        ctx.emit(AHEAD, message + _zone_note(offset, zone),
                 {"timestamp": written, "received": _iso(ctx.time), "ahead": round(offset, 3),
                  "assumed_zone": zone},
                 action=action, severity=Severity.INFO if zone and zone_like(offset) else None)

    def _behind(self, ctx: Context, conn: Connection, clock: _Clock, action: str | None, written: str,
                offset: float, zone: str | None, replayed: bool) -> None:
        """``replayed``: the frame was already reported as an offline transaction; it only opens the run."""
        clock.ahead_reported = False
        run = clock.queued_run
        if run is not None:
            first_time, first_offset, first_seq = run
            if (not clock.behind_reported and abs(offset - first_offset) <= TOLERANCE
                    and ctx.time - first_time >= BEHIND_HOLDS):
                clock.behind_reported = True
                ctx.emit(BEHIND,
                         f"{action} stamped {written}, {age(offset)} behind its receipt, the same offset as "
                         f"#{first_seq} {duration(ctx.time - first_time)} earlier: the charger's clock runs behind"
                         + _zone_note(offset, zone),
                         {"timestamp": written, "received": _iso(ctx.time), "behind": round(-offset, 3),
                          "first_seq": first_seq, "assumed_zone": zone},
                         action=action, severity=Severity.INFO if zone and zone_like(offset) else None)
            return
        clock.queued_run = (ctx.time, offset, ctx.seq or 0)
        if replayed:
            return
        opened = conn.opened_at
        since_open = ctx.time - opened if opened is not None else None
        when = (f", {duration(since_open)} after the connection opened" if since_open is not None
                and conn.opened is not None and not conn.opened.synthetic else "")
        ctx.emit(QUEUED,
                 f"{action} stamped {written} arrived {age(offset)} later{when}: queued by the charger while "
                 "offline, normal after a reconnect" + _zone_note(offset, zone),
                 {"timestamp": written, "received": _iso(ctx.time), "behind": round(-offset, 3),
                  "since_open": round(since_open, 3) if since_open is not None else None, "assumed_zone": zone},
                 action=action)

    def _never_set(self, ctx: Context, conn: Connection, clock: _Clock, action: str | None, written: str,
                   offset: float, zone: str | None) -> None:
        clock.ahead_reported = False
        clock.queued_run = None
        if clock.never_set_reported:
            return
        clock.never_set_reported = True
        where = "ahead of" if offset > 0 else "behind"
        if clock.current_time is not None:
            current, seq = clock.current_time
            source = f"; the BootNotification answer (#{seq}) gave currentTime {current}, which should have set it"
        else:
            current, seq = None, None  # type: ignore[assignment]
            source = "; no BootNotification answer with a currentTime to set it is in view on this connection"
        ctx.emit(NEVER_SET,
                 f"{action} stamped {written}, {age(offset)} {where} its receipt: the charger's clock was never set"
                 + source + _zone_note(0.0, zone),
                 {"timestamp": written, "received": _iso(ctx.time), "offset": round(offset, 3),
                  "boot_current_time": current, "boot_answer_seq": seq, "assumed_zone": zone},
                 action=action)

    def _offline_transaction(self, ctx: Context, conn: Connection, frame: Frame, seconds: float | None) -> bool:
        """Report a transaction message from before this connection; True when this frame is one."""
        payload = frame.payload
        action = frame.action
        said_offline = action == "TransactionEvent" and read.field(payload, "offline") is True
        if not said_offline and (seconds is None or seconds >= ctx.time - TOLERANCE):
            return False  # stamped about now: after the boot or open, which came before now
        clock = self._clock(conn)
        reference = _connection_start(conn, clock)
        before = reference - seconds if seconds is not None and reference is not None else None
        if not said_offline and (before is None or before <= TOLERANCE or before >= NEVER_SET_OFFSET):
            return False
        what = (f"its BootNotification (#{clock.boot[1]}) on this connection" if clock.boot is not None
                else "this connection opened")
        number = read.integer(payload, "transactionId")
        transaction = read.text(payload, "transactionInfo", "transactionId") or (str(number) if number else "")
        key = f"{action}:{read.text(payload, 'eventType')}:{transaction}:{read.text(payload, 'idTag')}:{seconds}"
        if key in clock.transactions or len(clock.transactions) >= _TRANSACTIONS_KEPT:
            return True
        clock.transactions.add(key)
        stamped = read.text(payload, "timestamp")
        reason = (f"stamped {stamped}, {age(before)} before {what}" if before is not None and before > TOLERANCE
                  else f"marked offline, stamped {stamped}")
        zone = conn.opened.assumed_zone if conn.opened is not None else None
        ctx.emit(OFFLINE_TRANSACTION,
                 f"{action}" + (f" {read.text(payload, 'eventType')}" if action == "TransactionEvent" else "")
                 + (f" of transaction {transaction}" if transaction and action != "StartTransaction" else "")
                 + f" {reason}: a transaction the charger ran offline, replayed now" + _zone_note(before or 0.0, zone),
                 {"timestamp": stamped, "received": _iso(ctx.time), "before_start": round(before, 3)
                  if before is not None else None, "reference": what, "offline_flag": said_offline,
                  "transaction": transaction or None, "assumed_zone": zone},
                 action=action)
        return True


def _connection_start(conn: Connection, clock: _Clock) -> float | None:
    """When the charger came (back) on this connection: its BootNotification, else the handshake."""
    if clock.boot is not None:
        return clock.boot[0]
    if conn.opened is not None and not conn.opened.synthetic:
        return conn.opened.time
    return None


def _zone_note(offset: float, zone: str | None) -> str:
    if not zone:
        return ""
    if zone_like(offset):
        return (f" (the log's times were read as {zone}, assumed: a difference of whole quarter hours is "
                "as likely the zone as the clock)")
    return f" (the log's times were read as {zone}, assumed)"
