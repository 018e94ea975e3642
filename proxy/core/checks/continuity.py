"""Capture continuity: a charger that numbers its CALLs 1, 2, 3... shows where frames are missing.

Many chargers take their message ids from a counter. Once a connection's ids from the charger have gone up by
exactly one a few times in a row, a jump means CALLs the charger sent are not in the capture (a filtered or
cut log, a capture started and stopped, a mirror port that dropped packets): findings about pairing, order and
timing near the jump may be artefacts. Said once per connection, as an info. Ids that are not decimal
numbers (UUIDs, random strings), counters that start again (a restart, a new connection: the state is per
connection), the same id sent twice, and the backend's ids are not judged. A ``capture.gap`` the proxy
reported already explains a hole, so a jump after one is not reported again.
"""

from __future__ import annotations

from ocppscope.proxy.core.analyzer import _GAP_KEY, Checker, Context
from ocppscope.proxy.core.connection import Connection
from ocppscope.proxy.core.events import Direction
from ocppscope.proxy.core.findings import Severity, rule
from ocppscope.proxy.core.frames import Frame

IDS_SKIPPED = rule(
    "capture.ids-skipped",
    Severity.INFO,
    "The charger's message ids skip numbers: CALLs are missing from the capture",
    "The charger numbers its CALLs with a counter (its ids went up by exactly one several times in a row), and "
    "then the count jumps: the CALLs with the ids in between were sent but are not in this capture (a filtered "
    "or cut log, a capture stopped and restarted, a mirror port that dropped packets). Findings near the jump "
    "about unanswered CALLs, unknown ids, order and timing may come from the hole, not from the charger. "
    "Reported once per connection.",
    '[2,"41","MeterValues",{...}] followed by [2,"45","StatusNotification",{...}]',
)

_STREAK = 3
"""Steps of exactly one in a row before the ids count as a counter."""
_KEY = "continuity"
_MAX_DIGITS = 30
_FROM_CHARGER = Direction.FROM_CHARGER


class _Counter:
    __slots__ = ("done", "last", "seq", "streak")

    def __init__(self) -> None:
        self.done = False
        """True once reported, or once an id showed the charger does not count."""
        self.last: int | None = None
        self.seq: int | None = None
        self.streak = 0


class ContinuityChecker(Checker):
    name = "continuity"

    def on_call(self, ctx: Context, conn: Connection, frame: Frame) -> None:
        if ctx.direction is not _FROM_CHARGER:
            return
        counter = conn.data.get(_KEY)
        if counter is None:
            counter = conn.data[_KEY] = _Counter()
        elif counter.done:
            return
        message_id = frame.message_id
        if message_id is None:
            return
        if not (message_id.isascii() and message_id.isdigit() and len(message_id) <= _MAX_DIGITS):
            counter.done = True  # a charger that does not count: nothing to read from its ids
            ctx.stop_calls(self)
            return
        number = int(message_id)
        last = counter.last
        if last is not None:
            step = number - last
            if step == 0:
                return  # the same CALL sent again
            if step == 1:
                counter.streak += 1
            elif step > 1 and counter.streak >= _STREAK and _GAP_KEY not in conn.data:
                counter.done = True
                ctx.stop_calls(self)
                ctx.emit(
                    IDS_SKIPPED,
                    f"the charger's message ids went up one by one, then jumped from {last} to {number}: "
                    f"{step - 1} of its CALLs are probably missing from this capture; read the findings near "
                    "here with care",
                    {"previous_id": str(last), "id": message_id, "missing": step - 1, "previous_seq": counter.seq},
                    action=frame.action,
                )
                return
            else:
                counter.streak = 0  # a counter that started again, or ids that were never one
        counter.last = number
        counter.seq = ctx.seq
