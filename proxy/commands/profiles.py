"""``ocppscope profiles list | show ID | lint FILE``: the capability profiles ocppscope knows."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

from ocppscope.proxy.commands.options import add_format_argument
from ocppscope.proxy.errors import OcppscopeError


def add_parser(sub: argparse._SubParsersAction) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--profiles", action="append", default=[], type=Path, metavar="DIR",
                        help="also load the *.toml profiles in DIR")
    parser = sub.add_parser(
        "profiles",
        help="list, show and lint charger capability profiles",
        description="Capability profiles say what a charger model supports and accepts (docs/profiles.md). "
        "They come bundled, from <config dir>/profiles and from --profiles DIR.",
    )
    actions = parser.add_subparsers(dest="profiles_command", metavar="ACTION", required=True)
    listing = actions.add_parser("list", parents=[common], help="every profile, what it extends and detects")
    listing.set_defaults(func=run_list)
    show = actions.add_parser("show", parents=[common], help="one profile, with everything it inherits")
    show.add_argument("profile_id", metavar="ID")
    add_format_argument(show, ("text", "json"), help="output format")
    show.set_defaults(func=run_show)
    lint = actions.add_parser("lint", parents=[common], help="check profile files; exit 1 on any problem")
    lint.add_argument("files", nargs="+", type=Path, metavar="FILE")
    lint.set_defaults(func=run_lint)


def _library(args: argparse.Namespace) -> Any:
    from ocppscope.proxy.profiles.loader import ProfileLibrary

    return ProfileLibrary(tuple(args.profiles))


def _detects(profile: Any) -> str:
    detect = profile.detect
    parts = [f"{label} {'|'.join(patterns)}" for label, patterns in
             (("vendor", detect.vendor), ("model", detect.model), ("serial", detect.serial)) if patterns]
    return ", ".join(parts) or "only with --profile"


def run_list(args: argparse.Namespace) -> int:
    out = sys.stdout
    library = _library(args)
    rows = [("ID", "EXTENDS", "DETECTED BY", "FROM", "TITLE")]
    for profile_id, profile in library.all().items():
        rows.append((profile_id, profile.chain[1] if len(profile.chain) > 1 else "-", _detects(profile),
                     library.file_of(profile_id).origin, profile.title))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        out.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[4] + "\n")
    return 0


def _plain(value: Any) -> Any:
    """Profiles as JSON: patterns and ranges as their text, sets sorted."""
    if is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in asdict(value).items()}
    if isinstance(value, dict):
        if set(value) == {"intervals", "text"}:
            return value["text"]
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, frozenset | set):
        return sorted(value)
    if hasattr(value, "pattern"):
        return value.pattern
    if isinstance(value, Path):
        return str(value)
    return value


def run_show(args: argparse.Namespace) -> int:
    out = sys.stdout
    library = _library(args)
    profile = library.get(args.profile_id)
    if args.format == "json":
        data = _plain(profile)
        data["keys"] = {spec["name"]: spec for spec in data["keys"].values()}
        json.dump(data, out, indent=2, ensure_ascii=False)
        out.write("\n")
        return 0
    from ocppscope.proxy.profiles.describe import describe

    out.write(describe(profile, library.file_of(args.profile_id).origin))
    return 0


def run_lint(args: argparse.Namespace) -> int:
    out = sys.stdout
    from ocppscope.proxy.profiles.lint import lint_file
    from ocppscope.proxy.profiles.loader import ProfileFile
    from ocppscope.proxy.profiles.tomlfile import ProfileError, read_toml

    library = _library(args)
    problems_found = False
    for path in args.files:
        if not path.is_file():
            raise OcppscopeError(f"{path}: no such profile file")
        try:
            profile_file = ProfileFile(path.stem, read_toml(path), library.top_layer, str(path))
        except ProfileError as exc:
            problems = exc.problems
        else:
            problems = lint_file(library, profile_file)
        for problem in sorted(problems, key=lambda p: p.line or 0):
            out.write(f"{problem} [{problem.severity}]\n")
        if not problems:
            out.write(f"{path}: ok\n")
        problems_found = problems_found or bool(problems)
    return 1 if problems_found else 0
