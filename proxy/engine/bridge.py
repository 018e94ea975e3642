"""Translation of mitmproxy flows into the core's events: the only place that knows both sides.

Times come from mitmproxy's own timestamps, taken when the bytes arrived, not when a hook happened to run.
"""

from __future__ import annotations

import time

from mitmproxy import connection, http
from mitmproxy.websocket import WebSocketMessage
from ocppscope.proxy.core.events import (
    AuthSummary,
    ClosedBy,
    ConnectionClosed,
    ConnectionOpened,
    Direction,
    Headers,
    Message,
    TlsInfo,
    header,
)

CHARGER_PATH = "ocppscope.charger_path"
"""``flow.metadata`` key: the path as the charger sent it, before any rewrite for the backend."""
CLOSED_BY_PROXY = "ocppscope.closed_by_proxy"
"""``flow.metadata`` key set when ocppscope itself closed the WebSocket (shutdown)."""

# wsproto never sends these codes (RFC 6455 reserves them for local use): it forwards 1000 instead.
# 1005 (no code) travels as a close frame without a code, which the other side also reads as 1005.
_NOT_FORWARDABLE = {1006: 1000, 1015: 1000}


def conn_id(flow: http.HTTPFlow) -> str:
    return flow.id[:8]


def address(peer: tuple | None) -> str:
    if not peer:
        return "?"
    host, port = peer[0], peer[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


HANDSHAKE_TIMED_OUT = "ocppscope.handshake_timed_out"
"""``flow.metadata`` key: why ocppscope closed this upgrade because the backend did not answer in time."""


def is_websocket_upgrade(flow: http.HTTPFlow) -> bool:
    return flow.request.headers.get("upgrade", "").lower() == "websocket"


def _headers(message: http.Message) -> Headers:
    return tuple(message.headers.items(multi=True))


def tls_info(conn: connection.Connection, verified: bool | None = None) -> TlsInfo | None:
    if not conn.tls_established:
        return None
    subject = None
    if conn.certificate_list:
        subject = ", ".join(f"{key}={value}" for key, value in conn.certificate_list[0].subject)
    return TlsInfo(
        version=conn.tls_version,
        cipher=conn.cipher,
        sni=conn.sni,
        alpn=conn.alpn.decode("ascii", "replace") if conn.alpn else None,
        peer_certificate_subject=subject,
        verified=verified,
    )


def upstream_url(flow: http.HTTPFlow) -> str:
    scheme = "wss" if flow.request.scheme == "https" else "ws"
    host = flow.request.host
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}:{flow.request.port}{flow.request.path}"


def opened(
    flow: http.HTTPFlow,
    seq: int,
    *,
    upstream_verified: bool,
    auth: AuthSummary | None = None,
) -> ConnectionOpened:
    """The handshake as the charger made it and the answer it got (101, the backend's refusal or our 502)."""
    request = flow.request
    response = flow.response
    request_headers = _headers(request)
    if response is not None:
        status = response.status_code
        response_headers = _headers(response)
        when = response.timestamp_start or time.time()
        error = None
    else:
        # No answer from the backend: mitmproxy answered 502 itself (unreachable, TLS refused, ...),
        # unless the charger hung up first, in which case it got nothing.
        error = flow.error.msg if flow.error else "no answer"
        status = 0 if _charger_gave_up(error) else 502
        timed_out = flow.metadata.get(HANDSHAKE_TIMED_OUT)
        if timed_out:
            error, status = timed_out, 504
        response_headers = ()
        when = flow.error.timestamp if flow.error else time.time()
    server_tls = flow.server_conn.tls or request.scheme == "https"
    return ConnectionOpened(
        conn_id=conn_id(flow),
        time=when,
        client=address(flow.client_conn.peername),
        path=flow.metadata.get(CHARGER_PATH, request.path),
        request_headers=request_headers,
        status=status,
        response_headers=response_headers,
        subprotocol=header(response_headers, "Sec-WebSocket-Protocol") if status == 101 else None,
        upstream=upstream_url(flow),
        seq=seq,
        error=error,
        client_tls=tls_info(flow.client_conn),
        upstream_tls=tls_info(flow.server_conn, upstream_verified)
        or (TlsInfo(verified=upstream_verified) if server_tls else None),
        auth=auth,
    )


def _charger_gave_up(error: str) -> bool:
    lowered = error.lower()
    return "client disconnected" in lowered or "killed" in lowered


def message(flow: http.HTTPFlow, msg: WebSocketMessage, seq: int) -> Message:
    return Message(
        conn_id=conn_id(flow),
        time=msg.timestamp,
        direction=Direction.FROM_CHARGER if msg.from_client else Direction.FROM_BACKEND,
        content=msg.content,
        is_text=msg.is_text,
        seq=seq,
    )


def closed(flow: http.HTTPFlow, seq: int) -> ConnectionClosed:
    ws = flow.websocket
    assert ws is not None
    code = int(ws.close_code) if ws.close_code is not None else None
    closed_by: ClosedBy
    if flow.metadata.get(CLOSED_BY_PROXY):
        closed_by = "proxy"
    elif ws.closed_by_client is None:
        closed_by = "unknown"
    else:
        closed_by = "charger" if ws.closed_by_client else "backend"
    return ConnectionClosed(
        conn_id=conn_id(flow),
        time=ws.timestamp_end or time.time(),
        code=code,
        reason=ws.close_reason or "",
        closed_by=closed_by,
        seq=seq,
        relayed_code=_NOT_FORWARDABLE.get(code) if code is not None else None,
    )
