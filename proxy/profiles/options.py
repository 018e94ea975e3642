"""The profile options every traffic command shares, and the constructor of the profile checker.

``check``, ``proxy`` and ``replay`` call :func:`add_profile_arguments` on their parser and
:func:`profile_checker_from_args` with the parsed arguments, so the options read the same everywhere::

    add_profile_arguments(parser)
    ...
    checker = profile_checker_from_args(args)      # None with --no-profiles
    checkers = default_checkers() + ([checker] if checker else [])
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from ocppscope.proxy.profiles.checker import ProfileChecker
from ocppscope.proxy.profiles.loader import ProfileLibrary, read_mapping_file
from ocppscope.proxy.profiles.selection import ProfileSelector, parse_mapping_arg


def add_profile_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "charger profiles",
        "Judge each charger against its model's capability profile (`ocppscope profiles list`). Without a "
        "mapping the profile is detected from the BootNotification, else ocpp16-generic applies.",
    )
    group.add_argument("--profile", action="append", default=[], metavar="[CHARGER=]PROFILE",
                       help="use PROFILE for CHARGER (an identity or a glob such as 'NL*'); PROFILE alone applies "
                       "to every charger; repeatable, exact identities win over globs, then first given")
    group.add_argument("--profile-map", action="append", default=[], type=Path, metavar="FILE",
                       help="TOML file of \"CHARGER-or-glob\" = \"PROFILE\" lines (after the --profile options)")
    group.add_argument("--profiles", action="append", default=[], type=Path, metavar="DIR",
                       help="also load the *.toml profiles in DIR (they override bundled and user profiles "
                       "of the same id)")
    group.add_argument("--no-profiles", action="store_true", help="do not apply capability profiles")


def profile_checker(mapping_args: Sequence[str] = (), profile_dirs: Sequence[Path] = (),
                    mapping_files: Sequence[Path] = (), include_user: bool = True) -> ProfileChecker:
    """Load the profiles (bundled, the user's config dir, ``profile_dirs``) and map chargers to them.

    Raises :class:`proxy.errors.OcppscopeError` (exit 2) for a broken profile or mapping, naming the file,
    line and key, or for a mapping to an unknown profile.
    """
    library = ProfileLibrary(tuple(profile_dirs), include_user=include_user)
    entries = [parse_mapping_arg(text) for text in mapping_args]
    for path in mapping_files:
        entries += read_mapping_file(path)
    return ProfileChecker(ProfileSelector(library.all(), entries))


def profile_checker_from_args(args: argparse.Namespace) -> ProfileChecker | None:
    if args.no_profiles:
        return None
    return profile_checker(args.profile, args.profiles, args.profile_map)
