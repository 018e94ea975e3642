"""Properties: the reader only ever raises CaptureError; frames and redaction survive any content."""

from __future__ import annotations

import contextlib
import io
import tempfile
from pathlib import Path

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ocppscope.proxy.capture import CaptureError, CaptureWriter, ReadReport, SourceError, read_capture, read_events
from ocppscope.proxy.capture.format import FORMAT_NAME
from ocppscope.proxy.capture.redact import Redactor
from ocppscope.proxy.core.events import Direction, Message

SALT = b"property-tests"
HEADER = orjson.dumps({"type": "header", "format": FORMAT_NAME, "version": "1.0"}) + b"\n"

ints = st.integers(-(2**63), 2**63 - 1)
json_values = st.recursive(
    st.none() | st.booleans() | ints | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
anything = json_values
record_like = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["msg", "open", "close", "ping", "pong", "header", "other"]) | anything,
        "seq": ints | anything,
        "t": st.floats(allow_nan=False) | anything,
        "conn": st.text(max_size=4) | anything,
        "dir": st.sampled_from(["cp-to-csms", "csms-to-cp"]) | anything,
        "text": st.text(max_size=12) | anything,
        "b64": st.sampled_from(["", "AAE=", "!!", "AAE"]) | anything,
        "binary": st.booleans() | anything,
        "client": st.text(max_size=4) | anything,
        "path": st.text(max_size=4) | anything,
        "status": ints | anything,
        "req": st.lists(st.lists(st.text(max_size=4), max_size=3), max_size=2) | anything,
        "auth": anything,
        "client_tls": anything,
        "code": ints | anything,
        "extra": anything,
    },
)
line = st.one_of(
    st.binary(max_size=40),
    record_like.map(orjson.dumps),
    json_values.map(orjson.dumps),
)


def read_all(data: bytes) -> None:
    with contextlib.suppress(CaptureError):
        list(read_capture(io.BytesIO(data), report=ReadReport("<fuzz>", on_warning=lambda _m: None)))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_arbitrary_bytes_raise_nothing_but_capture_error(data: bytes) -> None:
    read_all(data)
    read_all(HEADER + data)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(line, max_size=6), st.booleans())
def test_records_of_any_shape_raise_nothing_but_capture_error(lines: list[bytes], newline_at_end: bool) -> None:
    body = b"\n".join(lines) + (b"\n" if newline_at_end else b"")
    read_all(HEADER + body)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200), st.booleans(), st.floats(min_value=0, max_value=4e9, allow_nan=False))
def test_any_frame_comes_back_byte_for_byte(content: bytes, is_text: bool, time: float) -> None:
    event = Message("c1", time, Direction.FROM_CHARGER, content, is_text, seq=1)
    buffer = io.BytesIO()
    CaptureWriter(buffer, salt=SALT, redact=False).write(event)
    assert list(read_capture(io.BytesIO(buffer.getvalue()))) == [event]


secret_words = st.sampled_from(["AuthorizationKey", "authorizationKey=", "BasicAuthPassword", "password", "key",
                                "value", "variable", "attributeValue", "vpn", ":", ",", '"', "\\", "{", "}", "[",
                                "]", "<redacted kind=text bytes=1 hmac=00>"])


@settings(max_examples=100, deadline=None)
@given(st.lists(secret_words | st.text(max_size=6), max_size=20)
       | json_values.map(lambda value: [orjson.dumps(value).decode()]))
def test_redaction_never_raises_and_leaves_valid_json_valid(parts: list[str]) -> None:
    text = "".join(parts)
    result = Redactor(SALT).frame(text.encode("utf-8", "surrogatepass"))
    if result is not None:
        try:
            orjson.loads(text)
        except orjson.JSONDecodeError:
            return
        orjson.loads(result)  # a frame that was JSON stays JSON


log_line = st.one_of(
    st.binary(max_size=30),
    st.tuples(st.sampled_from([
        b"[ocpp  ] TRACE 2024/07/11 17:12:57 recv CP1: ",
        b"[ocpp  ] TRACE 2024/07/11 17:12:57 sent CP1: ",
        b"[ocpp  ] DEBUG 2024/07/11 17:12:57 charge point connected: CP1",
        b"2025-01-30 14:41:45.253 INFO (MainThread) [ocpp] CP1: receive message ",
        b"2025-01-30 14:41:45.253 INFO (MainThread) [ocpp] CP1: send ",
        b"[INFO ] 2023-10-13 07:53:58,463 x (y) - [chargeBoxId=CP1, sessionId=s1] Received: ",
        b"[WARN ] 2023-10-13 07:53:58,463 x (y) - [chargeBoxId=CP1, sessionId=s1] Connection is closed, status: ",
        b"2024-03-01T08:00:00Z CP1 -> ",
        b"9999999999.9 <- ",
        b'{"schemaVersion":"1.1","direction":"cp-to-csms","timestamp":',
        b"[",
        b'[{"schemaVersion":"1.1","direction":"csms-to-cp","timestamp":"2024-01-01T00:00:00Z","chargePointId":"\\udc80',
    ]), st.binary(max_size=30) | json_values.map(orjson.dumps)).map(b"".join),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(log_line, max_size=8))
def test_any_file_is_imported_or_refused_with_a_source_error(lines: list[bytes]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "input"
        path.write_bytes(b"\n".join(lines))
        writer = CaptureWriter(io.BytesIO(), salt=SALT)
        with contextlib.suppress(SourceError):
            for event in read_events(path, on_warning=lambda _m: None):
                writer.write(event)  # whatever is read can be stored
