"""The pure parts of a replay: scripts from captures, values mapped forward, frames renewed byte for byte."""

from __future__ import annotations

import json
from pathlib import Path

from ocppscope.proxy.capture import read_events
from ocppscope.proxy.core.events import Direction
from ocppscope.proxy.replay.plan import build_scripts
from ocppscope.proxy.replay.values import ValueMap
from ocppscope.proxy.replay.wire import renew, shift_times

CAPTURES = Path(__file__).resolve().parents[1] / "captures"


def test_charger_script_of_a_clean_session() -> None:
    [script] = build_scripts(read_events(CAPTURES / "clean-ocpp16.jsonl"), Direction.FROM_CHARGER)
    [conn] = script.connections
    assert script.charger == "CP-CLEAN-16" and conn.offered == ["ocpp1.6"] and conn.succeeded
    actions = [step.action for step in conn.steps]
    assert actions[:3] == ["BootNotification", "StatusNotification", "StatusNotification"]
    assert actions[-1] == "Heartbeat" and len(actions) == 13
    boot, first_status = conn.steps[0], conn.steps[1]
    assert boot.waits_for is None and boot.answer["status"] == "Accepted"
    # The first StatusNotification went out after the boot answer and after the backend's GetConfiguration.
    assert first_status.waits_for == 0 and first_status.peer_calls_before == 1
    assert [call.action for call in conn.peer_calls] == ["GetConfiguration"]
    [reply] = conn.replies["GetConfiguration"]
    assert reply.message_type == 3 and json.loads(reply.content)[1] == reply.message_id
    # The charger waited about one second (its heartbeat interval) before the Heartbeat.
    assert 0.9 < conn.steps[-1].think < 1.5
    assert conn.ending is not None and conn.ending.closed_by == "charger" and conn.ending.code == 1000


def test_refused_handshakes_are_in_the_script_but_not_playable() -> None:
    [script] = build_scripts(read_events(CAPTURES / "bad-basic-auth.jsonl"), Direction.FROM_CHARGER)
    assert [conn.opened.status for conn in script.connections] == [401, 401, 401, 101]
    assert [conn.succeeded for conn in script.connections] == [False, False, False, True]
    assert script.connections[-1].auth is not None and script.connections[-1].auth.user == "CP-AUTH-16"


def test_backend_script_holds_the_backend_calls_and_answers() -> None:
    [script] = build_scripts(read_events(CAPTURES / "clean-ocpp16.jsonl"), Direction.FROM_BACKEND)
    [conn] = script.connections
    assert [step.action for step in conn.steps] == ["GetConfiguration"]
    assert conn.steps[0].peer_calls_before == 1  # after the BootNotification
    assert set(conn.replies) == {"BootNotification", "StatusNotification", "Authorize", "StartTransaction",
                                 "MeterValues", "StopTransaction", "Heartbeat"}


def test_value_map_learns_and_applies() -> None:
    values = ValueMap()
    values.learn({"transactionId": 1, "idTagInfo": {"status": "Accepted"}},
                 {"transactionId": 42, "idTagInfo": {"status": "Accepted"}}, "StartTransaction")
    values.learn({"id": 7, "evseId": 1}, {"id": 99, "evseId": 1}, "ReserveNow")
    assert values.apply({"transactionId": 1, "meterValue": [{"transactionId": 1}]}) == {
        "transactionId": 42, "meterValue": [{"transactionId": 42}]}
    assert values.apply({"reservationId": 7}) == {"reservationId": 99}
    untouched = {"transactionId": "1", "connectorId": 1}  # another type: another id
    assert values.apply(untouched) is untouched


def test_renew_keeps_the_recorded_bytes_but_the_id() -> None:
    pretty = b'[\n  2,\n  "old-id",\n  "Heartbeat",\n  {}\n]'
    content, is_text = renew(pretty, True, 2, "old-id", "new-id", "Heartbeat", {}, ValueMap())
    assert content == pretty.replace(b"old-id", b"new-id") and is_text
    binary, is_text = renew(b'[2,"x","Heartbeat",{}]', False, 2, "x", "y", "Heartbeat", {}, ValueMap())
    assert binary == b'[2,"y","Heartbeat",{}]' and not is_text


def test_renew_rewrites_the_frame_when_a_value_maps() -> None:
    values = ValueMap()
    values.learn({"transactionId": 1}, {"transactionId": 5})
    content, _ = renew(b'[2, "a", "StopTransaction", {"transactionId": 1, "meterStop": 10}]', True, 2, "a", "b",
                       "StopTransaction", {"transactionId": 1, "meterStop": 10}, values)
    assert json.loads(content) == [2, "b", "StopTransaction", {"transactionId": 5, "meterStop": 10}]


def test_shift_times_keeps_the_format() -> None:
    frame = b'{"a":"2024-01-01T23:59:59.5Z","b":"2024-02-28T12:00:00+01:00","c":"2024-13-01T00:00:00Z"}'
    assert shift_times(frame, 86400.25) == (
        b'{"a":"2024-01-02T23:59:59.7Z","b":"2024-02-29T12:00:00+01:00","c":"2024-13-01T00:00:00Z"}')
