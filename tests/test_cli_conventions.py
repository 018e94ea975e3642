"""Flags mean one thing in every command: ``--format`` is what a command writes, ``--json`` is short for
``--format json``, ``-v``/``-q`` go before or after the command's name, ``--fail-on`` takes the same values,
``proxy`` and ``replay`` share their TLS options, and a wrong command line (exit 4) is told apart from
unusable input (exit 2).

The command line is run as users run it, ``python -m ocppscope …`` in a child process; the option tables are
read from the parser the command line builds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from ocppscope.proxy.cli import COMMAND_MODULES, build_parser, main
from ocppscope.proxy.commands.options import FAIL_ON

from tests.engine_support import Backend, BackendConnection, connect_direct, ocppscope_home, tls_backend  # noqa: F401

pytestmark = [pytest.mark.usefixtures("ocppscope_home"), pytest.mark.timeout(120)]

ROOT = Path(__file__).resolve().parents[1]
CLEAN = ROOT / "captures" / "clean-ocpp16.jsonl"
USAGE, UNUSABLE = 4, 2


def ocppscope(*args: str, timeout: float = 60, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    return subprocess.run([sys.executable, "-m", "ocppscope", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout, input=stdin if stdin is not None else "")


def usage_code(args: list[str]) -> int:
    """The exit code of ``main(args)``, argparse's own exits included."""
    try:
        return main(args)
    except SystemExit as exc:
        return int(exc.code or 0)


def commands() -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """Every command's parser, the actions of ``profiles`` included (``profiles show``)."""
    def walk(prefix: str, parser: argparse.ArgumentParser) -> Iterator[tuple[str, argparse.ArgumentParser]]:
        nested = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not nested:
            yield prefix, parser
        for action in nested:
            for name, child in action.choices.items():
                yield from walk(f"{prefix} {name}".strip(), child)

    yield from walk("", build_parser())


def option(parser: argparse.ArgumentParser, flag: str) -> argparse.Action | None:
    return parser._option_string_actions.get(flag)


def test_every_command_is_walked() -> None:
    names = {name.split()[0] for name, _ in commands()}
    assert names == set(COMMAND_MODULES)


# -- --format is what a command writes; --json is short for --format json ---------------------------------------

def test_format_is_the_output_format_everywhere() -> None:
    readers = 0
    for name, parser in commands():
        fmt = option(parser, "--format")
        if fmt is not None:
            assert fmt.dest == "format", name
            assert "input" not in (fmt.help or "").lower(), f"{name}: --format must not be about the inputs"
        reads = option(parser, "--input-format")
        if reads is not None:
            readers += 1
            assert reads.dest == "input_format" and reads.choices and "auto" in reads.choices, name
        for flag in parser._option_string_actions:
            assert flag in ("--format", "--input-format") or not flag.endswith("-format"), f"{name}: {flag}"
    assert readers >= 5  # check, diagnose, diff, export, import, replay … read inputs


def test_json_is_short_for_format_json_wherever_format_offers_json() -> None:
    with_json = set()
    for name, parser in commands():
        fmt, short = option(parser, "--format"), option(parser, "--json")
        offers_json = fmt is not None and "json" in (fmt.choices or ())
        assert (short is not None) == offers_json, name
        if short is not None:
            assert isinstance(short, argparse._StoreConstAction) and short.dest == "format" and short.const == "json"
            with_json.add(name)
    assert {"check", "diagnose", "diff", "endpoint", "profiles show", "proxy", "replay"} <= with_json


def test_json_and_format_json_give_the_same_output(tmp_path: Path) -> None:
    for args in (["diagnose", str(CLEAN)], ["profiles", "show", "ecotap-evc5"],
                 ["check", "--fail-on", "never", str(CLEAN)]):
        long, short = ocppscope(*args, "--format", "json"), ocppscope(*args, "--json")
        assert long.returncode == short.returncode == 0, (args, long.stderr, short.stderr)
        assert json.loads(long.stdout) == json.loads(short.stdout) and long.stdout.lstrip().startswith(("{", "["))


def test_import_reads_with_input_format_and_the_error_names_it(tmp_path: Path) -> None:
    done = ocppscope("import", str(CLEAN), "-o", str(tmp_path / "a.jsonl"), "--input-format", "capture")
    assert done.returncode == 0, done.stderr
    wrong = ocppscope("import", str(CLEAN), "-o", str(tmp_path / "b.jsonl"), "--format", "capture")
    assert wrong.returncode == USAGE
    assert "--input-format" in wrong.stderr and not (tmp_path / "b.jsonl").exists()
    bad = ocppscope("check", "--input-format", "no-such-format", str(CLEAN))
    assert bad.returncode == USAGE and "--input-format" in bad.stderr


# -- -v / -q before or after the command -------------------------------------------------------------------------

def test_every_command_takes_v_and_q_after_its_name() -> None:
    for name, parser in commands():
        for flag in ("-v", "--verbose", "-q", "--quiet"):
            assert option(parser, flag) is not None, f"{name} {flag}"


def _runs(tmp_path: Path) -> dict[str, tuple[list[str], int]]:
    """A quick real run of each command and its exit code (2: it stops at input it cannot use)."""
    (tmp_path / "out").mkdir(exist_ok=True)
    return {
        "check": (["check", str(CLEAN)], 0),
        "proxy": (["proxy", "--upstream", "ws://127.0.0.1:9", "--listen", "127.0.0.1:0", "--profile", "no-such"],
                  UNUSABLE),
        "ca": (["ca", "--path"], 0),
        "import": (["import", str(CLEAN), "-o", str(tmp_path / "out" / "i.jsonl")], 0),
        "export": (["export", str(CLEAN), "-o", str(tmp_path / "out" / "e.jsonl")], 0),
        "profiles": (["profiles", "list"], 0),
        "endpoint": (["endpoint", "ws://csms.example/ocpp/CP1", "--profile", "ocpp16-generic"], 0),
        "diff": (["diff", str(CLEAN), str(CLEAN)], 0),
        "replay": (["replay", str(CLEAN)], UNUSABLE),  # the terminal UI needs a terminal
        "tui": (["tui", "--attach", "127.0.0.1:9", "--token-file", str(tmp_path / "no-token")], UNUSABLE),
        "diagnose": (["diagnose", str(CLEAN)], 0),
    }


def test_v_and_q_work_after_every_command(tmp_path: Path) -> None:
    runs = _runs(tmp_path)
    assert set(runs) == set(COMMAND_MODULES)
    for name, (args, code) in runs.items():
        done = ocppscope(*args, "-q", "-v")
        assert done.returncode == code, (name, done.stderr)
    both = ocppscope("-v", "-q", "diagnose", str(CLEAN), "--quiet", "--verbose")
    assert both.returncode == 0, both.stderr


def test_a_v_after_the_command_counts_with_one_before(tmp_path: Path) -> None:
    from ocppscope.proxy.commands.options import merge_verbosity

    args = build_parser(["check"]).parse_args(["-v", "check", "-v", str(CLEAN)])
    merge_verbosity(args)
    assert (args.verbose, args.quiet) == (2, 0)
    args = build_parser(["check"]).parse_args(["check", str(CLEAN), "-qq"])
    merge_verbosity(args)
    assert (args.verbose, args.quiet) == (0, 2)


# -- --fail-on -----------------------------------------------------------------------------------------------------

def test_fail_on_takes_the_same_values_everywhere(tmp_path: Path) -> None:
    having = set()
    for name, parser in commands():
        fail_on = option(parser, "--fail-on")
        if fail_on is not None:
            assert tuple(fail_on.choices or ()) == FAIL_ON, name
            having.add(name)
    assert {"check", "diff", "replay"} <= having
    # The clean capture has one info finding (check fails on it with --fail-on info); a capture has no
    # differences with itself.
    for args, fails in ((["check", str(CLEAN)], {"info"}), (["diff", str(CLEAN), str(CLEAN)], set())):
        for value in FAIL_ON:
            assert main([*args, "--fail-on", value]) == (1 if value in fails else 0), (args, value)
        done = ocppscope(*args, "--fail-on", "info")
        assert done.returncode == (1 if fails else 0), done.stderr
        assert usage_code([*args, "--fail-on", "critical"]) == USAGE


# -- exit codes: a wrong command line is not unusable input -------------------------------------------------------

def test_usage_errors_exit_4_and_unusable_input_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name, (args, _) in _runs(tmp_path).items():
        assert usage_code([*args, "--no-such-option"]) == USAGE, name
        err = capsys.readouterr().err
        assert "--no-such-option" in err and "usage:" in err, name
    for args in (["profiles", "show", "ecotap-evc5", "--no-such-option"], [], ["check", "--jobs", "many", str(CLEAN)],
                 ["proxy"], ["endpoint"]):  # the last two: no --upstream, no URL: options that cannot work
        assert usage_code(args) == USAGE, args
    wrong = ocppscope("profiles", "list", "--no-such-option")
    assert wrong.returncode == USAGE and "usage: ocppscope profiles list" in wrong.stderr
    garbage = tmp_path / "notes.txt"
    garbage.write_text("nothing OCPP in here\n", encoding="utf-8")
    for args in (["check", str(garbage)], ["diagnose", str(garbage)], ["check", str(tmp_path / "missing.jsonl")],
                 ["import", str(garbage), "-o", str(tmp_path / "x.jsonl")]):
        done = ocppscope(*args)
        assert done.returncode == UNUSABLE, (args, done.stderr)
        assert "usage:" not in done.stderr


def test_a_prefix_is_never_taken_for_another_option() -> None:
    # Before, `replay --ca ca.pem` was read as --call-timeout ca.pem.
    done = ocppscope("replay", str(CLEAN), "--target", "ws://127.0.0.1:9", "--ca", "ca.pem")
    assert done.returncode == USAGE and "--upstream-ca" in done.stderr


def test_exit_codes_are_documented_beside_pytests() -> None:
    text = (ROOT / "docs" / "check.md").read_text(encoding="utf-8")
    table = text[text.index("## Exit codes"):]
    table = table[:table.index("\n## ", 4)]
    for code in ("| 0 |", "| 1 |", "| 2 |", "| 3 |", "| 4 |"):
        assert code in table
    assert "usage" in table.lower() and "pytest" in table


# -- proxy and replay share their TLS options -----------------------------------------------------------------------

TLS_FLAGS = ("--insecure-upstream", "--upstream-ca", "--cert")


def test_proxy_and_replay_share_the_tls_options() -> None:
    parsers = dict(commands())
    for flag in TLS_FLAGS:
        mine, theirs = option(parsers["proxy"], flag), option(parsers["replay"], flag)
        assert mine is not None and theirs is not None, flag
        assert (mine.help, mine.dest, mine.metavar, type(mine)) == (theirs.help, theirs.dest, theirs.metavar,
                                                                   type(theirs))
    for name, parser in parsers.items():
        for flag in ("--ca", "--insecure"):
            assert option(parser, flag) is None, f"{name} {flag}"


async def _answer_every_call(conn: BackendConnection) -> None:
    async for message in conn.ws:
        frame = json.loads(message)
        if isinstance(frame, list) and frame and frame[0] == 2:
            await conn.ws.send(json.dumps([3, frame[1], {"status": "Accepted", "currentTime": "2026-01-01T00:00:00Z",
                                                          "interval": 300}]))


async def _replay(*args: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(ocppscope, "replay", str(CLEAN), "--speed", "max", "--answer-timeout", "2",
                                   "--fail-on", "never", *args)


async def test_replay_verifies_the_backend_as_the_tls_options_say(tmp_path: Path) -> None:
    context, ca = tls_backend(tmp_path)
    async with Backend(_answer_every_call, tls=context) as backend:
        refused = await _replay("--target", backend.url("/ocpp"))
        assert refused.returncode == UNUSABLE and not backend.connections, refused.stderr
        trusted = await _replay("--target", backend.url("/ocpp"), "--upstream-ca", str(ca))
        assert trusted.returncode == 0 and backend.connections, trusted.stderr
        count = len(backend.connections)
        unverified = await _replay("--target", backend.url("/ocpp"), "--insecure-upstream")
        assert unverified.returncode == 0 and len(backend.connections) > count, unverified.stderr
        assert "NOT verified (--insecure-upstream)" in unverified.stderr


async def test_proxy_verifies_the_backend_as_the_tls_options_say(tmp_path: Path) -> None:
    from tests.test_engine_cli import command
    from tests.test_engine_cli import ocppscope as argv

    context, ca = tls_backend(tmp_path)
    async with Backend(_answer_every_call, tls=context) as backend:
        for extra, reaches in (((), False), (("--upstream-ca", str(ca)), True), (("--insecure-upstream",), True)):
            before = len(backend.connections)
            async with command(argv("proxy", "--upstream", backend.url("/ocpp"), "--listen", "127.0.0.1:0",
                                    *extra)) as proxy:
                try:
                    async with connect_direct(f"ws://127.0.0.1:{proxy.port}/CP01", subprotocols=["ocpp1.6"]) as ws:
                        await ws.send('[2,"1","Heartbeat",{}]')
                        answered = json.loads(await asyncio.wait_for(ws.recv(), 10))[0] == 3
                except Exception:  # the proxy refuses the charger when it cannot reach the backend
                    answered = False
                await proxy.stop()
            assert answered is reaches and (len(backend.connections) > before) is reaches, extra


async def test_replay_serves_wss_chargers_with_cert(tmp_path: Path) -> None:
    import ssl

    tls_backend(tmp_path)
    chain = tmp_path / "backend-leaf.pem"
    refused = await asyncio.to_thread(ocppscope, "replay", str(CLEAN), "--as", "backend", "--target",
                                      "wss://127.0.0.1:0")
    assert refused.returncode == USAGE and "--cert" in refused.stderr
    missing = await asyncio.to_thread(ocppscope, "replay", str(CLEAN), "--as", "backend", "--target",
                                      "wss://127.0.0.1:0", "--cert", str(tmp_path / "none.pem"))
    assert missing.returncode == UNUSABLE and "none.pem" in missing.stderr
    from ocppscope.proxy.commands.tls import charger_context

    served = charger_context([str(chain), f"other.example={chain}"])
    assert isinstance(served, ssl.SSLContext) and served.sni_callback is not None


def test_a_missing_certificate_file_stops_both_commands_before_they_start(tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    missing = str(tmp_path / "missing.pem")
    for command in (["proxy", "--upstream", "wss://127.0.0.1:9", "--listen", "127.0.0.1:0"],
                    ["replay", str(CLEAN), "--target", "wss://127.0.0.1:9"]):
        for flags in (["--upstream-ca", missing], ["--cert", f"charger.example={missing}"]):
            assert main([*command, *flags]) == UNUSABLE, (command, flags)
            assert f"{flags[0]} " in capsys.readouterr().err
