"""The stream served from the analysis process: a hub listener on a thread with its own event loop.

The analysis process reads the relay's events in a plain loop; the listener methods only queue lines, and a
thread runs the WebSocket server that sends them, so neither waits for the other. Injections are forwarded to
the relay's control endpoint.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Sequence

from ocppscope.proxy.core.analyzer import Inspection
from ocppscope.proxy.core.events import Event
from ocppscope.proxy.core.findings import Finding
from ocppscope.proxy.engine.hub import Hub, Listener, Summary
from ocppscope.proxy.stream.addon import StreamSpec, announce
from ocppscope.proxy.stream.injection import RemoteInjection
from ocppscope.proxy.stream.server import StreamServer
from ocppscope.proxy.stream.wire import TOKEN_ENV

log = logging.getLogger("ocppscope.stream")

_STOP_SECONDS = 5.0


class ThreadedStream(Listener):
    """Subscribes to the hub; serves on a thread of its own."""

    name = "stream"

    def __init__(self, spec: StreamSpec, token: str) -> None:
        from ocppscope.proxy.capture.redact import Redactor, installation_salt

        redactor = Redactor(installation_salt()) if spec.redact else None
        injection = RemoteInjection(spec.control_url, token) if spec.control_url else None
        self.spec = spec
        self.token = token
        self.server = StreamServer(spec.host, spec.port, token, redactor=redactor, injection=injection,
                                   routes=spec.routes)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="ocppscope stream", daemon=True)

    def start(self) -> tuple[str, int]:
        self._thread.start()
        host, port = asyncio.run_coroutine_threadsafe(self.server.start(), self._loop).result(10)
        announce(host, port, self.token, self.spec.ready_file, token_given=self.spec.token_given)
        return host, port

    def on_inspection(self, event: Event, inspection: Inspection | None) -> None:
        self.server.on_inspection(event, inspection)

    def on_findings(self, findings: Sequence[Finding]) -> None:
        self.server.on_findings(findings)

    def on_close(self, summary: Summary) -> None:
        self.server.on_close(summary)
        try:
            asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(_STOP_SECONDS)
        except Exception:  # the process is ending anyway; the UI will see the stream close
            log.exception("ocppscope: the stream did not stop cleanly")
        self._loop.call_soon_threadsafe(self._loop.stop)

    async def _shutdown(self) -> None:
        """Stop serving, then end whatever is left (a client's handler that never saw its close answered), so
        the process ends without "Task was destroyed but it is pending" noise burying its summary."""
        try:
            await self.server.stop()
        finally:
            current = asyncio.current_task()
            left = [task for task in asyncio.all_tasks() if task is not current]
            for task in left:
                task.cancel()
            await asyncio.gather(*left, return_exceptions=True)


def serve(hub: Hub, spec: StreamSpec) -> ThreadedStream | None:
    """Serve ``hub``'s events as ``spec`` says; None (and a logged error) if it cannot listen."""
    token = os.environ.get(TOKEN_ENV)
    if not token:
        log.error("ocppscope: no stream token in %s; the live stream is off", TOKEN_ENV)
        return None
    stream = ThreadedStream(spec, token)
    try:
        stream.start()
    except OSError as exc:
        log.error("ocppscope: the live stream cannot listen on %s:%s: %s", spec.host, spec.port, exc)
        return None
    hub.subscribe(stream)
    return stream
