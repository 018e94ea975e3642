"""The order of a log's records versus the order on the wire.

Some logs print newest first (``journalctl -r``, web consoles, ticket exports); threaded loggers print an
answer before the CALL it answers, or times that go back. Entries come out in wire order as well as the log
tells it: a newest-first log is read backwards, and an answer is held back (a bounded number of entries) until
the CALL with its id has gone out. Pairing in the analyzer goes by id either way.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Iterable, Iterator
from itertools import islice, pairwise

from ocppscope.proxy.capture.logs_entry import LogEntry
from ocppscope.proxy.capture.report import ReadReport
from ocppscope.proxy.core.frames import decode_cut
from ocppscope.proxy.core.protocol import MessageType

ORDER_SAMPLE = 2000
"""Entries looked at to tell a newest-first log."""
HOLD_LIMIT = 64
"""Entries an answer waits for its CALL before it is let through where the log had it."""
_CALLS_KEPT = 4096
_ANSWERS = (MessageType.CALLRESULT, MessageType.CALLERROR, MessageType.CALLRESULTERROR)


def frame_key(entry: LogEntry) -> tuple[MessageType, str] | None:
    """The message type and id of a frame entry, from the start of its text."""
    if not entry.keyed:
        entry.keyed = True
        if entry.kind == "frame" and entry.text:
            frame = decode_cut(entry.text[:200].encode("utf-8", "surrogateescape"))
            if frame.message_type is not None and frame.message_id is not None:
                entry.key = (frame.message_type, frame.message_id)
    return entry.key


def _conversation(entry: LogEntry) -> str:
    return entry.session or entry.charger or ""


def newest_first(entries: list[LogEntry]) -> bool:
    """Whether ``entries`` are printed newest first: answers come before their CALLs, or times decrease."""
    first_call: dict[tuple[str, str], int] = {}
    first_answer: dict[tuple[str, str], int] = {}
    for index, entry in enumerate(entries):
        key = frame_key(entry)
        if key is None:
            continue
        kind, message_id = key
        table = first_call if kind is MessageType.CALL or kind is MessageType.SEND else first_answer
        table.setdefault((_conversation(entry), message_id), index)
    calls_first = answers_first = 0
    for key, call_at in first_call.items():
        answer_at = first_answer.get(key)
        if answer_at is not None:
            if answer_at < call_at:
                answers_first += 1
            else:
                calls_first += 1
    times = [entry.time for entry in entries if entry.time is not None]
    down = sum(later < earlier for earlier, later in pairwise(times))
    up = sum(later > earlier for earlier, later in pairwise(times))
    if answers_first or calls_first:
        return answers_first > calls_first and down >= up
    return down >= 2 and down > 2 * up


def in_time_order(entries: Iterable[LogEntry], report: ReadReport) -> Iterator[LogEntry]:
    """``entries`` oldest first: a newest-first log is detected on its first entries and read backwards."""
    iterator = iter(entries)
    head = list(islice(iterator, ORDER_SAMPLE))
    if not newest_first(head):
        yield from head
        yield from iterator
        return
    everything = head + list(iterator)
    everything.reverse()
    report.note("the log is printed newest first (answers come before their CALLs, times decrease); "
                "it was read from the bottom up, in time order")
    yield from everything


class WireOrder:
    """Puts each answer after its CALL when the log printed them the other way round, and reports times that
    go back (the order of a log may differ from the order on the wire)."""

    def __init__(self, report: ReadReport) -> None:
        self.report = report
        self.calls: OrderedDict[tuple[str, str], None] = OrderedDict()
        self.held: deque[LogEntry] = deque()
        self.waiting: dict[tuple[str, str], LogEntry] = {}
        self.latest: float | None = None
        self.backwards = 0
        self.first_backwards: tuple[int, float] | None = None
        self.moved = 0

    def order(self, entries: Iterable[LogEntry]) -> Iterator[LogEntry]:
        for entry in entries:
            self._times(entry)
            key = frame_key(entry)
            if key is not None:
                kind, message_id = key
                conversation = (_conversation(entry), message_id)
                if kind is MessageType.CALL or kind is MessageType.SEND:
                    answer = self.waiting.pop(conversation, None)
                    if answer is not None:
                        self.held.insert(self.held.index(answer), entry)
                        self.moved += 1
                        yield from self._release()
                        continue
                    self.calls[conversation] = None
                    if len(self.calls) > _CALLS_KEPT:
                        self.calls.popitem(last=False)
                elif kind in _ANSWERS and conversation not in self.calls and conversation not in self.waiting:
                    self.waiting[conversation] = entry
            self.held.append(entry)
            yield from self._release()
        self.waiting.clear()
        yield from self._release()
        self._summary()

    def _release(self) -> Iterator[LogEntry]:
        held = self.held
        while held:
            first = held[0]
            key = frame_key(first)
            waits = key is not None and self.waiting.get((_conversation(first), key[1])) is first
            if waits and len(held) <= HOLD_LIMIT:
                return
            if waits:
                del self.waiting[(_conversation(first), key[1])]  # type: ignore[index]
            yield held.popleft()

    def _times(self, entry: LogEntry) -> None:
        time = entry.time
        if time is None:
            return
        if self.latest is not None and time < self.latest:
            self.backwards += 1
            if self.first_backwards is None:
                self.first_backwards = (entry.line, self.latest - time)
        elif self.latest is None or time > self.latest:
            self.latest = time

    def _summary(self) -> None:
        if self.first_backwards is not None:
            line, step = self.first_backwards
            self.report.warn(f"the log's times go back {self.backwards} time(s) (first at line {line}, by "
                             f"{step:.3f} s): its order may differ from the order on the wire; answers are paired "
                             "with their CALLs by id, not by position")
        if self.moved:
            self.report.note(f"{self.moved} answer(s) were printed before their CALL; each was read after it")
