"""The filter line: a small language in the manner of Wireshark's display filters.

::

    action == "BootNotification" && severity >= warning
    charger == "CP0*" && dir == charger && !(type == RESULT)
    latency > 500 || rule contains "schema"
    "Faulted"                      free text, anywhere in the frame (case-insensitive)
    /idTag":"04[0-9A-F]+/          a regular expression over the frame text

    payload.connectorId == 2 && ocpp.action eq StatusNotification
    payload.meterValue[*].sampledValue[*].unit == "A"
    type in {CALL ERROR} && latency gt 1.5s

Fields: charger, conn, action, dir (charger | backend), type (CALL, RESULT, ERROR, RESULTERROR, SEND, INVALID,
open, close, ping, pong, gap), severity (none < info < warning < error), rule, id, latency (a duration: 500ms,
1.5s, 2min; a bare number is milliseconds), seq, text, and the flags ``finding`` and ``bookmark``; each also
as ``ocpp.<field>`` the way Wireshark names a protocol's fields. ``payload.<path>`` reads the frame's payload
(the CALL's, the answer's, or a CALLERROR's details): object members by name, ``[N]`` an array element,
``[*]`` every element; a comparison holds when any value at the path satisfies it, and never where the path
is absent. Operators: == != < <= > >= (also eq ne lt le gt ge), contains, matches (also ~), ``in {a b …}``
(commas optional), and && || ! (also and, or, not) with parentheses. ``==`` on text takes * and ? wildcards.

:func:`parse` turns the text into a tree (errors name the position); :func:`compile_filter` makes the tree a
predicate over rows of a :class:`~tui.index.FrameIndex`. Predicates that need the frame text read it from the
capture only for rows the cheaper tests before them did not rule out.
"""

from __future__ import annotations

import fnmatch
import math
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

import orjson
from ocppscope.proxy.core.events import Direction
from ocppscope.proxy.core.findings import Severity
from ocppscope.tui.index import (
    FROM_BACKEND,
    FROM_CHARGER,
    KIND_NAMES,
    NO_SEVERITY,
    SEVERITY_CODE,
    FrameIndex,
)

Predicate = Callable[[int], bool]


class FilterError(ValueError):
    """A filter that cannot be understood; ``position`` is the character where the problem is."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.position = position

    def __str__(self) -> str:
        return f"{self.args[0]} (at character {self.position + 1})"


# -- the tree --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Compare:
    field: str
    op: str
    value: Any
    position: int


@dataclass(frozen=True)
class Flag:
    field: str
    position: int


@dataclass(frozen=True)
class Text:
    """Free text (``regex`` False) or a regular expression, matched against the frame."""

    pattern: str
    regex: bool
    position: int


@dataclass(frozen=True)
class PayloadCompare:
    """A comparison on the values at ``path`` in the frame's payload (``"*"`` for every array element)."""

    path: tuple[str | int, ...]
    op: str
    value: Any
    position: int


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class BoolOp:
    op: str
    operands: tuple[Node, ...]


Node = Compare | PayloadCompare | Flag | Text | Not | BoolOp

STRING_FIELDS = ("charger", "conn", "action", "rule", "id", "text")
ENUM_FIELDS = ("dir", "type", "severity")
NUMBER_FIELDS = ("latency", "seq")
FLAGS = ("finding", "bookmark")
FIELDS = STRING_FIELDS + ENUM_FIELDS + NUMBER_FIELDS + FLAGS
_ALIASES = {"direction": "dir", "message_type": "type", "kind": "type", "identity": "charger",
            "bookmarked": "bookmark", "findings": "finding", "payload": "text", "frame": "text"}
_OPERATORS = ("==", "!=", ">=", "<=", ">", "<", "contains", "matches", "~")
_WORD_OPS = {"and": "&&", "or": "||", "not": "!"}
_WORD_COMPARISONS = {"eq": "==", "ne": "!=", "gt": ">", "lt": "<", "ge": ">=", "le": "<=", "contains": "contains",
                     "matches": "matches", "in": "in"}
"""Comparisons written as words, Wireshark's spellings included."""
_PROTOCOL_PREFIX = "ocpp."
_PAYLOAD_PREFIX = "payload"

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*"?|'(?:[^'\\]|\\.)*'?)
      | (?P<regex>/(?:[^/\\]|\\.)*/?i?)
      | (?P<op>&&|\|\||==|!=|>=|<=|>|<|~|!|\(|\)|\{|\}|,)
      | (?P<word>[^\s()!=<>~&|"'/{},]+)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    position: int


def _tokens(text: str) -> list[_Token]:
    tokens = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise FilterError(f"unexpected {text[position:].strip()[:1]!r}", position)
        kind = match.lastgroup or "word"
        start = match.start(kind)
        tokens.append(_Token(kind, match.group(kind), start))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.index = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            raise FilterError("the filter ends too early", len(self.text))
        self.index += 1
        return token

    def connective(self, symbol: str) -> bool:
        token = self.peek()
        if token is None:
            return False
        if (token.kind == "op" and token.text == symbol) or (
                token.kind == "word" and _WORD_OPS.get(token.text.lower()) == symbol):
            self.index += 1
            return True
        return False

    def parse(self) -> Node:
        node = self.either()
        token = self.peek()
        if token is not None:
            raise FilterError(f"unexpected {token.text!r}; join conditions with && or ||", token.position)
        return node

    def either(self) -> Node:
        operands = [self.both()]
        while self.connective("||"):
            operands.append(self.both())
        return operands[0] if len(operands) == 1 else BoolOp("||", tuple(operands))

    def both(self) -> Node:
        operands = [self.negation()]
        while self.connective("&&"):
            operands.append(self.negation())
        return operands[0] if len(operands) == 1 else BoolOp("&&", tuple(operands))

    def negation(self) -> Node:
        if self.connective("!"):
            return Not(self.negation())
        return self.atom()

    def atom(self) -> Node:
        token = self.take()
        if token.kind == "op" and token.text == "(":
            node = self.either()
            closing = self.peek()
            if closing is None or closing.text != ")":
                raise FilterError("missing )", closing.position if closing else len(self.text))
            self.index += 1
            return node
        if token.kind == "string":
            return Text(_unquote(token), False, token.position)
        if token.kind == "regex":
            return _regex_node(token)
        if token.kind != "word":
            raise FilterError(f"unexpected {token.text!r}", token.position)
        lowered = token.text.lower()
        if lowered.startswith(_PROTOCOL_PREFIX) and lowered[len(_PROTOCOL_PREFIX):] in FIELDS:
            lowered = lowered[len(_PROTOCOL_PREFIX):]
        name = _ALIASES.get(lowered, lowered)
        path = _payload_path(token) if _names_payload(lowered) else None
        following = self.peek()
        is_operator = following is not None and (
            (following.kind == "op" and following.text in _OPERATORS) or
            (following.kind == "word" and following.text.lower() in _WORD_COMPARISONS))
        if not is_operator:
            if name in FLAGS:
                return Flag(name, token.position)
            if name in FIELDS or path is not None:
                raise FilterError(f"{token.text} needs a comparison, e.g. {token.text} == …", token.position)
            return Text(token.text, False, token.position)
        if name not in FIELDS and path is None:
            raise FilterError(f"unknown field {token.text!r} (fields: {', '.join(FIELDS)}, payload.…)",
                              token.position)
        op_token = self.take()
        op = "matches" if op_token.text == "~" else _WORD_COMPARISONS.get(op_token.text.lower(), op_token.text)
        if op == "in":
            return self.members(name, path, token.position)
        value_token = self.take()
        if value_token.kind == "op":
            raise FilterError(f"{op} needs a value", value_token.position)
        if path is not None:
            return _payload_comparison(path, op, value_token, token.position)
        return _comparison(name, op, value_token, token.position)

    def members(self, name: str, path: tuple[str | int, ...] | None, position: int) -> Node:
        """``in {a b …}``: true when the field equals any of them (written as the ``||`` of equalities)."""
        opening = self.take()
        if opening.text != "{":
            raise FilterError("in needs a set of values in braces, e.g. in {CALL ERROR}", opening.position)
        options: list[Node] = []
        while True:
            token = self.take()
            if token.text == "}" and token.kind == "op":
                break
            if token.text == "," and token.kind == "op":
                continue
            if token.kind == "op":
                raise FilterError(f"unexpected {token.text!r} in the set", token.position)
            options.append(_payload_comparison(path, "==", token, position) if path is not None
                           else _comparison(name, "==", token, position))
        if not options:
            raise FilterError("the set is empty", opening.position)
        return options[0] if len(options) == 1 else BoolOp("||", tuple(options))


def _unquote(token: _Token) -> str:
    text = token.text
    quote = text[0]
    if len(text) < 2 or text[-1] != quote:
        raise FilterError("unterminated string", token.position)
    body = text[1:-1]
    return re.sub(r"\\(.)", r"\1", body)


def _regex_node(token: _Token) -> Text:
    text = token.text
    flags = ""
    if text.endswith("/i") and len(text) > 2:
        text, flags = text[:-1], "i"
    if len(text) < 2 or not text.endswith("/"):
        raise FilterError("unterminated regular expression", token.position)
    pattern = text[1:-1]
    _compile_regex(pattern, token.position)
    return Text(("(?i)" if flags else "") + pattern, True, token.position)


def _compile_regex(pattern: str, position: int) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise FilterError(f"bad regular expression: {exc.msg}", position) from None


def _comparison(name: str, op: str, token: _Token, position: int) -> Compare:
    raw = _unquote(token) if token.kind == "string" else token.text
    if token.kind == "regex":
        raw = token.text.strip("/")
    if op in ("contains", "matches") and name not in STRING_FIELDS:
        raise FilterError(f"{op} works on text fields ({', '.join(STRING_FIELDS)})", position)
    if op == "matches":
        return Compare(name, op, _compile_regex(raw, token.position), position)
    if name in NUMBER_FIELDS:
        return Compare(name, op, _number(name, raw, token.position), position)
    if op in (">", ">=", "<", "<=") and name not in ("severity",):
        raise FilterError(f"{name} cannot be ordered; use == or contains", position)
    if name == "severity":
        return Compare(name, op, _severity(raw, token.position), position)
    if name == "dir":
        return Compare(name, op, _direction(raw, token.position), position)
    if name == "type":
        return Compare(name, op, _kind(raw, token.position), position)
    return Compare(name, op, raw, position)


_PATH_STEP = re.compile(r"\.([^.\[\]]+)|\[(\*|\d+)\]")


def _names_payload(word: str) -> bool:
    """``payload.…`` or ``payload[…]``: a path into the payload (``payload`` alone is the frame text)."""
    return word.startswith(_PAYLOAD_PREFIX) and word[len(_PAYLOAD_PREFIX):][:1] in (".", "[")


def _payload_path(token: _Token) -> tuple[str | int, ...]:
    text = token.text[len(_PAYLOAD_PREFIX):]
    steps: list[str | int] = []
    at = 0
    while at < len(text):
        match = _PATH_STEP.match(text, at)
        if match is None:
            raise FilterError(f"cannot read the payload path {token.text!r} (e.g. payload.meterValue[*].timestamp)",
                              token.position + len(_PAYLOAD_PREFIX) + at)
        key, element = match.groups()
        steps.append(key if key is not None else "*" if element == "*" else int(element))
        at = match.end()
    return tuple(steps)


def _payload_comparison(path: tuple[str | int, ...], op: str, token: _Token, position: int) -> PayloadCompare:
    if token.kind == "regex" or op == "matches":
        raw = token.text.strip("/") if token.kind == "regex" else _unquote(token) if token.kind == "string" \
            else token.text
        return PayloadCompare(path, "matches", _compile_regex(raw, token.position), position)
    if token.kind == "string":
        return PayloadCompare(path, op, _unquote(token), position)
    return PayloadCompare(path, op, _json_literal(token.text), position)


def _json_literal(text: str) -> Any:
    """A bare value: a number, true, false or null when it reads as one, else the word itself."""
    lowered = text.lower()
    if lowered in ("true", "false", "null"):
        return {"true": True, "false": False, "null": None}[lowered]
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return text
    return number if math.isfinite(number) else text


_DURATIONS = (("ms", 1.0), ("us", 0.001), ("min", 60_000.0), ("s", 1000.0), ("m", 60_000.0))


def _number(name: str, raw: str, position: int) -> float:
    text = raw.strip().lower()
    scale = 1.0
    if name == "latency":
        for unit, milliseconds in _DURATIONS:
            if text.endswith(unit):
                text, scale = text[: -len(unit)], milliseconds
                break
    try:
        return float(text) * scale
    except ValueError:
        raise FilterError(f"{name} needs a number, got {raw!r}", position) from None


def _severity(raw: str, position: int) -> int:
    text = raw.strip().lower()
    if text == "none":
        return NO_SEVERITY
    try:
        return SEVERITY_CODE[Severity.parse(text)]
    except ValueError:
        raise FilterError(f"unknown severity {raw!r} (none, info, warning, error)", position) from None


_DIRECTIONS = {"charger": FROM_CHARGER, "cp": FROM_CHARGER, "→": FROM_CHARGER, "up": FROM_CHARGER,
               Direction.FROM_CHARGER.value: FROM_CHARGER, "backend": FROM_BACKEND, "csms": FROM_BACKEND,
               "cs": FROM_BACKEND, "←": FROM_BACKEND, "down": FROM_BACKEND,
               Direction.FROM_BACKEND.value: FROM_BACKEND}


def _direction(raw: str, position: int) -> int:
    code = _DIRECTIONS.get(raw.strip().lower())
    if code is None:
        raise FilterError(f"unknown direction {raw!r} (charger or backend)", position)
    return code


_KINDS = {name.lower(): code for code, name in enumerate(KIND_NAMES)}
_KINDS.update({"callresult": _KINDS["result"], "callerror": _KINDS["error"], "2": _KINDS["call"],
               "3": _KINDS["result"], "4": _KINDS["error"], "5": _KINDS["resulterror"], "6": _KINDS["send"]})


def _kind(raw: str, position: int) -> int:
    code = _KINDS.get(raw.strip().lower())
    if code is None:
        raise FilterError(f"unknown type {raw!r} ({', '.join(KIND_NAMES)})", position)
    return code


def parse(text: str) -> Node | None:
    """The tree of ``text``; None for an empty filter (everything passes)."""
    if not text.strip():
        return None
    return _Parser(text).parse()


# -- evaluation -----------------------------------------------------------------------------------------

class RowText:
    """The frame text of a row, read from its file at most once per row while a filter runs."""

    def __init__(self, index: FrameIndex) -> None:
        self._index = index
        self._row = -1
        self._text = ""
        self._record: dict[str, Any] = {}
        self._payload_row = -1
        self._payload: Any = None

    def record(self, row: int) -> dict[str, Any]:
        if row != self._row:
            self._record = self._index.record(row)
            self._row = row
            self._text = frame_text(self._record)
        return self._record

    def text(self, row: int) -> str:
        self.record(row)
        return self._text

    def payload(self, row: int) -> Any:
        """The frame's payload (None when the row is no OCPP-J frame), decoded once per row."""
        record = self.record(row)
        if self._payload_row != row:
            self._payload_row = row
            self._payload = None
            text = record.get("text")
            if text is not None:
                try:
                    frame = orjson.loads(text)
                except orjson.JSONDecodeError:
                    frame = None
                if type(frame) is list and frame and type(frame[0]) is int:
                    at = _PAYLOAD_AT.get(frame[0])
                    if at is not None and at < len(frame):
                        self._payload = frame[at]
        return self._payload


def frame_text(record: dict[str, Any]) -> str:
    """What free text is searched in: the frame text, or a handshake's path and headers, or a close reason."""
    text = record.get("text")
    if text is not None:
        return text
    kind = record.get("type")
    if kind == "open":
        headers = " ".join(f"{name}: {value}" for name, value in record.get("req", []) + record.get("resp", []))
        return f"{record.get('path', '')} {record.get('status', '')} {record.get('error') or ''} {headers}"
    if kind == "close":
        return f"{record.get('code')} {record.get('reason', '')}"
    return ""


def message_id(record: dict[str, Any]) -> str | None:
    text = record.get("text")
    if text is None:
        return None
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    if type(value) is list and len(value) > 1:
        return value[1] if isinstance(value[1], str) else orjson.dumps(value[1]).decode()
    return None


def compile_filter(node: Node | None, index: FrameIndex, bookmarks: Collection[int] = frozenset()) -> Predicate:
    """A predicate over rows of ``index`` for ``node`` (everything passes for None)."""
    if node is None:
        return lambda row: True
    return _compile(node, index, RowText(index), bookmarks)


def _compile(node: Node, index: FrameIndex, text: RowText, bookmarks: Collection[int]) -> Predicate:
    if isinstance(node, BoolOp):
        # Cheap tests first: those that read the frame text come last, so && rarely reads the file.
        ordered = sorted(node.operands, key=_cost)
        parts = [_compile(operand, index, text, bookmarks) for operand in ordered]
        if node.op == "&&":
            return lambda row: all(part(row) for part in parts)
        return lambda row: any(part(row) for part in parts)
    if isinstance(node, Not):
        inner = _compile(node.operand, index, text, bookmarks)
        return lambda row: not inner(row)
    if isinstance(node, Flag):
        if node.field == "bookmark":
            return lambda row: row in bookmarks
        findings = index.findings
        return lambda row: row in findings
    if isinstance(node, PayloadCompare):
        return _payload_test(node, text)
    if isinstance(node, Text):
        if node.regex:
            search = re.compile(node.pattern).search
            return lambda row: search(text.text(row)) is not None
        needle = node.pattern.lower()
        return lambda row: needle in text.text(row).lower()
    return _compare(node, index, text)


def _cost(node: Node) -> int:
    if isinstance(node, Text | PayloadCompare):
        return 2
    if isinstance(node, Compare) and node.field in ("text", "id"):
        return 2
    if isinstance(node, BoolOp):
        return max(_cost(operand) for operand in node.operands)
    if isinstance(node, Not):
        return _cost(node.operand)
    return 0


_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
}


def _compare(node: Compare, index: FrameIndex, text: RowText) -> Predicate:
    op, value, name = node.op, node.value, node.field
    if name == "rule":
        return _rule_test(op, value, index)
    if name == "latency":
        compare = _ORDER[op]

        def latency_test(row: int) -> bool:
            seconds = index.latency[row]
            return not math.isnan(seconds) and compare(seconds * 1000.0, value)
        return latency_test
    getter = _getter(name, index, text)
    if name in ("severity", "dir", "type") or name in NUMBER_FIELDS:
        compare = _ORDER[op]
        return lambda row: compare(getter(row), value)
    if op == "matches":
        return lambda row: value.search(getter(row) or "") is not None
    if op == "contains":
        needle = value.lower()
        return lambda row: needle in (getter(row) or "").lower()
    equal = _equality(value)
    if op == "==":
        return lambda row: equal(getter(row))
    return lambda row: not equal(getter(row))


_PAYLOAD_AT = {2: 3, 3: 2, 4: 4, 5: 4, 6: 3}
"""OCPP-J message type → where its payload is (a CALLERROR's details; a 2.1 SEND's payload)."""


def _payload_test(node: PayloadCompare, text: RowText) -> Predicate:
    path, op, value = node.path, node.op, node.value
    if op == "matches":
        def holds(got: Any) -> bool:
            return type(got) is str and value.search(got) is not None
    elif op == "contains":
        needle = value.lower() if type(value) is str else value

        def holds(got: Any) -> bool:
            if type(got) is str:
                return type(needle) is str and needle in got.lower()
            return type(got) is list and needle in got
    elif op in ("==", "!="):
        def holds(got: Any) -> bool:
            return _same(got, value)
    else:
        order = _ORDER[op]

        def holds(got: Any) -> bool:
            if _is_number(got) and _is_number(value):
                return order(got, value)
            return type(got) is str and type(value) is str and order(got, value)

    def test(row: int) -> bool:
        values = list(_values_at(text.payload(row), path))
        if not values:
            return False  # absent: no comparison holds, != included (as in Wireshark)
        if op == "!=":
            return not any(holds(got) for got in values)
        return any(holds(got) for got in values)

    return test


def _is_number(value: Any) -> bool:
    return type(value) in (int, float)


def _same(got: Any, value: Any) -> bool:
    if _is_number(got) and _is_number(value):
        return got == value
    if type(got) is str and type(value) is str:
        return _equality(value)(got)
    if type(value) is str and _is_number(got):
        return str(got) == value  # payload.connectorId == "1" for a charger that sends 1
    return got == value and type(got) is type(value)


def _values_at(value: Any, path: tuple[str | int, ...]) -> Any:
    if not path:
        yield value
        return
    step, rest = path[0], path[1:]
    if step == "*":
        if type(value) is list:
            for item in value:
                yield from _values_at(item, rest)
    elif type(step) is int:
        if type(value) is list and step < len(value):
            yield from _values_at(value[step], rest)
    elif type(value) is dict and step in value:
        yield from _values_at(value[step], rest)


def _equality(value: str) -> Callable[[str | None], bool]:
    if any(char in value for char in "*?["):
        pattern = re.compile(fnmatch.translate(value))
        return lambda got: got is not None and pattern.match(got) is not None
    return lambda got: got == value


def _rule_test(op: str, value: Any, index: FrameIndex) -> Predicate:
    findings = index.findings
    if op == "matches":
        def test(rule: str) -> bool:
            return value.search(rule) is not None
    elif op == "contains":
        needle = value.lower()

        def test(rule: str) -> bool:
            return needle in rule.lower()
    else:
        test = _equality(value)  # type: ignore[assignment]
    if op == "!=":
        return lambda row: not any(test(f.rule) for f in findings.get(row, ()))
    return lambda row: any(test(f.rule) for f in findings.get(row, ()))


def _getter(name: str, index: FrameIndex, text: RowText) -> Callable[[int], Any]:
    if name == "charger":
        return lambda row: index.conns[index.conn[row]].charger
    if name == "conn":
        return lambda row: index.conns[index.conn[row]].conn_id
    if name == "action":
        return lambda row: index.actions[index.action[row]] or None
    if name == "dir":
        return lambda row: index.direction[row]
    if name == "type":
        return lambda row: index.kind[row]
    if name == "severity":
        return lambda row: index.severity[row]
    if name == "seq":
        return lambda row: index.seq[row]
    if name == "id":
        return lambda row: message_id(text.record(row))
    if name == "text":
        return text.text
    raise FilterError(f"unknown field {name!r}", 0)  # pragma: no cover - the parser only lets fields through


_ANALYSIS_FIELDS = frozenset({"severity", "rule", "latency", "finding"})


def needs_analysis(node: Node | None) -> bool:
    """Whether the filter reads what the analysis adds (findings, severities, latencies)."""
    if node is None:
        return False
    if isinstance(node, BoolOp):
        return any(needs_analysis(operand) for operand in node.operands)
    if isinstance(node, Not):
        return needs_analysis(node.operand)
    if isinstance(node, Compare | Flag):
        return node.field in _ANALYSIS_FIELDS
    return False
