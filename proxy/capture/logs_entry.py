"""One record of OCPP traffic found in a log, as the line parsers of each producer return it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from ocppscope.proxy.core.events import Direction
from ocppscope.proxy.core.protocol import MessageType

Role = Literal["backend", "charger"]
EntryKind = Literal["frame", "open", "close", "ping", "pong"]


@dataclass(slots=True)
class LogEntry:
    """One line (or a frame printed over several lines or records) of OCPP traffic found in a log."""

    line: int
    kind: EntryKind
    charger: str | None
    stamp: str | None = None
    """The time as the producer printed it (ISO 8601 with or without a zone, or epoch seconds)."""
    inbound: bool | None = None
    """For frames, pings, pongs: whether the log's author received it (None when ``direction`` is given)."""
    direction: Direction | None = None
    text: str = ""
    session: str | None = None
    code: int | None = None
    reason: str = ""
    time: float | None = None
    """Epoch seconds, read from ``stamp`` (or the journal's time) by the importer."""
    last_line: int = 0
    """The last log line this entry was read from (``line`` unless it was joined from several)."""
    cut: bool = False
    """The log cut the frame before its JSON ended; ``text`` is what it shows."""
    journal: bool = False
    """The line came with a journald/syslog prefix: journalctl without ``--full`` shortens a long line in the
    middle, keeping its start and end around a ``…``."""
    key: tuple[MessageType, str] | None = None
    """Message type and id read from the start of ``text`` (set once ``keyed``)."""
    keyed: bool = False


LineParser = Callable[[str, int], LogEntry | None]


@dataclass(frozen=True, slots=True)
class LogFormat:
    """A producer's line format, as ``--input-format`` names it."""

    name: str
    parse: LineParser
    author: Role | None
    """Who writes this log; None when the traffic must tell."""
    example: str = ""
    """One line as the producer prints it (for the docs and the error naming the known formats)."""
    usual_author: Role = "backend"
    """Who is taken to have written the log when ``author`` is None and the traffic cannot tell."""
    catch_all: bool = False
    """Its lines are what many loggers print (``TX: […]``): detection prefers a format that knows them better."""
