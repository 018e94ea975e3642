"""Packet captures recorded by the tests themselves: tcpdump on the loopback interface while real peers talk.

:func:`tcpdump` starts a real tcpdump (root is needed to capture; the tests skip without it), waits until it
listens, and stops it once the block is done and every packet is written. :func:`client_frame` builds a
masked client frame byte for byte, for the shapes a library would not send on demand (several frames in one
TCP segment).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from ocpp.v16 import call as call16
from ocppscope.proxy.core.events import ConnectionClosed, ConnectionOpened, Direction, Event, Message
from ocppscope.proxy.demo.chargers import Charger16
from ocppscope.proxy.demo.scenarios import boot16, status16
from websockets.asyncio.client import ClientConnection, connect

TCPDUMP = shutil.which("tcpdump")
TSHARK = shutil.which("tshark")
EDITCAP = shutil.which("editcap")


def needs_capture_tools() -> pytest.MarkDecorator:
    """Skip unless tshark and tcpdump are installed and this process may capture packets."""
    if TSHARK is None:
        return pytest.mark.skip(reason="tshark is not installed (apt-get install tshark)")
    if TCPDUMP is None:
        return pytest.mark.skip(reason="tcpdump is not installed (apt-get install tcpdump)")
    if os.geteuid() != 0:
        return pytest.mark.skip(reason="capturing packets on loopback needs root")
    return pytest.mark.skipif(False, reason="")


@contextlib.contextmanager
def tcpdump(path: Path, ports: list[int] | tuple[int, ...], *, pcapng: bool = False) -> Iterator[Path]:
    """Capture the TCP traffic of ``ports`` on loopback into ``path`` while the block runs."""
    assert TCPDUMP is not None
    expression = " or ".join(f"tcp port {port}" for port in ports)
    command = [TCPDUMP, "-i", "lo", "-U", "--immediate-mode", "-B", "16384", "-s", "0", "-Z", "root", "-w", str(path)]
    if pcapng:
        command[1:1] = ["--time-stamp-precision", "nano"]
    command.append(expression)
    process = subprocess.Popen(command, stderr=subprocess.PIPE)
    assert process.stderr is not None
    try:
        banner = process.stderr.readline().decode("utf-8", "replace")  # "listening on lo, …" once it captures
        if "listening" not in banner:
            process.kill()
            pytest.fail(f"tcpdump did not start: {banner}{process.stderr.read().decode('utf-8', 'replace')}")
        yield path
        time.sleep(0.3)  # the last packets (FIN, ACK) reach tcpdump after the peers are done
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stderr.close()


def client_frame(opcode: int, payload: bytes, *, fin: bool = True, mask: bytes = b"\x0f\x1e\x2d\x3c") -> bytes:
    """A masked frame as a charger sends it (RFC 6455 section 5.2)."""
    first = (0x80 if fin else 0) | opcode
    length = len(payload)
    if length < 126:
        header = bytes([first, 0x80 | length])
    elif length < 1 << 16:
        header = bytes([first, 0x80 | 126]) + length.to_bytes(2, "big")
    else:
        header = bytes([first, 0x80 | 127]) + length.to_bytes(8, "big")
    return header + mask + bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))


@dataclass
class Tap:
    """A charger's WebSocket that notes every frame as the ``ocpp`` charge point sends and receives it."""

    ws: ClientConnection
    frames: list[tuple[Direction, str]] = field(default_factory=list)

    async def send(self, message: str) -> None:
        self.frames.append((Direction.FROM_CHARGER, message))
        await self.ws.send(message)

    async def recv(self) -> str | bytes:
        message = await self.ws.recv()
        self.frames.append((Direction.FROM_BACKEND, message if isinstance(message, str) else message.decode()))
        return message

    def __getattr__(self, name: str) -> Any:
        return getattr(self.ws, name)


async def charger_session(url: str, identity: str = "CP-PCAP-1", *, authorization: str | None = None,
                          context: ssl.SSLContext | None = None, close_code: int = 1000,
                          close_reason: str = "", await_from_backend: str | None = None) -> Tap:
    """A real ``ocpp`` 1.6 charge point: boot, status, heartbeat, then a close with ``close_code``; with
    ``await_from_backend``, not before a backend frame holding that text arrived (at most 10 s), so a request
    the backend sends after the boot is not raced by the close."""
    headers = {"Authorization": authorization} if authorization is not None else None
    async with connect(f"{url.rstrip('/')}/{identity}", subprotocols=["ocpp1.6"],  # type: ignore[list-item]
                       additional_headers=headers, proxy=None, ssl=context, open_timeout=10,
                       close_timeout=5) as websocket:
        tap = Tap(websocket)
        charger = Charger16(identity, tap, response_timeout=10)
        receiver = asyncio.create_task(charger.start())
        try:
            await boot16(charger)
            await status16(charger, 0, "Available")
            await charger.call(call16.Heartbeat())
            for _ in range(200):
                if await_from_backend is None or any(direction is Direction.FROM_BACKEND and await_from_backend in text
                                                     for direction, text in tap.frames):
                    break
                await asyncio.sleep(0.05)
        finally:
            await websocket.close(close_code, close_reason)
            receiver.cancel()
            await asyncio.gather(receiver, return_exceptions=True)
    return tap


def frames_of(events: list[Event], conn_id: str) -> list[tuple[Direction, str]]:
    """The text frames of one connection, as (direction, text)."""
    return [(event.direction, event.content.decode()) for event in events
            if type(event) is Message and event.conn_id == conn_id]


def connections(events: list[Event]) -> list[ConnectionOpened]:
    return [event for event in events if type(event) is ConnectionOpened]


def close_of(events: list[Event], conn_id: str) -> ConnectionClosed:
    [closed] = [event for event in events if type(event) is ConnectionClosed and event.conn_id == conn_id]
    return closed
