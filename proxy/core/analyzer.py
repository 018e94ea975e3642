"""The inspection core: feed events in order, get decoded frames, pairings and findings back.

Sans-I/O in the manner of ``h11`` and ``websockets``: :class:`Analyzer` never reads a socket or a clock.
The live proxy, capture replay, ``ocppscope check`` and the TUI all drive the same object::

    analyzer = Analyzer(default_checkers())
    for event in events:
        inspection = analyzer.feed(event)
        ...  # inspection.frame, inspection.call, inspection.latency, inspection.findings
    leftovers = analyzer.finish()

Rules plug in as :class:`Checker` objects; an exception in one is reported as an ``ocppscope.internal-error``
finding and logged, and never stops the analysis of the frame or of later frames.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import msgspec
from ocppscope.proxy.core.checks import framing, imported, rpc
from ocppscope.proxy.core.connection import Connection, PendingCall
from ocppscope.proxy.core.events import ConnectionClosed, ConnectionOpened, Direction, Event, Gap, Message, Ping
from ocppscope.proxy.core.findings import Finding, Rule, Severity, rule
from ocppscope.proxy.core.frames import Frame, decode, decode_cut
from ocppscope.proxy.core.protocol import (
    ERROR_CODE_ALIASES,
    ERROR_CODES,
    VERSIONS,
    MessageType,
    actions,
    version_of_subprotocol,
    versions_with_action,
)
from ocppscope.proxy.core.schemas import schema_for
from ocppscope.proxy.core.secrets import Secret, frame_secrets, scrub_finding

log = logging.getLogger("ocppscope")

INTERNAL_ERROR = rule(
    "ocppscope.internal-error",
    Severity.WARNING,
    "ocppscope failed to analyse an event",
    "A rule raised an exception. The frame was still relayed and recorded; please report the evidence.",
    "a rule crashing on an unexpected payload",
)

CAPTURE_GAP = rule(
    "capture.gap",
    Severity.WARNING,
    "Frames are missing from the record",
    "The proxy relayed these frames but could not analyse or record them (its analysis process fell behind "
    "or restarted). Every frame still reached the other side; but CALLs and answers in the hole are unknown, "
    "so findings about pairing, timing and order near the gap may be wrong.",
    "23 frames of CP01 relayed but not recorded: the analysis process was more than 64 MB behind",
)

CONNECTION_REOPENED = rule(
    "capture.connection-reopened",
    Severity.WARNING,
    "A connection opens again before it closed",
    "The record opens a connection id that is still open: two captures were joined (each numbers its "
    "connections from c1) or the file was edited. The earlier connection is read as closed at this point, "
    "without a close code, and its unanswered CALLs are reported; findings about how it ended are guesses.",
    "connection c1 opens again on /ocpp/CP-7 while the one opened on /ocpp/CP-1 is still open",
)
REOPENED_REASON = "the same connection id opened again before this one closed"

_GAP_KEY = "analyzer.gap"
_EXPIRED_KEPT = 64
_ANSWERED_KEPT = 16
_FROM_CHARGER = Direction.FROM_CHARGER
_FROM_BACKEND = Direction.FROM_BACKEND
_CALL = MessageType.CALL
_CALLRESULT = MessageType.CALLRESULT
_CALLERROR = MessageType.CALLERROR
_REVERSE = {_FROM_CHARGER: _FROM_BACKEND, _FROM_BACKEND: _FROM_CHARGER}
_DIRECTION_OF: dict[str, Direction | None] = {"cp-to-csms": _FROM_CHARGER, "csms-to-cp": _FROM_BACKEND, "both": None}
_UNKNOWN = object()


@dataclass(frozen=True, slots=True)
class AnalyzerOptions:
    call_timeout: float = 30.0
    """Seconds after which an unanswered CALL is reported as timed out."""
    slow_response: float = 10.0
    """Seconds after which an answer within the timeout is still reported as slow."""
    max_pending: int = 1000
    """Unanswered CALLs tracked per connection and direction (bounded memory)."""


class Inspection(msgspec.Struct, eq=False):
    """What the analyzer made of one event (a Struct for the same reason as :class:`Frame`)."""

    event: Event
    conn: Connection
    frame: Frame | None = None
    call: PendingCall | None = None
    """For a CALLRESULT/CALLERROR: the CALL it answers."""
    latency: float | None = None
    findings: list[Finding] = []
    """A new list for each inspection: msgspec copies an empty mutable default."""


class Context:
    """Handed to every checker hook: the event being analysed and where findings go.

    ``time``, ``seq`` and ``direction`` are those of the current event (``direction`` None for events that
    are not messages or pings; ``seq`` None and ``time`` the latest time seen during ``tick``/``finish``).
    """

    __slots__ = ("_secrets", "_secrets_of", "analyzer", "conn", "direction", "event", "seq", "sink", "time")

    def __init__(self, analyzer: Analyzer) -> None:
        self.analyzer = analyzer
        self.conn: Connection | None = None
        self.event: Event | None = None
        self._secrets_of: Event | None = None
        self._secrets: tuple[Secret, ...] = ()
        self.sink: list[Finding] = []
        self.time = 0.0
        self.seq: int | None = None
        self.direction: Direction | None = None

    @property
    def options(self) -> AnalyzerOptions:
        return self.analyzer.options

    def stop_calls(self, checker: Checker) -> None:
        """``checker``'s ``on_call`` gets no more CALLs of the current connection: it has judged all it will
        (a hook that returns at once still costs a call per CALL, and some run for every CALL)."""
        conn = self.conn
        if conn is not None and checker not in conn.calls_stopped:
            conn.calls_stopped |= {checker}
            conn.call_handlers = {}  # rebuilt per action without it

    def emit(
        self,
        rule: Rule,
        message: str,
        evidence: dict[str, Any] | None = None,
        *,
        seq: int | type[Ellipsis] | None = ...,
        time: float | None = None,
        action: str | None = None,
        conn: Connection | None = None,
        charger: str | None = None,
        severity: Severity | None = None,
    ) -> Finding:
        """Report a finding about the current event (or ``seq``), connection (or ``conn``) and charger.

        Secrets never reach a finding: those of the current frame, and values whose names say secret, are
        replaced in ``message`` and ``evidence`` (every output shows findings; this is the one place to hide).
        """
        conn = conn or self.conn
        event = self.event
        if event is not self._secrets_of:
            self._secrets_of = event
            self._secrets = frame_secrets(event) if type(event) is Message else ()
        message, evidence = scrub_finding(message, evidence or {}, self._secrets)
        finding = Finding(
            rule=rule.id,
            severity=severity or rule.severity,
            message=message,
            conn_id=conn.conn_id if conn else None,
            charger=charger or (conn.charger if conn else None),
            seq=self.seq if seq is ... else seq,  # type: ignore[arg-type]
            time=time if time is not None else self.time,
            action=action,
            evidence=evidence,
        )
        if conn is not None:
            conn.counts[finding.severity] += 1
        self.sink.append(finding)
        return finding


class Checker:
    """A set of related rules. Override only the hooks you need; they run in registration order.

    ``actions`` limits ``on_call`` to CALLs of those actions, and ``result_actions`` limits ``on_result`` and
    ``on_error`` to answers to CALLs of those actions (default: ``actions``). None means every action.
    They keep rules off the hot path of frames they do not care about.
    """

    name: ClassVar[str] = "checker"
    actions: ClassVar[frozenset[str] | None] = None
    result_actions: ClassVar[frozenset[str] | None] = None
    judges_handshake: ClassVar[bool] = False
    """True for checkers whose ``on_open`` judges the handshake itself: skipped for synthetic connections."""
    answers_to: ClassVar[Direction | None] = None
    """Limits ``on_result`` and ``on_error`` to answers to the CALLs this side sent (None: both sides')."""
    judges_request: ClassVar[bool] = False
    """True for checkers whose ``on_open`` judges the upgrade request (path, headers): skipped when no request
    was read (no path and no headers: a connection that stalled before its request was complete)."""

    def on_open(self, ctx: Context, conn: Connection, event: ConnectionOpened) -> None:
        """A handshake finished (``event.status`` 101) or failed (any other status)."""

    def on_call(self, ctx: Context, conn: Connection, frame: Frame) -> None:
        """A CALL (or a 2.1 SEND) from ``ctx.direction``; its PendingCall is already in ``conn.pending``."""

    def on_result(self, ctx: Context, conn: Connection, call: PendingCall, frame: Frame) -> None:
        """A CALLRESULT paired with ``call``."""

    def on_error(self, ctx: Context, conn: Connection, call: PendingCall, frame: Frame) -> None:
        """A CALLERROR paired with ``call``."""

    def on_message(self, ctx: Context, conn: Connection, inspection: Inspection) -> None:
        """Every message, after the hooks above, whatever it decoded to."""

    def on_ping(self, ctx: Context, conn: Connection, event: Ping) -> None:
        """A ping or pong, where the producer could see it."""

    def on_timeout(self, ctx: Context, conn: Connection, call: PendingCall) -> None:
        """``call`` was proven unanswered within the call timeout."""

    def on_close(self, ctx: Context, conn: Connection, event: ConnectionClosed) -> None:
        """The connection ended; ``conn`` is dropped after the hooks ran."""

    def on_finish(self, ctx: Context, open_connections: Sequence[Connection]) -> None:
        """The input ended (end of a capture, proxy shutdown)."""


_HOOKS = ("on_open", "on_call", "on_result", "on_error", "on_message", "on_ping", "on_timeout", "on_close",
          "on_finish")


def _wants(checker: Checker, hook: str, action: str) -> bool:
    wanted = checker.actions if hook == "on_call" else (checker.result_actions or checker.actions)
    return wanted is None or action in wanted


class Analyzer:
    """Analyses a stream of events from any number of interleaved connections."""

    def __init__(self, checkers: Iterable[Checker] = (), options: AnalyzerOptions | None = None) -> None:
        self.options = options or AnalyzerOptions()
        self.checkers: list[Checker] = list(checkers)
        self.connections: dict[str, Connection] = {}
        self.last_time = 0.0
        self.internal_errors = 0
        self._ctx = Context(self)
        # Bound methods of the checkers that override each hook, so dispatch does no lookups per frame.
        self._hooks: dict[str, list[Callable[..., None]]] = {
            hook: [getattr(c, hook) for c in self.checkers if getattr(type(c), hook) is not getattr(Checker, hook)]
            for hook in _HOOKS
        }
        self._on_call: dict[str, list[Callable[..., None]]] = {}
        # Answer hooks per side that sent the CALL, then per action.
        self._on_answer: dict[str, dict[Direction, dict[str, list[Callable[..., None]]]]] = {
            hook: {direction: {} for direction in Direction} for hook in ("on_result", "on_error")
        }
        self._on_result = self._on_answer["on_result"]
        self._on_message = self._hooks["on_message"]
        # Action → the Direction allowed to send it (None: both ways), per version.
        self._directions: dict[str, dict[str, Direction | None]] = {
            version: {a: _DIRECTION_OF[e["direction"]] for a, e in actions(version).items()} for version in VERSIONS
        }
        self._slow_response = self.options.slow_response
        self._call_timeout = self.options.call_timeout

    # -- public API ------------------------------------------------------------------------------------

    def feed(self, event: Event) -> Inspection:
        """Analyse one event; return the decoded frame, its pairing and the findings it caused."""
        conn = self.connections.get(event.conn_id)
        if conn is None or type(event) is ConnectionOpened:
            reopened = self._reopened(conn, event) if conn is not None else None
            conn = self._new_connection(event)
            inspection = Inspection(event, conn) if reopened is None else Inspection(event, conn, findings=reopened)
        else:
            inspection = Inspection(event, conn)
        ctx = self._ctx
        ctx.conn = conn
        ctx.event = event
        ctx.sink = inspection.findings
        ctx.time = time = event.time
        ctx.seq = event.seq
        if time > self.last_time:
            self.last_time = time
        try:
            if type(event) is Message:
                ctx.direction = event.direction
                if time >= conn.expire_check:
                    self._expire(conn, time)
                # The message itself, inline rather than a method of its own: this runs for every frame.
                conn.frames += 1
                frame = inspection.frame = decode(event.content, event.is_text)
                message_type = frame.message_type
                if frame.problems:  # empty for the well-formed frames of the fast path: they pay nothing here
                    message_type = self._problems(ctx, conn, event, inspection)
                if message_type is _CALL:
                    self._call(ctx, conn, event, frame)
                elif message_type is _CALLRESULT or message_type is _CALLERROR:
                    self._answer(ctx, conn, event, frame, inspection)
                elif message_type is not None:
                    self._other_type(ctx, conn, frame, message_type)
                for handler in self._on_message:
                    try:
                        handler(ctx, conn, inspection)
                    except Exception as exc:
                        self._internal_error(ctx, handler.__self__.name, exc)
                # Updated last, so hooks see when this side sent its previous frame.
                conn.last_from[event.direction] = event.time
                return inspection
            ctx.direction = getattr(event, "direction", None)
            if type(event) is ConnectionOpened:
                self._open(ctx, conn, event)
            elif type(event) is ConnectionClosed:
                self._close(ctx, conn, event)
            elif type(event) is Ping:
                self._run("on_ping", ctx, conn, event)
            elif type(event) is Gap:
                self._gap(ctx, conn, event)
        except Exception as exc:  # the core never lets one event stop the stream
            self._internal_error(ctx, "analyzer", exc)
        return inspection

    def tick(self, now: float) -> list[Finding]:
        """Let time pass without traffic (the live proxy calls this about once a second)."""
        ctx = self._fresh_context()
        ctx.time = now
        for conn in list(self.connections.values()):
            ctx.conn = conn
            self._expire(conn, now)
        return ctx.sink

    def finish(self, now: float | None = None) -> list[Finding]:
        """The input ended at ``now`` (default: the latest event time seen): prove what that time proves
        and report what is still open."""
        if now is not None and now > self.last_time:
            self.last_time = now
        ctx = self._fresh_context()
        now = self.last_time
        for conn in self.connections.values():
            ctx.conn = conn
            self._expire(conn, now)
            for pending in conn.pending.values():
                for call in pending.values():
                    ctx.emit(
                        rpc.UNANSWERED_AT_END,
                        f"{call.direction.sender} CALL {call.action} (id {call.message_id}) had no answer "
                        f"when the capture ended {now - call.time:.1f} s later",
                        {"message_id": call.message_id, "waited": round(now - call.time, 3)},
                        seq=call.seq,
                        time=now,
                        action=call.action,
                    )
        ctx.conn = None
        self._run("on_finish", ctx, tuple(self.connections.values()))
        return ctx.sink

    # -- events ----------------------------------------------------------------------------------------

    def _reopened(self, conn: Connection, event: Event) -> list[Finding]:
        """``event`` opens ``conn``'s id again while it is open: ``conn`` ends here (said so, and closed as a
        close without a code would close it), so what waited on it is reported, never dropped."""
        ctx = self._fresh_context()
        ctx.conn = conn
        ctx.time = event.time
        ctx.seq = event.seq
        was = conn.opened
        earlier = f"opened on {was.path or '?'}" if was is not None else "whose opening the record does not show"
        path = getattr(event, "path", "") or "?"
        ctx.emit(CONNECTION_REOPENED,
                 f"connection {conn.conn_id} opens again on {path} while the one {earlier} is still open: two "
                 "captures joined? The earlier one is read as closed here",
                 {"conn": conn.conn_id, "path": path, "earlier_path": was.path if was is not None else None})
        close = ConnectionClosed(conn.conn_id, event.time, None, REOPENED_REASON, "unknown", event.seq)
        ctx.event = close
        try:
            self._close(ctx, conn, close)
        except Exception as exc:  # the core never lets one event stop the stream
            self._internal_error(ctx, "analyzer", exc)
        return ctx.sink

    def _new_connection(self, event: Event) -> Connection:
        conn = Connection(event.conn_id, event if type(event) is ConnectionOpened else None)
        self.connections[event.conn_id] = conn
        return conn

    def _open(self, ctx: Context, conn: Connection, event: ConnectionOpened) -> None:
        version = version_of_subprotocol(event.subprotocol)
        if version is not None:
            conn.version = version
            if version not in VERSIONS:
                ctx.emit(
                    rpc.VERSION_UNSUPPORTED,
                    f"OCPP {version} negotiated: ocppscope pairs its frames but has no schemas to validate them",
                    {"subprotocol": event.subprotocol},
                    seq=event.seq,
                )
        no_request = not event.path and not event.request_headers
        skipped = "judges_handshake" if event.synthetic else "judges_request" if no_request else None
        if skipped is None:
            self._run("on_open", ctx, conn, event)
        else:
            for handler in self._hooks["on_open"]:
                if not getattr(handler.__self__, skipped):
                    self._call_hook(ctx, handler, conn, event)
        if event.status != 101:
            # A refused handshake carries no messages; keep nothing of it.
            self.connections.pop(conn.conn_id, None)

    def _close(self, ctx: Context, conn: Connection, event: ConnectionClosed) -> None:
        self._expire(conn, event.time)
        for pending in conn.pending.values():
            for call in pending.values():
                call.state = "closed"
                ctx.emit(
                    rpc.UNANSWERED_AT_CLOSE,
                    f"connection closed while {call.direction.sender} CALL {call.action} "
                    f"(id {call.message_id}) waited {event.time - call.time:.1f} s for its answer",
                    {"message_id": call.message_id, "waited": round(event.time - call.time, 3),
                     "close_code": event.code},
                    seq=call.seq,
                    action=call.action,
                )
            pending.clear()
        conn.closed = event
        self._run("on_close", ctx, conn, event)
        self.connections.pop(conn.conn_id, None)

    def _gap(self, ctx: Context, conn: Connection, event: Gap) -> None:
        since = f" from {event.time - event.since:.1f} s earlier" if event.since is not None else ""
        ctx.emit(CAPTURE_GAP,
                 f"{event.frames} event(s) of this connection{since} were relayed but not recorded"
                 + (f": {event.reason}" if event.reason else ""),
                 {"frames": event.frames, "since": event.since, "reason": event.reason})
        # Answers may be in the hole, and so may CALLs: until a call timeout after the gap, a CALL that waited
        # is neither proven unanswered nor its answer late, and an answer to an unknown id is not reported.
        waiting = {call.message_id: call for pending in conn.pending.values() for call in pending.values()}
        waiting.update(conn.expired)
        for pending in conn.pending.values():
            pending.clear()
        conn.expired.clear()
        conn.expire_check = float("inf")
        conn.data[_GAP_KEY] = (event.time + self.options.call_timeout, waiting)

    def _problems(self, ctx: Context, conn: Connection, event: Message,
                  inspection: Inspection) -> MessageType | None:
        """Report what is wrong with the frame; the message type to go on with (None: not to be paired)."""
        frame = inspection.frame
        assert frame is not None
        if event.cut:
            self._cut(ctx, conn, event, inspection)
            return None  # its visible start is paired, its payload not judged
        for problem in frame.problems:
            ctx.emit(framing.PROBLEM_RULES[problem.rule], problem.detail, problem.evidence, action=frame.action)
        return frame.message_type

    def _other_type(self, ctx: Context, conn: Connection, frame: Frame, message_type: MessageType) -> None:
        """A CALLRESULTERROR or SEND (OCPP 2.1 only)."""
        if conn.version is not None and conn.version != "2.1":
            ctx.emit(
                framing.TYPE_NOT_IN_VERSION,
                f"{message_type.name} ({int(message_type)}) exists only in OCPP 2.1, "
                f"this connection speaks {conn.version}",
                {"message_type": int(message_type), "version": conn.version},
                action=frame.action,
            )
        if message_type is MessageType.SEND and frame.action is not None:
            self._dispatch(ctx, conn, self._call_handlers(conn, frame.action), frame)

    def _cut(self, ctx: Context, conn: Connection, event: Message, inspection: Inspection) -> None:
        """A frame a log cut short: reported as such, paired by the id its visible start shows, not judged."""
        frame = inspection.frame = decode_cut(event.content)
        problem = frame.problems[0]
        ctx.emit(imported.FRAME_CUT, problem.detail, problem.evidence, action=frame.action)
        message_id = frame.message_id
        if message_id is not None:
            if frame.message_type is _CALL:
                conn.pending[event.direction][message_id] = PendingCall(
                    frame, message_id, frame.action, event.direction, event.seq, event.time)
                conn.expire_check = min(conn.expire_check, event.time + self.options.call_timeout)
            elif frame.message_type is _CALLRESULT or frame.message_type is _CALLERROR:
                call = conn.pending[_REVERSE[event.direction]].pop(message_id, None)
                if call is not None:
                    call.state = "answered"
                    inspection.call = call
                    inspection.latency = event.time - call.time

    def _call(self, ctx: Context, conn: Connection, event: Message, frame: Frame) -> None:
        direction = event.direction
        action = frame.action
        if conn.version is None and action is not None and not conn.version_guessed:
            self._guess_version(ctx, conn, frame)
        message_id = frame.message_id
        if message_id is not None:
            pending = conn.pending[direction]
            if pending:
                earlier = pending.get(message_id)
                if earlier is not None:
                    earlier.state = "superseded"
                    del pending[message_id]
                    ctx.emit(
                        rpc.DUPLICATE_ID,
                        f"{direction.sender} reuses id {message_id} of its unanswered {earlier.action} CALL",
                        {"message_id": message_id, "earlier_seq": earlier.seq, "earlier_action": earlier.action},
                        action=action,
                    )
                if pending:
                    first = next(iter(pending.values()))
                    ctx.emit(
                        rpc.CONCURRENT_CALL,
                        f"{direction.sender} sends {action} while its {first.action} (id {first.message_id}) "
                        f"is still unanswered after {event.time - first.time:.1f} s",
                        {"unanswered_seq": first.seq, "unanswered_action": first.action,
                         "unanswered_id": first.message_id, "pending": len(pending)},
                        action=action,
                    )
                if len(pending) >= self.options.max_pending:
                    oldest_id = next(iter(pending))
                    pending.pop(oldest_id).state = "closed"
                    if not conn.data.get("pending_overflow"):
                        conn.data["pending_overflow"] = True
                        ctx.emit(
                            rpc.PENDING_OVERFLOW,
                            f"more than {self.options.max_pending} unanswered CALLs from the {direction.sender}; "
                            "the oldest are no longer tracked",
                            {"limit": self.options.max_pending},
                            action=action,
                        )
            pending[message_id] = PendingCall(frame, message_id, action, direction, event.seq, event.time)
            deadline = event.time + self._call_timeout
            if deadline < conn.expire_check:
                conn.expire_check = deadline
        if action is not None:
            directions = self._directions.get(conn.version)  # type: ignore[arg-type]
            if directions is not None:
                version = conn.version
                expected = directions.get(action, _UNKNOWN)
                if expected is _UNKNOWN:
                    ctx.emit(
                        rpc.UNKNOWN_ACTION,
                        f"{action} is not an OCPP {version} action",
                        {"version": version, "known_in": list(versions_with_action(action))},
                        action=action,
                    )
                elif expected is not None and expected is not direction:
                    ctx.emit(
                        rpc.WRONG_DIRECTION,
                        f"the {direction.sender} sent {action}, which only the "
                        f"{direction.reverse.sender} may send",
                        {"version": version, "expected": str(expected)},
                        action=action,
                    )
            table = conn.call_handlers
            handlers = (self._on_call if table is None else table).get(action)
            if handlers is None:
                handlers = self._call_handlers(conn, action)
            for handler in handlers:
                try:
                    handler(ctx, conn, frame)
                except Exception as exc:
                    self._internal_error(ctx, handler.__self__.name, exc)

    def _answer(self, ctx: Context, conn: Connection, event: Message, frame: Frame, inspection: Inspection) -> None:
        message_id = frame.message_id
        if message_id is None:
            return
        call = conn.pending[_REVERSE[event.direction]].pop(message_id, None)
        if call is None:
            call = self._unawaited(ctx, conn, event, message_id)
            if call is None:
                return
        elif event.time - call.time > self._slow_response:
            ctx.emit(
                rpc.SLOW_RESPONSE,
                f"{call.action} answered after {event.time - call.time:.1f} s "
                f"(slow-response threshold {self.options.slow_response:g} s)",
                {"message_id": message_id, "latency": round(event.time - call.time, 3), "call_seq": call.seq},
                action=call.action,
            )
        # Pairing, inline rather than a method of its own: this runs for every answer.
        call.state = "answered"
        answered = conn.answered
        answered[(event.direction, message_id)] = (call, event.seq)
        if len(answered) >= _ANSWERED_KEPT:
            conn.answered_before = answered
            conn.answered = {}
        inspection.call = call
        inspection.latency = event.time - call.time
        action = call.action
        if frame.message_type is _CALLERROR:
            self._call_error(ctx, conn, call, frame)
            if action is not None:
                handlers = self._on_answer["on_error"][call.direction].get(action)
                if handlers is None:
                    handlers = self._handlers("on_error", action, call.direction)
                self._dispatch(ctx, conn, handlers, call, frame)
            return
        if action is None:
            return
        handlers = self._on_result[call.direction].get(action)
        if handlers is None:
            handlers = self._handlers("on_result", action, call.direction)
        for handler in handlers:
            try:
                handler(ctx, conn, call, frame)
            except Exception as exc:
                self._internal_error(ctx, handler.__self__.name, exc)

    def _unawaited(self, ctx: Context, conn: Connection, event: Message, message_id: str) -> PendingCall | None:
        """An answer no pending CALL waits for: the expired CALL it answers late, or the CALL a capture gap hid
        (both to be paired), or None after reporting a second answer or an unknown id."""
        call = conn.expired.pop(message_id, None)
        if call is not None:
            ctx.emit(
                rpc.LATE_RESPONSE,
                f"answer to {call.action} (id {message_id}) came {event.time - call.time:.1f} s after the CALL, "
                f"beyond the {self.options.call_timeout:g} s timeout",
                {"message_id": message_id, "latency": round(event.time - call.time, 3), "call_seq": call.seq},
                action=call.action,
            )
            return call
        key = (event.direction, message_id)
        earlier = conn.answered.get(key) or conn.answered_before.get(key)
        if earlier is not None:
            answered, answer_seq = earlier
            ctx.emit(
                rpc.DUPLICATE_ANSWER,
                f"{event.direction.sender} answers {answered.action} (id {message_id}) a second time; "
                f"it was already answered at #{answer_seq}",
                {"message_id": message_id, "call_seq": answered.seq, "first_answer_seq": answer_seq},
                action=answered.action,
            )
            return None
        gap = conn.data.get(_GAP_KEY)
        if gap is not None and event.time <= gap[0]:
            # None when its CALL may be in the gap: the capture.gap finding already says so.
            return gap[1].pop(message_id, None)  # type: ignore[no-any-return]
        ctx.emit(
            rpc.UNKNOWN_ID,
            f"{event.direction.sender} answers id {message_id}, but no CALL from the "
            f"{event.direction.reverse.sender} is waiting for it",
            {"message_id": message_id},
        )
        return None

    def _call_error(self, ctx: Context, conn: Connection, call: PendingCall, frame: Frame) -> None:
        code = frame.error_code
        ctx.emit(
            rpc.CALL_ERROR,
            f"{frame.error_code} answer to {call.action}"
            + (f": {frame.error_description}" if frame.error_description else ""),
            {"error_code": code, "description": frame.error_description, "details": frame.payload,
             "call_seq": call.seq},
            action=call.action,
        )
        version = conn.version
        if code is None or version not in ERROR_CODES or code in ERROR_CODES[version]:
            return
        if code in ERROR_CODE_ALIASES[version]:
            ctx.emit(
                rpc.ERROR_CODE_SPELLING,
                f"error code {code} is the spelling of another OCPP version than {version}",
                {"error_code": code, "version": version},
                action=call.action,
            )
        else:
            ctx.emit(
                rpc.UNKNOWN_ERROR_CODE,
                f"error code {code} is not an OCPP {version} error code",
                {"error_code": code, "version": version, "allowed": sorted(ERROR_CODES[version])},
                action=call.action,
            )

    def _expire(self, conn: Connection, now: float) -> None:
        timeout = self.options.call_timeout
        conn.expire_check = float("inf")
        for pending in conn.pending.values():
            while pending:
                call = next(iter(pending.values()))
                if now - call.time < timeout:
                    # The oldest one left: nothing here can expire before it does.
                    conn.expire_check = min(conn.expire_check, call.time + timeout)
                    break
                del pending[call.message_id]
                call.state = "timed-out"
                conn.expired[call.message_id] = call
                if len(conn.expired) > _EXPIRED_KEPT:
                    del conn.expired[next(iter(conn.expired))]
                ctx = self._ctx
                ctx.emit(
                    rpc.TIMEOUT,
                    f"{call.direction.sender} CALL {call.action} (id {call.message_id}) unanswered "
                    f"after {timeout:g} s",
                    {"message_id": call.message_id, "timeout": timeout},
                    seq=call.seq,
                    time=call.time + timeout,
                    action=call.action,
                    conn=conn,
                )
                self._run("on_timeout", ctx, conn, call)

    def _guess_version(self, ctx: Context, conn: Connection, frame: Frame) -> None:
        action = frame.action or ""
        candidates = versions_with_action(action)
        if not candidates:
            return  # an unknown action tells nothing; try the next CALL
        chosen = None
        for version in candidates:
            schema = schema_for(version, action, "request")
            if schema is not None and schema.validate(frame.payload) is None:
                chosen = version
                break
        if chosen is None:
            chosen = candidates[0]
        conn.version = chosen
        conn.version_guessed = True
        synthetic = conn.opened is not None and conn.opened.synthetic
        ctx.emit(
            rpc.VERSION_GUESSED,
            (f"the input does not say which OCPP version; the traffic looks like OCPP {chosen} (from {action})"
             if synthetic else
             f"no OCPP subprotocol negotiated; the traffic looks like OCPP {chosen} (from {action})"),
            {"subprotocol": conn.subprotocol, "action": action, "candidates": list(candidates),
             "version": chosen},
            action=action,
            severity=Severity.INFO if synthetic else None,
        )

    # -- checker dispatch ------------------------------------------------------------------------------

    def _handlers(self, hook: str, action: str, sender: Direction | None = None) -> list[Callable[..., None]]:
        """The ``hook`` methods that want ``action`` (for an answer hook: to a CALL from ``sender``), computed
        once per action and sender."""
        handlers = [handler for handler in self._hooks[hook] if _wants(handler.__self__, hook, action)
                    and (sender is None or handler.__self__.answers_to in (None, sender))]
        if sender is None:
            self._on_call[action] = handlers
        else:
            self._on_answer[hook][sender][action] = handlers
        return handlers

    def _call_handlers(self, conn: Connection, action: str) -> list[Callable[..., None]]:
        """The ``on_call`` methods for ``action`` on ``conn``: those that want it, less the checkers that
        stopped taking this connection's CALLs."""
        handlers = self._on_call.get(action)
        if handlers is None:
            handlers = self._handlers("on_call", action)
        table = conn.call_handlers
        if table is None:
            return handlers
        stopped = conn.calls_stopped
        own = table[action] = [handler for handler in handlers if handler.__self__ not in stopped]
        return own

    def _dispatch(self, ctx: Context, conn: Connection, handlers: list[Callable[..., None]], *args: Any) -> None:
        for handler in handlers:
            try:
                handler(ctx, conn, *args)
            except Exception as exc:
                self._internal_error(ctx, handler.__self__.name, exc)

    def _run(self, hook: str, ctx: Context, *args: Any) -> None:
        for handler in self._hooks[hook]:
            try:
                handler(ctx, *args)
            except Exception as exc:
                self._internal_error(ctx, handler.__self__.name, exc)

    def _call_hook(self, ctx: Context, handler: Callable[..., None], *args: Any) -> None:
        try:
            handler(ctx, *args)
        except Exception as exc:
            self._internal_error(ctx, handler.__self__.name, exc)

    def _fresh_context(self) -> Context:
        ctx = self._ctx
        ctx.event = None
        ctx.conn = None
        ctx.sink = []
        ctx.time = self.last_time
        ctx.seq = None
        ctx.direction = None
        return ctx

    def _internal_error(self, ctx: Context, where: str, exc: Exception) -> None:
        self.internal_errors += 1
        log.exception("ocppscope: %s failed on event seq %s", where, ctx.seq)
        try:
            ctx.emit(INTERNAL_ERROR, f"{where} failed: {type(exc).__name__}: {exc}",
                     {"where": where, "exception": repr(exc)[:500]})
        except Exception:  # pragma: no cover - never let error reporting raise
            log.exception("ocppscope: could not report an internal error")
