"""What the profile judges say, before the inspection core turns it into findings.

The judges (:mod:`judge_config`, :mod:`judge_limits`, :mod:`judge_messages`) are pure functions of a
profile, what is known of the charger and one payload. They name rules by id; the rules themselves are
declared in :mod:`proxy.profiles.checker`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DISAGREES = "profile.firmware-disagrees"


@dataclass(frozen=True, slots=True)
class Verdict:
    rule: str
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)
    severity: str | None = None
    """Overrides the rule's default severity ("info", "warning", "error"), where the profile sets it."""


@dataclass(frozen=True, slots=True)
class Expectation:
    """The answer a profile predicts for a request, kept until the answer arrives."""

    action: str
    answer: str
    """The status the profile predicts: Accepted, RebootRequired, Rejected, NotSupported, NotImplemented..."""
    reason: str
    subject: str = ""
    """What the request was about, for the message ("HeartbeatInterval = '5'")."""
    present: bool = False
    """The profile says the model has the key or message, so NotSupported/NotImplemented is a contradiction."""


_ACCEPTING = frozenset({"Accepted", "RebootRequired"})
_REFUSING = frozenset({"Rejected", "NotSupported", "NotImplemented"})


def compare(expectation: Expectation, actual: str, profile_id: str) -> Verdict | None:
    """A disagreement between the prediction and the charger's answer status, or None."""
    predicted = expectation.answer
    if actual == predicted:
        return None
    evidence = {"profile": profile_id, "expected": predicted, "answer": actual, "reason": expectation.reason}
    head = f"{expectation.action} {expectation.subject}".rstrip()
    if predicted in _REFUSING and actual in _ACCEPTING:
        return Verdict(DISAGREES, f"{head}: the charger answered {actual}, but {profile_id} says {expectation.reason}: "
                       "profile and firmware disagree (newer firmware, or a profile to correct)", evidence)
    if predicted in _ACCEPTING and actual in ("NotSupported", "NotImplemented") and expectation.present:
        return Verdict(DISAGREES, f"{head}: the charger answered {actual}, but {profile_id} says the model supports "
                       "it: profile and firmware disagree", evidence)
    if predicted in _ACCEPTING and actual in _ACCEPTING:
        return Verdict(DISAGREES, f"{head}: the charger answered {actual} where {profile_id} predicts {predicted} "
                       f"({expectation.reason})", evidence, severity="info")
    if predicted in _ACCEPTING and actual == "Rejected":
        return Verdict(DISAGREES, f"{head}: the charger answered Rejected although {profile_id} sees nothing "
                       "wrong with the request", evidence, severity="info")
    return None
