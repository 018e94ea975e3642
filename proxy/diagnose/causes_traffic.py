"""Causes seen in the OCPP traffic before a close: boot loops, retry loops, unanswered CALLs, bursts of
CALLERRORs, concurrent CALLs, and missing heartbeats. (The charger's clock: :mod:`causes_clock`.)"""

from __future__ import annotations

from collections.abc import Iterator

from ocppscope.proxy.core.words import duration as seconds
from ocppscope.proxy.diagnose.model import Cause, ConnectionTimeline, FrameRef
from ocppscope.proxy.diagnose.observe import CallFact, ChargerFacts, ConnectionFacts
from ocppscope.proxy.diagnose.options import DiagnoseOptions
from ocppscope.proxy.diagnose.words import close_ref, closed, counted, ending, finding_ref


def boot_loop(facts: ChargerFacts, options: DiagnoseOptions) -> list[Cause]:
    """BootNotification refused again and again. One retry after one refusal (a CALLERROR, no answer) is what
    OCPP asks a charger to do, not a loop: a loop needs the refusal repeated."""
    boots = facts.boots
    refused = [b for b in boots if b.status != "Accepted"]
    if len(boots) < 2 or len(refused) < 2:
        return []
    statuses = [b.status or "no answer" for b in boots]
    never = boots[-1].status != "Accepted"
    score = min(94, 80 + 2 * (len(refused) - 1) + (4 if never else 0))
    connections = len({b.ref.conn_id for b in boots})
    explanation = f"BootNotification sent {len(boots)} times: {' → '.join(statuses[-8:])}."
    if connections > 1:
        explanation += f" The attempts span {connections} connections: the charger reconnects to boot again."
    early = len(facts.findings.get("boot.retry-too-early", []))
    if early:
        explanation += f" {early} retr{'y' if early == 1 else 'ies'} came before the interval the backend asked for."
    talking = len(facts.findings.get("boot.sending-after-rejected", []))
    if talking:
        explanation += f" The charger sent {talking} other message(s) while Rejected."
    if never:
        explanation += " It was never Accepted."
    change = []
    kinds = set(statuses)
    if "Pending" in kinds:
        change.append("Pending: the backend has not accepted this charger yet (awaiting registration or "
                      "configuration): finish that in the backend; meanwhile the charger waits the interval.")
    if "Rejected" in kinds:
        change.append("Rejected: the backend refuses this charger; check that it is registered and enabled under "
                      "this identity. The charger must stay silent until the interval has passed.")
    if "no answer" in kinds:
        change.append("No answer: the backend does not answer BootNotification in time; look in its logs for this "
                      "charger at those times.")
    if any(s.startswith("CALLERROR") for s in statuses):
        change.append("CALLERROR: the backend refuses the BootNotification payload; the schema findings of those "
                      "frames name the fields.")
    if early:
        change.append("The charger retries before the interval in the answer: its firmware should honour it.")
    evidence: list[FrameRef] = []
    for boot in boots[-6:]:
        evidence += [boot.ref] + ([boot.answer] if boot.answer else [])
    return [Cause("boot-loop", score, f"Boot loop: {counted(statuses)}", explanation, change, evidence,
                  {"attempts": len(boots), "statuses": statuses, "accepted_at_last": not never})]


def retry_loop(facts: ChargerFacts, options: DiagnoseOptions) -> list[Cause]:
    """One CALL sent again and again unchanged, refused the same way each time (see :mod:`retries`)."""
    loops = facts.retry_loops
    if not loops:
        return []
    run = loops[0]
    closes = [t for t in closed(c.timeline for c in facts.connections)
              if t.conn_id in run.connections and 0 <= (t.closed_at or 0.0) - run.last.time <= options.close_window]
    score = min(78, 62 + 2 * (run.count - 3)) + (6 if closes else 0)
    receiver = "backend" if run.sender == "charger" else "charger"
    explanation = (f"The {run.sender} sent {run.action} {run.count} times with the same payload, one every "
                   f"{seconds(run.period)}, and the {receiver} answered {run.answer} every time"
                   + (f", over {len(run.connections)} connections" if len(run.connections) > 1 else "") + ".")
    if len(loops) > 1:
        explanation += " Also: " + "; ".join(f"{r.action} ×{r.count} ({r.answer})" for r in loops[1:4]) + "."
    if closes:
        explanation += f" Then {ending(closes[0])}."
    if run.answer.startswith("CALLERROR"):
        fix = (f"The {receiver} refuses the payload itself: fix what its CALLERROR names (the schema findings of "
               f"#{run.first.seq} list the fields) or make the {receiver} accept it.")
    else:
        fix = (f"The {receiver} answers {run.answer} to exactly this request: change the request or the "
               f"{receiver}'s configuration, not the timing.")
    change = [fix, f"Make the {run.sender} stop resending a CALL that was answered, whatever the answer: only "
              "unanswered transaction messages are retried (1.6 TransactionMessageAttempts / "
              "TransactionMessageRetryInterval, 2.x MessageAttemptsTransactionEvent)."]
    evidence = [run.first, run.first_answer, run.last, run.last_answer] + [close_ref(t) for t in closes[:1]]
    return [Cause("retry-loop", score, f"Retry loop: {run.action} ×{run.count}, answered {run.answer} each time",
                  explanation, change, evidence,
                  {"action": run.action, "sender": run.sender, "attempts": run.count, "answer": run.answer,
                   "period": round(run.period, 3), "loops": len(loops)},
                  [t.conn_id for t in closes])]


def _sender(fact: CallFact) -> str:
    return fact.direction.sender


def _given_up(conn: ConnectionFacts, fact: CallFact) -> bool:
    """A later CALL of the same sender was answered: the conversation went on after this one."""
    return conn.answered.get(_sender(fact), float("-inf")) > fact.ref.time


def _ended(facts: ChargerFacts) -> Iterator[tuple[ConnectionFacts, float]]:
    """Each connection that closed, with the time it closed."""
    for conn in facts.connections:
        if conn.timeline.closed_at is not None:
            yield conn, conn.timeline.closed_at


def unanswered_before_close(facts: ChargerFacts, options: DiagnoseOptions) -> list[Cause]:
    hits: list[tuple[ConnectionFacts, CallFact]] = []
    for conn, closed_at in _ended(facts):
        concurrent = {c.ref.seq for c in conn.concurrent}
        timed_out = [t for t in conn.timeouts if closed_at - t.at <= options.close_window]
        for fact in [*conn.unanswered_at_close, *timed_out]:
            if fact.ref.seq not in concurrent and not _given_up(conn, fact):
                hits.append((conn, fact))
                break
    if not hits:
        return []
    conn, fact = hits[0]
    timeline = conn.timeline
    waited = (timeline.closed_at or fact.at) - fact.ref.time
    explanation = (f"{len(hits)} connection(s) closed right after a CALL went unanswered. First: {fact.action} "
                   f"from the {_sender(fact)} waited {seconds(waited)}, then {ending(timeline)}.")
    senders = {_sender(f) for _, f in hits}
    actions = counted(f.action for _, f in hits)
    change = []
    if "charger" in senders:
        change += [f"The backend must answer every CALL: look in its logs for {actions} from this charger at those "
                   "times; an unanswered CALL makes chargers give up and reconnect.",
                   "If the backend is slow rather than silent, raise the charger's message timeout (1.6 "
                   "MessageTimeout, 2.x OCPPCommCtrlr.MessageTimeout)."]
    if "backend" in senders:
        change.append(f"The charger does not answer {actions}: firmware must answer every CALL, with CALLERROR "
                      "NotImplemented or NotSupported for what it does not do.")
    evidence: list[FrameRef] = []
    for conn, fact in hits[:4]:
        evidence += [fact.ref, close_ref(conn.timeline)]
    return [Cause("unanswered-call", min(88, 80 + 2 * (len(hits) - 1)),
                  f"Closed after an unanswered CALL ({actions})", explanation, change, evidence,
                  {"connections": len(hits), "actions": [f.action for _, f in hits]},
                  [conn.timeline.conn_id for conn, _ in hits])]


def errors_before_close(facts: ChargerFacts, options: DiagnoseOptions) -> list[Cause]:
    hits: list[tuple[ConnectionTimeline, list[tuple[FrameRef, str]]]] = []
    for conn, closed_at in _ended(facts):
        burst = [(ref, who) for ref, who in conn.errors if closed_at - ref.time <= options.error_window]
        if len(burst) < 2 or closed_at - burst[-1][0].time > options.close_window:
            continue
        last, who = burst[-1]
        caller = "backend" if who == "charger" else "charger"
        if conn.answered.get(caller, float("-inf")) > last.time:
            continue  # the conversation went on after the errors: they did not end it
        hits.append((conn.timeline, burst))
    if not hits:
        return []
    biggest = max(len(burst) for _, burst in hits)
    score = (82 if biggest >= 3 else 66) + min(6, 2 * (len(hits) - 1))
    timeline, burst = hits[0]
    span = (timeline.closed_at or 0.0) - burst[0][0].time
    texts = counted(ref.text.split(" ", 1)[1] for ref, _ in burst)
    senders = counted(who for _, who in burst)
    explanation = (f"{len(hits)} connection(s) closed after a burst of CALLERRORs. First: {len(burst)} in the "
                   f"{seconds(span)} before {ending(timeline)}: {texts} (sent by the {senders}).")
    change = ["Fix what the errors refuse: the CALLs they answer are malformed or not accepted (the schema "
              "findings of those frames name the fields).",
              f"{ending(timeline).split(' closed')[0].capitalize()} closes after repeated errors (as ocpp-rpc does "
              "with maxBadMessages, closing 1002): until the payloads are fixed, each burst costs a connection."]
    evidence = [ref for ref, _ in burst[-5:]] + [close_ref(timeline)]
    return [Cause("errors-before-close", score, f"Closed after a burst of CALLERRORs ({len(burst)})", explanation,
                  change, evidence, {"connections": len(hits), "errors": biggest}, [t.conn_id for t, _ in hits])]


def concurrent_calls(facts: ChargerFacts, options: DiagnoseOptions) -> list[Cause]:
    hits: list[tuple[ConnectionFacts, CallFact]] = []
    for conn, closed_at in _ended(facts):
        left = {f.ref.seq: f for f in [*conn.unanswered_at_close, *conn.timeouts]}
        for fact in conn.concurrent:
            # One of the two CALLs was dropped, and nothing the sender sent later was answered either.
            dropped = [left[ref.seq] for ref in (fact.ref, fact.other) if ref is not None and ref.seq in left]
            if closed_at - fact.ref.time <= options.concurrent_window and any(
                    not _given_up(conn, lost) for lost in dropped):
                hits.append((conn, fact))
                break
    if not hits:
        return []
    conn, fact = hits[0]
    timeline = conn.timeline
    sender = _sender(fact)
    receiver = fact.direction.reverse.sender
    explanation = (f"The {sender} sent {fact.action} while its "
                   f"{fact.other.text.split(' ', 1)[1] if fact.other else 'earlier CALL'} was still unanswered "
                   f"({len(hits)} connection(s)); the {receiver} never answered one of them, and "
                   f"{ending(timeline)} {seconds((timeline.closed_at or 0.0) - fact.ref.time)} later.")
    change = [f"OCPP allows one outstanding CALL per side (2.x SHALL NOT, 1.6 SHOULD NOT send another before the "
              f"answer or its timeout): make the {sender} queue its CALLs per charger.",
              f"A {receiver} that handles one CALL at a time drops or refuses the second one."]
    evidence: list[FrameRef] = []
    for conn, fact in hits[:3]:
        evidence += ([fact.other] if fact.other else []) + [fact.ref, close_ref(conn.timeline)]
    return [Cause("concurrent-calls", min(90, 86 + 2 * (len(hits) - 1)),
                  f"Closed after concurrent CALLs from the {sender}", explanation, change, evidence,
                  {"connections": len(hits), "sender": sender}, [conn.timeline.conn_id for conn, _ in hits])]


def missing_heartbeats(facts: ChargerFacts, options: DiagnoseOptions) -> list[Cause]:
    silent: list[ConnectionTimeline] = []
    late = [f for conn in facts.connections for f in conn.heartbeats_late]
    for timeline in closed(c.timeline for c in facts.connections):
        interval = timeline.heartbeat_interval
        if not interval or timeline.charger_silence is None:
            continue
        if timeline.charger_silence > 1.5 * interval + min(5.0, interval / 2):
            silent.append(timeline)
    if not silent and not late:
        return []
    if silent:
        first = silent[0]
        interval = first.heartbeat_interval or 1
        silence = first.charger_silence or 0.0
        explanation = (f"{len(silent)} connection(s) ended after the charger had been silent longer than its "
                       f"HeartbeatInterval allows. First: {seconds(silence)} ({silence / interval:.1f} × "
                       f"{interval} s) without a frame from the charger, then {ending(first)}.")
        if first.closed_by == "charger":
            explanation += (" The charger closed it itself: it stopped sending (a hung OCPP task, a modem that "
                            "lost its link) and then gave up on the connection.")
        score = min(80, 74 + 2 * (len(silent) - 1))
    else:
        interval = int(late[0].evidence.get("interval") or 0)
        explanation = f"{len(late)} Heartbeat(s) came later than the HeartbeatInterval ({interval} s) allows."
        score = 55
    if late and silent:
        explanation += f" {len(late)} Heartbeat(s) on the way were late as well."
    change = [f"The charger must send a Heartbeat after {interval} s without other messages: check that it applies "
              "the interval from the BootNotification answer (or ChangeConfiguration / SetVariables), and that its "
              "timer keeps running when the connection is busy or just reconnected.",
              "A backend that drops silent chargers should allow a late Heartbeat (e.g. 2 × the interval)."]
    evidence = [*(t.last_frames[-1] for t in silent[:3] if t.last_frames), *(close_ref(t) for t in silent[:3])]
    evidence += [finding_ref(f) for f in late[:3]]
    return [Cause("missing-heartbeats", score, "Heartbeats missing against the HeartbeatInterval", explanation,
                  change, evidence, {"silent_closes": len(silent), "late": len(late), "interval": interval},
                  [t.conn_id for t in silent])]
