"""The stream served from an analysis process: a hub fed on one thread, served from another, and injection
requests forwarded to the relay's control endpoint."""

from __future__ import annotations

import asyncio

import pytest
from ocppscope.proxy.core.checks import default_checkers
from ocppscope.proxy.engine.hub import Hub
from ocppscope.proxy.stream.addon import StreamSpec
from ocppscope.proxy.stream.inject import Injector
from ocppscope.proxy.stream.injection import ControlServer, RemoteInjection
from ocppscope.proxy.stream.wire import FINDING, TOKEN_ENV
from ocppscope.proxy.stream.worker import serve

from tests.tui_support import TOKEN, attached, session_events, wait_for

pytestmark = pytest.mark.timeout(30)


async def test_a_hub_on_another_thread_streams_events_findings_and_the_summary(
        monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    monkeypatch.setenv("OCPPSCOPE_HOME", str(tmp_path))
    hub = Hub(default_checkers())
    ready = tmp_path / "address"
    stream = serve(hub, StreamSpec("127.0.0.1", 0, ready_file=str(ready)))
    assert stream is not None
    address = ready.read_text().strip()
    async with attached(f"ws://{address}") as (client, seen):
        await wait_for(lambda: client.state == "connected")
        events = session_events()
        # The analysis process's own loop feeds the hub; here a thread stands in for it.
        await asyncio.to_thread(lambda: [hub.publish(event) for event in events])
        await wait_for(lambda: len([r for r in seen.records if r["type"] != FINDING]) == len(events))
        await asyncio.to_thread(hub.finish)
        await wait_for(lambda: any(state == "proxy-stopped" for state, _ in seen.states))
    assert any(r["type"] == FINDING and r["rule"] == "schema.violation" for r in seen.records)
    assert seen.states[-1][1]["summary"]["frames"] == 10
    assert "Q1AwMTpzZWNyZXQ=" not in str(seen.records), "the stream is redacted like a capture"


async def test_injection_requests_reach_the_relay_control_endpoint() -> None:
    control = ControlServer(Injector(), TOKEN)
    await control.start()
    try:
        remote = RemoteInjection(control.url, TOKEN)
        error = await remote.inject("c9", "charger", '[2,"i1","Reset",{"type":"Soft"}]')
        assert error == "connection c9 is not open", "the relay's injector answered"
        assert not control.injector.log, "a refused injection is not waited for"
        assert await remote.inject("c9", "sideways", "[]") is not None
        wrong = RemoteInjection(control.url, "not-the-token")
        assert "did not take" in str(await wrong.inject("c9", "charger", '[2,"i2","Reset",{"type":"Soft"}]'))
    finally:
        await control.stop()


def test_a_ui_that_never_answers_the_close_does_not_leave_the_stream_pending(
        monkeypatch: pytest.MonkeyPatch, tmp_path, caplog: pytest.LogCaptureFixture) -> None:
    """A UI that exited without closing its stream (its socket still open) never answers the close: stopping
    must still end every task of the stream's loop, or the process's shutdown noise buries its summary."""
    import base64
    import os
    import socket

    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    monkeypatch.setenv("OCPPSCOPE_HOME", str(tmp_path))
    hub = Hub(default_checkers())
    ready = tmp_path / "address"
    stream = serve(hub, StreamSpec("127.0.0.1", 0, ready_file=str(ready)))
    assert stream is not None
    host, port = ready.read_text().strip().rsplit(":", 1)
    silent = socket.create_connection((host, int(port)), timeout=5)
    try:
        key = base64.b64encode(os.urandom(16)).decode()
        silent.sendall((f"GET / HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                        f"Authorization: Bearer {TOKEN}\r\n\r\n").encode())
        assert silent.recv(4096).startswith(b"HTTP/1.1 101"), "the stream took the UI"
        hub.publish(session_events()[0])
        hub.finish()  # the client never reads again nor answers the close
        stream._thread.join(10)
        assert not stream._thread.is_alive()
        assert not asyncio.all_tasks(stream._loop), "every task of the stream's loop ended"
        assert "did not stop cleanly" not in caplog.text
    finally:
        silent.close()
