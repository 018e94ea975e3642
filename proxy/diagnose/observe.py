"""Collect what a diagnosis needs from the analyzer's output, one (event, inspection) pair at a time.

The builder never analyses frames itself: the analyzer has paired them and its rules have found the
reconnects, concurrent connections, timeouts, CALLERRORs and boot retries; the lifecycle rules' own
:func:`~proxy.core.checks.lifecycle.describe_close` words each close and measures the idle time before it.
The builder keeps, per charger, the facts the cause detectors look at, in memory bounded per connection.
What no rule reports, it derives from the traffic itself: the series of the charger's clock offsets
(:mod:`proxy.diagnose.clock`) and runs of one CALL repeated unchanged and refused the same way each time
(:mod:`proxy.diagnose.retries`).
"""

from __future__ import annotations

import secrets
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from ocppscope.proxy.core.analyzer import Inspection
from ocppscope.proxy.core.basic_auth import parse_basic_auth
from ocppscope.proxy.core.checks.lifecycle import describe_close
from ocppscope.proxy.core.connection import Connection
from ocppscope.proxy.core.events import ConnectionClosed, ConnectionOpened, Direction, Event, Message, Ping, header
from ocppscope.proxy.core.findings import Finding
from ocppscope.proxy.core.frames import Frame
from ocppscope.proxy.core.protocol import MessageType
from ocppscope.proxy.diagnose.clock import ClockWatch, charger_time
from ocppscope.proxy.diagnose.model import ConnectionTimeline, FrameRef
from ocppscope.proxy.diagnose.retries import RetryRun, RetryWatch
from ocppscope.proxy.diagnose.settings import revealed

LAST_FRAMES = 4
_KEPT = 50
"""Per connection and kind of fact (CALLERRORs, timeouts, ...): enough to show a pattern, bounded."""
_CALLS_KEPT = 256
_REPORTS = frozenset({"GetConfiguration", "GetVariables"})
_SETTINGS_ACTIONS = frozenset({"BootNotification", "ChangeConfiguration", "SetVariables", *_REPORTS})


@dataclass(slots=True)
class CallFact:
    """A CALL of interest (timed out, unanswered at the close, sent while another was pending)."""

    ref: FrameRef
    direction: Direction
    action: str | None
    at: float
    """When it became a fact: the timeout expired, the connection closed, the CALL was sent."""
    waited: float | None = None
    other: FrameRef | None = None
    """For a concurrent CALL: the earlier CALL still unanswered."""


@dataclass(slots=True)
class BootAttempt:
    ref: FrameRef
    status: str | None = None
    """Accepted, Pending, Rejected, 'CALLERROR <code>', or None while (or if never) answered."""
    interval: int | None = None
    answer: FrameRef | None = None


@dataclass(slots=True)
class ConnectionFacts:
    timeline: ConnectionTimeline
    errors: deque[tuple[FrameRef, str]] = field(default_factory=lambda: deque(maxlen=_KEPT))
    """CALLERRORs with who sent them."""
    timeouts: list[CallFact] = field(default_factory=list)
    unanswered_at_close: list[CallFact] = field(default_factory=list)
    concurrent: list[CallFact] = field(default_factory=list)
    heartbeats_late: list[Finding] = field(default_factory=list)
    handshake: list[Finding] = field(default_factory=list)
    """Findings about the upgrade (handshake.*, auth.*, identity.*)."""
    answered: dict[str, float] = field(default_factory=dict)
    """Per sender, when the latest CALL that got an answer was sent: a CALL left unanswered before that
    was given up on, and is not what ended the connection."""
    request: dict[str, Any] = field(default_factory=dict)
    """What the upgrade request asked with: path, subprotocols, credentials (facts, never the secret), TLS."""


@dataclass(slots=True)
class ChargerFacts:
    charger: str | None
    connections: list[ConnectionFacts] = field(default_factory=list)
    boots: list[BootAttempt] = field(default_factory=list)
    findings: dict[str, list[Finding]] = field(default_factory=dict)
    """Charger-wide findings by rule (lifecycle.*, boot.*), the first few of each."""
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    clock: ClockWatch | None = None
    retries: RetryWatch = field(default_factory=RetryWatch)

    @property
    def retry_loops(self) -> list[RetryRun]:
        return self.retries.loops()


_Seen = tuple[int, float, Direction, "Frame | None", "str | None"]
"""A frame as kept while its connection is open: seq, time, sender, decoded frame, action it answers."""


class _Open:
    """A connection still open: its facts and its recent frames."""

    __slots__ = ("calls", "count", "facts", "frames", "pings")

    def __init__(self, facts: ConnectionFacts) -> None:
        self.facts = facts
        self.count = 0
        """Frames seen so far (the analyzer's count is only read at the close)."""
        self.frames: deque[_Seen] = deque(maxlen=LAST_FRAMES)
        self.calls: dict[int, tuple[Direction, str | None, float]] = {}
        """Recent CALLs by seq: sender, action, time."""
        self.pings = 0

    def last_frames(self) -> list[FrameRef]:
        return [_ref(self.facts.timeline.conn_id, seen) for seen in self.frames]


def _ref(conn_id: str, seen: _Seen) -> FrameRef:
    seq, time, direction, frame, answered = seen
    return FrameRef(seq, conn_id, time, describe_frame(direction, frame, answered))


def describe_frame(direction: Direction, frame: Frame | None, answered: str | None) -> str:
    arrow = direction.arrow
    if frame is None or frame.message_type is None:
        return f"{arrow} unreadable frame"
    kind = frame.message_type
    if kind is MessageType.CALL or kind is MessageType.SEND:
        return f"{arrow} {frame.action}"
    if kind is MessageType.CALLERROR:
        return f"{arrow} CALLERROR {frame.error_code} to {answered or 'an unknown CALL'}"
    status = frame.payload.get("status") if isinstance(frame.payload, dict) else None
    status = status if isinstance(status, str) else None
    return f"{arrow} {answered or 'answer to an unknown CALL'} answer" + (f" ({status})" if status else "")


class DiagnosisBuilder:
    """Feed it every (event, inspection) of an analysis, in order; read :attr:`chargers` at the end."""

    def __init__(self, clock_jump: float = 60.0) -> None:
        self.chargers: dict[str | None, ChargerFacts] = {}
        self._open: dict[str, _Open] = {}
        self._clock_jump = clock_jump
        self._boots: dict[tuple[str, int], BootAttempt] = {}
        # Live headers carry the password itself: a random salt lets two of them be compared, nothing more.
        self._salt = secrets.token_bytes(16)

    def charger(self, identity: str | None) -> ChargerFacts:
        facts = self.chargers.get(identity)
        if facts is None:
            facts = self.chargers[identity] = ChargerFacts(identity, clock=ClockWatch(self._clock_jump))
        return facts

    def observe(self, event: Event, inspection: Inspection) -> None:
        conn = inspection.conn
        kind = type(event)
        if kind is ConnectionClosed:
            # The close's findings (CALLs left unanswered) are about the connection still open here.
            self.findings(inspection.findings)
            self._closed(event, conn)  # type: ignore[arg-type]
            return
        if kind is Message:
            self._message(event, inspection)  # type: ignore[arg-type]
        elif kind is ConnectionOpened:
            self._opened(event, conn)  # type: ignore[arg-type]
        elif kind is Ping:
            live = self._open.get(event.conn_id)
            if live is not None:
                live.pings += 1
        self.findings(inspection.findings)

    def findings(self, found: list[Finding]) -> None:
        """Findings that come from the clock or the end of the input (``tick``, ``finish``), or any others."""
        for finding in found:
            self._finding(finding)

    def finish(self) -> None:
        for facts in self.chargers.values():
            if facts.clock is not None:
                facts.clock.finish()
        for live in self._open.values():
            live.facts.timeline.last_frames = live.last_frames()
            live.facts.timeline.pings = live.pings
            live.facts.timeline.frames = live.count

    # -- events ------------------------------------------------------------------------------------------

    def _opened(self, event: ConnectionOpened, conn: Connection) -> None:
        timeline = ConnectionTimeline(
            event.conn_id, conn.charger, event.time, event.status, event.subprotocol, event.client, event.seq,
            event.error,
        )
        facts = ConnectionFacts(timeline, request=self._request(event))
        charger = self.charger(conn.charger)
        charger.connections.append(facts)
        if "HeartbeatInterval" in charger.settings:
            # Chargers reconnect without booting again: the interval they were given still holds.
            timeline.heartbeat_interval = charger.settings["HeartbeatInterval"]["value"]
        if event.status == 101:
            self._open[event.conn_id] = _Open(facts)

    def _request(self, event: ConnectionOpened) -> dict[str, Any]:
        auth = event.auth or parse_basic_auth(header(event.request_headers, "Authorization"), self._salt)
        credentials = "none" if auth.scheme is None else (
            f"{auth.scheme} user {auth.user!r}, {auth.password_bytes} byte {auth.password_kind} password"
            if auth.user is not None else f"{auth.scheme} ({auth.error or 'unreadable'})")
        return {
            "path": event.path,
            "subprotocols": header(event.request_headers, "Sec-WebSocket-Protocol") or "none",
            "credentials": credentials,
            # Compared, never shown: equal HMACs mean the same password was sent.
            "password": auth.password_hmac,
            "tls": event.client_tls.version if event.client_tls else "none (ws://)",
        }

    def _closed(self, event: ConnectionClosed, conn: Connection) -> None:
        live = self._open.pop(event.conn_id, None)
        if live is None:
            # A close without its opening (the capture started mid-connection): a timeline from the close.
            timeline = ConnectionTimeline(event.conn_id, conn.charger, conn.opened_at or event.time, 101)
            live = _Open(ConnectionFacts(timeline))
            self.charger(conn.charger).connections.append(live.facts)
        timeline = live.facts.timeline
        text, evidence = describe_close(conn, event)
        timeline.closed_at = event.time
        timeline.close_seq = event.seq
        timeline.closed_by = event.closed_by
        timeline.code = event.code
        timeline.reason = event.reason
        timeline.relayed_code = event.relayed_code
        timeline.idle = evidence["idle"]
        timeline.since_ping = evidence.get("since_ping")
        timeline.frames = conn.frames
        timeline.close_text = text
        timeline.pings = live.pings
        timeline.last_frames = live.last_frames()
        charger_last = conn.last_from.get(Direction.FROM_CHARGER, timeline.opened_at)
        timeline.charger_silence = round(max(0.0, event.time - charger_last), 3)

    def _message(self, event: Message, inspection: Inspection) -> None:
        live = self._open.get(event.conn_id)
        if live is None:
            return
        frame = inspection.frame
        call = inspection.call
        live.count += 1
        # Worded only if it is ever shown: most frames are never evidence.
        live.frames.append((event.seq, event.time, event.direction, frame, call.action if call else None))
        if frame is None or frame.message_type is None:
            return
        kind = frame.message_type
        if kind is MessageType.CALL:
            self._call(event, frame, live, inspection.conn)
            return
        if call is None:
            return
        sender = call.direction.sender
        answered = live.facts.answered
        if answered.get(sender, call.time) <= call.time:
            answered[sender] = call.time
        facts = self.charger(inspection.conn.charger)
        facts.retries.answered(call, frame, event.conn_id, lambda: _ref(event.conn_id, live.frames[-1]))
        if kind is MessageType.CALLERROR:
            ref = _ref(event.conn_id, live.frames[-1])
            live.facts.errors.append((ref, event.direction.sender))
            self._boot_answer(event, call.action, call.seq, f"CALLERROR {frame.error_code}", None, ref)
        elif kind is MessageType.CALLRESULT and isinstance(frame.payload, dict):
            payload = frame.payload
            action = call.action
            if "currentTime" in payload and facts.clock is not None:
                facts.clock.synced_at(event.time)
            if action not in _SETTINGS_ACTIONS:
                return
            if action == "BootNotification":
                interval = payload.get("interval")
                self._boot_answer(event, action, call.seq, str(payload.get("status")),
                                  interval if isinstance(interval, int) else None, _ref(event.conn_id, live.frames[-1]))
            for name, value in revealed(action, call.payload, payload).items():
                known = facts.settings.get(name)
                if action in _REPORTS and known is not None and known["source"] not in _REPORTS:
                    continue  # what the backend set is in force; a charger's report of its variable may lag
                facts.settings[name] = {"value": value, "seq": event.seq, "source": action}
            interval = facts.settings.get("HeartbeatInterval")
            if interval is not None:
                live.facts.timeline.heartbeat_interval = interval["value"]

    def _call(self, event: Message, frame: Frame, live: _Open, conn: Connection) -> None:
        live.calls[event.seq] = (event.direction, frame.action, event.time)
        if len(live.calls) > _CALLS_KEPT:
            del live.calls[next(iter(live.calls))]
        if event.direction is not Direction.FROM_CHARGER:
            return
        facts = self.charger(conn.charger)
        if frame.action == "BootNotification":
            attempt = BootAttempt(_ref(event.conn_id, live.frames[-1]))
            facts.boots.append(attempt)
            if len(facts.boots) > _KEPT * 4:
                del facts.boots[0]
            self._boots[(event.conn_id, event.seq)] = attempt
        stamp = charger_time(frame.action, frame.payload)
        if stamp is not None and facts.clock is not None:
            facts.clock.sample(event.seq, event.conn_id, event.time, stamp)

    def _boot_answer(self, event: Message, action: str | None, call_seq: int, status: str,
                     interval: int | None, ref: FrameRef) -> None:
        if action != "BootNotification":
            return
        attempt = self._boots.pop((event.conn_id, call_seq), None)
        if attempt is not None:
            attempt.status, attempt.interval, attempt.answer = status, interval, ref

    # -- findings ----------------------------------------------------------------------------------------

    def _finding(self, finding: Finding) -> None:
        rule = finding.rule
        live = self._open.get(finding.conn_id or "")
        facts = self.charger(finding.charger) if finding.charger is not None or live is not None else None
        if rule.startswith(("lifecycle.", "boot.", "clock.")) and facts is not None:
            kept = facts.findings.setdefault(rule, [])
            if len(kept) < _KEPT:
                kept.append(finding)
        conn_facts = live.facts if live is not None else self._closed_facts(finding)
        if conn_facts is None:
            return
        if rule.startswith(("handshake.", "auth.", "identity.")):
            _keep(conn_facts.handshake, finding)
        elif rule == "heartbeat.late":
            _keep(conn_facts.heartbeats_late, finding)
        elif rule == "heartbeat.silent-before-close" and not conn_facts.timeline.heartbeat_interval:
            # The rule knew the interval where the revealed settings did not (a key spelled in another case).
            interval = finding.evidence.get("interval")
            conn_facts.timeline.heartbeat_interval = interval if isinstance(interval, int) else None
        elif rule in ("rpc.timeout", "rpc.unanswered-at-close", "rpc.concurrent-call") and live is not None:
            self._call_finding(finding, live, conn_facts)

    def _closed_facts(self, finding: Finding) -> ConnectionFacts | None:
        """The facts of a connection the finding is about that is no longer open (refused, just closed)."""
        facts = self.chargers.get(finding.charger)
        if facts is None or not facts.connections:
            return None
        last = facts.connections[-1]
        return last if last.timeline.conn_id == finding.conn_id else None

    def _call_finding(self, finding: Finding, live: _Open, facts: ConnectionFacts) -> None:
        known = live.calls.get(finding.seq or -1)
        if known is None:
            return
        direction, action, sent = known
        ref = FrameRef(finding.seq, live.facts.timeline.conn_id, sent, f"{direction.arrow} {action}")
        waited = finding.evidence.get("waited") or finding.evidence.get("timeout")
        fact = CallFact(ref, direction, action, finding.time or ref.time, waited)
        if finding.rule == "rpc.timeout":
            _keep(facts.timeouts, fact)
        elif finding.rule == "rpc.unanswered-at-close":
            _keep(facts.unanswered_at_close, fact)
        else:
            earlier_seq = finding.evidence.get("unanswered_seq") or -1
            earlier = live.calls.get(earlier_seq)
            if earlier is not None:
                fact.other = FrameRef(earlier_seq, ref.conn_id, earlier[2], f"{earlier[0].arrow} {earlier[1]}")
            _keep(facts.concurrent, fact)


def _keep(kept: list[Any], item: Any) -> None:
    if len(kept) < _KEPT:
        kept.append(item)
