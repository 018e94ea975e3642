"""Lifecycle rules on hand-made events: reconnects, concurrent connections, close codes explained."""

from __future__ import annotations

import pytest
from ocppscope.proxy.core.analyzer import Analyzer
from ocppscope.proxy.core.checks.lifecycle import LifecycleChecker, close_words, describe_close
from ocppscope.proxy.core.connection import Connection
from ocppscope.proxy.core.events import ConnectionClosed, ConnectionOpened, Direction, Event, Message, Ping
from ocppscope.proxy.core.findings import Finding


def opened(conn_id: str, at: float, charger: str = "CP01", status: int = 101) -> ConnectionOpened:
    return ConnectionOpened(conn_id, at, "127.0.0.1:5", f"/ocpp/{charger}", status=status, subprotocol="ocpp1.6")


def closed(conn_id: str, at: float, code: int | None = 1000, by: str = "charger", relayed: int | None = None,
           reason: str = "") -> ConnectionClosed:
    return ConnectionClosed(conn_id, at, code, reason, by, relayed_code=relayed)  # type: ignore[arg-type]


def run(*events: Event) -> list[Finding]:
    analyzer = Analyzer([LifecycleChecker()])
    found: list[Finding] = []
    for event in events:
        found += analyzer.feed(event).findings
    return [f for f in found if f.rule.startswith("lifecycle.")]  # not the analyzer's own frame rules


def ids(*events: Event) -> list[str]:
    return [f.rule for f in run(*events)]


def test_one_clean_connection_has_no_findings() -> None:
    assert ids(opened("a", 0), closed("a", 60)) == []
    assert ids(opened("a", 0), closed("a", 60, code=1001, by="backend")) == []
    assert ids(opened("a", 0), closed("a", 60, code=None)) == []


def test_reconnect_counts_and_interval() -> None:
    found = run(opened("a", 0), closed("a", 10, 1006), opened("b", 22.5), closed("b", 30), opened("c", 31))
    reconnects = [f for f in found if f.rule == "lifecycle.reconnect"]
    assert [(f.conn_id, f.evidence["handshakes"], f.evidence["since_close"]) for f in reconnects] == [
        ("b", 2, 12.5), ("c", 3, 1.0)]


def test_refused_handshakes_count_as_reconnects() -> None:
    found = run(opened("a", 0, status=401), opened("b", 5, status=401))
    assert [f.evidence["status"] for f in found if f.rule == "lifecycle.reconnect"] == [401]


def test_other_chargers_are_not_reconnects() -> None:
    assert ids(opened("a", 0, "CP01"), opened("b", 1, "CP02")) == []


def test_reconnect_burst_once_per_burst() -> None:
    events = [opened(f"x{i}", i * 4.0, status=401) for i in range(10)]
    bursts = [f for f in run(*events) if f.rule == "lifecycle.reconnect-burst"]
    assert [f.conn_id for f in bursts] == ["x4", "x9"]


def test_slow_reconnects_are_no_burst() -> None:
    events = [opened(f"x{i}", i * 20.0, status=401) for i in range(6)]
    assert "lifecycle.reconnect-burst" not in ids(*events)


def test_two_concurrent_connections_for_one_identity() -> None:
    found = run(opened("a", 0), opened("b", 5))
    [concurrent] = [f for f in found if f.rule == "lifecycle.concurrent-connection"]
    assert concurrent.conn_id == "b" and concurrent.evidence["open"] == ["a"]


def test_sequential_connections_are_not_concurrent() -> None:
    assert "lifecycle.concurrent-connection" not in ids(opened("a", 0), closed("a", 4), opened("b", 5))
    # A refused handshake never was an open connection.
    assert "lifecycle.concurrent-connection" not in ids(opened("a", 0, status=401), opened("b", 5))


def test_abnormal_close_says_what_the_other_side_received() -> None:
    [finding] = run(opened("a", 0), closed("a", 100, 1006, "backend", relayed=1000))
    assert finding.rule == "lifecycle.abnormal-close"
    assert "the charger received 1000" in finding.message
    assert finding.evidence["relayed_code"] == 1000


def test_idle_time_before_the_close() -> None:
    events = [
        opened("a", 0),
        Message("a", 10, Direction.FROM_CHARGER, b'[2,"1","Heartbeat",{}]'),
        Ping("a", 50, Direction.FROM_CHARGER),
        closed("a", 100, 1006, "backend"),
    ]
    [finding] = run(*events)
    assert finding.evidence["idle"] == 90.0
    assert finding.evidence["since_ping"] == 50.0
    assert "idle timeout" in finding.message


def test_no_idle_timeout_hint_when_traffic_was_recent() -> None:
    events = [opened("a", 0), Message("a", 99, Direction.FROM_CHARGER, b"[]"), closed("a", 100, 1006, "backend")]
    [finding] = run(*events)
    assert "idle timeout" not in finding.message


@pytest.mark.parametrize(("code", "rule"), [(1002, "lifecycle.error-close"), (1008, "lifecycle.error-close"),
                                            (1011, "lifecycle.error-close"), (1007, "lifecycle.error-close"),
                                            (4001, "lifecycle.application-close"),
                                            (3003, "lifecycle.application-close"),
                                            (1012, "lifecycle.retry-close"), (1013, "lifecycle.retry-close")])
def test_close_codes(code: int, rule: str) -> None:
    [finding] = run(opened("a", 0), closed("a", 1, code, "backend", reason="bye"))
    assert finding.rule == rule
    assert close_words(code) in finding.message and "'bye'" in finding.message


def test_close_words() -> None:
    assert close_words(1000) == "normal closure"
    assert close_words(1008) == "policy violation"
    assert close_words(4321) == "application-specific"
    assert close_words(None) == "no close code"


def test_describe_close_for_a_proxy_shutdown() -> None:
    conn = Connection("a", opened("a", 0))
    text, evidence = describe_close(conn, closed("a", 300, 1001, "proxy"))
    assert text.startswith("closed by ocppscope with 1001 (going away")
    assert evidence["duration"] == 300.0
