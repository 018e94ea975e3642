"""Conversation tracking: pairing, timeouts, ids, directions, versions."""

from __future__ import annotations

from ocppscope.proxy.core.analyzer import Analyzer, AnalyzerOptions, Checker, Context
from ocppscope.proxy.core.checks import default_checkers
from ocppscope.proxy.core.connection import Connection, PendingCall
from ocppscope.proxy.core.events import Direction, Message
from ocppscope.proxy.core.frames import Frame

from tests.traffic import T0, Wire, analyze, hits, rules

HB_ANSWER = '[3,"{}",{{"currentTime":"2024-01-01T00:00:00Z"}}]'


def heartbeat(wire: Wire, msg_id: str, answer_after: float | None = 0.2) -> None:
    wire.cp(f'[2,"{msg_id}","Heartbeat",{{}}]')
    if answer_after is not None:
        wire.cs(HB_ANSWER.format(msg_id), after=answer_after)


def clean_session() -> Wire:
    wire = Wire()
    wire.boot()
    heartbeat(wire, "h1")
    wire.cs('[2,"s1","GetConfiguration",{}]')
    wire.cp('[3,"s1",{"configurationKey":[{"key":"HeartbeatInterval","readonly":false,"value":"300"}]}]')
    wire.close()
    return wire


def test_clean_session_has_no_findings() -> None:
    assert analyze(clean_session().events) == []


def test_pairing_and_latency() -> None:
    wire = Wire()
    wire.cp('[2,"a","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]')
    wire.cs('[3,"a",{"status":"Accepted","currentTime":"2024-01-01T00:00:00Z","interval":300}]', after=0.25)
    analyzer = Analyzer(default_checkers())
    inspections = [analyzer.feed(e) for e in wire.events]
    answer = inspections[-1]
    assert answer.call is not None and answer.call.action == "BootNotification" and answer.call.seq == 2
    assert abs((answer.latency or 0) - 0.25) < 1e-9


def test_unknown_id() -> None:
    wire = Wire()
    wire.boot()
    seq = wire.cs('[3,"nobody",{}]')
    found = hits(analyze(wire.events), "rpc.unknown-id")
    assert [f.seq for f in found] == [seq]
    # an answer in the same direction as its CALL does not pair either
    wire = Wire()
    wire.boot()
    wire.cp('[2,"x","Heartbeat",{}]')
    wire.cp('[3,"x",{"currentTime":"2024-01-01T00:00:00Z"}]')
    assert len(hits(analyze(wire.events), "rpc.unknown-id")) == 1


def test_duplicate_id_while_pending() -> None:
    wire = Wire()
    wire.boot()
    heartbeat(wire, "dup", answer_after=None)
    seq = wire.cp('[2,"dup","Heartbeat",{}]', after=5)
    wire.cs(HB_ANSWER.format("dup"))
    found = analyze(wire.events)
    assert [f.seq for f in hits(found, "rpc.duplicate-id")] == [seq]
    # reusing an id after its answer is fine
    wire = Wire()
    wire.boot()
    heartbeat(wire, "same")
    heartbeat(wire, "same")
    assert "rpc.duplicate-id" not in rules(analyze(wire.events))


def test_concurrent_call_from_same_side() -> None:
    wire = Wire()
    wire.boot()
    wire.cp('[2,"1","Heartbeat",{}]')
    seq = wire.cp('[2,"2","StatusNotification",{"connectorId":1,"status":"Available","errorCode":"NoError"}]')
    wire.cs(HB_ANSWER.format("1"))
    wire.cs('[3,"2",{}]')
    assert [f.seq for f in hits(analyze(wire.events), "rpc.concurrent-call")] == [seq]


def test_crossing_calls_are_not_concurrent() -> None:
    wire = Wire()
    wire.boot()
    wire.cp('[2,"1","Heartbeat",{}]')
    wire.cs('[2,"b1","GetConfiguration",{}]')
    wire.cs(HB_ANSWER.format("1"))
    wire.cp('[3,"b1",{"configurationKey":[]}]')
    assert analyze(wire.events) == []


def test_timeout_proven_by_later_event() -> None:
    wire = Wire()
    wire.boot()
    seq = wire.cp('[2,"slow","Heartbeat",{}]')
    heartbeat(wire, "later", answer_after=0.2)  # only 1 s later: not proven yet
    found = analyze(wire.events)
    assert "rpc.timeout" not in rules(found)
    assert [f.seq for f in hits(found, "rpc.unanswered-at-end")] == [seq]
    wire.cp('[2,"x","Heartbeat",{}]', after=40)
    found = analyze(wire.events)
    timeouts = hits(found, "rpc.timeout")
    assert [f.seq for f in timeouts] == [seq]
    assert timeouts[0].time == wire.events[seq - 1].time + 30


def test_timeout_configurable_and_late_answer() -> None:
    wire = Wire()
    wire.boot()
    seq = wire.cp('[2,"h","Heartbeat",{}]')
    late = wire.cs(HB_ANSWER.format("h"), after=6)
    found = analyze(wire.events, options=AnalyzerOptions(call_timeout=5))
    assert [f.seq for f in hits(found, "rpc.timeout")] == [seq]
    assert [f.seq for f in hits(found, "rpc.late-response")] == [late]
    assert "rpc.unknown-id" not in rules(found)
    assert "rpc.timeout" not in rules(analyze(wire.events, options=AnalyzerOptions(call_timeout=7)))


def test_tick_reports_timeouts_without_traffic() -> None:
    wire = Wire()
    wire.boot()
    wire.cp('[2,"h","Heartbeat",{}]')
    analyzer = Analyzer(default_checkers())
    for event in wire.events:
        analyzer.feed(event)
    assert analyzer.tick(wire.time + 10) == []
    assert [f.rule for f in analyzer.tick(wire.time + 31)] == ["rpc.timeout"]


def test_slow_response() -> None:
    wire = Wire()
    wire.cp('[2,"b","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]')
    seq = wire.cs('[3,"b",{"status":"Accepted","currentTime":"2024-01-01T00:00:00Z","interval":300}]', after=15)
    assert [f.seq for f in hits(analyze(wire.events), "rpc.slow-response")] == [seq]
    assert "rpc.slow-response" not in rules(analyze(wire.events, options=AnalyzerOptions(slow_response=20)))


def test_unanswered_at_close() -> None:
    wire = Wire()
    wire.boot()
    seq = wire.cp('[2,"s","StopTransaction",{"transactionId":1,"meterStop":5,"timestamp":"2024-01-01T00:00:00Z"}]')
    wire.close(1006, after=2)
    assert [f.seq for f in hits(analyze(wire.events), "rpc.unanswered-at-close")] == [seq]
    assert "rpc.unanswered-at-close" not in rules(analyze(clean_session().events))


def test_call_error_and_codes() -> None:
    wire = Wire()
    wire.boot()
    wire.cs('[2,"r","Reset",{"type":"Soft"}]')
    wire.cp('[4,"r","NotSupported","no reset here",{}]')
    wire.cs('[2,"t","ClearCache",{}]')
    wire.cp('[4,"t","FormatViolation","",{}]')
    wire.cs('[2,"u","ClearCache",{}]')
    wire.cp('[4,"u","Oops","",{}]')
    found = analyze(wire.events)
    assert len(hits(found, "rpc.call-error")) == 3
    assert [f.evidence["error_code"] for f in hits(found, "rpc.error-code-spelling")] == ["FormatViolation"]
    assert [f.evidence["error_code"] for f in hits(found, "rpc.unknown-error-code")] == ["Oops"]


def test_wrong_direction_and_unknown_action() -> None:
    wire = Wire()
    wire.boot()
    wrong = wire.cs('[2,"x","Heartbeat",{}]')
    wire.cp(HB_ANSWER.format("x"))
    unknown = wire.cp('[2,"y","TransactionEvent",{}]')
    wire.cs('[4,"y","NotImplemented","",{}]')
    found = analyze(wire.events)
    assert [f.seq for f in hits(found, "rpc.wrong-direction")] == [wrong]
    assert [f.seq for f in hits(found, "rpc.unknown-action")] == [unknown]
    assert hits(found, "rpc.unknown-action")[0].evidence["known_in"] == ["2.0.1", "2.1"]
    # DataTransfer goes both ways
    wire = Wire()
    wire.boot()
    wire.cs('[2,"d","DataTransfer",{"vendorId":"V"}]')
    wire.cp('[3,"d",{"status":"Accepted"}]')
    wire.cp('[2,"e","DataTransfer",{"vendorId":"V"}]')
    wire.cs('[3,"e",{"status":"Accepted"}]')
    found = analyze(wire.events)
    assert not hits(found, "rpc.wrong-direction") and not hits(found, "rpc.unknown-action")
    assert {f.rule for f in found} <= {"vendor.data-transfer"}  # shown as vendor data (info), nothing more


def test_version_guessed_without_subprotocol() -> None:
    wire = Wire(subprotocol=None)
    wire.boot()
    found = analyze(wire.events)
    guessed = hits(found, "version.guessed")
    assert len(guessed) == 1 and guessed[0].evidence["version"] == "1.6"
    wire = Wire(subprotocol=None)
    wire.cp('[2,"b","BootNotification",{"chargingStation":{"model":"M","vendorName":"V"},"reason":"PowerUp"}]')
    wire.cs('[3,"b",{"status":"Accepted","currentTime":"2024-01-01T00:00:00Z","interval":300}]')
    assert hits(analyze(wire.events), "version.guessed")[0].evidence["version"] == "2.0.1"
    assert "version.guessed" not in rules(analyze(clean_session().events))


def test_unsupported_version_pairs_without_validation() -> None:
    wire = Wire(subprotocol="ocpp1.5")
    wire.cp('[2,"b","BootNotification",{"nonsense":1}]')
    wire.cs('[3,"b",{}]')
    found = analyze(wire.events)
    assert rules(found) == ["version.unsupported"]


SEND = '[6,"s","NotifyPeriodicEventStream",{"id":1,"pending":0,"basetime":"2024-01-01T00:00:00Z","data":[]}]'


def test_type_not_in_version() -> None:
    wire = Wire()
    wire.boot()
    seq = wire.cp(SEND)
    assert [f.seq for f in hits(analyze(wire.events), "frame.type-not-in-version")] == [seq]
    wire = Wire(subprotocol="ocpp2.1")
    wire.cp(SEND)
    assert "frame.type-not-in-version" not in rules(analyze(wire.events))


def test_pending_table_is_bounded() -> None:
    wire = Wire()
    wire.boot()
    for n in range(30):
        wire.cs(f'[2,"c{n}","ClearCache",{{}}]', after=0.01)
    analyzer = Analyzer([], AnalyzerOptions(max_pending=10))
    found = []
    for event in wire.events:
        found += analyzer.feed(event).findings
    assert len(hits(found, "rpc.pending-overflow")) == 1
    assert len(analyzer.connections["c1"].pending[Direction.FROM_BACKEND]) == 10


def test_closed_connections_are_forgotten() -> None:
    analyzer = Analyzer(default_checkers())
    for n in range(50):
        wire = Wire(conn_id=f"c{n}", t0=T0 + n * 100)
        wire.boot()
        wire.close()
        for event in wire.events:
            analyzer.feed(event)
    assert analyzer.connections == {}


def test_message_without_open_is_analysed() -> None:
    analyzer = Analyzer(default_checkers())
    inspection = analyzer.feed(Message("mid", T0, Direction.FROM_BACKEND, b'[3,"x",{}]', seq=1))
    assert [f.rule for f in inspection.findings] == ["rpc.unknown-id"]


def test_duplicate_answer_is_named_as_such() -> None:
    wire = Wire()
    wire.boot()
    heartbeat(wire, "h")
    seq = wire.cs(HB_ANSWER.format("h"))
    found = analyze(wire.events)
    [dup] = hits(found, "rpc.duplicate-answer")
    assert dup.seq == seq and dup.evidence["first_answer_seq"] == seq - 1
    assert "rpc.unknown-id" not in rules(found)
    wire = Wire()
    wire.boot()
    heartbeat(wire, "h")
    assert "rpc.duplicate-answer" not in rules(analyze(wire.events))


def test_binary_frame_with_a_call_is_still_paired() -> None:
    wire = Wire()
    wire.boot()
    wire.cp(b'[2,"b","Heartbeat",{}]', is_text=False)
    wire.cs(HB_ANSWER.format("b"))
    assert rules(analyze(wire.events)) == ["frame.binary"]


def test_synthetic_connections_skip_handshake_judgement() -> None:
    from ocppscope.proxy.core.events import ConnectionOpened

    imported = ConnectionOpened("c1", T0, "", "/CP01", seq=1, synthetic=True)
    wire = Wire(opened=False)
    wire.events.append(imported)
    wire.seq = 1
    wire.boot()
    found = analyze(wire.events)
    assert [(f.rule, f.severity.name) for f in found] == [("version.guessed", "INFO")]
    live = Wire(subprotocol=None)
    live.boot()
    assert "handshake.no-subprotocol-offered" in rules(analyze(live.events))


class _AnswerRecorder(Checker):
    """Records which answers reach it: the hooks answers_to limits."""

    name = "answer-recorder"

    def __init__(self) -> None:
        self.seen: list[tuple[str, str | None]] = []

    def on_result(self, ctx: Context, conn: Connection, call: PendingCall, frame: Frame) -> None:
        self.seen.append(("result", call.action))

    def on_error(self, ctx: Context, conn: Connection, call: PendingCall, frame: Frame) -> None:
        self.seen.append(("error", call.action))


class _BackendAnswers(_AnswerRecorder):
    answers_to = Direction.FROM_BACKEND


def _both_sides_ask(wire: Wire) -> None:
    wire.boot()
    heartbeat(wire, "h1")
    wire.cs('[2,"g1","GetConfiguration",{}]')
    wire.cp('[3,"g1",{"configurationKey":[]}]')
    wire.cs('[2,"r1","Reset",{"type":"Soft"}]')
    wire.cp('[4,"r1","NotImplemented","",{}]')
    wire.cp('[2,"d1","DataTransfer",{"vendorId":"V"}]')
    wire.cs('[4,"d1","NotImplemented","",{}]')


def test_answers_to_limits_answer_hooks_to_the_calls_of_one_side() -> None:
    wire = Wire()
    _both_sides_ask(wire)
    every, backend = _AnswerRecorder(), _BackendAnswers()
    analyzer = Analyzer([every, backend])
    for event in wire.events:
        analyzer.feed(event)
    assert every.seen == [("result", "BootNotification"), ("result", "Heartbeat"), ("result", "GetConfiguration"),
                          ("error", "Reset"), ("error", "DataTransfer")]
    assert backend.seen == [("result", "GetConfiguration"), ("error", "Reset")]


class _FirstCallOnly(Checker):
    """Takes the first CALL of each connection, then stops taking its CALLs."""

    name = "first-call-only"

    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None]] = []
        self.results = 0

    def on_call(self, ctx: Context, conn: Connection, frame: Frame) -> None:
        self.calls.append((conn.conn_id, frame.action))
        ctx.stop_calls(self)

    def on_result(self, ctx: Context, conn: Connection, call: PendingCall, frame: Frame) -> None:
        self.results += 1


class _EveryCall(Checker):
    name = "every-call"

    def __init__(self) -> None:
        self.calls = 0

    def on_call(self, ctx: Context, conn: Connection, frame: Frame) -> None:
        self.calls += 1


def test_stop_calls_ends_one_checkers_calls_on_one_connection_only() -> None:
    first, second = Wire(conn_id="c1"), Wire(charger="CP02", conn_id="c2")
    for wire in (first, second):
        wire.boot()
        heartbeat(wire, "h1")
        heartbeat(wire, "h2")
    first.cs('[2,"g1","GetConfiguration",{}]')
    first.cp('[3,"g1",{"configurationKey":[]}]')
    stopping, every = _FirstCallOnly(), _EveryCall()
    analyzer = Analyzer([stopping, every])
    for event in sorted(first.events + second.events, key=lambda event: event.time):
        analyzer.feed(event)
    assert stopping.calls == [("c1", "BootNotification"), ("c2", "BootNotification")]
    assert stopping.results == 7  # its other hooks still run: every answer of both connections
    assert every.calls == 7
