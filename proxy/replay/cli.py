"""The live-replay path of ``ocppscope replay``: options, and the function the command calls with ``--target``.

::

    add_live_replay_arguments(parser)            # in the replay command's add_parser
    ...
    if args.target:
        return run_live_replay(capture_paths, args)

``--as charger`` (default) plays each capture's charger side against the backend at ``--target`` and compares
the backend's answers with the recorded ones; ``--as backend`` listens on ``--target`` and plays the recorded
backend to the chargers that connect, comparing what they do with the recording. Exit codes as for ``diff``:
0 no differences, 1 differences at or above ``--fail-on``, 2 unusable input or unreachable target.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import ssl
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from proxy.errors import OcppscopeError

if TYPE_CHECKING:
    from proxy.check.runner import InputResult
    from proxy.core.events import Direction, Event
    from proxy.replay.charger import ReplayRun
    from proxy.replay.plan import ChargerScript
    from proxy.replay.session import ReplayOptions


def speed(text: str) -> float:
    """``--speed``: a factor (2 = twice as fast), or ``max`` for no pauses at all."""
    if text.strip().lower() == "max":
        return math.inf
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number or 'max'") from None
    if not value > 0 or not math.isfinite(value):
        raise argparse.ArgumentTypeError("the speed must be above 0 (or 'max')")
    return value


def add_live_replay_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of a live replay; options the command already has (say ``--speed``) are shared."""
    from proxy.diff.options import add_diff_arguments, add_option

    group = parser.add_argument_group(
        "live replay",
        "With --target: play one side of the captures against a live peer, then compare what the other side "
        "did with the recording (docs/ci.md).",
    )
    add_option(group, "--target", metavar="URL",
               help="--as charger: the backend's base URL (each charger appends its identity), e.g. "
               "ws://127.0.0.1:9000/ocpp; --as backend: the address to listen on, e.g. ws://0.0.0.0:9000")
    add_option(group, "--as", dest="play_as", choices=("charger", "backend"), default="charger",
               help="the side of the capture to play (default charger)")
    add_option(group, "--password", help="Basic-auth password for every charger (captures are redacted)")
    add_option(group, "--password-env", metavar="VAR", help="read the Basic-auth password from this variable")
    add_option(group, "--speed", type=speed, default=1.0, metavar="FACTOR",
               help="play the recorded pace this many times faster; 'max' sends without pauses (default 1)")
    add_option(group, "--answer-timeout", type=float, default=10.0, metavar="SECONDS",
               help="how long to wait for an answer before going on (default 10)")
    add_option(group, "--charger", action="append", default=[], metavar="ID",
               help="play only this charger identity (repeatable)")
    add_option(group, "--record", type=Path, metavar="PATH",
               help="write the live session as a (redacted) capture; a directory when several captures are played")
    add_option(group, "--keep-timestamps", action="store_true",
               help="send the recorded date-times as they are (default: moved to now, spacing kept)")
    add_option(group, "--connections", type=int, metavar="N",
               help="--as backend: stop after N charger connections ended")
    add_option(group, "--duration", type=float, metavar="SECONDS", help="--as backend: stop after this long")
    add_option(group, "--ca", type=Path, metavar="PEM", help="--as charger: trust this CA for a wss:// target")
    add_option(group, "--insecure", action="store_true", help="--as charger: do not verify a wss:// target")
    add_option(group, "--cert", type=Path, metavar="PEM",
               help="--as backend: serve wss:// with this certificate and key (one PEM file)")
    add_diff_arguments(parser)


def run_live_replay(captures: Sequence[Path], args: argparse.Namespace) -> int:
    """Play ``captures`` as ``args`` say; print the comparison report; return the exit code."""
    from proxy.diff.options import finish

    if not args.target:
        raise OcppscopeError("a live replay needs --target URL")
    if args.play_as == "backend":
        if len(captures) != 1:
            raise OcppscopeError("--as backend serves one capture at a time")
        results = [_serve_backend(captures[0], args)]
    else:
        results = asyncio.run(_play_chargers(captures, args))
    return finish(args, results)


def _password(args: argparse.Namespace) -> str | None:
    if args.password is not None:
        return str(args.password)
    if args.password_env:
        value = os.environ.get(args.password_env)
        if value is None:
            raise OcppscopeError(f"--password-env {args.password_env}: the variable is not set")
        return value
    return None


def _options(args: argparse.Namespace) -> ReplayOptions:
    from proxy.replay.session import ReplayOptions

    # The replay command may define --speed itself, as text ("10", "max").
    factor = args.speed if isinstance(args.speed, float) else speed(str(args.speed))
    return ReplayOptions(speed=factor, answer_timeout=args.answer_timeout, shift_times=not args.keep_timestamps)


def _scripts(events: list[Event], args: argparse.Namespace, me: Direction) -> list[ChargerScript]:
    from proxy.replay.plan import build_scripts

    scripts = build_scripts(events, me)
    if args.charger:
        scripts = [s for s in scripts if s.charger in args.charger]
        if not scripts:
            raise OcppscopeError(f"no charger {', '.join(args.charger)} in the capture")
    return scripts


def _read(path: Path, args: argparse.Namespace) -> list[Event]:
    from proxy.capture.sources import read_events

    return list(read_events(path, getattr(args, "input_format", "auto")))


async def _play_chargers(captures: Sequence[Path], args: argparse.Namespace) -> list[InputResult]:
    from proxy.core.events import Direction
    from proxy.replay.charger import ChargerTarget, replay_chargers

    context = None
    if args.ca or args.insecure:
        context = ssl.create_default_context(cafile=str(args.ca) if args.ca else None)
        if args.insecure:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
    target = ChargerTarget(args.target, _password(args), context)
    results = []
    for index, path in enumerate(captures):
        events = _read(path, args)
        scripts = _scripts(events, args, Direction.FROM_CHARGER)
        count = sum(conn.succeeded for script in scripts for conn in script.connections)
        _say(f"replaying {path}: {len(scripts)} charger(s), {count} connection(s) against {args.target}")
        run = await replay_chargers(scripts, target, _options(args))
        _report_run(run)
        _record(run, args, path, index, len(captures))
        results.append(_compare(events, run, args, Direction.FROM_BACKEND, f"{path} → {args.target}"))
    return results


def _serve_backend(path: Path, args: argparse.Namespace) -> InputResult:
    from proxy.core.events import Direction
    from proxy.replay.backend import BackendReplay

    events = _read(path, args)
    scripts = _scripts(events, args, Direction.FROM_BACKEND)
    where = urlsplit(args.target if "//" in args.target else f"ws://{args.target}")
    tls = None
    if args.cert:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(args.cert)

    async def serve() -> ReplayRun:
        async with BackendReplay(scripts, _options(args), host=where.hostname or "127.0.0.1",
                                 port=where.port or 0, tls=tls, connections=args.connections) as backend:
            _say(f"serving the backend side of {path} on {backend.url} (Ctrl-C to stop)")
            with contextlib.suppress(asyncio.CancelledError):  # Ctrl-C: stop serving, report what was played
                await backend.wait(args.duration)
            return backend.run

    run = asyncio.run(serve())
    _report_run(run)
    _record(run, args, path, 0, 1)
    return _compare(events, run, args, Direction.FROM_CHARGER, f"{path} ← chargers at {args.target}")


def _compare(events: list[Event], run: ReplayRun, args: argparse.Namespace, subject: Direction,
             label: str) -> InputResult:
    from proxy.diff import diff_events
    from proxy.diff.options import analyzer_options, checkers_from_args, diff_options
    from proxy.diff.report import diff_result

    played = set(run.played)
    differences, live = diff_events(events, run.log.events, diff_options(args, subject, args.answer_timeout),
                                    checkers=checkers_from_args(args), analyzer=analyzer_options(args),
                                    keep_recorded=played.__contains__)
    return diff_result(label, live, differences)


def _report_run(run: ReplayRun) -> None:
    for warning in run.warnings:
        _say(f"warning: {warning}")
    if run.skipped_refused:
        _say(f"skipped {run.skipped_refused} refused handshake(s) of the recording")
    for action, count in run.notes.unanswerable.items():
        _say(f"{count} {action} CALL(s) had no recorded answer and were answered NotImplemented")


def _record(run: ReplayRun, args: argparse.Namespace, path: Path, index: int, total: int) -> None:
    if not args.record:
        return
    from proxy.capture.writer import CaptureWriter

    target: Path = args.record
    if total > 1 or target.is_dir():
        target.mkdir(parents=True, exist_ok=True)
        target = target / f"{path.stem}.live.jsonl"
    with CaptureWriter(target) as writer:
        for event in run.log.events:
            writer.write(event)
    _say(f"recorded the live session to {target}")


def _say(text: str) -> None:
    print(f"ocppscope replay: {text}", file=sys.stderr)
