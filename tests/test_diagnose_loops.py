"""Loops and silences, with real ``ocpp`` peers through the real proxy: a boot loop needs the refusal repeated
(issue 13), a retry loop is one CALL resent unchanged and refused the same way, a charger silent past its
HeartbeatInterval and then closed (by either side) is a cause, and connections still open when the input ends
have their frames counted (issue 14)."""

from __future__ import annotations

import asyncio
import contextlib
import io
from typing import Any

import pytest
from ocpp.v16 import call as call16
from ocppscope.proxy.core.events import ConnectionClosed, Event
from ocppscope.proxy.demo.backend import BackendBehaviour
from ocppscope.proxy.demo.chargers import Charger16, charger_connection
from ocppscope.proxy.diagnose import DiagnoseOptions, diagnose
from ocppscope.proxy.diagnose.report_text import render

from tests.engine_support import ocppscope_home  # noqa: F401
from tests.test_diagnose_causes import Play, boot, kinds, ranked, record_with_central, status

pytestmark = [pytest.mark.usefixtures("ocppscope_home"), pytest.mark.timeout(60)]


async def boot_without_model(cp: Charger16) -> Any:
    """Firmware that leaves out the required chargePointModel: the backend answers with a CALLERROR."""
    return await cp.call(call16.BootNotification(charge_point_vendor="Acme", charge_point_model=None),  # type: ignore[arg-type]
                         skip_schema_validation=True)


def booting(refusals: int) -> Play:
    async def play(url: str) -> None:
        async with charger_connection(url + "/ocpp", "CP-BOOTERR", Charger16) as cp:
            for _ in range(refusals):
                await boot_without_model(cp)
            await boot(cp)
            await status(cp)
    return play


async def test_one_boot_retry_after_a_call_error_is_no_boot_loop() -> None:
    diagnosis = ranked(await record_with_central(booting(1)))
    assert "boot-loop" not in kinds(diagnosis)
    assert kinds(diagnosis) == []


async def test_boot_refused_again_and_again_is_a_boot_loop() -> None:
    diagnosis = ranked(await record_with_central(booting(2)))
    [cause] = [c for c in diagnosis.chargers[0].causes if c.kind == "boot-loop"]
    assert [s.split()[0] for s in cause.facts["statuses"]] == ["CALLERROR", "CALLERROR", "Accepted"]


async def test_one_boot_retry_after_no_answer_is_no_boot_loop() -> None:
    async def play(url: str) -> None:
        async with charger_connection(url + "/ocpp", "CP-BOOT", Charger16, response_timeout=0.5) as cp:
            with contextlib.suppress(TimeoutError):
                await boot(cp)
            await boot(cp)

    behaviour = BackendBehaviour(never_answer=frozenset({"BootNotification"}))
    diagnosis = ranked(await record_with_central(play, behaviour))
    # The retry went out while the first boot was pending, but the conversation went on: not a close cause.
    assert kinds(diagnosis) == []


# -- retry loops -------------------------------------------------------------------------------------------------

def resending(times: int, fix_after: int | None = None) -> Play:
    """A StatusNotification without its errorCode resent ``times`` times (fixed after ``fix_after``)."""
    async def play(url: str) -> None:
        async with charger_connection(url + "/ocpp", "CP-RETRY", Charger16) as cp:
            await boot(cp)
            for attempt in range(times):
                broken = fix_after is None or attempt < fix_after
                await cp.call(call16.StatusNotification(connector_id=1, error_code=None if broken else "NoError",  # type: ignore[arg-type]
                                                        status="Available"), skip_schema_validation=broken)
                await asyncio.sleep(0.1)
    return play


async def test_the_same_call_refused_the_same_way_is_a_retry_loop() -> None:
    diagnosis = ranked(await record_with_central(resending(4)))
    [cause] = [c for c in diagnosis.chargers[0].causes if c.kind == "retry-loop"]
    assert cause.facts["action"] == "StatusNotification" and cause.facts["attempts"] == 4
    assert cause.facts["answer"].startswith("CALLERROR ") and cause.facts["sender"] == "charger"
    assert 0.05 < cause.facts["period"] < 1.0
    assert "StatusNotification 4 times with the same payload" in cause.explanation
    assert [ref.text for ref in cause.evidence[:2]] == ["→ StatusNotification",
                                                        f"← {cause.facts['answer']} to StatusNotification"]


async def test_a_retry_that_fixes_the_payload_is_no_loop() -> None:
    diagnosis = ranked(await record_with_central(resending(4, fix_after=2)))
    assert "retry-loop" not in kinds(diagnosis)


# -- silent past the HeartbeatInterval, then closed -----------------------------------------------------------------

def silent(closes_itself: bool) -> Play:
    async def play(url: str) -> None:
        async with charger_connection(url + "/ocpp", "CP-MUTE", Charger16) as cp:
            await boot(cp)
            await cp.wait_for_request("ChangeConfiguration")
            await asyncio.sleep(2.6 if closes_itself else 0.2)
    return play


async def test_charger_silent_past_its_interval_then_closing_itself() -> None:
    # HeartbeatInterval 1 s, set with ChangeConfiguration (the boot answer said 300); the charger says nothing
    # for 2.6 s and then closes the connection itself.
    behaviour = BackendBehaviour(requests_after_boot=(call16.ChangeConfiguration(key="HeartbeatInterval",
                                                                                 value="1"),))
    diagnosis = ranked(await record_with_central(silent(closes_itself=True), behaviour))
    [cause] = [c for c in diagnosis.chargers[0].causes if c.kind == "missing-heartbeats"]
    assert cause.facts["interval"] == 1 and cause.facts["silent_closes"] == 1
    assert "closed it itself" in cause.explanation
    assert diagnosis.chargers[0].settings["HeartbeatInterval"]["source"] == "ChangeConfiguration"
    quiet = ranked(await record_with_central(silent(closes_itself=False), behaviour))
    assert "missing-heartbeats" not in kinds(quiet)  # closed within the interval: nothing missing


# -- still open at the end --------------------------------------------------------------------------------------

async def test_connections_still_open_at_the_end_have_their_frames_counted() -> None:
    events = await record_with_central(booting(0))
    cut: list[Event] = [e for e in events if not isinstance(e, ConnectionClosed)]  # the capture ends before it
    diagnosis = diagnose(cut, DiagnoseOptions())
    [conn] = diagnosis.chargers[0].connections
    assert conn.closed_at is None and conn.frames == 4
    report = io.StringIO()
    render(diagnosis, report)
    assert "still open at the end, 4 frames" in report.getvalue()
