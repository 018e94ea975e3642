"""Frame decoding: every malformed shape becomes a problem, never an exception."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ocppscope.proxy.core.frames import decode
from ocppscope.proxy.core.protocol import MessageType

from tests.traffic import Wire, analyze, hits, rules


def problems(content: bytes, is_text: bool = True) -> list[str]:
    return [p.rule for p in decode(content, is_text).problems]


def test_call_decodes() -> None:
    frame = decode(b'[2,"abc","Heartbeat",{}]')
    assert frame.message_type is MessageType.CALL
    assert (frame.message_id, frame.action, frame.payload, list(frame.problems)) == ("abc", "Heartbeat", {}, [])


def test_callerror_decodes() -> None:
    frame = decode(b'[4,"7","NotImplemented","no such action",{"a":1}]')
    assert frame.message_type is MessageType.CALLERROR
    assert (frame.error_code, frame.error_description, frame.payload) == ("NotImplemented", "no such action", {"a": 1})


def test_21_types_decode() -> None:
    assert decode(b'[6,"1","NotifyPeriodicEventStream",{}]').message_type is MessageType.SEND
    assert decode(b'[5,"1","InternalError","",{}]').message_type is MessageType.CALLRESULTERROR


@pytest.mark.parametrize(
    ("content", "rule"),
    [
        (b'[2,"1","Heartbeat",{}', "frame.invalid-json"),
        (b'[2,"1","Authorize",{"idTag":"\xff"}]', "frame.invalid-utf8"),
        (b'{"action":"Heartbeat"}', "frame.not-array"),
        (b'[2,"1","Heartbeat"]', "frame.bad-shape"),
        (b'["2","1","Heartbeat",{}]', "frame.bad-shape"),
        (b"[]", "frame.bad-shape"),
        (b'[2,"1",7,{}]', "frame.bad-shape"),
        (b'[2,"1","Heartbeat",[]]', "frame.bad-shape"),
        (b'[4,"1",5,"",{}]', "frame.bad-shape"),
        (b'[9,"1","Heartbeat",{}]', "frame.unknown-type"),
        (b'[2,19223201,"Heartbeat",{}]', "frame.message-id-not-string"),
        (b'[2,"' + b"x" * 37 + b'","Heartbeat",{}]', "frame.message-id-too-long"),
        (b'[2,"1","Heartbeat",null]', "frame.null-payload"),
        (b'[2,\n "1",\n "Heartbeat",\n {}\n]', "frame.multiline"),
    ],
)
def test_malformed_frames_are_problems(content: bytes, rule: str) -> None:
    assert rule in problems(content)


@pytest.mark.parametrize(
    "content",
    [b'[2,"1","Heartbeat",{}]', b'[3,"1",{"currentTime":"2024-01-01T00:00:00Z"}]', b'[4,"1","GenericError","",{}]',
     b'[2,"' + b"x" * 36 + b'","Heartbeat",{}]'],
)
def test_well_formed_frames_have_no_problems(content: bytes) -> None:
    assert problems(content) == []


def test_binary_frame() -> None:
    assert problems(b'[2,"1","Heartbeat",{}]', is_text=False) == ["frame.binary"]


def test_big_integers_are_valid_json() -> None:
    frame = decode(b'[2,"1","DataTransfer",{"vendorId":"x","n":123456789012345678901234567890}]')
    assert frame.message_type is MessageType.CALL and not frame.problems


def test_numeric_ids_still_pair() -> None:
    wire = Wire()
    wire.boot()
    wire.cp("[2,5,\"Heartbeat\",{}]")
    wire.cs('[3,5,{"currentTime":"2024-01-01T00:00:00Z"}]')
    found = analyze(wire.events)
    assert len(hits(found, "frame.message-id-not-string")) == 2
    assert "rpc.unknown-id" not in rules(found)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.booleans())
def test_arbitrary_bytes_never_raise(content: bytes, is_text: bool) -> None:
    decode(content, is_text)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=6) | st.dictionaries(st.text(max_size=10), children, max_size=6),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(json_values, max_size=6), st.integers(min_value=-1, max_value=8))
def test_arbitrary_arrays_never_raise_through_the_analyzer(items: list, message_type: int) -> None:
    import json

    wire = Wire()
    wire.cp(json.dumps([message_type, *items]))
    wire.cs(json.dumps([3, *items[:2]]))
    analyze(wire.events)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_never_raises_through_the_analyzer(text: str) -> None:
    wire = Wire()
    wire.cp(text.encode("utf-8", "surrogatepass"))
    found = analyze(wire.events)
    assert "ocppscope.internal-error" not in rules(found)
