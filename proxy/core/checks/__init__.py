"""Rule sets of the inspection core. Importing a module declares its rules."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from proxy.core.analyzer import Checker


def default_checkers() -> list[Checker]:
    """The checkers every consumer (proxy, check, replay, TUI) runs; configured ones are added by the caller."""
    # Imported here: the analyzer imports this package for the frame and rpc rule declarations.
    from proxy.core.checks.boot import BootChecker
    from proxy.core.checks.charging import ChargingChecker
    from proxy.core.checks.clocks import ClockChecker
    from proxy.core.checks.configuration import ConfigurationChecker
    from proxy.core.checks.continuity import ContinuityChecker
    from proxy.core.checks.disclosure import DisclosureChecker
    from proxy.core.checks.extensions import ExtensionChecker
    from proxy.core.checks.handlers import HandlerFailureChecker
    from proxy.core.checks.handshake import handshake_checkers
    from proxy.core.checks.heartbeat import HeartbeatChecker
    from proxy.core.checks.lifecycle import LifecycleChecker
    from proxy.core.checks.metering import MeteringChecker
    from proxy.core.checks.registration import RegistrationChecker
    from proxy.core.checks.retries import RetryChecker
    from proxy.core.checks.schema import SchemaChecker
    from proxy.core.checks.transactions import TransactionChecker
    from proxy.core.checks.trigger import TriggerChecker
    from proxy.core.checks.values import ValuesChecker
    from proxy.core.checks.vendor import VendorChecker

    return [
        SchemaChecker(),
        BootChecker(),
        RegistrationChecker(),
        TransactionChecker(),
        TriggerChecker(),
        HeartbeatChecker(),
        ChargingChecker(),
        MeteringChecker(),
        ValuesChecker(),
        ConfigurationChecker(),
        VendorChecker(),
        ExtensionChecker(),
        ClockChecker(),
        *handshake_checkers(),
        LifecycleChecker(),
        DisclosureChecker(),
        RetryChecker(),
        HandlerFailureChecker(),
        ContinuityChecker(),
    ]
