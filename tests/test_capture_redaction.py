"""Redaction at write time: no secret reaches the file, the facts the rules need do."""

from __future__ import annotations

import base64
import logging
import stat
from pathlib import Path

import orjson
import pytest
from ocppscope.proxy.capture import CaptureWriter, read_capture
from ocppscope.proxy.capture.redact import Redactor, installation_salt, salt_id
from ocppscope.proxy.core.basic_auth import (
    format_marker,
    parse_basic_auth,
    parse_redaction_marker,
    password_kind,
    secret_hmac,
)
from ocppscope.proxy.core.events import AuthSummary, ConnectionOpened, Direction, Event, Message

SALT = b"redaction-tests"
HEX_KEY = "8f1c2a9e0b7d4c6f8a1e3b5d7c9f0a2b4c6d8e0f"  # 40 hex digits: a 1.6 AuthorizationKey
BINARY_KEY = bytes.fromhex("8f1c2a9e0b7d4c6f8a1e3b5d7c9f0a2b4c6d8e0f")


def fill(template: str, secret: str) -> str:
    return template.replace("%s", secret)


def basic(user: str | bytes, password: str | bytes) -> str:
    raw = (user if isinstance(user, bytes) else user.encode()) + b":" + (
        password if isinstance(password, bytes) else password.encode())
    return "Basic " + base64.b64encode(raw).decode()


# -- parse_basic_auth ---------------------------------------------------------------------------------------

def test_a_hex_text_key_is_recognised() -> None:
    summary = parse_basic_auth(basic("CP001", HEX_KEY), SALT)
    assert summary == AuthSummary("Basic", "CP001", 40, "hex-text", secret_hmac(HEX_KEY.encode(), SALT), None)


def test_raw_key_bytes_and_plain_text_are_told_apart() -> None:
    assert parse_basic_auth(basic("CP001", BINARY_KEY)).password_kind == "binary"
    assert parse_basic_auth(basic("CP001", BINARY_KEY)).password_bytes == 20
    assert parse_basic_auth(basic("CP001", "correct horse")).password_kind == "text"
    assert parse_basic_auth(basic("CP001", "a:b:c")).password_bytes == 5  # only the first colon splits


@pytest.mark.parametrize(
    ("header", "error", "user"),
    [
        ("Basic " + base64.b64encode(b"CP001:secret1").decode().rstrip("="), "base64 padding missing", "CP001"),
        ("Basic not*base64", "credentials are not valid base64", None),
        ("Basic " + base64.b64encode(b"no-colon-here").decode(), "no ':' between user and password", None),
        ("Basic", "no credentials after Basic", None),
        ("Basic " + base64.b64encode(b"\xff\xfe:pw").decode(), "user name is not UTF-8", "ÿþ"),
    ],
)
def test_decoding_problems_are_named(header: str, error: str, user: str | None) -> None:
    summary = parse_basic_auth(header)
    assert (summary.error, summary.user) == (error, user)


def test_other_schemes_and_no_header() -> None:
    assert parse_basic_auth("Bearer abc.def") == AuthSummary(scheme="Bearer")
    assert parse_basic_auth(None) == AuthSummary(scheme=None)
    assert parse_basic_auth("basic " + base64.b64encode(b"u:p").decode()).scheme == "basic"


def test_the_hmac_needs_the_salt_and_compares_equal_passwords() -> None:
    assert parse_basic_auth(basic("CP001", "pw")).password_hmac is None
    same = {parse_basic_auth(basic(user, "pw"), SALT).password_hmac for user in ("CP001", "CP002")}
    assert len(same) == 1
    assert parse_basic_auth(basic("CP001", "pw"), b"other salt").password_hmac not in same


def test_password_kinds() -> None:
    assert password_kind(b"0123456789abcdef0123456789ABCDEF") == "hex-text"  # 32 digits
    assert password_kind(b"0123456789abcdef0123456789abcde") == "text"  # 31
    assert password_kind(b"tab\there") == "binary"


def test_markers_parse_back() -> None:
    marker = format_marker("text", 12, "00112233aabbccdd", user='CP "1"')
    assert parse_redaction_marker(f"Basic {marker}") is not None
    parsed = parse_redaction_marker(marker)
    assert parsed is not None and (parsed.kind, parsed.bytes, parsed.hmac, parsed.user) == (
        "text", 12, "00112233aabbccdd", 'CP "1"')
    assert parse_redaction_marker("<redacted>") is None


# -- frames -------------------------------------------------------------------------------------------------

FRAMES_WITH_SECRETS = [
    # 1.6 ChangeConfiguration (write-only key, A01)
    ('[2,"1","ChangeConfiguration",{"key":"AuthorizationKey","value":"%s"}]', HEX_KEY),
    # case-insensitive key, value order swapped
    ('[2,"1","ChangeConfiguration",{"value":"%s","key":"authorizationkey"}]', "0011aa22bb33cc44dd55ee66ff778899"),
    # a charger that leaks the key in a GetConfiguration answer
    ('[3,"2",{"configurationKey":[{"key":"HeartbeatInterval","readonly":false,"value":"300"},'
     '{"key":"AuthorizationKey","readonly":false,"value":"%s"}],"unknownKey":[]}]', "LeakedKey-0001-XYZ"),
    # 2.x SetVariables of SecurityCtrlr.BasicAuthPassword
    ('[2,"3","SetVariables",{"setVariableData":[{"attributeValue":"%s","component":{"name":"SecurityCtrlr"},'
     '"variable":{"name":"BasicAuthPassword"}}]}]', "Sup3r-Secret-Passw0rd-2x"),
    # ... and a NotifyReport that shows it
    ('[2,"4","NotifyReport",{"requestId":1,"generatedAt":"2024-01-01T00:00:00Z","seqNo":0,"reportData":['
     '{"component":{"name":"SecurityCtrlr"},"variable":{"name":"BasicAuthPassword"},'
     '"variableAttribute":[{"type":"Actual","value":"%s"}]}]}]', "ReportedPassw0rd-77"),
    # SetNetworkProfile VPN password
    ('[2,"5","SetNetworkProfile",{"configurationSlot":1,"connectionData":{"ocppVersion":"OCPP20",'
     '"ocppTransport":"JSON","ocppCsmsUrl":"wss://x","messageTimeout":30,"securityProfile":1,'
     '"ocppInterface":"Wired0","vpn":{"server":"vpn","user":"u","password":"%s","key":"VpnSharedKey-9",'
     '"type":"IPSec"}}}]', "VpnPassw0rd-123"),
]


def marker_of(secret: str) -> str:
    return format_marker(password_kind(secret.encode()), len(secret.encode()), secret_hmac(secret.encode(), SALT))


@pytest.mark.parametrize(("template", "secret"), FRAMES_WITH_SECRETS)
def test_secrets_in_frames_become_markers_and_nothing_else_changes(template: str, secret: str) -> None:
    text = fill(template, secret)
    redacted = Redactor(SALT).frame(text.encode())
    expected = fill(template, marker_of(secret)).replace("VpnSharedKey-9", marker_of("VpnSharedKey-9"))
    assert redacted is not None and redacted.decode() == expected


def test_an_ecotap_user_password_key_keeps_its_user() -> None:
    # ECClite writes authorizationKey as <user>:<password> (Ecotap OCPP connection configuration v1.4 §C;
    # ECClite User Guide ch. 11).
    text = '[2,"6","ChangeConfiguration",{"key":"authorizationKey","value":"NL*ECO*1000:53Umkk1q7rEM"}]'
    new = Redactor(SALT).frame(text.encode())
    assert new is not None
    assert b"53Umkk1q7rEM" not in new and b'"NL*ECO*1000:<redacted kind=text bytes=12 hmac=' in new


def test_an_authorization_key_item_inside_com_options_is_redacted() -> None:
    value = "comMaster=0,Events=1,BlockBeforeBoot=1,authorizationKey=ECOTAP-1802500:9N8gGyS8Un7g4lY9dRICK,UseTLS=1"
    text = fill('[2,"7","ChangeConfiguration",{"key":"com_Options","value":"%s"}]', value)
    new = Redactor(SALT).frame(text.encode())
    assert new is not None
    decoded = orjson.loads(new)[3]["value"]
    assert "9N8gGyS8Un7g4lY9dRICK" not in decoded
    assert decoded.startswith("comMaster=0,Events=1,BlockBeforeBoot=1,authorizationKey=ECOTAP-1802500:<redacted ")
    assert decoded.endswith(">,UseTLS=1")


def test_every_item_of_a_long_vendor_string_is_redacted_and_the_rest_kept() -> None:
    """A vendor string of 20,000 secret items (repeated values among them) loses every secret, keeps every
    other byte, and each value gets its own marker (it is rewritten in one pass, not once per item)."""
    values = [f"Psk{number % 15_000:05d}" for number in range(20_000)]
    items = ";".join(f"wifi_psk={value};ssid=net{number}" for number, value in enumerate(values))
    text = fill('[2,"3","DataTransfer",{"vendorId":"V","data":"%s"}]', items)
    new = Redactor(SALT).frame(text.encode())
    assert new is not None
    expected = ";".join(f"wifi_psk={marker_of(value)};ssid=net{number}" for number, value in enumerate(values))
    assert orjson.loads(new)[3]["data"] == expected


@pytest.mark.parametrize("data", [
    # the items of the string are found before the secrets of the JSON document it holds
    '{"password": "Hunter2Secret", "note": "wifi_psk=Tok2Value"}',
    # a key/value pair of an object is found before the object's other members
    '{"sub":{"password":"FirstSecret1"},"key":"AuthorizationKey","value":"SecondSecret2"}',
    # the same value under two secret names
    "a_pass=SameValue1;b_pass=SameValue1;ssid=net",
])
def test_secrets_found_out_of_their_order_in_a_string_are_all_redacted(data: str) -> None:
    text = '[2,"3","DataTransfer",{"vendorId":"V","data":' + orjson.dumps(data).decode() + "}]"
    new = Redactor(SALT).frame(text.encode())
    assert new is not None
    for secret in (b"Hunter2Secret", b"Tok2Value", b"FirstSecret1", b"SecondSecret2", b"SameValue1"):
        assert secret not in new


@pytest.mark.parametrize("text", [
    '[2,"1","DataTransfer",{"vendorId":"v","data":"pin=2019;password=abcdef"},"It\\u2019s"]',
    '[2,"1","DataTransfer",{"vendorId":"v","data":"pin=true;password=abcdef","flag":true}]',
    '[2,"1","DataTransfer",{"vendorId":"v","messageId":"xs3cr3t",'
    '"data":"{\\"a\\":\\"pin=s3cr3t\\",\\"b\\":\\"password=hunter22\\"}"}]',
])
def test_items_redacted_in_a_string_leave_the_frame_valid_json(text: str) -> None:
    """An item's value that also spells an escape, a literal or another string's start elsewhere in the frame
    is replaced in its item only: the redacted frame still parses."""
    orjson.loads(text)
    new = Redactor(SALT).frame(text.encode())
    assert new is not None and b"abcdef" not in new and b"hunter22" not in new
    orjson.loads(new)


def test_secrets_inside_a_json_string_and_in_invalid_json_are_found() -> None:
    embedded = '[2,"8","DataTransfer",{"vendorId":"ECOTAP","data":"{\\"authorizationKey\\":\\"EmbeddedK3y!\\"}"}]'
    broken = '[2,"9","ChangeConfiguration",{"key":"AuthorizationKey","value":"BrokenJs0nKey"}'
    redactor = Redactor(SALT)
    for text, secret in ((embedded, b"EmbeddedK3y!"), (broken, b"BrokenJs0nKey")):
        new = redactor.frame(text.encode())
        assert new is not None and secret not in new and b"<redacted kind=text" in new


def test_deeply_nested_and_non_utf8_frames_are_still_redacted() -> None:
    redactor = Redactor(SALT)
    deep = redactor.frame(b"[" * 900 + b'{"password":"DeepS3cret"}' + b"]" * 900)
    assert deep is not None and b"DeepS3cret" not in deep and deep.startswith(b"[" * 900)
    not_utf8 = b'[2,"1","ChangeConfiguration",{"key":"AuthorizationKey","value":"S3cretKey","x":"\xff"}]'
    new = redactor.frame(not_utf8)
    assert new == not_utf8.replace(b"S3cretKey", marker_of("S3cretKey").encode())


def test_frames_without_secrets_are_left_alone() -> None:
    redactor = Redactor(SALT)
    plain = Message("c", 1.0, Direction.FROM_BACKEND,
                    b'[2,"1","ChangeConfiguration",{"key":"GetConfigurationMaxKeys","value":"20"}]')
    assert redactor.message(plain) is plain  # a key that only looks like a secret one
    assert redactor.frame(b'[2,"1","Heartbeat",{}]') is None
    binary = Message("c", 1.0, Direction.FROM_BACKEND, b"AuthorizationKey", is_text=False)
    assert redactor.message(binary) is binary


# -- captures -----------------------------------------------------------------------------------------------

SECRETS = {
    "basic": "Zx9-Basic-Passw0rd-Q",
    "hexkey": HEX_KEY,
    "proxy": "Pr0xyCredential-77",
    "bearer": "BearerT0ken-abcdef",
    "leaked": "Le4ked-From-GetConfiguration",
    "csl": "C5L-Hidden-Item-Pw",
    "variable": "B4sicAuth-Variable-Pw",
    "embedded": "Emb3dded-In-DataTransfer",
    "broken": "Br0ken-Frame-Secret",
}


def events_full_of_secrets() -> list[Event]:
    s = SECRETS
    frames = [
        fill('[2,"1","ChangeConfiguration",{"key":"AuthorizationKey","value":"%s"}]', s["hexkey"]),
        fill('[3,"2",{"configurationKey":[{"key":"AuthorizationKey","readonly":false,"value":"%s"}]}]', s["leaked"]),
        fill('[2,"3","ChangeConfiguration",{"key":"com_Options","value":"UseTLS=1,authorizationKey=CP001:%s"}]',
             s["csl"]),
        fill('[2,"4","SetVariables",{"setVariableData":[{"attributeValue":"%s","component":{"name":"SecurityCtrlr"},'
             '"variable":{"name":"BasicAuthPassword"}}]}]', s["variable"]),
        fill('[2,"5","DataTransfer",{"vendorId":"V","data":"{\\"basicAuthPassword\\":\\"%s\\"}"}]', s["embedded"]),
        fill('[2,"6","ChangeConfiguration",{"key":"AuthorizationKey","value":"%s"', s["broken"]),
    ]
    return [
        ConnectionOpened("c1", 1.0, "10.0.0.1:1", "/ocpp/CP001",
                         request_headers=(("Authorization", basic("CP001", s["basic"])),
                                          ("Proxy-Authorization", basic("proxyuser", s["proxy"]))),
                         subprotocol="ocpp1.6", seq=1),
        ConnectionOpened("c2", 1.5, "10.0.0.2:1", "/ocpp/CP002",
                         request_headers=(("authorization", f"Bearer {s['bearer']}"),), seq=2),
        *(Message("c1", 2.0 + i, Direction.FROM_BACKEND if i != 1 else Direction.FROM_CHARGER, f.encode(),
                  seq=3 + i) for i, f in enumerate(frames)),
    ]


def write(path: Path, events: list[Event], **options: object) -> Path:
    with CaptureWriter(path, **{"salt": SALT, **options}) as writer:  # type: ignore[arg-type]
        for event in events:
            writer.write(event)
    return path


def test_a_capture_full_of_secrets_contains_none_of_them(tmp_path: Path) -> None:
    data = write(tmp_path / "s.jsonl", events_full_of_secrets()).read_bytes()
    for name, secret in SECRETS.items():
        assert secret.encode() not in data, name
    for credentials in (f"CP001:{SECRETS['basic']}", f"proxyuser:{SECRETS['proxy']}"):
        assert base64.b64encode(credentials.encode()) not in data
        assert base64.b64encode(credentials.encode()).rstrip(b"=") not in data
    assert data.count(b"<redacted ") == 9  # 3 headers, 6 frames


def test_redacted_records_say_so_and_keep_the_facts(tmp_path: Path) -> None:
    events = list(read_capture(write(tmp_path / "s.jsonl", events_full_of_secrets())))
    opened = events[0]
    assert isinstance(opened, ConnectionOpened)
    assert opened.request_headers[0] == (
        "Authorization", format_marker("text", len(SECRETS["basic"]), secret_hmac(SECRETS["basic"].encode(), SALT),
                                       user="CP001").join(("Basic ", "")))
    assert opened.auth == parse_basic_auth(basic("CP001", SECRETS["basic"]), SALT)
    assert all(isinstance(e, Message) and e.redacted for e in events[2:])


def test_equal_keys_have_equal_hmacs_in_headers_and_frames(tmp_path: Path) -> None:
    # The key the backend sets and the password the charger then sends can be matched without storing either.
    events: list[Event] = [
        Message("c1", 1.0, Direction.FROM_BACKEND,
                b'[2,"1","ChangeConfiguration",{"key":"AuthorizationKey","value":"%s"}]' % HEX_KEY.encode(), seq=1),
        ConnectionOpened("c2", 2.0, "", "/CP001", request_headers=(("Authorization", basic("CP001", HEX_KEY)),),
                         seq=2),
    ]
    first, second = read_capture(write(tmp_path / "s.jsonl", events))
    assert isinstance(first, Message) and isinstance(second, ConnectionOpened) and second.auth is not None
    marker = parse_redaction_marker(first.content.decode())
    assert marker is not None and marker.hmac == second.auth.password_hmac


def test_no_redact_is_explicit_and_warns(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="ocppscope.capture"):
        path = write(tmp_path / "clear.jsonl", events_full_of_secrets(), redact=False)
    assert "NOT redacted" in caplog.text
    data = path.read_bytes()
    assert orjson.loads(data.splitlines()[0])["redacted"] is False
    assert SECRETS["hexkey"].encode() in data
    opened = next(iter(read_capture(path)))
    assert isinstance(opened, ConnectionOpened) and opened.auth is not None and opened.auth.user == "CP001"


def test_rewriting_a_redacted_capture_changes_nothing(tmp_path: Path) -> None:
    once = list(read_capture(write(tmp_path / "once.jsonl", events_full_of_secrets())))
    twice = list(read_capture(write(tmp_path / "twice.jsonl", once)))
    assert twice == once


def test_the_salt_is_created_once_and_kept_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OCPPSCOPE_HOME", str(tmp_path / "home"))
    salt = installation_salt()
    salt_file = tmp_path / "home" / "redaction-salt"
    assert stat.S_IMODE(salt_file.stat().st_mode) == 0o600
    assert len(salt) == 32 and installation_salt() == salt
    with CaptureWriter(tmp_path / "s.jsonl") as writer:
        writer.write(events_full_of_secrets()[0])
    header, opened = (orjson.loads(line) for line in (tmp_path / "s.jsonl").read_bytes().splitlines())
    assert header["salt_id"] == salt_id(salt)
    assert opened["auth"]["password_hmac"] == secret_hmac(SECRETS["basic"].encode(), salt)


def test_credentials_in_another_header_are_redacted_and_still_flagged(tmp_path: Path) -> None:
    from ocppscope.proxy.core.analyzer import Analyzer
    from ocppscope.proxy.core.checks import default_checkers

    leaked = base64.b64encode(b"CP01:hunter2-hunter2").decode()
    event = ConnectionOpened("c1", 1.0, "127.0.0.1:1", "/ocpp/CP01",
                             request_headers=(("Sec-WebSocket-Protocol", "ocpp1.6"), ("Sec-WebSocket-Key", leaked)),
                             subprotocol="ocpp1.6", seq=1)
    path = tmp_path / "c.jsonl"
    with CaptureWriter(path, salt=SALT) as writer:
        writer.write(event)
    assert leaked.encode() not in path.read_bytes() and b"hunter2" not in path.read_bytes()
    [replayed] = list(read_capture(path))
    for opened in (event, replayed):
        rules = [f.rule for f in Analyzer(default_checkers()).feed(opened).findings]
        assert "auth.credentials-in-other-header" in rules


def test_secret_query_items_of_the_upgrade_path_are_redacted() -> None:
    event = ConnectionOpened("c1", 1.0, "10.0.0.1:1", "/ocpp/CP001?auth_token=Qu3ry-T0ken-9&lang=en", seq=1)
    redacted = Redactor(SALT).opened(event)
    assert "Qu3ry-T0ken-9" not in redacted.path
    assert redacted.path.startswith("/ocpp/CP001?auth_token=<redacted kind=text bytes=13 ")
    assert redacted.path.endswith(">&lang=en")
    plain = ConnectionOpened("c2", 1.0, "10.0.0.1:1", "/ocpp/CP001?lang=en", seq=2)
    assert Redactor(SALT).opened(plain) is plain
