"""``ocppscope endpoint``: what to configure on a charger so it reaches a backend, and the way back.

    ocppscope endpoint wss://devices.ecotap.com/registry/ocpp/NL*ECO*1000 --profile ecotap-evc5 --key 53Umkk1q7rEM
    ocppscope endpoint --from capture.ocppscope --profile CP01=ecotap-cpa
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from ocppscope.proxy.errors import UsageError


def add_parser(sub: argparse._SubParsersAction) -> None:
    from ocppscope.proxy.capture.inputs import add_reading_arguments, add_recursive_argument
    from ocppscope.proxy.commands.options import add_format_argument
    from ocppscope.proxy.profiles.options import add_profile_arguments

    parser = sub.add_parser(
        "endpoint",
        help="the settings that make a charger model reach a backend URL, or check them in a capture",
        description="With a backend URL and --profile: print the exact configuration to give that charger model "
        "(and the ChangeConfiguration list a backend can send). With --from CAPTURE: rebuild, per charger, the "
        "URL its reported configuration makes it open and compare it with where it connected. Exit 0 when all "
        "is consistent, 1 when something is not, 2 for unusable input.",
    )
    parser.add_argument("url", nargs="?", metavar="URL",
                        help="backend URL: ws[s]://host[:port]/path[/IDENTITY] (a Zaptec URL may end in {deviceId})")
    parser.add_argument("--id", dest="identity", metavar="ID",
                        help="charger identity (default: the URL's last path segment)")
    parser.add_argument("--key", metavar="KEY", help="the charger's password (authorization key) for the backend")
    parser.add_argument("--via", metavar="HOST:PORT",
                        help="send the charger through ocppscope listening at HOST:PORT (ws://, or wss://HOST:PORT)")
    parser.add_argument("--from", dest="capture", nargs="+", metavar="CAPTURE",
                        help="instead of a URL: check the endpoint settings found in these captures (or logs; "
                        "folders, glob patterns, - for standard input; several are one recording)")
    add_recursive_argument(parser)
    add_reading_arguments(parser)
    add_format_argument(parser, ("text", "json"), help="output format")
    add_profile_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if (args.url is None) == (args.capture is None):
        raise UsageError("endpoint: give a backend URL, or --from CAPTURE (not both)")
    if args.capture is not None:
        return _reverse(args, sys.stdout)
    return _forward(args, sys.stdout)


def _forward(args: argparse.Namespace, out: TextIO) -> int:
    from ocppscope.proxy.endpoint.forward import plan_endpoint
    from ocppscope.proxy.profiles.loader import ProfileLibrary

    if len(args.profile) != 1 or "=" in args.profile[0]:
        raise UsageError("endpoint URL: give the charger's model once, as --profile PROFILE "
                             "(`ocppscope profiles list`)")
    profile = ProfileLibrary(tuple(args.profiles)).get(args.profile[0])
    plan = plan_endpoint(profile, args.url, args.identity, args.key, args.via)
    if args.format == "json":
        json.dump(plan_json(plan), out, indent=2, ensure_ascii=False)
        out.write("\n")
    else:
        write_plan(plan, profile.title, out)
    return 1 if plan.problems else 0


def change_frames(changes: list[tuple[str, str]]) -> list[str]:
    return [json.dumps([2, f"ocppscope-{index}", "ChangeConfiguration", {"key": key, "value": value}],
                       ensure_ascii=False, separators=(",", ":"))
            for index, (key, value) in enumerate(changes, start=1)]


def plan_json(plan: Any) -> dict[str, Any]:
    return {
        "profile": plan.profile_id,
        "style": plan.style,
        "identity": plan.identity,
        "charger_url": plan.charger_url,
        "backend_url": plan.backend_url,
        "via": plan.via,
        "settings": [{"name": s.name, "value": s.value, "where": s.where} for s in plan.settings],
        "change_configuration": [{"key": k, "value": v} for k, v in plan.changes],
        "frames": change_frames(plan.changes),
        "authorization": plan.authorization,
        "notes": plan.notes,
        "problems": plan.problems,
    }


def write_plan(plan: Any, title: str, out: TextIO) -> None:
    out.write(f"{plan.profile_id} ({title}): the charger connects to {plan.charger_url}\n")
    if plan.via:
        out.write(f"through ocppscope at {plan.via}, which forwards to {plan.backend_url}\n")
    width = max((len(s.name) for s in plan.settings), default=0)
    by_place: dict[str, list[Any]] = {}
    for setting in plan.settings:
        by_place.setdefault(setting.where, []).append(setting)
    for where, settings in by_place.items():
        heading = "send as ChangeConfiguration, in this order" if where == "ChangeConfiguration" else f"set in {where}"
        out.write(f"\nSettings ({heading}):\n")
        for setting in settings:
            out.write(f"  {setting.name.ljust(width)}  {setting.value}\n")
    if plan.changes:
        out.write("\nChangeConfiguration frames a backend can send:\n")
        for frame in change_frames(plan.changes):
            out.write(f"  {frame}\n")
    if plan.authorization:
        out.write(f"\nThe charger will authenticate with the header  Authorization: {plan.authorization}\n")
    for heading, lines in (("Notes", plan.notes), ("Problems", plan.problems)):
        if lines:
            out.write(f"\n{heading}:\n")
            for line in lines:
                out.write(f"  - {line}\n")


def _reverse(args: argparse.Namespace, out: TextIO) -> int:
    from ocppscope.proxy.capture.inputs import events_from_args, inputs_from_args, say_notes
    from ocppscope.proxy.endpoint.capture import compare_endpoints
    from ocppscope.proxy.profiles.options import profile_checker_from_args

    checker = profile_checker_from_args(args)
    if checker is None:
        raise UsageError("endpoint --from needs the profiles: drop --no-profiles")
    events = events_from_args(args, inputs_from_args(args, args.capture))
    results = compare_endpoints(events, checker)
    say_notes(events)
    if args.format == "json":
        json.dump([_result_json(r) for r in results], out, indent=2, ensure_ascii=False)
        out.write("\n")
    else:
        _write_results(results, events.inputs.label, out)
    return 0 if results and all(r.ok for r in results) else 1


def _result_json(result: Any) -> dict[str, Any]:
    return {
        "charger": result.charger,
        "profile": result.profile_id,
        "why": result.why,
        "configured_url": result.rebuilt.url,
        "settings": result.rebuilt.used,
        "connected_to": result.actual.url if result.actual else None,
        "differences": result.differences,
        "problems": result.rebuilt.problems,
        "ok": result.ok,
    }


def _write_results(results: list[Any], capture: str, out: TextIO) -> None:
    if not results:
        out.write(f"{capture}: no charger traffic\n")
        return
    for result in results:
        verdict = "consistent" if result.ok else "NOT consistent"
        out.write(f"{result.charger} ({result.profile_id}: {result.why}): {verdict}\n")
        for name, value in result.rebuilt.used.items():
            out.write(f"  {name} = {value}\n")
        out.write(f"  configured URL: {result.rebuilt.url or 'cannot be rebuilt'}\n")
        out.write(f"  connected to:   {result.actual.url if result.actual else 'no handshake in the input'}\n")
        for line in result.differences + result.rebuilt.problems:
            out.write(f"  - {line}\n")
