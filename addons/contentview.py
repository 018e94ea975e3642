"""An OCPP content view for mitmproxy's own UIs: each WebSocket frame decoded, with the findings it caused.

It only renders: the frame is decoded by the core (the same decoder the inspector uses), an answer is named
after the CALL it answers (found by id among the flow's kept messages), and the findings are the ones the
inspector stored on the flow while mitmproxy keeps messages (``ocpp_keep_messages``). The version-specific
registration is in :mod:`addons.compat`.
"""

from __future__ import annotations

import json
from typing import Any

from ocppscope.addons.compat import Lines, register_view
from ocppscope.addons.inspector import FINDINGS_KEY
from ocppscope.proxy.core.frames import Frame, decode
from ocppscope.proxy.core.protocol import MessageType

VIEW_NAME = "OCPP"
_STYLE = {"error": "error", "warning": "warn", "info": "text"}
_ANSWERS = (MessageType.CALLRESULT, MessageType.CALLERROR, MessageType.CALLRESULTERROR)


def render(data: bytes, flow: Any, message: Any) -> tuple[str, Lines]:
    """The view's title and lines for one WebSocket message of ``flow``."""
    frame = decode(data, getattr(message, "is_text", True))
    return _title(frame, flow, message), _lines(data, frame, flow, message)


def priority(data: bytes, flow: Any, message: Any) -> float:
    """Preferred for OCPP-J frames on WebSockets; HTTP bodies keep their own views."""
    if message is None or data.lstrip()[:1] != b"[":
        return 0
    response = getattr(flow, "response", None)
    subprotocol = response.headers.get("Sec-WebSocket-Protocol", "") if response is not None else ""
    return 2 if subprotocol.lower().startswith("ocpp") or decode(data).message_type is not None else 0


def _title(frame: Frame, flow: Any, message: Any) -> str:
    if frame.message_type is None:
        return "OCPP: not an OCPP-J frame"
    action = frame.action
    if action is None and frame.message_type in _ANSWERS:
        action = _answered_action(frame.message_id, flow, message)
    parts = (f"OCPP {frame.message_type.name}", action, frame.error_code, f"id {frame.message_id}")
    return " ".join(part for part in parts if part)


def _lines(data: bytes, frame: Frame, flow: Any, message: Any) -> Lines:
    lines: Lines = [("error", f"✗ {problem.rule}: {problem.detail}") for problem in frame.problems]
    for finding in _findings(flow, message):
        lines.append((_STYLE.get(finding["severity"], "text"),
                      f"{finding['severity']:<7} {finding['rule']}: {finding['message']}"))
    if frame.message_type is MessageType.CALLERROR and frame.error_description:
        lines.append(("text", f"description: {frame.error_description}"))
    if frame.payload is not None:
        text = json.dumps(frame.payload, indent=2, ensure_ascii=False)
    else:
        text = data.decode("utf-8", "replace")
    lines.extend(("text", line) for line in text.splitlines())
    return lines


def _kept_messages(flow: Any) -> list[Any]:
    websocket = getattr(flow, "websocket", None)
    return websocket.messages if websocket is not None else []


def _answered_action(message_id: str | None, flow: Any, message: Any) -> str | None:
    """The action of the CALL, from the other side, that the answer ``message`` carries the id of."""
    messages = _kept_messages(flow)
    if message_id is None or message is None:
        return None
    end = next((i for i, candidate in enumerate(messages) if candidate is message), len(messages))
    for candidate in reversed(messages[:end]):
        if candidate.from_client == message.from_client:
            continue
        call = decode(candidate.content, candidate.is_text)
        if call.message_type is MessageType.CALL and call.message_id == message_id:
            return call.action
    return None


def _findings(flow: Any, message: Any) -> list[dict[str, Any]]:
    if flow is None or message is None:
        return []
    stored = getattr(flow, "metadata", {}).get(FINDINGS_KEY)
    if not stored:
        return []
    for index, candidate in enumerate(_kept_messages(flow)):
        if candidate is message:
            return stored.get(str(index), [])
    return []


class OcppContentView:
    """Registers the view while loaded."""

    name = "ocppcontentview"

    def __init__(self) -> None:
        self._unregister: Any = None

    def load(self, loader: Any) -> None:
        if self._unregister is None:
            self._unregister = register_view(VIEW_NAME, render, priority)

    def done(self) -> None:
        if self._unregister is not None:
            self._unregister()
            self._unregister = None
