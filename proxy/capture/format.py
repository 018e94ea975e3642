"""Capture format v1: one JSON object per line; how each event becomes a record and back.

See docs/capture-format.md. Decoding is on the hot path of ``ocppscope check`` (every frame of a million-frame
capture passes through :func:`decode_record`), so it builds events directly and checks only the types the
core relies on; anything else wrong raises ValueError, which the reader turns into a CaptureError.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

import msgspec
from ocppscope.proxy.core.events import (
    AuthSummary,
    ConnectionClosed,
    ConnectionOpened,
    Direction,
    Event,
    Gap,
    Message,
    Ping,
    TlsInfo,
)

FORMAT_NAME = "ocppscope-capture"
FORMAT_VERSION = "1.0"
MAJOR_VERSION = 1

Record = dict[str, Any]

DIRECTIONS = {d.value: d for d in Direction}
"""Direction by its spelling in records (the Open OCPP Trace spelling)."""
_CLOSED_BY = frozenset({"charger", "backend", "proxy", "unknown"})
_TLS_FIELDS = ("version", "cipher", "sni", "alpn", "peer_certificate_subject", "verified")
_AUTH_FIELDS = ("scheme", "user", "password_bytes", "password_kind", "password_hmac", "error")


def header_record(*, tool: str, created: str, redacted: bool, salt_id: str | None) -> Record:
    record: Record = {
        "type": "header",
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "tool": tool,
        "created": created,
        "redacted": redacted,
    }
    if salt_id is not None:
        record["salt_id"] = salt_id
    return record


def check_header(record: Any) -> str | None:
    """Why ``record`` is not a header this reader understands, or None when it is."""
    if type(record) is not dict or record.get("format") != FORMAT_NAME:
        return f"not an ocppscope capture (the first line must be a {FORMAT_NAME} header)"
    version = record.get("version")
    major = version.split(".", 1)[0] if isinstance(version, str) else None
    if major is None or not major.isdigit():
        return f"capture header has no valid version (got {version!r})"
    if int(major) != MAJOR_VERSION:
        return (f"capture format version {version} is not supported: this ocppscope reads version "
                f"{MAJOR_VERSION}.x; upgrade ocppscope to read it")
    return None


# -- events to records ---------------------------------------------------------------------------------

def encode_event(event: Event) -> Record:
    """The record of ``event`` (redaction, if any, has already been applied to the event).

    Every record starts with ``type``, ``seq``, ``t``, ``conn`` in that order: the parallel checker
    (proxy/check/parallel.py) routes lines by finding ``"conn":"`` in their first 80 bytes.
    """
    kind = type(event)
    if kind is Message:
        return encode_message(event)  # type: ignore[arg-type]
    if kind is ConnectionOpened:
        return encode_open(event)  # type: ignore[arg-type]
    if kind is ConnectionClosed:
        return encode_close(event)  # type: ignore[arg-type]
    if kind is Ping:
        return _encode_ping(event)  # type: ignore[arg-type]
    if kind is Gap:
        return _encode_gap(event)  # type: ignore[arg-type]
    raise TypeError(f"not an ocppscope event: {event!r}")


def encode_message(event: Message) -> Record:
    record: Record = {"type": "msg", "seq": event.seq, "t": event.time, "conn": event.conn_id,
                      "dir": event.direction.value}
    if event.is_text:
        try:
            record["text"] = event.content.decode("utf-8")
        except UnicodeDecodeError:
            record["b64"] = base64.b64encode(event.content).decode("ascii")
    else:
        record["b64"] = base64.b64encode(event.content).decode("ascii")
        record["binary"] = True
    if event.redacted:
        record["redacted"] = True
    if event.cut:
        record["cut"] = True
    if event.injected:
        record["injected"] = True
    return record


def encode_open(event: ConnectionOpened) -> Record:
    record: Record = {
        "type": "open",
        "seq": event.seq,
        "t": event.time,
        "conn": event.conn_id,
        "client": event.client,
        "path": event.path,
        "req": [[name, value] for name, value in event.request_headers],
        "status": event.status,
        "resp": [[name, value] for name, value in event.response_headers],
    }
    for key in ("subprotocol", "upstream", "error"):
        value = getattr(event, key)
        if value is not None:
            record[key] = value
    if event.client_tls is not None:
        record["client_tls"] = _fields(event.client_tls, _TLS_FIELDS)
    if event.upstream_tls is not None:
        record["upstream_tls"] = _fields(event.upstream_tls, _TLS_FIELDS)
    if event.auth is not None:
        record["auth"] = _fields(event.auth, _AUTH_FIELDS)
    if event.synthetic:
        record["synthetic"] = True
    if event.assumed_zone is not None:
        record["assumed_zone"] = event.assumed_zone
    return record


def encode_close(event: ConnectionClosed) -> Record:
    record: Record = {"type": "close", "seq": event.seq, "t": event.time, "conn": event.conn_id,
                      "code": event.code, "reason": event.reason, "closed_by": event.closed_by}
    if event.relayed_code is not None:
        record["relayed_code"] = event.relayed_code
    if event.extra:
        record["extra"] = dict(event.extra)
    return record


def _encode_ping(event: Ping) -> Record:
    record: Record = {"type": "pong" if event.pong else "ping", "seq": event.seq, "t": event.time,
                      "conn": event.conn_id, "dir": event.direction.value}
    if event.data:
        record["b64"] = base64.b64encode(event.data).decode("ascii")
    return record


def _encode_gap(event: Gap) -> Record:
    record: Record = {"type": "gap", "seq": event.seq, "t": event.time, "conn": event.conn_id,
                      "frames": event.frames}
    if event.since is not None:
        record["since"] = event.since
    if event.reason:
        record["reason"] = event.reason
    return record


def _fields(obj: Any, names: tuple[str, ...]) -> Record:
    return {name: value for name in names if (value := getattr(obj, name)) is not None}


# -- records to events ---------------------------------------------------------------------------------

MESSAGE_FIELDS_SET = ("conn_id", "time", "direction", "content", "is_text", "seq", "redacted", "cut", "injected")
"""The fields :func:`decode_message` passes positionally; a test keeps it equal to Message's fields."""


class TextMessageRecord(msgspec.Struct, tag_field="type", tag="msg"):
    """The fields of a text ``msg`` record that make a Message, for :data:`decode_text_message`."""

    seq: int
    t: int | float
    conn: str
    dir: Direction
    text: str
    redacted: bool = False
    cut: bool = False
    injected: bool = False


decode_text_message = msgspec.json.Decoder(TextMessageRecord).decode
"""The reader's fast path: a text ``msg`` line straight to its fields, in C, validated as
:func:`decode_message` would. Any other line, including a broken one, raises :class:`msgspec.DecodeError`
and takes the general path, which reports the problem."""


def decode_message(record: Record) -> Message:
    """The Message of a ``msg`` record; the reader's hot path, so it checks types and nothing more."""
    text = record.get("text")
    if text is not None:
        content = text.encode("utf-8")
        is_text = True
    else:
        content = base64.b64decode(record["b64"], validate=True)
        is_text = record.get("binary") is not True
    conn = record["conn"]
    time = record["t"]
    seq = record["seq"]
    if type(conn) is not str or (type(time) is not float and type(time) is not int) or type(seq) is not int:
        raise ValueError("msg record needs a string conn, a number t and an integer seq")
    return Message(conn, time, DIRECTIONS[record["dir"]], content, is_text, seq, record.get("redacted") is True,
                   record.get("cut") is True, record.get("injected") is True)


def _decode_open(record: Record) -> ConnectionOpened:
    client_tls = record.get("client_tls")
    upstream_tls = record.get("upstream_tls")
    auth = record.get("auth")
    return ConnectionOpened(
        conn_id=_text(record, "conn"),
        time=_number(record, "t"),
        client=_text(record, "client"),
        path=_text(record, "path"),
        request_headers=_headers(record.get("req")),
        status=_integer(record, "status"),
        response_headers=_headers(record.get("resp")),
        subprotocol=_optional_text(record, "subprotocol"),
        upstream=_optional_text(record, "upstream"),
        seq=_integer(record, "seq"),
        error=_optional_text(record, "error"),
        client_tls=_tls(client_tls) if client_tls is not None else None,
        upstream_tls=_tls(upstream_tls) if upstream_tls is not None else None,
        auth=_auth(auth) if auth is not None else None,
        synthetic=record.get("synthetic") is True,
        assumed_zone=_optional_text(record, "assumed_zone"),
    )


def _decode_close(record: Record) -> ConnectionClosed:
    closed_by = record.get("closed_by", "unknown")
    extra = record.get("extra") or {}
    if closed_by not in _CLOSED_BY:
        closed_by = "unknown"
    if type(extra) is not dict or not all(type(v) is str for v in extra.values()):
        raise ValueError("close extra must be an object of strings")
    return ConnectionClosed(
        conn_id=_text(record, "conn"),
        time=_number(record, "t"),
        code=_optional(record, "code", (int,), "an integer"),
        reason=_optional_text(record, "reason") or "",
        closed_by=closed_by,
        seq=_integer(record, "seq"),
        relayed_code=_optional(record, "relayed_code", (int,), "an integer"),
        extra=extra,
    )


def _decoder_ping(pong: bool) -> Callable[[Record], Ping]:
    def decode(record: Record) -> Ping:
        data = record.get("b64")
        return Ping(
            conn_id=_text(record, "conn"),
            time=_number(record, "t"),
            direction=DIRECTIONS[record["dir"]],
            data=base64.b64decode(data, validate=True) if data is not None else b"",
            pong=pong,
            seq=_integer(record, "seq"),
        )

    return decode


def _decode_gap(record: Record) -> Gap:
    frames = _integer(record, "frames")
    if frames < 0:
        raise ValueError("frames must not be negative")
    return Gap(
        conn_id=_text(record, "conn"),
        time=_number(record, "t"),
        frames=frames,
        since=_optional(record, "since", (int, float), "a number"),
        reason=_optional_text(record, "reason") or "",
        seq=_integer(record, "seq"),
    )


_DECODERS: dict[str, Callable[[Record], Event]] = {
    "msg": decode_message,
    "open": _decode_open,
    "close": _decode_close,
    "ping": _decoder_ping(False),
    "pong": _decoder_ping(True),
    "gap": _decode_gap,
}

DECODE_ERRORS = (KeyError, TypeError, ValueError, AttributeError, binascii.Error)
"""What :func:`decode_record` raises for a record of the wrong shape."""


PLAUSIBLE_TIMES = (0.0, 4_102_444_800.0)
"""Event times a recording can have: from 1970 to 2100. Anything else (negative, year 9999, 1e300, NaN) is a
damaged or hand-made record, and beyond the calendar no report could even print it."""
MAX_SEQ = 2**63 - 1


def implausible(event: Event) -> str | None:
    """Why ``event``'s time or sequence number cannot be true, or None when both can."""
    time = event.time
    if not PLAUSIBLE_TIMES[0] <= time <= PLAUSIBLE_TIMES[1]:  # also False for NaN
        return f"time t={time!r} is not a plausible recording time (1970 to 2100)"
    seq = event.seq
    if not 0 <= seq <= MAX_SEQ:
        return f"sequence number {seq} is outside 0 to 2^63-1"
    return None


def decoders() -> dict[str, Callable[[Record], Event]]:
    """Record type → decoder, for readers that dispatch themselves on the hot path."""
    return _DECODERS


def _required(record: Record, key: str, kinds: tuple[type, ...], what: str) -> Any:
    value = record[key]
    if type(value) not in kinds:
        raise ValueError(f"{key} must be {what}")
    return value


def _optional(record: Record, key: str, kinds: tuple[type, ...], what: str) -> Any:
    value = record.get(key)
    if value is not None and type(value) not in kinds:
        raise ValueError(f"{key} must be {what}")
    return value


def _text(record: Record, key: str) -> str:
    return _required(record, key, (str,), "a string")


def _optional_text(record: Record, key: str) -> str | None:
    return _optional(record, key, (str,), "a string")


def _number(record: Record, key: str) -> float:
    return _required(record, key, (float, int), "a number")


def _integer(record: Record, key: str) -> int:
    return _required(record, key, (int,), "an integer")


def _headers(value: Any) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    headers = tuple((name, text) for name, text in value)
    if not all(type(name) is str and type(text) is str for name, text in headers):
        raise ValueError("headers must be [name, value] pairs of strings")
    return headers


def _tls(value: Any) -> TlsInfo:
    if type(value) is not dict:
        raise ValueError("TLS info must be an object")
    return TlsInfo(**{name: value[name] for name in _TLS_FIELDS if name in value})


def _auth(value: Any) -> AuthSummary:
    if type(value) is not dict:
        raise ValueError("auth must be an object")
    return AuthSummary(**{name: value.get(name) for name in _AUTH_FIELDS})
