"""Judge one configuration value against what a profile says the key accepts.

Pure functions: the inspection core calls them for ChangeConfiguration requests and GetConfiguration
answers, the lint for declared defaults. Values are compared as OCPP says they travel: as strings, and
case-insensitively where the spec makes them CiStrings (allowed sets, CSL items, option names).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from ocppscope.proxy.core.basic_auth import is_redacted
from ocppscope.proxy.profiles.formats import FORMAT_CHECKS
from ocppscope.proxy.profiles.model import FieldSpec, KeySpec, ValueNote, ValueSpec
from ocppscope.proxy.profiles.ocpp16 import PHASES

ProblemKind = Literal["wrong-type", "out-of-range", "not-allowed", "csl-item", "too-many-items", "bad-format",
                      "too-long"]

REJECTING_KINDS: frozenset[str] = frozenset({"wrong-type", "out-of-range", "not-allowed", "csl-item",
                                             "too-many-items"})
"""Problems the charger refuses outright (ChangeConfiguration → Rejected). Format and length problems may be
stored as sent and only fail later, when the charger uses the value."""

_INTEGER = re.compile(r"^[+-]?\d+$")
_PHASES = {p.casefold() for p in PHASES}


@dataclass(frozen=True, slots=True)
class ValueProblem:
    kind: ProblemKind
    text: str
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def rejected(self) -> bool:
        return self.kind in REJECTING_KINDS


def shown(spec: KeySpec | None, value: str) -> str:
    """The value as findings may print it: secrets are never shown."""
    if spec is not None and spec.secret:
        return "<redacted in the capture>" if is_redacted(value) else f"<{len(value)} characters hidden>"
    return repr(value)


def _in_allowed(value: str, allowed: tuple[str, ...]) -> bool:
    folded = value.casefold()
    return any(folded == a.casefold() for a in allowed)


def _list(values: tuple[str, ...], limit: int = 12) -> str:
    text = ", ".join(values[:limit])
    return text + (f" and {len(values) - limit} more" if len(values) > limit else "")


def _why(spec: ValueSpec) -> str:
    return f" ({spec.why})" if spec.why else ""


def check_scalar(spec: ValueSpec, value: str, what: str) -> list[ValueProblem]:
    """Problems of one value; ``what`` names it in the text ("value", "item 'X'", "option useTLS")."""
    problems: list[ValueProblem] = []
    if spec.type == "integer":
        if not _INTEGER.match(value):
            return [ValueProblem("wrong-type", f"{what} {value!r} is not a whole number{_why(spec)}",
                                 {"expected": "integer"})]
        number = int(value)
        if spec.range is not None and number not in spec.range:
            problems.append(ValueProblem("out-of-range", f"{what} {number} is outside {spec.range}{_why(spec)}",
                                         {"range": spec.range.text}))
        if spec.bitmask_levels and not 0 <= number < 2 ** spec.bitmask_levels:
            levels = spec.bitmask_levels
            problems.append(ValueProblem(
                "out-of-range",
                f"{what} {number} is not a bitmask of levels 1–{levels} (1, 2, 4... add up to at most "
                f"{2 ** levels - 1}){_why(spec)}",
                {"bitmask_levels": levels},
            ))
    elif spec.type == "boolean" and value.casefold() not in ("true", "false"):
        return [ValueProblem("wrong-type", f"{what} {value!r} is not true or false{_why(spec)}",
                             {"expected": "boolean"})]
    if spec.allowed and not _in_allowed(value, spec.allowed):
        close = difflib.get_close_matches(value, list(spec.allowed), n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        problems.append(ValueProblem("not-allowed",
                                     f"{what} {value!r} is not one of {_list(spec.allowed)}{hint}{_why(spec)}",
                                     {"allowed": list(spec.allowed)}))
    if spec.max_length is not None and len(value) > spec.max_length:
        problems.append(ValueProblem("too-long",
                                     f"{what} has {len(value)} characters, at most {spec.max_length}{_why(spec)}",
                                     {"length": len(value), "max_length": spec.max_length}))
    if spec.min_length is not None and len(value) < spec.min_length:
        problems.append(ValueProblem("bad-format",
                                     f"{what} has {len(value)} characters, at least {spec.min_length}{_why(spec)}",
                                     {"length": len(value), "min_length": spec.min_length}))
    if spec.pattern is not None and not spec.pattern.fullmatch(value):
        hint = spec.pattern_hint or f"the pattern {spec.pattern.pattern}"
        problems.append(ValueProblem("bad-format", f"{what} does not have the form {hint}{_why(spec)}",
                                     {"pattern": spec.pattern.pattern}))
    if spec.format is not None:
        for text in FORMAT_CHECKS[spec.format](value):
            problems.append(ValueProblem("bad-format", f"{what} {text}{_why(spec)}", {"format": spec.format}))
    return problems


def split_csl(value: str) -> list[str]:
    """CSL items with the spaces around them removed; "" is the empty list."""
    return [] if not value.strip() else [item.strip() for item in value.split(",")]


def _csl(spec: KeySpec, value: str) -> list[ValueProblem]:
    items = split_csl(value)
    problems: list[ValueProblem] = []
    if "" in items:
        problems.append(ValueProblem("bad-format", "has an empty item (two commas in a row, or a trailing comma)"))
    item_spec = spec.item or ValueSpec()
    for item in filter(None, items):
        found = check_scalar(item_spec, item, f"item {item!r}") if not _phase_item_ok(spec, item) else []
        for problem in found:
            kind = "csl-item" if problem.kind == "not-allowed" else problem.kind
            problems.append(ValueProblem(kind, problem.text, {**problem.evidence, "item": item}))
    if spec.max_items is not None and len(items) > spec.max_items:
        problems.append(ValueProblem("too-many-items", f"has {len(items)} items, at most {spec.max_items}",
                                     {"items": len(items), "max_items": spec.max_items}))
    if spec.min_items is not None and len(items) < spec.min_items:
        problems.append(ValueProblem("bad-format", f"has {len(items)} items, at least {spec.min_items}",
                                     {"items": len(items), "min_items": spec.min_items}))
    return problems


def _phase_item_ok(spec: KeySpec, item: str) -> bool:
    """``Voltage.L1``: an allowed item followed by an OCPP phase, where the key allows phases."""
    if not spec.phase_suffix or spec.item is None or not spec.item.allowed:
        return False
    base, _, phase = item.rpartition(".")
    return bool(base) and phase.casefold() in _PHASES and _in_allowed(base, spec.item.allowed)


def _options(spec: KeySpec, value: str) -> list[ValueProblem]:
    problems: list[ValueProblem] = []
    seen: dict[str, str] = {}
    items = split_csl(value)
    for index, item in enumerate(items):
        if not item:
            problems.append(ValueProblem("bad-format", "has an empty item (two commas in a row?)"))
            continue
        name, equals, option_value = (part.strip() for part in item.partition("="))
        if not equals:
            problems.append(ValueProblem("bad-format", f"item {item!r} is not name=value", {"item": item}))
            continue
        option = spec.option(name)
        if option is None:
            close = difflib.get_close_matches(name, [o.name for o in spec.options], n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]}?)" if close else ""
            problems.append(ValueProblem(
                "bad-format", f"{name!r} is not one of its options{hint}; known: {_list(_names(spec.options))}",
                {"option": name}))
            continue
        if option.name.casefold() in seen:
            problems.append(ValueProblem("bad-format", f"sets {option.name} twice", {"option": option.name}))
        seen[option.name.casefold()] = option_value
        if "=" in option_value:
            following = option_value.split("=", 1)[0].lstrip("0123456789")
            problems.append(ValueProblem(
                "bad-format",
                f"option {option.name} has the value {option_value!r}: a comma is missing before {following}",
                {"option": option.name, "item_index": index}))
            continue
        problems += _field_problems(option, option_value, f"option {option.name}")
    missing = [o.name for o in spec.options if o.required and o.name.casefold() not in seen]
    if missing:
        problems.append(ValueProblem("bad-format", f"lacks {', '.join(missing)}{_why(spec.value)}",
                                     {"missing": missing}))
    return problems


def _names(fields: tuple[FieldSpec, ...]) -> tuple[str, ...]:
    return tuple(f.name for f in fields)


def _field_problems(spec: FieldSpec, value: str, what: str) -> list[ValueProblem]:
    return [ValueProblem(p.kind, p.text, {**p.evidence, "field": spec.name})
            for p in check_scalar(spec.value, value, what)]


def _positional(spec: KeySpec, value: str) -> list[ValueProblem]:
    parts = [part.strip() for part in value.split(",")]
    problems: list[ValueProblem] = []
    if len(parts) > len(spec.fields):
        problems.append(ValueProblem(
            "bad-format", f"has {len(parts)} comma-separated fields, at most {len(spec.fields)} "
            f"({', '.join(_names(spec.fields))})", {"fields": len(parts)}))
    for index, field_spec in enumerate(spec.fields):
        if index >= len(parts):
            if field_spec.required:
                problems.append(ValueProblem("bad-format", f"lacks field {index + 1}, {field_spec.name}",
                                             {"field": field_spec.name}))
            continue
        part = parts[index]
        if part == "":
            if field_spec.required:
                problems.append(ValueProblem("bad-format", f"field {index + 1} ({field_spec.name}) is empty",
                                             {"field": field_spec.name}))
            continue
        problems += _field_problems(field_spec, part, f"field {index + 1} ({field_spec.name})")
    return problems


def check_value(spec: KeySpec, value: str) -> list[ValueProblem]:
    """Everything the profile says is wrong with setting ``spec`` to ``value``."""
    if spec.type in ("integer", "boolean", "string"):
        return check_scalar(spec.value, value, "value")
    problems = check_scalar(spec.value, value, "value")
    if spec.type == "csl":
        return problems + _csl(spec, value)
    if spec.options:
        return problems + _options(spec, value)
    if spec.fields:
        return problems + _positional(spec, value)
    return problems


def notes_for(spec: KeySpec, value: str) -> list[ValueNote]:
    """The vendor's remarks that apply to ``value`` (only for values of the right type)."""
    found = []
    for note in spec.notes:
        if note.ranges is not None:
            if _INTEGER.match(value) and int(value) in note.ranges:
                found.append(note)
        elif note.values:
            if _in_allowed(value, note.values):
                found.append(note)
        else:
            found.append(note)
    return found


def option_value(value: str, option_name: str) -> str | None:
    """The value of one ``name=value`` option in a structured value, or None when absent."""
    folded = option_name.casefold()
    for item in split_csl(value):
        name, equals, option = item.partition("=")
        if equals and name.strip().casefold() == folded:
            return option.strip()
    return None
