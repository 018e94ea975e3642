"""BootNotification rules: requests before acceptance, rejected chargers, retries, Pending."""

from __future__ import annotations

from tests.traffic import BOOT_16, Wire, analyze, hits, rules

STATUS = '[2,"{}","StatusNotification",{{"connectorId":0,"status":"Available","errorCode":"NoError"}}]'
HB = '[2,"{}","Heartbeat",{{}}]'
HB_ANSWER = '[3,"{}",{{"currentTime":"2024-01-01T00:00:00Z"}}]'


def boot_answer(msg_id: str, status: str, interval: int) -> str:
    return f'[3,"{msg_id}",{{"status":"{status}","currentTime":"2024-01-01T00:00:00Z","interval":{interval}}}]'


def test_request_before_boot_answered() -> None:
    wire = Wire()
    wire.cp(f'[2,"b","BootNotification",{BOOT_16}]')
    seq = wire.cp(STATUS.format("s"))
    wire.cs(boot_answer("b", "Accepted", 300))
    wire.cs('[3,"s",{}]')
    assert [f.seq for f in hits(analyze(wire.events), "boot.request-before-accepted")] == [seq]


def test_requests_after_accepted_and_on_reconnect_without_boot_are_fine() -> None:
    wire = Wire()
    wire.boot()
    wire.cp(STATUS.format("s"))
    wire.cs('[3,"s",{}]')
    assert analyze(wire.events) == []
    wire = Wire()  # reconnect: a charger need not boot again
    wire.cp(HB.format("h"))
    wire.cs(HB_ANSWER.format("h"))
    assert analyze(wire.events) == []


def test_request_while_pending_unless_triggered() -> None:
    wire = Wire()
    wire.boot("Pending", 60)
    seq = wire.cp(STATUS.format("s1"))
    wire.cs('[3,"s1",{}]')
    wire.cs('[2,"t","TriggerMessage",{"requestedMessage":"StatusNotification"}]')
    wire.cp('[3,"t",{"status":"Accepted"}]')
    wire.cp(STATUS.format("s2"))
    wire.cs('[3,"s2",{}]')
    assert [f.seq for f in hits(analyze(wire.events), "boot.request-before-accepted")] == [seq]


def test_remote_start_while_pending() -> None:
    wire = Wire()
    wire.boot("Pending", 60)
    seq = wire.cs('[2,"r","RemoteStartTransaction",{"idTag":"TAG1"}]')
    wire.cp('[3,"r",{"status":"Rejected"}]')
    assert [f.seq for f in hits(analyze(wire.events), "boot.remote-start-while-pending")] == [seq]
    wire = Wire()
    wire.boot()
    wire.cs('[2,"r","RemoteStartTransaction",{"idTag":"TAG1"}]')
    wire.cp('[3,"r",{"status":"Accepted"}]')
    assert analyze(wire.events) == []


def test_sending_after_rejected() -> None:
    wire = Wire()
    wire.boot("Rejected", 60)
    seq = wire.cp(HB.format("h"), after=5)
    wire.cs(HB_ANSWER.format("h"))
    found = analyze(wire.events)
    assert [f.seq for f in hits(found, "boot.sending-after-rejected")] == [seq]
    # waiting out the interval and booting again is the right thing
    wire = Wire()
    wire.boot("Rejected", 60)
    wire.cp(f'[2,"b2","BootNotification",{BOOT_16}]', after=61)
    wire.cs(boot_answer("b2", "Accepted", 300))
    found = analyze(wire.events)
    assert "boot.sending-after-rejected" not in rules(found)
    assert "boot.retry-too-early" not in rules(found)
    assert len(hits(found, "boot.retry")) == 1


def test_backend_calls_a_rejected_charger() -> None:
    wire = Wire()
    wire.boot("Rejected", 60)
    seq = wire.cs('[2,"g","GetConfiguration",{}]')
    assert [f.seq for f in hits(analyze(wire.events), "boot.backend-call-while-rejected")] == [seq]


def test_boot_loop_retries_across_connections() -> None:
    found = []
    wires = []
    for n in range(3):
        wire = Wire(conn_id=f"c{n}", t0=1_700_000_000.0 + n * 20)
        wire.boot("Pending", 60, msg_id=f"b{n}")
        wire.close()
        wires.append(wire)
    events = [e for w in wires for e in w.events]
    found = analyze(events)
    retries = hits(found, "boot.retry")
    assert [f.evidence["attempt"] for f in retries] == [2, 3]
    assert len(hits(found, "boot.retry-too-early")) == 2
    assert all(f.charger == "CP01" for f in retries)


def test_reboot_after_accepted_is_not_a_retry() -> None:
    wire = Wire()
    wire.boot()
    wire.boot(msg_id="again")
    assert analyze(wire.events) == []


def test_unanswered_boot_then_other_request() -> None:
    wire = Wire()
    wire.cp(f'[2,"b","BootNotification",{BOOT_16}]')
    wire.cs('[4,"b","InternalError","",{}]')
    seq = wire.cp(HB.format("h"))
    wire.cs(HB_ANSWER.format("h"))
    assert [f.seq for f in hits(analyze(wire.events), "boot.request-before-accepted")] == [seq]
