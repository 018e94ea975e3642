"""An exception in a rule is an internal-error finding; analysis of later frames goes on."""

from __future__ import annotations

import logging

import pytest

from proxy.core.analyzer import Analyzer, Checker, Context
from proxy.core.checks import default_checkers
from proxy.core.connection import Connection
from proxy.core.frames import Frame
from tests.traffic import Wire, hits


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
