"""The kinds of difference a regression diff reports, with their default severity.

Differences travel as :class:`~proxy.core.findings.Finding` objects so the ``check`` report renderers,
verdict and baseline work on them unchanged. They are not traffic rules (nothing here is wrong with a single
capture, only different between two), so they are not declared with ``rule()`` and are not in
docs/rules.md; docs/ci.md lists them. ``{subject}`` is ``backend`` or ``charger``: the side under test.
"""

from __future__ import annotations

from dataclasses import dataclass

from ocppscope.proxy.core.findings import Severity


@dataclass(frozen=True, slots=True)
class Kind:
    id: str
    severity: Severity
    meaning: str


def _kinds(*kinds: Kind) -> dict[str, Kind]:
    return {kind.id: kind for kind in kinds}


KINDS = _kinds(
    Kind("diff.handshake-changed", Severity.ERROR,
         "The WebSocket upgrade was answered differently: another HTTP status (401, 404, ...) or subprotocol."),
    Kind("diff.status-changed", Severity.ERROR,
         "A status field of an answer changed value: Accepted → Rejected, idTagInfo.status Accepted → Blocked."),
    Kind("diff.field-missing", Severity.ERROR, "A field of the recorded payload is no longer sent."),
    Kind("diff.field-added", Severity.WARNING, "The payload has a field the recording did not have."),
    Kind("diff.value-changed", Severity.WARNING,
         "A field other than a status changed value (volatile fields and date-times are not compared)."),
    Kind("diff.call-error-new", Severity.ERROR,
         "The CALL is now refused with a CALLERROR (or with another error code than recorded)."),
    Kind("diff.call-error-gone", Severity.WARNING, "A CALL refused in the recording is now answered with a result."),
    Kind("diff.no-answer", Severity.ERROR,
         "A CALL answered in the recording got no answer (within --answer-timeout, or before the close)."),
    Kind("diff.answered-now", Severity.WARNING, "A CALL left unanswered in the recording is now answered."),
    Kind("diff.latency", Severity.WARNING,
         "The answer came more than --latency-threshold seconds later than in the recording."),
    Kind("diff.new-finding", Severity.WARNING,
         "A schema, profile or protocol finding about the side under test that the recording did not have "
         "(reported with the finding's own severity when that is error)."),
    Kind("diff.exchange-missing", Severity.ERROR,
         "A recorded CALL of the driving side has no counterpart: the replay stopped early (the connection "
         "closed) or the other capture lacks it."),
    Kind("diff.exchange-new", Severity.WARNING, "A CALL of the driving side that the recording does not have."),
    Kind("diff.subject-call-missing", Severity.WARNING,
         "The side under test no longer sends a CALL it sent in the recording (e.g. the backend's "
         "GetConfiguration after boot). Reported as diff.backend-call-missing / diff.charger-call-missing."),
    Kind("diff.subject-call-new", Severity.WARNING,
         "The side under test sends a CALL the recording does not have. Reported as diff.backend-call-new / "
         "diff.charger-call-new."),
    Kind("diff.close-changed", Severity.WARNING,
         "The side under test closes the connection where it did not (error), or with another code."),
    Kind("diff.connection-missing", Severity.ERROR, "A recorded connection has no counterpart."),
    Kind("diff.connection-new", Severity.WARNING, "A connection the recording does not have."),
)


def kind_id(kind: str, subject: str) -> str:
    """The reported id: subject-specific for the subject-call kinds."""
    if kind.startswith("diff.subject-"):
        return kind.replace("subject", subject, 1)
    return kind


def severity(kind: str) -> Severity:
    return KINDS[kind].severity
