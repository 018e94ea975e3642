"""capture.ids-skipped: a charger that counts its message ids shows where the capture lost frames."""

from __future__ import annotations

import json
import uuid

from ocppscope.proxy.core.events import Gap
from ocppscope.proxy.core.findings import Severity

from tests.traffic import Wire, analyze, hits


def _heartbeat(wire: Wire, message_id: str, pretty: bool = False) -> None:
    wire.cp(json.dumps([2, message_id, "Heartbeat", {}], indent=2 if pretty else None), after=30)
    wire.cs(f'[3,"{message_id}",{{"currentTime":"2024-01-01T00:00:00Z"}}]')


def test_a_jump_in_counted_ids_is_said_once() -> None:
    wire = Wire()
    for number in (1, 2, 3, 4, 8, 9, 15):
        _heartbeat(wire, str(number))
    [skipped] = hits(analyze(wire.events), "capture.ids-skipped")
    assert skipped.severity is Severity.INFO and skipped.action == "Heartbeat"
    assert skipped.evidence == {"previous_id": "4", "id": "8", "missing": 3, "previous_seq": 8}
    assert "jumped from 4 to 8: 3 of its CALLs are probably missing" in skipped.message


def test_pretty_printed_frames_and_zero_padded_counters() -> None:
    wire = Wire()
    for number, pretty in ((7, True), (8, False), (9, True), (10, False), (12, True)):
        _heartbeat(wire, f"{number:06d}", pretty)
    [skipped] = hits(analyze(wire.events), "capture.ids-skipped")
    assert skipped.evidence["missing"] == 1 and skipped.evidence["id"] == "000012"


def test_must_not_flag_ids_that_are_no_counter_or_a_counter_that_starts_again() -> None:
    uuids = Wire(conn_id="uuids")
    for _ in range(6):
        _heartbeat(uuids, str(uuid.uuid4()))  # 36 characters, random
    random_numbers = Wire(conn_id="random")
    for number in (93817, 12, 55555, 73, 901):
        _heartbeat(random_numbers, str(number))
    restarted = Wire(conn_id="restart")
    for number in (40, 41, 42, 43, 1, 2, 3, 9):  # the counter restarted (a reboot), then jumped unconfirmed
        _heartbeat(restarted, str(number))
    resent = Wire(conn_id="resent")
    for number in (1, 2, 3, 4, 4, 5, 6):  # the same CALL sent twice
        _heartbeat(resent, str(number))
    backend = Wire(conn_id="backend")
    for number in (1, 2, 3, 4, 20):
        backend.cs(f'[2,"{number}","GetConfiguration",{{}}]', after=10)
        backend.cp(f'[3,"{number}",{{"configurationKey":[]}}]')
    found = analyze(uuids.events + random_numbers.events + restarted.events + resent.events + backend.events)
    assert hits(found, "capture.ids-skipped") == []


def test_a_new_connection_starts_a_new_count() -> None:
    first = Wire(conn_id="a")
    for number in (1, 2, 3, 4):
        _heartbeat(first, str(number))
    first.close(code=1006)
    second = Wire(conn_id="b", t0=first.time + 5)
    for number in (50, 51, 52, 53):  # the counter kept running while the charger was offline
        _heartbeat(second, str(number))
    assert hits(analyze(first.events + second.events), "capture.ids-skipped") == []


def test_a_gap_the_proxy_reported_explains_the_jump() -> None:
    wire = Wire()
    for number in (1, 2, 3, 4):
        _heartbeat(wire, str(number))
    wire.events.append(Gap(wire.conn_id, wire.time + 1, frames=6, since=wire.time, seq=wire.seq + 1))
    wire.seq += 1
    for number in (8, 9):
        _heartbeat(wire, str(number))
    found = analyze(wire.events)
    assert hits(found, "capture.gap") and hits(found, "capture.ids-skipped") == []
