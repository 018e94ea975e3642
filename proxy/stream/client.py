"""The client side of the event stream: connect with the token, hand batches and control messages on.

It reconnects while the proxy is away (an SSH tunnel that dropped, a proxy restarted). Records seen before are
not delivered twice: after reconnecting to the same proxy the history it resends is skipped by seq; a different
(restarted) proxy numbers from 1 again, so its seqs are shifted past the ones already delivered.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Callable
from typing import Any

import orjson
from ocppscope.proxy.stream import wire
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

log = logging.getLogger("ocppscope.stream")

Records = list[dict[str, Any]]


class StreamClient:
    """Connects to ``url`` and calls ``on_records`` with each batch's records, ``on_state`` with news."""

    def __init__(self, url: str, token: str, on_records: Callable[[Records], None],
                 on_state: Callable[[str, dict[str, Any]], None] | None = None, *, reconnect: bool = True,
                 retry_seconds: float = 2.0) -> None:
        self.url = url
        self._token = token
        self._on_records = on_records
        self._on_state = on_state or (lambda _state, _info: None)
        self._reconnect = reconnect
        self._retry = retry_seconds
        self._ws: ClientConnection | None = None
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[str | None]] = {}
        self.state = "connecting"
        self.hello: dict[str, Any] = {}
        self.last_seq = 0
        self._shift = 0
        self._skip_upto = 0
        self._backlog_next = False
        self.lost = 0

    async def run(self) -> None:
        """Receive until closed (or, without ``reconnect``, until the first disconnection)."""
        while True:
            try:
                async with connect(self.url, additional_headers={"Authorization": f"Bearer {self._token}"},
                                   max_size=None, compression=None, open_timeout=5, proxy=None) as ws:
                    self._ws = ws
                    await self._receive(ws)
                    if self.state != "proxy-stopped":
                        self._set_state("disconnected", {"reason": "the proxy closed the stream"})
            except InvalidStatus as exc:
                status = exc.response.status_code
                reason = "wrong token" if status == 401 else f"refused with HTTP {status}"
                self._set_state("refused", {"reason": reason})
                return
            except (TimeoutError, OSError, InvalidHandshake, ConnectionClosed) as exc:
                if self.state != "proxy-stopped":
                    self._set_state("disconnected", {"reason": str(exc) or type(exc).__name__})
            except _Incompatible as exc:
                self._set_state("refused", {"reason": str(exc)})
                return
            finally:
                self._ws = None
                for future in self._waiting.values():
                    if not future.done():
                        future.set_result("the stream disconnected before the proxy answered")
                self._waiting.clear()
            if not self._reconnect:
                return
            await asyncio.sleep(self._retry)

    async def close(self) -> None:
        self._reconnect = False
        if self._ws is not None:
            await self._ws.close()

    async def inject(self, conn: str, to: str, text: str, timeout: float = 10.0) -> str | None:
        """Ask the proxy to send CALL ``text`` to ``to`` on ``conn``; an error, or None once it is sent."""
        ws = self._ws
        if ws is None:
            return "not connected to the proxy"
        request_id = next(self._ids)
        future: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = future
        await ws.send(wire.control("inject", id=request_id, conn=conn, to=to, text=text))
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            return "the proxy did not confirm the injection"
        finally:
            self._waiting.pop(request_id, None)

    async def _receive(self, ws: ClientConnection) -> None:
        async for message in ws:
            if isinstance(message, bytes):
                self._records(message)
            else:
                self._control(orjson.loads(message))

    def _control(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "hello":
            problem = wire.check_hello(message)
            if problem is not None:
                raise _Incompatible(problem)
            restarted = bool(self.hello) and message.get("instance") != self.hello.get("instance")
            if restarted or not self.hello:
                self._shift = self.last_seq
                self._skip_upto = 0
            else:
                self._skip_upto = self.last_seq
            self._backlog_next = True
            self.hello = message
            self._set_state("connected", message)
        elif kind == "gap":
            self.lost += int(message.get("lost", 0))
            self._set_state("gap", message)
        elif kind == "inject-result":
            future = self._waiting.get(message.get("id"))  # type: ignore[arg-type]
            if future is not None and not future.done():
                future.set_result(None if message.get("ok") else str(message.get("error")))
        elif kind == "bye":
            self._set_state("proxy-stopped", message)

    def _records(self, data: bytes) -> None:
        records: Records = []
        shift, skip = self._shift, self._skip_upto
        # Only the backlog sent on (re)connecting can repeat findings already delivered.
        backlog, self._backlog_next = self._backlog_next, False
        seen: set[int] = set()
        loads = orjson.loads
        for line in wire.batch_lines(data):
            record = loads(line)
            seq = record.get("seq")
            if record.get("type") == wire.FINDING:
                if backlog and seq is not None and seq <= skip:
                    continue
                if seq is not None and shift:
                    record["seq"] = seq + shift
                records.append(record)
                continue
            if seq is None or seq <= skip:
                continue
            if backlog:
                # The handshakes of open connections come first and may also be in the history after them.
                if seq in seen:
                    continue
                seen.add(seq)
            if shift:
                record["seq"] = seq + shift
                annotation = record.get("ins")
                if annotation and "call" in annotation:
                    annotation["call"] += shift
            if record["seq"] > self.last_seq:
                self.last_seq = record["seq"]
            records.append(record)
        if records:
            self._on_records(records)

    def _set_state(self, state: str, info: dict[str, Any]) -> None:
        if state in ("connected", "disconnected", "refused", "proxy-stopped"):
            self.state = state
        with contextlib.suppress(Exception):
            self._on_state(state, info)


class _Incompatible(Exception):
    pass
