"""An OCPP content view for mitmproxy's own UIs: each WebSocket frame decoded, with the findings it caused.

It only renders: the frame is decoded by the core (the same decoder the inspector uses) and the findings are
the ones the inspector stored on the flow while mitmproxy keeps messages (``ocpp_keep_messages``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mitmproxy import contentviews, http
from mitmproxy.contentviews.base import TViewLine, TViewResult
from mitmproxy.contentviews.json import format_json

from addons.inspector import FINDINGS_KEY
from proxy.core.frames import decode
from proxy.core.protocol import MessageType

_STYLE = {"error": "error", "warning": "warn", "info": "text"}


class ViewOcpp(contentviews.View):
    name = "OCPP"

    def __call__(self, data: bytes, *, flow: Any = None, **metadata: Any) -> TViewResult:
        message = metadata.get("websocket_message")
        frame = decode(data, getattr(message, "is_text", True))
        if frame.message_type is None:
            title = "OCPP: not an OCPP-J frame"
        else:
            title = " ".join(str(part) for part in (
                f"OCPP {frame.message_type.name}", frame.action or frame.error_code, f"id {frame.message_id}")
                if part)
        return title, self._lines(data, frame, flow, message)

    def _lines(self, data: bytes, frame: Any, flow: Any, message: Any) -> Iterator[TViewLine]:
        for problem in frame.problems:
            yield [("error", f"✗ {problem.rule}: {problem.detail}")]
        for finding in _findings(flow, message):
            yield [(_STYLE.get(finding["severity"], "text"), f"{finding['severity']:<7} {finding['rule']}: "
                    f"{finding['message']}")]
        if frame.message_type is MessageType.CALLERROR and frame.error_description:
            yield [("text", f"description: {frame.error_description}")]
        if frame.payload is not None:
            yield from format_json(frame.payload)
        else:
            for line in data.decode("utf-8", "replace").splitlines():
                yield [("text", line)]

    def render_priority(self, data: bytes, *, flow: Any = None, **metadata: Any) -> float:
        if metadata.get("websocket_message") is None or data.lstrip()[:1] != b"[":
            return 0
        subprotocol = ""
        if isinstance(flow, http.HTTPFlow) and flow.response is not None:
            subprotocol = flow.response.headers.get("Sec-WebSocket-Protocol", "")
        return 2 if subprotocol.lower().startswith("ocpp") or decode(data).message_type is not None else 0


def _findings(flow: Any, message: Any) -> list[dict[str, Any]]:
    if flow is None or message is None or getattr(flow, "websocket", None) is None:
        return []
    stored = flow.metadata.get(FINDINGS_KEY)
    if not stored:
        return []
    for index, candidate in enumerate(flow.websocket.messages):
        if candidate is message:
            return stored.get(str(index), [])
    return []


class OcppContentView:
    """Registers the view while loaded."""

    name = "ocppcontentview"

    def __init__(self) -> None:
        self.view = ViewOcpp()

    def load(self, loader: Any) -> None:
        if contentviews.get(self.view.name) is None:
            contentviews.add(self.view)

    def done(self) -> None:
        if contentviews.get(self.view.name) is self.view:
            contentviews.remove(self.view)
