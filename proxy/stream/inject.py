"""Injecting a CALL into a live connection, and keeping its answer from the side that did not ask.

:class:`Injector` lives in the relay process (it needs mitmproxy's flows): :meth:`Injector.inject` hands the
frame to mitmproxy's ``inject.websocket`` command as if the other side had sent it, so the inspector sees and
analyses it like any frame; :meth:`Injector.drop_if_answer` runs as the answer is published, inside the
inspector's message hook, and marks that mitmproxy message dropped: the side that never sent the CALL never
sees an answer to it. :class:`InjectionLog` is the bookkeeping both the relay and the stream (which marks the
injected frames for the UI) keep.
"""

from __future__ import annotations

import logging
from typing import Any

from ocppscope.proxy.core.events import Event, Message
from ocppscope.proxy.core.frames import decode
from ocppscope.proxy.core.protocol import MessageType

log = logging.getLogger("ocppscope.stream")

TARGETS = ("charger", "backend")
_ANSWERS = (MessageType.CALLRESULT, MessageType.CALLERROR)


def check_request(to: str, text: str) -> tuple[str | None, str | None]:
    """(message id, None) for a CALL that can be injected to ``to``, else (None, why not)."""
    if to not in TARGETS:
        return None, f"send to the charger or the backend, not {to!r}"
    frame = decode(text.encode("utf-8"))
    if frame.message_type is not MessageType.CALL or frame.message_id is None or frame.problems:
        return None, "only a well-formed CALL ([2, id, action, payload]) can be injected"
    return frame.message_id, None


def injection_kind(event: Event) -> str | None:
    """``"call"`` / ``"answer"`` for a message marked injected, else None."""
    if type(event) is not Message or not event.injected:
        return None
    return "call" if decode(event.content, event.is_text).message_type is MessageType.CALL else "answer"


class InjectionLog:
    """The CALLs injected and not answered yet: (connection, message id) → the side they went to."""

    def __init__(self) -> None:
        self._waiting: dict[tuple[str, str], str] = {}

    def __bool__(self) -> bool:
        return bool(self._waiting)

    def add(self, conn: str, message_id: str, to: str) -> str | None:
        if (conn, message_id) in self._waiting:
            return f"message id {message_id} is already waiting for an answer"
        self._waiting[(conn, message_id)] = to
        return None

    def discard(self, conn: str, message_id: str) -> None:
        self._waiting.pop((conn, message_id), None)

    def forget_connection(self, conn: str) -> None:
        for key in [key for key in self._waiting if key[0] == conn]:
            del self._waiting[key]

    def classify(self, event: Event) -> str | None:
        """``"call"`` for an injected CALL, ``"answer"`` for its answer (then forgotten), else None."""
        if not self._waiting or type(event) is not Message:
            return None
        assert isinstance(event, Message)
        frame = decode(event.content, event.is_text)
        key = (event.conn_id, frame.message_id or "")
        to = self._waiting.get(key)
        if to is None:
            return None
        sender = event.direction.sender
        if frame.message_type is MessageType.CALL and sender != to:
            return "call"
        if frame.message_type in _ANSWERS and sender == to:
            del self._waiting[key]
            return "answer"
        return None


class Injector:
    """In the relay process: open WebSocket flows by connection id, and the CALLs injected into them."""

    name = "ocppinject"

    def __init__(self) -> None:
        self._flows: dict[str, Any] = {}
        self.log = InjectionLog()

    # -- mitmproxy hooks (called by the stream addon) ----------------------------------------------------------

    def websocket_start(self, flow: Any) -> None:
        from ocppscope.proxy.engine.bridge import conn_id

        self._flows[conn_id(flow)] = flow

    def websocket_end(self, flow: Any) -> None:
        from ocppscope.proxy.engine.bridge import conn_id

        conn = conn_id(flow)
        self._flows.pop(conn, None)
        self.log.forget_connection(conn)

    # -- injecting -------------------------------------------------------------------------------------------

    def inject(self, conn: str, to: str, text: str) -> str | None:
        """Send CALL ``text`` to ``to`` (charger or backend) on connection ``conn``; an error, or None."""
        message_id, problem = check_request(to, text)
        if message_id is None:
            return problem
        flow = self._flows.get(conn)
        if flow is None:
            return f"connection {conn} is not open"
        problem = self.log.add(conn, message_id, to)
        if problem is not None:
            return problem
        from mitmproxy import ctx

        try:
            ctx.master.commands.call("inject.websocket", flow, to == "charger", text.encode("utf-8"), True)
        except Exception as exc:  # the connection closed meanwhile, or mitmproxy refused
            self.log.discard(conn, message_id)
            return f"mitmproxy could not inject: {exc}"
        log.info("ocppscope: injected a CALL to the %s on %s", to, conn)
        return None

    def drop_if_answer(self, event: Event) -> str | None:
        """Classify ``event``; an answer to an injected CALL is held back. Call it while the inspector is
        publishing the message (the flow's last message is this one then)."""
        kind = self.log.classify(event)
        if kind == "answer":
            flow = self._flows.get(event.conn_id)
            messages = flow.websocket.messages if flow is not None and flow.websocket is not None else []
            if messages:
                messages[-1].drop()
            else:
                log.warning("ocppscope: could not hold back the answer to an injected CALL on %s", event.conn_id)
        return kind
