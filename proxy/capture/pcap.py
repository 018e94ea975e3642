"""Packet captures (pcap, pcapng) of OCPP over ws:// (or wss:// with a TLS key log), dissected by tshark.

Wireshark's ``tshark`` does the work that must be right for a capture to mean anything: TCP reassembly
(retransmissions, segments out of order), the HTTP upgrade on any port (its HTTP heuristic), TLS decryption
with a key log, and WebSocket unmasking, defragmentation and permessage-deflate. It runs as a subprocess that
streams one JSON document per packet (``-T ek``) with the raw bytes of each field (``-x``); this module reads
them one by one (constant memory) and turns each TCP stream that upgraded to WebSocket into a connection:

- the upgrade request and its answer are the handshake (path, headers in wire order, the answer's status and
  headers): judged exactly as a live one, Basic auth included;
- text and binary messages become :class:`Message` events at the capture time of the packet that completed
  them, pings and pongs :class:`Ping` events;
- the first close frame gives the close code, reason and who closed; a TCP end (FIN or RST) without one is an
  abnormal close (1006). A connection still open when the capture ends is left open, and reported.

The tshark used is ``OCPPSCOPE_TSHARK`` or the one on ``PATH``; without it, reading a packet capture is an
error that says what to install (:data:`TSHARK_MISSING`).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import orjson
from ocppscope.proxy.capture.report import ReadReport, SourceError
from ocppscope.proxy.core.events import (
    ClosedBy,
    ConnectionClosed,
    ConnectionOpened,
    Direction,
    Event,
    Message,
    Ping,
    TlsInfo,
    header,
)

PCAP_MAGICS = (
    b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4",  # pcap, microsecond times (little-, big-endian)
    b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d",  # pcap, nanosecond times
    b"\x0a\x0d\x0d\x0a",  # pcapng section header block
)
TSHARK_ENV = "OCPPSCOPE_TSHARK"
"""Names the tshark to run instead of the one on ``PATH``."""
TLS_KEYLOG_ENV = "OCPPSCOPE_TLS_KEYLOG"
"""The TLS key log (``--tls-keylog``) tshark decrypts wss:// with. It travels in the environment so the worker
processes of a parallel ``check`` see it too. Not ``SSLKEYLOGFILE``: Python's ssl would write keys into it."""
TSHARK_MISSING = ("reading a packet capture needs Wireshark's tshark, which is not installed: install it "
                  "(Debian/Ubuntu: apt-get install tshark; Fedora: dnf install wireshark-cli; macOS: brew install "
                  "wireshark) or name it with " + TSHARK_ENV + "=/path/to/tshark")

_DISPLAY_FILTER = ("http || websocket || tcp.flags.fin == 1 || tcp.flags.reset == 1 || tls.handshake.type == 1 "
                   "|| tcp.analysis.lost_segment || tcp.analysis.retransmission || tcp.analysis.out_of_order")
_LAYERS = "frame ip ipv6 tcp http websocket"
_PREFERENCES = (
    "tcp.desegment_tcp_streams:TRUE",
    "tcp.reassemble_out_of_order:TRUE",
    "tcp.analyze_sequence_numbers:TRUE",
    "http.desegment_headers:TRUE",
    "http.desegment_body:TRUE",
    "websocket.decompress:TRUE",
    "websocket.text_type:No subdissection",
)
_ABNORMAL_CLOSE = 1006
_PUMP_CHUNK = 1024 * 1024
_STDERR_KEPT = 2000
"""Characters of tshark's complaints kept for the error message."""
_CONTROL_OPCODES = {8, 9, 10}


def sniff_pcap(data: bytes) -> str | None:
    """``"pcapng"`` or ``"pcap"`` when ``data`` starts like one (magic bytes), else None."""
    magic = data[:4]
    if magic == PCAP_MAGICS[-1]:
        return "pcapng"
    return "pcap" if magic in PCAP_MAGICS else None


def tshark_path() -> str | None:
    """The tshark to run, or None when there is none."""
    named = os.environ.get(TSHARK_ENV)
    if named:
        return named if os.access(named, os.X_OK) else None
    return shutil.which("tshark")


def tshark_command(tshark: str, keylog: str | None) -> list[str]:
    """The tshark invocation that reads a capture on standard input and prints one EK document per packet."""
    command = [tshark, "-r", "-", "-n", "-T", "ek", "-x", "-J", _LAYERS, "-Y", _DISPLAY_FILTER]
    for preference in _PREFERENCES:
        command += ["-o", preference]
    if keylog:
        command += ["-o", f"tls.keylog_file:{keylog}"]
    return command


class _TlsKeylogAction(argparse.Action):
    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        path = os.path.abspath(os.fspath(values))
        if not os.path.isfile(path) or not os.access(path, os.R_OK):
            parser.error(f"--tls-keylog {values}: not a readable file")
        os.environ[TLS_KEYLOG_ENV] = path
        setattr(namespace, self.dest, path)


def add_tls_keylog_argument(parser: argparse.ArgumentParser) -> None:
    """``--tls-keylog FILE``: the TLS key log that decrypts wss:// in packet captures."""
    parser.add_argument("--tls-keylog", action=_TlsKeylogAction, metavar="FILE",
                        help="decrypt wss:// in pcap/pcapng inputs with this TLS key log (SSLKEYLOGFILE format)")


# -- the packets tshark prints -------------------------------------------------------------------------------

def _listed(value: Any) -> list[Any]:
    """A field tshark prints once as a value and several times as a list, as a list."""
    if value is None:
        return []
    return value if type(value) is list else [value]


def _first(value: Any) -> Any:
    return value[0] if type(value) is list else value


def _hex(value: Any) -> bytes:
    text = _first(value)
    return bytes.fromhex(text) if type(text) is str else b""


@dataclass(slots=True)
class _Packet:
    number: int
    time: float
    stream: int
    source: str
    destination: str
    fin: bool
    reset: bool
    tls: bool
    lost: bool
    """TCP data before this packet is not in the capture (yet: it may come late, out of order)."""
    late: bool
    """A retransmission or a segment out of order: it may fill a gap seen before."""
    http: list[bytes]
    """The raw bytes of each HTTP message that ends in this packet (request or response head and body)."""
    websocket: list[dict[str, Any]]


def _packet(layers: dict[str, Any], lost: bool = False, late: bool = False) -> _Packet | None:
    frame = layers.get("frame")
    tcp = layers.get("tcp")
    if type(frame) is not dict or type(tcp) is not dict:
        return None
    ip = layers.get("ip") if "ip" in layers else layers.get("ipv6")
    if type(ip) is list:
        ip = ip[-1]  # tunnelled: the innermost
    if type(ip) is not dict:
        return None
    if "ip_ip_src" in ip:
        source_host, destination_host = _first(ip["ip_ip_src"]), _first(ip["ip_ip_dst"])
    else:
        source_host, destination_host = _first(ip.get("ipv6_ipv6_src")), _first(ip.get("ipv6_ipv6_dst"))
    stream = _first(tcp.get("tcp_tcp_stream"))
    if stream is None or source_host is None or destination_host is None:
        return None
    websocket = [layer for layer in _listed(layers.get("websocket")) if type(layer) is dict]
    return _Packet(
        number=int(_first(frame.get("frame_frame_number", 0))),
        time=float(_first(frame.get("frame_frame_time_epoch", 0.0))),
        stream=int(stream),
        source=_address(source_host, _first(tcp.get("tcp_tcp_srcport"))),
        destination=_address(destination_host, _first(tcp.get("tcp_tcp_dstport"))),
        fin=_first(tcp.get("tcp_tcp_flags_fin")) is True,
        reset=_first(tcp.get("tcp_tcp_flags_reset")) is True,
        tls=":tls" in str(_first(frame.get("frame_frame_protocols", ""))),
        lost=lost,
        late=late,
        http=[_hex(raw) for raw in _listed(layers.get("http_raw"))] if "http" in layers else [],
        websocket=websocket,
    )


def _address(host: str, port: Any) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


# -- TCP streams to connections ------------------------------------------------------------------------------

@dataclass(slots=True)
class _Head:
    """An HTTP message head: start line and headers as sent."""

    start: str
    headers: tuple[tuple[str, str], ...]


def _head(raw: bytes) -> _Head | None:
    head, _, _ = raw.partition(b"\r\n\r\n")
    lines = head.decode("utf-8", "surrogateescape").split("\r\n")
    if not lines or not lines[0]:
        return None
    headers = []
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if colon:
            headers.append((name.strip(), value.strip()))
    return _Head(lines[0], tuple(headers))


@dataclass(slots=True)
class _Stream:
    """One TCP stream: its upgrade, then the WebSocket it carries."""

    number: int
    handshakes: int = 0
    conn_id: str | None = None
    client: str | None = None
    request: _Head | None = None
    open: bool = False
    """The upgrade was answered 101: frames follow."""
    tls: bool = False
    closing: ConnectionClosed | None = None
    """The close frame seen first (code, reason, who), sent as the close once the other side answers it or
    TCP ends."""
    lost_at: int | None = None
    """The first packet before which TCP data of this WebSocket is missing from the capture."""
    last_event_at: int = 0
    fragments: list[bytes] = field(default_factory=list)
    """The unmasked payloads of the message being sent in fragments."""
    fragment_opcode: int = 0
    compressed: bool = False


class PcapImporter:
    """Turns tshark's packets into events; one per capture, fed in packet order."""

    def __init__(self, report: ReadReport) -> None:
        self.report = report
        self._streams: dict[int, _Stream] = {}
        self._seq = 0
        self.not_upgrades = 0
        self.last_time = 0.0
        self.undecrypted: set[int] = set()

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def packet(self, packet: _Packet) -> Iterator[Event]:
        self.last_time = max(self.last_time, packet.time)
        stream = self._streams.get(packet.stream)
        if stream is None:
            stream = self._streams[packet.stream] = _Stream(packet.stream)
        stream.tls = stream.tls or packet.tls
        if packet.lost and stream.open and stream.lost_at is None:
            stream.lost_at = packet.number
        elif packet.late:
            stream.lost_at = None  # the gap was a segment out of order (tshark put it back in place)
        for raw in packet.http:
            yield from self._stamped(stream, packet, self._http(stream, packet, raw))
        if stream.open:
            for layer in packet.websocket:
                yield from self._stamped(stream, packet, self._frame(stream, packet, layer))
        if (packet.fin or packet.reset) and stream.open:
            yield from self._stamped(stream, packet, self._tcp_end(stream, packet))
        elif packet.fin or packet.reset:
            yield from self._unanswered(stream, packet.time, "the connection ended before the upgrade was answered")

    def _stamped(self, stream: _Stream, packet: _Packet, events: Iterator[Event]) -> Iterator[Event]:
        for event in events:
            stream.last_event_at = packet.number
            yield event

    def _http(self, stream: _Stream, packet: _Packet, raw: bytes) -> Iterator[Event]:
        head = _head(raw)
        if head is None:
            return
        if not head.start.startswith("HTTP/"):
            if (header(head.headers, "upgrade") or "").lower() != "websocket":
                self.not_upgrades += 1
                return
            stream.request, stream.client = head, packet.source
            return
        if stream.request is None or packet.destination != stream.client:
            return  # an answer to a request that is not an upgrade (or that the capture missed)
        status = _status(head.start)
        yield self._opened(stream, head, status, packet.time)
        stream.open = status == 101

    def _unanswered(self, stream: _Stream, time: float, error: str) -> Iterator[Event]:
        """The handshake of an upgrade that got no answer (status 0: the charger got nothing)."""
        if stream.request is not None:
            yield self._opened(stream, _Head("", ()), 0, time, error)

    def _opened(self, stream: _Stream, response: _Head, status: int, time: float,
                error: str | None = None) -> ConnectionOpened:
        request = stream.request
        assert request is not None
        stream.request = None
        stream.handshakes += 1
        stream.conn_id = f"tcp{stream.number}" + (f".{stream.handshakes}" if stream.handshakes > 1 else "")
        parts = request.start.split(" ")
        path = parts[1] if len(parts) > 1 else "/"
        host = header(request.headers, "host") or "?"
        scheme = "wss" if stream.tls else "ws"
        return ConnectionOpened(
            conn_id=stream.conn_id,
            time=time,
            client=stream.client or "?",
            path=path,
            request_headers=request.headers,
            status=status,
            response_headers=response.headers,
            subprotocol=header(response.headers, "sec-websocket-protocol") if status == 101 else None,
            upstream=f"{scheme}://{host}{path}",
            seq=self._next_seq(),
            error=error,
            client_tls=TlsInfo() if stream.tls else None,
            upstream_tls=TlsInfo() if stream.tls else None,
        )

    def _frame(self, stream: _Stream, packet: _Packet, layer: dict[str, Any]) -> Iterator[Event]:
        conn_id = stream.conn_id
        assert conn_id is not None
        direction = Direction.FROM_CHARGER if packet.source == stream.client else Direction.FROM_BACKEND
        try:
            opcode = int(_first(layer.get("websocket_websocket_opcode", -1)))
        except ValueError:
            return
        fin = _first(layer.get("websocket_websocket_fin")) is True
        if opcode == 8:
            yield from self._close_frame(stream, packet, layer, direction)
            return
        if opcode in (9, 10):
            data = _hex(layer.get("websocket_websocket_payload_ping_raw" if opcode == 9
                                  else "websocket_websocket_payload_pong_raw"))
            yield Ping(conn_id, packet.time, direction, data, opcode == 10, self._next_seq())
            return
        if opcode in (1, 2):
            stream.fragments, stream.fragment_opcode = [], opcode
            stream.compressed = _first(layer.get("websocket_websocket_pmc")) is True
        elif opcode != 0:
            self.report.warn(f"packet {packet.number}: a WebSocket frame with opcode {opcode} (reserved) "
                             "was left out")
            return
        elif stream.fragment_opcode == 0:
            self.report.warn(f"packet {packet.number}: a continuation frame without its first part was left out")
            return
        stream.fragments.append(_hex(layer.get("websocket_websocket_payload_raw")))
        if not fin:
            return
        kind, parts, stream.fragments, stream.fragment_opcode = stream.fragment_opcode, stream.fragments, [], 0
        # tshark puts the whole message, defragmented and decompressed, on the frame that ends it.
        text = layer.get("websocket_websocket_payload_text_raw")
        if text is not None:
            content = _hex(text)
        elif stream.compressed:
            self.report.warn(f"packet {packet.number}: a compressed WebSocket message that tshark could not "
                             "decompress was left out (did the capture start after the connection?)")
            return
        else:
            content = b"".join(parts)
        self.report.frames += 1
        yield Message(conn_id, packet.time, direction, content, kind == 1, self._next_seq())

    def _close_frame(self, stream: _Stream, packet: _Packet, layer: dict[str, Any],
                     direction: Direction) -> Iterator[Event]:
        if stream.closing is not None:
            yield from self._closed(stream, packet.time)  # the answer to the first close
            return
        code = _first(layer.get("websocket_websocket_payload_close_status_code"))
        reason = _hex(layer.get("websocket_websocket_payload_close_reason_raw")).decode("utf-8", "replace")
        closed_by: ClosedBy = "charger" if direction is Direction.FROM_CHARGER else "backend"
        stream.closing = ConnectionClosed(stream.conn_id or "", packet.time, int(code) if code is not None else 1005,
                                          reason, closed_by)

    def _tcp_end(self, stream: _Stream, packet: _Packet) -> Iterator[Event]:
        if stream.closing is None:
            by: ClosedBy = "charger" if packet.source == stream.client else "backend"
            stream.closing = ConnectionClosed(stream.conn_id or "", packet.time, _ABNORMAL_CLOSE, "", by,
                                              extra={"capture": "TCP ended without a WebSocket close"})
        yield from self._closed(stream, packet.time)

    def _closed(self, stream: _Stream, time: float) -> Iterator[Event]:
        closing = stream.closing
        assert closing is not None
        closing.time = time
        closing.seq = self._next_seq()
        stream.open, stream.closing = False, None
        yield closing

    def finish(self) -> Iterator[Event]:
        """The closes answered by nobody before the capture ended; what the capture left open is reported."""
        still_open = 0
        for stream in self._streams.values():
            yield from self._unanswered(stream, self.last_time, "no answer to the upgrade before the capture ended")
            if stream.open and stream.closing is not None:
                yield from self._closed(stream, stream.closing.time)
            elif stream.open:
                still_open += 1
            if stream.tls and stream.conn_id is None:
                self.undecrypted.add(stream.number)
            if stream.lost_at is not None:
                self._report_loss(stream)
        if still_open:
            self.report.note(f"{still_open} connection(s) were still open when the capture ended (no close is "
                             "made up for them)")
        if self.undecrypted:
            self.report.warn(f"{len(self.undecrypted)} TLS connection(s) could not be read: give the TLS key log "
                             "of the capture with --tls-keylog FILE (SSLKEYLOGFILE format) to decrypt wss://")
        if self.not_upgrades:
            self.report.note(f"{self.not_upgrades} HTTP request(s) that are not WebSocket upgrades were skipped")


    def _report_loss(self, stream: _Stream) -> None:
        text = (f"connection {stream.conn_id}: TCP data sent before packet {stream.lost_at} is not in the capture "
                "(the capture dropped it; tcpdump -B 8192 gives it a larger buffer): frames around it are missing")
        if stream.last_event_at < (stream.lost_at or 0):
            text += "; tshark waits for the missing data, so nothing after it could be read"
        self.report.warn(text)


def _status(start: str) -> int:
    parts = start.split(" ")
    try:
        return int(parts[1])
    except (IndexError, ValueError):
        return 0


# -- running tshark ------------------------------------------------------------------------------------------

def _pump(source: BinaryIO, target: BinaryIO) -> None:
    with contextlib.suppress(BrokenPipeError, OSError, ValueError):
        try:
            while chunk := source.read(_PUMP_CHUNK):
                target.write(chunk)
        finally:
            target.close()


def read_pcap(handle: BinaryIO, report: ReadReport, keylog: str | None = None) -> Iterator[Event]:
    """The events of the packet capture on ``handle``, streamed from tshark (constant memory)."""
    tshark = tshark_path()
    if tshark is None:
        raise SourceError(report.source, TSHARK_MISSING)
    keylog = keylog or os.environ.get(TLS_KEYLOG_ENV) or None
    if keylog is not None and not os.path.isfile(keylog):
        raise SourceError(report.source, f"the TLS key log {keylog} does not exist")
    importer = PcapImporter(report)
    with tempfile.TemporaryFile() as errors:
        try:
            process = subprocess.Popen(tshark_command(tshark, keylog), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                       stderr=errors, env={**os.environ, "LC_ALL": "C"})
        except OSError as exc:
            raise SourceError(report.source, f"cannot run {tshark}: {exc.strerror or exc}; {TSHARK_MISSING}") from None
        assert process.stdin is not None and process.stdout is not None
        pump = threading.Thread(target=_pump, args=(handle, process.stdin), name="tshark input", daemon=True)
        pump.start()
        try:
            for line in process.stdout:
                if not line.startswith(b'{"timestamp"'):
                    continue  # the index line before each document
                report.lines += 1  # packets that carry HTTP, WebSocket or a TCP end
                try:
                    document = orjson.loads(line)
                except orjson.JSONDecodeError:
                    report.unusable_line(report.lines, "tshark printed a packet that is not JSON")
                    continue
                packet = _packet(document.get("layers") or {}, b"tcp_tcp_analysis_lost_segment" in line,
                                 b"tcp_tcp_analysis_retransmission" in line or b"tcp_tcp_analysis_out_of_order" in line)
                if packet is None:
                    continue
                for event in importer.packet(packet):
                    report.events += 1
                    yield event
        finally:
            process.stdout.close()
            if process.poll() is None:
                process.kill()  # the consumer stopped early
            process.wait()
            pump.join()
        for event in importer.finish():
            report.events += 1
            yield event
        errors.seek(0)
        complaint = _complaint(errors.read(_STDERR_KEPT).decode("utf-8", "replace"))
    if complaint and "cut short" in complaint:
        report.warn(f"the capture is cut short ({complaint}); everything before the cut was read")
    elif process.returncode not in (0, -9) and complaint:
        raise SourceError(report.source, f"tshark cannot read it: {complaint}")
    report.finish()


def _complaint(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines()
             if line.strip() and "could be dangerous" not in line and not line.startswith("Running as user")]
    return " ".join(lines)
