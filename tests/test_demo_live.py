"""`make demo`: a real charge point and central system through the real proxy, findings printed live."""

from __future__ import annotations

import io
from pathlib import Path

from ocppscope.proxy.capture.reader import read_capture
from ocppscope.proxy.core.events import Message
from ocppscope.proxy.demo.live import run_live_demo
from ocppscope.proxy.demo.scenarios import DEMO_AUTHORIZATION_KEY


async def test_live_demo_relays_the_session_and_reports_its_faults(tmp_path: Path) -> None:
    out = io.StringIO()
    errors = await run_live_demo(out, capture=tmp_path)
    text = out.getvalue()
    assert "⇄ connected ocpp1.6" in text
    assert "error   schema.violation: StopTransaction request: $.reason" in text
    assert "rpc.duplicate-answer" in text
    assert "── ocppscope summary ──" in text
    assert errors == 3
    [capture] = list(tmp_path.glob("*.jsonl"))
    frames = [e for e in read_capture(capture) if isinstance(e, Message)]
    assert len(frames) == 33
    assert b"AuthorizationKey" in b"".join(f.content for f in frames)
    assert DEMO_AUTHORIZATION_KEY.encode() not in capture.read_bytes()
    assert DEMO_AUTHORIZATION_KEY not in text  # the console redacts too
