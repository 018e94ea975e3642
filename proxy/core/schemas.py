"""The official OCPP JSON schemas (bundled in the ``ocpp`` package), compiled once per message.

Each frame asks one question, "valid?", of a predicate compiled by :mod:`proxy.core.schemacode`. Only a
payload that fails it is examined further: fastjsonschema names the first violation (format checks off)
and :func:`check_datetimes` the date-times, so a missing timezone is its own warning rather than a schema
error (shared/reference/engine-facts.md).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any, Literal

import fastjsonschema
from ocppscope.proxy.core.protocol import error_code
from ocppscope.proxy.core.schemacode import Predicate, compile_predicate

Kind = Literal["request", "response"]

_SCHEMA_DIRS = {"1.6": "v16", "2.0.1": "v201", "2.1": "v21"}

_ERROR_CODE_OF_CONSTRAINT = {
    "type": "TypeConstraintViolation",
    "required": "OccurrenceConstraintViolation",
    "minItems": "OccurrenceConstraintViolation",
    "maxItems": "OccurrenceConstraintViolation",
    "minProperties": "OccurrenceConstraintViolation",
    "maxProperties": "OccurrenceConstraintViolation",
    "additionalProperties": "FormatViolation",
}


class Violation:
    """The first place a payload breaks its schema."""

    __slots__ = ("constraint", "error_code", "expected", "path", "text", "value")

    def __init__(
        self, path: str, value: Any, constraint: str, expected: Any, text: str, error_code: str
    ) -> None:
        self.path = path
        self.value = value
        self.constraint = constraint
        self.expected = expected
        self.text = text
        self.error_code = error_code

    def __repr__(self) -> str:
        return f"Violation({self.path}, {self.constraint}, {self.error_code})"


class DateTimeProblem:
    __slots__ = ("no_timezone", "path", "value")

    def __init__(self, path: str, value: Any, no_timezone: bool) -> None:
        self.path = path
        self.value = value
        self.no_timezone = no_timezone


def _is_zoned_datetime(value: str) -> bool:
    try:
        return datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


CLEAN: tuple[None, tuple[DateTimeProblem, ...]] = (None, ())
"""What :meth:`CompiledSchema.check` returns for a clean payload (one shared, immutable object)."""


class CompiledSchema:
    """One message's schema: a yes/no predicate, a validator that explains, and the paths of its date-times.

    The predicate also requires date-times to parse with a timezone, so a clean payload costs one call.
    Only a payload that fails it takes the slow path: the lenient validator for the real schema violation,
    and a walk over the date-time fields for the date-time problems. The slow path has the last word, so a
    predicate that refuses a payload it should have let through costs time, never a false finding.
    """

    __slots__ = ("_lenient", "_schema", "datetime_paths", "name", "predicate", "version")

    def __init__(self, version: str, name: str, schema: dict[str, Any]) -> None:
        self.version = version
        self.name = name
        self._schema = schema
        self.predicate: Predicate = compile_predicate(schema, datetime.fromisoformat) or _strict_predicate(schema)
        """True for a clean payload, False for any other (then :meth:`check` says why); it never raises."""
        self._lenient: Any = None
        self.datetime_paths: tuple[tuple[str, ...], ...] = tuple(_datetime_paths(schema, schema, (), 0))

    def check(self, payload: Any) -> tuple[Violation | None, Sequence[DateTimeProblem]]:
        """The payload's first schema violation (format checks aside) and all its date-time problems."""
        if self.predicate(payload):
            return CLEAN
        problems = check_datetimes(self, payload) if self.datetime_paths else []
        return self.validate(payload), problems

    def validate(self, payload: Any) -> Violation | None:
        """The first schema violation, date-time formats not checked."""
        if self._lenient is None:
            # No defaults filled in: the payload other rules and the evidence see is the one sent.
            self._lenient = fastjsonschema.compile(self._schema, use_formats=False, use_default=False)
        try:
            self._lenient(payload)
        except fastjsonschema.JsonSchemaValueException as exc:
            return self._violation(exc)
        except (ArithmeticError, ValueError, TypeError, RecursionError) as exc:
            # The generated validator fails on values only lenient parsers produce (Infinity in a multipleOf
            # check, nesting hundreds deep): the payload is wrong, and says so.
            return Violation("$", None, "type", None, f"$ holds a value no schema check can judge "
                             f"({type(exc).__name__}: {exc})", error_code(self.version, "PropertyConstraintViolation"))
        return None

    def _violation(self, exc: fastjsonschema.JsonSchemaValueException) -> Violation:
        path = "$" + (exc.name or "data")[4:]
        constraint = exc.rule or "unknown"
        expected = exc.rule_definition
        text = (exc.message or "").replace(exc.name or "data", path, 1)
        if constraint == "required" and isinstance(exc.value, dict) and isinstance(expected, list):
            missing = [key for key in expected if key not in exc.value]
            text = f"{path} is missing required field{'s' if len(missing) > 1 else ''} " + ", ".join(missing)
            expected = missing
        elif constraint == "additionalProperties" and isinstance(exc.value, dict) and isinstance(expected, bool):
            # fastjsonschema prints the extra names as a Python set, whose order changes between processes.
            allowed = (exc.definition or {}).get("properties") or {}
            extra = [key for key in exc.value if key not in allowed]
            text = f"{path} must not contain propert{'ies' if len(extra) > 1 else 'y'} " + ", ".join(extra)
        generic = _ERROR_CODE_OF_CONSTRAINT.get(constraint, "PropertyConstraintViolation")
        return Violation(path, exc.value, constraint, expected, text, error_code(self.version, generic))


def _strict_predicate(schema: dict[str, Any]) -> Predicate:
    """fastjsonschema as a predicate, for a schema :mod:`proxy.core.schemacode` does not translate."""
    strict = fastjsonschema.compile(schema, formats={"date-time": _is_zoned_datetime}, use_default=False)

    def valid(payload: Any) -> bool:
        try:
            strict(payload)
        except Exception:  # a violation, or a value the generated validator fails on: check() says which
            return False
        return True

    return valid


def _datetime_paths(
    node: Any, root: dict[str, Any], prefix: tuple[str, ...], depth: int
) -> Iterator[tuple[str, ...]]:
    if depth > 12 or not isinstance(node, dict):
        return
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        yield from _datetime_paths(target, root, prefix, depth + 1)
        return
    if node.get("format") == "date-time":
        yield prefix
    for key, sub in (node.get("properties") or {}).items():
        yield from _datetime_paths(sub, root, (*prefix, key), depth + 1)
    items = node.get("items")
    if isinstance(items, dict):
        yield from _datetime_paths(items, root, (*prefix, "*"), depth + 1)


def check_datetimes(schema: CompiledSchema, payload: Any) -> list[DateTimeProblem]:
    """Date-time fields of ``payload`` that do not parse, or parse without a timezone."""
    problems: list[DateTimeProblem] = []
    for path in schema.datetime_paths:
        if len(path) == 1:
            # Most date-times are top-level fields: no walk needed.
            value = payload.get(path[0]) if type(payload) is dict else None
            if value is not None:
                _check_datetime(f"$.{path[0]}", value, problems)
        else:
            for where, value in _walk(payload, path, "$"):
                _check_datetime(where, value, problems)
    return problems


def _check_datetime(where: str, value: Any, problems: list[DateTimeProblem]) -> None:
    if not isinstance(value, str):
        return  # a wrong type is the schema validator's finding
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        problems.append(DateTimeProblem(where, value, no_timezone=False))
        return
    if parsed.tzinfo is None:
        problems.append(DateTimeProblem(where, value, no_timezone=True))


def _walk(node: Any, path: tuple[str, ...], where: str) -> Iterator[tuple[str, Any]]:
    if not path:
        yield where, node
        return
    head, rest = path[0], path[1:]
    if head == "*":
        if isinstance(node, list):
            for index, item in enumerate(node):
                yield from _walk(item, rest, f"{where}[{index}]")
    elif isinstance(node, dict) and head in node:
        yield from _walk(node[head], rest, f"{where}.{head}")


def schema_file(version: str, action: str, kind: Kind) -> str:
    if kind == "response":
        return f"{action}Response.json"
    return f"{action}.json" if version == "1.6" else f"{action}Request.json"


@cache
def _schema_names(version: str) -> frozenset[str]:
    folder = resources.files("ocpp").joinpath(_SCHEMA_DIRS[version], "schemas")
    return frozenset(entry.name for entry in folder.iterdir() if entry.name.endswith(".json"))


@cache
def schema_for(version: str, action: str, kind: Kind) -> CompiledSchema | None:
    """The compiled schema of ``action``'s request or response in ``version``, or None if there is none."""
    if version not in _SCHEMA_DIRS:
        return None
    name = schema_file(version, action, kind)
    names = _schema_names(version)
    if name not in names:
        # 2.1's one SEND message (NotifyPeriodicEventStream) has neither suffix.
        if kind == "request" and f"{action}.json" in names:
            name = f"{action}.json"
        else:
            return None
    folder = resources.files("ocpp").joinpath(_SCHEMA_DIRS[version], "schemas")
    with folder.joinpath(name).open("rb") as fh:
        schema = json.load(fh)
    return CompiledSchema(version, name, schema)
