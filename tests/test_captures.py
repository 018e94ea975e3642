"""The bundled captures: what the core finds in each, that they keep no secrets, and that they are documented.

``EXPECTED`` is what the core reports today, (rule id, seq) per capture, analysed with the options the
capture's scenario was recorded for (``unanswered-call``: a 2 s call timeout). When a rule changes what
it reports on these captures, this test says so, and the set is updated on purpose.
"""

from __future__ import annotations

import io
from contextlib import redirect_stdout
from pathlib import Path

import orjson
import pytest
from ocppscope.proxy.capture.reader import read_capture
from ocppscope.proxy.core.analyzer import Analyzer, AnalyzerOptions
from ocppscope.proxy.core.checks import default_checkers
from ocppscope.proxy.demo.__main__ import bundled_captures, main, options_for
from ocppscope.proxy.demo.scenarios import AUTH_PASSWORD, DEMO_AUTHORIZATION_KEY, DEMO_BASIC_PASSWORD, SCENARIOS

CAPTURES = Path(__file__).resolve().parents[1] / "captures"

EXPECTED: dict[str, set[tuple[str, int | None]]] = {
    "clean-ocpp16": set(),
    "clean-ocpp201": set(),
    "schema-violation": {
        ("schema.violation", 6), ("rpc.call-error", 7),
        ("schema.violation", 13),
        ("schema.violation", 16), ("rpc.call-error", 17),
        ("schema.violation", 18), ("rpc.call-error", 19), ("rpc.error-code-spelling", 19),
        ("schema.datetime-no-timezone", 23),
    },
    "unknown-ids": {("rpc.unknown-id", 6), ("rpc.unknown-id", 9), ("rpc.duplicate-answer", 12)},
    "unanswered-call": {("rpc.timeout", 4)},
    "boot-loop": {
        ("boot.retry", 4),
        ("boot.sending-after-rejected", 6),
        ("boot.retry", 8), ("boot.retry-too-early", 8),
        ("boot.retry", 10),
    },
    "missing-subprotocol": {("handshake.no-subprotocol-offered", 1), ("version.guessed", 2)},
    "bad-basic-auth": {
        ("handshake.http-401", 1), ("auth.basic-over-plain-ws", 1), ("auth.key-as-hex-text", 1),
        ("handshake.http-401", 2), ("auth.basic-over-plain-ws", 2), ("auth.key-as-hex-text", 2),
        ("auth.user-not-identity", 2), ("lifecycle.reconnect", 2),
        ("handshake.http-401", 3), ("auth.basic-over-plain-ws", 3), ("auth.invalid-base64", 3),
        ("lifecycle.reconnect", 3),
        ("auth.basic-over-plain-ws", 4), ("auth.key-as-hex-text", 4), ("lifecycle.reconnect", 4),
    },
    "broken-frames": {
        ("frame.multiline", 4),
        ("frame.binary", 6),
        ("frame.message-id-not-string", 8), ("frame.message-id-not-string", 9),
        ("frame.message-id-too-long", 10), ("frame.message-id-too-long", 11),
        ("vendor.data-transfer", 10), ("vendor.data-transfer-answer", 11),
        ("frame.bad-shape", 12), ("rpc.unanswered-at-close", 12),
        ("frame.invalid-json", 13),
        ("frame.unknown-type", 14),
        ("rpc.concurrent-call", 15),
    },
    "clock-ahead": {("clock.ahead", 4)},
    "clock-never-set": {("clock.never-set", 4)},
    "offline-replay": {("clock.queued", 4), ("clock.offline-transaction", 8), ("transaction.local-start", 8),
                       ("clock.offline-transaction", 12)},
    "meter-values": {
        ("value.empty-optional", 2), ("value.placeholder", 2),
        ("meter.context-not-trigger", 6),
        ("value.id-beyond-int32", 13),
        ("meter.context-mixed", 16),
        ("meter.unit-mismatch", 18),
        ("meter.value-notation", 20), ("meter.value-not-number", 20),
        ("meter.register-decreased", 22),
        ("meter.register-phase-switch", 24),
        ("meter.context-other", 26),
    },
    "vendor-data": {
        ("vendor.configuration-keys", 5),
        ("vendor.status-info", 8),
        ("vendor.data-transfer", 10), ("vendor.data-transfer-answer", 11),
        ("vendor.data-transfer", 12), ("vendor.data-transfer-answer", 13),
        ("vendor.data-transfer", 14), ("vendor.data-transfer-answer", 15),
        ("status.fault", 16),
        ("extension.security-whitepaper", 18), ("rpc.call-error", 19),
    },
    "measurands-201": {
        ("config.unknown-measurand", 4), ("config.unknown-measurand-accepted", 5),
        ("vendor.status-info", 8),
    },
    "message-relations": {
        ("boot.request-before-boot", 2),
        ("trigger.no-follow-up", 8),
        ("transaction.unknown-id", 10),
        ("transaction.placeholder-id-tag", 14),
        ("transaction.unknown-id", 26), ("trigger.unrequested", 28), ("transaction.local-start", 34),
    },
    "demo-session": {
        ("schema.datetime-no-timezone", 16),
        ("schema.violation", 20), ("rpc.call-error", 21),
        ("schema.violation", 24), ("rpc.call-error", 25), ("rpc.error-code-spelling", 25),
        ("rpc.duplicate-answer", 34),
    },
}
SECRETS = (AUTH_PASSWORD, DEMO_AUTHORIZATION_KEY, DEMO_BASIC_PASSWORD)


def findings(capture: Path, options: AnalyzerOptions) -> set[tuple[str, int | None]]:
    analyzer = Analyzer(default_checkers(), options)
    found = [(f.rule, f.seq) for event in read_capture(capture) for f in analyzer.feed(event).findings]
    found += [(f.rule, f.seq) for f in analyzer.finish()]
    assert len(found) == len(set(found)), "a rule reported the same frame twice"
    return set(found)


def test_every_scenario_has_a_bundled_capture_and_nothing_else_is_bundled() -> None:
    assert {p.name for p in CAPTURES.glob("*.jsonl")} == {f"{name}.jsonl" for name in SCENARIOS}
    assert set(EXPECTED) == set(SCENARIOS)
    assert len(SCENARIOS) >= 8


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_capture_findings(name: str) -> None:
    capture = CAPTURES / f"{name}.jsonl"
    assert findings(capture, options_for(capture)) == EXPECTED[name]


def test_unanswered_call_needs_the_short_timeout_to_prove_it() -> None:
    capture = CAPTURES / "unanswered-call.jsonl"
    assert options_for(capture).call_timeout == 2.0
    with_default = findings(capture, AnalyzerOptions())
    assert ("rpc.timeout", 4) not in with_default
    # The retry is sent while the first CALL still counts as pending, and it never gets an answer.
    assert {("rpc.concurrent-call", 5), ("rpc.unanswered-at-close", 4)} <= with_default


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_capture_is_redacted_and_holds_no_secret(name: str) -> None:
    data = (CAPTURES / f"{name}.jsonl").read_bytes()
    header = orjson.loads(data.split(b"\n", 1)[0])
    assert header["format"] == "ocppscope-capture" and header["redacted"] is True
    for secret in SECRETS:
        assert secret.encode() not in data


def test_secrets_that_were_on_the_wire_left_a_marker() -> None:
    assert b'"AuthorizationKey\\",\\"value\\":\\"<redacted' in (CAPTURES / "demo-session.jsonl").read_bytes()
    assert b"<redacted" in (CAPTURES / "clean-ocpp201.jsonl").read_bytes()
    assert (CAPTURES / "bad-basic-auth.jsonl").read_bytes().count(b"Basic <redacted") == 4


def test_readme_explains_every_capture_and_its_findings() -> None:
    readme = (CAPTURES / "README.md").read_text(encoding="utf-8")
    sections = {part.split("\n", 1)[0].strip(): part for part in readme.split("\n## ")[1:]}
    assert set(sections) == {f"{name}.jsonl" for name in SCENARIOS}
    for name, expected in EXPECTED.items():
        for rule_id, _ in expected:
            assert rule_id in sections[f"{name}.jsonl"], f"README does not explain {rule_id} in {name}"


def test_demo_reports_on_every_bundled_capture() -> None:
    assert [p.name for p in bundled_captures()][-1] == "demo-session.jsonl"
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["--captures"]) == 0
    report = out.getvalue()
    for name in SCENARIOS:
        assert f"{name}.jsonl" in report
    assert "rpc.unknown-id" in report and "schema.violation" in report
