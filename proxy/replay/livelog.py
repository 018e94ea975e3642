"""The live side of a replay as core events, so it is analysed, compared and recorded like any capture."""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable

from ocppscope.proxy.core.events import ClosedBy, ConnectionClosed, ConnectionOpened, Direction, Event, Headers, Message

log = logging.getLogger("ocppscope.replay")


class LiveLog:
    """Events in the order they happened, numbered from 1; ``sink`` sees each one as it is added."""

    def __init__(self, sink: Callable[[Event], None] | None = None) -> None:
        self.events: list[Event] = []
        self._sink = sink
        self._seq = itertools.count(1)
        self._conns = itertools.count(1)

    def new_conn_id(self) -> str:
        return f"live-{next(self._conns)}"

    def _add(self, event: Event) -> None:
        self.events.append(event)
        if self._sink is not None:
            try:
                self._sink(event)
            except Exception:  # a broken observer must not break the replay
                log.exception("replay: event sink failed")

    def opened(self, conn_id: str, *, client: str, path: str, request_headers: Headers, status: int,
               response_headers: Headers = (), subprotocol: str | None = None, upstream: str | None = None,
               error: str | None = None) -> None:
        self._add(ConnectionOpened(conn_id, time.time(), client, path, request_headers, status, response_headers,
                                   subprotocol, upstream, next(self._seq), error))

    def message(self, conn_id: str, direction: Direction, content: bytes, is_text: bool) -> None:
        self._add(Message(conn_id, time.time(), direction, content, is_text, next(self._seq)))

    def closed(self, conn_id: str, code: int | None, reason: str, closed_by: ClosedBy) -> None:
        self._add(ConnectionClosed(conn_id, time.time(), code, reason, closed_by, next(self._seq)))
