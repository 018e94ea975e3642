"""Causes seen in how connections open and end: idle timeouts, reconnect storms, two connections for one
identity, refused handshakes, and (as the least specific) close codes that report a fault."""

from __future__ import annotations

from collections import Counter
from itertools import pairwise

from ocppscope.proxy.core.checks.lifecycle import close_words
from ocppscope.proxy.core.findings import Severity
from ocppscope.proxy.core.words import duration as seconds
from ocppscope.proxy.diagnose.model import Cause, ConnectionTimeline, FrameRef
from ocppscope.proxy.diagnose.observe import ChargerFacts, ConnectionFacts
from ocppscope.proxy.diagnose.options import DiagnoseOptions
from ocppscope.proxy.diagnose.words import close_ref, closed, counted, ending, middle, open_ref

_CLEAN = frozenset({1000, 1001, 1005, None})


def idle_timeout(facts: ChargerFacts, options: DiagnoseOptions) -> list[Cause]:
    """Closes that cluster at one idle time: something on the path closes silent connections."""
    candidates = [c for c in closed(c.timeline for c in facts.connections)
                  if c.idle is not None and c.idle >= options.min_idle]
    if not candidates:
        return []
    cluster = max((_near(candidates, c.idle or 0.0, options) for c in candidates),
                  key=lambda group: (len(group), middle(c.idle or 0.0 for c in group)))
    idle = middle(c.idle or 0.0 for c in cluster)
    first = cluster[0]
    if len(cluster) >= 2:
        score = min(92, 80 + 4 * (len(cluster) - 2))
    elif first.idle is not None and first.idle >= 30 and (first.code == 1006 or first.closed_by == "backend"):
        score = 45
    else:
        return []
    interval = Counter(c.heartbeat_interval for c in cluster if c.heartbeat_interval).most_common(1)
    heartbeat = interval[0][0] if interval else None
    ping = (facts.settings.get("WebSocketPingInterval") or {}).get("value")
    spread = max(c.idle or 0.0 for c in cluster) - min(c.idle or 0.0 for c in cluster)
    total = len(closed(c.timeline for c in facts.connections))
    explanation = (f"{len(cluster)} of {total} connection(s) ended after {seconds(idle)} without an OCPP frame "
                   f"(spread {spread:.1f} s): {counted(ending(c) for c in cluster)}.")
    change: list[str] = []
    tolerance = max(0.5, 0.1 * heartbeat) if heartbeat else 0.0
    if heartbeat and abs(idle - heartbeat) <= tolerance:
        score = min(95, score + 5)
        explanation += (f" That is the HeartbeatInterval ({heartbeat} s): a read deadline equal to the heartbeat "
                        "interval. The charger's Heartbeat falls due when the deadline expires and loses the race.")
        change.append(f"Make the idle/read deadline of the backend (and of any proxy or load balancer in front of "
                      f"it) longer than HeartbeatInterval with a margin, e.g. 2 × {heartbeat} s + 10 s.")
        if heartbeat >= 2:
            change.append(f"Or lower HeartbeatInterval (the BootNotification interval, ChangeConfiguration / "
                          f"SetVariables HeartbeatInterval) to about {heartbeat // 2} s.")
    else:
        if heartbeat and idle < heartbeat:
            explanation += (f" That is shorter than the HeartbeatInterval ({heartbeat} s): the charger stays silent "
                            "longer than something on the path allows.")
        change += [f"Set WebSocketPingInterval (1.6 ChangeConfiguration, 2.x OCPPCommCtrlr.WebSocketPingInterval) "
                   f"below {seconds(idle)}, e.g. {max(1, int(idle // 2))} s, so the connection is never idle that "
                   "long.",
                   f"Or raise the idle timeout of the load balancer, reverse proxy, NAT or firewall that closes after "
                   f"{seconds(idle)}."]
        if heartbeat and idle < heartbeat:
            change.append(f"Or lower HeartbeatInterval below {seconds(idle)}.")
    pinged = [c for c in cluster if c.since_ping is not None and c.idle is not None and c.since_ping < c.idle - 1]
    if pinged:
        explanation += (" WebSocket pings kept flowing during the silence, so this is not a TCP idle timeout: "
                        "something closes after that long without an OCPP message (an application read deadline; "
                        "pings do not reset it).")
    elif ping:
        explanation += f" WebSocketPingInterval is {ping} s" + (
            ", yet no ping was seen before these closes." if all(c.pings == 0 for c in cluster) else ".")
    if any(c.code == 1006 for c in cluster):
        explanation += " TCP ended without a close frame (1006), typical of a NAT or firewall dropping the flow."
    evidence = []
    for conn in cluster[:6]:
        evidence += [*conn.last_frames[-1:], close_ref(conn)]
    return [Cause("idle-timeout", score, f"Idle timeout: connections close after {seconds(idle)} without traffic",
                  explanation, change, evidence,
                  {"idle": round(idle, 3), "closes": len(cluster), "heartbeat_interval": heartbeat,
                   "ping_interval": ping}, [c.conn_id for c in cluster])]


def _near(conns: list[ConnectionTimeline], idle: float, options: DiagnoseOptions) -> list[ConnectionTimeline]:
    tolerance = max(options.idle_slack, options.idle_tolerance * idle)
    return [c for c in conns if abs((c.idle or 0.0) - idle) <= tolerance]


def reconnect_storm(facts: ChargerFacts, options: DiagnoseOptions) -> list[Cause]:
    conns = sorted((c.timeline for c in facts.connections), key=lambda c: c.opened_at)
    bursts = facts.findings.get("lifecycle.reconnect-burst", [])
    if len(conns) < options.storm_handshakes:
        return []
    gaps = [b.opened_at - a.opened_at for a, b in pairwise(conns)]
    period = middle(gaps)
    if period > options.storm_period and not bursts:
        return []
    span = conns[-1].opened_at - conns[0].opened_at
    ends = [ending(c) + f" after {seconds(c.duration or 0.0)}" for c in closed(conns)]
    refused = [c.status for c in conns if not c.opened]
    explanation = (f"{len(conns)} handshakes in {seconds(span)}, one every {seconds(period)} (median).")
    if refused:
        explanation += f" Refused: {counted(refused)}."
    if closed(conns):
        explanation += f" The connections ended: {counted(ending(c) for c in closed(conns))}."
    change = ["Back off between reconnects: OCPP 2.x RetryBackOffWaitMinimum (first wait), RetryBackOffRandomRange "
              "and RetryBackOffRepeatTimes (doubling); 1.6 firmware has its own reconnect delay setting.",
              "Then remove the reason each connection ends" + (f" ({ends[0]})" if ends else "") +
              ": see the other causes listed for this charger."]
    evidence = [open_ref(c) for c in conns[:3]] + [close_ref(c) for c in closed(conns)[:3]]
    return [Cause("reconnect-storm", 72 + min(8, len(conns) - options.storm_handshakes),
                  f"Reconnect storm: {len(conns)} connections, one every {seconds(period)}", explanation, change,
                  evidence, {"handshakes": len(conns), "period": round(period, 3), "span": round(span, 3)})]


def concurrent_connections(facts: ChargerFacts, options: DiagnoseOptions) -> list[Cause]:
    found = facts.findings.get("lifecycle.concurrent-connection", [])
    if not found:
        return []
    timelines = {c.timeline.conn_id: c.timeline for c in facts.connections}
    evidence: list[FrameRef] = []
    hosts: set[str] = set()
    afterwards: list[str] = []
    for finding in found[:5]:
        new = timelines.get(finding.conn_id or "")
        olds = [timelines[c] for c in finding.evidence.get("open", []) if c in timelines]
        for conn in [*olds, *([new] if new else [])]:
            hosts.add((conn.client or "?").rsplit(":", 1)[0])
        for old in olds:
            evidence.append(open_ref(old))
            if old.closed_at is not None:
                evidence.append(close_ref(old))
                afterwards.append(f"{old.conn_id}: {ending(old)} {seconds(max(0.0, old.closed_at - finding.time))} "
                                  "after the second one opened" if finding.time else ending(old))
        if new is not None:
            evidence.append(open_ref(new))
    explanation = (f"{len(found)} time(s) a connection opened while another one for {facts.charger} was still open. "
                   "The backend sends its CALLs to one of them, and usually drops the other.")
    if afterwards:
        explanation += " Then " + "; ".join(afterwards[:3]) + "."
    if len(hosts) > 1:
        explanation += f" They come from different addresses ({', '.join(sorted(hosts))}): two devices?"
        change = [f"Two devices use the identity {facts.charger}: give each its own identity and credentials."]
    else:
        change = ["The charger opens a new connection without closing the old one (after a network change or a "
                  "timeout it did not tell the backend about): it should close the old WebSocket first.",
                  "Let the backend replace the older connection deliberately (close it with a clear code and "
                  "reason) when a new one for the same identity arrives."]
    return [Cause("concurrent-connections", 90, f"Two connections at once for {facts.charger}", explanation, change,
                  evidence[:8], {"times": len(found), "addresses": sorted(hosts)})]


def _failed(conn: ConnectionFacts) -> bool:
    if not conn.timeline.opened:
        return True
    return any(f.rule == "handshake.closed-after-subprotocol-problem" for f in conn.handshake)


_ADVICE = {
    401: "Set the charger's Basic-auth password (1.6 AuthorizationKey, 2.x SecurityCtrlr BasicAuthPassword) to what "
         "the backend holds for this identity; the user name must be the identity itself.",
    403: "The backend forbids this charger (IP allow-list, security profile): check its access settings.",
    404: "Register the charger in the backend under exactly this identity (case matters to many backends), or fix "
         "the path of the backend URL configured on the charger.",
    400: "Offer a subprotocol the backend supports (ocpp1.6, ocpp2.0.1, ocpp2.1), spelled exactly.",
    502: "The backend could not be reached (ocppscope answered 502): check its address, port and TLS certificate.",
    0: "The charger gave up before the backend answered the upgrade: the backend is slow or unreachable.",
}


def handshake_failures(facts: ChargerFacts, options: DiagnoseOptions) -> list[Cause]:
    conns = sorted(facts.connections, key=lambda c: c.timeline.opened_at)
    failed = [c for c in conns if _failed(c)]
    if not failed:
        return []
    statuses = [c.timeline.status if not c.timeline.opened else "closed at once (subprotocol)" for c in failed]
    never = _failed(conns[-1])
    score = (88 if len(failed) >= 2 else 75) + (4 if never else 0)
    reasons = []
    for conn in failed:
        for finding in conn.handshake:
            if finding.severity >= Severity.WARNING and finding.message not in reasons:
                reasons.append(finding.message)
    explanation = f"{len(failed)} of {len(conns)} handshake(s) failed: {counted(statuses)}."
    if reasons:
        explanation += " The upgrade showed: " + "; ".join(reasons[:5]) + "."
    change = [_ADVICE[s] for s in dict.fromkeys(c.timeline.status for c in failed) if s in _ADVICE]
    if any(c.timeline.opened for c in failed):
        change.append(_ADVICE[400])
    evidence = [open_ref(c.timeline) for c in failed[:6]]
    success = _first_success_after(conns, failed[-1]) if not never else None
    facts_out: dict[str, object] = {"failed": len(failed), "statuses": [str(s) for s in statuses],
                                    "succeeded_at_last": not never}
    if success is not None:
        before = _last_failure_before(conns, success)
        changed = _what_changed(before.request, success.request)
        explanation += (f" Then {success.timeline.conn_id} got in; compared with the last refused attempt: "
                        + ("; ".join(changed) if changed else "nothing in the request changed (the backend did)") + ".")
        evidence.append(open_ref(success.timeline))
        facts_out["changed"] = changed
    elif never:
        explanation += " The charger never got in."
    return [Cause("handshake-failures", score, f"Handshakes refused: {counted(statuses)}", explanation,
                  change or ["See the handshake findings of these connections."], evidence, facts_out)]


def _first_success_after(conns: list[ConnectionFacts], failure: ConnectionFacts) -> ConnectionFacts | None:
    later = conns[conns.index(failure) + 1:]
    return next((c for c in later if not _failed(c)), None)


def _last_failure_before(conns: list[ConnectionFacts], success: ConnectionFacts) -> ConnectionFacts:
    earlier = conns[: conns.index(success)]
    return next(c for c in reversed(earlier) if _failed(c))


def _what_changed(before: dict[str, object], after: dict[str, object]) -> list[str]:
    changed = []
    for key in ("path", "subprotocols", "credentials", "tls"):
        if before.get(key) != after.get(key):
            changed.append(f"{key} {before.get(key)!s} → {after.get(key)!s}")
    if before.get("credentials") == after.get("credentials") and before.get("password") != after.get("password"):
        changed.append("the password (same length and kind, different value)")
    return changed


def close_codes(facts: ChargerFacts, options: DiagnoseOptions) -> list[Cause]:
    """Closes whose code reports a fault, grouped by who closed and the code: the least specific cause."""
    groups: dict[tuple[str | None, int | None], list[ConnectionTimeline]] = {}
    for conn in closed(c.timeline for c in facts.connections):
        if conn.code not in _CLEAN:
            groups.setdefault((conn.closed_by, conn.code), []).append(conn)
    causes = []
    for (who, code), conns in groups.items():
        count = len(conns)
        dropped = code == 1006
        score = min(55, 42 + 3 * (count - 1)) if dropped else min(62, 48 + 4 * (count - 1))
        reasons = counted(c.reason for c in conns if c.reason)
        explanation = (f"{count} connection(s) {'dropped' if dropped else 'closed'} by the {who} with {code} "
                       f"({close_words(code)})" + (f", reason {reasons}" if reasons else "") + ": "
                       f"{conns[0].close_text}.")
        evidence = conns[0].last_frames[-2:] + [close_ref(c) for c in conns[:5]]
        causes.append(Cause(f"close-{code}", score, f"Closed by the {who} with {code} ({close_words(code)})",
                            explanation, [_close_advice(code, who)], evidence,
                            {"code": code, "closed_by": who, "count": count}, [c.conn_id for c in conns]))
    return causes


def _close_advice(code: int | None, who: str | None) -> str:
    if code == 1006:
        return ("The TCP connection ended without a WebSocket close: look at the network path (mobile signal, NAT, "
                "firewall, load balancer timeouts) and at power; WebSocket pings detect dead connections early.")
    if code == 1008:
        return (f"Policy violation: the {who} refuses something about this charger (identity, credentials, "
                "protocol); its logs and the close reason say what.")
    if code in (1012, 1013):
        return f"The {who} restarts or is overloaded: reconnect with back-off; if it persists, ask its operator."
    if code in (1002, 1003, 1007, 1009):
        return (f"The {who} could not handle what it received: look at the last frames before the close "
                "(the frame findings name what is malformed).")
    if code == 1011:
        return f"Internal error in the {who}: its logs at the time of the close say why."
    if code == 1015:
        return "TLS failure: check certificates, their validity dates and the charger's clock."
    if code is not None and 3000 <= code <= 4999:
        return f"Look up application code {code} in the {who}'s documentation."
    return f"Close code {code}: see the {who}'s logs at the time of the close."
