"""How the stream server reaches the relay to inject a CALL, wherever the server runs.

- :class:`LocalInjection`: the server runs in the relay process (an embedded engine): it calls the
  :class:`~proxy.stream.inject.Injector` directly.
- :class:`RemoteInjection`: the server runs in the analysis process (the command line): requests go over a
  loopback WebSocket, with the stream's token, to :class:`ControlServer` in the relay process, whose
  :class:`~proxy.stream.inject.Injector` holds the answers back and marks the injected frames
  (``Message.injected``) before they reach the analysis process.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import socket

import orjson
from ocppscope.proxy.core.events import Event
from ocppscope.proxy.stream.inject import Injector, check_request, injection_kind
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.http11 import Request, Response

log = logging.getLogger("ocppscope.stream")


class Injection:
    async def inject(self, conn: str, to: str, text: str) -> str | None:
        """Send CALL ``text`` to ``to`` on ``conn``; an error for the user, or None once it is sent."""
        raise NotImplementedError

    def classify(self, event: Event) -> str | None:
        """``"call"`` / ``"answer"`` for injected frames (called for every event: keep it cheap), else None."""
        raise NotImplementedError


class LocalInjection(Injection):
    def __init__(self, injector: Injector) -> None:
        self.injector = injector

    async def inject(self, conn: str, to: str, text: str) -> str | None:
        return self.injector.inject(conn, to, text)

    def classify(self, event: Event) -> str | None:
        # The relay marked it as it was published (and held an answer back): read the mark.
        return injection_kind(event)


class RemoteInjection(Injection):
    """Forwards inject requests to the relay's :class:`ControlServer` at ``url``."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self._token = token
        self._ws: ClientConnection | None = None

    async def inject(self, conn: str, to: str, text: str) -> str | None:
        _, problem = check_request(to, text)
        if problem is not None:
            return problem  # said here, without a round trip; the relay keeps the log of what waits
        try:
            if self._ws is None:
                self._ws = await connect(self.url, additional_headers={"Authorization": f"Bearer {self._token}"},
                                         open_timeout=5, proxy=None)
            await self._ws.send(orjson.dumps({"conn": conn, "to": to, "text": text}).decode())
            answer = orjson.loads(await self._ws.recv())
        except (OSError, InvalidHandshake, ConnectionClosed, TimeoutError) as exc:
            self._ws = None
            answer = {"error": f"the relay did not take the request ({exc or type(exc).__name__})"}
        return answer.get("error")

    def classify(self, event: Event) -> str | None:
        return injection_kind(event)  # marked in the relay, before the event came down the pipe


class ControlServer:
    """In the relay process: takes inject requests from the analysis process's stream server.

    Its socket is bound when it is made, before the analysis process starts, so that process can be told the
    address up front.
    """

    def __init__(self, injector: Injector, token: str, host: str = "127.0.0.1") -> None:
        self.injector = injector
        self._token = token
        self._socket = socket.create_server((host, 0))
        self.host, self.port = self._socket.getsockname()[:2]
        self._server: Server | None = None

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    async def start(self) -> None:
        self._server = await serve(self._serve, sock=self._socket, process_request=self._authenticate,
                                   compression=None, ping_interval=None)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(TimeoutError):
                await self._server.wait_closed()
        else:
            self._socket.close()

    async def _authenticate(self, connection: ServerConnection, request: Request) -> Response | None:
        given = request.headers.get("Authorization", "").encode()
        if not hmac.compare_digest(given, f"Bearer {self._token}".encode()):
            return connection.respond(401, "wrong or missing token\n")
        return None

    async def _serve(self, ws: ServerConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for message in ws:
                try:
                    request = orjson.loads(message)
                    error = self.injector.inject(str(request["conn"]), str(request["to"]), str(request["text"]))
                except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
                    error = f"bad request: {exc}"
                await ws.send(orjson.dumps({"error": error}).decode())
