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
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ocppscope.proxy.commands.tls import (
    UNVERIFIED_WARNING,
    add_tls_arguments,
    backend_context,
    charger_context,
    check_tls_files,
)
from ocppscope.proxy.errors import OcppscopeError, UsageError

if TYPE_CHECKING:
    from ocppscope.proxy.capture.inputs import Inputs
    from ocppscope.proxy.check.runner import InputResult
    from ocppscope.proxy.core.events import Direction, Event
    from ocppscope.proxy.replay.charger import ReplayRun
    from ocppscope.proxy.replay.plan import ChargerScript
    from ocppscope.proxy.replay.session import ReplayOptions


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
    from ocppscope.proxy.diff.options import add_diff_arguments, add_option

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
    if "--cert" not in parser._option_string_actions:
        add_tls_arguments(parser)  # --as charger: the target's certificate; --as backend: the one chargers see
    add_diff_arguments(parser)


def run_live_replay(captures: Sequence[str | os.PathLike[str]], args: argparse.Namespace) -> int:
    """Play ``captures`` as ``args`` say; print the comparison report; return the exit code.

    Each argument is one recording, played on its own: a capture file, a folder (a proxy run's, one file per
    connection, merged by time), a glob pattern the shell left alone, or ``-`` for standard input."""
    from ocppscope.proxy.capture.inputs import STDIN, inputs_from_args
    from ocppscope.proxy.diff.options import finish

    if not args.target:
        raise OcppscopeError("a live replay needs --target URL")
    check_tls_files(args)
    names = [os.fspath(capture) for capture in captures]
    if names.count(STDIN) > 1:
        raise UsageError("standard input can be read only once: give - once")
    recordings = [inputs_from_args(args, [name]) for name in names]
    if args.play_as == "backend":
        if len(recordings) != 1:
            raise UsageError("--as backend serves one capture at a time")
        return finish(args, [_serve_backend(recordings[0], args)])
    return finish(args, asyncio.run(_play_chargers(recordings, args)))


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
    from ocppscope.proxy.replay.session import ReplayOptions

    # The replay command may define --speed itself, as text ("10", "max").
    factor = args.speed if isinstance(args.speed, float) else speed(str(args.speed))
    return ReplayOptions(speed=factor, answer_timeout=args.answer_timeout, shift_times=not args.keep_timestamps)


def _scripts(events: list[Event], args: argparse.Namespace, me: Direction) -> list[ChargerScript]:
    from ocppscope.proxy.replay.plan import build_scripts

    scripts = build_scripts(events, me)
    if args.charger:
        scripts = [s for s in scripts if s.charger in args.charger]
        if not scripts:
            raise OcppscopeError(f"no charger {', '.join(args.charger)} in the capture")
    return scripts


def _read(inputs: Inputs, args: argparse.Namespace) -> list[Event]:
    """The events of the inputs, as one recording merged by time (a proxy run's folder: one file per connection)."""
    from ocppscope.proxy.capture.inputs import events_from_args, say_notes

    events = events_from_args(args, inputs)
    read = list(events)
    say_notes(events)
    return read


def _recording(inputs: Inputs) -> Path:
    """What ``--record`` names the live session after: the argument (``stdin`` for standard input)."""
    return Path("stdin" if inputs.label == "-" else inputs.label.rstrip("/") or "capture")


async def _play_chargers(recordings: Sequence[Inputs], args: argparse.Namespace) -> list[InputResult]:
    from ocppscope.proxy.core.events import Direction
    from ocppscope.proxy.replay.charger import ChargerTarget, replay_chargers

    context = None
    if args.upstream_ca or args.insecure_upstream:
        context = backend_context(args)
    if args.insecure_upstream:
        _say(f"warning: {UNVERIFIED_WARNING}")
    target = ChargerTarget(args.target, _password(args), context)
    results = []
    for index, inputs in enumerate(recordings):
        events = _read(inputs, args)
        scripts = _scripts(events, args, Direction.FROM_CHARGER)
        count = sum(conn.succeeded for script in scripts for conn in script.connections)
        _say(f"replaying {inputs.label}: {len(scripts)} charger(s), {count} connection(s) against {args.target}")
        run = await replay_chargers(scripts, target, _options(args))
        _report_run(run)
        _record(run, args, _recording(inputs), index, len(recordings))
        results.append(_compare(events, run, args, Direction.FROM_BACKEND, f"{inputs.label} → {args.target}"))
    return results


def _serve_backend(inputs: Inputs, args: argparse.Namespace) -> InputResult:
    from ocppscope.proxy.core.events import Direction
    from ocppscope.proxy.replay.backend import BackendReplay

    path = inputs.label
    events = _read(inputs, args)
    scripts = _scripts(events, args, Direction.FROM_BACKEND)
    where = urlsplit(args.target if "//" in args.target else f"ws://{args.target}")
    tls = charger_context(args.cert)
    if where.scheme == "wss" and tls is None:
        raise UsageError(f"--as backend --target {args.target}: serving wss:// needs --cert [DOMAIN=]PEM")

    async def serve() -> ReplayRun:
        async with BackendReplay(scripts, _options(args), host=where.hostname or "127.0.0.1",
                                 port=where.port or 0, tls=tls, connections=args.connections) as backend:
            _say(f"serving the backend side of {path} on {backend.url} (Ctrl-C to stop)")
            with contextlib.suppress(asyncio.CancelledError):  # Ctrl-C: stop serving, report what was played
                await backend.wait(args.duration)
            return backend.run

    run = asyncio.run(serve())
    _report_run(run)
    _record(run, args, _recording(inputs), 0, 1)
    return _compare(events, run, args, Direction.FROM_CHARGER, f"{path} ← chargers at {args.target}")


def _compare(events: list[Event], run: ReplayRun, args: argparse.Namespace, subject: Direction,
             label: str) -> InputResult:
    from ocppscope.proxy.diff import diff_events
    from ocppscope.proxy.diff.options import analyzer_options, checkers_from_args, diff_options
    from ocppscope.proxy.diff.report import diff_result

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
    from ocppscope.proxy.capture.private import private_directory
    from ocppscope.proxy.capture.writer import CaptureWriter

    target: Path = args.record
    # Folders made here hold traffic: 0700 like the proxy's capture folders, whatever the umask.
    try:
        if total > 1 or target.is_dir():
            target = private_directory(target) / f"{path.stem}.live.jsonl"
        elif not target.parent.exists():
            private_directory(target.parent)
    except OSError as exc:
        raise OcppscopeError(f"--record {target}: {exc.strerror or exc}") from None
    with CaptureWriter(target) as writer:
        for event in run.log.events:
            writer.write(event)
    _say(f"recorded the live session to {target}")


def _say(text: str) -> None:
    print(f"ocppscope replay: {text}", file=sys.stderr)
