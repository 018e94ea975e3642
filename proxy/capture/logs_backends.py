"""Line parsers for logs written by backends (CSMS) and the libraries they are built on.

Each parser takes one line (already without colours and container or journal prefixes, see
:mod:`proxy.capture.logs_prefix`) and returns a :class:`LogEntry`, or None when the line is no OCPP traffic.
Examples of every shape: tests/data/logs/, with where each was seen in tests/data/logs/SOURCES.md.
"""

from __future__ import annotations

import re

import orjson
from ocppscope.proxy.capture.logs_entry import EntryKind, LogEntry
from ocppscope.proxy.core.events import Direction

_ISO = r"\d{4}[-/]\d\d[-/]\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?"
_ISO_TIME = re.compile(f"({_ISO})")


def first_time(text: str) -> str | None:
    """The first ISO 8601 / ``2024/07/11 17:12:57``-like time in ``text``."""
    match = _ISO_TIME.search(text)
    return match.group(1) if match else None


# -- ocpp-go / evcc -------------------------------------------------------------------------------------

_GO_LINE = re.compile(
    r"(?:\b(?P<verb>recv|received|send|sent) (?P<id>[^\s:]+): ?(?P<frame>[\[{].*)"
    r"|\b(?P<jverb>received JSON message from|sent JSON message to) (?P<jid>[^\s:]+): ?(?P<jframe>.*)"
    r"|\bcharge point (?P<event>connected|disconnected): *(?P<eid>\S+))$"
)
_LOGRUS = re.compile(r'\bmsg="(?P<msg>(?:[^"\\]|\\.)*)(?:"|$)')


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
    stamp = first_time(line[: logrus.start() if logrus else match.start()])
    if match["event"]:
        kind: EntryKind = "open" if match["event"] == "connected" else "close"
        return LogEntry(number, kind, match["eid"], stamp)
    if match["jverb"]:
        return LogEntry(number, "frame", match["jid"], stamp, inbound=match["jverb"].startswith("received"),
                        text=match["jframe"])
    return LogEntry(number, "frame", match["id"], stamp, inbound=match["verb"].startswith("rec"),
                    text=match["frame"])


# -- Home Assistant and the ocpp package ----------------------------------------------------------------

_OCPP_MESSAGE = r": (?P<verb>receive message|send message|send) (?P<frame>[\[{].*)$"
_HA_LINE = re.compile(r"\((?:MainThread|[\w-]+)\) \[(?:custom_components\.)?ocpp[\w.]*\] +(?P<id>[^\s:][^:]*?)"
                      + _OCPP_MESSAGE)
_OCPP_PYTHON_LINE = re.compile(
    r"(?:^|\b[A-Z]+:|[\s\[|-])(?:custom_components\.)?ocpp(?:\.[\w.]+)?(?:\]|:| -| )[\w\s|:-]*?"
    r"(?P<id>[^\s:]+)" + _OCPP_MESSAGE)


def parse_home_assistant(line: str, number: int) -> LogEntry | None:
    match = _HA_LINE.search(line)
    if match is None:
        return None
    return LogEntry(number, "frame", match["id"], first_time(line[: match.start()]),
                    inbound=match["verb"] == "receive message", text=match["frame"])


def parse_ocpp_python(line: str, number: int) -> LogEntry | None:
    """The ``ocpp`` package's own ``INFO:ocpp:CP_1: send […]`` / ``receive message […]`` (any formatter)."""
    match = _OCPP_PYTHON_LINE.search(line)
    if match is None or "(MainThread)" in line[: match.start()]:
        return None
    return LogEntry(number, "frame", match["id"], first_time(line[: match.start()]),
                    inbound=match["verb"] == "receive message", text=match["frame"])


# -- SteVe ----------------------------------------------------------------------------------------------

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
    stamp = first_time(line[: match.start()])
    charger = match["id"]
    session = match["session"]
    if match["verb"]:
        return LogEntry(number, "frame", charger, stamp, inbound=match["verb"] == "Received",
                        text=match["frame"], session=session)
    event = match["event"]
    if event == "Connection is established":
        return LogEntry(number, "open", charger, stamp, session=session)
    if event == "Sending ping message":
        return LogEntry(number, "ping", charger, stamp, inbound=False, session=session)
    if event == "Received pong message":
        return LogEntry(number, "pong", charger, stamp, inbound=True, session=session)
    status = _CLOSE_STATUS.search(match["status"] or "")
    code = int(status["code"]) if status else None
    reason = status["reason"] if status and status["reason"] not in (None, "null") else ""
    return LogEntry(number, "close", charger, stamp, session=session, code=code, reason=reason or "")


# -- plain ----------------------------------------------------------------------------------------------

_PLAIN_LINE = re.compile(
    r"^\s*(?P<ts>\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?"
    r"|[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?)\s+"  # a number: seconds since the epoch, or named as no plausible time
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
    direction = (Direction.FROM_CHARGER if match["dir"].lower() in _FROM_CHARGER_TOKENS
                 else Direction.FROM_BACKEND)
    return LogEntry(number, "frame", match["id"], match["ts"], direction=direction, text=match["frame"])
