"""Values one side assigns and the other repeats, mapped from the recording to the live session.

A 1.6 backend assigns ``transactionId`` in the StartTransaction answer and the charger repeats it in
MeterValues and StopTransaction. OCPP 2.x transaction ids are the station's own, so there the backend's
assigned values are ``remoteStartId`` (RequestStartTransaction → TransactionEvent), the reservation id
(ReserveNow ``id`` → ``reservationId``) and ``requestId`` (GetLog, GetReport, UpdateFirmware, ... → the
notifications that report on them); serving a backend, the station's ``transactionId`` is what the backend
repeats. Whichever side is replayed, :class:`ValueMap` learns ``recorded → live`` by walking a recorded
payload and its live counterpart side by side, and rewrites those values in what the replayed side sends next.
"""

from __future__ import annotations

from typing import Any

MAPPED_KEYS = frozenset({"transactionId", "remoteStartId", "reservationId", "requestId"})
# A value named differently where it is assigned than where it is repeated: (action, key) → family.
_ALIASES = {("ReserveNow", "id"): "reservationId"}

Scalar = str | int | float


class ValueMap:
    """``(key family, recorded value) → live value`` for the keys in :data:`MAPPED_KEYS`."""

    def __init__(self) -> None:
        self._map: dict[tuple[str, Any], Any] = {}

    def __len__(self) -> int:
        return len(self._map)

    def get(self, family: str, recorded: Any) -> Any:
        return self._map.get((family, _key(recorded)), recorded)

    def learn(self, recorded: Any, live: Any, action: str | None = None) -> None:
        """Record every mapped value that differs between ``recorded`` and ``live`` (same shape expected)."""
        if isinstance(recorded, dict) and isinstance(live, dict):
            for key, value in recorded.items():
                if key not in live:
                    continue
                family = _ALIASES.get((action or "", key), key)
                other = live[key]
                if family in MAPPED_KEYS and _scalar(value) and _scalar(other):
                    if value != other:
                        self._map[(family, _key(value))] = other
                else:
                    self.learn(value, other, action)
        elif isinstance(recorded, list) and isinstance(live, list):
            for before, after in zip(recorded, live, strict=False):
                self.learn(before, after, action)

    def apply(self, payload: Any) -> Any:
        """``payload`` with every mapped value replaced (a new object only where something changed)."""
        if not self._map:
            return payload
        if isinstance(payload, dict):
            changed = False
            out = {}
            for key, value in payload.items():
                if key in MAPPED_KEYS and _scalar(value):
                    new = self._map.get((key, _key(value)), value)
                else:
                    new = self.apply(value)
                changed = changed or new is not value
                out[key] = new
            return out if changed else payload
        if isinstance(payload, list):
            items = [self.apply(item) for item in payload]
            return items if any(a is not b for a, b in zip(items, payload, strict=True)) else payload
        return payload


def _scalar(value: Any) -> bool:
    return isinstance(value, Scalar) and not isinstance(value, bool)


def _key(value: Any) -> Any:
    # 1 and "1" are different transaction ids on the wire; keep the type in the key.
    return (type(value).__name__, value)
