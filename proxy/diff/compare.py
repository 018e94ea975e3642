"""Compare a recorded conversation with a live one (or with another capture) and list the differences.

One side is under test (the *subject*: the backend when replaying a charger, the charger when serving a
backend); the other side *drives* the conversation. Per charger, connections are paired in order; per
connection, the driver's CALLs are aligned by action (so one inserted or missing CALL does not shift every
later comparison) and the subject's answers to them compared field by field; the subject's own CALLs are
aligned and compared the same way; then findings about the subject's frames, and how the connection closed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

from ocppscope.proxy.core import render as safe
from ocppscope.proxy.core.checks.lifecycle import close_words
from ocppscope.proxy.core.events import Direction
from ocppscope.proxy.core.findings import Finding, Severity
from ocppscope.proxy.core.secrets import scrub_finding
from ocppscope.proxy.diff.conversation import Call, Exchange
from ocppscope.proxy.diff.kinds import kind_id, severity
from ocppscope.proxy.diff.paths import format_path
from ocppscope.proxy.diff.payload import Change, IgnoreRules, compare

# Findings the diff already reports in its own terms, or that describe the run rather than the subject.
_COVERED_PREFIXES = ("rpc.call-error", "rpc.timeout", "rpc.unanswered-", "rpc.slow-response", "rpc.late-response",
                     "lifecycle.", "version.", "handshake.", "auth.", "identity.", "ocppscope.")


@dataclass(frozen=True)
class DiffOptions:
    subject: Direction = Direction.FROM_BACKEND
    """The side under test: whose answers, CALLs, findings and closes are compared."""
    ignore: IgnoreRules = field(default_factory=IgnoreRules)
    latency_threshold: float = 2.0
    """Seconds an answer may come later than in the recording before it is a difference."""
    answer_timeout: float | None = None
    """How long the live side waited for answers (named in no-answer differences)."""

    @property
    def subject_name(self) -> str:
        return self.subject.sender


def compare_conversations(recorded: Sequence[Exchange], live: Sequence[Exchange],
                          options: DiffOptions | None = None) -> list[Finding]:
    """The differences from ``recorded`` to ``live``, in the live conversation's order."""
    options = options or DiffOptions()
    out: list[Finding] = []
    by_charger_rec = _by_charger(recorded)
    by_charger_live = _by_charger(live)
    if len(by_charger_rec) == 1 and len(by_charger_live) == 1:
        # One charger on each side: compare them whatever their identities (a capture of another unit).
        by_charger_live = {next(iter(by_charger_rec)): next(iter(by_charger_live.values()))}
    for charger in [*by_charger_rec, *(c for c in by_charger_live if c not in by_charger_rec)]:
        recs, lives = by_charger_rec.get(charger, []), by_charger_live.get(charger, [])
        for index in range(max(len(recs), len(lives))):
            rec = recs[index] if index < len(recs) else None
            now = lives[index] if index < len(lives) else None
            _Pair(rec, now, options, out).run()
    return out


def _by_charger(exchanges: Sequence[Exchange]) -> dict[str | None, list[Exchange]]:
    grouped: dict[str | None, list[Exchange]] = {}
    for exchange in exchanges:
        grouped.setdefault(exchange.charger, []).append(exchange)
    return grouped


def _short(value: Any, limit: int = 60) -> str:
    return safe.preview(value, limit)


class _Pair:
    """One recorded connection and its live counterpart (either may be missing)."""

    def __init__(self, rec: Exchange | None, live: Exchange | None, options: DiffOptions,
                 out: list[Finding]) -> None:
        self.rec = rec
        self.live = live
        self.options = options
        self.out = out
        self.subject = options.subject
        self.driver = options.subject.reverse

    def emit(self, kind: str, message: str, *, rec_seq: int | None = None, live_seq: int | None = None,
             action: str | None = None, evidence: dict[str, Any] | None = None,
             level: Severity | None = None) -> None:
        anchor = self.live or self.rec
        assert anchor is not None
        seq = live_seq if live_seq is not None else (rec_seq if self.live is None else None)
        if rec_seq is not None and seq != rec_seq:
            message += f" [recorded #{rec_seq}]"
        # A changed value may be a secret of an unredacted recording: hidden as in every finding.
        message, shown = scrub_finding(message, {"recorded_conn": self.rec.conn_id if self.rec else None,
                                                 "recorded_seq": rec_seq, "live_seq": live_seq, **(evidence or {})})
        self.out.append(Finding(
            rule=kind_id(kind, self.options.subject_name),
            severity=level or severity(kind),
            message=message,
            conn_id=anchor.conn_id,
            charger=anchor.charger,
            seq=seq,
            action=action,
            evidence=shown,
        ))

    def run(self) -> None:
        rec, live = self.rec, self.live
        if live is None:
            assert rec is not None
            self.emit("diff.connection-missing",
                      f"recorded connection {rec.conn_id} ({len(rec.sides[self.driver].calls)} CALLs) has no "
                      "counterpart", rec_seq=rec.opened.seq if rec.opened else None)
            return
        if rec is None:
            self.emit("diff.connection-new", f"connection {live.conn_id} is not in the recording",
                      live_seq=live.opened.seq if live.opened else None)
            return
        if not self.handshake():
            return
        self.driver_calls()
        self.subject_calls()
        self.new_findings()
        self.close()

    # -- handshake ------------------------------------------------------------------------------------

    def handshake(self) -> bool:
        rec, live = self.rec, self.live
        assert rec is not None and live is not None
        if rec.opened is None or live.opened is None:
            return True
        before, after = rec.opened, live.opened
        if before.status != after.status:
            hint = {401: ": the credentials were refused (give the charger's --password)",
                    404: ": the backend does not know this charger identity or path"}.get(after.status, "")
            if after.error:
                hint += f" ({after.error})"
            self.emit("diff.handshake-changed", f"the upgrade was answered {after.status or 'not at all'}, "
                      f"{before.status} in the recording{hint}", rec_seq=before.seq, live_seq=after.seq,
                      evidence={"recorded": before.status, "live": after.status})
            return after.status == 101
        if before.status == 101 and before.subprotocol != after.subprotocol:
            self.emit("diff.handshake-changed", f"subprotocol {after.subprotocol or 'none'} negotiated, "
                      f"{before.subprotocol or 'none'} in the recording", rec_seq=before.seq, live_seq=after.seq,
                      evidence={"recorded": before.subprotocol, "live": after.subprotocol})
        return True

    # -- the driver's CALLs and the subject's answers --------------------------------------------------

    def driver_calls(self) -> None:
        assert self.rec is not None and self.live is not None
        recorded = self.rec.sides[self.driver].calls
        live = self.live.sides[self.driver].calls
        for tag, r0, r1, l0, l1 in _align(recorded, live):
            if tag == "equal":
                for before, after in zip(recorded[r0:r1], live[l0:l1], strict=True):
                    self.answers(before, after)
                continue
            if r1 > r0:
                missing = recorded[r0:r1]
                self.emit("diff.exchange-missing", f"{_list_actions(missing)} from the recording not exchanged"
                          + self._ended_note(), rec_seq=missing[0].seq, action=missing[0].action,
                          evidence={"actions": [c.action for c in missing]})
            for extra in live[l0:l1]:
                self.emit("diff.exchange-new", f"{self.driver.sender} CALL {extra.action} is not in the recording",
                          live_seq=extra.seq, action=extra.action)

    def _ended_note(self) -> str:
        closed = self.live.closed if self.live else None
        if closed is None:
            return ""
        return f" (the connection was closed by the {closed.closed_by} with {closed.code})"

    def answers(self, before: Call, after: Call) -> None:
        action = before.action
        old, new = before.answer, after.answer
        seqs = {"rec_seq": old.seq if old else before.seq, "live_seq": new.seq if new else after.seq}
        if old is None and new is None:
            return
        if new is None:
            assert old is not None
            self.emit("diff.no-answer", f"{action}: no answer {self._why_unanswered(after)}; answered in "
                      f"{old.latency:.2f} s in the recording", action=action, **seqs)
            return
        if old is None:
            self.emit("diff.answered-now", f"{action}: answered now ({new.kind}), unanswered in the recording",
                      action=action, **seqs)
            return
        if old.kind != new.kind or (old.kind == "error" and old.error_code != new.error_code):
            if new.kind == "error":
                was = f"CALLERROR {old.error_code}" if old.kind == "error" else "a CALLRESULT"
                desc = f" {new.error_description!r}" if new.error_description else ""
                self.emit("diff.call-error-new", f"{action}: refused with CALLERROR {new.error_code}{desc}; "
                          f"{was} in the recording", action=action, **seqs,
                          evidence={"recorded": old.error_code, "live": new.error_code})
            else:
                self.emit("diff.call-error-gone", f"{action}: answered with a CALLRESULT, CALLERROR "
                          f"{old.error_code} in the recording", action=action, **seqs)
            return
        if new.kind == "result":
            self.payload_changes(f"{action} answer", action, old.payload, new.payload, seqs)
        threshold = self.options.latency_threshold
        if new.latency - old.latency > threshold:
            self.emit("diff.latency", f"{action} answered in {new.latency:.2f} s, {old.latency:.2f} s in the "
                      f"recording (threshold +{threshold:g} s)", action=action, **seqs,
                      evidence={"recorded": round(old.latency, 3), "live": round(new.latency, 3)})

    def _why_unanswered(self, call: Call) -> str:
        closed = self.live.closed if self.live else None
        if closed is not None:
            return f"before the connection closed {closed.time - call.time:.1f} s later"
        if self.options.answer_timeout is not None:
            return f"within {self.options.answer_timeout:g} s"
        return "before the end of the capture"

    def payload_changes(self, what: str, action: str, old: Any, new: Any, seqs: dict[str, int]) -> None:
        for change in compare(old, new, self.options.ignore, action):
            kind, text = _describe(change)
            self.emit(kind, f"{what}: {text}", action=action, **seqs,
                      evidence={"path": format_path(change.path), "recorded": change.recorded,
                                "live": change.live})

    # -- the subject's own CALLs -------------------------------------------------------------------------

    def subject_calls(self) -> None:
        assert self.rec is not None and self.live is not None
        recorded = self.rec.sides[self.subject].calls
        live = self.live.sides[self.subject].calls
        who = self.options.subject_name
        for tag, r0, r1, l0, l1 in _align(recorded, live):
            if tag == "equal":
                for before, after in zip(recorded[r0:r1], live[l0:l1], strict=True):
                    self.payload_changes(f"{who} {before.action} request", before.action, before.payload,
                                         after.payload, {"rec_seq": before.seq, "live_seq": after.seq})
                continue
            for missing in recorded[r0:r1]:
                self.emit("diff.subject-call-missing", f"the {who} no longer sends {missing.action}",
                          rec_seq=missing.seq, action=missing.action)
            for extra in live[l0:l1]:
                self.emit("diff.subject-call-new", f"the {who} sends {extra.action}, which the recording does "
                          "not have", live_seq=extra.seq, action=extra.action)

    # -- findings about the subject -------------------------------------------------------------------------

    def new_findings(self) -> None:
        assert self.rec is not None and self.live is not None
        recorded = Counter((f.rule, f.action) for f in _judged(self.rec.sides[self.subject].findings))
        seen: Counter[tuple[str, str | None]] = Counter()
        for finding in _judged(self.live.sides[self.subject].findings):
            key = (finding.rule, finding.action)
            seen[key] += 1
            if seen[key] > recorded[key]:
                self.emit("diff.new-finding", f"new {finding.rule}: {finding.message}", live_seq=finding.seq,
                          action=finding.action, level=max(Severity.WARNING, finding.severity),
                          evidence={"finding": finding.rule})

    # -- the close ------------------------------------------------------------------------------------------

    def close(self) -> None:
        assert self.rec is not None and self.live is not None
        who = self.options.subject_name
        before, after = self.rec.closed, self.live.closed
        rec_by = before.closed_by if before else None
        live_by = after.closed_by if after else None
        if live_by == who and after is not None:
            lasted = after.time - self.live.opened.time if self.live.opened else 0.0
            how = f"with {after.code} ({close_words(after.code)})" + (f" {after.reason!r}" if after.reason else "")
            if rec_by != who:
                self.emit("diff.close-changed", f"the {who} closed the connection {how} after {lasted:.1f} s; in "
                          f"the recording it did not", live_seq=after.seq, rec_seq=before.seq if before else None,
                          level=Severity.ERROR, evidence={"recorded": rec_by, "live": live_by, "code": after.code})
            elif before is not None and before.code != after.code:
                self.emit("diff.close-changed", f"the {who} closed the connection {how}; {before.code} in the "
                          "recording", live_seq=after.seq, rec_seq=before.seq,
                          evidence={"recorded": before.code, "live": after.code})
        elif rec_by == who and before is not None:
            self.emit("diff.close-changed", f"the {who} no longer closes the connection (recorded: "
                      f"{before.code} {before.reason!r})".replace(" ''", ""), rec_seq=before.seq,
                      live_seq=after.seq if after else None,
                      evidence={"recorded": before.code, "live": after.code if after else None})


def _judged(findings: Sequence[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity >= Severity.WARNING and not f.rule.startswith(_COVERED_PREFIXES)]


def _align(recorded: Sequence[Call], live: Sequence[Call]) -> list[tuple[str, int, int, int, int]]:
    matcher = SequenceMatcher(None, [c.action for c in recorded], [c.action for c in live], autojunk=False)
    return matcher.get_opcodes()


def _list_actions(calls: Sequence[Call]) -> str:
    names = [c.action for c in calls[:4]]
    more = f" and {len(calls) - 4} more" if len(calls) > 4 else ""
    return (f"{len(calls)} CALLs (" if len(calls) > 1 else "CALL ") + ", ".join(names) + more + (
        ")" if len(calls) > 1 else "")


def _describe(change: Change) -> tuple[str, str]:
    path = format_path(change.path)
    if change.kind == "missing":
        return "diff.field-missing", f"{path} missing (recorded {_short(change.recorded)})"
    if change.kind == "added":
        return "diff.field-added", f"{path} added ({_short(change.live)})"
    kind = "diff.status-changed" if change.is_status else "diff.value-changed"
    return kind, f"{path} {_short(change.recorded)} → {_short(change.live)}"
