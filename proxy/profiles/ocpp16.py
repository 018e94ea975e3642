"""OCPP 1.6 enumerations profiles refer to (shared/reference/ocpp-facts.md §6.3, §6.4; spec 1.6 §7)."""

from __future__ import annotations

from ocppscope.proxy.core.events import Direction
from ocppscope.proxy.core.protocol import action_direction, actions

MEASURANDS: tuple[str, ...] = (
    "Energy.Active.Export.Register",
    "Energy.Active.Import.Register",
    "Energy.Reactive.Export.Register",
    "Energy.Reactive.Import.Register",
    "Energy.Active.Export.Interval",
    "Energy.Active.Import.Interval",
    "Energy.Reactive.Export.Interval",
    "Energy.Reactive.Import.Interval",
    "Power.Active.Export",
    "Power.Active.Import",
    "Power.Offered",
    "Power.Reactive.Export",
    "Power.Reactive.Import",
    "Power.Factor",
    "Current.Import",
    "Current.Export",
    "Current.Offered",
    "Voltage",
    "Frequency",
    "Temperature",
    "SoC",
    "RPM",
)
DEFAULT_MEASURAND = "Energy.Active.Import.Register"
PHASES: tuple[str, ...] = ("L1", "L2", "L3", "N", "L1-N", "L2-N", "L3-N", "L1-L2", "L2-L3", "L3-L1")
TRIGGER_MESSAGES: tuple[str, ...] = (
    "BootNotification",
    "DiagnosticsStatusNotification",
    "FirmwareStatusNotification",
    "Heartbeat",
    "MeterValues",
    "StatusNotification",
)
BOOT_FIELDS: tuple[str, ...] = (
    "chargePointVendor",
    "chargePointModel",
    "chargePointSerialNumber",
    "chargeBoxSerialNumber",
    "firmwareVersion",
    "iccid",
    "imsi",
    "meterType",
    "meterSerialNumber",
)
BOOT_SCHEMA_MAX_LENGTH: dict[str, int] = {
    "chargePointVendor": 20,
    "chargePointModel": 20,
    "chargePointSerialNumber": 25,
    "chargeBoxSerialNumber": 25,
    "firmwareVersion": 50,
    "iccid": 20,
    "imsi": 20,
    "meterType": 25,
    "meterSerialNumber": 25,
}
KEY_MAX_LENGTH = 50
"""ChangeConfiguration and GetConfiguration key: CiString50Type."""


def action_names() -> tuple[str, ...]:
    return tuple(actions("1.6"))


def sent_by(action: str, direction: Direction) -> bool:
    """Whether ``direction``'s sender may send ``action`` in OCPP 1.6."""
    expected = action_direction("1.6", action)
    return expected == "both" or expected == direction.value
