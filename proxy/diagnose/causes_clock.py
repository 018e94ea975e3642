"""Causes seen in the charger's clock: never set, ahead, behind, jumping; and what its timestamps reveal of
time spent offline (messages queued, transactions replayed after a reconnect).

Per timestamp the core's clock rules judge (``clock.*`` findings); the jumps come from the series
(:mod:`proxy.diagnose.clock`). A wrong clock seldom drops a connection by itself, except through TLS: these
causes rank below the connection causes, higher when the charger uses wss:// or its handshakes failed.
"""

from __future__ import annotations

from ocppscope.proxy.core.checks.clocks import age
from ocppscope.proxy.core.findings import Finding, Severity
from ocppscope.proxy.diagnose.model import Cause, FrameRef
from ocppscope.proxy.diagnose.observe import ChargerFacts
from ocppscope.proxy.diagnose.options import DiagnoseOptions
from ocppscope.proxy.diagnose.words import close_ref, closed, finding_ref

_SET_CLOCK = ("Keep the charger's clock right: NTP, or the currentTime of the BootNotification and Heartbeat answers; "
              "send UTC with 'Z'; check its time-zone/DST handling and its RTC battery.")
_TLS = "A wrong clock breaks TLS: certificates are 'not yet valid' or 'expired' to it, and wss:// handshakes fail."


def _tls(facts: ChargerFacts) -> bool:
    """The charger uses TLS, or its handshakes failed or closed with 1015 (a TLS failure)."""
    return any(not str(c.request.get("tls", "none")).startswith("none") or not c.timeline.opened
               or c.timeline.code == 1015 for c in facts.connections)


def _assumed(found: list[Finding]) -> str:
    zones = sorted({str(f.evidence.get("assumed_zone")) for f in found if f.evidence.get("assumed_zone")})
    return (f" The log's times were read as {', '.join(zones)} (assumed, the log prints no zone): a whole-hour "
            "difference may be the zone." if zones else "")


def clock_never_set(facts: ChargerFacts, options: DiagnoseOptions) -> list[Cause]:
    found = facts.findings.get("clock.never-set", [])
    if not found:
        return []
    first = found[0]
    evidence = first.evidence
    current = evidence.get("boot_current_time")
    later_set = [j for j in (facts.clock.jumps if facts.clock else []) if j.synced and j.time >= (first.time or 0)]
    explanation = (f"The charger stamped {first.action} with {evidence.get('timestamp')}, "
                   f"{age(evidence.get('offset') or 0.0)} away from its arrival ({len(found)} connection(s)).")
    explanation += (f" The BootNotification answer (#{evidence.get('boot_answer_seq')}) had given it currentTime "
                    f"{current}: it ignores that time." if current else
                    " No BootNotification answer with a currentTime had been sent on that connection yet.")
    if later_set:
        explanation += (f" At #{later_set[0].seq} its timestamps were right: it set its clock from the backend's "
                        "currentTime then, and loses it again after each restart (RTC battery, no NTP).")
        score = 35
    else:
        score = 55
    if _tls(facts):
        explanation += " " + _TLS
        score += 15
    change = [_SET_CLOCK, "Make the firmware take the time from the BootNotification answer's currentTime before it "
              "stamps anything, and keep a real-time clock across restarts."]
    return [Cause("clock-never-set", score, f"Charger clock never set ({evidence.get('timestamp')})",
                  explanation + _assumed(found), change, [finding_ref(f) for f in found[:4]],
                  {"timestamp": evidence.get("timestamp"), "offset": evidence.get("offset"),
                   "boot_current_time": current, "connections": len(found), "set_later": bool(later_set)})]


def clock_off(facts: ChargerFacts, options: DiagnoseOptions) -> list[Cause]:
    """A clock ahead of the arrival times, or one that stays behind them over minutes of live traffic."""
    causes = []
    for rule_id, kind, word, key in (("clock.ahead", "clock-ahead", "ahead", "ahead"),
                                     ("clock.behind", "clock-behind", "behind", "behind")):
        found = facts.findings.get(rule_id, [])
        if not found:
            continue
        worst = max(found, key=lambda f: abs(f.evidence.get(key) or 0.0))
        size = abs(worst.evidence.get(key) or 0.0)
        warned = [f for f in found if f.severity >= Severity.WARNING]
        score = (45 if warned else 20) + (10 if warned and _tls(facts) else 0)
        explanation = (f"The charger's timestamps were {age(size)} {word} of their arrival (#{worst.seq}, "
                       f"{worst.action} stamped {worst.evidence.get('timestamp')}); {len(found)} time(s).")
        if word == "behind":
            explanation += " The offset held over minutes of live traffic: a slow clock, not a queue."
        if warned and _tls(facts):
            explanation += " " + _TLS
        causes.append(Cause(kind, score, f"Charger clock {age(size)} {word}", explanation + _assumed(found),
                            [_SET_CLOCK, "Meter values, transactions and status changes carry the wrong time "
                             "until it is fixed: billing and reports see them there."],
                            [finding_ref(f) for f in found[:4]], {key: round(size, 3), "times": len(found)}))
    return causes


def offline_queue(facts: ChargerFacts, options: DiagnoseOptions) -> list[Cause]:
    """Messages sent long after they were stamped: the charger had been offline (an outage not in view)."""
    queued = facts.findings.get("clock.queued", [])
    replayed = facts.findings.get("clock.offline-transaction", [])
    causes = []
    if queued:
        oldest = max(queued, key=lambda f: f.evidence.get("behind") or 0.0)
        behind = oldest.evidence.get("behind") or 0.0
        connections = sorted({f.conn_id or "" for f in queued})
        explanation = (f"After (re)connecting, the charger sent messages stamped up to {age(behind)} before they "
                       f"arrived (#{oldest.seq} {oldest.action}), on {len(connections)} connection(s): it had queued "
                       f"them while it could not reach the backend, so it was offline for at least {age(behind)} "
                       "before that connection. This is normal behaviour, not a clock fault, and the outage itself "
                       "is not in the capture.")
        previous = _drop_before(facts, oldest)
        if previous is not None:
            explanation += f" The connection before it ended: {previous.text}."
        change = ["Find why the charger was offline then: the close before it, the mobile/Wi-Fi link, power.",
                  "The backend must accept late messages with their original timestamps (and order them by "
                  "timestamp, not arrival)."]
        evidence = [finding_ref(f) for f in queued[:4]] + ([previous] if previous is not None else [])
        causes.append(Cause("offline-queue", 40, f"Offline for at least {age(behind)}: queued messages sent late",
                            explanation + _assumed(queued), change, evidence,
                            {"oldest": round(behind, 3), "runs": len(queued), "connections": connections}))
    if replayed:
        explanation = (f"{len(replayed)} transaction message(s) were stamped before the connection they came on "
                       f"(first: {replayed[0].message}). The charger ran these transactions offline and replays "
                       "them now.")
        change = ["The backend must accept transactions that started offline, late and with their own timestamps "
                  "(1.6 StartTransaction/StopTransaction, 2.x TransactionEvent offline true).",
                  "Who could charge offline is the charger's local authorisation: LocalAuthListEnabled, "
                  "LocalAuthorizeOffline, AllowOfflineTxForUnknownId (2.x AuthCtrlr.OfflineTxForUnknownIdEnabled)."]
        causes.append(Cause("offline-transactions", 35, f"Transactions run offline, replayed ({len(replayed)})",
                            explanation + _assumed(replayed), change, [finding_ref(f) for f in replayed[:4]],
                            {"messages": len(replayed)}))
    return causes


def _drop_before(facts: ChargerFacts, finding: Finding) -> FrameRef | None:
    """The close of the charger's connection before the one ``finding`` is on."""
    timelines = sorted((c.timeline for c in facts.connections), key=lambda t: t.opened_at)
    index = next((n for n, t in enumerate(timelines) if t.conn_id == finding.conn_id), None)
    before = [t for t in closed(timelines[:index]) if t.opened] if index else []
    return close_ref(before[-1]) if before else None


def clock_jumps(facts: ChargerFacts, options: DiagnoseOptions) -> list[Cause]:
    jumps = facts.clock.jumps if facts.clock is not None else []
    if not jumps:
        return []
    real = [j for j in jumps if not j.synced]
    if not real and facts.findings.get("clock.never-set"):
        return []  # a clock set once from the backend after being unset: the never-set cause tells it
    shown = real or jumps
    first = shown[0]
    closes = [t for t in closed(c.timeline for c in facts.connections)
              if any(0 <= (t.closed_at or 0.0) - j.time <= 60 for j in shown)]
    direction = "ahead" if first.size > 0 else "back"
    explanation = (f"The charger's clock jumped {age(first.size)} {direction} at #{first.seq}: its timestamps went "
                   f"from {first.before:+.0f} s to {first.after:+.0f} s against the arrival time, and stayed there "
                   f"({first.held} timestamp(s))")
    explanation += f"; {len(shown)} jump(s) in all." if len(shown) > 1 else "."
    if not real:
        explanation += " It happened right after the backend sent its currentTime: the charger set its clock, once."
        score = 25
    else:
        score = 58 + (8 if closes else 0)
    if closes:
        explanation += f" {len(closes)} connection(s) closed within a minute of a jump."
    change = [_SET_CLOCK, "A wrong clock also breaks TLS certificate checks (wss://) and puts wrong times on meter "
              "values and transactions."]
    evidence = [FrameRef(j.seq, j.conn_id, j.time, f"charger clock {j.before:+.0f} s → {j.after:+.0f} s")
                for j in shown[:5]] + [close_ref(t) for t in closes[:3]]
    return [Cause("clock-jump", score, f"Charger clock jumped {age(first.size)} {direction}", explanation,
                  change, evidence, {"jumps": len(shown), "first": round(first.size, 3), "synced": not real})]

