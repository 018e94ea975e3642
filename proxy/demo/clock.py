"""Timestamps the demo peers put in their payloads."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def now_iso(*, timezone: bool = True, ahead: float = 0.0) -> str:
    """Current UTC time as OCPP writes it (``2025-01-31T12:00:00.123Z``).

    ``timezone=False`` drops the ``Z``: the classic bug of a backend or firmware that formats a naive local
    timestamp, which the scenarios use on purpose. ``ahead`` seconds are added (negative: an earlier time),
    as a charger whose clock is off, or that stamped a message before it could send it, writes them.
    """
    return iso(time.time() + ahead, timezone=timezone)


def iso(epoch: float, *, timezone: bool = True) -> str:
    """``epoch`` seconds as OCPP writes a time (see :func:`now_iso`)."""
    text = datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
    return text + "Z" if timezone else text
