"""The charger's clock in ``diagnose``: the bundled clock captures ranked as they should be, what a clock jump
is and is not (a queue emptied after a reconnect is not one), and a text report that shows any frame."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from ocppscope.proxy.capture.reader import read_capture
from ocppscope.proxy.cli import main
from ocppscope.proxy.core.events import ConnectionClosed, ConnectionOpened, Direction, Message
from ocppscope.proxy.diagnose import DiagnoseOptions, Diagnosis, diagnose
from ocppscope.proxy.diagnose.clock import ClockWatch
from ocppscope.proxy.diagnose.report_text import render

from tests.engine_support import ocppscope_home  # noqa: F401
from tests.test_diagnose_causes import record_with_central, scenario

CAPTURES = Path(__file__).resolve().parents[1] / "captures"
T0 = 1_700_000_000.0


def bundled(name: str) -> Diagnosis:
    return diagnose(read_capture(CAPTURES / f"{name}.jsonl"), DiagnoseOptions())


def causes(diagnosis: Diagnosis) -> list[str]:
    [charger] = diagnosis.chargers
    return [cause.kind for cause in charger.causes]


def text(diagnosis: Diagnosis) -> str:
    out = io.StringIO()
    render(diagnosis, out)
    return out.getvalue()


# -- the bundled clock captures -------------------------------------------------------------------------------

def test_clock_ahead_capture() -> None:
    diagnosis = bundled("clock-ahead")
    assert causes(diagnosis) == ["clock-ahead"]
    [cause] = diagnosis.chargers[0].causes
    assert 715 < cause.facts["ahead"] < 725 and cause.facts["times"] == 1
    assert cause.title == "Charger clock 12 min ahead" and cause.evidence[0].seq == 4
    assert "1. [45] Charger clock 12 min ahead  (clock-ahead)" in text(diagnosis)


def test_clock_never_set_capture() -> None:
    diagnosis = bundled("clock-never-set")
    assert causes(diagnosis) == ["clock-never-set"]
    [cause] = diagnosis.chargers[0].causes
    assert cause.facts["timestamp"].startswith("1970-01-01T00:00:0") and not cause.facts["set_later"]
    assert cause.facts["boot_current_time"].endswith("Z")
    assert "The BootNotification answer (#3) had given it currentTime" in cause.explanation
    assert "1. [55] Charger clock never set (1970-01-01T00:00:0" in text(diagnosis)


def test_offline_replay_capture_is_an_outage_not_a_clock_jump() -> None:
    diagnosis = bundled("offline-replay")
    assert causes(diagnosis) == ["offline-queue", "offline-transactions"]
    queue, replayed = diagnosis.chargers[0].causes
    assert 1795 < queue.facts["oldest"] < 1805
    assert queue.title == "Offline for at least 30 min: queued messages sent late"
    assert replayed.facts == {"messages": 2} and [ref.seq for ref in replayed.evidence] == [8, 12]
    report = text(diagnosis)
    assert "clock-jump" not in report and "not a clock fault" in report


def test_clean_captures_have_no_clock_cause() -> None:
    for name in ("clean-ocpp16", "clean-ocpp201", "demo-session"):
        assert not [kind for kind in causes(bundled(name)) if "clock" in kind or "offline" in kind], name


def test_diagnose_command_on_the_clock_captures(capsys: pytest.CaptureFixture[str]) -> None:
    names = ["clock-ahead", "clock-never-set", "offline-replay"]
    assert main(["diagnose", "--json", *(str(CAPTURES / f"{n}.jsonl") for n in names)]) == 0
    document = json.loads(capsys.readouterr().out)
    first = {c["charger"]: c["causes"][0]["kind"] for c in document["chargers"]}
    assert first == {"CS-CLOCK-201": "clock-ahead", "CP-RTC-16": "clock-never-set", "CP-OFFLINE-16": "offline-queue"}


@pytest.mark.usefixtures("ocppscope_home")
@pytest.mark.timeout(60)
@pytest.mark.parametrize(("name", "expected"), [
    ("clock-ahead", ["clock-ahead"]),
    ("clock-never-set", ["clock-never-set"]),
    ("offline-replay", ["offline-queue", "offline-transactions"]),
])
async def test_clock_scenarios_through_the_real_proxy(name: str, expected: list[str]) -> None:
    """The same scenarios, played by the ocpp peers through ocppscope's mitmproxy-based proxy."""
    events = await record_with_central(*scenario(name))
    assert causes(diagnose(events, DiagnoseOptions())) == expected


# -- what a clock jump is ------------------------------------------------------------------------------------------

def watch(samples: list[tuple[float, float]], threshold: float = 60, sync_at: float | None = None) -> ClockWatch:
    """Samples as (receipt seconds after T0, offset); the backend's currentTime at ``sync_at``."""
    clock = ClockWatch(threshold)
    for n, (at, offset) in enumerate(samples):
        if sync_at is not None and clock.last_time is not None and clock.last_time <= T0 + sync_at < T0 + at:
            clock.synced_at(T0 + sync_at)
        clock.sample(n, "c", T0 + at, T0 + at + offset)
    clock.finish()
    return clock


def test_one_queued_message_is_no_jump_even_at_the_end() -> None:
    assert watch([(0, 0), (1, 1), (2, -3600), (3, 0), (4, 2)]).jumps == []
    assert watch([(0, 0), (1, 1), (2, -3600)]).jumps == []  # the last timestamp: nothing confirms it
    assert watch([(0, 0), (1, 0), (2, 3600)]).jumps == []


def test_a_queue_emptied_after_a_reconnect_is_no_jump() -> None:
    # The first timestamps are all queued: 40, 30, 20 min old (two of them stamped alike), then live ones.
    drained = [(0, -2400), (0.1, -2400), (0.2, -1800), (0.3, -1200), (0.4, 0), (30, 0), (90, 1)]
    assert watch(drained).jumps == []
    assert watch(drained, sync_at=0.05).jumps == []  # the boot answer's currentTime came before the queue


def test_a_forward_jump_confirmed_by_the_next_timestamp() -> None:
    clock = watch([(0, 0), (1, 1), (2, 3600), (3, 3601), (4, 3600)])
    assert [(j.seq, round(j.size)) for j in clock.jumps] == [(2, 3599)]


def test_a_backward_jump_must_hold_over_time() -> None:
    burst = [(0, 0), (1, 0), (2, -3600), (2.1, -3600), (2.2, -3600), (3, 0)]
    assert watch(burst).jumps == []  # a burst of messages from one old moment, then live again
    held = [(0, 0), (1, 0), (2, -3600), (40, -3600), (70, -3599), (130, -3600)]
    assert [(j.seq, round(j.size)) for j in watch(held).jumps] == [(2, -3600)]


def test_a_clock_set_from_the_backend_is_a_synced_jump() -> None:
    clock = watch([(0, -900), (1, -900), (3, 0), (4, 0)], sync_at=2)
    assert [(j.seq, j.synced) for j in clock.jumps] == [(2, True)]


# -- any frame, shown safely ----------------------------------------------------------------------------------------

def test_text_report_renders_any_frame() -> None:
    events = [
        ConnectionOpened("c\ud800", T0, "10.0.0.7:5000", "/ocpp/CP\u001b[31m", subprotocol="ocpp1.6", seq=1),
        Message("c\ud800", T0 + 1, Direction.FROM_CHARGER, b'[2,"1","Boot\\ud800Notification",{}]', seq=2),
        Message("c\ud800", T0 + 2, Direction.FROM_CHARGER, b'[2,"2","StatusNotification",{"timestamp":"\xff"}]',
                seq=3),
        Message("c\ud800", T0 + 3, Direction.FROM_CHARGER,
                b'[2,"3","MeterValues",{"connectorId":1,"meterValue":[{"timestamp":"2023-11-14T22:13:23Z",'
                b'"sampledValue":[{"value":NaN}]}]}]', seq=4),
        Message("c\ud800", T0 + 4, Direction.FROM_CHARGER, b"[" * 5000 + b"]" * 5000, seq=5),
        ConnectionClosed("c\ud800", T0 + 5, 4000, "bye\ud800\n\u0007", "charger", seq=6),
    ]
    diagnosis = diagnose(events, DiagnoseOptions())
    report = text(diagnosis)
    report.encode("utf-8")  # one valid UTF-8 text: no lone surrogate got through
    assert "\\ud800" in report and "\x1b" not in report and "\x07" not in report
    assert all(line.isprintable() for line in report.splitlines())
    out = io.StringIO()
    render(diagnosis, out)
    assert out.getvalue() == report  # the same bytes every run
