"""A live proxy watched over its event stream: records in, spooled to a capture, indexed on the UI's timer.

The stream's records are capture records, so the session appends each batch to a spool file (a valid capture
of the session, readable with ``ocppscope check``) and indexes the rows where they landed. The proxy's own
analysis rides along (pairings, latencies, findings) and is applied as is: the UI shows what the proxy saw.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Any

import orjson
from ocppscope.proxy.capture.format import decoders
from ocppscope.proxy.core.findings import Finding
from ocppscope.proxy.stream.client import Records, StreamClient
from ocppscope.proxy.stream.wire import FINDING
from ocppscope.tui.analysis import AnalysisSpec
from ocppscope.tui.inputs import Spool
from ocppscope.tui.session import Session
from rich.text import Text

_RATE_WINDOW = 5.0
INGEST_PER_TICK = 1_500
"""Rows taken in per timer tick (about 15 ms of work): the history a late attach receives, tens of thousands of
records at once, is spread over ticks instead of freezing the keyboard."""


class LiveSession(Session):
    live = True

    def __init__(self, url: str, token: str, *, title: str | None = None, reconnect: bool = True,
                 notes: list[str] | None = None, spec: AnalysisSpec | None = None, owns_proxy: bool = False) -> None:
        super().__init__()
        self.owns_proxy = owns_proxy
        """Quitting this UI stops the proxy (``proxy --tui``), so ``q`` asks first; attached UIs just detach."""
        self.spec = spec
        """Analysis options and profiles for checking injected CALLs (the proxy's own, when known)."""
        self.url = url
        self.title = title or url
        self.client = StreamClient(url, token, self._received, self._state, reconnect=reconnect)
        self.spool = Spool()
        self.spool_no = self.index.add_file(self.spool.path)
        self.injected: dict[int, str] = {}
        """Rows of injected CALLs ("call") and of their held-back answers ("answer")."""
        self.notes.extend(notes or [])
        self.paused_at: int | None = None
        self._inbox: deque[Records] = deque()
        self._task: asyncio.Task[None] | None = None
        self._arrivals: deque[tuple[float, int]] = deque()
        self._decoders = decoders()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self.client.run(), name="ocppscope stream client")

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        self.spool.remove()
        super().stop()

    async def inject(self, conn: str, to: str, text: str) -> str | None:
        return await self.client.inject(conn, to, text)

    # -- stream callbacks (on the UI's loop, as messages arrive: only queue) -------------------------------------

    def _received(self, records: Records) -> None:
        for start in range(0, len(records), INGEST_PER_TICK):
            self._inbox.append(records[start:start + INGEST_PER_TICK])

    def _state(self, state: str, info: dict[str, Any]) -> None:
        if state == "connected":
            routes = ", ".join(info.get("routes") or [])
            self.notes.append(f"connected to the proxy at {self.url}" + (f" ({routes})" if routes else ""))
        elif state == "gap":
            self.notes.append(f"the UI fell behind: {info.get('lost')} records were not received")
        elif state == "proxy-stopped":
            self.notes.append("the proxy stopped; what it relayed stays here to browse")
        elif state in ("disconnected", "refused"):
            self.notes.append(f"stream {state}: {info.get('reason')}")

    # -- the UI's timer --------------------------------------------------------------------------------------

    def poll(self) -> None:
        added = 0
        while self._inbox and added < INGEST_PER_TICK:
            added += self._ingest(self._inbox.popleft())
        if added:
            now = time.monotonic()
            self._arrivals.append((now, added))
            while self._arrivals and now - self._arrivals[0][0] > _RATE_WINDOW:
                self._arrivals.popleft()

    def _ingest(self, records: Records) -> int:
        """Spool, index and annotate one batch; the number of rows added."""
        index = self.index
        table = self._decoders
        events = [(record, table.get(record.get("type"))) for record in records]  # type: ignore[arg-type]
        lines = [orjson.dumps(record) + b"\n" if decoder is not None else b"" for record, decoder in events]
        offset, _ = self.spool.append(b"".join(lines))
        placed = []
        for (record, decoder), line in zip(events, lines, strict=True):
            if decoder is not None:
                placed.append((decoder(record), self.spool_no, offset, len(line)))
                offset += len(line)
        base = index.count
        index.extend(placed)
        row = base
        for record, decoder in events:
            if decoder is None:
                if record.get("type") == FINDING:
                    index.add_findings([Finding.from_json(record)])
                continue
            annotation = record.get("ins")
            if annotation:
                if "call" in annotation:
                    index.pair(record["seq"], annotation["call"], annotation.get("latency"))
                if "injected" in annotation:
                    self.injected[row] = annotation["injected"]
            row += 1
        index.analysed = index.count
        return len(placed)

    @property
    def visible(self) -> int:
        return self.index.count if self.paused_at is None else self.paused_at

    def toggle_pause(self) -> None:
        self.paused_at = self.index.count if self.paused_at is None else None

    def rate(self) -> float:
        if not self._arrivals:
            return 0.0
        span = max(1.0, time.monotonic() - self._arrivals[0][0])
        return sum(count for _, count in self._arrivals) / span

    def status(self) -> Text:
        text = Text()
        text.append("live ", "bold")
        text.append(self.title, "bold cyan")
        state = self.client.state
        style = {"connected": "green", "connecting": "yellow"}.get(state, "bold red")
        text.append(f" │ {state}", style)
        text.append(f" │ {self.index.count:,} rows · {self.rate():,.0f}/s")
        if self.client.lost:
            text.append(f" │ {self.client.lost:,} lost", "bold red")
        if self.paused_at is not None:
            text.append(f" │ ⏸ paused, {self.index.count - self.paused_at:,} new (Space)", "bold yellow")
        return text
