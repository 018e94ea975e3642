"""The Zaptec profile (Zaptec Cloud and OCPP Integration): partial OCPP 1.6, empty default idTag, no charger ping
by default."""

from __future__ import annotations

from tests.test_profile_support import boot, call, change, only, rules_of, run, send
from tests.traffic import Wire

PROFILE = "zaptec"


def test_empty_default_id_tag_in_start_transaction() -> None:
    def start(w: Wire) -> None:
        send(w, "StartTransaction", {"connectorId": 1, "idTag": "", "meterStart": 0,
                                     "timestamp": "2024-01-01T00:00:00Z"},
             {"transactionId": 1, "idTagInfo": {"status": "Accepted"}})

    found = run(PROFILE, start)
    assert rules_of(found) == ["profile.caveat"]
    assert str(found[-1].severity) == "warning" and "Default id tag" in found[-1].message
    named = run(PROFILE, lambda w: send(w, "StartTransaction", {"connectorId": 1, "idTag": "RFID1", "meterStart": 0,
                                                                "timestamp": "2024-01-01T00:00:00Z"}))
    assert rules_of(named) == []


def test_charger_ping_off_by_default() -> None:
    found = run(PROFILE, lambda w: change(w, "WebSocketPingInterval", "0"))
    assert [(f.rule, str(f.severity)) for f in found if f.rule != "profile.selected"] == \
        [("config.value-note", "warning")]
    assert rules_of(run(PROFILE, lambda w: change(w, "WebSocketPingInterval", "30"))) == []


def _idle_drop(w: Wire, ping_interval: str | None = None, pings: bool = False) -> None:
    send(w, "Heartbeat", {}, {"currentTime": "2024-01-01T00:00:00Z"})
    if ping_interval is not None:
        change(w, "WebSocketPingInterval", ping_interval)
    if pings:
        from ocppscope.proxy.core.events import Direction, Ping

        w.events.append(Ping(w.conn_id, w.time + 30, Direction.FROM_BACKEND, seq=w.seq + 1))
        w.seq += 1
    w.close(code=1006, after=600, closed_by="unknown")


def test_idle_drop_without_any_ping() -> None:
    found = run(PROFILE, _idle_drop)
    assert rules_of(found) == ["profile.no-keepalive"]
    assert rules_of(run(PROFILE, lambda w: _idle_drop(w, pings=True))) == []
    assert rules_of(run(PROFILE, lambda w: _idle_drop(w, ping_interval="30"))) == []
    assert rules_of(run("ac-wallbox", _idle_drop)) == []  # pings every 60 s by default


def test_authorization_key_replaces_the_installation_password() -> None:
    key = "0123456789ABCDEF0123456789ABCDEF01234567"
    found = run(PROFILE, lambda w: change(w, "AuthorizationKey", key))
    assert rules_of(found) == ["config.value-note"] and "initial device password" in found[-1].message
    assert key not in found[-1].message
    not_hex = run(PROFILE, lambda w: change(w, "AuthorizationKey", "plain password"))
    assert rules_of(not_hex) == ["config.bad-format", "config.value-note"]


def test_partial_ocpp_messages() -> None:
    found = run(PROFILE, lambda w: call(w, "ReserveNow", {"connectorId": 1, "expiryDate": "2024-01-01T00:00:00Z",
                                                          "idTag": "A", "reservationId": 1}))
    assert rules_of(found) == ["profile.action-undocumented"]
    assert rules_of(run(PROFILE, lambda w: call(w, "RemoteStartTransaction", {"idTag": "A"},
                                                {"status": "Accepted"}))) == []
    unlock = run(PROFILE, lambda w: call(w, "UnlockConnector", {"connectorId": 1}, {"status": "NotSupported"}))
    assert rules_of(unlock) == ["profile.caveat"]
    firmware = run(PROFILE, lambda w: call(w, "UpdateFirmware", {"location": "https://x/fw.bin",
                                                                 "retrieveDate": "2024-01-01T00:00:00Z"}))
    assert rules_of(firmware) == ["profile.caveat"] and "ignored" in firmware[-1].message


def test_measurands() -> None:
    def meter(w: Wire) -> None:
        send(w, "MeterValues", {"connectorId": 1, "meterValue": [{"timestamp": "2024-01-01T00:00:00Z", "sampledValue": [
            {"value": "16", "measurand": "Current.Import", "phase": "L1-N"},
            {"value": "230", "measurand": "Voltage", "phase": "L1-N"}]}]}, {})

    found = run(PROFILE, meter)
    assert rules_of(found) == ["profile.measurand-unsupported"] and "Voltage" in found[-1].message
    assert rules_of(run(PROFILE, lambda w: change(w, "MeterValuesSampledData", "Current.Import.L1-N,Power.Offered"))) \
        == []
    assert rules_of(run(PROFILE, lambda w: change(w, "MeterValuesSampledData", "Voltage", status=None))) == \
        ["config.csl-item"]


def test_detected_from_boot_notification() -> None:
    found = run(None, lambda w: boot(w, vendor="Zaptec", model="Go", serial="ZCS000143"), charger="ZCS000143")
    selected = only(found, "profile.selected")
    assert [f.evidence["profile"] for f in selected] == ["zaptec"]
    assert selected[-1].evidence["how"] == "detected"
