"""The frame index: one compact row per event, in the manner of toolong's line index.

A million-frame capture must open without a Python object per frame, so the index keeps parallel typed arrays
(``array.array``) and reads a row's text back from its file only when the row is drawn. What the analyzer said
about a row (the CALL it answers, the latency, the findings) is applied to the same rows by seq, whether it came
from an analysis of a capture or from a live proxy's stream.

One thread writes an index (the loader's indexer thread, or the UI thread for a live stream); the UI reads it
while it grows. Every column is appended before :attr:`FrameIndex.count` moves, so a reader that stays below
``count`` sees whole rows.
"""

from __future__ import annotations

import bisect
import math
import os
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from ocppscope.proxy.capture.format import decoders
from ocppscope.proxy.core.connection import identity_from_path
from ocppscope.proxy.core.events import ConnectionClosed, ConnectionOpened, Direction, Event, Gap, Message, Ping
from ocppscope.proxy.core.findings import Finding, Severity
from ocppscope.proxy.core.frames import Frame, decode
from ocppscope.proxy.core.protocol import MessageType
from ocppscope.proxy.core.secrets import may_name_secret

if TYPE_CHECKING:
    from ocppscope.proxy.capture.redact import Redactor

# Row kinds. Frames keep their OCPP message type; everything else is a connection event.
OPEN, CLOSE, PING, PONG, CALL, RESULT, ERROR, RESULTERROR, SEND, INVALID, GAP = range(11)
KIND_NAMES = ("open", "close", "ping", "pong", "CALL", "RESULT", "ERROR", "RESULTERROR", "SEND", "INVALID", "gap")
KIND_OF_TYPE = {
    MessageType.CALL: CALL,
    MessageType.CALLRESULT: RESULT,
    MessageType.CALLERROR: ERROR,
    MessageType.CALLRESULTERROR: RESULTERROR,
    MessageType.SEND: SEND,
}
FRAME_KINDS = frozenset({CALL, RESULT, ERROR, RESULTERROR, SEND, INVALID})

NO_DIRECTION, FROM_CHARGER, FROM_BACKEND = 0, 1, 2
DIRECTION_CODE = {Direction.FROM_CHARGER: FROM_CHARGER, Direction.FROM_BACKEND: FROM_BACKEND}
NO_SEVERITY = 0
SEVERITY_CODE = {Severity.INFO: 1, Severity.WARNING: 2, Severity.ERROR: 3}
SEVERITY_OF_CODE = {code: severity for severity, code in SEVERITY_CODE.items()}


_NANS = array("f", [math.nan]) * 4096
_NO_LINKS = array("i", [-1]) * 4096


@dataclass
class ConnInfo:
    """One WebSocket connection (or refused handshake) as far as the index has seen it."""

    conn_id: str
    charger: str | None
    open_row: int | None = None
    close_row: int | None = None
    status: int = 101
    subprotocol: str | None = None
    frames: int = 0


def screen_redactor() -> Redactor:
    """The redactor of what the UI shows, made on first need (it reads this installation's salt)."""
    global _SCREEN_REDACTOR
    if _SCREEN_REDACTOR is None:
        from ocppscope.proxy.capture.redact import Redactor, installation_salt

        _SCREEN_REDACTOR = Redactor(installation_salt())
    return _SCREEN_REDACTOR


_SCREEN_REDACTOR: Redactor | None = None


@dataclass
class SourceFile:
    """A file rows point into: the capture itself, or the loader's spool of converted events."""

    path: str
    fd: int = -1

    def read(self, offset: int, length: int) -> bytes:
        if self.fd < 0:
            self.fd = os.open(self.path, os.O_RDONLY)
        return os.pread(self.fd, length, offset)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


@dataclass
class PlacedFinding:
    """A finding and the row of the event it is about (None for one about a whole connection or charger)."""

    row: int | None
    finding: Finding


@dataclass
class FrameIndex:
    """Columns of every row, the connections, and the findings placed on rows."""

    files: list[SourceFile] = field(default_factory=list)
    count: int = 0
    """Rows that are complete; read nothing at or above it."""
    version: int = 0
    """Bumped on every change a view may show (new rows, pairings, findings)."""
    complete: bool = False
    """The input is fully indexed (a live index never is)."""
    analysed: int = 0
    """Rows whose own pairing and findings are applied (later findings can still name earlier rows)."""

    def __post_init__(self) -> None:
        self.offset = array("q")
        self.length = array("I")
        self.file = array("B")
        self.time = array("d")
        self.seq = array("q")
        self.conn = array("I")
        self.kind = array("B")
        self.direction = array("B")
        self.action = array("H")
        self.latency = array("f")
        self.link = array("i")
        self.severity = array("B")
        self.conns: list[ConnInfo] = []
        self.conn_ids: dict[str, int] = {}
        self.actions: list[str] = [""]
        self.action_ids: dict[str, int] = {"": 0}
        self.findings: dict[int, list[Finding]] = {}
        self.placed: list[PlacedFinding] = []
        self.longest_charger = 0
        self.longest_action = 0
        """The widest identity and action indexed so far, in characters: the frame view's columns grow to them."""
        self.injected: dict[int, str] = {}
        """Rows of ocppscope's own traffic, as the capture recorded it: injected CALLs ("call") and their
        held-back answers ("answer")."""
        self._seq_sorted = True
        self._seq_rows: dict[int, int] | None = None
        self._waiting: list[tuple[int, int, float | None]] = []
        self._waiting_findings: list[Finding] = []

    # -- writing -------------------------------------------------------------------------------------------

    def add_file(self, path: str) -> int:
        self.files.append(SourceFile(path))
        return len(self.files) - 1

    def add(self, event: Event, file_no: int, offset: int, length: int, frame: Frame | None = None) -> int:
        """Index ``event``, whose record is ``length`` bytes at ``offset`` of file ``file_no``; return its row."""
        self.extend(((event, file_no, offset, length),), frames=(frame,))
        return self.count - 1

    def extend(self, placed: Sequence[tuple[Event, int, int, int]], frames: Sequence[Frame | None] = ()) -> None:
        """Index several events at once (the indexer's batches): the columns grow by one extend each."""
        base = self.count
        offsets, lengths, files, times, seqs, conns, kinds, directions, actions = ([] for _ in range(9))
        conn_no_of = self._conn_no
        action_no = self.action_no
        info_of = self.conns
        for n, (event, file_no, offset, length) in enumerate(placed):
            row = base + n
            kind_type = type(event)
            direction = NO_DIRECTION
            action = 0
            conn_no = conn_no_of(event.conn_id)
            info = info_of[conn_no]
            if kind_type is Message:
                frame = frames[n] if n < len(frames) and frames[n] is not None else \
                    decode(event.content, event.is_text)  # type: ignore[union-attr]
                kind = KIND_OF_TYPE.get(frame.message_type, INVALID)  # type: ignore[union-attr, arg-type]
                direction = DIRECTION_CODE[event.direction]  # type: ignore[union-attr]
                if frame.action is not None:  # type: ignore[union-attr]
                    action = action_no(frame.action)  # type: ignore[union-attr]
                if event.injected:  # type: ignore[union-attr]
                    self.injected[row] = "call" if kind == CALL else "answer"
                info.frames += 1
            elif kind_type is ConnectionOpened:
                assert isinstance(event, ConnectionOpened)
                kind = OPEN
                info.open_row = row
                info.status = event.status
                info.subprotocol = event.subprotocol
                info.charger = identity_from_path(event.path)
                if info.charger is not None and len(info.charger) > self.longest_charger:
                    self.longest_charger = len(info.charger)
            elif kind_type is ConnectionClosed:
                kind = CLOSE
                info.close_row = row
            elif kind_type is Gap:
                kind = GAP
            else:
                assert isinstance(event, Ping)
                kind = PONG if event.pong else PING
                direction = DIRECTION_CODE[event.direction]
            offsets.append(offset)
            lengths.append(length)
            files.append(file_no)
            times.append(event.time)
            seqs.append(event.seq)
            conns.append(conn_no)
            kinds.append(kind)
            directions.append(direction)
            actions.append(action)
        count = len(seqs)
        if not count:
            return
        if self._seq_sorted:
            previous = self.seq[base - 1] if base else None
            for seq in seqs:
                if previous is not None and seq <= previous:
                    self._seq_sorted = False
                    break
                previous = seq
        self.offset.extend(offsets)
        self.length.extend(lengths)
        self.file.extend(files)
        self.time.extend(times)
        self.seq.extend(seqs)
        self.conn.extend(conns)
        self.kind.extend(kinds)
        self.direction.extend(directions)
        self.action.extend(actions)
        self.latency.extend(_NANS[:count] if count <= len(_NANS) else array("f", [math.nan]) * count)
        self.link.extend(_NO_LINKS[:count] if count <= len(_NO_LINKS) else array("i", [-1]) * count)
        self.severity.extend(bytes(count))
        if self._seq_rows is not None:
            self._seq_rows.update((seq, base + n) for n, seq in enumerate(seqs))
        self.count = base + count
        self.version += 1

    def action_no(self, action: str) -> int:
        number = self.action_ids.get(action)
        if number is None:
            number = self.action_ids[action] = len(self.actions)
            self.actions.append(action)
            self.longest_action = max(self.longest_action, len(action))
        return number

    def pair(self, seq: int, call_seq: int, latency: float | None) -> bool:
        """The answer ``seq`` pairs with the CALL ``call_seq``; False (kept for later) if either is not indexed."""
        row = self.row_of(seq)
        call_row = self.row_of(call_seq)
        if row is None or call_row is None:
            if not self.complete:
                self._waiting.append((seq, call_seq, latency))
            return False
        self.link[row] = call_row
        self.link[call_row] = row
        if latency is not None:
            self.latency[row] = latency
        if self.action[row] == 0:
            self.action[row] = self.action[call_row]
        self.version += 1
        return True

    def retry_waiting(self, last: bool = False) -> None:
        """Results that arrived before their rows did (an analysis running ahead of the indexer); ``last``:
        every row is indexed, so what still finds none is placed on no row."""
        waiting, self._waiting = self._waiting, []
        for seq, call_seq, latency in waiting:
            self.pair(seq, call_seq, latency)
        findings, self._waiting_findings = self._waiting_findings, []
        self.add_findings(findings, wait=not (last or self.complete))

    def finish(self) -> None:
        """The input is fully indexed: place what still waits (on no row, if its event never came), then say
        the index is complete. In this order: a filter thread that sees ``complete`` ends after one last look
        at the placed findings, which must hold these already."""
        self.retry_waiting(last=True)
        self._waiting.clear()
        self.complete = True
        self.version += 1

    def add_findings(self, findings: Iterable[Finding], *, wait: bool = False) -> None:
        """Place findings on the rows of their seq; one about a seq not indexed yet waits when ``wait``, else
        it is kept without a row, as are findings about a whole connection or charger."""
        for finding in findings:
            row = self.row_of(finding.seq) if finding.seq is not None else None
            if row is None and wait and finding.seq is not None:
                self._waiting_findings.append(finding)
                continue
            self.placed.append(PlacedFinding(row, finding))
            if row is not None:
                self.findings.setdefault(row, []).append(finding)
                code = SEVERITY_CODE[finding.severity]
                if code > self.severity[row]:
                    self.severity[row] = code
        self.version += 1

    def _conn_no(self, conn_id: str) -> int:
        number = self.conn_ids.get(conn_id)
        if number is None:
            number = self.conn_ids[conn_id] = len(self.conns)
            self.conns.append(ConnInfo(conn_id, None))
        return number

    # -- reading -------------------------------------------------------------------------------------------

    def row_of(self, seq: int) -> int | None:
        """The row of the event numbered ``seq``, if it is indexed."""
        count = self.count
        if self._seq_sorted:
            row = bisect.bisect_left(self.seq, seq, 0, count)
            return row if row < count and self.seq[row] == seq else None
        if self._seq_rows is None:
            self._seq_rows = {self.seq[row]: row for row in range(count)}
        row = self._seq_rows.get(seq)
        return row if row is not None and row < count else None

    def raw(self, row: int) -> bytes:
        return self.files[self.file[row]].read(self.offset[row], self.length[row])

    def record(self, row: int) -> dict[str, Any]:
        """The capture record of ``row``, read back from its file; a frame's secrets are redacted for the
        screen, even from a capture recorded with --no-redact."""
        record = orjson.loads(self.raw(row))
        text = record.get("text")
        if type(text) is str and may_name_secret(text):
            record["text"] = screen_redactor().text(text)
        return record

    def event(self, row: int) -> Event | None:
        """The event of ``row``, decoded again from its record."""
        record = self.record(row)
        decoder = decoders().get(record.get("type"))
        return decoder(record) if decoder is not None else None

    def charger_of(self, row: int) -> str | None:
        return self.conns[self.conn[row]].charger

    def conn_info(self, row: int) -> ConnInfo:
        return self.conns[self.conn[row]]

    def action_of(self, row: int) -> str:
        return self.actions[self.action[row]]

    def latency_of(self, row: int) -> float | None:
        value = self.latency[row]
        return None if math.isnan(value) else value

    def findings_of(self, row: int) -> Sequence[Finding]:
        return self.findings.get(row, ())

    def rows_with_findings(self, limit: int) -> list[int]:
        return sorted(row for row in list(self.findings) if row < limit)

    def close(self) -> None:
        for source in self.files:
            source.close()
