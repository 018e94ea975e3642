"""Rule sets of the inspection core. Importing a module declares its rules."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ocppscope.proxy.core.analyzer import Checker


def default_checkers() -> list[Checker]:
    """The checkers every consumer (proxy, check, replay, TUI) runs; configured ones are added by the caller."""
    # Imported here: the analyzer imports this package for the frame and rpc rule declarations.
    from ocppscope.proxy.core.checks.boot import BootChecker
    from ocppscope.proxy.core.checks.charging import ChargingChecker
    from ocppscope.proxy.core.checks.clocks import ClockChecker
    from ocppscope.proxy.core.checks.configuration import ConfigurationChecker
    from ocppscope.proxy.core.checks.continuity import ContinuityChecker
    from ocppscope.proxy.core.checks.disclosure import DisclosureChecker
    from ocppscope.proxy.core.checks.extensions import ExtensionChecker
    from ocppscope.proxy.core.checks.handlers import HandlerFailureChecker
    from ocppscope.proxy.core.checks.handshake import handshake_checkers
    from ocppscope.proxy.core.checks.heartbeat import HeartbeatChecker
    from ocppscope.proxy.core.checks.lifecycle import LifecycleChecker
    from ocppscope.proxy.core.checks.metering import MeteringChecker
    from ocppscope.proxy.core.checks.registration import RegistrationChecker
    from ocppscope.proxy.core.checks.retries import RetryChecker
    from ocppscope.proxy.core.checks.schema import SchemaChecker
    from ocppscope.proxy.core.checks.transactions import TransactionChecker
    from ocppscope.proxy.core.checks.trigger import TriggerChecker
    from ocppscope.proxy.core.checks.values import ValuesChecker
    from ocppscope.proxy.core.checks.vendor import VendorChecker

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
