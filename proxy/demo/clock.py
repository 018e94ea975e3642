"""Timestamps the demo peers put in their payloads."""

from __future__ import annotations

from datetime import UTC, datetime


def now_iso(*, timezone: bool = True) -> str:
    """Current UTC time as OCPP writes it (``2025-01-31T12:00:00.123Z``).

    ``timezone=False`` drops the ``Z``: the classic bug of a backend or firmware that formats a naive local
    timestamp, which the scenarios use on purpose.
    """
    text = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
    return text + "Z" if timezone else text
