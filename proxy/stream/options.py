"""The proxy command's live-view options: ``--tui`` and ``--stream HOST:PORT``.

``proxy/commands/proxy.py`` calls :func:`add_stream_arguments` on its parser and :func:`stream_setup`, whose
addon goes to the relay (the injector) and whose spec to the analysis process (``WorkerSpec.stream``: the stream
is served from there), and hands ``--tui`` to :func:`proxy.commands.tui.run_proxy_with_tui`, which runs this
same command again as a child process with ``--stream 127.0.0.1:0`` and shows the UI in this one.
"""

from __future__ import annotations

import argparse
import os
import secrets
from typing import Any

from ocppscope.proxy.addresses import parse_host_port
from ocppscope.proxy.stream.wire import TOKEN_ENV

DEFAULT_HOST = "127.0.0.1"


def add_stream_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("live view")
    group.add_argument("--tui", action="store_true",
                       help="show the live terminal UI; the relay runs in its own process, so watching never "
                       "slows it down")
    group.add_argument("--stream", metavar="[HOST:]PORT",
                       help="serve the live event stream for `ocppscope tui --attach` (loopback unless a host is "
                       f"given; the token is ${TOKEN_ENV}, or one is made up and printed)")
    group.add_argument("--stream-ready-file", help=argparse.SUPPRESS)


def parse_address(text: str, default_host: str = DEFAULT_HOST) -> tuple[str, int]:
    """``HOST:PORT``, ``[v6]:PORT`` or ``PORT`` → (host, port)."""
    return parse_host_port(text, "stream address", default_host=default_host)


def stream_token() -> str:
    return os.environ.get(TOKEN_ENV) or secrets.token_urlsafe(24)


def stream_setup(args: argparse.Namespace, routes: list[str]) -> tuple[list[object], Any]:
    """With ``--stream``: the relay's addon and the :class:`~proxy.stream.addon.StreamSpec` for the analysis
    process (``WorkerSpec.stream``); without: nothing. The token goes into this process's environment, which
    the analysis process inherits."""
    if not getattr(args, "stream", None):
        return [], None
    from ocppscope.proxy.stream.addon import OcppStream

    host, port = parse_address(args.stream)
    given = bool(os.environ.get(TOKEN_ENV))
    token = os.environ[TOKEN_ENV] = stream_token()
    stream = OcppStream(host, port, token, redact=not getattr(args, "no_redact", False),
                        ready_file=getattr(args, "stream_ready_file", None), token_given=given)
    return [stream], stream.worker_spec(routes)


def console_mode(args: argparse.Namespace, mode: str) -> str:
    """The console's mode: only the summary when a UI in the parent process owns the terminal (``proxy --tui``),
    which prints the relay's summary once the UI has closed."""
    return "summary" if getattr(args, "stream_ready_file", None) else mode
