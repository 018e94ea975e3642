"""The event stream's wire format: capture records, annotated with the analysis, in batches.

Every event travels as its capture record (:mod:`proxy.capture.format`), one JSON object per line, so a UI can
append the lines it receives to a file and have a valid capture. What the proxy's analyzer said rides along
without a second format: an answer's record carries ``"ins": {"call": <seq of the CALL>, "latency": <s>}``
(readers of captures ignore keys they do not know), and findings are records of type ``"finding"`` (readers
skip record types they do not know). Injected CALLs and their answers carry ``"ins": {"injected": "call"}``
or ``{"injected": "answer"}``.

WebSocket messages: binary ones are batches of such lines; text ones are control messages (JSON objects):
``hello`` first, then ``gap`` (the client fell behind and lost records), ``inject`` / ``inject-result``, and
``bye`` with the proxy's summary when it stops. A client authenticates with ``Authorization: Bearer TOKEN``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
from ocppscope.proxy.capture.format import encode_event
from ocppscope.proxy.core.analyzer import Inspection
from ocppscope.proxy.core.events import Event
from ocppscope.proxy.core.findings import Finding

PROTOCOL = "ocppscope-stream"
VERSION = "1.0"
TOKEN_ENV = "OCPPSCOPE_STREAM_TOKEN"
"""Where ``proxy --stream`` and ``tui --attach`` read the token, so it never shows in a process list."""
FINDING = "finding"


def event_line(event: Event, inspection: Inspection | None, injected: str | None = None) -> bytes:
    """The capture record of ``event`` with what the analysis said about it, as one line."""
    record = encode_event(event)
    annotation: dict[str, Any] = {}
    if inspection is not None and inspection.call is not None:
        annotation["call"] = inspection.call.seq
        if inspection.latency is not None:
            annotation["latency"] = round(inspection.latency, 6)
    if injected is not None:
        annotation["injected"] = injected
    if annotation:
        record["ins"] = annotation
    return orjson.dumps(record) + b"\n"


def finding_line(finding: Finding) -> bytes:
    return orjson.dumps({"type": FINDING, **finding.to_json()}, default=str) + b"\n"


def control(kind: str, **fields: Any) -> str:
    return orjson.dumps({"type": kind, **fields}, default=str).decode()


def hello(*, redacted: bool, routes: list[str], history: int, instance: str) -> str:
    return control("hello", protocol=PROTOCOL, version=VERSION, redacted=redacted, routes=routes, history=history,
                   instance=instance)


def check_hello(message: Any) -> str | None:
    """Why ``message`` is not a hello this client understands, or None."""
    if not isinstance(message, dict) or message.get("type") != "hello" or message.get("protocol") != PROTOCOL:
        return "the other side is not an ocppscope event stream"
    version = str(message.get("version", ""))
    if version.split(".", 1)[0] != VERSION.split(".", 1)[0]:
        return f"the proxy speaks stream version {version}, this ocppscope reads {VERSION}: use the same version"
    return None


def batch_lines(data: bytes) -> Iterator[bytes]:
    """The lines of a batch (each without its newline)."""
    start = 0
    while start < len(data):
        end = data.find(b"\n", start)
        if end < 0:
            end = len(data)
        if end > start:
            yield data[start:end]
        start = end + 1
