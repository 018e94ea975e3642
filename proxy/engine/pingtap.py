"""Ping and pong timing from mitmproxy's relay log.

mitmproxy relays WebSocket pings and pongs inside its WebSocket layer and never hands them to addons. It
does log each one, synchronously and in wire order with the frames, tagged with the client's address::

    Received WebSocket ping from client (payload: b'...')

This handler turns exactly those records into :class:`~proxy.core.events.Ping` events. It only reads: the
relay of the ping itself is untouched. The wording is the same in mitmproxy 11.0.x and 12.x, which offer no
hook for pings, and ``tests/test_engine_relay.py`` (run on both, ``.ci/mitmproxy12``) fails if it ever
changes, so the observation cannot silently stop.
"""

from __future__ import annotations

import ast
import logging
import re
import time
from collections.abc import Callable

from ocppscope.proxy.core.events import Direction

SERVER_LOGGER = "mitmproxy.proxy.server"
_RECORD = re.compile(r"Received WebSocket (ping|pong) from (client|server) \(payload: (b'.*'|b\".*\")\)\Z", re.S)

PingSink = Callable[[tuple, Direction, bytes, bool, float], None]
"""(client peername, direction, payload, is_pong, time)."""


class PingTap(logging.Handler):
    """A handler on mitmproxy's connection logger that reports relayed pings and pongs.

    The relay logs pings at INFO. When the application shows only warnings, the logger is opened to INFO for
    this handler and stops propagating; the handler then passes on to the parent logger exactly the records
    the application would have seen, so no INFO chatter appears on anyone's console.
    """

    def __init__(self, sink: PingSink) -> None:
        super().__init__(logging.NOTSET)
        self._sink = sink
        self._forward_at: int | None = None

    def emit(self, record: logging.LogRecord) -> None:
        text = record.msg if isinstance(record.msg, str) else str(record.msg)
        if text.startswith("Received WebSocket p"):
            self._ping(record, text)
        if self._forward_at is not None and record.levelno >= self._forward_at:
            parent = logging.getLogger(SERVER_LOGGER).parent
            if parent is not None:
                parent.handle(record)

    def _ping(self, record: logging.LogRecord, text: str) -> None:
        match = _RECORD.match(text)
        client = getattr(record, "client", None)
        if match is None or client is None:
            return
        kind, side, payload_text = match.groups()
        try:
            payload = ast.literal_eval(payload_text)
        except (ValueError, SyntaxError):
            payload = b""
        direction = Direction.FROM_CHARGER if side == "client" else Direction.FROM_BACKEND
        try:
            self._sink(tuple(client), direction, payload, kind == "pong", record.created or time.time())
        except Exception:
            self.handleError(record)

    def install(self) -> Callable[[], None]:
        """Attach to mitmproxy's logger; returns the function that detaches and restores it."""
        logger = logging.getLogger(SERVER_LOGGER)
        level, propagate = logger.level, logger.propagate
        threshold = logger.getEffectiveLevel()
        if threshold > logging.INFO:
            self._forward_at = threshold
            logger.setLevel(logging.INFO)
            logger.propagate = False
        logger.addHandler(self)

        def uninstall() -> None:
            logger.removeHandler(self)
            logger.setLevel(level)
            logger.propagate = propagate
            self._forward_at = None

        return uninstall
