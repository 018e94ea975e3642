"""Validation of payloads against the official OCPP JSON schemas."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ocppscope.proxy.core import render as safe
from ocppscope.proxy.core.analyzer import Checker, Context
from ocppscope.proxy.core.connection import Connection, PendingCall
from ocppscope.proxy.core.findings import Severity, rule
from ocppscope.proxy.core.frames import Frame
from ocppscope.proxy.core.schemas import CLEAN, CompiledSchema, DateTimeProblem, Kind, Violation, schema_for

VIOLATION = rule(
    "schema.violation",
    Severity.ERROR,
    "Payload breaks the official OCPP JSON schema",
    "The payload does not match the OCA JSON schema of its action. The finding names the JSON path, the "
    "offending value and the CALLERROR code a strict receiver would answer (1.6 spellings on 1.6).",
    '[2,"1","StopTransaction",{"transactionId":1,"meterStop":10,"timestamp":"2024-01-01T10:00:00Z",'
    '"reason":"Unplugged"}] → $.reason must be one of [...], PropertyConstraintViolation',
)
DATETIME_NO_TIMEZONE = rule(
    "schema.datetime-no-timezone",
    Severity.WARNING,
    "Date-time without a timezone",
    "OCPP date-times are ISO 8601 with a UTC offset or Z; without one the receiver has to guess the zone, and "
    "strict JSON-schema validators reject it.",
    '{"currentTime":"2024-01-01T10:00:00"}',
)
_MAX_VALUE_TEXT = 120
_UNKNOWN: Any = object()
_NONE_YET: dict[str | None, CompiledSchema | None] = {}
"""Stands for a version no schema was looked up for yet; never written to."""



def _short(value: Any) -> str:
    try:
        text = repr(value)
    except RecursionError:  # nesting hundreds deep
        return safe.preview(value, _MAX_VALUE_TEXT)
    return text if len(text) <= _MAX_VALUE_TEXT else text[: _MAX_VALUE_TEXT - 1] + "…"


class SchemaChecker(Checker):
    """Validates CALL payloads with their action's request schema and answers with the response schema."""

    name = "schema"

    def __init__(self) -> None:
        # Plain dicts (version → action → schema) in front of schema_for's cache: this lookup runs for every frame.
        self._requests: dict[str | None, dict[str | None, CompiledSchema | None]] = {}
        self._responses: dict[str | None, dict[str | None, CompiledSchema | None]] = {}

    # The lookup and the predicate's call inline: this runs for every frame, and a clean payload then costs
    # the hook's call and the predicate's.
    def on_call(self, ctx: Context, conn: Connection, frame: Frame) -> None:
        schema = self._requests.get(conn.version, _NONE_YET).get(frame.action, _UNKNOWN)
        if schema is _UNKNOWN:
            schema = self._learn(self._requests, conn.version, frame.action, "request")
        if schema is not None and frame.payload is not None and not schema.predicate(frame.payload):
            self._judge(ctx, schema, frame.payload, frame.action, "request")

    def on_result(self, ctx: Context, conn: Connection, call: PendingCall, frame: Frame) -> None:
        schema = self._responses.get(conn.version, _NONE_YET).get(call.action, _UNKNOWN)
        if schema is _UNKNOWN:
            schema = self._learn(self._responses, conn.version, call.action, "response")
        if schema is not None and frame.payload is not None and not schema.predicate(frame.payload):
            self._judge(ctx, schema, frame.payload, call.action, "response")

    @staticmethod
    def _learn(schemas: dict[str | None, dict[str | None, CompiledSchema | None]], version: str | None,
               action: str | None, kind: Kind) -> CompiledSchema | None:
        schema = None if version is None or action is None else schema_for(version, action, kind)
        schemas.setdefault(version, {})[action] = schema
        return schema

    def _judge(self, ctx: Context, schema: CompiledSchema, payload: Any, action: str | None, kind: Kind) -> None:
        result = schema.check(payload)
        if result is not CLEAN:
            self._report(ctx, schema, *result, action, kind)  # type: ignore[arg-type]

    def _report(self, ctx: Context, schema: CompiledSchema, violation: Violation | None,
                datetime_problems: Sequence[DateTimeProblem], action: str | None, kind: Kind) -> None:
        if violation is not None:
            ctx.emit(
                VIOLATION,
                f"{action} {kind}: {violation.text} (got {_short(violation.value)}); "
                f"a strict receiver answers {violation.error_code}",
                {
                    "path": violation.path,
                    "value": violation.value if _is_small(violation.value) else _short(violation.value),
                    "constraint": violation.constraint,
                    "expected": violation.expected,
                    "error_code": violation.error_code,
                    "schema": f"{schema.version}/{schema.name}",
                },
                action=action,
            )
        for problem in datetime_problems:
            if problem.no_timezone:
                ctx.emit(
                    DATETIME_NO_TIMEZONE,
                    f"{action} {kind}: {problem.path} = {problem.value!r} has no timezone (add Z or +hh:mm)",
                    {"path": problem.path, "value": problem.value},
                    action=action,
                )
            else:
                ctx.emit(
                    VIOLATION,
                    f"{action} {kind}: {problem.path} = {_short(problem.value)} is not an ISO 8601 date-time; "
                    f"a strict receiver answers PropertyConstraintViolation",
                    {
                        "path": problem.path,
                        "value": problem.value,
                        "constraint": "format",
                        "expected": "date-time",
                        "error_code": "PropertyConstraintViolation",
                        "schema": f"{schema.version}/{schema.name}",
                    },
                    action=action,
                )


def _is_small(value: Any) -> bool:
    return value is None or isinstance(value, bool | int | float) or (isinstance(value, str) and len(value) < 200)
