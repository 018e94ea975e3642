"""What the traffic has shown about one charger: its profile choice, configuration values and lists.

Kept per charger identity across its connections, so a GetConfiguration answer on one connection informs
the checks on the next. Secret values (AuthorizationKey) are never stored; only the user name in front of
a ``user:password`` key is, to catch an identity change that leaves the key naming the old identity.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ocppscope.proxy.profiles.selection import Choice


@dataclass(frozen=True, slots=True)
class InstalledProfile:
    profile_id: int | None
    connector_id: int | None
    purpose: str | None
    stack_level: int | None
    transaction_id: int | None


def with_installed(installed: list[InstalledProfile], new: InstalledProfile) -> list[InstalledProfile]:
    """``new`` replaces a profile with the same id, or the same connector, purpose and stack level."""
    kept = [
        p for p in installed
        if not (p.profile_id is not None and p.profile_id == new.profile_id)
        and (p.connector_id, p.purpose, p.stack_level) != (new.connector_id, new.purpose, new.stack_level)
    ]
    return [*kept, new]


class ChargerState:
    __slots__ = ("auth_user", "boot", "charging_profiles", "choice", "config", "local_list", "serial")

    def __init__(self) -> None:
        self.choice: Choice | None = None
        self.config: dict[str, tuple[str, str]] = {}
        """Case-folded key → (name as written, value)."""
        self.auth_user: str | None = None
        self.local_list: set[str] | None = None
        """The idTags of the local authorization list, when a Full update showed the whole list."""
        self.charging_profiles: list[InstalledProfile] = []
        self.serial: str | None = None
        self.boot: dict[str, Any] | None = None

    def value(self, name: str) -> str | None:
        known = self.config.get(name.casefold())
        return known[1] if known else None

    def values(self) -> dict[str, str]:
        """Known values by case-folded name (the shape :mod:`proxy.endpoint.reverse` reads)."""
        return {folded: value for folded, (_, value) in self.config.items()}

    def remember(self, name: str, value: str) -> None:
        self.config[name.casefold()] = (name, value)

    def integer(self, name: str) -> int | None:
        value = self.value(name)
        return int(value) if value is not None and value.strip().lstrip("+-").isdigit() else None

    def install(self, profile: InstalledProfile) -> None:
        self.charging_profiles = with_installed(self.charging_profiles, profile)

    def clear_profiles(self, criteria: dict[str, Any]) -> None:
        """ClearChargingProfile: by id, or by every criterion given (connectorId, purpose, stackLevel)."""
        if "id" in criteria:
            self.charging_profiles = [p for p in self.charging_profiles if p.profile_id != criteria["id"]]
            return

        def matches(p: InstalledProfile) -> bool:
            return all(
                criteria.get(name) is None or criteria[name] == value
                for name, value in (("connectorId", p.connector_id), ("chargingProfilePurpose", p.purpose),
                                    ("stackLevel", p.stack_level))
            )

        self.charging_profiles = [p for p in self.charging_profiles if not matches(p)]

    def transaction_ended(self, transaction_id: Any) -> None:
        """A TxProfile lives as long as its transaction."""
        self.charging_profiles = [
            p for p in self.charging_profiles
            if p.purpose != "TxProfile" or (p.transaction_id is not None and p.transaction_id != transaction_id)
        ]
