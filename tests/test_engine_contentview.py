"""The OCPP content view, rendered through mitmproxy's own content-view machinery."""

from __future__ import annotations

from mitmproxy import contentviews
from mitmproxy.test import taddons, tflow
from mitmproxy.websocket import WebSocketMessage
from ocppscope.addons.compat import MITMPROXY_MAJOR
from ocppscope.addons.contentview import OcppContentView, priority
from ocppscope.addons.inspector import FINDINGS_KEY
from wsproto.frame_protocol import Opcode


def _flow_with(*frames: bytes) -> object:
    flow = tflow.twebsocketflow()
    flow.response.headers["Sec-WebSocket-Protocol"] = "ocpp1.6"
    flow.websocket.messages = [WebSocketMessage(Opcode.TEXT, True, frame) for frame in frames]
    return flow


def _render(flow: object, index: int) -> tuple[str, list[str]]:
    """The OCPP view of one message, rendered by the installed mitmproxy's own content-view machinery."""
    addon = OcppContentView()
    with taddons.context(addon):
        message = flow.websocket.messages[index]  # type: ignore[attr-defined]
        if MITMPROXY_MAJOR >= 12:
            result = contentviews.prettify_message(message, flow, "OCPP")  # type: ignore[arg-type]
            assert result.view_name == "OCPP", result.text
            title, *lines = result.text.splitlines()
            return title, lines
        title, styled, _ = contentviews.get_message_content_view("OCPP", message, flow)  # type: ignore[arg-type]
        return title, ["".join(text for _, text in line) for line in styled]


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
    flow = _flow_with(b'[2,"1","Heartbeat",{}]')
    message = flow.websocket.messages[0]  # type: ignore[attr-defined]
    assert priority(message.content, flow, message) > 1
    assert priority(b"hello", flow, message) == 0
    assert priority(b'[2,"1","Heartbeat",{}]', flow, None) == 0  # not a WebSocket message: HTTP bodies keep theirs


def test_an_answer_is_named_after_the_call_it_answers() -> None:
    flow = _flow_with(b'[2,"a-1","Heartbeat",{}]', b'[2,"7","StopTransaction",{"meterStop":1}]')
    flow.websocket.messages.append(  # type: ignore[attr-defined]
        WebSocketMessage(Opcode.TEXT, False, b'[3,"7",{"idTagInfo":{"status":"Accepted"}}]'))
    flow.websocket.messages.append(  # type: ignore[attr-defined]
        WebSocketMessage(Opcode.TEXT, False, b'[4,"a-1","InternalError","boom",{}]'))
    title, lines = _render(flow, 2)
    assert title.startswith("OCPP CALLRESULT StopTransaction id 7")
    assert any('"status": "Accepted"' in line for line in lines)
    title, lines = _render(flow, 3)
    assert title.startswith("OCPP CALLERROR Heartbeat InternalError id a-1")
    assert "description: boom" in lines


def test_an_answer_without_its_call_in_view_keeps_its_id() -> None:
    flow = _flow_with(b'[3,"9",{}]')
    title, _ = _render(flow, 0)
    assert title.startswith("OCPP CALLRESULT id 9")
