"""mitmproxy flow files as input, and ``ocppscope proxy --save-flows`` writing them.

The flow files are written by real mitmproxy: ``mitmdump -w`` (with ``-s addons/save_flows.py`` beside it) and
``ocppscope proxy --save-flows``, while a real ``ocpp`` charge point talks to a real central system through
them. What the import gives is compared with what the charge point sent and received (its WebSocket is
tapped), with the capture the live addon wrote in the same run, and with what mitmproxy's own FlowReader reads.
"""

from __future__ import annotations

import asyncio
import contextlib
import stat
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from mitmproxy import http
from mitmproxy.io import FlowReader, FlowWriter
from mitmproxy.test import tflow
from ocpp.v16 import call as call16
from ocppscope.proxy.capture import ReadReport, read_events
from ocppscope.proxy.capture.sources import detect_format
from ocppscope.proxy.core.events import ConnectionClosed, ConnectionOpened, Direction, Event, Message, header
from ocppscope.proxy.demo.backend import BackendBehaviour, start_central_system

from tests import engine_support
from tests.engine_support import basic
from tests.pcap_support import charger_session, close_of, connections, frames_of
from tests.test_engine_cli import command, ocppscope

ocppscope_home = engine_support.ocppscope_home
pytestmark = [pytest.mark.usefixtures("ocppscope_home"), pytest.mark.timeout(120)]
MITMDUMP = str(Path(sys.executable).parent / "mitmdump")
ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "flows-Pa55word-0123456789abcdef"
AUTHORIZATION_KEY = "0A1B2C3D4E5F60718293A4B5C6D7E8F901234567"


def read(path: Path, report: ReadReport | None = None) -> list[Event]:
    return list(read_events(path, report=report))


def flow_messages(path: Path) -> list[tuple[Direction, str]]:
    """The WebSocket messages of a flow file as mitmproxy's own reader gives them."""
    with path.open("rb") as handle:
        return [(Direction.FROM_CHARGER if message.from_client else Direction.FROM_BACKEND, message.text)
                for flow in FlowReader(handle).stream() if isinstance(flow, http.HTTPFlow) and flow.websocket
                for message in flow.websocket.messages]


def plain_http_get(port: int) -> None:
    """A browser's look at the backend through the proxy: a flow that is not a WebSocket."""
    # The WebSocket server answers plain HTTP with an error status: still a flow.
    with contextlib.suppress(urllib.error.HTTPError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=10)


async def test_a_mitmdump_flow_file_reads_back_as_the_peers_sent_it(tmp_path: Path) -> None:
    behaviour = BackendBehaviour(heartbeat_interval=60, credentials={"CP-FLOWS-1": PASSWORD})
    flows, redacted = tmp_path / "mitmdump.flows", tmp_path / "saved.flows"
    async with await start_central_system(behaviour) as central, command([
        MITMDUMP, "-w", str(flows), "-s", "addons/ocppscope.py", "-s", "addons/save_flows.py",
        "--mode", f"reverse:http://127.0.0.1:{central.port}@127.0.0.1:0", "--set", f"confdir={tmp_path / 'conf'}",
        "--set", f"ocpp_capture_dir={tmp_path / 'captures'}", "--set", f"ocpp_save_flows={redacted}",
        "--set", "ocpp_console=off", "--set", "connection_strategy=lazy",
    ]) as proxy:
        await asyncio.to_thread(plain_http_get, proxy.port)  # the backend runs on this loop
        tap = await charger_session(f"ws://127.0.0.1:{proxy.port}/ocpp", "CP-FLOWS-1",
                                    authorization=basic("CP-FLOWS-1", PASSWORD))
        code, stdout, stderr = await proxy.stop()
    assert code == 0, stdout + stderr
    assert detect_format(flows) == "mitmproxy"
    report = ReadReport(str(flows))
    events = read(flows, report)
    [opened] = connections(events)
    assert opened.path == "/ocpp/CP-FLOWS-1" and opened.status == 101 and opened.subprotocol == "ocpp1.6"
    assert header(opened.request_headers, "Authorization") == basic("CP-FLOWS-1", PASSWORD)
    assert frames_of(events, opened.conn_id) == tap.frames and len(tap.frames) == 6
    closed = close_of(events, opened.conn_id)
    assert (closed.code, closed.closed_by) == (1000, "charger")
    assert any("1 flow(s) that are not WebSocket upgrades were skipped (GET http" in note for note in report.notes)

    # The live addon's capture of the same run holds the same connection, frames and times.
    [capture] = (tmp_path / "captures").glob("CP-FLOWS-1_*.jsonl")
    live = read(capture)
    assert connections(live)[0].conn_id == opened.conn_id
    assert [(e.direction, e.content, e.time) for e in live if type(e) is Message] == [
        (e.direction, e.content, e.time) for e in events if type(e) is Message]

    # The file save_flows.py wrote beside it: private, the password gone, the frames the same.
    assert stat.S_IMODE(redacted.stat().st_mode) == 0o600
    credentials = basic("CP-FLOWS-1", PASSWORD).split()[1].encode()
    assert credentials not in redacted.read_bytes() and credentials in flows.read_bytes()
    saved = read(redacted)
    assert frames_of(saved, opened.conn_id) == tap.frames
    assert header(connections(saved)[0].request_headers, "Authorization").startswith("Basic <redacted")


async def test_proxy_save_flows_round_trip_with_secrets_redacted(tmp_path: Path) -> None:
    behaviour = BackendBehaviour(
        heartbeat_interval=60, credentials={"CP-FLOWS-2": PASSWORD},
        requests_after_boot=(call16.ChangeConfiguration(key="AuthorizationKey", value=AUTHORIZATION_KEY),),
    )
    flows = tmp_path / "run.flows"
    async with await start_central_system(behaviour) as central, command(ocppscope(
        "proxy", "--upstream", central.url, "--listen", "127.0.0.1:0", "-q", "--save-flows", str(flows),
        "--capture", str(tmp_path / "captures"),
    )) as proxy:
        tap = await charger_session(f"ws://127.0.0.1:{proxy.port}", "CP-FLOWS-2",
                                    authorization=basic("CP-FLOWS-2", PASSWORD), await_from_backend=AUTHORIZATION_KEY)
        code, _stdout, stderr = await proxy.stop()
    assert code == 0, stderr
    assert f"saving flows into {flows}" in stderr
    assert any(AUTHORIZATION_KEY in text for _, text in tap.frames)  # the secret really crossed the wire
    data = flows.read_bytes()
    assert stat.S_IMODE(flows.stat().st_mode) == 0o600
    assert AUTHORIZATION_KEY.encode() not in data and basic("CP-FLOWS-2", PASSWORD).split()[1].encode() not in data

    # mitmproxy reads it back (mitmweb opens it): the frames as sent, the secret replaced by its marker.
    # Each side's frames in the order it sent them (the backend's ChangeConfiguration crosses the charger's
    # StatusNotification: how the two directions interleave depends on the moment).
    by_mitmproxy = flow_messages(flows)
    for side in Direction:
        sent = [text for direction, text in tap.frames if direction is side]
        saved = [text for direction, text in by_mitmproxy if direction is side]
        assert len(saved) == len(sent)
        for text, original in zip(saved, sent, strict=True):
            assert text == original if AUTHORIZATION_KEY not in original else "<redacted" in text
    # ocppscope reads it back as it reads the capture of the same run: the same frames, the same redaction.
    events = read(flows)
    [opened] = connections(events)
    [capture] = (tmp_path / "captures").glob("CP-FLOWS-2_*.jsonl")
    assert frames_of(events, opened.conn_id) == frames_of(read(capture), opened.conn_id) == by_mitmproxy
    assert [type(e) for e in events][-1] is ConnectionClosed


def _websocket_flow(opened: float, messages: list[tuple[bool, str, float]], *, ended: float | None) -> http.HTTPFlow:
    """A mitmproxy WebSocket flow (mitmproxy's own test factory), opened at ``opened``."""
    flow = tflow.twebsocketflow(messages=False)
    flow.request.path = "/ocpp/CP-FLOWS-3"
    flow.response.timestamp_start = opened
    assert flow.websocket is not None
    from mitmproxy.websocket import WebSocketMessage

    flow.websocket.messages = [WebSocketMessage(1, from_client, text.encode(), when)
                               for from_client, text, when in messages]
    flow.websocket.timestamp_end = ended
    flow.websocket.close_code = 1000 if ended is not None else None
    return flow


def test_injected_frames_time_order_and_an_open_websocket(tmp_path: Path) -> None:
    # Two overlapping connections written as mitmproxy writes them, by their end: the later one first.
    early = _websocket_flow(100.0, [(True, '[2,"e1","Heartbeat",{}]', 101.0), (False, '[3,"e1",{}]', 101.5),
                                    (False, '[2,"inj-1","GetConfiguration",{}]', 103.0),
                                    (True, '[3,"inj-1",{"configurationKey":[]}]', 103.5)], ended=110.0)
    early.websocket.messages[2].injected = True  # a CALL injected from the UI
    early.websocket.messages[3].dropped = True  # its answer, held back from the backend
    late = _websocket_flow(102.0, [(True, '[2,"l1","Heartbeat",{}]', 102.5)], ended=None)  # still open
    late.id = "f" * 8 + late.id[8:]
    path = tmp_path / "written.flows"
    with path.open("wb") as handle:
        writer = FlowWriter(handle)
        writer.add(early)
        writer.add(late)
    report = ReadReport(str(path))
    events = read(path, report)
    assert [event.time for event in events] == sorted(event.time for event in events)
    assert [event.seq for event in events] == list(range(1, len(events) + 1))
    messages = [e for e in events if type(e) is Message]
    assert [(m.content[:12], m.injected) for m in messages] == [
        (b'[2,"e1","Hea', False), (b'[3,"e1",{}]', False), (b'[2,"l1","Hea', False),
        (b'[2,"inj-1","', True), (b'[3,"inj-1",{', True)]
    assert [type(e) for e in events if e.conn_id == late.id[:8]] == [ConnectionOpened, Message]
    assert any("1 WebSocket(s) were still open" in note for note in report.notes)


def test_a_damaged_flow_file_is_unusable_input_not_a_crash(tmp_path: Path) -> None:
    flow = _websocket_flow(100.0, [(True, '[2,"e1","Heartbeat",{}]', 101.0)], ended=110.0)
    whole = tmp_path / "whole.flows"
    with whole.open("wb") as handle:
        FlowWriter(handle).add(flow)
    data = whole.read_bytes()
    (tmp_path / "cut.flows").write_bytes(data[: len(data) // 2])
    (tmp_path / "garbage.flows").write_bytes(b"12:7:request;0:~}" + b"\x00" * 40)
    for name in ("cut.flows", "garbage.flows"):
        result = subprocess.run([sys.executable, "-m", "ocppscope", "check", str(tmp_path / name)], cwd=ROOT,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 2, result.stderr
        assert f"{tmp_path / name}: not a readable mitmproxy flow file" in result.stderr


def test_a_flow_file_that_cannot_be_written_is_an_error_before_anything_listens(tmp_path: Path) -> None:
    target = tmp_path / "no-such-folder" / "run.flows"
    result = subprocess.run([sys.executable, "-m", "ocppscope", "proxy", "--upstream", "ws://127.0.0.1:9",
                             "--listen", "127.0.0.1:0", "--save-flows", str(target)],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert f"--save-flows {target}: No such file or directory" in result.stderr
    assert "listening on" not in result.stderr
