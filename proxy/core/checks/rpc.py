"""Rules about the request/response conversation; the analyzer's pairing reports them."""

from ocppscope.proxy.core.findings import Severity, rule

UNKNOWN_ID = rule(
    "rpc.unknown-id",
    Severity.ERROR,
    "Answer to a message id nobody is waiting for",
    "A CALLRESULT or CALLERROR must carry the id of a CALL the other side sent and has not had answered. "
    "Often a backend answering twice, an answer after a reconnect, or a capture that started mid-exchange.",
    '[3,"no-such-call",{}]',
)
DUPLICATE_ANSWER = rule(
    "rpc.duplicate-answer",
    Severity.ERROR,
    "CALL answered twice",
    "A second CALLRESULT or CALLERROR for a CALL that was already answered. The receiver ignores it or, "
    "worse, takes it as the answer to a later CALL that reuses the id.",
    '[3,"7",{...}] then [3,"7",{...}] again',
)
DUPLICATE_ID = rule(
    "rpc.duplicate-id",
    Severity.ERROR,
    "CALL reuses the id of a CALL still waiting for its answer",
    "Message ids must be unique per sender; the answer cannot be matched. The older CALL is counted as "
    "unanswered.",
    '[2,"42","Heartbeat",{}] twice before the first is answered',
)
CONCURRENT_CALL = rule(
    "rpc.concurrent-call",
    Severity.WARNING,
    "Second CALL sent while an earlier one is unanswered",
    "One CALL in flight per sender: OCPP 1.6 SHOULD NOT, 2.x SHALL NOT send a new CALL before the previous "
    "one is answered or timed out. Chargers that handle one CALL at a time drop or reject the second.",
    '[2,"1","Heartbeat",{}] then [2,"2","StatusNotification",{...}] before [3,"1",{...}]',
)
TIMEOUT = rule(
    "rpc.timeout",
    Severity.ERROR,
    "CALL not answered within the timeout",
    "No CALLRESULT or CALLERROR arrived within the call timeout (default 30 s, --call-timeout). The sender "
    "will give up on it and may retry or reconnect.",
    '[2,"1","BootNotification",{...}] with no answer for 30 s',
)
LATE_RESPONSE = rule(
    "rpc.late-response",
    Severity.WARNING,
    "Answer arrived after the call timeout",
    "The sender has probably given up on this CALL already and may have retried it.",
    '[3,"1",{...}] 45 s after [2,"1","Heartbeat",{}]',
)
SLOW_RESPONSE = rule(
    "rpc.slow-response",
    Severity.WARNING,
    "Answer slower than the slow-response threshold",
    "The answer came within the timeout but slower than --slow-response (default 10 s).",
    'BootNotification answered after 15 s',
)
UNANSWERED_AT_CLOSE = rule(
    "rpc.unanswered-at-close",
    Severity.WARNING,
    "Connection closed with a CALL unanswered",
    "The connection ended while a CALL was waiting; the sender must resend it on the next connection.",
    '[2,"7","StopTransaction",{...}] then close 1006',
)
UNANSWERED_AT_END = rule(
    "rpc.unanswered-at-end",
    Severity.INFO,
    "CALL still unanswered when the capture ends",
    "The capture ends before the call timeout could prove a CALL unanswered.",
    '[2,"7","Heartbeat",{}] as the last frame',
)
CALL_ERROR = rule(
    "rpc.call-error",
    Severity.WARNING,
    "CALL answered with CALLERROR",
    "The receiver refused the CALL; the error code says why (NotImplemented, FormationViolation, ...).",
    '[4,"1","NotImplemented","Unknown action",{}]',
)
UNKNOWN_ERROR_CODE = rule(
    "rpc.unknown-error-code",
    Severity.WARNING,
    "CALLERROR code not defined by this OCPP version",
    "CALLERROR codes are a fixed list per version (1.6: 10, 2.x: 12).",
    '[4,"1","Oops","",{}]',
)
ERROR_CODE_SPELLING = rule(
    "rpc.error-code-spelling",
    Severity.INFO,
    "CALLERROR code spelled as in another OCPP version",
    "1.6 spells FormationViolation and OccurenceConstraintViolation; 2.x FormatViolation and "
    "OccurrenceConstraintViolation. Receivers usually accept both.",
    '[4,"1","FormatViolation","",{}] on 1.6',
)
WRONG_DIRECTION = rule(
    "rpc.wrong-direction",
    Severity.ERROR,
    "Action sent in the wrong direction",
    "Each action has an initiator: e.g. only the charger sends BootNotification, only the backend Reset.",
    'backend sends [2,"1","BootNotification",{...}]',
)
UNKNOWN_ACTION = rule(
    "rpc.unknown-action",
    Severity.ERROR,
    "Action unknown to the negotiated OCPP version",
    "The action does not exist in this version (often a 2.x action on a 1.6 connection, or a typo). "
    "The receiver answers NotImplemented.",
    '[2,"1","TransactionEvent",{...}] on ocpp1.6',
)
PENDING_OVERFLOW = rule(
    "rpc.pending-overflow",
    Severity.WARNING,
    "Too many unanswered CALLs to track",
    "ocppscope keeps a bounded table of unanswered CALLs per direction; the oldest were dropped from it.",
    "2000 CALLs without answers",
)
VERSION_GUESSED = rule(
    "version.guessed",
    Severity.WARNING,
    "OCPP version guessed from the traffic",
    "No usable OCPP subprotocol was negotiated, so the version was inferred from the first CALL that only "
    "one version's schema accepts.",
    "no Sec-WebSocket-Protocol, first CALL BootNotification with chargePointVendor → 1.6",
)
VERSION_UNSUPPORTED = rule(
    "version.unsupported",
    Severity.INFO,
    "OCPP version without schemas",
    "The negotiated version (1.2, 1.5, 2.0) has no bundled JSON schemas; frames are paired but not validated.",
    "Sec-WebSocket-Protocol: ocpp1.5",
)
