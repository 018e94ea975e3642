"""A capture recorded with --no-redact, full of planted secrets, through every place ocppscope writes or shows:
not one secret comes out. Captures, exports, reports, diagnose, diff, the console, the live stream, the TUI,
flow files, and the messages and evidence of findings; files readable by their owner only."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from ocppscope.addons.console import OcppConsole
from ocppscope.proxy.capture import CaptureWriter, read_capture
from ocppscope.proxy.capture.redact import Redactor
from ocppscope.proxy.cli import main
from ocppscope.proxy.core.analyzer import Analyzer, Inspection
from ocppscope.proxy.core.checks import default_checkers
from ocppscope.proxy.core.events import ConnectionClosed, ConnectionOpened, Direction, Event, Message
from ocppscope.proxy.profiles.options import profile_checker
from ocppscope.proxy.stream.server import StreamServer
from ocppscope.proxy.stream.wire import batch_lines
from ocppscope.tui.describe import findings_table, frame_body, handshake_view, row_title
from ocppscope.tui.index import FrameIndex
from ocppscope.tui.loader import ReplayLoader
from ocppscope.tui.rows import RowPainter
from rich.console import Console
from websockets.asyncio.client import connect

from tests.engine_support import ocppscope_home  # noqa: F401

pytestmark = [pytest.mark.usefixtures("ocppscope_home"), pytest.mark.timeout(120)]

SECRETS = {
    "basic": "Bas1c-Header-Passw0rd",
    "authorization_key": "5e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f",
    "pin": "P1n-470815",
    "psk": "Wl4n-Psk-Secret",
    "ecotap": "9N8gGyS8Un7g4lY9dRICK",
    "variable": "Var-B4sicAuth-Pw",
    "data_transfer": "Dt-Emb3dded-Pw",
    "apn": "Apn-Passw0rd-77",
}
SALT = b"everywhere"
T0 = 1_700_000_000.0


def _frames(s: dict[str, str]) -> list[tuple[str, Direction, str]]:
    cp, cs = Direction.FROM_CHARGER, Direction.FROM_BACKEND
    return [
        ("c1", cp, '[2,"b1","BootNotification",{"chargePointVendor":"Ecotap","chargePointModel":"EVC5",'
                   '"chargePointSerialNumber":"1891351"}]'),
        ("c1", cs, '[3,"b1",{"status":"Accepted","currentTime":"2024-01-01T00:00:00Z","interval":300}]'),
        ("c1", cs, f'[2,"k1","ChangeConfiguration",{{"key":"AuthorizationKey","value":"{s["authorization_key"]}"}}]'),
        ("c1", cp, '[3,"k1",{"status":"Accepted"}]'),
        # The Ecotap options value with its embedded key, and an option the profile does not know: the config
        # rule quotes the value.
        ("c1", cs, '[2,"k2","ChangeConfiguration",{"key":"com_Options","value":"Events=1,Turbo=1,'
                   f'authorizationKey=ECOTAP-1802500:{s["ecotap"]},useTLS=1"}}]'),
        ("c1", cp, '[3,"k2",{"status":"Accepted"}]'),
        ("c1", cs, '[2,"g1","GetConfiguration",{}]'),
        ("c1", cp, '[3,"g1",{"configurationKey":[{"key":"HeartbeatInterval","readonly":false,"value":"300"},'
                   f'{{"key":"AuthorizationKey","readonly":false,"value":"{s["authorization_key"]}"}},'
                   f'{{"key":"Cfg_UserPin","readonly":false,"value":"{s["pin"]}"}},'
                   f'{{"key":"wifi_psk","readonly":false,"value":"{s["psk"]}"}}],"unknownKey":[]}}]'),
        ("c1", cp, '[2,"d1","DataTransfer",{"vendorId":"Ecotap","messageId":"cfg",'
                   f'"data":"{{\\"wifi\\":{{\\"ssid\\":\\"site\\",\\"password\\":\\"{s["data_transfer"]}\\"}}}}"}}]'),
        ("c1", cs, '[3,"d1",{"status":"Accepted"}]'),
        ("c2", cs, '[2,"v1","SetVariables",{"setVariableData":[{"attributeValue":'
                   f'"{s["variable"]}","component":{{"name":"SecurityCtrlr"}},'
                   '"variable":{"name":"BasicAuthPassword"}}]}]'),
        ("c2", cp, '[3,"v1",{"setVariableResult":[{"attributeStatus":"Accepted","component":{"name":"SecurityCtrlr"},'
                   '"variable":{"name":"BasicAuthPassword"}}]}]'),
        ("c2", cs, '[2,"n1","SetNetworkProfile",{"configurationSlot":1,"connectionData":{"ocppVersion":"OCPP20",'
                   '"ocppTransport":"JSON","ocppCsmsUrl":"wss://csms.example.com/ocpp","messageTimeout":30,'
                   '"securityProfile":2,"ocppInterface":"Cellular",'
                   f'"apn":{{"apn":"m2m","apnUserName":"u","apnPassword":"{s["apn"]}","apnAuthentication":"PAP"}}}}}}]'),
        ("c2", cp, '[3,"n1",{"status":"Accepted"}]'),
    ]


def _events(s: dict[str, str]) -> list[Event]:
    credentials = base64.b64encode(f"CP-ECO:{s['basic']}".encode()).decode()
    events: list[Event] = [
        ConnectionOpened("c1", T0, "10.0.0.7:40001", "/ocpp/CP-ECO",
                         request_headers=(("Sec-WebSocket-Protocol", "ocpp1.6"),
                                          ("Authorization", f"Basic {credentials}")),
                         subprotocol="ocpp1.6", upstream="ws://backend/ocpp/CP-ECO", seq=1),
        ConnectionOpened("c2", T0 + 0.5, "10.0.0.8:40002", "/ocpp/CP-201",
                         request_headers=(("Sec-WebSocket-Protocol", "ocpp2.0.1"),),
                         subprotocol="ocpp2.0.1", upstream="ws://backend/ocpp/CP-201", seq=2),
    ]
    for n, (conn, direction, text) in enumerate(_frames(s), 3):
        events.append(Message(conn, T0 + n, direction, text.encode(), True, n))
    seq = len(events) + 1
    events += [ConnectionClosed("c1", T0 + seq, 1000, "", "charger", seq),
               ConnectionClosed("c2", T0 + seq + 1, 1000, "", "charger", seq + 1)]
    return events


def _write(path: Path, events: list[Event]) -> Path:
    with CaptureWriter(path, redact=False, salt=SALT) as writer:
        for event in events:
            writer.write(event)
    return path


@pytest.fixture
def clear(tmp_path: Path) -> Path:
    path = _write(tmp_path / "clear.jsonl", _events(SECRETS))
    data = path.read_bytes()
    assert sorted(leaks(data)) == sorted([*(name for name in SECRETS if name != "basic"), "basic (base64)"])
    return path


def leaks(text: str | bytes) -> list[str]:
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    found = [name for name, secret in SECRETS.items() if secret.encode() in data]
    basic = base64.b64encode(f"CP-ECO:{SECRETS['basic']}".encode())
    if basic in data or basic.rstrip(b"=") in data:
        found.append("basic (base64)")
    return found


def _inspections(events: list[Event]) -> Iterator[tuple[Event, Inspection]]:
    analyzer = Analyzer([*default_checkers(), profile_checker(["CP-ECO=ecotap-evc5"], include_user=False)])
    for event in events:
        yield event, analyzer.feed(event)


def test_every_command_output_is_free_of_secrets(clear: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    other = _write(tmp_path / "other.jsonl", _events({name: value[::-1] for name, value in SECRETS.items()}))
    out = tmp_path / "out"
    outputs: dict[str, bytes] = {}
    commands = {
        "import": ["import", str(clear), "-o", str(out / "imported.jsonl")],
        "export-jsonl": ["export", str(clear), "-o", str(out / "trace.jsonl")],
        "export-json": ["export", str(clear), "-o", str(out / "trace.json")],
        "check-text": ["check", "--profile", "CP-ECO=ecotap-evc5", "--fail-on", "never", "--format", "text",
                       str(clear)],
        "check-json": ["check", "--profile", "CP-ECO=ecotap-evc5", "--fail-on", "never", "--format", "json",
                       "-o", str(out / "report.json"), str(clear)],
        "check-junit": ["check", "--profile", "CP-ECO=ecotap-evc5", "--fail-on", "never", "--format", "junit",
                        "-o", str(out / "report.xml"), str(clear)],
        "diagnose-text": ["diagnose", str(clear)],
        "diagnose-json": ["diagnose", "--format", "json", str(clear)],
        "diff-text": ["diff", "--fail-on", "never", str(clear), str(other)],
        "diff-json": ["diff", "--fail-on", "never", "--format", "json", str(clear), str(other)],
    }
    out.mkdir()
    for name, argv in commands.items():
        assert main(argv) in (0, 1), name
        captured = capsys.readouterr()
        outputs[f"{name} (stdout+stderr)"] = (captured.out + captured.err).encode("utf-8", "surrogatepass")
    for path in sorted(out.iterdir()):
        outputs[path.name] = path.read_bytes()
    assert {name: leaks(data) for name, data in outputs.items() if leaks(data)} == {}
    # The outputs are about the secrets, so the test can fail: the rules that quote values did fire.
    report = json.loads(outputs["report.json"])
    rules = {f["rule"] for i in report["inputs"] for f in i["findings"]}
    assert {"security.secret-disclosed", "config.bad-format"} <= rules
    assert b"<redacted" in outputs["report.json"] and b"ECOTAP-1802500:<redacted" in outputs["report.json"]


def test_findings_never_quote_a_secret_in_message_or_evidence(clear: Path) -> None:
    findings = [f for _, inspection in _inspections(list(read_capture(clear))) for f in inspection.findings]
    assert len(findings) >= 3
    assert leaks(orjson.dumps([f.to_json() for f in findings], default=str)) == []


@pytest.mark.parametrize("mode", ["lines", "findings", "json"])
def test_the_console_shows_no_secret(clear: Path, mode: str) -> None:
    screen = io.StringIO()
    console = OcppConsole(mode, out=screen)
    for event, inspection in _inspections(list(read_capture(clear))):
        console.on_inspection(event, inspection)
    text = screen.getvalue()
    assert "CP-ECO" in text and leaks(text) == []


async def test_the_live_stream_carries_no_secret(clear: Path) -> None:
    token = "stream-token-0123456789"
    server = StreamServer("127.0.0.1", 0, token, redactor=Redactor(SALT))
    await server.start()
    lines: list[bytes] = []
    events = list(read_capture(clear))
    try:
        async with connect(server.url, additional_headers={"Authorization": f"Bearer {token}"}) as ws:
            hello = json.loads(await ws.recv())
            assert hello["redacted"] is True
            for event, inspection in _inspections(events):
                server.on_inspection(event, inspection)
            async with asyncio.timeout(10):
                while sum(1 for line in lines if b'"type":"finding"' not in line) < len(events):
                    message = await ws.recv()
                    if isinstance(message, bytes):
                        lines.extend(batch_lines(message))
    finally:
        await server.stop()
    assert any(b'"type":"finding"' in line for line in lines)
    assert leaks(b"\n".join(lines)) == []


def test_the_tui_rows_detail_and_handshakes_show_no_secret(clear: Path) -> None:
    index = FrameIndex()
    loader = ReplayLoader([str(clear)], index)
    loader.start()
    try:
        assert loader.wait(60) and loader.state.error is None
        console = Console(width=160, file=io.StringIO(), record=True, color_system=None)
        painter = RowPainter(index)
        for row in range(index.count):
            console.print(painter.plain(row, 400))
            console.print(row_title(index, row))
            console.print(frame_body(index, row))
            console.print(findings_table(index.findings_of(row)))
        for info in index.conns:
            console.print(handshake_view(index, info))
        text = console.export_text()
    finally:
        loader.stop()
    assert "ChangeConfiguration" in text and leaks(text) == []


def test_a_flow_saved_for_mitmproxy_holds_no_secret() -> None:
    from mitmproxy.test import tflow
    from mitmproxy.websocket import WebSocketMessage
    from wsproto.frame_protocol import Opcode

    flow = tflow.twebsocketflow()
    flow.request.path = "/ocpp/CP-ECO"
    credentials = base64.b64encode(f"CP-ECO:{SECRETS['basic']}".encode()).decode()
    flow.request.headers["Authorization"] = f"Basic {credentials}"
    frames = [text for _, _, text in _frames(SECRETS)]
    flow.websocket.messages = [WebSocketMessage(Opcode.TEXT, i % 2 == 0, text.encode(), T0 + i)
                               for i, text in enumerate(frames)]
    saved = Redactor(SALT).flow(flow)
    everything = orjson.dumps(saved.get_state(), default=lambda value: value.decode("utf-8", "replace")
                              if isinstance(value, bytes) else str(value))
    assert leaks(everything) == []
    assert saved.request.headers["Authorization"].startswith('Basic <redacted user="CP-ECO"')
    assert SECRETS["psk"].encode() in b"".join(m.content for m in flow.websocket.messages), "the relay's flow is intact"


def test_captures_and_exports_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    from ocppscope.addons.capture import OcppCapture

    old = os.umask(0o022)
    try:
        directory = tmp_path / "site" / "captures"
        capture = OcppCapture(directory)
        events = _events(SECRETS)
        for event in events:
            capture.on_inspection(event, None)
        capture.on_close(None)  # type: ignore[arg-type]
        assert capture.files
        assert main(["export", str(capture.files[0]), "-o", str(tmp_path / "trace.jsonl")]) == 0
        existing = tmp_path / "existing.jsonl"
        existing.write_text("")
        os.chmod(existing, 0o644)
        with CaptureWriter(existing, salt=SALT) as writer:
            writer.write(events[0])
    finally:
        os.umask(old)
    modes = {path.name: stat.S_IMODE(path.stat().st_mode)
             for path in (*capture.files, tmp_path / "trace.jsonl", existing)}
    assert set(modes.values()) == {0o600}, modes
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "site").stat().st_mode) == 0o700
    for path in capture.files:
        assert leaks(path.read_bytes()) == []


def test_a_stream_token_the_user_set_is_not_echoed(monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    import argparse

    from ocppscope.proxy.stream.addon import announce
    from ocppscope.proxy.stream.options import stream_setup
    from ocppscope.proxy.stream.wire import TOKEN_ENV

    monkeypatch.setenv(TOKEN_ENV, "user-chosen-token-123")
    _addons, spec = stream_setup(argparse.Namespace(stream="127.0.0.1:0"), [])
    assert spec.token_given
    announce("127.0.0.1", 7777, "user-chosen-token-123", None, token_given=spec.token_given)
    said = capsys.readouterr().err
    assert "user-chosen-token-123" not in said and f"{TOKEN_ENV}=<the token you set" in said
    assert "tui --attach 127.0.0.1:7777" in said
    monkeypatch.delenv(TOKEN_ENV)
    _addons, spec = stream_setup(argparse.Namespace(stream="127.0.0.1:0"), [])
    assert not spec.token_given
    announce("127.0.0.1", 7777, os.environ[TOKEN_ENV], None, token_given=spec.token_given)
    assert os.environ[TOKEN_ENV] in capsys.readouterr().err  # a token ocppscope made up must be shown
