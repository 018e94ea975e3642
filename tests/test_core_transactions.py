"""Transaction rules: references to transactions no start in view created, starts the charger authorized
itself, idTags that are not a driver's token. 1.6 and 2.x.

Each rule has a stream that triggers it and legal variants that must not: a full session (any string id up
to 36 characters, pretty-printed JSON, optional fields absent), transactionId -1 (errata 3.18), a capture
begun mid-session, an imported log, a transaction that continues on the charger's next connection.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from ocppscope.proxy.core.checks.transactions import not_a_user_token
from ocppscope.proxy.core.events import ConnectionOpened
from ocppscope.proxy.core.findings import Severity

from tests.traffic import T0, Wire, analyze, hits

UNKNOWN, LOCAL, PLACEHOLDER = "transaction.unknown-id", "transaction.local-start", "transaction.placeholder-id-tag"
CARD = "04A2C3B91F6E80"
LONG_ID = "0123456789abcdef0123456789abcdef-036"  # 36 characters


def iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def call(wire: Wire, action: str, payload: dict[str, Any], answer: dict[str, Any] | None = None, *,
         msg_id: str | None = None, pretty: bool = False, after: float = 1.0) -> int:
    """The charger sends ``action`` and the backend answers ``answer``; returns the CALL's seq."""
    msg_id = msg_id or f"m{wire.seq + 1}"
    seq = wire.cp(json.dumps([2, msg_id, action, payload], indent=2 if pretty else None), after=after)
    wire.cs(json.dumps([3, msg_id, answer or {}]))
    return seq


def backend_call(wire: Wire, action: str, payload: dict[str, Any], answer: dict[str, Any], msg_id: str = "r1") -> int:
    seq = wire.cs(json.dumps([2, msg_id, action, payload]))
    wire.cp(json.dumps([3, msg_id, answer]), after=0.3)
    return seq


def authorize(wire: Wire, tag: str = CARD) -> int:
    return call(wire, "Authorize", {"idTag": tag}, {"idTagInfo": {"status": "Accepted"}})


def start(wire: Wire, tx: int, tag: str = CARD, **kw: Any) -> int:
    return call(wire, "StartTransaction", {"connectorId": 1, "idTag": tag, "meterStart": 1000,
                                           "timestamp": iso(wire.time + 1)},
                {"idTagInfo": {"status": "Accepted"}, "transactionId": tx}, **kw)


def meter(wire: Wire, tx: int | None, **kw: Any) -> int:
    payload: dict[str, Any] = {"connectorId": 1, "meterValue": [
        {"timestamp": iso(wire.time + 1), "sampledValue": [{"value": "1200"}]}]}
    if tx is not None:
        payload["transactionId"] = tx
    return call(wire, "MeterValues", payload, **kw)


def stop(wire: Wire, tx: int, stamped: float | None = None, **fields: Any) -> int:
    payload = {"meterStop": 1500, "timestamp": iso(stamped if stamped is not None else wire.time + 1),
               "transactionId": tx, **fields}
    return call(wire, "StopTransaction", payload, {"idTagInfo": {"status": "Accepted"}} if "idTag" in fields else {})


def mid_capture(subprotocol: str = "ocpp1.6") -> Wire:
    """A capture begun while the connection was already up: no handshake in view."""
    return Wire(opened=False)


def imported_log(charger: str = "CP01") -> Wire:
    wire = Wire(opened=False)
    wire.events.append(ConnectionOpened("c1", T0, "", f"/ocpp/{charger}", subprotocol="ocpp1.6", synthetic=True))
    return wire


def found(wire: Wire, rule: str) -> list[tuple[int | None, Severity]]:
    return [(f.seq, f.severity) for f in hits(analyze(wire.events), rule)]


# -- references to unknown transactions, 1.6 -------------------------------------------------------------------

def test_stop_of_a_transaction_nobody_started_after_a_boot_in_view_is_a_warning() -> None:
    wire = Wire()
    wire.boot()
    seq = stop(wire, 4711)
    findings = hits(analyze(wire.events), UNKNOWN)
    assert [(f.seq, f.severity) for f in findings] == [(seq, Severity.WARNING)]
    assert "4711" in findings[0].message and "booted on this connection in view (#2)" in findings[0].message
    assert findings[0].evidence["boot_seq"] == 2


def test_meter_values_of_an_unknown_transaction_after_a_boot_reported_once() -> None:
    wire = Wire()
    wire.boot()
    first = meter(wire, 77)
    meter(wire, 77)
    stop(wire, 77)
    assert found(wire, UNKNOWN) == [(first, Severity.WARNING)]


def test_capture_begun_mid_session_is_info() -> None:
    wire = mid_capture()
    seq = meter(wire, 4711)
    stop(wire, 4711)
    findings = hits(analyze(wire.events), UNKNOWN)
    assert [(f.seq, f.severity) for f in findings] == [(seq, Severity.INFO)]
    assert "the capture began mid-connection" in findings[0].message


def test_imported_log_is_info_even_with_a_boot() -> None:
    wire = imported_log()
    wire.boot()
    seq = stop(wire, 4711)
    findings = hits(analyze(wire.events), UNKNOWN)
    assert [(f.seq, f.severity) for f in findings] == [(seq, Severity.INFO)]
    assert "log" in findings[0].message


def test_reconnect_without_boot_is_info() -> None:
    wire = Wire()
    seq = meter(wire, 12)
    findings = hits(analyze(wire.events), UNKNOWN)
    assert [(f.seq, f.severity) for f in findings] == [(seq, Severity.INFO)]
    assert "reconnected without booting" in findings[0].message


def test_stop_after_a_restart_or_stamped_before_the_boot_is_info() -> None:
    wire = Wire()
    wire.boot()
    seq = stop(wire, 4711, reason="PowerLoss")
    assert found(wire, UNKNOWN) == [(seq, Severity.INFO)]
    wire = Wire()
    wire.boot()
    seq = stop(wire, 4712, stamped=T0 - 3600, reason="Local")
    findings = hits(analyze(wire.events), UNKNOWN)
    assert [(f.seq, f.severity) for f in findings] == [(seq, Severity.INFO)]
    assert "before the charger's BootNotification" in findings[0].message


def test_transaction_id_minus_one_is_not_an_unknown_transaction() -> None:
    wire = Wire()
    wire.boot()
    meter(wire, -1)
    stop(wire, -1)
    findings = analyze(wire.events)
    assert hits(findings, UNKNOWN) == []
    assert {f.severity for f in hits(findings, "value.sentinel-id")} == {Severity.INFO}


def test_a_full_session_is_clean_whatever_the_ids_and_layout() -> None:
    wire = Wire()
    wire.boot(msg_id=LONG_ID)
    authorize(wire, CARD.lower())  # idTag is a CiString: case does not matter
    start(wire, 1, msg_id="x" * 36, pretty=True)
    meter(wire, 1, pretty=True)
    meter(wire, None)  # a connector's meter values outside any transaction
    stop(wire, 1)  # idTag and reason are optional
    assert [f.rule for f in analyze(wire.events)] == ["frame.multiline", "frame.multiline"]  # info, the layout


def test_a_transaction_continues_on_the_next_connection() -> None:
    first = Wire(conn_id="c1")
    first.boot()
    authorize(first)
    start(first, 5)
    first.close()
    second = Wire(conn_id="c2", t0=first.time + 5)
    meter(second, 5)
    stop(second, 5)
    assert hits(analyze(first.events + second.events), UNKNOWN) == []


def test_remote_stop_of_a_transaction_the_charger_does_not_know() -> None:
    wire = Wire()
    wire.boot()
    seq = backend_call(wire, "RemoteStopTransaction", {"transactionId": 999}, {"status": "Rejected"})
    findings = hits(analyze(wire.events), UNKNOWN)
    assert [(f.seq, f.severity) for f in findings] == [(seq, Severity.WARNING)]
    assert findings[0].action == "RemoteStopTransaction" and "answered Rejected" in findings[0].message
    # mid-session the same is info; a stop the charger accepts was of a transaction it knows
    wire = mid_capture()
    seq = backend_call(wire, "RemoteStopTransaction", {"transactionId": 999}, {"status": "Rejected"})
    assert found(wire, UNKNOWN) == [(seq, Severity.INFO)]
    wire = Wire()
    wire.boot()
    backend_call(wire, "RemoteStopTransaction", {"transactionId": 998}, {"status": "Accepted"})
    stop(wire, 998)
    assert found(wire, UNKNOWN) == []


# -- references, 2.x ------------------------------------------------------------------------------------------

BOOT_201 = '{"reason":"PowerUp","chargingStation":{"model":"DC50","vendorName":"Acme"}}'


def boot201(wire: Wire) -> None:
    call(wire, "BootNotification", json.loads(BOOT_201),
         {"currentTime": iso(wire.time), "interval": 300, "status": "Accepted"}, msg_id="boot")


def event(wire: Wire, event_type: str, tx: str, trigger: str = "MeterValuePeriodic", seq_no: int = 0,
          pretty: bool = False, **extra: Any) -> int:
    info = {"transactionId": tx, **extra.pop("info", {})}
    payload = {"eventType": event_type, "timestamp": iso(wire.time + 1), "triggerReason": trigger,
               "seqNo": seq_no, "transactionInfo": info, **extra}
    return call(wire, "TransactionEvent", payload, pretty=pretty)


def wire201(opened: bool = True) -> Wire:
    return Wire(subprotocol="ocpp2.0.1", opened=opened)


def test_201_update_of_a_transaction_nobody_started_after_a_boot() -> None:
    wire = wire201()
    boot201(wire)
    seq = event(wire, "Updated", "TX-9")
    event(wire, "Ended", "TX-9", info={"stoppedReason": "Local"}, seq_no=1)
    findings = hits(analyze(wire.events), UNKNOWN)
    assert [(f.seq, f.severity) for f in findings] == [(seq, Severity.WARNING)]
    assert "TransactionEvent Started" in findings[0].message


def test_201_mid_session_resumed_and_full_transactions() -> None:
    wire = wire201(opened=False)
    seq = event(wire, "Ended", "TX-1", info={"stoppedReason": "EVDisconnected"})
    assert found(wire, UNKNOWN) == [(seq, Severity.INFO)]
    wire = wire201()
    boot201(wire)
    seq = event(wire, "Ended", "TX-2", info={"stoppedReason": "PowerLoss"})
    assert found(wire, UNKNOWN) == [(seq, Severity.INFO)]
    wire = wire201()
    boot201(wire)
    tx = "c0a8f7e2-5b1d-4c3a-9e8f-7d6c5b4a3921"  # a UUID: 36 characters
    event(wire, "Started", tx, trigger="CablePluggedIn", evse={"id": 1, "connectorId": 1})
    event(wire, "Updated", tx, seq_no=1, pretty=True)
    event(wire, "Ended", tx, trigger="EVCommunicationLost", seq_no=2, info={"stoppedReason": "EVDisconnected"})
    assert found(wire, UNKNOWN) == []


def test_201_request_stop_rejected() -> None:
    wire = wire201()
    boot201(wire)
    seq = backend_call(wire, "RequestStopTransaction", {"transactionId": "TX-404"}, {"status": "Rejected"})
    findings = hits(analyze(wire.events), UNKNOWN)
    assert [(f.seq, f.severity) for f in findings] == [(seq, Severity.WARNING)]
    assert "TransactionEvent Started" in findings[0].message


# -- transactions the charger starts itself -------------------------------------------------------------------

def test_start_without_authorize_is_a_local_start() -> None:
    wire = Wire()
    wire.boot()
    seq = start(wire, 1)
    findings = hits(analyze(wire.events), LOCAL)
    assert [(f.seq, f.severity) for f in findings] == [(seq, Severity.INFO)]
    assert CARD in findings[0].message and "must accept" in findings[0].message
    wire = mid_capture()
    start(wire, 1)
    assert "may be out of view" in hits(analyze(wire.events), LOCAL)[0].message


def test_local_starts_are_reported_once_per_charger_and_tag() -> None:
    wire = Wire()
    wire.boot()
    first = start(wire, 1)
    stop(wire, 1)
    start(wire, 2)
    other = start(wire, 3, tag="04FFEE0011")
    assert [s for s, _ in found(wire, LOCAL)] == [first, other]


def test_start_after_authorize_remote_start_or_reservation_is_not_local() -> None:
    wire = Wire()
    wire.boot()
    authorize(wire)
    start(wire, 1)
    backend_call(wire, "RemoteStartTransaction", {"idTag": "REMOTE-77"}, {"status": "Accepted"})
    start(wire, 2, tag="REMOTE-77")
    backend_call(wire, "ReserveNow", {"connectorId": 1, "expiryDate": iso(wire.time + 900), "idTag": "RES-1",
                                      "reservationId": 3}, {"status": "Accepted"}, msg_id="r2")
    start(wire, 3, tag="RES-1")
    assert hits(analyze(wire.events), LOCAL) == []


def test_an_authorize_long_before_does_not_count() -> None:
    wire = Wire()
    wire.boot()
    authorize(wire)
    seq = start(wire, 1, after=3600)
    assert [s for s, _ in found(wire, LOCAL)] == [seq]


def test_201_local_starts() -> None:
    token = {"idToken": CARD, "type": "ISO14443"}
    wire = wire201()
    boot201(wire)
    event(wire, "Started", "A", trigger="CablePluggedIn", info={"chargingState": "EVConnected"})
    seq = event(wire, "Updated", "A", trigger="Authorized", seq_no=1, idToken=token,
                info={"chargingState": "Charging"})
    seq_free = event(wire, "Started", "B", trigger="CablePluggedIn",
                     idToken={"idToken": "", "type": "NoAuthorization"})
    event(wire, "Started", "C", trigger="CablePluggedIn", info={"chargingState": "Charging"})
    seq_none = event(wire, "Ended", "C", trigger="EVDeparted", seq_no=1, info={"stoppedReason": "EVDisconnected"})
    findings = hits(analyze(wire.events), LOCAL)
    assert [(f.seq, f.severity) for f in findings] == [(seq, Severity.INFO), (seq_free, Severity.INFO),
                                                       (seq_none, Severity.INFO)]
    assert "NoAuthorization" in findings[1].message and "without any idToken" in findings[2].message


def test_201_authorized_remote_and_never_charged_are_not_local() -> None:
    token = {"idToken": CARD, "type": "ISO14443"}
    wire = wire201()
    boot201(wire)
    call(wire, "Authorize", {"idToken": token}, {"idTokenInfo": {"status": "Accepted"}})
    event(wire, "Started", "A", trigger="Authorized", idToken=token)
    event(wire, "Started", "B", trigger="RemoteStart", idToken={"idToken": "APP-1", "type": "Central"},
          info={"remoteStartId": 7})
    event(wire, "Started", "C", trigger="CablePluggedIn", info={"chargingState": "EVConnected"})
    event(wire, "Ended", "C", trigger="EVConnectTimeout", seq_no=1, info={"stoppedReason": "Timeout"})
    event(wire, "Updated", "MID", trigger="Authorized", idToken={"idToken": "OTHER", "type": "ISO14443"})
    assert hits(analyze(wire.events), LOCAL) == []


# -- idTags that are not a driver's token ---------------------------------------------------------------------

def test_placeholder_tags() -> None:
    wire = Wire()
    wire.boot()
    seq = start(wire, 1, tag="FreeCharging")
    stop(wire, 1, idTag="FreeCharging")  # the same tag again: said once
    seq_own = start(wire, 2, tag="cp01")  # the charger's identity, CP01
    seq_zero = authorize(wire, "00000000")
    remote = backend_call(wire, "RemoteStartTransaction", {"idTag": "autostart"}, {"status": "Accepted"})
    findings = analyze(wire.events)
    placeholders = hits(findings, PLACEHOLDER)
    assert [(f.seq, f.severity) for f in placeholders] == [(seq, Severity.INFO), (seq_own, Severity.INFO),
                                                           (seq_zero, Severity.INFO), (remote, Severity.INFO)]
    assert "identity" in placeholders[1].message and "backend" in placeholders[3].message
    assert hits(findings, LOCAL) == []  # the placeholder says it


def test_tag_that_is_the_serial_number() -> None:
    wire = Wire()
    call(wire, "BootNotification", {"chargePointVendor": "Acme", "chargePointModel": "AC22",
                                    "chargePointSerialNumber": "AC22-000123"},
         {"status": "Accepted", "currentTime": iso(wire.time), "interval": 300})
    seq = start(wire, 1, tag="AC22-000123")
    assert [s for s, _ in found(wire, PLACEHOLDER)] == [seq]


def test_real_tokens_are_not_placeholders() -> None:
    for tag in (CARD, "DE*ABC*C123456*7", "12A4", "TAG1", "a1b2c3d4", "99887766", "ABCDEF0123456789"):
        assert not_a_user_token(tag, {}) is None, tag
    for tag in ("FREE", "Free-Vend", "0000", "FFFFFFFF", "123456", "none"):
        assert not_a_user_token(tag, {}) is not None, tag
