"""Handshake rules on hand-made ConnectionOpened events: each rule fires on its case and stays quiet on a good one.

Pure core: no network. The same rules fed by real handshakes through mitmproxy are in test_handshake_live.py.
"""

from __future__ import annotations

import base64

import pytest
from ocppscope.proxy.core.analyzer import Analyzer
from ocppscope.proxy.core.checks.handshake import handshake_checkers, offered_subprotocols
from ocppscope.proxy.core.events import (
    AuthSummary,
    ConnectionClosed,
    ConnectionOpened,
    Direction,
    Headers,
    Message,
    TlsInfo,
)
from ocppscope.proxy.core.findings import Finding, Severity

TLS = TlsInfo(version="TLSv1.3")
KEY_HEX = "0001020304050607FFFFFFFFFFFFFFFFFFFFFFFF"
KEY_BYTES = bytes.fromhex(KEY_HEX)


def basic(user: str, password: str | bytes) -> str:
    secret = password if isinstance(password, bytes) else password.encode()
    return "Basic " + base64.b64encode(user.encode() + b":" + secret).decode()


def opened(
    path: str = "/ocpp/CP01",
    *,
    offer: str | None = "ocpp1.6",
    selected: str | None = "ocpp1.6",
    status: int = 101,
    headers: Headers = (),
    tls: TlsInfo | None = TLS,
    error: str | None = None,
    auth: AuthSummary | None = None,
    conn_id: str = "c1",
    time: float = 100.0,
    upstream_tls: TlsInfo | None = None,
    upstream_base: str = "",
) -> ConnectionOpened:
    request = (("Host", "csms"), ("Upgrade", "websocket"), ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="))
    if offer is not None:
        request += (("Sec-WebSocket-Protocol", offer),)
    response = (("Sec-WebSocket-Protocol", selected),) if selected is not None and status == 101 else ()
    return ConnectionOpened(
        conn_id, time, "127.0.0.1:50000", path, request + headers, status, response,
        subprotocol=selected if status == 101 else None, upstream="wss://csms:443" + upstream_base + path, seq=1,
        error=error, client_tls=tls, auth=auth, upstream_tls=upstream_tls,
    )


def run(*events: ConnectionOpened | ConnectionClosed | Message) -> list[Finding]:
    analyzer = Analyzer(handshake_checkers())
    found: list[Finding] = []
    for event in events:
        found += analyzer.feed(event).findings
    return found


def ids(*events: ConnectionOpened | ConnectionClosed | Message) -> list[str]:
    return [f.rule for f in run(*events)]


GOOD_AUTH = (("Authorization", basic("CP01", KEY_BYTES)),)


def test_a_good_handshake_has_no_findings() -> None:
    assert ids(opened(headers=GOOD_AUTH)) == []
    assert ids(opened(offer="ocpp2.0.1, ocpp1.6", selected="ocpp2.0.1",
                      headers=(("Authorization", basic("CP01", "a-long-enough-password")),))) == []


# -- subprotocol --------------------------------------------------------------------------------------------

def test_no_subprotocol_offered() -> None:
    assert ids(opened(offer=None, selected=None)) == ["handshake.no-subprotocol-offered"]


@pytest.mark.parametrize("offer", [",ocpp2.0.1", "ocpp1.6,,ocpp2.0.1", "ocpp1.6,", '"ocpp1.6"', "ocpp 1.6"])
def test_malformed_subprotocol_list(offer: str) -> None:
    assert "handshake.subprotocol-malformed" in ids(opened(offer=offer, selected=None))


def test_well_formed_list_with_spaces_after_commas() -> None:
    assert offered_subprotocols((("Sec-WebSocket-Protocol", "ocpp2.0.1, ocpp1.6"),)) == (["ocpp2.0.1", "ocpp1.6"],
                                                                                         True)
    assert "handshake.subprotocol-malformed" not in ids(opened(offer="ocpp2.0.1, ocpp1.6"))


@pytest.mark.parametrize(("offer", "meant"), [("OCPP1.6J", "ocpp1.6"), ("ocpp1.6j", "ocpp1.6"),
                                               ("OCPP2.0.1", "ocpp2.0.1"), ("ocpp-1.6", "ocpp1.6")])
def test_subprotocol_spelling(offer: str, meant: str) -> None:
    found = [f for f in run(opened(offer=offer, selected=None)) if f.rule == "handshake.subprotocol-spelling"]
    assert [f.evidence["expected"] for f in found] == [meant]


def test_unknown_subprotocol() -> None:
    assert ids(opened(offer="json, ocpp1.6")) == ["handshake.subprotocol-unknown"]
    assert "handshake.subprotocol-unknown" not in ids(opened(offer="ocpp1.5", selected="ocpp1.5"))


def test_backend_selects_none() -> None:
    assert ids(opened(selected=None)) == ["handshake.subprotocol-none-selected"]


def test_backend_selects_one_not_offered() -> None:
    assert ids(opened(offer="ocpp1.6", selected="ocpp2.0.1")) == ["handshake.subprotocol-not-offered"]
    assert ids(opened(offer="ocpp2.0.1,ocpp1.6", selected="ocpp1.6")) == []


def close(after: float, closed_by: str = "charger", code: int = 1002) -> ConnectionClosed:
    return ConnectionClosed("c1", 100.0 + after, code, "", closed_by, seq=2)  # type: ignore[arg-type]


def test_charger_closes_after_a_subprotocol_problem() -> None:
    found = [f for f in run(opened(selected=None), close(0.2))
             if f.rule == "handshake.closed-after-subprotocol-problem"]
    assert len(found) == 1
    assert found[0].evidence["closed_by"] == "charger"
    assert found[0].evidence["problem"] == "handshake.subprotocol-none-selected"


def test_close_after_a_good_handshake_or_after_traffic_is_not_blamed_on_the_subprotocol() -> None:
    rule = "handshake.closed-after-subprotocol-problem"
    assert rule not in ids(opened(), close(0.2))
    message = Message("c1", 100.1, Direction.FROM_CHARGER, b'[2,"1","Heartbeat",{}]')
    assert rule not in ids(opened(selected=None), message, close(0.2))
    assert rule not in ids(opened(selected=None), close(60.0))


def test_version_changed_between_connections_of_one_charger() -> None:
    first = opened(offer="ocpp2.0.1,ocpp1.6", selected="ocpp2.0.1", conn_id="a")
    second = opened(offer="ocpp2.0.1,ocpp1.6", selected="ocpp1.6", conn_id="b", time=200.0)
    other = opened("/ocpp/CP02", offer="ocpp2.0.1,ocpp1.6", selected="ocpp1.6", conn_id="c", time=300.0)
    found = run(first, ConnectionClosed("a", 150.0, 1000), second, other)
    assert [(f.rule, f.conn_id) for f in found] == [("handshake.version-changed", "b")]


# -- Basic credentials -------------------------------------------------------------------------------------

def test_missing_credentials_on_401() -> None:
    assert ids(opened(status=401)) == ["auth.missing", "handshake.http-401"]
    assert "auth.missing" not in ids(opened())  # profile 3 and unsecured setups send no credentials


def test_not_basic() -> None:
    assert ids(opened(headers=(("Authorization", "Bearer abc.def"),))) == ["auth.not-basic"]


@pytest.mark.parametrize("value", ["Basic CP01:secret-secret-secret", "Basic !!!!", "Basic"])
def test_invalid_base64(value: str) -> None:
    assert "auth.invalid-base64" in ids(opened(headers=(("Authorization", value),)))


def test_missing_padding_is_a_warning() -> None:
    value = basic("CP01", KEY_BYTES).rstrip("=")
    assert value != basic("CP01", KEY_BYTES)
    [finding] = [f for f in run(opened(headers=(("Authorization", value),))) if f.rule == "auth.invalid-base64"]
    assert finding.severity is Severity.WARNING


def test_no_colon() -> None:
    value = "Basic " + base64.b64encode(b"CP01" + KEY_BYTES).decode()
    assert ids(opened(headers=(("Authorization", value),))) == ["auth.no-colon"]


def test_user_not_identity() -> None:
    found = run(opened(headers=(("Authorization", basic("cp01", KEY_BYTES)),)))
    assert [f.rule for f in found] == ["auth.user-not-identity"]
    assert "only in case" in found[0].message


@pytest.mark.parametrize(("password", "rule"), [("short", "auth.password-too-short"),
                                                 ("x" * 41, "auth.password-too-long")])
def test_password_length(password: str, rule: str) -> None:
    assert rule in ids(opened(headers=(("Authorization", basic("CP01", password)),)))


def test_password_length_limits_are_inclusive() -> None:
    for password in ("x" * 16, "x" * 40):
        found = ids(opened(headers=(("Authorization", basic("CP01", password)),)))
        assert "auth.password-too-short" not in found and "auth.password-too-long" not in found


def test_hex_key_sent_as_text() -> None:
    accepted = run(opened(headers=(("Authorization", basic("CP01", KEY_HEX)),)))
    assert [(f.rule, f.severity) for f in accepted] == [("auth.key-as-hex-text", Severity.INFO)]
    refused = run(opened(status=401, headers=(("Authorization", basic("CP01", KEY_HEX)),)))
    assert ("auth.key-as-hex-text", Severity.WARNING) in [(f.rule, f.severity) for f in refused]
    # On 2.x the text form is right.
    assert ids(opened(offer="ocpp2.0.1", selected="ocpp2.0.1",
                      headers=(("Authorization", basic("CP01", KEY_HEX)),))) == []


def test_key_sent_as_bytes() -> None:
    on_2x = ids(opened(offer="ocpp2.0.1", selected="ocpp2.0.1", headers=GOOD_AUTH))
    assert on_2x == ["auth.key-as-bytes"]
    refused_16 = run(opened(status=401, headers=GOOD_AUTH))
    assert ("auth.key-as-bytes", Severity.WARNING) in [(f.rule, f.severity) for f in refused_16]
    assert ids(opened(headers=GOOD_AUTH)) == []  # what OCPP-J 1.6 itself specifies


def test_basic_over_plain_ws() -> None:
    assert ids(opened(headers=GOOD_AUTH, tls=None)) == ["auth.basic-over-plain-ws"]
    assert ids(opened(tls=None)) == []


def test_redacted_capture_judged_from_the_auth_summary() -> None:
    summary = AuthSummary(scheme="Basic", user="CP02", password_bytes=8, password_kind="text", password_hmac="ab")
    redacted = (("Authorization", 'Basic <redacted user="CP02" kind=text bytes=8 hmac=ab>'),)
    assert ids(opened(headers=redacted, auth=summary)) == ["auth.user-not-identity", "auth.password-too-short"]


@pytest.mark.parametrize(
    "extra",
    [
        ("Sec-WebSocket-Key", base64.b64encode(b"CP01:secret-secret").decode()),
        ("X-Auth", "Basic " + base64.b64encode(b"CP01:secret").decode()),
        ("X-Credentials", "CP01:secret"),
    ],
)
def test_credentials_in_another_header(extra: tuple[str, str]) -> None:
    found = [f for f in run(opened(headers=(extra,))) if f.rule == "auth.credentials-in-other-header"]
    assert [f.evidence for f in found] == [{"header": extra[0]}]  # the name, never the secret
    assert extra[1] not in found[0].message


def test_ordinary_headers_are_not_credentials() -> None:
    assert ids(opened(headers=(("User-Agent", "CP01-firmware/1.2"), ("X-Serial", "CP01")))) == []


# -- identity ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("path", "rule"),
    [
        ("/", "identity.missing"),
        ("", "identity.missing"),
        ("/ocpp/%20", "identity.empty-segment"),
        ("/ocpp//CP01", "identity.double-slash"),
        ("/ocpp/CP01/", "identity.trailing-slash"),
        ("/ocpp/CP:01", "identity.colon"),
        ("/ocpp/RDAM|123", "identity.needs-percent-encoding"),
        ("/ocpp/CP 01", "identity.needs-percent-encoding"),
        ("/ocpp/CP%G1", "identity.needs-percent-encoding"),
        ("/ocpp/Ladesäule", "identity.needs-percent-encoding"),
        ("/ocpp/" + "X" * 49, "identity.too-long"),
    ],
)
def test_identity_rules(path: str, rule: str) -> None:
    assert rule in ids(opened(path))


@pytest.mark.parametrize("path", ["/ocpp/CP01", "/CP01", "/ocpp/RDAM%7C123", "/ocpp/" + "X" * 48,
                                  "/ocpp/CP01?token=1", "/ocpp/CP-01_a.b*c=d+e@f"])
def test_good_identities(path: str) -> None:
    assert ids(opened(path)) == []


def test_identity_length_is_an_error_on_2x_and_a_warning_on_16() -> None:
    path = "/ocpp/" + "X" * 49
    [on_16] = [f for f in run(opened(path)) if f.rule == "identity.too-long"]
    [on_2x] = [f for f in run(opened(path, offer="ocpp2.0.1", selected="ocpp2.0.1"))
               if f.rule == "identity.too-long"]
    assert (on_16.severity, on_2x.severity) == (Severity.WARNING, Severity.ERROR)


def test_identifier_string_on_2x_only() -> None:
    path = "/ocpp/RDAM%20123"
    assert ids(opened(path)) == []
    assert ids(opened(path, offer="ocpp2.0.1", selected="ocpp2.0.1")) == ["identity.not-identifier-string"]


# -- the HTTP answer ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("status", "rule"),
    [(401, "handshake.http-401"), (404, "handshake.http-404"), (400, "handshake.http-400"),
     (503, "handshake.http-5xx"), (500, "handshake.http-5xx"), (403, "handshake.http-refused"),
     (301, "handshake.http-refused"), (200, "handshake.http-refused")],
)
def test_http_answers(status: int, rule: str) -> None:
    assert rule in ids(opened(status=status, headers=GOOD_AUTH))


def test_backend_answering_502_itself_is_not_unreachable() -> None:
    assert ids(opened(status=502, headers=GOOD_AUTH)) == ["handshake.http-5xx"]


def test_backend_unreachable() -> None:
    [finding] = run(opened(status=502, error="[Errno 111] Connect call failed ('127.0.0.1', 9)",
                           headers=GOOD_AUTH))
    assert finding.rule == "handshake.backend-unreachable"
    assert "Connect call failed" in finding.message and "nothing listens" in finding.message


def test_upstream_certificate_refused_is_explained() -> None:
    [finding] = run(opened(status=502, error="Certificate verify failed: self-signed certificate",
                           headers=GOOD_AUTH))
    assert "--upstream-ca" in finding.message


def test_charger_gave_up() -> None:
    assert ids(opened(status=0, error="Client disconnected.", headers=GOOD_AUTH)) == ["handshake.charger-gave-up"]


def test_upstream_unverified() -> None:
    unverified = opened(headers=GOOD_AUTH, upstream_tls=TlsInfo(verified=False))
    assert ids(unverified) == ["handshake.upstream-unverified"]
    assert ids(opened(headers=GOOD_AUTH, upstream_tls=TlsInfo(verified=True))) == []


def test_a_charger_path_that_repeats_the_backend_base_is_named() -> None:
    [finding] = [f for f in run(opened("/ocpp/CP01", upstream_base="/ocpp", headers=GOOD_AUTH))
                 if f.rule == "identity.path-repeats-upstream-base"]
    assert finding.severity == Severity.WARNING
    assert "'/ocpp/ocpp/CP01'" in finding.message and "point the charger at '/CP01'" in finding.message
    assert finding.evidence["upstream_base"] == "/ocpp"


@pytest.mark.parametrize(("path", "base"), [
    ("/CP01", "/ocpp"),               # the recipe as documented: identity only, the base added upstream
    ("/ocpp/CP01", ""),               # no base path upstream
    ("/ocpp/CP01", "/csms"),          # another base
    ("/ocpp", "/ocpp"),               # a charger whose identity is "ocpp"
    ("/ocppx/CP01", "/ocpp"),         # shares the letters, not the segment
])
def test_a_path_under_another_or_no_base_is_not_called_repeated(path: str, base: str) -> None:
    assert "identity.path-repeats-upstream-base" not in ids(opened(path, upstream_base=base, headers=GOOD_AUTH))
