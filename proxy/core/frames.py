"""Tolerant decoding of OCPP-J frames.

:func:`decode` never raises: whatever bytes arrive become a :class:`Frame`, and what is wrong with them
becomes a list of :class:`FrameProblem` the analyzer turns into findings.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import msgspec
import orjson
from ocppscope.proxy.core import render as safe
from ocppscope.proxy.core.protocol import MAX_MESSAGE_ID_LENGTH, MessageType

_EXPECTED_LENGTH = {
    MessageType.CALL: 4,
    MessageType.CALLRESULT: 3,
    MessageType.CALLERROR: 5,
    MessageType.CALLRESULTERROR: 5,
    MessageType.SEND: 4,
}


class FrameProblem:
    """Something wrong with the frame itself: a rule id from :mod:`proxy.core.checks.framing` and details."""

    __slots__ = ("detail", "evidence", "rule")

    def __init__(self, rule: str, detail: str, evidence: dict[str, Any] | None = None) -> None:
        self.rule = rule
        self.detail = detail
        self.evidence = evidence or {}

    def __repr__(self) -> str:
        return f"FrameProblem({self.rule!r}, {self.detail!r})"


class Frame(msgspec.Struct, eq=False):
    """A decoded OCPP-J frame.

    ``message_type`` is None when the frame is not an OCPP-J array at all (binary, invalid JSON, not an
    array, unknown type id); ``message_id`` is the id as a string when one could be read.
    ``payload`` is the CALL/CALLRESULT/SEND payload or the CALLERROR details.

    A msgspec Struct rather than a class with ``__init__``: built in C, it costs half as much, and the
    analyzer builds one per frame. ``eq=False`` keeps the identity equality of a plain object.
    """

    message_type: MessageType | None = None
    message_id: str | None = None
    action: str | None = None
    payload: Any = None
    value: Any = None
    error_code: str | None = None
    error_description: str | None = None
    problems: Sequence[FrameProblem] = ()
    """The slow path of :func:`decode` gives a frame with problems a list."""

    @property
    def ok(self) -> bool:
        return self.message_type is not None and not self.problems

    def __repr__(self) -> str:
        kind = self.message_type.name if self.message_type is not None else "INVALID"
        return f"Frame({kind}, id={self.message_id!r}, action={self.action!r}, problems={self.problems!r})"


def _load(content: bytes) -> tuple[Any, FrameProblem | None]:
    try:
        return orjson.loads(content), None
    except orjson.JSONDecodeError:
        pass
    # orjson refuses some valid JSON (integers beyond 64 bits); let the standard library decide.
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, FrameProblem(
            "frame.invalid-utf8",
            f"text frame is not valid UTF-8 (byte {exc.start})",
            {"offset": exc.start},
        )
    try:
        return json.loads(text), None
    except (ValueError, RecursionError) as exc:
        position = getattr(exc, "pos", None)
        return None, FrameProblem(
            "frame.invalid-json",
            f"not valid JSON: {getattr(exc, 'msg', str(exc))}"
            + (f" at character {position}" if position is not None else ""),
            {"error": getattr(exc, "msg", str(exc)), "position": position},
        )


MAX_NESTING = 64
"""Arrays and objects nested deeper than this make ``frame.too-deep``; OCPP payloads nest about six levels."""
_DEEP_BYTES = 2 * MAX_NESTING
_STRINGS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)  # unrolled: fast on megabyte strings
_BRACKETS = re.compile(rb"[\[\]{}]")


def _too_deep(content: bytes) -> bool:
    """Whether the JSON text ``content`` nests deeper than :data:`MAX_NESTING` (cheap unless it has that many
    brackets at all)."""
    if content.count(b"[") + content.count(b"{") <= MAX_NESTING:
        return False
    depth = 0
    for bracket in _BRACKETS.findall(_STRINGS.sub(b'""', content)):
        if bracket in (b"[", b"{"):
            depth += 1
            if depth > MAX_NESTING:
                return True
        else:
            depth -= 1
    return False


_CALL = MessageType.CALL
_CALLRESULT = MessageType.CALLRESULT
_MAX_ID = MAX_MESSAGE_ID_LENGTH
_loads = orjson.loads
_JSONDecodeError = orjson.JSONDecodeError
_TYPES = {int(t): t for t in MessageType}


def decode(content: bytes, is_text: bool = True) -> Frame:
    """Decode one WebSocket message into a :class:`Frame`; never raises."""
    if is_text:
        # Fast path for the well-formed CALL and CALLRESULT that make up nearly all traffic.
        try:
            value = _loads(content)
        except _JSONDecodeError:
            pass
        else:
            # 10 is b"\n": a byte value, not a bytes pattern, spares `in` a failed integer conversion per frame.
            # The bracket count is _too_deep's own first test, inlined: it settles nearly every frame.
            if type(value) is list and 10 not in content and (
                    len(content) < _DEEP_BYTES or content.count(b"[") + content.count(b"{") <= MAX_NESTING
                    or not _too_deep(content)):
                length = len(value)
                if length == 4:
                    kind, msg_id, action, payload = value
                    if (kind == 2 and type(kind) is int and type(msg_id) is str and len(msg_id) <= _MAX_ID
                            and type(action) is str and type(payload) is dict):
                        return Frame(_CALL, msg_id, action, payload, value)
                elif length == 3:
                    kind, msg_id, payload = value
                    if (kind == 3 and type(kind) is int and type(msg_id) is str and len(msg_id) <= _MAX_ID
                            and type(payload) is dict):
                        return Frame(_CALLRESULT, msg_id, None, payload, value)
    frame = Frame()
    problems: list[FrameProblem] = []
    frame.problems = problems
    if not is_text:
        problems.append(
            FrameProblem("frame.binary", "binary WebSocket frame: OCPP-J only uses text frames", {})
        )
        # Decode it anyway: a binary frame that holds a valid OCPP frame still gets answered by lenient peers.
        try:
            orjson.loads(content)
        except orjson.JSONDecodeError:
            return frame
    value, problem = _load(content)
    if problem is not None:
        problems.append(problem)
        return frame
    frame.value = value
    deep = len(content) >= _DEEP_BYTES and _too_deep(content)
    if deep:
        problems.append(
            FrameProblem("frame.too-deep", f"JSON nested more than {MAX_NESTING} levels deep; OCPP payloads "
                         "nest a few levels: its payload is not analysed", {"limit": MAX_NESTING})
        )
    if b"\n" in content:
        problems.append(
            FrameProblem("frame.multiline", "frame spans several lines (pretty-printed JSON)", {})
        )
    if type(value) is not list:
        problems.append(
            FrameProblem(
                "frame.not-array",
                f"frame is a JSON {_json_type(value)}, not an OCPP-J array",
                {"json_type": _json_type(value)},
            )
        )
        return frame
    if not value or type(value[0]) is not int:
        got = _json_type(value[0]) if value else "empty array"
        problems.append(
            FrameProblem(
                "frame.bad-shape",
                f"first element must be the message type number, got {got}",
                {"first": value[0] if value else None},
            )
        )
        return frame
    message_type = _TYPES.get(value[0])
    if message_type is None:
        problems.append(
            FrameProblem(
                "frame.unknown-type",
                f"unknown message type number {value[0]}",
                {"message_type": value[0]},
            )
        )
        _read_id(frame, value)
        return frame
    frame.message_type = message_type
    expected = _EXPECTED_LENGTH[message_type]
    if len(value) != expected:
        problems.append(
            FrameProblem(
                "frame.bad-shape",
                f"{message_type.name} must have {expected} elements, has {len(value)}",
                {"expected": expected, "length": len(value)},
            )
        )
    _read_id(frame, value)
    if message_type is MessageType.CALL or message_type is MessageType.SEND:
        action = value[2] if len(value) > 2 else None
        if isinstance(action, str):
            frame.action = action
        else:
            problems.append(
                FrameProblem(
                    "frame.bad-shape",
                    f"{message_type.name} action must be a string, got {_json_type(action)}",
                    {"action": action},
                )
            )
        frame.payload = _payload(frame, value, 3)
    elif message_type is MessageType.CALLRESULT:
        frame.payload = _payload(frame, value, 2)
    else:
        code = value[2] if len(value) > 2 else None
        description = value[3] if len(value) > 3 else None
        if isinstance(code, str):
            frame.error_code = code
        else:
            problems.append(
                FrameProblem(
                    "frame.bad-shape",
                    f"{message_type.name} error code must be a string, got {_json_type(code)}",
                    {"error_code": code},
                )
            )
        if isinstance(description, str):
            frame.error_description = description
        elif len(value) > 3:
            problems.append(
                FrameProblem(
                    "frame.bad-shape",
                    f"{message_type.name} error description must be a string, got {_json_type(description)}",
                    {"error_description": description},
                )
            )
        frame.payload = _payload(frame, value, 4)
    if deep:
        frame.payload = None  # what rules read: nothing nests like this in OCPP, and reading it costs the stack
    return frame


_CUT_PREFIX = re.compile(
    r'\s*\[\s*(?P<type>\d+)\s*(?:,\s*(?:"(?P<id>(?:[^"\\]|\\.)*)"|(?P<number>-?\d+)\s*[,\]])'
    r'(?:\s*,\s*"(?P<action>(?:[^"\\]|\\.)*)")?)?',
    re.DOTALL,
)


def decode_cut(content: bytes) -> Frame:
    """The frame a log showed only the start of: message type, id and action as far as the visible part has
    them, and the one problem ``input.frame-cut`` (the log's doing, not the sender's). Never raises."""
    text = content.decode("utf-8", "replace")
    frame = Frame(problems=[FrameProblem(
        "input.frame-cut",
        f"the log cut this frame at {len(text)} characters; only its start is known",
        {"length": len(text), "visible": text[:120]},
    )])
    match = _CUT_PREFIX.match(text)
    if match is None:
        return frame
    frame.message_type = _TYPES.get(int(match["type"])) if len(match["type"]) < 3 else None
    raw_id = match["id"] if match["id"] is not None else match["number"]
    if raw_id is not None and frame.message_type is not None:
        frame.message_id = _unescape(raw_id) if "\\" in raw_id else raw_id
    action = match["action"]
    if action is not None and frame.message_type in (MessageType.CALL, MessageType.SEND):
        frame.action = _unescape(action) if "\\" in action else action
    return frame


def _unescape(text: str) -> str:
    try:
        return json.loads(f'"{text}"')
    except ValueError:
        return text


def _problems(frame: Frame) -> list[FrameProblem]:
    # Only frames built by decode()'s slow path get here, and they carry a list.
    return frame.problems  # type: ignore[return-value]


def _read_id(frame: Frame, value: list[Any]) -> None:
    if len(value) < 2:
        return
    raw = value[1]
    if type(raw) is str:
        frame.message_id = raw
        if len(raw) > MAX_MESSAGE_ID_LENGTH:
            _problems(frame).append(
                FrameProblem(
                    "frame.message-id-too-long",
                    f"message id has {len(raw)} characters, at most {MAX_MESSAGE_ID_LENGTH} are allowed",
                    {"message_id": raw, "length": len(raw)},
                )
            )
        return
    _problems(frame).append(
        FrameProblem(
            "frame.message-id-not-string",
            f"message id must be a string, got {_json_type(raw)} {safe.preview(raw)}",
            {"message_id": raw},
        )
    )
    # Still pair it: a peer that sends numeric ids usually echoes them back the same way.
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        frame.message_id = json.dumps(raw)


def _payload(frame: Frame, value: list[Any], index: int) -> Any:
    if len(value) <= index:
        return None
    payload = value[index]
    if type(payload) is dict:
        return payload
    if payload is None:
        _problems(frame).append(
            FrameProblem("frame.null-payload", "payload is null; {} is the usual empty payload", {})
        )
        return {}
    _problems(frame).append(
        FrameProblem(
            "frame.bad-shape",
            f"payload must be a JSON object, got {_json_type(payload)}",
            {"payload_type": _json_type(payload)},
        )
    )
    return None


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__
