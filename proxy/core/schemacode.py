"""OCPP JSON schemas compiled to plain Python predicates: is this payload valid, yes or no.

Nearly every payload on the wire is valid, so the question asked of each frame is only "valid?"; the
first violation is worked out afterwards, for the rare payload that fails, by fastjsonschema (see
:mod:`proxy.core.schemas`). A yes/no answer can skip what an error report needs (key sets copied to name
the extra key, a message built per check) and use set operations that run in C: a 1.6 MeterValues
payload is judged in about a third of fastjsonschema's time.

The compiler covers the keywords the official OCPP 1.6, 2.0.1 and 2.1 schemas use, with the semantics
fastjsonschema gives them (draft 4 and draft 6: ``$ref`` overrides its siblings; since draft 6 a float
without a fraction is an integer). Anything else makes :func:`compile_predicate` return None and the
caller keeps fastjsonschema for that schema. A test holds the two to the same verdict on every bundled
schema, with valid and broken payloads.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

Predicate = Callable[[Any], bool]

_IGNORED = frozenset({
    "$schema", "$id", "id", "title", "description", "javaType", "comment", "$comment", "definitions",
    "default", "tsEnumNames",
})
"""Keywords with no effect on validity (``default`` is not applied: a payload is never modified)."""

_KNOWN = _IGNORED | {
    "type", "properties", "additionalProperties", "required", "maxLength", "minLength", "enum", "items",
    "minItems", "maxItems", "additionalItems", "minimum", "maximum", "format", "$ref",
}

_TYPE_TESTS = {
    "object": "type({v}) is dict",
    "array": "(type({v}) is list or type({v}) is tuple)",
    "string": "type({v}) is str",
    "boolean": "type({v}) is bool",
    "null": "{v} is None",
    "number": "(type({v}) is int or type({v}) is float)",
}
_MAX_DEPTH = 32
_MISSING = object()
_STAND_INS = {"string": "''", "integer": "0", "number": "0", "boolean": "False"}
"""What an absent property reads as in a one-line type test: a value that passes it."""
_PYTHON_TYPES = {"string": "str", "integer": "int", "boolean": "bool"}
_APPLIES = {
    "string": frozenset({"type", "enum", "maxLength", "minLength", "format"}),
    "integer": frozenset({"type", "enum", "minimum", "maximum"}),
    "number": frozenset({"type", "enum", "minimum", "maximum"}),
    "boolean": frozenset({"type", "enum"}),
}
"""The keywords with an effect on a value of each type (OCPP schemas put additionalProperties on strings)."""


class Unsupported(Exception):
    """The schema uses something this compiler does not translate."""


class _Compiler:
    def __init__(self, root: dict[str, Any], parse_datetime: Callable[[str], datetime]) -> None:
        self._root = root
        draft = str(root.get("$schema", ""))
        self._draft4 = "draft-04" in draft
        if not self._draft4 and "draft-06" not in draft:
            raise Unsupported(f"schema draft {draft!r}")
        self.lines: list[str] = []
        self.functions: list[str] = []
        """Sources of the functions that check a ``$ref`` target: one each, called wherever it is used,
        which keeps the generated code shallow (CPython limits nesting) and compact."""
        self._function_names: dict[str, str] = {}
        self.names: dict[str, Any] = {"_parse_datetime": parse_datetime, "_MISSING": _MISSING,
                                      "_NUMBER": frozenset({int, float})}
        self._counter = 0

    def _fresh(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}{self._counter}"

    def _constant(self, value: Any) -> str:
        name = self._fresh("K")
        self.names[name] = value
        return name

    def _emit(self, indent: int, text: str) -> None:
        self.lines.append("    " * indent + text)

    def _function_for(self, ref: Any) -> str:
        """The name of the function that checks the target of ``ref``, generated on first use."""
        if not isinstance(ref, str) or not ref.startswith("#/"):
            raise Unsupported(f"$ref {ref!r}")
        name = self._function_names.get(ref)
        if name is not None:
            return name
        target: Any = self._root
        for part in ref[2:].split("/"):
            if not isinstance(target, dict) or part not in target:
                raise Unsupported(f"unresolvable $ref {ref!r}")
            target = target[part]
        name = self._function_names[ref] = self._fresh("ref")  # before the body: a schema may refer to itself
        outer, self.lines = self.lines, []
        self.node(target, "value", 1, 0)
        body, self.lines = self.lines, outer
        self.functions.append(_function(name, "value", body))
        return name

    def node(self, node: Any, var: str, indent: int, depth: int) -> None:
        """Lines that ``return False`` when ``var`` breaks ``node``."""
        if depth > _MAX_DEPTH:
            raise Unsupported("nesting too deep")
        if not isinstance(node, dict):
            raise Unsupported("boolean or non-object schema")
        if "$ref" in node:  # it overrides its siblings in drafts 4 and 6
            self._emit(indent, f"if not {self._function_for(node['$ref'])}({var}):")
            self._emit(indent + 1, "return False")
            return
        unknown = node.keys() - _KNOWN
        if unknown:
            raise Unsupported(f"keywords {sorted(unknown)}")
        kind = node.get("type")
        if kind is not None:
            if not isinstance(kind, str) or (kind not in _TYPE_TESTS and kind != "integer"):
                raise Unsupported(f"type {kind!r}")
            self._emit(indent, f"if not {self._type_test(kind, var)}:")
            self._emit(indent + 1, "return False")
        if "enum" in node:
            self._enum(node["enum"], var, kind, indent)
        self._string(node, var, kind, indent)
        self._number(node, var, kind, indent)
        self._object(node, var, kind, indent, depth)
        self._array(node, var, kind, indent, depth)

    def _type_test(self, kind: str, var: str) -> str:
        if kind == "integer":
            if self._draft4:
                return f"type({var}) is int"
            return f"(type({var}) is int or (type({var}) is float and {var}.is_integer()))"
        return _TYPE_TESTS[kind].format(v=var)

    def _guard(self, kind: str | None, wanted: tuple[str, ...], var: str, indent: int) -> int | None:
        """Open ``if var is a wanted type:`` unless the type is already known; None when it cannot be one."""
        if kind is not None:
            if kind in wanted or (kind == "integer" and "number" in wanted):
                return indent
            return None
        self._emit(indent, "if " + " or ".join(self._type_test(w, var) for w in wanted) + ":")
        return indent + 1

    def _enum(self, values: Any, var: str, kind: str | None, indent: int) -> None:
        if not isinstance(values, list):
            raise Unsupported("enum is not an array")
        if kind == "string" and all(type(value) is str for value in values):
            self._emit(indent, f"if {var} not in {self._constant(frozenset(values))}:")
        else:
            # Equality, as fastjsonschema tests it; a set would refuse unhashable values.
            self._emit(indent, f"if {var} not in {self._constant(tuple(values))}:")
        self._emit(indent + 1, "return False")

    def _fail_if(self, checks: list[str], kind: str | None, wanted: str, var: str, indent: int,
                 more: bool = False) -> int | None:
        """``return False`` when any of ``checks`` holds, tested only when ``var`` is of the ``wanted`` type.

        With ``more`` the caller emits more tests of that type: the indent to emit them at is returned (None
        when ``var`` cannot be of that type, or when there is nothing to test)."""
        if not checks and not more:
            return None
        inner = self._guard(kind, (wanted,), var, indent)
        if inner is not None and checks:
            self._emit(inner, f"if {' or '.join(checks)}:")
            self._emit(inner + 1, "return False")
        return inner

    def _string(self, node: dict[str, Any], var: str, kind: str | None, indent: int) -> None:
        checks = []
        if "maxLength" in node:
            checks.append(f"len({var}) > {_number(node['maxLength'])}")
        if "minLength" in node:
            checks.append(f"len({var}) < {_number(node['minLength'])}")
        fmt = node.get("format")
        if fmt is not None and fmt != "date-time":
            raise Unsupported(f"format {fmt!r}")
        inner = self._fail_if(checks, kind, "string", var, indent, more=fmt is not None)
        if inner is None or fmt is None:
            return
        # Inline, not a helper call: nearly every OCPP payload has a date-time (a try costs nothing in 3.11).
        self._emit(inner, "try:")
        self._emit(inner + 1, f"if _parse_datetime({var}).tzinfo is None:")
        self._emit(inner + 2, "return False")
        self._emit(inner, "except ValueError:")
        self._emit(inner + 1, "return False")

    def _number(self, node: dict[str, Any], var: str, kind: str | None, indent: int) -> None:
        if "exclusiveMinimum" in node or "exclusiveMaximum" in node:
            raise Unsupported("exclusive bounds")
        checks = []
        if "minimum" in node:
            checks.append(f"{var} < {_number(node['minimum'])}")
        if "maximum" in node:
            checks.append(f"{var} > {_number(node['maximum'])}")
        self._fail_if(checks, kind, "number", var, indent)

    def _object(self, node: dict[str, Any], var: str, kind: str | None, indent: int, depth: int) -> None:
        properties = node.get("properties") or {}
        required = node.get("required")
        additional = node.get("additionalProperties", True)
        if not isinstance(properties, dict) or additional not in (True, False):
            raise Unsupported("properties or additionalProperties")
        if not properties and required is None and additional is True:
            return
        inner = self._guard(kind, ("object",), var, indent)
        if inner is None:
            return
        if required:
            if not isinstance(required, list) or not all(isinstance(name, str) for name in required):
                raise Unsupported("required")
            unread = frozenset(required) - properties.keys()  # the others are read with var[name] below
            if unread:
                self._emit(inner, f"if not {var}.keys() >= {self._constant(unread)}:")
                self._emit(inner + 1, "return False")
        if additional is False:
            self._emit(inner, f"if not {var}.keys() <= {self._constant(frozenset(properties))}:")
            self._emit(inner + 1, "return False")
        present = frozenset(required or ())
        for name, sub in properties.items():
            if self._leaf(sub, var, name, name in present, inner):
                continue
            value = self._fresh("p")
            if name in present:  # the required check above proved it is there
                self._emit(inner, f"{value} = {var}[{name!r}]")
                self.node(sub, value, inner, depth + 1)
                continue
            self._emit(inner, f"{value} = {var}.get({name!r}, _MISSING)")
            self._emit(inner, f"if {value} is not _MISSING:")
            start = len(self.lines)
            self.node(sub, value, inner + 1, depth + 1)
            if len(self.lines) == start:
                self._emit(inner + 1, "pass")

    def _leaf(self, node: Any, var: str, name: str, present: bool, indent: int) -> bool:
        """One test for a property whose schema is only a type, a string enum or a string's maximum length:
        most properties of OCPP payloads are, and most optional ones are absent. An absent property reads as a
        stand-in that passes the test (``_MISSING`` added to the enum, or an empty value of the type)."""
        if not isinstance(node, dict) or "$ref" in node or node.keys() - _KNOWN:
            return False  # the generic path refuses unknown keywords
        kind = node.get("type")
        stand_in = _STAND_INS.get(kind)  # type: ignore[arg-type]
        constraints = node.keys() & _APPLIES.get(kind, _KNOWN)  # type: ignore[arg-type]  # e.g. no properties of a string
        if stand_in is None or (kind == "integer" and not self._draft4):
            return False  # draft 6 integers include floats without a fraction: the generic test handles them
        if constraints == {"type"}:
            read = f"{var}[{name!r}]" if present else f"{var}.get({name!r}, {stand_in})"
            test = "not in _NUMBER" if kind == "number" else f"is not {_PYTHON_TYPES[kind]}"
            self._emit(indent, f"if type({read}) {test}:")
        elif constraints == {"type", "enum"} and kind == "string" and isinstance(node["enum"], list) \
                and all(type(value) is str for value in node["enum"]):
            values = frozenset(node["enum"]) if present else frozenset([*node["enum"], _MISSING])
            read = f"{var}[{name!r}]" if present else f"{var}.get({name!r}, _MISSING)"
            self._emit(indent, f"if {read} not in {self._constant(values)}:")
        elif constraints == {"type", "maxLength"} and kind == "string":
            value = self._fresh("p")
            read = f"{var}[{name!r}]" if present else f"{var}.get({name!r}, '')"
            self._emit(indent, f"{value} = {read}")
            self._emit(indent, f"if type({value}) is not str or len({value}) > {_number(node['maxLength'])}:")
        else:
            return False
        self._emit(indent + 1, "return False")
        return True

    def _array(self, node: dict[str, Any], var: str, kind: str | None, indent: int, depth: int) -> None:
        items = node.get("items")
        checks = []
        if "minItems" in node:
            checks.append(f"len({var}) < {_number(node['minItems'])}")
        if "maxItems" in node:
            checks.append(f"len({var}) > {_number(node['maxItems'])}")
        if items is not None and not isinstance(items, dict):
            raise Unsupported("items is not a single schema")  # additionalItems only matters then
        inner = self._fail_if(checks, kind, "array", var, indent, more=items is not None)
        if inner is not None and items is not None:
            item = self._fresh("i")
            self._emit(inner, f"for {item} in {var}:")
            start = len(self.lines)
            self.node(items, item, inner + 1, depth + 1)
            if len(self.lines) == start:
                self.lines.pop()  # any item is valid: no loop


def _number(value: Any) -> str:
    if type(value) not in (int, float):
        raise Unsupported(f"bound {value!r} is not a number")
    return repr(value)


def _function(name: str, argument: str, body: list[str]) -> str:
    # A required property is read with value[name]: when it is missing, the KeyError is the "no". Any other
    # exception (a value of a type a test did not expect) is a "no" too: callers get a yes or no, never a raise.
    return "\n".join([f"def {name}({argument}):", "    try:", *("    " + line for line in body),
                      "    except Exception:", "        return False", "    return True"])


def compile_predicate(schema: dict[str, Any], parse_datetime: Callable[[str], datetime]) -> Predicate | None:
    """A function telling whether a payload is valid under ``schema``, or None when the schema uses something
    the compiler does not translate. A date-time is valid when ``parse_datetime`` reads it (it raises
    ValueError otherwise) and it has a timezone."""
    try:
        compiler = _Compiler(schema, parse_datetime)
        compiler.node(schema, "data", 1, 0)
    except Unsupported:
        return None
    source = "\n\n".join([*compiler.functions, _function("valid", "data", compiler.lines)])
    namespace = dict(compiler.names)
    try:
        code = compile(source, f"<schema {schema.get('title') or schema.get('$id') or '?'}>", "exec")
    except (SyntaxError, RecursionError, MemoryError):  # e.g. nesting beyond what CPython compiles
        return None
    exec(code, namespace)
    return namespace["valid"]  # type: ignore[no-any-return]
