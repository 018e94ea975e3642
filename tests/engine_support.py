"""Real peers for the live-proxy tests: a recording websockets backend and a raw HTTP upgrade client.

Everything listens on 127.0.0.1 with ports the OS picks. The backend records what it received exactly
(request line, headers in order, every message with its type) so tests compare both ends of the proxy.
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import os
import ssl
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.frames import Close
from websockets.http11 import Request, Response

Handler = Callable[["BackendConnection"], Awaitable[None]]


@pytest.fixture(scope="session")
def ocppscope_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One config directory (CA, redaction salt) for the whole session: never the user's own."""
    home = tmp_path_factory.mktemp("ocppscope-home")
    previous = os.environ.get("OCPPSCOPE_HOME")
    os.environ["OCPPSCOPE_HOME"] = str(home)
    yield home
    if previous is None:
        os.environ.pop("OCPPSCOPE_HOME", None)
    else:
        os.environ["OCPPSCOPE_HOME"] = previous


@dataclass
class BackendConnection:
    """One connection as the backend saw it."""

    ws: ServerConnection
    path: str
    headers: list[tuple[str, str]]
    received: list[str | bytes] = field(default_factory=list)
    close: Close | None = None
    closed: asyncio.Event = field(default_factory=asyncio.Event)


async def echo(conn: BackendConnection) -> None:
    async for message in conn.ws:
        conn.received.append(message)
        await conn.ws.send(message)


async def record_only(conn: BackendConnection) -> None:
    async for message in conn.ws:
        conn.received.append(message)


class Backend:
    """A websockets server standing in for a CSMS, recording everything it got."""

    def __init__(
        self,
        handler: Handler = echo,
        *,
        subprotocols: Sequence[str] | None = ("ocpp1.6", "ocpp2.0.1"),
        select: Callable[[Sequence[str]], str | None] | None = None,
        status: int | None = None,
        compression: str | None = "deflate",
        tls: ssl.SSLContext | None = None,
        handshake_delay: float = 0.0,
    ) -> None:
        self.handler = handler
        self.subprotocols = subprotocols
        self.select = select
        self.status = status
        self.compression = compression
        self.tls = tls
        self.handshake_delay = handshake_delay
        self.requests: list[Request] = []
        self.connections: list[BackendConnection] = []
        self.connected = asyncio.Event()
        self._server: Server | None = None

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.sockets[0].getsockname()[1]

    def url(self, base: str = "") -> str:
        return f"{'wss' if self.tls else 'ws'}://127.0.0.1:{self.port}{base}"

    async def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        self.requests.append(request)
        if self.handshake_delay:
            await asyncio.sleep(self.handshake_delay)
        if self.status is not None:
            return connection.respond(self.status, f"refused with {self.status}\n")
        return None

    def _select(self, connection: ServerConnection, offered: Sequence[str]) -> str | None:
        if self.select is not None:
            return self.select(offered)
        return next((s for s in offered if self.subprotocols and s in self.subprotocols), None)

    async def _handle(self, ws: ServerConnection) -> None:
        request = ws.request
        assert request is not None
        conn = BackendConnection(ws, request.path, list(request.headers.raw_items()))
        self.connections.append(conn)
        self.connected.set()
        try:
            await self.handler(conn)
        except ConnectionClosed:
            pass
        finally:
            await ws.wait_closed()
            conn.close = ws.protocol.close_rcvd
            conn.closed.set()

    async def __aenter__(self) -> Backend:
        self._server = await serve(
            self._handle, "127.0.0.1", 0, process_request=self._process_request,
            select_subprotocol=self._select, compression=self.compression, ping_interval=None,
            max_size=None, ssl=self.tls,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()


def connect_direct(url: str, **options: Any) -> connect:
    """A websockets charger that never goes through an HTTP proxy named in the environment."""
    return connect(url, proxy=None, **options)


def basic(user: str, password: str | bytes) -> str:
    secret = password if isinstance(password, bytes) else password.encode()
    return "Basic " + base64.b64encode(user.encode() + b":" + secret).decode()


@dataclass
class RawAnswer:
    status: int
    headers: Headers
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    def close(self) -> None:
        self.writer.close()


async def raw_upgrade(port: int, path: str, headers: Sequence[tuple[str, str]] = (), *,
                      offer: str | None = None, key: str = "dGhlIHNhbXBsZSBub25jZQ==") -> RawAnswer:
    """Send an upgrade request byte for byte as given (a charger's malformed ones included)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Upgrade: websocket", "Connection: Upgrade",
             f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
    if offer is not None:
        lines.append(f"Sec-WebSocket-Protocol: {offer}")
    lines += [f"{name}: {value}" for name, value in headers]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogateescape"))
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    parsed = Headers()
    for line in header_lines:
        if line:
            name, _, value = line.partition(":")
            parsed[name.strip()] = value.strip()
    return RawAnswer(int(status_line.split()[1]), parsed, reader, writer)


def close_frame(code: int, reason: str = "", mask: bytes = b"\x01\x02\x03\x04") -> bytes:
    """A masked client close frame, as a charger would send it."""
    payload = code.to_bytes(2, "big") + reason.encode()
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([0x88, 0x80 | len(payload)]) + mask + masked


def tls_backend(directory: Path) -> tuple[ssl.SSLContext, Path]:
    """A server TLS context for 127.0.0.1 signed by a throwaway CA, and that CA's certificate file."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from mitmproxy.certs import CertStore

    CertStore.create_store(directory, "backend", 2048, organization="Test CSMS", cn="Test CSMS CA")
    store = CertStore.from_store(directory, "backend", 2048)
    entry = store.get_cert("127.0.0.1", [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    chain = directory / "backend-leaf.pem"
    key = entry.privatekey.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption())
    chain.write_bytes(entry.cert.to_pem() + key)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(chain)
    return context, directory / "backend-ca-cert.pem"


def rules(findings: Sequence[Any]) -> list[str]:
    return [finding.rule for finding in findings]
