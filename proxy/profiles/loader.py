"""Finding profile files, resolving ``extends`` and reporting problems with file, line and key.

Profiles come in layers, later layers overriding earlier ones by id (the file name without ``.toml``):
the bundled ``proxy/profiles/data``, then the user's ``<config dir>/profiles``, then each ``--profiles DIR``
in the order given. A profile may extend one of the same id in a lower layer, so a user file
``ecotap-evc5.toml`` with ``extends = "ecotap-evc5"`` adjusts the bundled one.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ocppscope.proxy.config import config_dir
from ocppscope.proxy.errors import OcppscopeError
from ocppscope.proxy.profiles.model import Profile
from ocppscope.proxy.profiles.parse import RawProblem, profile_from_tables
from ocppscope.proxy.profiles.selection import MappingEntry
from ocppscope.proxy.profiles.tomlfile import Problem, ProfileError, TomlFile, dotted, read_toml

BUNDLED_DIR = Path(__file__).resolve().parent / "data"
GENERIC_ID = "ocpp16-generic"


def user_profile_dir() -> Path:
    return config_dir(create=False) / "profiles"


@dataclass(frozen=True, slots=True)
class ProfileFile:
    id: str
    file: TomlFile
    layer: int
    origin: str
    """Where it came from, for people: "bundled", "user", "--profiles DIR", "FILE"."""


def merge_tables(base: dict[str, Any], over: dict[str, Any], top: bool = True) -> dict[str, Any]:
    """``over`` on top of ``base``: tables merge field by field, anything else is replaced.

    Two exceptions (``detect`` is a third, see :meth:`ProfileLibrary.resolve`): top-level ``caveats``
    accumulate (a model keeps its vendor's caveats), and configuration
    key names under ``keys`` match case-insensitively (the child's spelling wins).
    """
    result = dict(base)
    for name, value in over.items():
        current = result.get(name)
        if top and name == "caveats" and isinstance(current, list) and isinstance(value, list):
            result[name] = current + value
        elif top and name == "keys" and isinstance(current, dict) and isinstance(value, dict):
            result[name] = _merge_keys(current, value)
        elif isinstance(current, dict) and isinstance(value, dict):
            result[name] = merge_tables(current, value, top=False)
        else:
            result[name] = value
    return result


def _merge_keys(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    result = dict(base)
    for name, value in over.items():
        existing = next((k for k in result if k.casefold() == name.casefold()), None)
        if existing is not None and isinstance(result[existing], dict) and isinstance(value, dict):
            merged = merge_tables(result.pop(existing), value, top=False)
            result[name] = merged
        else:
            if existing is not None:
                del result[existing]
            result[name] = value
    return result


class ProfileLibrary:
    """Every profile ocppscope can use, by id; resolved lazily and cached."""

    def __init__(self, extra_dirs: list[Path] | tuple[Path, ...] = (), user_dir: Path | None = None,
                 include_user: bool = True) -> None:
        layers: list[tuple[Path, str, bool]] = [(BUNDLED_DIR, "bundled", True)]
        if include_user:
            layers.append((user_dir or user_profile_dir(), "user", False))
        layers += [(Path(d), f"--profiles {d}", True) for d in extra_dirs]
        self._files: dict[str, list[ProfileFile]] = {}
        self._resolved: dict[str, Profile] = {}
        problems: list[Problem] = []
        for layer, (directory, origin, must_exist) in enumerate(layers):
            if not directory.is_dir():
                if must_exist:
                    problems.append(Problem(directory, None, "", "no such profile directory"))
                continue
            for path in sorted(directory.glob("*.toml")):
                try:
                    parsed = read_toml(path)
                except ProfileError as exc:
                    problems += exc.problems
                    continue
                self._files.setdefault(path.stem, []).append(ProfileFile(path.stem, parsed, layer, origin))
        self.top_layer = len(layers)
        if problems:
            raise ProfileError(problems)

    def ids(self) -> list[str]:
        return sorted(self._files)

    def file_of(self, profile_id: str) -> ProfileFile:
        files = self._files.get(profile_id)
        if not files:
            raise self.unknown(profile_id)
        return files[-1]

    def unknown(self, profile_id: str) -> OcppscopeError:
        close = difflib.get_close_matches(profile_id, self.ids(), n=1, cutoff=0.5)
        hint = f"did you mean {close[0]}? " if close else ""
        return OcppscopeError(f"unknown profile {profile_id!r}: {hint}known profiles: {', '.join(self.ids())} "
                              "(`ocppscope profiles list`)")

    def get(self, profile_id: str) -> Profile:
        profile = self._resolved.get(profile_id)
        if profile is None:
            profile = self._resolved[profile_id] = self.resolve(self.file_of(profile_id))
        return profile

    def all(self) -> dict[str, Profile]:
        """Every profile, resolved; the first broken one raises :class:`ProfileError`."""
        return {profile_id: self.get(profile_id) for profile_id in self.ids()}

    def load_file(self, path: Path) -> Profile:
        """A profile file outside the library (``profiles lint FILE``), extending library profiles."""
        return self.resolve(ProfileFile(path.stem, read_toml(path), self.top_layer, str(path)))

    def chain(self, top: ProfileFile) -> tuple[list[ProfileFile], list[Problem]]:
        """``top`` and the files it extends, nearest first, and what went wrong following ``extends``."""
        chain = [top]
        problems: list[Problem] = []
        current = top
        while "extends" in current.file.data:
            parent_id = current.file.data["extends"]
            if not isinstance(parent_id, str):
                problems.append(current.file.problem(("extends",), "must be the id of another profile"))
                break
            candidates = self._files.get(parent_id, [])
            if parent_id == current.id:
                candidates = [c for c in candidates if c.layer < current.layer]
            if not candidates:
                close = difflib.get_close_matches(parent_id, self.ids(), n=1, cutoff=0.5)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                problems.append(current.file.problem(("extends",), f"no profile {parent_id!r} to extend{hint}"))
                break
            parent = candidates[-1]
            if any(p.id == parent.id and p.layer == parent.layer for p in chain):
                cycle = " → ".join([p.id for p in chain] + [parent.id])
                problems.append(current.file.problem(("extends",), f"extends itself in a loop: {cycle}"))
                break
            chain.append(parent)
            current = parent
        return chain, problems

    def resolve(self, top: ProfileFile) -> Profile:
        chain, problems = self.chain(top)
        merged: dict[str, Any] = {}
        for part in reversed(chain):
            merged = merge_tables(merged, part.file.data)
        # Detection is never inherited: a user profile that relaxes a bundled one must be mapped to the
        # chargers it is for, or it would silently take over every charger of that model.
        # The title names this file's model, not its parent's.
        for own in ("detect", "title"):
            merged.pop(own, None)
            if own in top.file.data:
                merged[own] = top.file.data[own]
        raw: list[RawProblem] = []
        profile = profile_from_tables(top.id, tuple(p.id for p in chain), merged, raw)
        problems += [locate(chain, problem) for problem in raw]
        if any(p.severity == "error" for p in problems):
            raise ProfileError(problems)
        return replace(profile, path=top.file.path)


def locate(chain: list[ProfileFile], problem: RawProblem) -> Problem:
    """Blame the nearest file in the chain that writes the key (or the closest enclosing key)."""
    path = problem.path
    for end in range(len(path), 0, -1):
        for part in chain:
            if part.file.source.has(path[:end]):
                return Problem(part.file.path, part.file.source.line(path[:end]), dotted(path), problem.message,
                               problem.severity)
    return Problem(chain[0].file.path, None, dotted(path), problem.message, problem.severity)


def read_mapping_file(path: Path) -> list[MappingEntry]:
    """A mapping file: TOML lines ``"CHARGER-or-glob" = "profile-id"``, first match wins among globs."""
    parsed = read_toml(path)
    entries = []
    problems = []
    for pattern, profile_id in parsed.data.items():
        line = parsed.source.line((pattern,))
        if not isinstance(profile_id, str):
            problems.append(parsed.problem((pattern,), "must be a profile id in quotes, e.g. \"ecotap-evc5\""))
            continue
        entries.append(MappingEntry(pattern, profile_id, f"{path}:{line}" if line else str(path)))
    if problems:
        raise ProfileError(problems)
    return entries
