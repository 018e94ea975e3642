"""Closing live WebSockets from the proxy itself, with a real close frame on both sides.

mitmproxy (11 and 12) has no API to close a WebSocket: killing a flow does nothing once it is relaying, and cancelling
the connection tasks drops TCP, which the charger sees as 1006 and reads as a network fault. On shutdown we
owe both sides a 1001 "going away", so this module asks the flow's own WebSocket layer to send it: the frame
then travels down through the TLS layers like any relayed frame (writing raw bytes to the socket would break
a TLS stream).

The request travels as an injected-message event, the one kind of event mitmproxy routes from the connection
handler down to a flow's WebSocket layer; the layer's next event handler is swapped, for that one event, for a
function that does what mitmproxy itself does when a peer closes (send the close both ways, close both
connections, fire ``websocket_end``). These are mitmproxy internals, the same in 11.0.x and 12.x, covered by
``tests/test_engine_relay.py`` on both (``.ci/mitmproxy12``); :func:`request_close` returns False when it
cannot find them, and the caller then falls back to dropping the connection.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import wsproto.events
from mitmproxy import http
from mitmproxy.addons.proxyserver import Proxyserver
from mitmproxy.proxy import commands, layer
from mitmproxy.proxy.layers.websocket import WebsocketEndHook, WebsocketLayer, WebSocketMessageInjected
from mitmproxy.websocket import WebSocketMessage
from ocppscope.proxy.engine.bridge import CLOSED_BY_PROXY
from wsproto import ConnectionState
from wsproto.frame_protocol import Opcode

_OPEN_STATES = {ConnectionState.OPEN, ConnectionState.REMOTE_CLOSING}


class _CloseRequest(WebSocketMessageInjected):
    """Routed like an injected message; the swapped handler recognises it by type and sends no message."""


def find_websocket_layer(root: layer.Layer, flow: http.HTTPFlow) -> WebsocketLayer | None:
    """The WebSocket layer relaying ``flow``, searched through the layer tree under ``root``."""
    seen: set[int] = set()
    stack: list[Any] = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, WebsocketLayer) and node.flow is flow:
            return node
        for value in vars(node).values():
            if isinstance(value, layer.Layer):
                stack.append(value)
            elif isinstance(value, dict):
                stack.extend(v for v in value.values() if isinstance(v, layer.Layer))
    return None


def request_close(proxyserver: Proxyserver, flow: http.HTTPFlow, code: int, reason: str) -> bool:
    """Close ``flow``'s WebSocket on both sides with ``code``.

    Returns False if the flow is not relaying any more or its layer cannot be found.
    """
    handler = proxyserver.connections.get(flow.client_conn.id)
    if handler is None:
        return False
    ws_layer = find_websocket_layer(handler.layer, flow)
    if ws_layer is None or getattr(ws_layer._handle_event, "__func__", None) is not WebsocketLayer.relay_messages:
        return False
    relay = ws_layer._handle_event

    def close_or_relay(event: Any) -> Iterator[commands.Command]:
        if not isinstance(event, _CloseRequest):
            yield from relay(event)
            return
        yield from _close(ws_layer, code, reason)

    ws_layer._handle_event = close_or_relay  # type: ignore[method-assign]
    flow.metadata[CLOSED_BY_PROXY] = True
    proxyserver.inject_event(_CloseRequest(flow, WebSocketMessage(Opcode.TEXT, True, b"")))
    return True


def _close(ws_layer: WebsocketLayer, code: int, reason: str) -> Iterator[commands.Command]:
    # Mirrors WebsocketLayer.relay_messages on a CloseConnection event, with the proxy as the closer.
    websocket = ws_layer.flow.websocket
    assert websocket is not None
    websocket.timestamp_end = time.time()
    websocket.close_code = code
    websocket.close_reason = reason
    websocket.closed_by_client = None
    for ws in (ws_layer.server_ws, ws_layer.client_ws):
        if ws.state in _OPEN_STATES:
            yield ws.send2(wsproto.events.CloseConnection(code=code, reason=reason))
        yield commands.CloseConnection(ws.conn)
    yield WebsocketEndHook(ws_layer.flow)
    ws_layer.flow.live = False
    ws_layer._handle_event = ws_layer.done  # type: ignore[method-assign]


def close_client(proxyserver: Proxyserver, client_id: str) -> bool:
    """Drop a client connection that is not relaying yet (a stalled upgrade), as mitmproxy's own inactivity
    timeout does: its handler task is cancelled and both TCP connections close. False if it is gone."""
    handler = proxyserver.connections.get(client_id)
    if handler is None:
        return False
    asyncio.get_running_loop().create_task(handler.on_timeout())
    return True
