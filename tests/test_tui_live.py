"""The UI attached to a live proxy over its stream: real mitmproxy, a real central system and charge point."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from ocpp.v16 import call
from ocppscope.proxy.demo.chargers import Charger16, charger_connection
from ocppscope.tui.app import OcppscopeApp
from ocppscope.tui.inject import InjectScreen
from ocppscope.tui.live import LiveSession

from tests.engine_support import ocppscope_home  # noqa: F401
from tests.tui_support import TOKEN, live_proxy, screen_text, screen_with, wait_for

pytestmark = [pytest.mark.usefixtures("ocppscope_home"), pytest.mark.timeout(90)]


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def boot() -> call.BootNotification:
    return call.BootNotification(charge_point_vendor="VendorX", charge_point_model="Model1")


async def test_live_frames_chargers_and_disconnect_reach_the_screen() -> None:
    async with live_proxy() as (_central, proxy, url):
        app = OcppscopeApp(LiveSession(url, TOKEN))
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_for(lambda: "│ connected" in screen_text(app).splitlines()[0], pilot)
            assert screen_text(app).startswith(" live ws://127.0.0.1:")
            async with charger_connection(proxy.url, "CP-LIVE", Charger16) as charger:  # type: ignore[attr-defined]
                await charger.call(boot())
                await charger.call(call.Heartbeat())
                screen = await screen_with(app, pilot, "RESULT Heartbeat", "CALL   BootNotification",
                                           "RESULT BootNotification")
                assert "ms" in next(line for line in screen.splitlines() if "RESULT BootNotification" in line)
                await pilot.press("2")
                await wait_for(lambda: "CP-LIVE" in screen_text(app) and " connected" in screen_text(app), pilot)
            screen = await screen_with(app, pilot, "disconnected")
            row = next(line for line in screen.splitlines() if "CP-LIVE" in line)
            assert "ocpp1.6" in row
            await pilot.press("1")
            await wait_for(lambda: "CLOSE" in screen_text(app), pilot)


async def test_pause_holds_the_screen_while_frames_keep_arriving() -> None:
    async with live_proxy() as (_central, proxy, url):
        session = LiveSession(url, TOKEN)
        app = OcppscopeApp(session)
        async with (app.run_test(size=(100, 30)) as pilot,
                    charger_connection(proxy.url, "CP-P", Charger16) as charger):  # type: ignore[attr-defined]
            await charger.call(boot())
            await wait_for(lambda: "RESULT BootNotification" in screen_text(app), pilot)
            await pilot.press("space")
            shown = len(app.frame_view.rows)
            await charger.call(call.Heartbeat())
            await wait_for(lambda: session.index.count >= shown + 2, pilot)
            await pilot.pause(0.2)
            assert len(app.frame_view.rows) == shown and "paused, 2 new" in screen_text(app)
            await pilot.press("space")
            await wait_for(lambda: "Heartbeat" in screen_text(app), pilot)


async def test_inject_from_a_template_shows_the_answer_the_backend_never_got() -> None:
    async with live_proxy() as (central, proxy, url):
        session = LiveSession(url, TOKEN)
        app = OcppscopeApp(session)
        async with app.run_test(size=(100, 34)) as pilot:
            async with charger_connection(proxy.url, "CP-INJ", Charger16) as charger:  # type: ignore[attr-defined]
                await charger.call(boot())
                await wait_for(lambda: "RESULT BootNotification" in screen_text(app), pilot)
                await pilot.press("i")
                await wait_for(lambda: isinstance(app.screen, InjectScreen), pilot)
                screen = app.screen
                assert isinstance(screen, InjectScreen) and screen.action == "TriggerMessage"
                assert "CP-INJ" in screen_text(app)
                await pilot.press("ctrl+s")
                await screen_with(app, pilot, "answer to", '"status": "Accepted"')
                await charger.wait_for_request("TriggerMessage")
                # A payload that breaks the schema is held back for confirmation, with the reason.
                screen.query_one("#inject-payload").text = '{"requestedMessage": "Coffee"}'  # type: ignore[attr-defined]
                await pilot.press("ctrl+s")
                await screen_with(app, pilot, "schema.violation", "again sends it anyway")
                assert charger.requests_seen.count("TriggerMessage") == 1
                await pilot.press("escape")
            await wait_for(lambda: any(kind == "answer" for kind in session.injected.values()), pilot)
            assert sorted(session.injected.values()) == ["answer", "call"]
            screen = await screen_with(app, pilot, "»", "«")
            marked = [line for line in screen.splitlines() if line.startswith(("»", "«"))]
            assert len(marked) == 2 and "TriggerMessage" in marked[0]
        assert central.boots.get("CP-INJ") == 1  # type: ignore[attr-defined]


async def test_a_wrong_token_is_explained() -> None:
    async with live_proxy() as (_central, _proxy, url):
        app = OcppscopeApp(LiveSession(url, "not-the-token"))
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_for(lambda: app.session.client.state == "refused", pilot)  # type: ignore[attr-defined]
            await pilot.pause(0.1)
            assert "refused" in screen_text(app)
