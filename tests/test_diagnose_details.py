"""Diagnosis details on hand-made event streams: settings the traffic reveals, pings against idle timeouts,
what a clock jump is and is not, and the JSON a TUI panel reads. (Each cause is shown with real peers in
test_diagnose_causes.py.)"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from ocppscope.proxy.core.events import ConnectionClosed, ConnectionOpened, Direction, Event, Message, Ping
from ocppscope.proxy.diagnose import DiagnoseOptions, diagnose
from ocppscope.proxy.diagnose.clock import ClockWatch
from ocppscope.proxy.diagnose.settings import revealed

T0 = 1_700_000_000.0


class Stream:
    """Events of one charger, numbered as a capture numbers them."""

    def __init__(self, charger: str = "CP01") -> None:
        self.charger = charger
        self.events: list[Event] = []
        self.ids = 0

    def _seq(self) -> int:
        return len(self.events) + 1

    def open(self, conn: str, at: float) -> None:
        self.events.append(ConnectionOpened(conn, T0 + at, "10.0.0.7:5000", f"/ocpp/{self.charger}",
                                            (("Sec-WebSocket-Protocol", "ocpp1.6"),), subprotocol="ocpp1.6",
                                            seq=self._seq()))

    def exchange(self, conn: str, at: float, action: str, payload: dict, answer: dict,
                 sender: Direction = Direction.FROM_CHARGER) -> None:
        self.ids += 1
        self.events.append(Message(conn, T0 + at, sender, json.dumps([2, str(self.ids), action, payload]).encode(),
                                   seq=self._seq()))
        self.events.append(Message(conn, T0 + at + 0.01, sender.reverse,
                                   json.dumps([3, str(self.ids), answer]).encode(), seq=self._seq()))

    def boot(self, conn: str, at: float, interval: int) -> None:
        self.exchange(conn, at, "BootNotification", {"chargePointVendor": "A", "chargePointModel": "B"},
                      {"status": "Accepted", "currentTime": "2023-11-14T22:13:20Z", "interval": interval})

    def ping(self, conn: str, at: float) -> None:
        self.events.append(Ping(conn, T0 + at, Direction.FROM_CHARGER, seq=self._seq()))

    def close(self, conn: str, at: float, code: int = 1006, by: str = "backend") -> None:
        self.events.append(ConnectionClosed(conn, T0 + at, code, "", by, seq=self._seq()))  # type: ignore[arg-type]


def test_settings_from_every_source() -> None:
    assert revealed("BootNotification", {}, {"status": "Accepted", "interval": 300}) == {"HeartbeatInterval": 300}
    assert revealed("BootNotification", {}, {"status": "Pending", "interval": 30}) == {}
    assert revealed("ChangeConfiguration", {"key": "WebSocketPingInterval", "value": "50"},
                    {"status": "Accepted"}) == {"WebSocketPingInterval": 50}
    assert revealed("ChangeConfiguration", {"key": "WebSocketPingInterval", "value": "50"},
                    {"status": "Rejected"}) == {}
    assert revealed("GetConfiguration", {}, {"configurationKey": [
        {"key": "HeartbeatInterval", "readonly": False, "value": "600"}, {"key": "Other", "value": "1"}]}) == {
        "HeartbeatInterval": 600}
    variable = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "WebSocketPingInterval"}}
    assert revealed("SetVariables", {"setVariableData": [{**variable, "attributeValue": "30"}]},
                    {"setVariableResult": [{**variable, "attributeStatus": "Accepted"}]}) == {
        "WebSocketPingInterval": 30}
    other = {"component": {"name": "SomethingElse"}, "variable": {"name": "HeartbeatInterval"}}
    assert revealed("GetVariables", {}, {"getVariableResult": [
        {**other, "attributeStatus": "Accepted", "attributeValue": "5"}]}) == {}


def idle_drops(pings: bool) -> Stream:
    """Heartbeat interval 300 s, ping interval 60 s configured; three drops after 90 s of OCPP silence."""
    stream = Stream()
    for number, start in enumerate((0.0, 200.0, 400.0)):
        conn = f"c{number}"
        stream.open(conn, start)
        if number == 0:
            stream.boot(conn, start + 0.1, 300)
            stream.exchange(conn, start + 1, "ChangeConfiguration",
                            {"key": "WebSocketPingInterval", "value": "60"}, {"status": "Accepted"},
                            Direction.FROM_BACKEND)
        else:
            stream.exchange(conn, start + 1, "Heartbeat", {}, {"currentTime": "2023-11-14T22:13:20Z"})
        if pings:
            stream.ping(conn, start + 60)
        stream.close(conn, start + 91.02)
    return stream


def test_idle_timeout_below_the_heartbeat_interval_without_pings() -> None:
    diagnosis = diagnose(idle_drops(pings=False).events)
    [charger] = diagnosis.chargers
    cause = charger.causes[0]
    assert cause.kind == "idle-timeout" and round(cause.facts["idle"]) == 90
    assert cause.facts == {"idle": cause.facts["idle"], "closes": 3, "heartbeat_interval": 300, "ping_interval": 60}
    assert "shorter than the HeartbeatInterval (300 s)" in cause.explanation
    assert "WebSocketPingInterval is 60 s, yet no ping was seen" in cause.explanation
    assert "1006" in cause.explanation
    assert cause.change[0].startswith("Set WebSocketPingInterval") and "45 s" in cause.change[0]
    assert charger.settings["WebSocketPingInterval"]["source"] == "ChangeConfiguration"


def test_pings_during_the_silence_point_at_an_application_deadline() -> None:
    cause = diagnose(idle_drops(pings=True).events).chargers[0].causes[0]
    assert cause.kind == "idle-timeout"
    assert "not a TCP idle timeout" in cause.explanation


def test_one_long_silent_drop_is_a_weak_idle_timeout() -> None:
    stream = Stream()
    stream.open("c0", 0)
    stream.boot("c0", 0.1, 300)
    stream.close("c0", 120)
    [cause, *_] = diagnose(stream.events).chargers[0].causes
    assert cause.kind == "idle-timeout" and cause.score < 50


def test_clock_watch_ignores_a_message_sent_late_from_a_queue() -> None:
    clock = ClockWatch(60)
    for n, offset in enumerate((0, 1, -3600, 0, 2)):  # one queued message from an hour ago
        clock.sample(n, "c", T0 + n, T0 + n + offset)
    clock.finish()
    assert clock.jumps == []
    clock = ClockWatch(60)
    for n, offset in enumerate((0, 1, 3600, 3601, 3600)):
        clock.sample(n, "c", T0 + n, T0 + n + offset)
    assert [(j.seq, round(j.size)) for j in clock.jumps] == [(2, 3599)]


def test_clock_set_from_the_backend_is_only_a_small_note() -> None:
    stream = Stream()
    stream.open("c0", 0)
    wrong = "2020-01-01T00:00:00Z"
    stream.exchange("c0", 1, "StatusNotification",
                    {"connectorId": 0, "errorCode": "NoError", "status": "Available", "timestamp": wrong}, {})
    stream.boot("c0", 2, 300)
    for n in range(2):
        now = datetime.fromtimestamp(T0 + 3 + n, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        stream.exchange("c0", 3 + n, "StatusNotification",
                        {"connectorId": 1, "errorCode": "NoError", "status": "Available", "timestamp": now}, {})
    stream.close("c0", 10, 1000, "charger")
    [cause] = diagnose(stream.events).chargers[0].causes
    assert cause.kind == "clock-never-set" and cause.facts["set_later"] and cause.score < 40
    assert "set its clock from the backend's currentTime" in cause.explanation
    stream = Stream()  # a clock a minute and a half behind, put right by the backend's currentTime
    stream.open("c0", 0)
    behind = datetime.fromtimestamp(T0 + 1 - 90, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    stream.exchange("c0", 1, "StatusNotification",
                    {"connectorId": 0, "errorCode": "NoError", "status": "Available", "timestamp": behind}, {})
    stream.boot("c0", 2, 300)
    for n in range(2):
        now = datetime.fromtimestamp(T0 + 3 + n, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        stream.exchange("c0", 3 + n, "StatusNotification",
                        {"connectorId": 1, "errorCode": "NoError", "status": "Available", "timestamp": now}, {})
    stream.close("c0", 10, 1000, "charger")
    kinds = {cause.kind: cause for cause in diagnose(stream.events).chargers[0].causes}
    assert kinds["clock-jump"].facts["synced"] and kinds["clock-jump"].score < 30


def test_json_for_a_panel() -> None:
    diagnosis = diagnose(idle_drops(pings=False).events, DiagnoseOptions(), inputs=["x.jsonl"])
    document = json.loads(json.dumps(diagnosis.to_json()))
    [charger] = document["chargers"]
    assert document["inputs"] == ["x.jsonl"]
    assert [c["conn_id"] for c in charger["connections"]] == ["c0", "c1", "c2"]
    first = charger["connections"][0]
    assert first["closed_by"] == "backend" and first["code"] == 1006 and round(first["duration"]) == 91
    assert first["last_frames"][-1]["text"] == "→ ChangeConfiguration answer (Accepted)"  # the charger answers
    assert charger["causes"][0]["evidence"][0]["seq"] is not None
