"""OCPP-J protocol facts the rules share: versions, subprotocols, actions and their directions, error codes.

Sources: shared/reference/ocpp-facts.md (sections 1, 2.1 and 5); the action table is
``data/actions.json``, derived from shared/reference/ocpp-actions.json.
"""

from __future__ import annotations

import json
from enum import IntEnum
from functools import cache
from importlib import resources

from ocppscope.proxy.core.events import Direction

VERSIONS = ("1.6", "2.0.1", "2.1")
"""Versions whose JSON schemas ship with the ``ocpp`` package, so ocppscope can validate them."""

SUBPROTOCOLS = {
    "ocpp1.2": "1.2",
    "ocpp1.5": "1.5",
    "ocpp1.6": "1.6",
    "ocpp2.0": "2.0",
    "ocpp2.0.1": "2.0.1",
    "ocpp2.1": "2.1",
}
"""Registered OCPP-J subprotocol tokens (case-sensitive) and the version each one names."""

MAX_MESSAGE_ID_LENGTH = 36


class MessageType(IntEnum):
    CALL = 2
    CALLRESULT = 3
    CALLERROR = 4
    CALLRESULTERROR = 5
    SEND = 6


RESPONSE_TYPES = frozenset({MessageType.CALLRESULT, MessageType.CALLERROR})

ERROR_CODES: dict[str, frozenset[str]] = {
    "1.6": frozenset(
        {
            "NotImplemented",
            "NotSupported",
            "InternalError",
            "ProtocolError",
            "SecurityError",
            "FormationViolation",
            "PropertyConstraintViolation",
            "OccurenceConstraintViolation",
            "TypeConstraintViolation",
            "GenericError",
        }
    ),
    "2.0.1": frozenset(
        {
            "FormatViolation",
            "GenericError",
            "InternalError",
            "MessageTypeNotSupported",
            "NotImplemented",
            "NotSupported",
            "OccurrenceConstraintViolation",
            "PropertyConstraintViolation",
            "ProtocolError",
            "RpcFrameworkError",
            "SecurityError",
            "TypeConstraintViolation",
        }
    ),
}
ERROR_CODES["2.1"] = ERROR_CODES["2.0.1"]

ERROR_CODE_ALIASES: dict[str, frozenset[str]] = {
    # Real implementations mix the 1.6 and 2.x spellings; both are understood, the other one is noted.
    "1.6": frozenset({"FormatViolation", "OccurrenceConstraintViolation"}),
    "2.0.1": frozenset({"OccurenceConstraintViolation", "FormationViolation"}),
    "2.1": frozenset({"OccurenceConstraintViolation", "FormationViolation"}),
}


def error_code(version: str | None, generic: str) -> str:
    """The spelling of an error code a strict receiver of ``version`` sends.

    ``generic`` is one of FormatViolation, OccurrenceConstraintViolation, PropertyConstraintViolation,
    TypeConstraintViolation, ProtocolError.
    """
    if version == "1.6":
        return {
            "FormatViolation": "FormationViolation",
            "OccurrenceConstraintViolation": "OccurenceConstraintViolation",
        }.get(generic, generic)
    return generic


@cache
def _actions() -> dict[str, dict[str, dict[str, str]]]:
    with resources.files("ocppscope.proxy.core.data").joinpath("actions.json").open("rb") as fh:
        return json.load(fh)["versions"]


def actions(version: str) -> dict[str, dict[str, str]]:
    """Every action of ``version``: name → {"direction": "cp-to-csms"|"csms-to-cp"|"both", "type", "profile"}."""
    return _actions().get(version, {})


def action_direction(version: str, action: str) -> str | None:
    """The direction ``action`` is sent in under ``version`` ("both" for DataTransfer), or None if unknown."""
    entry = _actions().get(version, {}).get(action)
    return entry["direction"] if entry else None


def allowed_from(version: str, action: str, direction: Direction) -> bool | None:
    """Whether ``direction``'s sender may send ``action`` under ``version``; None when the action is unknown."""
    expected = action_direction(version, action)
    if expected is None:
        return None
    return expected == "both" or expected == direction.value


def versions_with_action(action: str) -> tuple[str, ...]:
    return tuple(v for v in VERSIONS if action in _actions().get(v, {}))


def version_of_subprotocol(subprotocol: str | None) -> str | None:
    if not subprotocol:
        return None
    return SUBPROTOCOLS.get(subprotocol.strip())
