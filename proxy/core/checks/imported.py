"""Rules about traffic read from a log rather than seen on the wire: what the log itself did to a frame."""

from ocppscope.proxy.core.findings import Severity, rule

FRAME_CUT = rule(
    "input.frame-cut",
    Severity.INFO,
    "The log cut this frame short",
    "The log the traffic was read from shows only the start of this frame: journalctl, a terminal, a pager or a "
    "ticket system cut the line before its JSON ended. This says nothing about what the sender put on the wire. "
    "The message type, id and action are read from the visible part, so the answer to a cut CALL still pairs "
    "with it; the payload is not judged. Get the full line (journalctl --full --no-pager, the raw log file) to "
    "check it.",
    '2023-10-11 11:40:20 received JSON message from CP1: [2,"7","StatusNotification",{"connectorId":1,"st>',
)
