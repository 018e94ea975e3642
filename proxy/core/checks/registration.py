"""Requests a charger sends on a connection before its BootNotification.

1.6 §4.2 and 2.x B01 (ocpp-facts §6.1): after a (re)boot the charger's first request is BootNotification;
until it is Accepted nothing else may be sent, queued messages included. A charger that reconnects without
rebooting need not boot again, so requests on a connection without any BootNotification are fine; but when a
BootNotification nobody asked for follows them shortly, those requests came before the charger registered.
:mod:`boot` judges what comes after the BootNotification (before its answer, while Pending or Rejected).
"""

from __future__ import annotations

from ocppscope.proxy.core.analyzer import Checker, Context
from ocppscope.proxy.core.checks import trigger, view
from ocppscope.proxy.core.connection import Connection
from ocppscope.proxy.core.events import Direction
from ocppscope.proxy.core.findings import Severity, rule
from ocppscope.proxy.core.frames import Frame

WINDOW_CALLS, WINDOW_SECONDS = 20, 300.0
"""A BootNotification later than this many charger CALLs or seconds after the connection's first one
re-registers a charger that was working (a reboot we did not see coming): the requests before it are not
judged."""

REQUEST_BEFORE_BOOT = rule(
    "boot.request-before-boot",
    Severity.WARNING,
    "Charger requests before its BootNotification",
    "The charger sent requests on this connection and then, shortly after, a BootNotification nobody asked for "
    "(no TriggerMessage, no Reset): it talked before registering. Backends answer such requests with errors "
    "(2.x: CALLERROR SecurityError) or drop them, and the status or meter values they carried are lost; a "
    "charger must send BootNotification first and hold its queue until Accepted. A warning when the "
    "connection's handshake is in view; info when the capture began mid-connection or is a log, where the "
    "charger may have registered out of view and re-booted now. Requests on a connection that never boots "
    f"(a reconnect) are fine, and so is a boot more than {WINDOW_CALLS} requests or "
    f"{WINDOW_SECONDS / 60:.0f} minutes into the connection.",
    'handshake, [2,"1","StatusNotification",{...}], then [2,"2","BootNotification",{...}]',
)

_FROM_CHARGER = Direction.FROM_CHARGER
_KEY = "registration"
_DONE = object()
"""conn.data value once nothing more is to be judged on the connection."""
_LISTED = 5
_RESETS = frozenset({"Reset"})


class _Before:
    __slots__ = ("count", "first_time", "listed")

    def __init__(self, time: float) -> None:
        self.count = 0
        self.first_time = time
        self.listed: list[tuple[str, int | None]] = []


class RegistrationChecker(Checker):
    name = "registration"

    def on_call(self, ctx: Context, conn: Connection, frame: Frame) -> None:
        before = conn.data.get(_KEY)
        if before is _DONE:
            return  # the hot path: the connection's first request was its boot, or it is long past
        action = frame.action or "?"
        if ctx.direction is not _FROM_CHARGER:
            if action in _RESETS:
                self._done(ctx, conn)  # the boot that follows is the one the backend asked for
            return
        if action != "BootNotification":
            if before is None:
                before = conn.data[_KEY] = _Before(ctx.time)
            before.count += 1
            if len(before.listed) < _LISTED:
                before.listed.append((action, ctx.seq))
            if before.count > WINDOW_CALLS or ctx.time - before.first_time > WINDOW_SECONDS:
                self._done(ctx, conn)
            return
        self._done(ctx, conn)
        view.note_boot(conn, ctx.seq, ctx.time)
        if before is None or ctx.time - before.first_time > WINDOW_SECONDS \
                or trigger.was_triggered(conn, action, ctx.time):
            return
        listed = ", ".join(f"{name} (#{seq})" for name, seq in before.listed)
        more = f" and {before.count - len(before.listed)} more" if before.count > len(before.listed) else ""
        where = view.where_it_began(conn)
        text = (f"charger sent {before.count} request{'s' if before.count > 1 else ''} on this connection before "
                f"its BootNotification (#{ctx.seq}): {listed}{more}")
        if where:
            text += f"; {where}, it may have registered out of view and rebooted now"
        ctx.emit(REQUEST_BEFORE_BOOT, text,
                 {"count": before.count, "boot_seq": ctx.seq,
                  "requests": [{"action": name, "seq": seq} for name, seq in before.listed]},
                 seq=before.listed[0][1], action=before.listed[0][0],
                 severity=Severity.INFO if where else None)

    def _done(self, ctx: Context, conn: Connection) -> None:
        conn.data[_KEY] = _DONE
        ctx.stop_calls(self)  # nothing more to judge on this connection: its CALLs skip this checker
