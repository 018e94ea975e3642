"""Importers for the CSMS logs people paste into bug reports.

Formats (examples in tests/data/logs/, with where each shape was seen in tests/data/logs/SOURCES.md):

``ocpp-go``
    ocpp-go and evcc: ``[ocpp  ] TRACE 2024/07/11 17:12:57 recv EVB-P21302000: [2,…]`` (``recv``/``received``,
    ``send``/``sent``), ocpp-go's own ``received JSON message from CP01: …`` / ``sent JSON message to CP01: …``
    (also inside logrus ``msg="…"``), and evcc's ``charge point connected: ID`` / ``disconnected``.
``home-assistant``
    The Home Assistant OCPP integration, which logs through the ``ocpp`` package:
    ``2025-01-30 14:41:45.253 INFO (MainThread) [ocpp] CP01: receive message [2,…]`` and ``… CP01: send […]``
    (``send message`` in newer versions; ``INFO:ocpp:CP01: send …`` from plain Python logging). Older
    versions pretty-printed frames over several lines; those lines are joined back.
``steve``
    SteVe's WebSocketLogger: ``[INFO ] 2023-10-13 07:53:58,463 de.rwth.idsg.steve.ocpp.ws.WebSocketLogger
    (qtp…) - [chargeBoxId=CP01, sessionId=…] Received: […]`` / ``Sending: […]``, plus connection established /
    closed (with its close code), pings and pongs. The session id becomes the connection id.
``plain``
    ``<timestamp> [<charger>] <direction> <frame>``: an ISO 8601 time (or epoch seconds), an optional charger
    identity, a direction (``cp-to-csms``/``csms-to-cp``, ``CP->CSMS``/``CSMS->CP``, or an arrow with the
    charger on the left: ``->``, ``→``, ``>>``, ``>`` for charger to backend), then the frame.

Whether "received" means "from the charger" depends on who wrote the log. SteVe is always a backend; for
ocpp-go and Home Assistant the first CALL with a one-way action (BootNotification, RemoteStartTransaction…)
decides, backend if nothing does. Lines that are not OCPP traffic are counted and reported, never dropped
silently.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

import orjson

from proxy.capture.report import ReadReport
from proxy.capture.synthetic import SyntheticConnections
from proxy.capture.times import parse_time
from proxy.core.events import Direction, Event, Message, Ping
from proxy.core.protocol import VERSIONS, action_direction

Role = Literal["backend", "charger"]
EntryKind = Literal["frame", "open", "close", "ping", "pong"]

_UNDECIDED_LIMIT = 10_000
"""Entries held back while the log's author (backend or charger) is unknown."""
_MAX_CONTINUATION_LINES = 5_000


@dataclass(slots=True)
class LogEntry:
    """One line (or pretty-printed frame) of OCPP traffic found in a log."""

    line: int
    kind: EntryKind
    charger: str | None
    time: float | None = None
    inbound: bool | None = None
    """For frames, pings, pongs: whether the log's author received it (None when ``direction`` is given)."""
    direction: Direction | None = None
    text: str = ""
    session: str | None = None
    code: int | None = None
    reason: str = ""


LineParser = Callable[[str, int], LogEntry | None]


@dataclass(frozen=True, slots=True)
class LogFormat:
    name: str
    parse: LineParser
    author: Role | None
    """Who writes this log; None when the traffic must tell."""


def _time(pattern: re.Pattern[str], text: str) -> float | None:
    match = pattern.search(text)
    if match is None:
        return None
    try:
        return parse_time(match.group(1))
    except ValueError:
        return None


# -- ocpp-go / evcc -------------------------------------------------------------------------------------

_GO_TIME = re.compile(r"(\d{4}/\d\d/\d\d \d\d:\d\d:\d\d(?:\.\d+)?|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?"
                      r"(?:Z|[+-]\d\d:?\d\d)?)")
_GO_LINE = re.compile(
    r"(?:\b(?P<verb>recv|received|send|sent) (?P<id>[^\s:]+): ?(?P<frame>[\[{].*)"
    r"|\b(?P<jverb>received JSON message from|sent JSON message to) (?P<jid>[^\s:]+): ?(?P<jframe>.*)"
    r"|\bcharge point (?P<event>connected|disconnected): *(?P<eid>\S+))$"
)
_LOGRUS = re.compile(r'\bmsg="(?P<msg>(?:[^"\\]|\\.)*)"')


def parse_ocpp_go(line: str, number: int) -> LogEntry | None:
    text = line
    logrus = _LOGRUS.search(line)
    if logrus is not None:
        try:
            text = orjson.loads(f'"{logrus["msg"]}"')
        except orjson.JSONDecodeError:
            text = logrus["msg"].replace('\\"', '"').replace("\\\\", "\\")
    match = _GO_LINE.search(text)
    if match is None:
        return None
    time = _time(_GO_TIME, line[: logrus.start() if logrus else match.start()])
    if match["event"]:
        kind: EntryKind = "open" if match["event"] == "connected" else "close"
        return LogEntry(number, kind, match["eid"], time)
    if match["jverb"]:
        return LogEntry(number, "frame", match["jid"], time, inbound=match["jverb"].startswith("received"),
                        text=match["jframe"])
    return LogEntry(number, "frame", match["id"], time, inbound=match["verb"].startswith("rec"),
                    text=match["frame"])


# -- Home Assistant / the ocpp package ------------------------------------------------------------------

_HA_TIME = re.compile(r"(\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[.,]\d+)?)")
_HA_LINE = re.compile(
    r"(?:\[(?:custom_components\.)?ocpp[\w.]*\] +|\b[A-Z]+:(?:custom_components\.)?ocpp[\w.]*:)"
    r"(?P<id>[^\s:][^:]*?): (?P<verb>receive message|send message|send) (?P<frame>[\[{].*)$"
)


def parse_home_assistant(line: str, number: int) -> LogEntry | None:
    match = _HA_LINE.search(line)
    if match is None:
        return None
    return LogEntry(number, "frame", match["id"], _time(_HA_TIME, line[: match.start()]),
                    inbound=match["verb"] == "receive message", text=match["frame"])


# -- SteVe ----------------------------------------------------------------------------------------------

_STEVE_TIME = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:[.,]\d+)?)")
_STEVE_LINE = re.compile(
    r"\[chargeBoxId=(?P<id>[^,\]]*),\s*sessionId=(?P<session>[^\]]*)\]\s+"
    r"(?:(?P<verb>Received|Sending):\s?(?P<frame>.*)"
    r"|(?P<event>Connection is established|Connection is closed, status: *(?P<status>.*)"
    r"|Sending ping message|Received pong message))\s*$"
)
_CLOSE_STATUS = re.compile(r"code=(?P<code>\d+)(?:,\s*reason=(?P<reason>.*?))?\]")


def parse_steve(line: str, number: int) -> LogEntry | None:
    match = _STEVE_LINE.search(line)
    if match is None:
        return None
    time = _time(_STEVE_TIME, line[: match.start()])
    charger = match["id"]
    session = match["session"]
    if match["verb"]:
        return LogEntry(number, "frame", charger, time, inbound=match["verb"] == "Received",
                        text=match["frame"], session=session)
    event = match["event"]
    if event == "Connection is established":
        return LogEntry(number, "open", charger, time, session=session)
    if event == "Sending ping message":
        return LogEntry(number, "ping", charger, time, inbound=False, session=session)
    if event == "Received pong message":
        return LogEntry(number, "pong", charger, time, inbound=True, session=session)
    status = _CLOSE_STATUS.search(match["status"] or "")
    code = int(status["code"]) if status else None
    reason = status["reason"] if status and status["reason"] not in (None, "null") else ""
    return LogEntry(number, "close", charger, time, session=session, code=code, reason=reason or "")


# -- plain ----------------------------------------------------------------------------------------------

_PLAIN_LINE = re.compile(
    r"^\s*(?P<ts>\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?|\d{9,10}(?:\.\d+)?)\s+"
    r"(?:(?P<id>[^\s\[]+)\s+)??"
    r"(?P<dir>cp-to-csms|csms-to-cp|cp->csms|csms->cp|cp->cs|cs->cp|->|<-|→|←|>>|<<|>|<)\s+"
    r"(?P<frame>\S.*)$",
    re.IGNORECASE,
)
_FROM_CHARGER_TOKENS = frozenset({"cp-to-csms", "cp->csms", "cp->cs", "->", "→", ">>", ">"})


def parse_plain(line: str, number: int) -> LogEntry | None:
    match = _PLAIN_LINE.match(line)
    if match is None:
        return None
    stamp = match["ts"]
    try:
        time = float(stamp) if stamp[4:5] != "-" else parse_time(stamp)
    except ValueError:
        time = None
    direction = (Direction.FROM_CHARGER if match["dir"].lower() in _FROM_CHARGER_TOKENS
                 else Direction.FROM_BACKEND)
    return LogEntry(number, "frame", match["id"], time, direction=direction, text=match["frame"])


LOG_FORMATS: dict[str, LogFormat] = {
    "ocpp-go": LogFormat("ocpp-go", parse_ocpp_go, None),
    "home-assistant": LogFormat("home-assistant", parse_home_assistant, None),
    "steve": LogFormat("steve", parse_steve, "backend"),
    "plain": LogFormat("plain", parse_plain, None),
}


def sniff_log_format(lines: Iterable[str]) -> str | None:
    """The log format most of ``lines`` parse as, or None if none of them does."""
    scores = dict.fromkeys(LOG_FORMATS, 0)
    for number, line in enumerate(lines, 1):
        for name, fmt in LOG_FORMATS.items():
            if fmt.parse(line, number) is not None:
                scores[name] += 1
    best = max(scores, key=lambda name: scores[name])
    return best if scores[best] else None


# -- entries to events ----------------------------------------------------------------------------------

_CONTINUATION = re.compile(r'\s*(?:[{}\]",:\-]|\d(?!\d{3}-\d\d-\d\d)|\[(?![A-Za-z])|true|false|null)')


def _complete_json(text: str) -> bool:
    try:
        orjson.loads(text.encode("utf-8", "surrogateescape"))
    except orjson.JSONDecodeError:
        return False
    return True


class LogImporter:
    """Turns the lines of one log into events: joins pretty-printed frames, decides who wrote the log,
    opens a connection per charger (or session) and closes it where the log says so."""

    def __init__(self, fmt: LogFormat, report: ReadReport) -> None:
        self.format = fmt
        self.report = report
        self.author: Role | None = fmt.author
        self.connections = SyntheticConnections()
        self.undecided: list[LogEntry] = []
        self.last_time = 0.0

    def events(self, lines: Iterable[tuple[int, str]]) -> Iterator[Event]:
        parse = self.format.parse
        pending: LogEntry | None = None
        pending_lines = 0
        for number, line in lines:
            if pending is not None:
                if not line.strip():
                    continue
                if parse(line, number) is None and _CONTINUATION.match(line):
                    pending.text += "\n" + line
                    pending_lines += 1
                    if (line.rstrip().endswith(("]", "}")) and _complete_json(pending.text)) \
                            or pending_lines >= _MAX_CONTINUATION_LINES:
                        yield from self._entry(pending)
                        pending = None
                    continue
                yield from self._entry(pending)
                pending = None
            if not line.strip():
                continue
            entry = parse(line, number)
            if entry is None:
                self.report.skip(number, line)
                continue
            if entry.kind == "frame" and not entry.text.rstrip().endswith(("]", "}")) \
                    and entry.text.rstrip().endswith(("[", "{", ",", ":")):
                pending = entry  # the frame goes on over the next lines (pretty-printed JSON)
                pending_lines = 0
                continue
            yield from self._entry(entry)
        if pending is not None:
            yield from self._entry(pending)
        if self.undecided:
            self.report.warn("could not tell from the traffic whether this log was written by the backend or "
                             "the charger; assumed the backend (received = from the charger)")
            yield from self._decide("backend")

    def _entry(self, entry: LogEntry) -> Iterator[Event]:
        if self.author is not None or entry.direction is not None:
            yield from self._emit(entry)
            return
        self.undecided.append(entry)
        author = _author_from(entry)
        if author is None and len(self.undecided) >= _UNDECIDED_LIMIT:
            self.report.warn(f"no one-way OCPP action in the first {_UNDECIDED_LIMIT} entries to tell who "
                             "wrote this log; assumed the backend (received = from the charger)")
            author = "backend"
        if author is not None:
            yield from self._decide(author)

    def _decide(self, author: Role) -> Iterator[Event]:
        self.author = author
        held, self.undecided = self.undecided, []
        for entry in held:
            yield from self._emit(entry)

    def _emit(self, entry: LogEntry) -> Iterator[Event]:
        # Names and reasons become text fields of events (and of captures): bytes that were not UTF-8 in the
        # log are replaced there. Frames keep their exact bytes.
        entry.charger = _text(entry.charger)
        entry.session = _text(entry.session)
        entry.reason = _text(entry.reason) or ""
        time = entry.time if entry.time is not None else self.last_time
        self.last_time = time
        key = entry.session or entry.charger or ""
        connections = self.connections
        if entry.kind == "open":
            replaced = connections.close(key, time, note="the log shows a new connection before this one closed")
            if replaced is not None:
                yield replaced
            yield connections.open(key, entry.charger, time, conn_id=entry.session)
            return
        if entry.kind == "close":
            closed = connections.close(key, time, entry.code, entry.reason)
            if closed is not None:
                yield closed
            return
        opened: list[Event] = []
        conn_id = connections.conn_for(key, entry.charger, time, out=opened, conn_id=entry.session)
        yield from opened
        direction = entry.direction or self._direction(entry.inbound)
        if entry.kind == "frame":
            content = entry.text.rstrip().encode("utf-8", "surrogateescape")
            yield Message(conn_id, time, direction, content, True, connections.next_seq())
        else:
            yield Ping(conn_id, time, direction, b"", entry.kind == "pong", connections.next_seq())

    def _direction(self, inbound: bool | None) -> Direction:
        from_charger = bool(inbound) == (self.author == "backend")
        return Direction.FROM_CHARGER if from_charger else Direction.FROM_BACKEND


def _text(value: str | None) -> str | None:
    if value is None or value.isascii():
        return value
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _author_from(entry: LogEntry) -> Role | None:
    """Who wrote the log, if ``entry`` is a CALL of an action that only one side ever sends."""
    if entry.kind != "frame" or entry.inbound is None:
        return None
    try:
        value = orjson.loads(entry.text.encode("utf-8", "surrogateescape"))
    except orjson.JSONDecodeError:
        return None
    if type(value) is not list or len(value) < 3 or value[0] != 2 or type(value[2]) is not str:
        return None
    directions = {action_direction(version, value[2]) for version in VERSIONS} - {None, "both"}
    if len(directions) != 1:
        return None
    sent_by_charger = directions == {Direction.FROM_CHARGER.value}
    return "backend" if entry.inbound == sent_by_charger else "charger"


def read_log(lines: Iterable[tuple[int, str]], fmt: str, report: ReadReport) -> Iterator[Event]:
    """The events of a log in format ``fmt`` (a key of :data:`LOG_FORMATS`), given as (number, line)."""
    report.format = fmt
    for event in LogImporter(LOG_FORMATS[fmt], report).events(lines):
        report.events += 1
        yield event
    report.finish()
