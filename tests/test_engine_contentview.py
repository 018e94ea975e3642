"""The OCPP content view, rendered through mitmproxy's own content-view machinery."""

from __future__ import annotations

from mitmproxy import contentviews
from mitmproxy.test import tflow
from mitmproxy.websocket import WebSocketMessage
from wsproto.frame_protocol import Opcode

from addons.contentview import OcppContentView
from addons.inspector import FINDINGS_KEY


def _flow_with(*frames: bytes) -> object:
    flow = tflow.twebsocketflow()
    flow.response.headers["Sec-WebSocket-Protocol"] = "ocpp1.6"
    flow.websocket.messages = [WebSocketMessage(Opcode.TEXT, True, frame) for frame in frames]
    return flow


def _render(flow: object, index: int) -> tuple[str, list[str]]:
    addon = OcppContentView()
    addon.load(None)
    try:
        message = flow.websocket.messages[index]  # type: ignore[attr-defined]
        title, lines, _ = contentviews.get_message_content_view("OCPP", message, flow)  # type: ignore[arg-type]
        return title, ["".join(text for _, text in line) for line in lines]
    finally:
        addon.done()


def test_a_frame_is_decoded_with_its_findings() -> None:
    flow = _flow_with(b'[2,"1","Heartbeat",{}]', b'[2,"7","StopTransaction",{"meterStop":"x"}]')
    flow.metadata[FINDINGS_KEY] = {"1": [{"severity": "error", "rule": "schema.violation",  # type: ignore[attr-defined]
                                          "message": "$.meterStop must be integer"}]}
    title, lines = _render(flow, 1)
    assert "OCPP CALL StopTransaction id 7" in title
    assert lines[0].startswith("error   schema.violation: $.meterStop must be integer")
    assert any('"meterStop": "x"' in line for line in lines)
    title, lines = _render(flow, 0)
    assert "Heartbeat" in title and not any("schema.violation" in line for line in lines)


def test_broken_frames_are_shown_as_they_are() -> None:
    title, lines = _render(_flow_with(b'[2,"1","Heartbeat",{}'), 0)
    assert "not an OCPP-J frame" in title or "frame.invalid-json" in "".join(lines)
    assert '[2,"1","Heartbeat",{}' in "".join(lines)


def test_it_is_the_preferred_view_for_ocpp_frames_only() -> None:
    view = OcppContentView().view
    flow = _flow_with(b'[2,"1","Heartbeat",{}]')
    message = flow.websocket.messages[0]  # type: ignore[attr-defined]
    assert view.render_priority(message.content, flow=flow, websocket_message=message) > 1
    assert view.render_priority(b"hello", flow=flow, websocket_message=message) == 0
    assert view.render_priority(b'[2,"1","Heartbeat",{}]') == 0  # not a WebSocket message: HTTP bodies keep theirs
