"""A quick look at a frame, for the demo peers deciding which deliberate fault applies to it."""

from __future__ import annotations

import json
from typing import Any


def peek(raw: str | bytes) -> tuple[Any, Any, Any]:
    """(message type id, message id, action) of an OCPP-J frame; Nones where the frame has none.

    Deliberately lax: the peers only need to recognise their own traffic. The inspection core's decoder
    (:mod:`proxy.core.frames`) is the one that judges frames.
    """
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None, None, None
    if not isinstance(value, list) or len(value) < 2:
        return None, None, None
    action = value[2] if value[0] == 2 and len(value) > 2 else None
    return value[0], value[1], action
