"""Listeners, upstreams and path rewrites: parsing (pure) and several routes in one real proxy."""

from __future__ import annotations

import asyncio

import pytest
from ocppscope.proxy.engine import EngineConfig, ProxyEngine, Rewrite, Route, Upstream, open_proxy
from ocppscope.proxy.engine.routes import charger_urls
from ocppscope.proxy.errors import OcppscopeError

from tests import engine_support
from tests.engine_support import Backend, connect_direct, record_only

ocppscope_home = engine_support.ocppscope_home  # the session's own config directory, as a fixture
pytestmark = [pytest.mark.usefixtures("ocppscope_home"), pytest.mark.timeout(60)]


def test_upstream_parsing() -> None:
    assert Upstream.parse("wss://csms.example.com/ocpp/") == Upstream(True, "csms.example.com", 443, "/ocpp")
    assert Upstream.parse("ws://10.0.0.5:8180") == Upstream(False, "10.0.0.5", 8180, "")
    assert str(Upstream.parse("ws://[::1]:9000/x")) == "ws://[::1]:9000/x"


@pytest.mark.parametrize(("text", "hint"), [
    ("https://csms.example.com/ocpp", "ws:// or wss://"),
    ("wss://user:pw@csms.example.com/", "Authorization header goes upstream unchanged"),
    ("ws:///ocpp", "no host"),
    ("ws://csms:99999/", "out of range"),
    ("ws://csms/ocpp?x=1", "no query"),
])
def test_upstream_errors_say_what_to_do(text: str, hint: str) -> None:
    with pytest.raises(OcppscopeError, match=hint):
        Upstream.parse(text)


def test_route_paths_and_mode_spec() -> None:
    route = Route.parse("0.0.0.0:8080", "wss://csms:443/steve/websocket/CentralSystemService",
                        (Rewrite.parse("/ocpp/=/"),))
    assert route.upstream_path("/ocpp/CP01") == "/steve/websocket/CentralSystemService/CP01"
    assert route.upstream_path("/CP02?x=1") == "/steve/websocket/CentralSystemService/CP02?x=1"
    assert route.mode_spec() == "reverse:https://csms:443@0.0.0.0:8080"
    assert Route.parse_pair("127.0.0.1:0=ws://h:1/b").upstream.base == "/b"
    with pytest.raises(OcppscopeError, match="LISTEN=UPSTREAM"):
        Route.parse_pair("ws://h:1")
    with pytest.raises(OcppscopeError, match="port is required"):
        Route.parse("127.0.0.1", "ws://h:1")
    with pytest.raises(OcppscopeError, match="OLD/PREFIX"):
        Rewrite.parse("ocpp")


def test_charger_urls_for_loopback_and_wildcard() -> None:
    assert charger_urls("127.0.0.1", 8080) == ["ws://127.0.0.1:8080/"]
    assert all(url.startswith("ws://") and url.endswith(":8080/") for url in charger_urls("0.0.0.0", 8080))


async def test_two_routes_and_a_rewrite_in_one_proxy() -> None:
    async with Backend(record_only) as first, Backend(record_only) as second:
        routes = [
            Route.parse("127.0.0.1:0", first.url("/csms-a")),
            Route.parse("127.0.0.1:0", second.url("/steve/websocket/CentralSystemService"),
                        (Rewrite.parse("/ocpp/=/"),)),
        ]
        async with ProxyEngine(EngineConfig(routes=routes)) as engine:
            a, b = engine.listening
            async with connect_direct(a.url + "/ocpp/CP01", subprotocols=["ocpp1.6"]):
                await first.connected.wait()
            async with connect_direct(b.url + "/ocpp/CP02", subprotocols=["ocpp1.6"]):
                await second.connected.wait()
    assert [c.path for c in first.connections] == ["/csms-a/ocpp/CP01"]
    assert [c.path for c in second.connections] == ["/steve/websocket/CentralSystemService/CP02"]


async def test_a_charger_given_the_full_backend_url_is_told_the_base_was_doubled() -> None:
    async with Backend(record_only) as backend, open_proxy(backend.url("/ocpp")) as proxy:
        async with connect_direct(proxy.url + "/ocpp/CP01", subprotocols=["ocpp1.6"]):
            await backend.connected.wait()
        async with connect_direct(proxy.url + "/CP02", subprotocols=["ocpp1.6"]):
            await asyncio.wait_for(_connections(backend, 2), 10)
    assert [c.path for c in backend.connections] == ["/ocpp/ocpp/CP01", "/ocpp/CP02"]
    doubled = [f for f in proxy.findings if f.rule == "identity.path-repeats-upstream-base"]
    assert [f.charger for f in doubled] == ["CP01"]
    assert "'/ocpp/ocpp/CP01'" in doubled[0].message


async def _connections(backend: Backend, count: int) -> None:
    while len(backend.connections) < count:
        await asyncio.sleep(0.02)
