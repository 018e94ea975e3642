"""Handler failures: a CALLERROR that says the receiver's code crashed, not that the request was wrong.

OCPP-J libraries answer InternalError or GenericError with a stock description when the application's handler
for an action raises: the Python ``ocpp`` package sends InternalError "An unexpected error occurred." for any
exception that is not an OCPP error, and its error classes default to the specification's own wording;
``ocpp-rpc`` (Node) sends GenericError with the exception's message ("Cannot read properties of undefined
..."). A description like these, an empty one, or a runtime's exception text means the request reached a
handler that failed on it: the sender did nothing wrong that the answer could name. A specific description
("Unknown transaction 42") is a deliberate refusal and is left to ``rpc.call-error``.
"""

from __future__ import annotations

import re

from ocppscope.proxy.core.analyzer import Checker, Context
from ocppscope.proxy.core.connection import Connection, PendingCall
from ocppscope.proxy.core.findings import Severity, rule
from ocppscope.proxy.core.frames import Frame

HANDLER_FAILED = rule(
    "call.handler-failed",
    Severity.WARNING,
    "The receiver's handler for this CALL crashed",
    "The CALL was answered InternalError or GenericError with a description that names no reason: empty, a "
    "library's stock text for an exception in the application's handler (the Python ocpp package's \"An "
    "unexpected error occurred.\", the specification's own definition of the code), or a runtime's exception "
    "message (\"Cannot read properties of undefined\", NullPointerException, a Python traceback). The request "
    "was not processed because of a bug on the receiving side; its logs at that time show the exception. "
    "Whatever the sender changes, the same request fails the same way.",
    '[4,"17","InternalError","An unexpected error occurred.",{}] answering StartTransaction',
)

_CODES = frozenset({"InternalError", "GenericError"})
_STOCK: dict[str, str] = {
    "an unexpected error occurred": "the Python ocpp package's answer to an exception in a handler",
    "an internal error occurred and the receiver was not able to process the requested action successfully":
        "the specification's definition of InternalError, the default of several libraries",
    "any other error not covered by the previous ones": "the OCPP 1.6 definition of GenericError",
    "any other error not covered by the more specific error codes in this table":
        "the OCPP 2.x definition of GenericError",
    "any other error not all other ocpp defined errors": "the Python ocpp package's default GenericError text",
    "internal error": "a stock text",
    "internal server error": "a stock text",
    "unexpected error": "a stock text",
    "unknown error": "a stock text",
    "an error occurred": "a stock text",
    "error": "a stock text",
    "something went wrong": "a stock text",
}
"""Descriptions (case-folded, without a final period) that name no reason, and whose they are."""
_EXCEPTION = re.compile(
    r"Traceback \(most recent call last\)|'NoneType' object|object has no attribute|"
    r"\b(?:Key|Type|Value|Attribute|Index|Name|Zero.?Division|Reference|Range|Syntax)Error\b|"
    r"Cannot read propert(?:y|ies) of (?:undefined|null)|\bis not a function\b|"
    r"NullPointerException|IllegalStateException|IllegalArgumentException|java\.lang\.|"
    r"Object reference not set to an instance of an object|NullReferenceException|"
    r"invalid memory address or nil pointer dereference|panic:",
)


def _why_generic(description: str | None) -> str | None:
    """Why a CALLERROR description names no reason (whose stock text it is), or None when it names one."""
    text = (description or "").strip()
    if not text:
        return "no description"
    stock = _STOCK.get(text.rstrip(".").strip().casefold())
    if stock is not None:
        return stock
    if len(text) <= 4000 and _EXCEPTION.search(text):
        return "an exception's message"
    return None


class HandlerFailureChecker(Checker):
    name = "handlers"

    def on_error(self, ctx: Context, conn: Connection, call: PendingCall, frame: Frame) -> None:
        code = frame.error_code
        if code not in _CODES:
            return
        why = _why_generic(frame.error_description)
        if why is None:
            return
        receiver = call.direction.reverse.sender
        described = f" {frame.error_description.strip()!r}" if frame.error_description else ""
        ctx.emit(
            HANDLER_FAILED,
            f"the {receiver}'s handler for {call.action} (id {call.message_id}) crashed: it answered {code}"
            f"{described} ({why}); its logs at this time show the exception",
            {"action": call.action, "message_id": call.message_id, "call_seq": call.seq, "error_code": code,
             "description": frame.error_description, "receiver": receiver, "why": why},
            action=call.action,
        )
