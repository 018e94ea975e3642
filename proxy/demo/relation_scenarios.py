"""Charger scripts for the capture of messages that relate to each other: requests before the boot, triggers
answered and not, a remote stop of a transaction the charger never had, transactions the charger authorized
itself, a placeholder idTag, and a charger whose session began before the capture.

Played by the ``ocpp`` package's own charge points; every frame passes its schema validation (these faults
are in how messages relate, not in any one of them). :mod:`proxy.demo.scenarios` lists them in its catalogue.
"""

from __future__ import annotations

from typing import Any

from ocpp.routing import on
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import Action as Action16
from ocppscope.proxy.demo.chargers import Charger16, charger_connection
from ocppscope.proxy.demo.clock import now_iso

CARD = "04C7D2E91A3B80"
FREE_VEND_TAG = "FreeCharging"
"""The fixed idTag of a wallbox in free-vend mode."""
STALE_TRANSACTION = 4711
"""The transaction the backend of ``message-relations`` asks to stop: no charger ever had it."""
RESUMED_TRANSACTION = 57
"""The transaction ``CP-RESUME-16`` was running before the capture began."""


class RelationCharger16(Charger16):
    """A 1.6 wallbox that rejects remote stops of transactions it does not run (it runs none here)."""

    @on(Action16.remote_stop_transaction)
    def on_remote_stop_transaction(self, transaction_id: int, **_: Any) -> result16.RemoteStopTransaction:
        return result16.RemoteStopTransaction(status="Rejected")


def _energy(value: int, context: str = "Sample.Periodic") -> dict[str, Any]:
    return {"timestamp": now_iso(), "sampled_value": [{
        "value": str(value), "context": context, "measurand": "Energy.Active.Import.Register", "location": "Outlet",
        "unit": "Wh"}]}


async def _status(cp: Charger16, connector: int, status: str) -> None:
    await cp.call(call16.StatusNotification(connector_id=connector, error_code="NoError", status=status,  # type: ignore[arg-type]
                                            timestamp=now_iso()))


async def message_relations(url: str) -> None:
    """``CP-RELATE-16`` reports before it boots, accepts two triggers and follows only one, rejects a remote stop
    of a transaction it never had, and charges in free-vend mode. Then ``CP-RESUME-16``, whose connection the
    capture shows from a reconnect on: its transaction began before, it labels a reading Trigger that nobody
    asked for, and it starts a transaction for a card from its local list."""
    async with charger_connection(url, "CP-RELATE-16", RelationCharger16) as cp:
        await _status(cp, 0, "Available")  # queued status sent before registering
        await cp.call(call16.BootNotification(charge_point_vendor="Acme", charge_point_model="AC22-Wallbox",
                                              charge_point_serial_number="AC22-000901", firmware_version="1.8.2"))
        # The backend triggers a status and meter values, then stops a stale transaction; the charger answers
        # all three before it goes on, so the frames keep their order in every recording.
        await cp.wait_for_request("RemoteStopTransaction")
        await _status(cp, 1, "Available")  # the triggered status; the triggered meter values never come
        start = await cp.call(call16.StartTransaction(connector_id=1, id_tag=FREE_VEND_TAG, meter_start=18250,
                                                      timestamp=now_iso()))
        await _status(cp, 1, "Charging")
        await cp.call(call16.StopTransaction(meter_stop=18610, timestamp=now_iso(), transaction_id=start.transaction_id,
                                             reason="EVDisconnected"))
        await _status(cp, 1, "Available")
    async with charger_connection(url, "CP-RESUME-16", RelationCharger16) as cp:
        await _status(cp, 1, "Charging")
        await cp.call(call16.MeterValues(connector_id=1, transaction_id=RESUMED_TRANSACTION,
                                         meter_value=[_energy(30120)]))
        await cp.call(call16.MeterValues(connector_id=1, transaction_id=RESUMED_TRANSACTION,
                                         meter_value=[_energy(30240, "Trigger")]))
        await cp.call(call16.StopTransaction(meter_stop=30300, timestamp=now_iso(), transaction_id=RESUMED_TRANSACTION,
                                             reason="EVDisconnected"))
        await _status(cp, 1, "Available")
        start = await cp.call(call16.StartTransaction(connector_id=1, id_tag=CARD, meter_start=30300,
                                                      timestamp=now_iso()))
        await cp.call(call16.StopTransaction(meter_stop=30410, timestamp=now_iso(), transaction_id=start.transaction_id,
                                             id_tag=CARD, reason="Local"))
