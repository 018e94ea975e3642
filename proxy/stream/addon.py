"""The stream in the proxy: where it is served from, and the relay's side of injection.

The command line runs the analysis in its own process (see :mod:`proxy.engine.stream`), so the stream is served
from there (:mod:`proxy.stream.worker`), described by the :class:`StreamSpec` this addon hands out; the relay
process keeps only the injector and its control endpoint. An embedded engine that analyses in its own process
(``open_proxy``, the tests) gets the stream served right here, from the hub.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import sys
from dataclasses import dataclass, field
from typing import Any

import msgspec
from ocppscope.proxy.core.analyzer import Inspection
from ocppscope.proxy.core.events import Event
from ocppscope.proxy.core.findings import Finding
from ocppscope.proxy.stream.inject import Injector
from ocppscope.proxy.stream.injection import ControlServer, LocalInjection
from ocppscope.proxy.stream.server import StreamServer
from ocppscope.proxy.stream.wire import TOKEN_ENV

log = logging.getLogger("ocppscope.stream")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class StreamSpec:
    """What the analysis process needs to serve the stream (picklable; the token travels in the environment)."""

    host: str
    port: int
    redact: bool = True
    ready_file: str | None = None
    """Where to write ``HOST:PORT`` once listening (``proxy --tui`` waits for it); None: print how to attach."""
    control_url: str | None = None
    """The relay's inject endpoint."""
    routes: list[str] = field(default_factory=list)
    token_given: bool = False
    """The user set the token (``$OCPPSCOPE_STREAM_TOKEN``): it is not printed back."""


def announce(host: str, port: int, token: str, ready_file: str | None, *, token_given: bool = False) -> None:
    """Tell the parent UI where the stream listens, or the user how to attach to it.

    A token ocppscope made up is printed, since the user needs it; one the user gave is not echoed (it would
    land in terminal scrollback and CI logs)."""
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    if ready_file is not None:
        partial = ready_file + ".partial"
        with open(partial, "w", encoding="utf-8") as handle:
            handle.write(where + "\n")
        os.replace(partial, ready_file)
        return
    out = sys.stderr
    shown = f"<the token you set in {TOKEN_ENV}>" if token_given else token
    out.write(f"  live stream on ws://{where}; watch it with:\n"
              f"    {TOKEN_ENV}={shown} ocppscope tui --attach {where}\n")
    if not is_loopback(host):
        out.write("  WARNING: the stream listens beyond this machine without TLS: anyone holding the token can "
                  "watch the traffic and inject CALLs. Prefer loopback and an SSH tunnel.\n")
    out.flush()


class _HoldingBackAnswers:
    """The inspector's publisher, with injected CALLs' answers dropped as they are published."""

    def __init__(self, publisher: Any, injector: Injector) -> None:
        self._publisher = publisher
        self._injector = injector

    def publish(self, event: Event) -> Inspection | None:
        if self._injector.log and self._injector.drop_if_answer(event) is not None:
            event = msgspec.structs.replace(event, injected=True)  # type: ignore[type-var]
        return self._publisher.publish(event)

    def next_seq(self) -> int:
        return self._publisher.next_seq()

    def warn(self, text: str) -> None:
        self._publisher.warn(text)

    def tick(self, now: float) -> list[Finding]:
        return self._publisher.tick(now)

    def finish(self) -> list[Finding]:
        return self._publisher.finish()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._publisher, name)


class OcppStream:
    """mitmproxy addon: the injector, and the stream or its control endpoint."""

    name = "ocppstream"

    def __init__(self, host: str, port: int, token: str, *, redact: bool = True,
                 ready_file: str | None = None, console_off: bool = False, token_given: bool = False) -> None:
        self.console_off = console_off
        """A UI in the parent process owns the terminal (``proxy --tui``): the console reporter must not print."""
        self.host = host
        self.port = port
        self.token = token
        self.token_given = token_given
        self.redact = redact
        self.ready_file = ready_file
        self.injector = Injector()
        self.control: ControlServer | None = None
        self.server: StreamServer | None = None

    def worker_spec(self, routes: list[str]) -> StreamSpec:
        """The stream served by the analysis process (call before the engine starts)."""
        if self.control is None:
            self.control = ControlServer(self.injector, self.token)
        return StreamSpec(self.host, self.port, self.redact, self.ready_file, self.control.url, routes,
                          self.token_given)

    async def running(self) -> None:
        from mitmproxy import ctx
        from ocppscope.proxy.engine.hub import Hub

        inspector = ctx.master.addons.get("ocppinspector")
        if self.server is not None or inspector is None:
            return
        console = ctx.master.addons.get("ocppconsole")
        if self.console_off and console is not None:
            console.mode = "summary"
        hub = inspector.hub
        # Answers to injected CALLs are held back, and injected traffic marked, before anything sees the event:
        # the analysis, the capture and the stream then all know it for ocppscope's own.
        inspector.hub = _HoldingBackAnswers(hub, self.injector)
        if isinstance(hub, Hub):
            await self._serve_here(hub, list(ctx.options.mode))
        elif self.control is not None:
            await self.control.start()

    async def _serve_here(self, hub: Any, routes: list[str]) -> None:
        from ocppscope.proxy.capture.redact import Redactor, installation_salt

        redactor = Redactor(installation_salt()) if self.redact else None
        self.server = StreamServer(self.host, self.port, self.token, redactor=redactor,
                                   injection=LocalInjection(self.injector), routes=routes)
        host, port = await self.server.start()
        hub.subscribe(self.server)
        announce(host, port, self.token, self.ready_file, token_given=self.token_given)

    async def done(self) -> None:
        if self.server is not None:
            await self.server.stop()
        if self.control is not None:
            await self.control.stop()

    def websocket_start(self, flow: Any) -> None:
        self.injector.websocket_start(flow)

    def websocket_end(self, flow: Any) -> None:
        self.injector.websocket_end(flow)
