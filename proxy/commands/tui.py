"""``ocppscope tui --attach HOST:PORT``: watch a proxy that serves its event stream; and ``proxy --tui``.

``proxy --tui`` runs the relay as a child process (this same command line, without ``--tui``, plus ``--stream
127.0.0.1:0``) and the UI in this process, attached over the stream: a UI in the relay's process costs the relay
its latency (measured: p99 5 → 99 ms), a UI in another process costs it nothing it can feel.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from ocppscope.proxy.engine.hub import SUMMARY_HEADING
from ocppscope.proxy.errors import OcppscopeError
from ocppscope.proxy.stream.wire import TOKEN_ENV

CHILD_START_SECONDS = 30.0
CHILD_STOP_SECONDS = 10.0


def add_parser(sub: argparse._SubParsersAction) -> None:
    from ocppscope.proxy.commands.check import add_analysis_arguments
    from ocppscope.proxy.profiles.options import add_profile_arguments

    parser = sub.add_parser(
        "tui",
        help="watch a running proxy in the terminal UI (ocppscope proxy --stream)",
        description="Attach the terminal UI to a proxy started with `ocppscope proxy --stream [HOST:]PORT`, on this "
        f"machine or through an SSH tunnel (ssh -L 7777:127.0.0.1:7777 site-box). The token is read from "
        f"${TOKEN_ENV} or --token-file; the proxy printed it when it started.",
    )
    parser.add_argument("--attach", required=True, metavar="HOST:PORT", help="where the proxy's stream listens")
    parser.add_argument("--token-file", type=Path, metavar="FILE", help=f"read the token from FILE (else ${TOKEN_ENV})")
    parser.add_argument("--filter", default="", metavar="EXPR", help="start with this filter")
    add_analysis_arguments(parser)
    add_profile_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ocppscope.proxy.stream.options import parse_address
    from ocppscope.tui.analysis import AnalysisSpec

    host, port = parse_address(args.attach)
    token = _token(args.token_file)
    require_terminal()
    return run_live_ui(host, port, token, spec=AnalysisSpec.from_args(args), initial_filter=args.filter)


def _token(path: Path | None) -> str:
    if path is not None:
        try:
            return path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise OcppscopeError(f"cannot read the token file {path}: {exc.strerror or exc}") from None
    token = os.environ.get(TOKEN_ENV)
    if not token:
        raise OcppscopeError(f"no stream token: set {TOKEN_ENV} (the proxy printed it) or give --token-file")
    return token


def require_terminal() -> None:
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        raise OcppscopeError("the terminal UI needs a terminal (stdin and stderr); for a report use "
                             "`ocppscope check`, for console output `ocppscope proxy` without --tui")


def run_live_ui(host: str, port: int, token: str, *, spec: object | None = None, initial_filter: str = "",
                notes: Sequence[str] = (), title: str | None = None, owns_proxy: bool = False) -> int:
    from ocppscope.tui.app import OcppscopeApp
    from ocppscope.tui.live import LiveSession

    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    session = LiveSession(f"ws://{where}", token, title=title, notes=list(notes), spec=spec,  # type: ignore[arg-type]
                          owns_proxy=owns_proxy)
    OcppscopeApp(session, initial_filter=initial_filter).run()
    return 0


# -- proxy --tui -------------------------------------------------------------------------------------------

def child_argv(argv: Sequence[str]) -> list[str]:
    """The proxy command line to run in the child: ``argv`` without ``--tui``."""
    return [arg for arg in argv if arg != "--tui"]


def run_proxy_with_tui(args: argparse.Namespace, argv: Sequence[str] | None = None) -> int:
    """``ocppscope proxy … --tui``: the relay in a child process, the UI here; stopping the UI stops both."""
    from ocppscope.tui.analysis import AnalysisSpec

    require_terminal()
    argv = list(sys.argv[1:] if argv is None else argv)
    if "proxy" not in argv:
        raise OcppscopeError("--tui is an option of `ocppscope proxy`")
    token = os.environ.get(TOKEN_ENV) or secrets.token_urlsafe(24)
    child, address, log_path = start_relay_child(child_argv(argv), token, stream=getattr(args, "stream", None))
    try:
        host, port = address
        banner = _banner(log_path, child)
        status = run_live_ui(host, port, token, spec=AnalysisSpec.from_args(args), notes=banner,
                             title=_relay_title(args), owns_proxy=True)
    finally:
        code = stop_relay_child(child)
    summary = _summary(_read(log_path))
    if summary.strip():
        sys.stdout.write(summary)
    sys.stdout.write(f"(the relay's log: {log_path})\n")
    if code not in (0, -signal.SIGTERM):
        sys.stdout.write(f"the relay exited with code {code}\n")
    return status


def _summary(log: str) -> str:
    """The relay's closing summary from its log (the log's tail when it printed none: it ended abnormally).

    Printed from the summary's own heading so that shutdown noise after it cannot push it off the screen."""
    start = log.rfind(SUMMARY_HEADING)
    if start < 0:
        return log[-4000:]
    return log[start:start + 4000].rstrip("\n") + "\n"


def start_relay_child(argv: Sequence[str], token: str, *, stream: str | None = None
                      ) -> tuple[subprocess.Popen[bytes], tuple[str, int], Path]:
    """Start ``ocppscope ARGV --stream …`` and wait until its stream listens; (process, address, log file)."""
    from ocppscope.proxy.stream.options import parse_address

    workdir = Path(tempfile.mkdtemp(prefix="ocppscope-tui-"))
    ready = workdir / "stream-address"
    log_path = workdir / "relay.log"
    command = [sys.executable, "-m", "ocppscope", *argv, "--stream-ready-file", str(ready)]
    if stream is None:
        command += ["--stream", "127.0.0.1:0"]
    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, TOKEN_ENV: token,
           "PYTHONPATH": os.pathsep.join(filter(None, (root, os.environ.get("PYTHONPATH"))))}
    with log_path.open("wb") as log_file:
        # The relay must never draw on the UI's terminal: its output goes to a log file.
        child = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log_file, stderr=log_file, env=env)
    deadline = time.monotonic() + CHILD_START_SECONDS
    while not ready.exists():
        if child.poll() is not None or time.monotonic() > deadline:
            stop_relay_child(child)
            raise OcppscopeError(f"the relay did not start:\n{_read(log_path).strip()[-2000:]}")
        time.sleep(0.05)
    return child, parse_address(ready.read_text(encoding="utf-8").strip()), log_path


def stop_relay_child(child: subprocess.Popen[bytes]) -> int:
    """SIGTERM (the relay closes every connection with 1001 and flushes its capture), then, if need be, kill."""
    if child.poll() is None:
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(CHILD_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    return child.returncode


def _relay_title(args: argparse.Namespace) -> str:
    routes = [f"{args.listen} → {args.upstream}"] if getattr(args, "upstream", None) else []
    routes += [text.replace("=", " → ", 1) for text in getattr(args, "route", []) or []]
    return "proxy " + ", ".join(routes)


def _banner(log_path: Path, child: subprocess.Popen[bytes], wait: float = 3.0) -> list[str]:
    """The relay's "chargers connect to …" lines, which it prints just after its stream is up."""
    deadline = time.monotonic() + wait
    while True:
        lines = [line.strip() for line in _read(log_path).splitlines()
                 if "connect to" in line or "WARNING" in line]
        if lines or time.monotonic() > deadline or child.poll() is not None:
            return lines
        time.sleep(0.05)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
