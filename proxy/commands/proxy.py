"""``ocppscope proxy``: relay chargers to their backend unchanged, and explain the traffic live."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import signal
import sys
from pathlib import Path
from typing import Any

from ocppscope.proxy.commands.check import CheckersFromArgs, add_analysis_arguments, analyzer_options
from ocppscope.proxy.commands.options import add_format_argument
from ocppscope.proxy.commands.tls import add_tls_arguments, check_tls_files
from ocppscope.proxy.engine.routes import DEFAULT_LISTEN, Rewrite, Route, charger_urls
from ocppscope.proxy.errors import OcppscopeError, UsageError
from ocppscope.proxy.profiles.options import add_profile_arguments
from ocppscope.proxy.stream.options import add_stream_arguments, console_mode, stream_setup

GC_ENV = "OCPPSCOPE_RELAY_GC"


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "proxy",
        help="relay chargers to a backend, unchanged, and explain the traffic",
        description="Listen for chargers, forward every byte to the backend and back, and show each frame, each "
        "finding and a summary on Ctrl-C. The charger's path is kept under the backend's base path: with "
        "--upstream wss://csms.example/ocpp a charger connecting to ws://HOST:PORT/CP01 reaches "
        "wss://csms.example/ocpp/CP01.",
    )
    parser.add_argument("--upstream", metavar="ws[s]://HOST[:PORT][/BASE]", help="the backend chargers normally use")
    parser.add_argument("--listen", default=DEFAULT_LISTEN, metavar="HOST:PORT",
                        help=f"where chargers connect (default {DEFAULT_LISTEN}; 0.0.0.0:PORT for the LAN)")
    parser.add_argument("--route", action="append", default=[], metavar="LISTEN=UPSTREAM",
                        help="an extra listener and its backend (repeatable), e.g. 127.0.0.1:8081=wss://csms2/ocpp")
    parser.add_argument("--rewrite-path", action="append", default=[], metavar="OLD=NEW",
                        help="replace the path prefix OLD with NEW before the base path is added (repeatable), "
                        "e.g. /ocpp/=/steve/websocket/CentralSystemService/")
    parser.add_argument("--capture", type=Path, metavar="DIR", help="record every connection into DIR")
    parser.add_argument("--capture-split", choices=("connection", "day"), default="connection",
                        help="one capture file per charger connection (default) or per day")
    parser.add_argument("--capture-max-size", default="100m", metavar="SIZE",
                        help="continue a capture in a new part file at this size (default 100m)")
    parser.add_argument("--no-redact", action="store_true",
                        help="keep passwords and authorization keys in captures (do not share them)")
    parser.add_argument("--save-flows", type=Path, metavar="FILE",
                        help="also write every flow into this mitmproxy flow file (opens in mitmweb; secrets "
                        "redacted unless --no-redact)")
    add_format_argument(parser, ("text", "json"), help="console output: text lines (-q: findings and the summary "
                        "only), or json, one object per line on stdout")
    add_tls_arguments(parser)
    parser.add_argument("--handshake-timeout", type=float, default=10.0, metavar="SECONDS",
                        help="close a connection that sends no complete upgrade request within this long "
                        "(default 10; 0 = no limit)")
    parser.add_argument("--upstream-timeout", type=float, default=30.0, metavar="SECONDS",
                        help="close a charger's connection when the backend does not answer its upgrade within "
                        "this long (default 30; 0 = no limit)")
    add_analysis_arguments(parser)
    add_profile_arguments(parser)
    add_stream_arguments(parser)
    parser.set_defaults(func=run)


def routes_from_args(args: argparse.Namespace) -> list[Route]:
    rewrites = tuple(Rewrite.parse(text) for text in args.rewrite_path)
    routes = [Route.parse(args.listen, args.upstream, rewrites)] if args.upstream else []
    routes += [Route.parse_pair(text, rewrites) for text in args.route]
    if not routes:
        raise UsageError("give the backend with --upstream ws[s]://HOST[:PORT][/BASE] (or --route)")
    return routes


def run(args: argparse.Namespace) -> int:
    check_tls_files(args)
    if args.tui:
        from ocppscope.proxy.commands.tui import run_proxy_with_tui

        return run_proxy_with_tui(args)
    from ocppscope.proxy.engine.engine import EngineConfig, ProxyEngine
    from ocppscope.proxy.engine.lograte import limit_repeats

    checkers = CheckersFromArgs(args)  # a broken profile is an error before anything listens
    config = EngineConfig(
        routes=routes_from_args(args),
        insecure_upstream=args.insecure_upstream,
        certs=args.cert,
        upstream_ca=args.upstream_ca,
        analyzer=analyzer_options(args),
        checkers=checkers,
        handshake_timeout=args.handshake_timeout,
        upstream_timeout=args.upstream_timeout,
    )
    # Analysis, capture, console and the live stream (--stream, --tui) in their own process: the relay keeps its
    # CPU and never waits for a disk or a UI (measured: analysing here with a UI attached, p99 3 → 26 ms).
    stream_addons, stream_spec = stream_setup(args, [f"{args.listen} → {args.upstream}"] if args.upstream else [])
    config.analysis = _worker_spec(args, checkers, stream_spec)
    config.gc_policy = _gc_policy()
    engine = ProxyEngine(config, addons=[*stream_addons, *_save_flows(args, config)])
    limit_repeats()  # a flood of identical errors (a port scan, a reconnect storm) is counted, not printed
    asyncio.run(_serve(engine, args))
    return 0


def _check_capture(args: argparse.Namespace) -> None:
    from mitmproxy.utils.human import parse_size
    from ocppscope.proxy.capture.private import private_directory

    if args.capture is not None:
        try:
            private_directory(args.capture)
            parse_size(args.capture_max_size)
        except (ValueError, OSError) as exc:
            raise OcppscopeError(f"--capture {args.capture}: {exc}") from None


def _save_flows(args: argparse.Namespace, config: Any) -> list[Any]:
    """The flow file writer for ``--save-flows`` (created now: a path that cannot be written fails before
    anything listens); mitmproxy must then keep each flow's messages until the flow is written."""
    if args.save_flows is None:
        return []
    from ocppscope.addons.save_flows import OcppSaveFlows

    config.keep_messages = True
    try:
        return [OcppSaveFlows(args.save_flows, redact=not args.no_redact)]
    except OSError as exc:
        raise OcppscopeError(f"--save-flows {args.save_flows}: {exc.strerror or exc}") from None


def _console_mode(args: argparse.Namespace) -> str:
    return "json" if args.format == "json" else "findings" if args.quiet else "lines"


def _worker_spec(args: argparse.Namespace, checkers: CheckersFromArgs, stream: Any = None) -> Any:
    from ocppscope.proxy.engine.stream import WorkerSpec

    _check_capture(args)
    return WorkerSpec(
        analyzer=analyzer_options(args),
        checkers=checkers,
        console=console_mode(args, _console_mode(args)),
        capture_dir=str(args.capture) if args.capture is not None else None,
        capture_split=args.capture_split,
        capture_max_size=args.capture_max_size,
        capture_redact=not args.no_redact,
        stream=stream,
    )


def _gc_policy() -> Any:
    """The relay's garbage-collection policy (proxy/engine/relaygc.py). ``OCPPSCOPE_RELAY_GC=off`` keeps only
    the freeze at start-up instead, for measuring what the policy is worth."""
    from ocppscope.proxy.engine.relaygc import GcPolicy

    return None if os.environ.get(GC_ENV, "").lower() in ("off", "0", "no") else GcPolicy()


async def _serve(engine: Any, args: argparse.Namespace) -> None:
    await engine.start()
    if engine.gc is None:
        # What exists now lives as long as the process: keep the collector from rescanning it (engine-facts.md).
        gc.freeze()
    _banner(engine, args)
    main = asyncio.current_task()
    loop = asyncio.get_running_loop()
    assert main is not None
    for signum in (signal.SIGINT, signal.SIGTERM):
        # Both end the run the same clean way, even where the parent started us with SIGINT ignored.
        with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows
            loop.add_signal_handler(signum, main.cancel)
    try:
        await engine.serve_forever()
    except asyncio.CancelledError:
        pass  # Ctrl-C or SIGTERM: serve_forever already shut down cleanly
    finally:
        await engine.stop()


def _banner(engine: Any, args: argparse.Namespace) -> None:
    out = sys.stderr
    out.write("ocppscope is relaying (Ctrl-C stops, closes every connection with 1001 and prints a summary)\n")
    for listening in engine.listening:
        route = listening.route
        out.write(f"  listening on {listening.host}:{listening.port} → {route.upstream}\n")
        urls = charger_urls(listening.host, listening.port)
        example = route.upstream_path("/CP01")
        out.write(f"    chargers connect to {' or '.join(u + 'CP01' for u in urls)} (reaches "
                  f"{route.upstream.url(example)})\n")
        if route.upstream.base:
            out.write(f"    ocppscope adds the backend's path {route.upstream.base}: a charger given "
                      f"{urls[0]}{route.upstream.base.lstrip('/')}/CP01 would reach "
                      f"{route.upstream.base}{route.upstream.base}/CP01\n")
        if route.upstream.tls:
            out.write("    wss:// chargers work on the same port once they trust ocppscope's CA (`ocppscope ca`)\n")
    if args.capture is not None:
        redacted = "secrets redacted" if not args.no_redact else "SECRETS IN CLEAR TEXT"
        out.write(f"  capturing into {args.capture} (one file per {args.capture_split}, {redacted})\n")
    if args.save_flows is not None:
        redacted = "secrets redacted" if not args.no_redact else "SECRETS IN CLEAR TEXT"
        out.write(f"  saving flows into {args.save_flows} (a mitmproxy flow file, {redacted})\n")
    for warning in engine.warnings:
        out.write(f"  WARNING: {warning}\n")
    out.flush()
