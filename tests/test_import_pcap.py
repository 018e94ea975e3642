"""Packet captures as input: pcaps recorded here with tcpdump on loopback while real peers talk, read by tshark.

Every capture is made the way a field engineer makes one: tcpdump on the interface while a real ``ocpp``
charge point talks to a real central system, directly or through ocppscope. What the import gives is compared
with what the peers sent (the charge point's WebSocket is tapped) and with what the live proxy saw. The
out-of-order and retransmission capture is the real capture of a large frame with two of its TCP segments
swapped and one sent again, and the loss case a real capture with one segment left out (both rewritten record
by record by :func:`rewritten`, nothing else changed).
"""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from ocppscope.proxy.capture import ReadReport, SourceError, read_events
from ocppscope.proxy.capture.pcap import TLS_KEYLOG_ENV, TSHARK_ENV
from ocppscope.proxy.core.analyzer import Analyzer, AnalyzerOptions
from ocppscope.proxy.core.checks import default_checkers
from ocppscope.proxy.core.events import ConnectionOpened, Direction, Event, Message, Ping, header
from ocppscope.proxy.demo.backend import BackendBehaviour, start_central_system
from ocppscope.proxy.engine import open_proxy
from websockets.exceptions import InvalidStatus

from tests import engine_support
from tests.engine_support import Backend, basic, close_frame, raw_upgrade, tls_backend
from tests.pcap_support import (
    EDITCAP,
    TSHARK,
    charger_session,
    client_frame,
    close_of,
    connections,
    frames_of,
    needs_capture_tools,
    tcpdump,
)

ocppscope_home = engine_support.ocppscope_home
pytestmark = [pytest.mark.usefixtures("ocppscope_home"), pytest.mark.timeout(120)]
capturing = needs_capture_tools()
ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "pcap-Pa55word-0123456789abcdef"
HANDSHAKE_RULES = ("auth.", "handshake.", "identity.")


def ocppscope(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ocppscope", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})


def read(path: Path, report: ReadReport | None = None) -> list[Event]:
    return list(read_events(path, report=report))


def handshake_findings(events: list[Event], conn_id: str | None = None) -> list[str]:
    """The handshake, identity and auth rules the analysis reports (for one connection of the events)."""
    analyzer = Analyzer(default_checkers(), AnalyzerOptions())
    found = []
    for event in events:
        if conn_id is None or event.conn_id == conn_id:
            found += analyzer.feed(event).findings
    found += analyzer.finish()
    return sorted(finding.rule for finding in found if finding.rule.startswith(HANDSHAKE_RULES))


@capturing
async def test_a_direct_session_reads_back_as_the_peers_sent_it(tmp_path: Path) -> None:
    behaviour = BackendBehaviour(heartbeat_interval=60, credentials={"CP-PCAP-1": PASSWORD})
    async with await start_central_system(behaviour) as central:
        port = central.port
        with tcpdump(tmp_path / "direct.pcap", [port]):
            tap = await charger_session(central.url, authorization=basic("CP-PCAP-1", PASSWORD))
    events = read(tmp_path / "direct.pcap")
    [opened] = connections(events)
    assert opened.path == "/ocpp/CP-PCAP-1" and opened.status == 101 and opened.subprotocol == "ocpp1.6"
    assert header(opened.request_headers, "Authorization") == basic("CP-PCAP-1", PASSWORD)
    assert header(opened.request_headers, "Sec-WebSocket-Protocol") == "ocpp1.6"
    assert opened.client.startswith("127.0.0.1:") and opened.upstream == f"ws://127.0.0.1:{port}/ocpp/CP-PCAP-1"
    assert frames_of(events, opened.conn_id) == tap.frames and len(tap.frames) == 6
    closed = close_of(events, opened.conn_id)
    assert (closed.code, closed.closed_by) == (1000, "charger")
    times = [event.time for event in events]
    assert times == sorted(times) and opened.time > 1.7e9

    # The handshake is judged as a live one: Basic auth over plain ws:// is reported, the password is fine.
    assert "auth.basic-over-plain-ws" in handshake_findings(events)

    # Cut in the middle of a packet (tcpdump killed, a copy cut short): what came before is read, and said.
    data = (tmp_path / "direct.pcap").read_bytes()
    (tmp_path / "cut.pcap").write_bytes(data[: len(data) * 2 // 3])
    report = ReadReport("cut.pcap", on_warning=lambda _text: None)
    cut = read(tmp_path / "cut.pcap", report)
    assert 0 < len(frames_of(cut, opened.conn_id)) < 6
    assert frames_of(cut, opened.conn_id) == tap.frames[: len(frames_of(cut, opened.conn_id))]
    assert any("cut short" in warning for warning in report.warnings)

    # A segment the capture dropped (tcpdump under load): the frames it held are missing, and the report says so.
    charger_segments = packet_numbers(tmp_path / "direct.pcap", "tcp.len > 0 && websocket.mask == 1")
    rewritten(tmp_path / "direct.pcap", tmp_path / "dropped.pcap", drop=charger_segments[2] - 1)
    report = ReadReport("dropped.pcap", on_warning=lambda _text: None)
    dropped = read(tmp_path / "dropped.pcap", report)
    assert len(frames_of(dropped, opened.conn_id)) < 6
    assert any(f"connection {opened.conn_id}: TCP data sent before packet" in warning
               and "is not in the capture" in warning for warning in report.warnings)

    # The same capture as pcapng (converted by Wireshark's editcap), and in a folder, through the commands.
    if EDITCAP is not None:
        folder = tmp_path / "site"
        folder.mkdir()
        subprocess.run([EDITCAP, "-F", "pcapng", str(tmp_path / "direct.pcap"), str(folder / "direct.pcapng")],
                       check=True, capture_output=True)
        assert (folder / "direct.pcapng").read_bytes()[:4] == b"\x0a\x0d\x0d\x0a"
        assert frames_of(read(folder / "direct.pcapng"), opened.conn_id) == tap.frames
        result = ocppscope("check", str(folder))
        assert result.returncode in (0, 1), result.stderr
        assert "CP-PCAP-1" in result.stdout and "6 frames" in result.stdout
    imported = ocppscope("import", str(tmp_path / "direct.pcap"), "-o", str(tmp_path / "direct.jsonl"))
    assert imported.returncode == 0, imported.stderr
    captured = read(tmp_path / "direct.jsonl")
    assert frames_of(captured, opened.conn_id) == tap.frames
    assert PASSWORD not in (tmp_path / "direct.jsonl").read_text()  # the import redacts, as every capture does


@capturing
async def test_through_the_proxy_both_legs_carry_the_frames_and_the_handshake_is_judged_the_same(
        tmp_path: Path) -> None:
    behaviour = BackendBehaviour(heartbeat_interval=60, credentials={"CP-PCAP-1": "short"})
    async with await start_central_system(behaviour) as central, open_proxy(central.url) as proxy:
        with tcpdump(tmp_path / "proxied.pcap", [central.port, proxy.address[1]]):
            tap = await charger_session(proxy.url, authorization=basic("CP-PCAP-1", "short"))
            await proxy.engine.stop()
    events = read(tmp_path / "proxied.pcap")
    legs = connections(events)
    assert sorted(leg.path for leg in legs) == ["/CP-PCAP-1", "/ocpp/CP-PCAP-1"]
    for leg in legs:
        assert frames_of(events, leg.conn_id) == tap.frames
        assert close_of(events, leg.conn_id).code == 1000
    charger_leg = next(leg for leg in legs if leg.path == "/CP-PCAP-1")
    live = [event for event in proxy.events if type(event) is ConnectionOpened]
    assert [event.path for event in live] == ["/CP-PCAP-1"]
    from_capture = handshake_findings(events, charger_leg.conn_id)
    assert from_capture == handshake_findings(proxy.events)
    assert "auth.password-too-short" in from_capture


@capturing
async def test_refused_handshake_frames_in_one_segment_fragments_pings_and_a_reset(tmp_path: Path) -> None:
    async with Backend(compression=None) as backend:
        with tcpdump(tmp_path / "edge.pcap", [backend.port]):
            answer = await raw_upgrade(backend.port, "/ocpp/CP-EDGE", offer="ocpp1.6")
            # One write, so one TCP segment: two frames, a message in three fragments with a ping between them.
            answer.writer.write(
                client_frame(1, b'[2,"a1","Heartbeat",{}]') + client_frame(1, b'[2,"a2","Heartbeat",{}]')
                + client_frame(1, b'[2,"a3","Heart', fin=False) + client_frame(9, b"ping-data")
                + client_frame(0, b'beat",', fin=False) + client_frame(0, b'{}]')
                + client_frame(2, b"\x00\x01\xffbinary"))
            await answer.writer.drain()
            await asyncio.sleep(0.3)  # the echoes and the pong
            answer.writer.write(close_frame(4000, "going away now"))
            await answer.writer.drain()
            await asyncio.wait_for(answer.reader.readexactly(2 + 2 + len("going away now")), 10)  # the close answer
            answer.close()
            dropped = await raw_upgrade(backend.port, "/ocpp/CP-RESET", offer="ocpp1.6")
            dropped.writer.write(client_frame(1, b'[2,"b1","Heartbeat",{}]'))
            await dropped.writer.drain()
            await asyncio.sleep(0.3)  # the echo
            sock = dropped.writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            dropped.writer.transport.abort()  # an RST, no close frame: the charger lost power
            await asyncio.sleep(0.2)  # the socket is closed on the loop's next turn
    events = read(tmp_path / "edge.pcap")
    edge, reset = connections(events)
    assert edge.status == 101 and edge.subprotocol == "ocpp1.6"
    charger = [(e.content, e.is_text) for e in events if type(e) is Message and e.conn_id == edge.conn_id
               and e.direction is Direction.FROM_CHARGER]
    assert charger == [(b'[2,"a1","Heartbeat",{}]', True), (b'[2,"a2","Heartbeat",{}]', True),
                       (b'[2,"a3","Heartbeat",{}]', True), (b"\x00\x01\xffbinary", False)]
    pings = [(e.direction, e.data, e.pong) for e in events if type(e) is Ping]
    assert pings == [(Direction.FROM_CHARGER, b"ping-data", False), (Direction.FROM_BACKEND, b"ping-data", True)]
    closed = close_of(events, edge.conn_id)
    assert (closed.code, closed.reason, closed.closed_by) == (4000, "going away now", "charger")
    lost = close_of(events, reset.conn_id)
    assert (lost.code, lost.closed_by) == (1006, "charger")
    assert frames_of(events, reset.conn_id) == [(Direction.FROM_CHARGER, '[2,"b1","Heartbeat",{}]'),
                                                (Direction.FROM_BACKEND, '[2,"b1","Heartbeat",{}]')]


@capturing
async def test_a_refused_upgrade_is_a_handshake_with_its_status(tmp_path: Path) -> None:
    behaviour = BackendBehaviour(credentials={"CP-PCAP-1": PASSWORD})
    async with await start_central_system(behaviour) as central:
        with tcpdump(tmp_path / "refused.pcap", [central.port]), pytest.raises(InvalidStatus, match="401"):
            await charger_session(central.url, authorization=basic("CP-PCAP-1", "wrong-password-12345"))
    events = read(tmp_path / "refused.pcap")
    [opened] = connections(events)
    assert opened.status == 401 and opened.subprotocol is None
    assert header(opened.response_headers, "WWW-Authenticate") == 'Basic realm="ocpp", charset="UTF-8"'
    assert [event for event in events if type(event) is Message] == []


@capturing
async def test_wss_is_read_with_the_tls_key_log_and_reported_without_it(tmp_path: Path, monkeypatch) -> None:
    context, ca_file = tls_backend(tmp_path)
    keylog = tmp_path / "keys.log"
    client = ssl.create_default_context(cafile=str(ca_file))
    client.keylog_filename = str(keylog)  # what SSLKEYLOGFILE does for a charger simulator
    behaviour = BackendBehaviour(heartbeat_interval=60)
    async with await start_central_system(behaviour) as central, open_proxy(
            central.url, certs=[f"127.0.0.1={tmp_path / 'backend-leaf.pem'}"]) as proxy:
        with tcpdump(tmp_path / "wss.pcap", [proxy.address[1]]):
            tap = await charger_session(proxy.url.replace("ws://", "wss://"), context=client)
            await proxy.engine.stop()
    del context
    monkeypatch.delenv(TLS_KEYLOG_ENV, raising=False)
    report = ReadReport("wss.pcap", on_warning=lambda _text: None)
    assert connections(read(tmp_path / "wss.pcap", report)) == []
    assert any("--tls-keylog" in warning for warning in report.warnings)

    monkeypatch.setenv(TLS_KEYLOG_ENV, str(keylog))
    events = read(tmp_path / "wss.pcap")
    [opened] = connections(events)
    assert opened.upstream is not None and opened.upstream.startswith("wss://") and opened.client_tls is not None
    assert frames_of(events, opened.conn_id) == tap.frames

    monkeypatch.delenv(TLS_KEYLOG_ENV)
    result = ocppscope("check", "--tls-keylog", str(keylog), str(tmp_path / "wss.pcap"))
    assert "6 frames" in result.stdout, result.stdout + result.stderr


def rewritten(source: Path, target: Path, *, swap: int | None = None, repeat: int | None = None,
              drop: int | None = None) -> None:
    """``source`` (a pcap, records counted from 0) rewritten record by record: ``swap`` and ``swap + 1``
    exchanged and ``repeat`` written again after them (a retransmission), or ``drop`` left out (a segment the
    capture lost). Every other record keeps its bytes and its timestamp."""
    data = source.read_bytes()
    header, offset, records = data[:24], 24, []
    while offset < len(data):
        length = struct.unpack("<I", data[offset + 8: offset + 12])[0]
        records.append(data[offset: offset + 16 + length])
        offset += 16 + length
    if swap is not None and repeat is not None:
        records[swap], records[swap + 1] = records[swap + 1], records[swap]
        records.insert(swap + 2, records[repeat])
    if drop is not None:
        del records[drop]
    target.write_bytes(header + b"".join(records))


def packet_numbers(path: Path, display_filter: str) -> list[int]:
    """The numbers (from 1) of the packets of ``path`` that ``display_filter`` selects, as tshark counts."""
    return [int(number) for number in subprocess.run(
        ["tshark", "-r", str(path), "-Y", display_filter, "-T", "fields", "-e", "frame.number"],
        capture_output=True, text=True, check=True).stdout.split()]


@capturing
async def test_segments_out_of_order_and_retransmitted_are_reassembled(tmp_path: Path) -> None:
    big = '[2,"big-1","DataTransfer",{"vendorId":"com.example","data":"' + "0123456789abcdef" * 12_000 + '"}]'
    async with Backend(compression=None) as backend:
        with tcpdump(tmp_path / "big.pcap", [backend.port]):
            async with engine_support.connect_direct(backend.url("/ocpp/CP-BIG"), subprotocols=["ocpp1.6"],
                                                     compression=None, max_size=None) as charger:
                await charger.send(big)
                assert await charger.recv() == big
    events = read(tmp_path / "big.pcap")
    assert [text for _, text in frames_of(events, connections(events)[0].conn_id)] == [big, big]
    data_records = [number - 1 for number in packet_numbers(tmp_path / "big.pcap", "tcp.len > 0")]
    assert len(data_records) >= 5, "the frame should span several TCP segments"
    swap = data_records[2]  # two segments of the charger's large frame (after the upgrade request and answer)
    assert data_records[3] == swap + 1
    rewritten(tmp_path / "big.pcap", tmp_path / "shuffled.pcap", swap=swap, repeat=data_records[2])
    report = ReadReport("shuffled.pcap")
    shuffled = read(tmp_path / "shuffled.pcap", report)
    assert [text for _, text in frames_of(shuffled, connections(shuffled)[0].conn_id)] == [big, big]
    assert report.warnings == []


def test_without_tshark_the_error_says_what_to_install(tmp_path: Path, monkeypatch) -> None:
    # An empty capture: the global header alone, as tcpdump writes it before the first packet.
    empty = tmp_path / "empty.pcap"
    empty.write_bytes(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
    monkeypatch.setenv(TSHARK_ENV, str(tmp_path / "no-tshark-here"))
    with pytest.raises(SourceError, match="apt-get install tshark"):
        list(read_events(empty))
    monkeypatch.delenv(TSHARK_ENV)
    result = ocppscope("check", str(empty), env={TSHARK_ENV: str(tmp_path / "no-tshark-here")})
    assert result.returncode == 2
    assert "needs Wireshark's tshark" in result.stderr and "apt-get install tshark" in result.stderr


def test_a_damaged_capture_is_unusable_input_not_a_crash(tmp_path: Path) -> None:
    if TSHARK is None:
        pytest.skip("tshark is not installed (apt-get install tshark)")
    damaged = tmp_path / "damaged.pcapng"
    damaged.write_bytes(b"\x0a\x0d\x0d\x0a" + b"\xff" * 64)  # a pcapng section header that is not one
    result = ocppscope("check", str(damaged))
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"{damaged}: tshark cannot read it:" in result.stderr


@capturing
async def test_an_upgrade_the_backend_never_answered_is_a_handshake_without_answer(tmp_path: Path) -> None:
    async with Backend(handshake_delay=5) as slow:
        with tcpdump(tmp_path / "unanswered.pcap", [slow.port]):
            reader, writer = await asyncio.open_connection("127.0.0.1", slow.port)
            writer.write(b"GET /ocpp/CP-WAIT HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                         b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                         b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ocpp1.6\r\n\r\n")
            await writer.drain()
            await asyncio.sleep(0.3)
            writer.close()  # the charger gives up
            await asyncio.sleep(0.2)
        del reader
    [opened] = connections(read(tmp_path / "unanswered.pcap"))
    assert (opened.path, opened.status, opened.response_headers) == ("/ocpp/CP-WAIT", 0, ())
    assert opened.error == "the connection ended before the upgrade was answered"
