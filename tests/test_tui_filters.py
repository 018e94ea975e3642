"""The filter language: what it accepts, what it refuses (and where), and which rows each filter keeps."""

from __future__ import annotations

from pathlib import Path

import pytest
from ocppscope.proxy.core.events import Direction, Message
from ocppscope.tui.filters import FilterError, compile_filter, needs_analysis, parse
from ocppscope.tui.index import KIND_NAMES
from ocppscope.tui.rowlist import FilteredRows
from ocppscope.tui.session import ReplaySession

from tests.tui_support import session_events, write_capture

pytestmark = pytest.mark.timeout(30)


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory):
    path = write_capture(tmp_path_factory.mktemp("filters") / "s.jsonl", session_events(
        extra=[("charger", '[2,"x1","DataTransfer",{"vendorId":"Faulted-Vendor","data":"04A2B3"}]')]))
    replay = ReplaySession([str(path)])
    replay.start()
    assert replay.loader.wait(10)
    yield replay
    replay.stop()


def kept(session: ReplaySession, text: str, bookmarks: frozenset[int] = frozenset()) -> list[str]:
    """Each kept row as "KIND action"."""
    index = session.index
    node = parse(text)
    rows = FilteredRows(index, compile_filter(node, index, bookmarks), needs_analysis=needs_analysis(node))
    rows.scan(index.count)
    return [f"{KIND_NAMES[index.kind[r]]} {index.action_of(r)}".strip() for r in rows.matches]


def test_the_example_from_the_issue(session: ReplaySession) -> None:
    assert kept(session, 'action == "MeterValues" && severity >= warning') == ["CALL MeterValues",
                                                                               "ERROR MeterValues"]


@pytest.mark.parametrize(("text", "expected"), [
    ('action == "BootNotification"', ["CALL BootNotification", "RESULT BootNotification"]),
    ("action == Heart*", ["CALL Heartbeat", "RESULT Heartbeat"]),
    ("action contains meter", ["CALL MeterValues", "ERROR MeterValues"]),
    ("action matches /^Boot|Data/", ["CALL BootNotification", "RESULT BootNotification", "CALL DataTransfer"]),
    ("type == ERROR", ["ERROR MeterValues"]),
    ("type == open || type == close", ["open", "close"]),
    ("dir == backend && type == RESULT && !(action == Heartbeat)",
     ["RESULT BootNotification", "RESULT StatusNotification", "RESULT"]),
    ("severity == error", ["open", "CALL MeterValues", "RESULT", "INVALID"]),
    ("severity >= warning && dir == backend", ["ERROR MeterValues", "RESULT"]),
    ('rule == "rpc.unknown-id"', ["RESULT"]),
    ("rule contains schema", ["CALL MeterValues"]),
    ("latency > 999 && latency < 1001", ["RESULT BootNotification", "RESULT Heartbeat",
                                         "RESULT StatusNotification", "ERROR MeterValues"]),
    ("latency >= 2s", []),
    ('id == "m1"', ["CALL MeterValues", "ERROR MeterValues"]),
    ("charger == CP01 && seq == 3", ["RESULT BootNotification"]),
    ("conn != c1", []),
    ('"faulted-vendor"', ["CALL DataTransfer"]),
    ("Faulted", ["CALL DataTransfer"]),
    ("/04[0-9A-F]{4}/", ["CALL DataTransfer"]),
    ("/faulted/i", ["CALL DataTransfer"]),
    ("text contains bye", ["close"]),
    # the BootNotification carries the profile chosen at the boot (profile.selected, info)
    ("finding && dir == charger", ["CALL BootNotification", "CALL MeterValues", "INVALID", "CALL DataTransfer"]),
    ("not finding and action == Heartbeat", ["CALL Heartbeat", "RESULT Heartbeat"]),
    # Wireshark's habits: word operators, sets, ocpp.-prefixed fields, payload paths, durations with units.
    ("ocpp.action eq Heartbeat", ["CALL Heartbeat", "RESULT Heartbeat"]),
    ("type in {ERROR open}", ["open", "ERROR MeterValues"]),
    ('action in {"BootNotification", Heartbeat} && type ne RESULT', ["CALL BootNotification", "CALL Heartbeat"]),
    ("payload.connectorId == 1", ["CALL StatusNotification"]),
    ('payload.connectorId == "one"', ["CALL MeterValues"]),
    ('payload.connectorId == "1"', ["CALL StatusNotification"]),
    ("payload.connectorId != 1", ["CALL MeterValues"]),  # frames without the member are not listed
    ("payload.interval gt 299 && payload.interval le 300", ["RESULT BootNotification"]),
    ("payload.status in {Accepted Charging}", ["RESULT BootNotification", "CALL StatusNotification"]),
    ("payload.currentTime matches /T00:00:01/", ["RESULT Heartbeat"]),
    ("payload.chargePointVendor contains vendorx", ["CALL BootNotification"]),
    ("latency gt 0.9s && latency lt 1001ms", ["RESULT BootNotification", "RESULT Heartbeat",
                                              "RESULT StatusNotification", "ERROR MeterValues"]),
    ("latency > 1min", []),
    ("type == CALL or type == ERROR and dir == backend",
     ["CALL BootNotification", "CALL Heartbeat", "CALL StatusNotification", "CALL MeterValues", "ERROR MeterValues",
      "CALL DataTransfer"]),
])
def test_each_field_and_operator(session: ReplaySession, text: str, expected: list[str]) -> None:
    assert kept(session, text) == expected


def test_bookmark_flag(session: ReplaySession) -> None:
    assert kept(session, "bookmark", frozenset({2, 4})) == ["RESULT BootNotification", "RESULT Heartbeat"]


def test_empty_filter_keeps_everything() -> None:
    assert parse("   ") is None


@pytest.mark.parametrize(("text", "message", "position"), [
    ('action == "Boot', "unterminated string", 10),
    ("action ==", "ends too early", 9),
    ("actoin == Boot", "unknown field", 0),
    ("severity >= fatal", "unknown severity", 12),
    ("dir == sideways", "unknown direction", 7),
    ("type == PING2", "unknown type", 8),
    ("latency > soon", "needs a number", 10),
    ("action > Boot", "cannot be ordered", 0),
    ("severity contains err", "works on text fields", 0),
    ("(action == Boot", "missing )", 15),
    ("action == Boot Heartbeat", "join conditions", 15),
    ("action matches /[/", "bad regular expression", 15),
    ("charger", "needs a comparison", 0),
    ("&& x", "unexpected", 0),
    ("type in CALL", "set of values in braces", 8),
    ("type in {}", "the set is empty", 8),
    ("type in {CALL", "ends too early", 13),
    ("payload.meterValue[x] == 1", "cannot read the payload path", 18),
    ("payload.connectorId", "needs a comparison", 0),
])
def test_errors_name_the_problem_and_where(text: str, message: str, position: int) -> None:
    with pytest.raises(FilterError) as caught:
        parse(text)
    assert message in str(caught.value)
    assert caught.value.position == position


def test_filters_on_analysis_wait_for_it_and_retest_rows_named_later(tmp_path: Path) -> None:
    """A timeout is noticed long after its CALL: a severity filter must still end up listing that CALL."""
    events = session_events()
    late = Message("c1", events[-2].time + 1, Direction.FROM_BACKEND, b'[2,"r1","Reset",{"type":"Soft"}]', True, 50)
    events.insert(-1, late)
    events[-1].time = late.time + 60
    path = write_capture(tmp_path / "timeout.jsonl", events)
    replay = ReplaySession([str(path)])
    replay.start()
    try:
        assert replay.loader.wait(10)
        assert "CALL Reset" in kept(replay, 'rule == "rpc.unanswered-at-close" || rule == "rpc.timeout"')
    finally:
        replay.stop()


def test_a_replayed_capture_marks_the_injected_call_and_its_answer(tmp_path: Path) -> None:
    from ocppscope.tui.rows import RowPainter

    events = session_events()
    last = events[-1]
    events[-1:-1] = [
        Message("c1", last.time - 0.2, Direction.FROM_BACKEND, b'[2,"inj-1","TriggerMessage",'
                b'{"requestedMessage":"Heartbeat"}]', seq=900, injected=True),
        Message("c1", last.time - 0.1, Direction.FROM_CHARGER, b'[3,"inj-1",{"status":"Accepted"}]', seq=901,
                injected=True),
    ]
    replay = ReplaySession([str(write_capture(tmp_path / "injected.jsonl", events))])
    replay.start()
    try:
        assert replay.loader.wait(10)
        painter = RowPainter(replay.index)
        marks = {painter.plain(row)[0] for row in range(replay.index.count)}
        lines = [painter.plain(row) for row in range(replay.index.count)]
    finally:
        replay.stop()
    assert [line[0] for line in lines if "inj-1" in line or "TriggerMessage" in line] == ["»", "«"]
    assert marks == {" ", "»", "«"}


def test_a_filter_typed_while_a_worker_analyses_ends_as_right_as_one_typed_after(tmp_path: Path) -> None:
    """Several result chunks from the analysis process: each counts its own events, not the total so far."""
    from ocppscope.tui.analysis import CHUNK_EVENTS

    events = session_events()
    opened, closed = events[0], events[-1]
    frames = []
    t = opened.time
    for n in range(CHUNK_EVENTS * 2):  # about 3 chunks of results from the worker
        t += 0.01
        frames.append(Message("c1", t, Direction.FROM_CHARGER, f'[2,"h{n}","Heartbeat",{{}}]'.encode(), seq=10 + 2 * n))
        frames.append(Message("c1", t + 0.001, Direction.FROM_BACKEND,
                              f'[3,"h{n}",{{"currentTime":"2024-01-01T00:00:00Z"}}]'.encode(), seq=11 + 2 * n))
    for n in range(20):  # the errors come last: their findings arrive with the final chunk
        t += 0.01
        frames.append(Message("c1", t, Direction.FROM_CHARGER, f'[2,"e{n}","StatusNotification",{{}}]'.encode(),
                              seq=10 + 4 * CHUNK_EVENTS + n))
    closed.time, closed.seq = t + 1, 10 + 4 * CHUNK_EVENTS + 100
    path = write_capture(tmp_path / "big.jsonl", [opened, *frames, closed])
    replay = ReplaySession([str(path)], worker_min_bytes=0)
    replay.start()
    try:
        node = parse("severity >= error")
        early = FilteredRows(replay.index, compile_filter(node, replay.index, frozenset()), needs_analysis=True)
        early.start()
        assert replay.loader.wait(60)
        early.wait(30)
        state = replay.loader.state
        assert state.phase == "done" and state.analysed == replay.index.count  # never past 100%
        late = FilteredRows(replay.index, compile_filter(node, replay.index, frozenset()), needs_analysis=True)
        late.scan(replay.index.count)
    finally:
        replay.stop()
    assert len(late.matches) >= 20
    assert list(early.matches) == list(late.matches)


def test_identity_and_action_columns_grow_with_the_terminal(tmp_path: Path) -> None:
    from msgspec.structs import replace as struct_replace
    from ocppscope.tui.rows import RowPainter

    identity = "DE*ABC*E12345678*HPC-CHARGER-NORTH-01"
    events = session_events(charger=identity)
    events.insert(-1, struct_replace(events[-2], seq=800, time=events[-2].time + 0.1,
                                     content=b'[2,"x","SignedFirmwareStatusNotification",{"status":"Idle"}]'))
    replay = ReplaySession([str(write_capture(tmp_path / "long.jsonl", events))])
    replay.start()
    try:
        assert replay.loader.wait(10)
        painter = RowPainter(replay.index)
        call = next(r for r in range(replay.index.count) if replay.index.action_of(r).startswith("Signed"))
        wide, narrow = painter.plain(call, 240), painter.plain(call, 80)
        status = next(r for r in range(replay.index.count) if replay.index.action_of(r) == "StatusNotification")
        status_narrow = painter.plain(status, 80)
    finally:
        replay.stop()
    assert identity in wide and "SignedFirmwareStatusNotification" in wide
    assert identity not in narrow and len(narrow) == 80  # a small terminal keeps room for the summary
    assert "StatusNotification " in status_narrow  # 18 characters fit in 80 columns, uncut


@pytest.fixture(scope="module")
def meters(tmp_path_factory: pytest.TempPathFactory):
    meter_values = ('[2,"mv","MeterValues",{"connectorId":2,"meterValue":[{"timestamp":"2024-01-01T00:00:00Z",'
                    '"sampledValue":[{"value":"1200","unit":"Wh"},{"value":"16","unit":"A",'
                    '"measurand":"Current.Import"}]}]}]')
    path = write_capture(tmp_path_factory.mktemp("meters") / "m.jsonl", session_events(
        extra=[("charger", meter_values), ("backend", '[3,"mv",{}]')]))
    replay = ReplaySession([str(path)])
    replay.start()
    assert replay.loader.wait(10)
    yield replay
    replay.stop()


@pytest.mark.parametrize(("text", "expected"), [
    ('payload.meterValue[*].sampledValue[*].unit == "A"', ["CALL MeterValues"]),
    ('payload.meterValue[0].sampledValue[1].measurand == "Current.Import"', ["CALL MeterValues"]),
    ('payload.meterValue[0].sampledValue[5].unit == "A"', []),
    ('payload.meterValue[*].sampledValue[*].unit == "kWh"', []),
    ("payload.connectorId == 2 && ocpp.type == CALL", ["CALL MeterValues"]),
    ('payload.meterValue[*].sampledValue[*].value in {"16" "32"}', ["CALL MeterValues"]),
])
def test_payload_paths_reach_into_arrays(meters: ReplaySession, text: str, expected: list[str]) -> None:
    assert kept(meters, text) == expected
