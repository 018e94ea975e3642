"""A redacted capture replays to the same profile findings as the live traffic (secrets never needed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from ocppscope.proxy.capture.sources import read_events
from ocppscope.proxy.capture.writer import CaptureWriter

from tests.test_profile_support import change, checker
from tests.traffic import Wire, analyze


def _findings(events: list, mapping: str) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    found = analyze(events, [checker(mapping)])
    return [(f.rule, f.message) for f in found if f.rule.startswith(("profile.", "config.", "limit."))]


@pytest.mark.parametrize(("mapping", "key", "value"), [
    ("CP01=ecotap-evc5", "authorizationKey", "OTHER:9N8gGyS8Un7g4IY9dRIC"),
    ("CP01=ecotap-evc5", "authorizationKey", "CP01:9N8gGyS8Un7g4IY9dRIC"),
    ("CP01=ocpp16-generic", "AuthorizationKey", "0001020304050607FFFFFFFFFFFFFFFFFFFFFFFF"),
])
def test_replay_of_a_redacted_capture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mapping: str, key: str,
                                      value: str) -> None:
    monkeypatch.setenv("OCPPSCOPE_HOME", str(tmp_path / "home"))
    wire = Wire("CP01")
    change(wire, key, value)
    change(wire, "com_OCPPID", "NEW-ID")
    path = tmp_path / "cap.ocppscope"
    with CaptureWriter(path) as writer:
        for event in wire.events:
            writer.write(event)
    assert value.encode() not in path.read_bytes()
    live = _findings(wire.events, mapping)
    replayed = _findings(list(read_events(path)), mapping)
    assert [rule for rule, _ in replayed] == [rule for rule, _ in live]
    assert not any("bad-format" in rule for rule, _ in replayed)
