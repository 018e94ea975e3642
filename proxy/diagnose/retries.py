"""Pointless retry loops: one CALL sent again and again, unchanged, and refused the same way each time.

Per charger and sender, the CALLs of one action form a run while each repeats the previous one's payload
(its own timestamp aside: firmware restamps what it resends) and gets the same refusal (a CALLERROR code,
or a status such as Rejected or NotSupported). An answer that differs, or an accepted one, ends the run.
BootNotification is left to the boot-loop cause. Memory: one run per (sender, action), and a bounded list of
the loops found. What counts as the same CALL and as a refusal is the ``call.retry-loop`` rule's definition
(:mod:`proxy.core.checks.retries`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ocppscope.proxy.core.checks.retries import LOOP, call_signature, refusal
from ocppscope.proxy.core.connection import PendingCall
from ocppscope.proxy.core.frames import Frame
from ocppscope.proxy.diagnose.model import FrameRef

_LOOPS_KEPT = 20


@dataclass(slots=True)
class RetryRun:
    sender: str
    action: str
    answer: str
    """``CALLERROR FormationViolation``, ``Rejected``: the refusal that never changes."""
    payload: bytes
    first: FrameRef
    first_answer: FrameRef
    last: FrameRef
    last_answer: FrameRef
    count: int = 1
    connections: list[str] = field(default_factory=list)

    @property
    def period(self) -> float:
        """Average seconds between attempts."""
        return (self.last.time - self.first.time) / (self.count - 1) if self.count > 1 else 0.0


class RetryWatch:
    """The current run of each (sender, action) of one charger, and the loops it has seen."""

    def __init__(self) -> None:
        self._runs: dict[tuple[str, str], RetryRun] = {}
        self._done: list[RetryRun] = []

    def answered(self, call: PendingCall, frame: Frame, conn_id: str, answer_ref: Callable[[], FrameRef]) -> None:
        action = call.action
        if action is None or action == "BootNotification":
            return
        key = (call.direction.sender, action)
        refused = refusal(frame)
        run = self._runs.get(key)
        if refused is None:
            if run is not None:
                self._end(key)
            return
        body = call_signature(call.payload)
        ref = FrameRef(call.seq, conn_id, call.time, f"{call.direction.arrow} {action}")
        if run is not None and run.payload == body and run.answer == refused:
            run.count += 1
            run.last, run.last_answer = ref, answer_ref()
            if conn_id not in run.connections and len(run.connections) < 20:
                run.connections.append(conn_id)
            return
        if run is not None:
            self._end(key)
        answer = answer_ref()
        self._runs[key] = RetryRun(key[0], action, refused, body, ref, answer, ref, answer, 1, [conn_id])

    def _end(self, key: tuple[str, str]) -> None:
        run = self._runs.pop(key)
        if run.count >= LOOP and len(self._done) < _LOOPS_KEPT:
            self._done.append(run)

    def loops(self) -> list[RetryRun]:
        """Every loop so far, ended or still going, longest first."""
        going = [run for run in self._runs.values() if run.count >= LOOP]
        return sorted([*self._done, *going], key=lambda run: -run.count)
