"""Every handshake and lifecycle rule, triggered by a real handshake through the real proxy.

Chargers are websockets clients, or a raw socket where a charger's request is too broken for a well-behaved
client library to send; backends are websockets servers refusing, choosing and closing to order.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from ocppscope.proxy.core.findings import Finding
from ocppscope.proxy.engine import RunningProxy, open_proxy
from websockets.exceptions import InvalidHandshake, InvalidStatus, NegotiationError

from tests import engine_support
from tests.engine_support import (
    Backend,
    BackendConnection,
    basic,
    close_frame,
    connect_direct,
    raw_upgrade,
    record_only,
    rules,
    tls_backend,
)

ocppscope_home = engine_support.ocppscope_home  # the session's own config directory, as a fixture
pytestmark = [pytest.mark.usefixtures("ocppscope_home"), pytest.mark.timeout(60)]

KEY_HEX = "0001020304050607FFFFFFFFFFFFFFFFFFFFFFFF"
KEY_BYTES = bytes.fromhex(KEY_HEX)
GOOD = basic("CP01", KEY_BYTES)

Charger = Callable[[RunningProxy], Awaitable[Any]]


async def through_proxy(charger: Charger, backend: Backend | None = None, **proxy_options: Any) -> list[Finding]:
    """Run ``charger`` against a proxy in front of ``backend``; return every finding after a clean stop."""
    async with backend or Backend(record_only) as up, open_proxy(up.url("/ocpp"), **proxy_options) as proxy:
        with contextlib.suppress(InvalidHandshake, ConnectionError):  # refusals are the point of most cases
            await charger(proxy)
        await asyncio.sleep(0.05)  # let the proxy see the close that followed
    return proxy.findings


def ws(path: str = "/CP01", *, offer: Sequence[str] | None = ("ocpp1.6",), headers: Sequence[tuple[str, str]] = (),
       close: int | None = None) -> Charger:
    """A websockets charger that connects, optionally closes with ``close``, and leaves."""
    async def run(proxy: RunningProxy) -> None:
        async with connect_direct(proxy.url + path, subprotocols=list(offer) if offer else None,
                           additional_headers=list(headers), open_timeout=5) as charger:
            if close is not None:
                await charger.close(close)

    return run


def raw(path: str = "/CP01", *, offer: str | None = "ocpp1.6", headers: Sequence[tuple[str, str]] = (),
        key: str = "dGhlIHNhbXBsZSBub25jZQ==", close: int | None = 1000) -> Charger:
    """A raw-socket charger: the request exactly as given, then a close frame (if it got 101)."""
    async def run(proxy: RunningProxy) -> None:
        port = int(proxy.url.rsplit(":", 1)[1])
        answer = await raw_upgrade(port, path, headers, offer=offer, key=key)
        if answer.status == 101 and close is not None:
            answer.writer.write(close_frame(close))
            await answer.writer.drain()
            await asyncio.wait_for(answer.reader.read(), 5)
        answer.close()

    return run


def _supports_none(offered: Sequence[str]) -> str | None:
    raise NegotiationError(f"none of {offered} is supported")  # websockets answers 400


def answering(select: Callable[[Sequence[str]], str | None]) -> Backend:
    return Backend(record_only, select=select)


CASES: list[tuple[str, Charger, Callable[[], Backend] | None]] = [
    ("handshake.no-subprotocol-offered", ws(offer=None), None),
    ("handshake.subprotocol-malformed", raw(offer=",ocpp2.0.1"), None),
    ("handshake.subprotocol-spelling", ws(offer=("OCPP1.6J",)), lambda: answering(lambda offered: None)),
    ("handshake.subprotocol-unknown", ws(offer=("json", "ocpp1.6")), None),
    ("handshake.subprotocol-none-selected", ws(), lambda: answering(lambda offered: None)),
    ("handshake.subprotocol-not-offered", raw(), lambda: answering(lambda offered: "ocpp2.0.1")),
    ("handshake.closed-after-subprotocol-problem", ws(close=1002), lambda: answering(lambda offered: None)),
    ("auth.missing", ws(), lambda: Backend(status=401)),
    ("auth.not-basic", ws(headers=[("Authorization", "Bearer abc.def.ghi")]), None),
    ("auth.invalid-base64", ws(headers=[("Authorization", "Basic CP01:secret")]), None),
    ("auth.no-colon", ws(headers=[("Authorization", "Basic " + base64.b64encode(b"CP01" + KEY_BYTES).decode())]),
     None),
    ("auth.user-not-identity", ws(headers=[("Authorization", basic("CP02", KEY_BYTES))]), None),
    ("auth.password-too-short", ws(headers=[("Authorization", basic("CP01", "short"))]), None),
    ("auth.password-too-long", ws(headers=[("Authorization", basic("CP01", "x" * 41))]), None),
    ("auth.key-as-hex-text", ws(headers=[("Authorization", basic("CP01", KEY_HEX))]), None),
    ("auth.key-as-bytes", ws(offer=("ocpp2.0.1",), headers=[("Authorization", GOOD)]), None),
    ("auth.basic-over-plain-ws", ws(headers=[("Authorization", GOOD)]), None),
    ("auth.credentials-in-other-header",
     raw(key=base64.b64encode(b"CP01:0123456789abcdef").decode()), None),
    ("identity.missing", ws("/"), None),
    ("identity.empty-segment", ws("/%20"), None),
    ("identity.double-slash", raw("//CP01"), None),
    ("identity.trailing-slash", ws("/CP01/"), None),
    ("identity.too-long", ws("/" + "X" * 49), None),
    ("identity.colon", ws("/CP:01"), None),
    ("identity.needs-percent-encoding", raw("/RDAM|123"), None),
    ("identity.not-identifier-string", ws("/RDAM%20123", offer=("ocpp2.0.1",)), None),
    ("handshake.http-401", ws(headers=[("Authorization", GOOD)]), lambda: Backend(status=401)),
    ("handshake.http-404", ws(), lambda: Backend(status=404)),
    ("handshake.http-400", ws(offer=("ocpp1.5",)), lambda: answering(_supports_none)),
    ("handshake.http-5xx", ws(), lambda: Backend(status=500)),
    ("handshake.http-refused", ws(), lambda: Backend(status=403)),
]


@pytest.mark.parametrize(("rule", "charger", "backend"), CASES, ids=[case[0] for case in CASES])
async def test_rule_fires_on_a_real_handshake(rule: str, charger: Charger,
                                              backend: Callable[[], Backend] | None) -> None:
    found = await through_proxy(charger, backend() if backend else None)
    assert rule in rules(found)


async def test_a_clean_handshake_fires_none_of_them() -> None:
    found = await through_proxy(ws(headers=[("Authorization", basic("CP01", "a-good-long-password"))]),
                                Backend(record_only), certs=())
    handshake = [r for r in rules(found) if r.split(".")[0] in ("handshake", "auth", "identity")]
    assert handshake == ["auth.basic-over-plain-ws"]  # plain ws:// with credentials, as asked


async def test_the_backend_sees_the_broken_request_unchanged() -> None:
    backend = answering(lambda offered: None)
    await through_proxy(raw("/RDAM|123", offer="OCPP1.6J"), backend)
    [request] = backend.requests
    assert request.path == "/ocpp/RDAM|123"
    assert request.headers["Sec-WebSocket-Protocol"] == "OCPP1.6J"


async def test_version_changed_between_connections() -> None:
    async def twice(proxy: RunningProxy) -> None:
        await ws(offer=("ocpp2.0.1",))(proxy)
        await ws(offer=("ocpp1.6",))(proxy)

    assert "handshake.version-changed" in rules(await through_proxy(twice))


async def test_backend_unreachable() -> None:
    async with Backend() as gone:
        url = gone.url()
    async with open_proxy(url) as proxy:
        with pytest.raises(InvalidStatus):
            await connect_direct(proxy.url + "/CP01", subprotocols=["ocpp1.6"])
    assert "handshake.backend-unreachable" in rules(proxy.findings)


async def test_charger_gave_up_waiting_for_the_backend() -> None:
    async with Backend(handshake_delay=1.0) as slow, open_proxy(slow.url()) as proxy:
        port = int(proxy.url.rsplit(":", 1)[1])
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(raw_upgrade(port, "/CP01", offer="ocpp1.6"), 0.3)
        await asyncio.sleep(1.2)
    assert "handshake.charger-gave-up" in rules(proxy.findings)


async def test_upstream_tls_verified_unverified_and_refused(tmp_path: Path) -> None:
    context, ca = tls_backend(tmp_path)
    async with Backend(record_only, tls=context) as backend:
        async with open_proxy(backend.url("/ocpp")) as refused:
            with pytest.raises(InvalidStatus) as answer:
                await connect_direct(refused.url + "/CP01", subprotocols=["ocpp1.6"])
        assert answer.value.response.status_code == 502
        [unreachable] = [f for f in refused.findings if f.rule == "handshake.backend-unreachable"]
        assert "--upstream-ca" in unreachable.message
        async with open_proxy(backend.url("/ocpp"), upstream_ca=ca) as trusted:
            await ws()(trusted)
        async with open_proxy(backend.url("/ocpp"), insecure_upstream=True) as insecure:
            await ws()(insecure)
    assert "handshake.upstream-unverified" not in rules(trusted.findings)
    assert "handshake.upstream-unverified" in rules(insecure.findings)
    assert insecure.summary is not None
    assert any("NOT verified" in warning for warning in insecure.summary.warnings)
    assert len(backend.connections) == 2


async def test_lifecycle_reconnects_burst_and_concurrent_connections() -> None:
    async def storm(proxy: RunningProxy) -> None:
        for _ in range(5):
            await ws()(proxy)
        async with connect_direct(proxy.url + "/CP01", subprotocols=["ocpp1.6"]), \
                connect_direct(proxy.url + "/CP01", subprotocols=["ocpp1.6"]):
            pass

    found = rules(await through_proxy(storm))
    assert found.count("lifecycle.reconnect") == 6
    assert "lifecycle.reconnect-burst" in found
    assert "lifecycle.concurrent-connection" in found


@pytest.mark.parametrize(("code", "rule"), [(1008, "lifecycle.error-close"), (1012, "lifecycle.retry-close"),
                                            (4003, "lifecycle.application-close")])
async def test_lifecycle_close_codes_from_the_backend(code: int, rule: str) -> None:
    async def close_at_once(conn: BackendConnection) -> None:
        await conn.ws.close(code, "bye")

    async def wait_for_close(proxy: RunningProxy) -> None:
        async with connect_direct(proxy.url + "/CP01", subprotocols=["ocpp1.6"]) as charger:
            await charger.wait_closed()

    found = await through_proxy(wait_for_close, Backend(close_at_once))
    [finding] = [f for f in found if f.rule == rule]
    assert f"with {code}" in finding.message and "by the backend" in finding.message
