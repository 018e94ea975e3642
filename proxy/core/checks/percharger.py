"""State a checker keeps per charger, across the charger's connections, in bounded memory."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from ocppscope.proxy.core.connection import Connection

MAX_CHARGERS = 10_000
"""Chargers remembered per checker; past it the one seen first is forgotten (a proxy runs for months)."""

State = TypeVar("State")


def charger_state(store: dict[str, State], conn: Connection, new: Callable[[], State]) -> State:
    """The state of ``conn``'s charger (by identity, else by connection) in ``store``, made with ``new``."""
    key = conn.charger or conn.conn_id
    state = store.get(key)
    if state is None:
        if len(store) >= MAX_CHARGERS:
            del store[next(iter(store))]
        state = store[key] = new()
    return state
