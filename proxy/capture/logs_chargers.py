"""Line parsers for logs written by charge points: their firmware's own "RX/TX" or "send/recv" lines, MicroOcpp's
``[MO] Send:``/``[MO] Recv:`` and EVerest's libocpp message log. EVerest's log names the sender. "RX/TX" lines
are also what some backends print (EVerest's test CSMS: ``everest.ocpp - INFO - Rx: […]``): who wrote such a log
is told by the traffic (the first one-way CALL), a charger when nothing tells."""

from __future__ import annotations

import re

from ocppscope.proxy.capture.logs_backends import first_time
from ocppscope.proxy.capture.logs_entry import LogEntry
from ocppscope.proxy.core.events import Direction

_CHARGER_LINE = re.compile(
    r"(?:^|[\s\[(|:>-])(?P<verb>TX|RX|Tx|Rx|tx|rx|send|sent|sending|Send|Sent|Sending|SEND|SENT|recv|received|receive|"
    r"Recv|Received|Receive|RECV|RECEIVED)(?:\s+(?:message|msg|frame|data))?\]?\s*(?:[:>=-]+|\s)\s*"
    r"(?P<frame>\[\s*\d.*|\{.*)$"
)
_MICRO_OCPP = re.compile(r"\[(?:MO|AO)\] (?P<verb>Send|Recv): ?(?P<frame>.*)$")
_SENT_WORDS = frozenset({"tx", "send", "sent", "sending"})
_CLOCK = re.compile(r"(?<![\d:.])(\d\d:\d\d:\d\d(?:\.\d+)?)(?![\d:])")


def parse_charger(line: str, number: int) -> LogEntry | None:
    """A charge point's firmware log: ``… TX: [2,…]`` / ``… RX: [3,…]``, ``send:``/``recv:`` and MicroOcpp's
    ``[MO] Send: […]`` / ``[MO] Recv: […]``; the first time on the line, if any."""
    match = _MICRO_OCPP.search(line) or _CHARGER_LINE.search(line)
    if match is None:
        return None
    before = line[: match.start()]
    clock = _CLOCK.search(before)
    stamp = first_time(before) or (clock.group(1) if clock else None)
    return LogEntry(number, "frame", None, stamp, inbound=match["verb"].lower() not in _SENT_WORDS,
                    text=match["frame"])


# EVerest libocpp: the message log file ("<rfc3339>: ChargePoint>CentralSystem BootNotification", the frame
# pretty-printed on the following lines) and the console ("… [INFO] ocpp:OCPP201 :: ChargePoint: [ …").
_EVEREST_FILE = re.compile(
    r"^(?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?): "
    r"(?P<origin>ChargePoint|CentralSystem)>(?:ChargePoint|CentralSystem) +(?P<type>\w*) *(?P<type2>\w*) *$"
)
_EVEREST_CONSOLE = re.compile(r"\[\w+\] +ocpp:\w+ +.*?:: +(?P<origin>ChargePoint|CentralSystem): (?P<frame>[\[{].*)$")


def parse_everest(line: str, number: int) -> LogEntry | None:
    match = _EVEREST_FILE.match(line)
    if match is not None:
        direction = Direction.FROM_CHARGER if match["origin"] == "ChargePoint" else Direction.FROM_BACKEND
        return LogEntry(number, "frame", None, match["ts"], direction=direction, text="")
    match = _EVEREST_CONSOLE.search(line)
    if match is None:
        return None
    direction = Direction.FROM_CHARGER if match["origin"] == "ChargePoint" else Direction.FROM_BACKEND
    return LogEntry(number, "frame", None, first_time(line[: match.start()]), direction=direction,
                    text=match["frame"])
