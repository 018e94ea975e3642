"""The compiled schema predicates give fastjsonschema's verdict on every bundled schema, valid or broken."""

from __future__ import annotations

import copy
import json
import random
import zlib
from datetime import datetime
from importlib import resources
from typing import Any

import pytest
from ocppscope.proxy.core.schemacode import compile_predicate
from ocppscope.proxy.core.schemas import _strict_predicate, schema_for

SCHEMA_DIRS = {"v16": "1.6", "v201": "2.0.1", "v21": "2.1"}
CASES_PER_SCHEMA = 60
_ODD_VALUES: tuple[Any, ...] = (None, True, False, 0, 1, -1, 1.0, 1.5, -0.5, "", "x", "NoError", [], [1], {}, {"a": 1},
                                "2024-01-01T10:00:00", "2024-01-01T10:00:00Z", "not-a-date", 10**20)


def _odd(rng: random.Random) -> Any:
    return copy.deepcopy(rng.choice(_ODD_VALUES))  # a fresh object: a mutation must not alter the shared one


def _schemas() -> list[tuple[str, str]]:
    found = []
    for folder in SCHEMA_DIRS:
        for entry in resources.files("ocpp").joinpath(folder, "schemas").iterdir():
            if entry.name.endswith(".json"):
                found.append((folder, entry.name))
    return sorted(found)


def _load(folder: str, name: str) -> dict[str, Any]:
    with resources.files("ocpp").joinpath(folder, "schemas", name).open("rb") as handle:
        return json.load(handle)  # type: ignore[no-any-return]


def _resolve(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = root
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        node = target
    return node


def _sample(node: dict[str, Any], root: dict[str, Any], rng: random.Random, depth: int = 0) -> Any:
    """A value that should satisfy ``node`` (the verdict is fastjsonschema's, not ours)."""
    node = _resolve(node, root)
    if "enum" in node:
        return rng.choice(node["enum"])
    kind = node.get("type")
    if kind == "object":
        properties = node.get("properties", {})
        required = set(node.get("required", ()))
        return {name: _sample(sub, root, rng, depth + 1) for name, sub in properties.items()
                if name in required or (depth < 6 and rng.random() < 0.5)}
    if kind == "array":
        low = node.get("minItems", 0)
        high = min(node.get("maxItems", 3), low + 2)
        items = node.get("items", {})
        return [_sample(items, root, rng, depth + 1) for _ in range(rng.randint(low, high) if depth < 6 else low)]
    if kind == "string":
        if node.get("format") == "date-time":
            return rng.choice(["2024-01-15T10:00:00Z", "2024-01-15T10:00:00.123+02:00", "2024-01-15T10:00:00+00:00"])
        high = min(node.get("maxLength", 12), 12)
        return "".join(rng.choice("abcXYZ019") for _ in range(rng.randint(node.get("minLength", 0), high)))
    if kind == "integer":
        return rng.randint(int(node.get("minimum", -3)), int(min(node.get("maximum", 1000), 1000)))
    if kind == "number":
        low = node.get("minimum", -3)
        return rng.choice([low, low + 1.5, float(low) + 2])
    if kind == "boolean":
        return rng.random() < 0.5
    return _odd(rng)


def _places(value: Any) -> list[tuple[Any, Any]]:
    """Every (container, key) in ``value``, for mutating one of them."""
    found: list[tuple[Any, Any]] = []
    stack = [value]
    while stack:
        container = stack.pop()
        keys = list(container) if isinstance(container, dict) else range(len(container)) if isinstance(
            container, list) else []
        for key in keys:
            found.append((container, key))
            if isinstance(container[key], dict | list):
                stack.append(container[key])
    return found


def _mutate(payload: Any, rng: random.Random) -> Any:
    payload = copy.deepcopy(payload)
    for _ in range(rng.randint(1, 2)):
        places = _places(payload)
        choice = rng.random()
        if not places or choice < 0.1:
            if isinstance(payload, dict):
                payload[rng.choice(["unknownField", "extra"])] = _odd(rng)
            continue
        container, key = rng.choice(places)
        if choice < 0.25 and isinstance(container, dict):
            del container[key]
        elif choice < 0.35 and isinstance(container, dict):
            container["notInSchema"] = 1
        elif choice < 0.45 and isinstance(container[key], str):
            container[key] = container[key] * 60 + "x" * 600
        elif choice < 0.55 and isinstance(container[key], list):
            container[key] = [] if rng.random() < 0.5 else container[key] * 5
        elif choice < 0.6 and isinstance(container[key], int | float) and not isinstance(container[key], bool):
            container[key] = -container[key] - 1
        else:
            container[key] = _odd(rng)
    return payload


@pytest.mark.parametrize(("folder", "name"), _schemas())
def test_same_verdict_as_fastjsonschema(folder: str, name: str) -> None:
    schema = _load(folder, name)
    predicate = compile_predicate(schema, datetime.fromisoformat)
    if predicate is None:
        pytest.skip("not translated: fastjsonschema judges this schema (see test_untranslated_schemas)")
    verdict = _strict_predicate(schema)  # fastjsonschema itself, the reference
    ours = predicate  # a yes or no for any payload: callers do not guard it, so it must never raise

    rng = random.Random(zlib.crc32(f"{folder}/{name}".encode()))
    valid_seen = invalid_seen = 0
    for case in range(CASES_PER_SCHEMA):
        payload = _sample(schema, schema, rng)
        if case % 3:
            payload = _mutate(payload, rng)
        expected = verdict(copy.deepcopy(payload))
        assert ours(payload) == expected, f"{folder}/{name}: {json.dumps(payload)[:500]} should be " + (
            "valid" if expected else "invalid")
        valid_seen += expected
        invalid_seen += not expected
    assert valid_seen and invalid_seen, "the cases must include both valid and invalid payloads"


def test_untranslated_schemas() -> None:
    """Only the few schemas using keywords the compiler leaves to fastjsonschema (uri format, multipleOf)."""
    untranslated = [f"{folder}/{name}" for folder, name in _schemas()
                    if compile_predicate(_load(folder, name), datetime.fromisoformat) is None]
    assert sorted(untranslated) == [
        "v16/GetCompositeScheduleResponse.json", "v16/GetDiagnostics.json", "v16/RemoteStartTransaction.json",
        "v16/SetChargingProfile.json", "v16/UpdateFirmware.json",
    ]


def test_untranslated_schema_still_validates() -> None:
    schema = schema_for("1.6", "UpdateFirmware", "request")
    assert schema is not None
    assert schema.check({"location": "ftp://example.com/fw.bin", "retrieveDate": "2024-01-01T10:00:00Z"}) == (None, ())
    violation, _ = schema.check({"location": "ftp://example.com/fw.bin"})
    assert violation is not None and violation.constraint == "required"


def test_unsupported_keyword_is_declined() -> None:
    schema = {"$schema": "http://json-schema.org/draft-06/schema#", "type": "string", "pattern": "^a"}
    assert compile_predicate(schema, datetime.fromisoformat) is None


def test_draft_integer_semantics() -> None:
    draft4 = {"$schema": "http://json-schema.org/draft-04/schema#", "type": "integer"}
    draft6 = {"$schema": "http://json-schema.org/draft-06/schema#", "type": "integer"}
    four, six = compile_predicate(draft4, datetime.fromisoformat), compile_predicate(draft6, datetime.fromisoformat)
    assert four is not None and six is not None
    assert four(3) and not four(3.0) and not four(True)
    assert six(3) and six(3.0) and not six(3.5) and not six(True)


def test_payload_is_not_modified() -> None:
    schema = schema_for("2.0.1", "SetVariables", "request")
    assert schema is not None
    payload = {"setVariableData": [{"attributeValue": "1", "component": {"name": "C"}, "variable": {"name": "V"}}]}
    before = copy.deepcopy(payload)
    schema.check(payload)
    schema.check({"setVariableData": [{"component": {"name": "C"}}]})
    assert payload == before
