"""mitmproxy flow files (``mitmdump -w``, mitmweb's save, ``ocppscope proxy --save-flows``) as input.

Read with mitmproxy's own :class:`mitmproxy.io.FlowReader` (which also upgrades files of older mitmproxy
versions), through the same translation the live proxy uses (:mod:`proxy.engine.bridge`): a WebSocket flow
is a connection with its handshake, its messages at mitmproxy's timestamps (direction from ``from_client``)
and its close; a refused upgrade is a handshake with its status. Messages mitmproxy marks ``injected``, and the
answers to injected CALLs that the proxy held back (``dropped``), are ocppscope's own traffic
(``Message.injected``). Flows that are not WebSocket upgrades are skipped and listed.

mitmproxy writes a WebSocket flow when it ends, so a file is in the order connections closed. The reader puts
it in time order without loading it: a first pass notes where each flow starts in the file and when it opened,
the second reads each flow when the merge reaches its opening, so only flows that overlap in time are held.
Input that cannot seek (a pipe) is copied once into a private temporary file.
"""

from __future__ import annotations

import heapq
import re
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any, BinaryIO

import msgspec
from ocppscope.proxy.capture.report import ReadReport, SourceError, describe_error
from ocppscope.proxy.core.events import Event
from ocppscope.proxy.core.frames import decode
from ocppscope.proxy.core.protocol import MessageType

_ANSWERS = (MessageType.CALLRESULT, MessageType.CALLERROR)
_LISTED = 5
"""Skipped flows named one by one in the report."""
_FIRST_KEY = re.compile(
    rb"\d{1,15}:\d{1,2}:(?:websocket|request|response|error|client_conn|server_conn|type|version|id|metadata"
    rb"|marked|is_replay|intercepted|comment|timestamp_created|messages|live|backup);"
)
"""How a flow file starts: the length of the first flow's dictionary, then its first key (mitmproxy writes a
flow's keys in a fixed order, but not the same one in every version)."""


def sniff_flows(data: bytes) -> str | None:
    """``"mitmproxy"`` when ``data`` starts like a mitmproxy flow file (a tnetstring dictionary of a flow)."""
    return "mitmproxy" if _FIRST_KEY.match(data) else None


def read_flows(handle: BinaryIO, report: ReadReport) -> Iterator[Event]:
    """The events of the mitmproxy flow file on ``handle``, in time order."""
    if handle.seekable():
        yield from _FlowFile(handle, report).events()
        return
    with tempfile.TemporaryFile() as copy:  # created private (0600): the flows may hold secrets
        shutil.copyfileobj(handle, copy, 1024 * 1024)
        copy.seek(0)
        yield from _FlowFile(copy, report).events()  # type: ignore[arg-type]


class _FlowFile:
    def __init__(self, handle: BinaryIO, report: ReadReport) -> None:
        self.handle = handle
        self.report = report
        self.skipped: list[str] = []
        self.skipped_count = 0
        self.still_open = 0
        self._seq = 0

    def events(self) -> Iterator[Event]:
        from mitmproxy import exceptions

        try:
            index = self._index()
            yield from self._merged(index)
        except (exceptions.FlowReadException, KeyError, TypeError, ValueError, IndexError) as exc:
            # mitmproxy's reader raises these on a damaged file; what was read before it has been given out.
            raise SourceError(self.report.source, f"not a readable mitmproxy flow file: {describe_error(exc)} "
                              f"(after {self.report.lines} flow(s))") from None
        if self.skipped_count:
            more = ", …" if self.skipped_count > len(self.skipped) else ""
            self.report.note(f"{self.skipped_count} flow(s) that are not WebSocket upgrades were skipped "
                             f"({', '.join(self.skipped)}{more})")
        if self.still_open:
            self.report.note(f"{self.still_open} WebSocket(s) were still open when the flows were saved (no close "
                             "is made up for them)")
        self.report.finish()

    def _index(self) -> list[tuple[float, int, int]]:
        """(time opened, order in the file, offset) of each flow that holds a handshake."""
        from mitmproxy import http
        from mitmproxy.io import FlowReader
        from ocppscope.proxy.engine import bridge

        index = []
        flows = iter(FlowReader(self.handle).stream())
        while True:
            offset = self.handle.tell()
            flow = next(flows, None)
            if flow is None:
                break
            self.report.lines += 1
            if not isinstance(flow, http.HTTPFlow) or not bridge.is_websocket_upgrade(flow):
                self._skip(flow)
                continue
            index.append((_opened_time(flow), len(index), offset))
        index.sort()
        return index

    def _skip(self, flow: Any) -> None:
        self.skipped_count += 1
        if len(self.skipped) < _LISTED:
            request = getattr(flow, "request", None)
            what = f"{request.method} {request.pretty_url}" if request is not None else f"a {flow.type} flow"
            self.skipped.append(what)

    def _merged(self, index: list[tuple[float, int, int]]) -> Iterator[Event]:
        heap: list[tuple[float, int, Event, Iterator[Event]]] = []
        waiting = list(reversed(index))
        tie = 0
        while heap or waiting:
            while waiting and (not heap or waiting[-1][0] <= heap[0][0]):
                events = self._flow_events(self._load(waiting.pop()[2]))
                first = next(events, None)
                if first is not None:
                    tie += 1
                    heapq.heappush(heap, (first.time, tie, first, events))
            if not heap:
                continue
            _time, _tie, event, events = heapq.heappop(heap)
            self._seq += 1
            event.seq = self._seq
            self.report.events += 1
            yield event
            following = next(events, None)
            if following is not None:
                tie += 1
                heapq.heappush(heap, (following.time, tie, following, events))

    def _load(self, offset: int) -> Any:
        from mitmproxy.io import FlowReader

        self.handle.seek(offset)
        return next(iter(FlowReader(self.handle).stream()))

    def _flow_events(self, flow: Any) -> Iterator[Event]:
        """One flow's events in time order (their ``seq`` is set as the merge sends them)."""
        from ocppscope.proxy.engine import bridge

        if flow.response is None and flow.error is None:
            return  # saved while its upgrade was still waiting for an answer
        # Whether the proxy verified the backend's certificate is not in the file: unknown, not "not verified".
        opened = bridge.opened(flow, 0, upstream_verified=None)  # type: ignore[arg-type]
        yield opened
        websocket = flow.websocket
        if opened.status != 101 or websocket is None:
            return
        injected_calls = set()
        for message in websocket.messages:
            event = bridge.message(flow, message, 0)
            self.report.frames += 1
            if message.injected:
                event = msgspec.structs.replace(event, injected=True)
                frame = decode(message.content, message.is_text)
                if frame.message_type is MessageType.CALL and frame.message_id is not None:
                    injected_calls.add((message.from_client, frame.message_id))
            elif message.dropped and injected_calls:
                frame = decode(message.content, message.is_text)
                if (frame.message_type in _ANSWERS
                        and (not message.from_client, frame.message_id) in injected_calls):
                    event = msgspec.structs.replace(event, injected=True)  # held back from the side that did not ask
            yield event
        if websocket.timestamp_end is None:
            self.still_open += 1
            return
        yield bridge.closed(flow, 0)


def _opened_time(flow: Any) -> float:
    response = flow.response
    if response is not None and response.timestamp_start:
        return float(response.timestamp_start)
    if flow.error is not None and flow.error.timestamp:
        return float(flow.error.timestamp)
    return float(flow.request.timestamp_start or 0.0)
