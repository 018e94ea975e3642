"""Serve the backend side of a capture to a real charger or simulator (``replay --as backend``).

Each connecting charger gets the recorded backend's behaviour for its identity (or the only charger's, when
the capture has one): the n-th connection of an identity plays the n-th recorded connection (the last one
again once they run out), refusing the upgrade when the recording refused it. Its CALLs are answered with
the recorded answers to the same action, and the recorded backend's own CALLs are sent at their recorded
place: after the same number of charger CALLs, with the recorded delay.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from http import HTTPStatus

from ocppscope.proxy.core.connection import identity_from_path
from ocppscope.proxy.core.events import Direction
from ocppscope.proxy.replay.charger import ReplayRun
from ocppscope.proxy.replay.livelog import LiveLog
from ocppscope.proxy.replay.plan import ChargerScript, ConnectionScript
from ocppscope.proxy.replay.session import ReplayOptions, Session
from ocppscope.proxy.replay.values import ValueMap
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response


class BackendReplay:
    """A websockets server playing the recorded backend; ``async with`` it, then ``await wait(...)``."""

    def __init__(self, scripts: Sequence[ChargerScript], options: ReplayOptions, *, host: str = "127.0.0.1",
                 port: int = 0, tls: ssl.SSLContext | None = None, connections: int | None = None,
                 log: LiveLog | None = None) -> None:
        self.scripts = {script.charger: script for script in scripts}
        # The charger closes when it wants to; the server's own limits end a session that never does.
        self.options = replace(options, wait_for_peer_close=False)
        self.run = ReplayRun(log or LiveLog())
        self.max_connections = connections
        self._bind = (host, port)
        self._tls = tls
        self._server: Server | None = None
        self._seen: Counter[str | None] = Counter()
        self._chosen: dict[ServerConnection, tuple[ChargerScript, ConnectionScript]] = {}
        self._values: dict[str | None, ValueMap] = {}
        self._sessions: set[Session] = set()
        self._finished = 0
        self.done = asyncio.Event()
        """Set once ``connections`` connections have ended."""

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("backend replay not started")
        host, port = self._server.sockets[0].getsockname()[:2]
        host = f"[{host}]" if ":" in host else host
        return f"{'wss' if self._tls else 'ws'}://{host}:{port}"

    async def __aenter__(self) -> BackendReplay:
        host, port = self._bind
        self._server = await serve(self._serve, host, port, process_request=self._choose,
                                   select_subprotocol=self._select, ssl=self._tls, ping_interval=None, max_size=None)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        for session in list(self._sessions):
            if not session.gone.is_set() and not session.closing:
                with contextlib.suppress(Exception):
                    await session.close(1001, "ocppscope replay finished")
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def wait(self, duration: float | None = None) -> None:
        """Until ``connections`` connections ended, or ``duration`` seconds passed (None: no limit)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.done.wait(), duration)

    def _pick(self, identity: str | None) -> ChargerScript | None:
        if identity in self.scripts:
            return self.scripts[identity]
        return next(iter(self.scripts.values())) if len(self.scripts) == 1 else None

    def _choose(self, connection: ServerConnection, request: Request) -> Response | None:
        identity = identity_from_path(request.path)
        charger = self._pick(identity)
        if charger is None or not charger.connections:
            return self._refuse(connection, request, HTTPStatus.NOT_FOUND, "charger not in the replayed capture")
        nth = self._seen[identity]
        self._seen[identity] += 1
        script = charger.connections[min(nth, len(charger.connections) - 1)]
        if nth >= len(charger.connections):
            opened = [conn for conn in charger.connections if conn.succeeded]
            script = opened[-1] if opened else script
        if not script.succeeded:
            return self._refuse(connection, request, script.opened.status or HTTPStatus.SERVICE_UNAVAILABLE,
                                "refused as in the recording")
        self._chosen[connection] = (charger, script)
        return None

    def _refuse(self, connection: ServerConnection, request: Request, status: int, why: str) -> Response:
        response = connection.respond(status, f"ocppscope replay: {why}\n")
        remote = connection.remote_address
        self.run.log.opened(self.run.log.new_conn_id(), client=f"{remote[0]}:{remote[1]}" if remote else "",
                            path=request.path, request_headers=tuple(request.headers.raw_items()), status=status,
                            response_headers=tuple(response.headers.raw_items()))
        self._ended()
        return response

    def _select(self, connection: ServerConnection, offered: Sequence[str]) -> str | None:
        chosen = self._chosen.get(connection)
        recorded = chosen[1].opened.subprotocol if chosen else None
        return recorded if recorded in offered else None

    async def _serve(self, ws: ServerConnection) -> None:
        charger, script = self._chosen.pop(ws)
        self.run.played.append(script.conn_id)
        request, response, remote = ws.request, ws.response, ws.remote_address
        assert request is not None and response is not None
        conn_id = self.run.log.new_conn_id()
        self.run.log.opened(conn_id, client=f"{remote[0]}:{remote[1]}" if remote else "", path=request.path,
                            request_headers=tuple(request.headers.raw_items()), status=response.status_code,
                            response_headers=tuple(response.headers.raw_items()), subprotocol=ws.subprotocol)
        values = self._values.setdefault(charger.charger, ValueMap())
        session = Session(ws, script, charger, Direction.FROM_BACKEND, conn_id, self.options, self.run.log, values,
                          self.run.notes)
        self._sessions.add(session)
        try:
            await session.run()
        finally:
            self._sessions.discard(session)
            self._ended()

    def _ended(self) -> None:
        self._finished += 1
        if self.max_connections is not None and self._finished >= self.max_connections:
            self.done.set()
