"""Rules about the frame itself; :mod:`proxy.core.frames` finds these problems, the analyzer reports them."""

from ocppscope.proxy.core.findings import Severity, rule

INVALID_JSON = rule(
    "frame.invalid-json",
    Severity.ERROR,
    "Frame is not valid JSON",
    "OCPP-J frames must be valid UTF-8 JSON. A strict receiver answers with CALLERROR "
    "FormationViolation (1.6) or RpcFrameworkError with message id \"-1\" (2.x), or drops the frame.",
    '[2,"19223201","Heartbeat",{}',
)
INVALID_UTF8 = rule(
    "frame.invalid-utf8",
    Severity.ERROR,
    "Text frame is not valid UTF-8",
    "WebSocket text frames must be UTF-8; many receivers close the connection with code 1007.",
    "b'[2,\"1\",\"Authorize\",{\"idTag\":\"\\xff\"}]'",
)
BINARY = rule(
    "frame.binary",
    Severity.WARNING,
    "Binary WebSocket frame",
    "OCPP-J uses text frames only; a binary frame is usually a firmware or proxy bug. It is relayed untouched.",
    "binary frame 0x5b322c...",
)
NOT_ARRAY = rule(
    "frame.not-array",
    Severity.ERROR,
    "Frame is not a JSON array",
    "Every OCPP-J frame is an array [MessageTypeId, MessageId, ...].",
    '{"action":"Heartbeat"}',
)
BAD_SHAPE = rule(
    "frame.bad-shape",
    Severity.ERROR,
    "Frame has the wrong number or kind of elements",
    "CALL is [2,id,action,payload], CALLRESULT [3,id,payload], CALLERROR [4,id,code,description,details].",
    '[2,"1","Heartbeat"]',
)
UNKNOWN_TYPE = rule(
    "frame.unknown-type",
    Severity.ERROR,
    "Unknown message type number",
    "Message types are 2 (CALL), 3 (CALLRESULT), 4 (CALLERROR) and, in 2.1 only, 5 (CALLRESULTERROR) "
    "and 6 (SEND). 1.6 receivers ignore other types; 2.0.1 answers MessageTypeNotSupported.",
    '[7,"1","Heartbeat",{}]',
)
TYPE_NOT_IN_VERSION = rule(
    "frame.type-not-in-version",
    Severity.ERROR,
    "Message type not defined in this OCPP version",
    "CALLRESULTERROR (5) and SEND (6) exist only in OCPP 2.1.",
    '[6,"1","NotifyPeriodicEventStream",{}] on an ocpp1.6 connection',
)
MESSAGE_ID_NOT_STRING = rule(
    "frame.message-id-not-string",
    Severity.ERROR,
    "Message id is not a string",
    "The message id is a string of at most 36 characters; numbers are a common firmware bug. "
    "ocppscope still pairs such frames.",
    '[2,19223201,"Heartbeat",{}]',
)
MESSAGE_ID_TOO_LONG = rule(
    "frame.message-id-too-long",
    Severity.ERROR,
    "Message id longer than 36 characters",
    "OCPP-J limits message ids to 36 characters (a UUID); strict receivers reject longer ones.",
    '[2,"0123456789-0123456789-0123456789-0123456789","Heartbeat",{}]',
)
NULL_PAYLOAD = rule(
    "frame.null-payload",
    Severity.INFO,
    "Payload is null",
    "JSON allows null for an empty payload but {} is the usual form; some receivers reject null.",
    '[2,"1","Heartbeat",null]',
)
MULTILINE = rule(
    "frame.multiline",
    Severity.INFO,
    "Frame is pretty-printed over several lines",
    "Legal JSON, but unusual on the wire and it breaks line-based logs and some parsers.",
    '[2,\n "1",\n "Heartbeat",\n {}\n]',
)

TOO_DEEP = rule(
    "frame.too-deep",
    Severity.ERROR,
    "JSON nested deeper than 64 levels",
    "No OCPP message nests more than a few levels; a frame nested this deep is broken or hostile, and many "
    "JSON parsers refuse it (some crash). The frame is relayed and paired; its payload is not analysed.",
    '[2,"1","DataTransfer",{"vendorId":"x","data":[[[[[[ … 65 levels … ]]]]]]}]',
)

PROBLEM_RULES = {
    r.id: r
    for r in (
        INVALID_JSON,
        INVALID_UTF8,
        BINARY,
        NOT_ARRAY,
        BAD_SHAPE,
        UNKNOWN_TYPE,
        MESSAGE_ID_NOT_STRING,
        MESSAGE_ID_TOO_LONG,
        NULL_PAYLOAD,
        MULTILINE,
        TOO_DEEP,
    )
}
