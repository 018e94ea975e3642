"""An exception in a rule is an internal-error finding; analysis of later frames goes on."""

from __future__ import annotations

import logging

import pytest
from ocppscope.proxy.core.analyzer import Analyzer, Checker, Context
from ocppscope.proxy.core.checks import default_checkers
from ocppscope.proxy.core.connection import Connection
from ocppscope.proxy.core.frames import Frame

from tests.traffic import Wire, analyze, hits


class Exploding(Checker):
    name = "exploding"

    def on_call(self, ctx: Context, conn: Connection, frame: Frame) -> None:
        if frame.action == "Heartbeat":
            raise RuntimeError("boom")


def test_rule_exception_becomes_internal_error(caplog: pytest.LogCaptureFixture) -> None:
    wire = Wire()
    wire.boot()
    seq = wire.cp('[2,"h","Heartbeat",{}]')
    wire.cs('[3,"h",{"status":"nope"}]')
    analyzer = Analyzer([Exploding(), *default_checkers()])
    found = []
    with caplog.at_level(logging.ERROR, logger="ocppscope"):
        for event in wire.events:
            found += analyzer.feed(event).findings
    [internal] = hits(found, "ocppscope.internal-error")
    assert internal.seq == seq and "boom" in internal.message
    assert analyzer.internal_errors == 1
    assert "boom" in caplog.text
    # the checkers after the exploding one, and later frames, were still analysed
    assert hits(found, "schema.violation")


# -- payloads of the wrong shape are data, never a rule's exception ------------------------------------------

DEEP = "[" * 900 + "]" * 900
WRONG_SHAPES = [
    # (who sends, CALL, answer): each once made a rule raise
    ("cp", '[2,"a","FirmwareStatusNotification",{"status":["Installed"]}]', '[3,"a",{}]'),
    ("cp", '[2,"a","Authorize",{"idTag":"x","idToken":"flat"}]', '[3,"a",{"idTagInfo":{"status":{"a":1}}}]'),
    ("cp", '[2,"a","Authorize",{"idToken":"flat"}]', '[3,"a",{"idTokenInfo":{"status":"Invalid"}}]'),
    ("cp", '[2,"a","StatusNotification",{"connectorId":[1],"status":"Faulted","errorCode":"x"}]', '[3,"a",{}]'),
    ("cs", '[2,"a","SetVariables",{"setVariableData":[{"variable":[],"component":"x"}]}]',
     '[3,"a",{"setVariableResult":[{"variable":"y","attributeStatus":"Accepted"}]}]'),
    ("cs", '[2,"a","GetConfiguration",{"key":1.5}]', '[3,"a",{"configurationKey":2.5,"unknownKey":7.5}]'),
    ("cp", '[2,"a","MeterValues",{"connectorId":1,"meterValue":[{"timestamp":"2024-01-01T00:00:00Z",'
           '"sampledValue":[{"value":Infinity}]}]}]', '[3,"a",{}]'),
    ("cs", '[2,"a","SetChargingProfile",{"connectorId":1,"csChargingProfiles":{"chargingProfileId":1,'
           '"stackLevel":0,"chargingProfilePurpose":"TxDefaultProfile","chargingProfileKind":"Absolute",'
           '"chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,'
           '"limit":Infinity}]}}}]', '[3,"a",{"status":"Accepted"}]'),
    ("cp", '[2,"a","TransactionEvent",{"eventType":"Updated","triggerReason":["Periodic"],"seqNo":1,'
           '"timestamp":"2024-01-01T00:00:00Z","transactionInfo":{"transactionId":"t"}}]', '[3,"a",{}]'),
    ("cp", '[2,"a","DataTransfer",{"vendorId":' + DEEP + ',"messageId":' + DEEP + ',"data":1}]',
     '[3,"a",{"status":"Rejected","data":' + str(2**70) + "}]"),
    ("cp", '[2,' + DEEP + ',"Heartbeat",{}]', '[3,"a",{}]'),
    ("cp", '[2,"a","StatusNotification",{"connectorId":' + DEEP + ',"status":' + DEEP + ',"errorCode":"x"}]',
     '[3,"a",{}]'),
    ("cp", '[2,"a","BootNotification",{"chargePointVendor":"Zaptec","chargePointModel":{"deep":' + DEEP + "}}]",
     '[3,"a",{"status":"Accepted","currentTime":"0001-01-01T00:00:00Z","interval":' + str(2**70) + "}]"),
]


@pytest.mark.parametrize(("sender", "call", "answer"), WRONG_SHAPES)
def test_rules_read_payloads_of_the_wrong_shape_as_data(sender: str, call: str, answer: str) -> None:
    from ocppscope.proxy.profiles.options import profile_checker

    for subprotocol in ("ocpp1.6", "ocpp2.0.1"):
        wire = Wire(subprotocol=subprotocol)
        wire.boot()
        if sender == "cp":
            wire.cp(call)
            wire.cs(answer)
        else:
            wire.cs(call)
            wire.cp(answer)
        wire.close()
        checker = profile_checker(include_user=False)
        analyzer = Analyzer([*default_checkers(), checker])
        found = [f for event in wire.events for f in analyzer.feed(event).findings] + analyzer.finish()
        assert analyzer.internal_errors == 0, [f.message for f in hits(found, "ocppscope.internal-error")]


def test_a_frame_nested_too_deep_is_named_and_its_payload_left_alone() -> None:
    wire = Wire()
    wire.boot()
    seq = wire.cp('[2,"d","DataTransfer",{"vendorId":"x","data":' + "[" * 70 + "]" * 70 + "}]")
    wire.cs('[3,"d",{"status":"Accepted"}]')
    wire.cp('[2,"e","DataTransfer",{"vendorId":"x","data":"' + "[" * 700 + '"}]')  # brackets in a string: legal
    found = analyze(wire.events)
    [deep] = hits(found, "frame.too-deep")
    assert deep.seq == seq and "64 levels" in deep.message
    assert not hits(found, "rpc.unknown-id")  # the answer still pairs


# -- the one safe rendering ---------------------------------------------------------------------------------

def test_render_shows_anything_on_one_line_and_as_json() -> None:
    import math

    import orjson
    from ocppscope.proxy.core import render

    assert render.line("a\ud800b\n\x1b[31m\u2028") == "a\\ud800b\\n\\x1b[31m\\u2028"
    assert render.line("ü€𝄞 plain") == "ü€𝄞 plain"
    assert render.block("one\n\ttwo\x00\udfff") == "one\n\ttwo\\x00\\udfff"
    assert render.xml("a\x0bb\ufffe\nc") == "a\\x0bb\\ufffe\nc"
    assert render.data(b"ok \xff\xed\xa0\x80") == "ok \\xff\\xed\\xa0\\x80"
    deep: object = 1
    for _ in range(5000):
        deep = [deep]
    value = {"nan": math.nan, "inf": -math.inf, "big": 2**70, "s": "\ud800", "deep": deep, 3: {1, 2}}
    shown = orjson.loads(render.json_bytes(value))
    assert shown["nan"] == "NaN" and shown["inf"] == "-Infinity" and shown["big"] == str(2**70)
    assert shown["s"] == "\\ud800" and shown["3"] == [1, 2]
    level = shown["deep"]
    for _ in range(render.MAX_DEPTH - 1):
        level = level[0]
    assert level == render.CUT
    assert render.preview("x" * 10_000_000, 20) == '"' + "x" * 18 + "…"
    assert render.preview(deep, 30).endswith("…")
    assert render.timestamp(1e300) == "t=1e+300 (outside the calendar)"
    assert render.timestamp(math.nan) == "t=NaN" and render.timestamp(0) == "1970-01-01 00:00:00"
