"""OCPP conversations played by real ``ocpp`` package peers, clean or with deliberate faults.

A :class:`Scenario` pairs a charger script with the backend behaviour it needs. The charger script is an
async function taking the base URL chargers are configured with (``ws://host:port/ocpp``; each charger
appends its identity), so one scenario runs straight against :func:`start_central_system`, through
:class:`proxy.demo.recorder.RecordingRelay`, or through the real proxy. Everything stays on loopback and
every scenario is bounded by ``time_limit``.

Backend-initiated requests and deliberate extra answers are awaited by the charger before it goes on, so
a scenario puts its frames on the wire in the same order every run, and recorded sequence numbers are
stable when the captures are regenerated.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from ocpp.v16 import call as call16
from ocpp.v201 import call as call201
from ocppscope.proxy.demo.backend import BackendBehaviour
from ocppscope.proxy.demo.chargers import Charger16, Charger201, basic_authorization, charger_connection
from ocppscope.proxy.demo.clock import iso, now_iso
from ocppscope.proxy.demo.relation_scenarios import STALE_TRANSACTION, message_relations
from ocppscope.proxy.demo.value_scenarios import (
    UNKNOWN_MEASURANDS,
    big_transaction_id,
    measurands_201,
    meter_values,
    vendor_data,
)
from websockets.exceptions import InvalidStatus

log = logging.getLogger("ocppscope.demo.scenarios")

ChargerScript = Callable[[str], Awaitable[None]]

ID_TAG = "04A2C3B91F6E80"
"""An RFID card UID, as 1.6 chargers send it."""
DEMO_AUTHORIZATION_KEY = "5ECF1D2A3B4C5D6E7F8091A2B3C4D5E6F7A8B9C0"
"""A 20-byte key as 40 hex digits: the secret the bundled captures must never contain."""
DEMO_BASIC_PASSWORD = "s3cr3t-Pa55word-for-CS-2001"
AUTH_PASSWORD = "A1B2C3D4E5F60718293A4B5C6D7E8F9012345678"
STRAY_WAIT = 2.0
"""Seconds a charger waits for an answer it did not ask for, which the backend sends right away."""


@dataclass(frozen=True)
class Scenario:
    """One conversation: the charger's script and the backend it needs."""

    name: str
    """Also the capture file stem."""
    title: str
    charger: ChargerScript
    backend: BackendBehaviour = field(default_factory=BackendBehaviour)
    time_limit: float = 15.0
    call_timeout: float | None = None
    """The analyzer call timeout the recording is meant to be checked with (None: the 30 s default)."""


async def run_charge_point(url: str, scenario: Scenario) -> None:
    """Play ``scenario``'s charger side against ``url`` (its backend must already be running)."""
    async with asyncio.timeout(scenario.time_limit):
        await scenario.charger(url)


# -- OCPP 1.6 building blocks -----------------------------------------------------------------------------


async def boot16(cp: Charger16, **fields: Any) -> Any:
    """BootNotification as an AC wallbox sends it; adopts the heartbeat interval when Accepted."""
    payload = {
        "charge_point_vendor": "Acme",
        "charge_point_model": "AC22-Wallbox",
        "charge_point_serial_number": "AC22-000123",
        "firmware_version": "1.8.2",
        "meter_type": "EM340",
    }
    payload.update(fields)
    answer = await cp.call(call16.BootNotification(**payload))
    if answer is not None and answer.status == "Accepted":
        cp.configuration["HeartbeatInterval"] = str(answer.interval)
    return answer


async def status16(cp: Charger16, connector: int, status: str, error_code: str | None = "NoError",
                   **options: Any) -> Any:
    return await cp.call(
        call16.StatusNotification(connector_id=connector, error_code=error_code, status=status,  # type: ignore[arg-type]
                                  timestamp=now_iso()),
        **options,
    )


async def connectors_available16(cp: Charger16) -> None:
    """StatusNotification for connector 0 (the charger) and connector 1, as 1.6 wants after an Accepted boot."""
    await status16(cp, 0, "Available")
    await status16(cp, 1, "Available")


async def authorize_and_prepare16(cp: Charger16) -> None:
    """A driver presents the card and plugs in."""
    await cp.call(call16.Authorize(id_tag=ID_TAG))
    await status16(cp, 1, "Preparing")


async def meter_values16(cp: Charger16, transaction_id: int, energy_wh: int, *, as_number: bool = False) -> Any:
    """Periodic MeterValues; ``as_number`` sends the energy as a JSON number, which 1.6 does not allow
    (values are strings), and the charger skips its own validation to get it out."""
    sample = sample16(energy_wh, 7360)
    if as_number:
        sample["sampled_value"][0]["value"] = energy_wh
    return await cp.call(call16.MeterValues(connector_id=1, transaction_id=transaction_id, meter_value=[sample]),
                         skip_schema_validation=as_number)


async def stop_unplugged_then_retry16(cp: Charger16, transaction_id: int, meter_stop: int) -> None:
    """StopTransaction with reason "Unplugged", which is not a 1.6 Reason; once refused, the firmware retries
    with the right word."""
    stop = {"meter_stop": meter_stop, "timestamp": now_iso(), "transaction_id": transaction_id, "id_tag": ID_TAG}
    await cp.call(call16.StopTransaction(**stop, reason="Unplugged"), skip_schema_validation=True)  # type: ignore[arg-type]
    await cp.call(call16.StopTransaction(**stop, reason="EVDisconnected"))


def sample16(energy_wh: int | str, power_w: int, context: str = "Sample.Periodic") -> dict[str, Any]:
    """One MeterValue: the energy register and the charging power."""
    return {
        "timestamp": now_iso(),
        "sampled_value": [
            {"value": energy_wh if not isinstance(energy_wh, int) else str(energy_wh), "context": context,
             "measurand": "Energy.Active.Import.Register", "location": "Outlet", "unit": "Wh"},
            {"value": str(power_w), "context": context, "measurand": "Power.Active.Import",
             "location": "Outlet", "unit": "W"},
        ],
    }


async def idle_then_heartbeat16(cp: Charger16) -> Any:
    """Stay quiet for one heartbeat interval, then send the Heartbeat the interval calls for."""
    await asyncio.sleep(int(cp.configuration["HeartbeatInterval"]))
    return await cp.call(call16.Heartbeat())


async def wait_for_stray_answers(cp: Charger16 | Charger201, count: int = 1) -> None:
    """Wait until ``count`` answers nobody waits for reached the charger, then drop them.

    The backend sends them right after a real answer; waiting here keeps them ahead of the charger's next
    frame in every recording.
    """
    queue = cp._response_queue
    async with asyncio.timeout(STRAY_WAIT):
        while queue.qsize() < count:
            await asyncio.sleep(0.01)
    while not queue.empty():
        queue.get_nowait()


# -- clean sessions ---------------------------------------------------------------------------------------


async def clean_ocpp16(url: str) -> None:
    """Boot, configuration read by the backend, a full transaction with meter values, a heartbeat."""
    async with charger_connection(url, "CP-CLEAN-16", Charger16) as cp:
        await boot16(cp)
        await cp.wait_for_request("GetConfiguration")
        await connectors_available16(cp)
        await authorize_and_prepare16(cp)
        start = await cp.call(call16.StartTransaction(connector_id=1, id_tag=ID_TAG, meter_start=18250,
                                                      timestamp=now_iso()))
        await status16(cp, 1, "Charging")
        for energy in (18410, 18575):
            await meter_values16(cp, start.transaction_id, energy)
        await cp.call(call16.StopTransaction(
            meter_stop=18690, timestamp=now_iso(), transaction_id=start.transaction_id, id_tag=ID_TAG,
            reason="EVDisconnected", transaction_data=[sample16(18690, 0, "Transaction.End")],
        ))
        await status16(cp, 1, "Finishing")
        await status16(cp, 1, "Available")
        await idle_then_heartbeat16(cp)


async def clean_ocpp201(url: str) -> None:
    """Boot, password and variables set/read by the CSMS, a transaction Started/Updated/Ended, a heartbeat."""
    async with charger_connection(url, "CS-CLEAN-201", Charger201, subprotocols=("ocpp2.0.1",)) as cs:
        boot = await cs.call(call201.BootNotification(
            charging_station={"model": "DC50-Hypercharger", "vendor_name": "Acme",
                              "serial_number": "DC50-004711", "firmware_version": "4.2.0"},
            reason="PowerUp",
        ))
        await cs.wait_for_request("GetVariables")
        evse = {"id": 1, "connector_id": 1}
        token = {"id_token": ID_TAG, "type": "ISO14443"}
        await cs.call(call201.StatusNotification(timestamp=now_iso(), connector_status="Available",
                                                 evse_id=1, connector_id=1))
        await cs.call(call201.Authorize(id_token=token))
        await cs.call(call201.StatusNotification(timestamp=now_iso(), connector_status="Occupied",
                                                 evse_id=1, connector_id=1))
        transaction_id = str(uuid.uuid4())
        steps = (
            ("Started", "Authorized", "Charging", 0.0, "Transaction.Begin", {"id_token": token}),
            ("Updated", "MeterValuePeriodic", "Charging", 1520.0, "Sample.Periodic", {}),
            ("Ended", "EVCommunicationLost", "Idle", 2210.0, "Transaction.End", {}),
        )
        for seq_no, (event_type, trigger, state, energy, context, extra) in enumerate(steps):
            info: dict[str, Any] = {"transaction_id": transaction_id, "charging_state": state}
            if event_type == "Ended":
                info["stopped_reason"] = "EVDisconnected"
            await cs.call(call201.TransactionEvent(
                event_type=event_type, timestamp=now_iso(), trigger_reason=trigger, seq_no=seq_no,
                transaction_info=info, evse=evse if event_type == "Started" else None,
                meter_value=[{"timestamp": now_iso(), "sampled_value": [
                    {"value": energy, "context": context, "measurand": "Energy.Active.Import.Register",
                     "unit_of_measure": {"unit": "Wh"}},
                ]}],
                **extra,
            ))
        await cs.call(call201.StatusNotification(timestamp=now_iso(), connector_status="Available",
                                                 evse_id=1, connector_id=1))
        await asyncio.sleep(boot.interval)
        await cs.call(call201.Heartbeat())


# -- faults -----------------------------------------------------------------------------------------------


async def schema_violation(url: str) -> None:
    """Payloads that break the 1.6 schemas, from the charger (refused with CALLERRORs) and the backend."""
    async with charger_connection(url, "CP-SCHEMA-16", Charger16) as cp:
        await boot16(cp)
        await status16(cp, 0, "Available")
        # Firmware that leaves out the required errorCode; the backend answers with a CALLERROR.
        await status16(cp, 1, "Available", error_code=None, skip_schema_validation=True)
        await status16(cp, 1, "Available")
        await cp.call(call16.Authorize(id_tag=ID_TAG))
        # The backend's answer has idTagInfo.status "Valid", not an AuthorizationStatus; this firmware
        # does not check answers, so the transaction goes on.
        start = await cp.call(call16.StartTransaction(connector_id=1, id_tag=ID_TAG, meter_start=5210,
                                                      timestamp=now_iso()), skip_schema_validation=True)
        await meter_values16(cp, start.transaction_id, 5380)
        await meter_values16(cp, start.transaction_id, 5520, as_number=True)  # refused
        await stop_unplugged_then_retry16(cp, start.transaction_id, 5600)
        # The backend's Heartbeat answer has a currentTime without a timezone.
        await cp.call(call16.Heartbeat())


def _tamper_id_tag_status(payload: dict[str, Any]) -> dict[str, Any]:
    return {**payload, "idTagInfo": {**payload["idTagInfo"], "status": "Valid"}}


def _naive_current_time(payload: dict[str, Any]) -> dict[str, Any]:
    return {**payload, "currentTime": payload["currentTime"].removesuffix("Z")}


async def unknown_ids(url: str) -> None:
    """The backend answers a Heartbeat twice and sends a CALLERROR for an id that was never used."""
    async with charger_connection(url, "CP-IDS-16", Charger16) as cp:
        await boot16(cp)
        await status16(cp, 0, "Available")
        await wait_for_stray_answers(cp)  # CALLERROR with an id nobody sent
        await status16(cp, 1, "Available")
        await wait_for_stray_answers(cp)
        await cp.call(call16.Heartbeat())
        await wait_for_stray_answers(cp)  # the same Heartbeat answer once more
        await cp.call(call16.Authorize(id_tag=ID_TAG))


UNANSWERED_CHARGER_TIMEOUT = 2.5
"""Seconds the charger in ``unanswered-call`` waits for its answer; check that capture with
``--call-timeout 2`` so the analyzer proves the timeout from the next frame."""


async def unanswered_call(url: str) -> None:
    """The backend never answers one StatusNotification; the charger times out after 2.5 s and retries."""
    async with charger_connection(url, "CP-SILENT-16", Charger16,
                                  response_timeout=UNANSWERED_CHARGER_TIMEOUT) as cp:
        await boot16(cp)
        try:
            await status16(cp, 0, "Available")
        except TimeoutError:
            log.info("no answer to StatusNotification within %s s: retrying", UNANSWERED_CHARGER_TIMEOUT)
            await status16(cp, 0, "Available")
        await status16(cp, 1, "Available")
        await cp.call(call16.Heartbeat())


async def boot_loop(url: str) -> None:
    """Boot Pending, then Rejected twice (one retry too early, one request while Rejected), then Accepted."""
    async with charger_connection(url, "CP-BOOTLOOP-16", Charger16) as cp:
        answer = await boot16(cp)  # Pending
        await asyncio.sleep(answer.interval)
        answer = await boot16(cp)  # Rejected
        # Faulty firmware: reports its status while Rejected, and retries the boot before the interval.
        await status16(cp, 0, "Available")
        await asyncio.sleep(answer.interval / 4)
        answer = await boot16(cp)  # Rejected again
        await asyncio.sleep(answer.interval)
        await boot16(cp)  # Accepted
        await connectors_available16(cp)


async def missing_subprotocol(url: str) -> None:
    """A 1.6 charger that offers no Sec-WebSocket-Protocol to a lenient backend that speaks 1.6 anyway."""
    async with charger_connection(url, "CP-NOPROTO-16", Charger16, subprotocols=()) as cp:
        await boot16(cp)
        await connectors_available16(cp)
        await cp.call(call16.Heartbeat())


async def bad_basic_auth(url: str) -> None:
    """Three refused upgrades (wrong password, user not the identity, credentials not base64), then one
    with the right credentials."""
    identity = "CP-AUTH-16"
    attempts = (
        basic_authorization(identity, AUTH_PASSWORD[:-8] + "00000000"),
        basic_authorization("AC22-000123", AUTH_PASSWORD),  # the serial number instead of the identity
        f"Basic {identity}:{AUTH_PASSWORD}",  # forgot to base64-encode
    )
    for authorization in attempts:
        try:
            async with charger_connection(url, identity, Charger16, authorization=authorization):
                raise AssertionError("the backend accepted bad credentials")
        except InvalidStatus as refused:
            log.info("upgrade refused with HTTP %s", refused.response.status_code)
    async with charger_connection(url, identity, Charger16,
                                  authorization=basic_authorization(identity, AUTH_PASSWORD)) as cp:
        await boot16(cp)
        await connectors_available16(cp)


async def broken_frames(url: str) -> None:
    """Frames the ocpp package would never build: pretty-printed, binary, a numeric id, a 41-character id,
    a CALL without payload, truncated JSON, an unknown message type."""
    async with charger_connection(url, "CP-GARBLED-16", Charger16) as cp:
        await boot16(cp)
        status = '{{"connectorId":{},"errorCode":"NoError","status":"Available","timestamp":"{}"}}'
        pretty_id = str(uuid.uuid4())
        pretty = json.dumps([2, pretty_id, "StatusNotification", json.loads(status.format(0, now_iso()))],
                            indent=2)
        await cp.send_raw(pretty, answer_id=pretty_id)
        binary_id = str(uuid.uuid4())
        await cp.send_raw(f'[2,"{binary_id}","StatusNotification",{status.format(1, now_iso())}]'.encode(),
                          answer_id=binary_id)
        await cp.send_raw(f'[2,4711,"Authorize",{{"idTag":"{ID_TAG}"}}]', answer_id=4711)
        long_id = f"{uuid.uuid4()}-0001"
        await cp.send_raw(f'[2,"{long_id}","DataTransfer",{{"vendorId":"com.acme","messageId":"Diag"}}]',
                          answer_id=long_id)
        # The backend cannot make sense of these three and stays silent.
        await cp.send_raw(f'[2,"{uuid.uuid4()}","StatusNotification"]')
        await cp.send_raw(f'[2,"{uuid.uuid4()}","MeterValues",{{"connectorId":1,"meterValue":[{{"timestamp":')
        await cp.send_raw(f'[7,"{uuid.uuid4()}",{{}}]')
        await cp.call(call16.Heartbeat())


async def demo_session(url: str) -> None:
    """A charging session with a few faults strung together: the bundled demo."""
    async with charger_connection(url, "DEMO-CP-01", Charger16) as cp:
        await boot16(cp)
        await cp.wait_for_request("ChangeConfiguration")  # the backend sets the AuthorizationKey
        await cp.wait_for_request("GetConfiguration")
        await connectors_available16(cp)
        await authorize_and_prepare16(cp)
        # Fault: a local time without a timezone.
        start = await cp.call(call16.StartTransaction(connector_id=1, id_tag=ID_TAG, meter_start=40120,
                                                      timestamp=now_iso(timezone=False)))
        await status16(cp, 1, "Charging")
        # Faults: a meter value as a number, a stop reason 1.6 does not know; both refused, then sent right.
        await meter_values16(cp, start.transaction_id, 40290, as_number=True)
        await meter_values16(cp, start.transaction_id, 40475)
        await stop_unplugged_then_retry16(cp, start.transaction_id, 40610)
        await status16(cp, 1, "Finishing")
        await status16(cp, 1, "Available")
        # Fault on the backend: it answers the Heartbeat twice.
        await cp.call(call16.Heartbeat())
        await wait_for_stray_answers(cp)


# -- clocks -----------------------------------------------------------------------------------------------

CLOCK_AHEAD = 12 * 60.0
"""Seconds the clock of the station in ``clock-ahead`` runs ahead."""
MINUTE = 60.0


async def clock_ahead(url: str) -> None:
    """A 2.0.1 station whose clock runs 12 minutes ahead: every time it writes is in the future."""
    async with charger_connection(url, "CS-CLOCK-201", Charger201, subprotocols=("ocpp2.0.1",)) as cs:
        await cs.call(call201.BootNotification(
            charging_station={"model": "DC50-Hypercharger", "vendor_name": "Acme", "serial_number": "DC50-004712",
                              "firmware_version": "4.2.0"},
            reason="PowerUp",
        ))
        await cs.call(call201.StatusNotification(timestamp=now_iso(ahead=CLOCK_AHEAD), connector_status="Available",
                                                 evse_id=1, connector_id=1))
        await cs.call(call201.NotifyEvent(generated_at=now_iso(ahead=CLOCK_AHEAD), seq_no=0, event_data=[{
            "event_id": 1, "timestamp": now_iso(ahead=CLOCK_AHEAD), "trigger": "Delta", "actual_value": "Available",
            "event_notification_type": "HardWiredNotification",
            "component": {"name": "Connector", "evse": {"id": 1, "connector_id": 1}},
            "variable": {"name": "AvailabilityState"},
        }]))
        await cs.call(call201.Heartbeat())


async def clock_never_set(url: str) -> None:
    """A 1.6 wallbox whose real-time clock was reset: it counts from 1970-01-01T00:00:00Z since power-up and
    ignores the currentTime of the BootNotification answer."""
    powered_up = time.monotonic() - 7.0

    def rtc() -> str:
        return iso(time.monotonic() - powered_up)

    async with charger_connection(url, "CP-RTC-16", Charger16) as cp:
        await boot16(cp)
        for connector in (0, 1):
            await cp.call(call16.StatusNotification(connector_id=connector, error_code="NoError", status="Available",
                                                    timestamp=rtc()))
        await cp.call(call16.MeterValues(connector_id=0, meter_value=[{"timestamp": rtc(), "sampled_value": [
            {"value": "18250", "context": "Sample.Clock", "measurand": "Energy.Active.Import.Register",
             "location": "Outlet", "unit": "Wh"}]}]))


async def offline_replay(url: str) -> None:
    """Back after 40 minutes without a network: the wallbox boots and empties its queue (clock-aligned meter
    readings from while it was offline, then a transaction a driver ran offline with a card from its local
    list), then reports live."""
    async with charger_connection(url, "CP-OFFLINE-16", Charger16) as cp:
        await boot16(cp)
        for minutes in (30, 15):
            await cp.call(call16.MeterValues(connector_id=0, meter_value=[{
                "timestamp": now_iso(ahead=-minutes * MINUTE),
                "sampled_value": [{"value": "18250", "context": "Sample.Clock",
                                   "measurand": "Energy.Active.Import.Register", "location": "Outlet", "unit": "Wh"}],
            }]))
        start = await cp.call(call16.StartTransaction(connector_id=1, id_tag=ID_TAG, meter_start=18250,
                                                      timestamp=now_iso(ahead=-12 * MINUTE)))
        await cp.call(call16.MeterValues(connector_id=1, transaction_id=start.transaction_id, meter_value=[{
            "timestamp": now_iso(ahead=-8 * MINUTE),
            "sampled_value": [{"value": "18410", "context": "Sample.Periodic",
                               "measurand": "Energy.Active.Import.Register", "location": "Outlet", "unit": "Wh"}],
        }]))
        await cp.call(call16.StopTransaction(meter_stop=18575, timestamp=now_iso(ahead=-4 * MINUTE),
                                             transaction_id=start.transaction_id, id_tag=ID_TAG, reason="Local"))
        await connectors_available16(cp)


# -- the catalogue ----------------------------------------------------------------------------------------

SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    Scenario(
        "clean-ocpp16", "Clean OCPP 1.6 session with a full transaction", clean_ocpp16,
        BackendBehaviour(
            heartbeat_interval=1,
            requests_after_boot=(call16.GetConfiguration(key=["HeartbeatInterval", "MeterValueSampleInterval"]),),
        ),
    ),
    Scenario(
        "clean-ocpp201", "Clean OCPP 2.0.1 session with a transaction", clean_ocpp201,
        BackendBehaviour(
            heartbeat_interval=1,
            requests_after_boot=(
                call201.SetVariables(set_variable_data=[{
                    "attribute_value": DEMO_BASIC_PASSWORD, "component": {"name": "SecurityCtrlr"},
                    "variable": {"name": "BasicAuthPassword"},
                }]),
                call201.GetVariables(get_variable_data=[
                    {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}},
                    {"component": {"name": "SampledDataCtrlr"}, "variable": {"name": "TxUpdatedInterval"}},
                ]),
            ),
        ),
    ),
    Scenario(
        "schema-violation", "Schema violations in both directions", schema_violation,
        BackendBehaviour(tamper={"StartTransaction": _tamper_id_tag_status, "Heartbeat": _naive_current_time}),
    ),
    Scenario(
        "unknown-ids", "Answers to ids nobody sent", unknown_ids,
        BackendBehaviour(answer_twice=frozenset({"Heartbeat"}), stray_error_after=frozenset({"StatusNotification"})),
    ),
    Scenario(
        "unanswered-call", "A CALL the backend never answers", unanswered_call,
        BackendBehaviour(never_answer=frozenset({"StatusNotification"})),
        call_timeout=2.0,
    ),
    Scenario(
        "boot-loop", "Boot Pending, Rejected, retried too early, then Accepted", boot_loop,
        BackendBehaviour(boot_answers=(("Pending", 1), ("Rejected", 1), ("Rejected", 1), ("Accepted", 300))),
    ),
    Scenario(
        "missing-subprotocol", "No OCPP subprotocol offered", missing_subprotocol,
        BackendBehaviour(without_subprotocol="ocpp1.6"),
    ),
    Scenario(
        "bad-basic-auth", "Refused Basic-auth upgrades before a good one", bad_basic_auth,
        BackendBehaviour(credentials={"CP-AUTH-16": AUTH_PASSWORD}),
    ),
    Scenario("broken-frames", "Frames that are not well-formed OCPP-J", broken_frames),
    Scenario("clock-ahead", "A 2.0.1 station whose clock runs 12 minutes ahead", clock_ahead),
    Scenario("clock-never-set", "A wallbox whose clock was reset to 1970 and never set", clock_never_set),
    Scenario("offline-replay", "Back online: queued meter values and a transaction run offline", offline_replay),
    Scenario(
        "meter-values", "Meter readings, ids and boot fields that pass the schema but are wrong", meter_values,
        BackendBehaviour(requests_after_boot=(call16.TriggerMessage(requested_message="MeterValues",  # type: ignore[arg-type]
                                                                    connector_id=1),),
                         tamper={"StartTransaction": big_transaction_id}),
    ),
    Scenario(
        "vendor-data", "Vendor keys, DataTransfer, vendor status detail, a Security Whitepaper message",
        vendor_data, BackendBehaviour(requests_after_boot=(call16.GetConfiguration(),)),
    ),
    Scenario(
        "measurands-201", "A 2.0.1 station accepting measurands outside the enum; vendor detail in NotifyEvent",
        measurands_201,
        BackendBehaviour(requests_after_boot=(call201.SetVariables(set_variable_data=[{
            "attribute_value": UNKNOWN_MEASURANDS, "component": {"name": "SampledDataCtrlr"},
            "variable": {"name": "TxUpdatedMeasurands"},
        }]),)),
    ),
    Scenario(
        "message-relations", "Requests before the boot, triggers not followed, stale and self-started transactions",
        message_relations,
        BackendBehaviour(requests_after_boot=(
            call16.TriggerMessage(requested_message="StatusNotification", connector_id=1),  # type: ignore[arg-type]
            call16.TriggerMessage(requested_message="MeterValues", connector_id=1),  # type: ignore[arg-type]
            call16.RemoteStopTransaction(transaction_id=STALE_TRANSACTION),
        )),
    ),
    Scenario(
        "demo-session", "A charging session with a few faults (the demo)", demo_session,
        BackendBehaviour(
            requests_after_boot=(
                call16.ChangeConfiguration(key="AuthorizationKey", value=DEMO_AUTHORIZATION_KEY),
                call16.GetConfiguration(),
            ),
            answer_twice=frozenset({"Heartbeat"}),
        ),
    ),
)}
