"""The filter language: what it accepts, what it refuses (and where), and which rows each filter keeps."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tui_support import session_events, write_capture
from tui.filters import FilterError, compile_filter, needs_analysis, parse
from tui.index import KIND_NAMES
from tui.rowlist import FilteredRows
from tui.session import ReplaySession

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
    ("finding && dir == charger", ["CALL MeterValues", "INVALID", "CALL DataTransfer"]),
    ("not finding and action == Heartbeat", ["CALL Heartbeat", "RESULT Heartbeat"]),
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
])
def test_errors_name_the_problem_and_where(text: str, message: str, position: int) -> None:
    with pytest.raises(FilterError) as caught:
        parse(text)
    assert message in str(caught.value)
    assert caught.value.position == position


def test_filters_on_analysis_wait_for_it_and_retest_rows_named_later(tmp_path: Path) -> None:
    """A timeout is noticed long after its CALL: a severity filter must still end up listing that CALL."""
    from proxy.core.events import Direction, Message

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
