"""Where a profile finding's facts come from: the model's profile, the charger's own report, or the boot.

A limit the charger reported is the charger's; the specification-only profile knows nothing of a model, so a
refused TriggerMessage contradicts nothing; and the profile chosen for a connection is said once it is known
(at the BootNotification, or at the end of a connection that never sent one), never as a stale guess.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from ocppscope.proxy.core.events import ConnectionOpened
from ocppscope.proxy.core.findings import Severity
from ocppscope.tui.app import OcppscopeApp
from ocppscope.tui.session import ReplaySession

from tests.test_profile_support import boot, call, checker, only, reported, rules_of, run, send
from tests.traffic import Wire, analyze
from tests.tui_support import session_events, write_capture


@pytest.mark.parametrize("answer", [{"status": "NotImplemented"}, {"status": "Rejected"}])
def test_a_refused_trigger_under_the_generic_profile_is_info_at_most(answer: dict[str, str]) -> None:
    found = run("ocpp16-generic", lambda w: call(w, "TriggerMessage", {"requestedMessage": "MeterValues",
                                                                        "connectorId": 1}, answer))
    assert [f for f in found if f.rule.startswith(("profile.", "limit.")) and f.severity > Severity.INFO] == []
    as_error = run("ocpp16-generic", lambda w: call(w, "TriggerMessage", {"requestedMessage": "Heartbeat"},
                                                    error="NotImplemented"))
    assert rules_of(as_error) == []


def test_a_model_profile_still_disagrees_with_the_firmware() -> None:
    found = run("ac-wallbox", lambda w: call(w, "TriggerMessage", {"requestedMessage": "Heartbeat"},
                                             {"status": "NotImplemented"}))
    [disagrees] = only(found, "profile.firmware-disagrees")
    assert disagrees.severity is Severity.WARNING and "ac-wallbox says the model supports it" in disagrees.message


def test_a_limit_the_charger_reported_is_named_as_the_chargers() -> None:
    def script(w: Wire) -> None:
        reported(w, {"GetConfigurationMaxKeys": "2", "ChargeProfileMaxStackLevel": "3"},
                 readonly={"GetConfigurationMaxKeys": True, "ChargeProfileMaxStackLevel": True})
        call(w, "GetConfiguration", {"key": ["HeartbeatInterval", "MeterValueSampleInterval", "NumberOfConnectors"]})
        call(w, "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": {
            "chargingProfileId": 1, "stackLevel": 4, "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Absolute", "chargingSchedule": {
                "chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}]}}})

    found = run("ocpp16-generic", script)
    [keys] = only(found, "config.get-too-many-keys")
    assert "the charger answers at most 2 per request" in keys.message
    assert "the charger's GetConfigurationMaxKeys, from its GetConfiguration answer" in keys.message
    assert "ocpp16-generic" not in keys.message
    assert keys.evidence["limit_source"] == "charger" and keys.evidence["limit_key"] == "GetConfigurationMaxKeys"
    [stack] = only(found, "limit.stack-level")
    assert "the charger's ChargeProfileMaxStackLevel, from its GetConfiguration answer" in stack.message
    assert stack.evidence["limit_source"] == "charger"


def test_a_limit_from_the_profile_is_named_as_the_profiles() -> None:
    found = run("ac-wallbox", lambda w: call(w, "GetConfiguration", {"key": [f"Key{i}" for i in range(11)]}))
    [keys] = only(found, "config.get-too-many-keys")
    assert "(GetConfigurationMaxKeys of profile ac-wallbox)" in keys.message
    assert keys.evidence["limit_source"] == "profile"


def test_the_profile_is_said_at_the_boot_not_guessed_at_the_open() -> None:
    wire = Wire()
    boot_seq = wire.seq + 1
    boot(wire, vendor="Acme", model="AC22-Wallbox", serial="AC22-000123")
    found = analyze(wire.events, [checker()])
    [selected] = only(found, "profile.selected")
    assert selected.seq == boot_seq and selected.evidence["how"] == "default"
    assert ("its BootNotification (vendor 'Acme', model 'AC22-Wallbox', serial 'AC22-000123') matches no "
            "profile's vendor, model or serial patterns") in selected.message
    assert "yet" not in selected.message


def test_a_connection_without_a_boot_is_told_at_its_end() -> None:
    closed = Wire(conn_id="closed")
    send(closed, "Heartbeat", {}, {"currentTime": "2024-01-01T00:00:00Z"})
    closed.close()
    still_open = Wire(conn_id="open", t0=closed.time + 5)
    send(still_open, "Heartbeat", {}, {"currentTime": "2024-01-01T00:00:00Z"})
    found = analyze(closed.events + still_open.events, [checker()])
    selected = only(found, "profile.selected")
    assert [(f.conn_id, f.seq) for f in selected] == [("closed", None), ("open", None)]
    assert all("no BootNotification on this connection" in f.message for f in selected)


def test_a_mapping_is_said_at_the_open() -> None:
    wire = Wire()
    boot(wire, vendor="Acme", model="AC22-Wallbox")
    found = analyze(wire.events, [checker("CP01=ac-wallbox")])
    [selected] = only(found, "profile.selected")
    opened = next(e for e in wire.events if isinstance(e, ConnectionOpened))
    assert selected.seq == opened.seq and selected.evidence["how"] == "explicit"


@pytest.mark.timeout(60)
async def test_next_finding_in_the_tui_skips_no_stale_profile_guess(tmp_path: Path) -> None:
    capture = write_capture(tmp_path / "session.jsonl", session_events())
    app = OcppscopeApp(ReplaySession([str(capture)]))
    async with app.run_test(size=(100, 30)) as pilot:
        session = app.session
        assert isinstance(session, ReplaySession)
        for _ in range(200):
            if session.loader.done and app.frame_view.rows.limit == app.index.count > 0:
                break
            await pilot.pause(0.05)
        session.playback.seek_row(app.index.count - 1)
        await pilot.pause(0.1)
        opened = [f.rule for f in app.index.findings_of(0)]
        assert "profile.selected" not in opened
        boot_row = 1
        assert "profile.selected" in [f.rule for f in app.index.findings_of(boot_row)]
        app.frame_view.go_to_row(0)
        rows = []
        for _ in range(3):
            await pilot.press("n")
            await pilot.pause(0.05)
            rows.append(app.frame_view.cursor_row)
        assert boot_row in rows
        assert all("no BootNotification yet" not in f.message for row in rows if row is not None
                   for f in app.index.findings_of(row))
