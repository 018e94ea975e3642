"""Charger scripts for the value and vendor-data captures: meter readings that pass the schema but mean the
wrong thing, ids and strings implementations choke on, vendor data, measurand lists outside the enum.

Played by the ``ocpp`` package's own charge points (each frame passes the package's schema validation: that
is the point, these faults are beyond the schema). :mod:`proxy.demo.scenarios` lists them in its catalogue.
"""

from __future__ import annotations

import json
from typing import Any

from ocpp.v16 import call as call16
from ocpp.v201 import call as call201
from ocppscope.proxy.demo.chargers import Charger16, Charger201, charger_connection
from ocppscope.proxy.demo.clock import now_iso

CARD = "04E1B2C3D4A580"
BIG_TRANSACTION_ID = 3_000_000_001
"""What the backend of ``meter-values`` issues: beyond a signed 32-bit integer."""
UNKNOWN_MEASURANDS = "Energy.Active.Import.Register,Current.Import.L1,Temperature"
"""A 2.0.1 TxUpdatedMeasurands list: a 1.6-style phase suffix and a measurand 2.0.1 dropped."""


def big_transaction_id(payload: dict[str, Any]) -> dict[str, Any]:
    """The backend's StartTransaction answer, renumbered as a backend with 64-bit ids does."""
    return {**payload, "transactionId": BIG_TRANSACTION_ID}


def _sample(value: str, context: str | None = "Sample.Periodic", **fields: str) -> dict[str, Any]:
    sample: dict[str, Any] = {"value": value, **fields}
    if context is not None:
        sample["context"] = context
    return sample


def _energy(value: str, context: str | None = "Sample.Periodic", **fields: str) -> dict[str, Any]:
    return _sample(value, context, measurand="Energy.Active.Import.Register", location="Outlet", unit="Wh",
                   **fields)


async def _meter(cp: Charger16, *samples: dict[str, Any], transaction_id: int | None = None) -> None:
    await cp.call(call16.MeterValues(connector_id=1, transaction_id=transaction_id,
                                     meter_value=[{"timestamp": now_iso(), "sampled_value": list(samples)}]))


async def _status(cp: Charger16, connector: int, status: str, error_code: str = "NoError", **fields: str) -> None:
    await cp.call(call16.StatusNotification(connector_id=connector, error_code=error_code, status=status,  # type: ignore[arg-type]
                                            timestamp=now_iso(), **fields))


async def meter_values(url: str) -> None:
    """A 1.6 wallbox with unprovisioned identity fields and a meter firmware that gets contexts, units and
    number formats wrong; its backend issues transaction ids beyond 32 bits."""
    async with charger_connection(url, "CP-METER-16", Charger16) as cp:
        await cp.call(call16.BootNotification(
            charge_point_vendor="Acme", charge_point_model="AC22-Wallbox", charge_point_serial_number="0000000000",
            firmware_version="1.8.2", iccid="", imsi="204080123456789", meter_type="EM340",
        ))
        await cp.wait_for_request("TriggerMessage")  # MeterValues for connector 1, which it answered Accepted
        await _meter(cp, _energy("18250"))  # ... but says Sample.Periodic
        await _status(cp, 1, "Preparing")
        await cp.call(call16.Authorize(id_tag=CARD))
        start = await cp.call(call16.StartTransaction(connector_id=1, id_tag=CARD, meter_start=18250,
                                                      timestamp=now_iso()))
        tx = start.transaction_id
        await _status(cp, 1, "Charging")
        # The begin reading as the transaction's own count (0), next to a power sample without a context.
        await _meter(cp, _energy("0", "Transaction.Begin"), _sample("7200", None, measurand="Power.Active.Import",
                                                                     unit="W"), transaction_id=tx)
        # A current sample that lost its measurand: the default register, in amperes.
        await _meter(cp, _energy("18410"), _sample("16.1", None, unit="A"), transaction_id=tx)
        await _meter(cp, _energy("1.8575E+4"), _sample("230,1", measurand="Voltage", unit="V"), transaction_id=tx)
        await _meter(cp, _energy("18490"), transaction_id=tx)  # below 18575
        await _meter(cp, *(_energy(value, phase=phase) for value, phase in (("6200", "L1"), ("6210", "L2"),
                                                                            ("6230", "L3"))), transaction_id=tx)
        await _meter(cp, _energy("18700", "Other"), transaction_id=tx)
        await cp.call(call16.StopTransaction(
            meter_stop=18720, timestamp=now_iso(), transaction_id=tx, id_tag=CARD, reason="EVDisconnected",
            transaction_data=[{"timestamp": now_iso(), "sampled_value": [_energy("0", "Transaction.Begin")]},
                              {"timestamp": now_iso(), "sampled_value": [_energy("470", "Transaction.End")]}],
        ))
        await _status(cp, 1, "Finishing")


VENDOR_KEYS = {"Cfg_LedBrightness": "80", "FreeVendActive": "false", "RcdTestIntervalDays": "30"}


async def vendor_data(url: str) -> None:
    """A 1.6 wallbox that speaks its vendor's dialect: vendor keys, DataTransfer in three data formats, vendor
    detail in StatusNotification, and a Security Whitepaper message its 1.6-only backend does not know."""
    async with charger_connection(url, "CP-VENDOR-16", Charger16) as cp:
        cp.configuration.update(VENDOR_KEYS)
        await cp.call(call16.BootNotification(
            charge_point_vendor="Acme", charge_point_model="AC22-Wallbox", charge_point_serial_number="AC22-000777",
            firmware_version="1.8.2", meter_type="EM340",
        ))
        await cp.wait_for_request("GetConfiguration")
        await _status(cp, 0, "Available")
        await _status(cp, 1, "Preparing", vendor_id="com.acme", vendor_error_code="0x0000", info="cable locked")
        await cp.call(call16.DataTransfer(vendor_id="com.acme", message_id="Diagnostics",
                                          data=json.dumps({"temperature": 41.5, "fan": "on", "rcd": "ok"})))
        await cp.call(call16.DataTransfer(vendor_id="com.acme", message_id="Counters",
                                          data="relayCycles=1204;plugCycles=311"))
        await cp.call(call16.DataTransfer(vendor_id="com.acme", message_id="MeterInfo", data="EM340;7043221;1.2"))
        await _status(cp, 1, "Faulted", "GroundFailure", vendor_error_code="E-RCD-30mA", info="residual current")
        await cp.call(call16.SecurityEventNotification(type="FirmwareUpdated", timestamp=now_iso(),
                                                       tech_info="1.8.2 -> 1.8.3"))


async def measurands_201(url: str) -> None:
    """A 2.0.1 station that accepts a measurand list with items outside the 2.0.1 enum, then reports a fault
    through NotifyEvent with the vendor's techCode and techInfo."""
    async with charger_connection(url, "CS-MEASURE-201", Charger201, subprotocols=("ocpp2.0.1",)) as cs:
        await cs.call(call201.BootNotification(
            charging_station={"model": "DC50-Hypercharger", "vendor_name": "Acme", "serial_number": "DC50-004713",
                              "firmware_version": "4.2.0"},
            reason="PowerUp",
        ))
        await cs.wait_for_request("SetVariables")
        await cs.call(call201.StatusNotification(timestamp=now_iso(), connector_status="Available", evse_id=1,
                                                 connector_id=1))
        await cs.call(call201.NotifyEvent(generated_at=now_iso(), seq_no=0, event_data=[{
            "event_id": 7, "timestamp": now_iso(), "trigger": "Delta", "actual_value": "Faulted",
            "event_notification_type": "HardWiredNotification", "tech_code": "E042", "tech_info": "RCD tripped",
            "component": {"name": "Connector", "evse": {"id": 1, "connector_id": 1}},
            "variable": {"name": "AvailabilityState"},
        }]))
