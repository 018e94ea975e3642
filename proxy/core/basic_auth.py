"""HTTP Basic credentials and the markers that stand in for secrets in redacted captures.

Pure functions: the handshake rules use :func:`parse_basic_auth` on a live header, and read the same facts
from :class:`~proxy.core.events.AuthSummary` when a capture replaced the password with a marker.

A marker looks like ``<redacted kind=hex-text bytes=40 hmac=3f9a0c1b2d4e5f60>`` (a Basic header keeps the user:
``Basic <redacted user="CP001" kind=text bytes=20 hmac=…>``). ``hmac`` is a salted HMAC-SHA256 of the secret's
bytes, truncated to 16 hex digits: equal secrets give equal HMACs under the same salt, and nothing else can be
learnt from it without the salt.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from typing import Literal

from ocppscope.proxy.core.events import AuthSummary

PasswordKind = Literal["hex-text", "binary", "text"]

HMAC_HEX_DIGITS = 16
REDACTED_PREFIX = "<redacted"

CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization"})
"""Headers meant to carry credentials (lower case); credentials anywhere else are a finding of their own."""
_HEX_KEY = re.compile(r"[0-9A-Fa-f]{32,40}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MARKER_PATTERN = (
    r'<redacted(?: user="(?P<user>(?:[^"\\]|\\.)*)")? kind=(?P<kind>[a-z-]+) bytes=(?P<bytes>\d+) '
    r"hmac=(?P<hmac>[0-9a-f]+)>"
)
"""A regular expression matching one marker, with groups user, kind, bytes and hmac."""
_MARKER = re.compile(MARKER_PATTERN)
_HIDDEN = re.compile(r"<redacted kind=[a-z-]+ bytes=\d+>")
"""The placeholder of a secret in a finding: its kind and size only, so reports stay the same everywhere."""


def password_kind(password: bytes) -> PasswordKind:
    """How a password is written: a 32–40 hex-digit text key, raw bytes, or plain text.

    OCPP 1.6 security profiles 1 and 2 store ``AuthorizationKey`` as up to 40 hex digits; some chargers send
    that text as the password, others the decoded bytes (ocpp-facts.md §3.2), so both are expected.
    """
    try:
        text = password.decode("utf-8")
    except UnicodeDecodeError:
        return "binary"
    if _HEX_KEY.fullmatch(text):
        return "hex-text"
    if _CONTROL.search(text):
        return "binary"
    return "text"


def secret_hmac(secret: bytes, salt: bytes) -> str:
    """The salted HMAC-SHA256 of ``secret``, as :data:`HMAC_HEX_DIGITS` hex digits."""
    return hmac.new(salt, secret, hashlib.sha256).hexdigest()[:HMAC_HEX_DIGITS]


def parse_basic_auth(header_value: str | None, salt: bytes | None = None) -> AuthSummary:
    """The facts of an ``Authorization`` header value; never raises.

    ``scheme`` is None when there is no header. ``error`` names the first problem found in Basic credentials
    (missing base64 padding, not base64, no colon, user not UTF-8); fields that could still be read are filled
    in. ``password_hmac`` is only computed when ``salt`` is given.
    """
    if header_value is None:
        return AuthSummary(scheme=None)
    parts = header_value.strip().split(None, 1)
    if not parts:
        return AuthSummary(scheme="", error="empty Authorization header")
    scheme = parts[0]
    if scheme.lower() != "basic":
        return AuthSummary(scheme=scheme)
    encoded = parts[1].strip() if len(parts) > 1 else ""
    if not encoded:
        return AuthSummary(scheme=scheme, error="no credentials after Basic")
    if encoded.startswith(REDACTED_PREFIX):
        return AuthSummary(scheme=scheme, error="credentials were redacted")
    decoded, error = _b64decode(encoded)
    if decoded is None:
        return AuthSummary(scheme=scheme, error=error)
    user_bytes, colon, password = decoded.partition(b":")
    if not colon:
        return AuthSummary(scheme=scheme, error=error or "no ':' between user and password")
    try:
        user = user_bytes.decode("utf-8")
    except UnicodeDecodeError:
        user = user_bytes.decode("latin-1")
        error = error or "user name is not UTF-8"
    return AuthSummary(
        scheme=scheme,
        user=user,
        password_bytes=len(password),
        password_kind=password_kind(password),
        password_hmac=secret_hmac(password, salt) if salt is not None else None,
        error=error,
    )


def basic_password(header_value: str | None) -> bytes | None:
    """The password of a Basic ``Authorization`` header as sent, or None (no header, another scheme, redacted,
    not decodable). For comparisons only: never print it."""
    if header_value is None:
        return None
    scheme, _, encoded = header_value.strip().partition(" ")
    if scheme.lower() != "basic" or not encoded.strip() or encoded.strip().startswith(REDACTED_PREFIX):
        return None
    decoded, _error = _b64decode(encoded.strip())
    if decoded is None or b":" not in decoded:
        return None
    return decoded.partition(b":")[2]


def _b64decode(encoded: str) -> tuple[bytes | None, str | None]:
    try:
        return base64.b64decode(encoded, validate=True), None
    except (binascii.Error, ValueError):
        pass
    # Firmware that drops the '=' padding is common enough to decode anyway, but it is still reported.
    padded = encoded + "=" * (-len(encoded) % 4)
    try:
        return base64.b64decode(padded, validate=True), "base64 padding missing"
    except (binascii.Error, ValueError):
        return None, "credentials are not valid base64"


@dataclass(frozen=True, slots=True)
class RedactedSecret:
    """What a redaction marker keeps of a secret."""

    kind: str
    bytes: int
    hmac: str
    user: str | None = None


def redaction_marker(secret: bytes, salt: bytes, *, user: str | None = None, kind: str | None = None) -> str:
    """The marker that replaces ``secret`` in a redacted capture."""
    return format_marker(kind or password_kind(secret), len(secret), secret_hmac(secret, salt), user=user)


def format_marker(kind: str, size: int, digest: str, *, user: str | None = None) -> str:
    """A marker from facts already known (an :class:`AuthSummary`), without the secret itself."""
    who = f" user={json.dumps(user, ensure_ascii=False)}" if user is not None else ""
    return f"<redacted{who} kind={kind} bytes={size} hmac={digest}>"


def hidden(secret: str) -> str:
    """What a finding shows instead of ``secret``: ``<redacted kind=text bytes=12>``.

    No HMAC: findings are compared across machines (baselines), and the core has no salt.
    """
    data = secret.encode("utf-8", "surrogatepass")
    return f"<redacted kind={password_kind(data)} bytes={len(data)}>"


def parse_redaction_marker(text: str) -> RedactedSecret | None:
    """The secret facts of the first marker in ``text``, or None if there is none."""
    match = _MARKER.search(text)
    if match is None:
        return None
    user = match["user"]
    return RedactedSecret(
        kind=match["kind"],
        bytes=int(match["bytes"]),
        hmac=match["hmac"],
        user=json.loads(f'"{user}"') if user is not None else None,
    )


def is_redacted(text: str) -> bool:
    """Whether ``text`` already holds a redaction marker (so it is never redacted twice)."""
    return REDACTED_PREFIX in text and (_MARKER.search(text) is not None or _HIDDEN.search(text) is not None)


def looks_like_credentials(value: str, identity: str | None) -> bool:
    """Whether a header that should not carry credentials does: ``Basic …``, ``<identity>:…`` in clear or in
    base64, or a capture's redaction marker standing where such a value was."""
    text = value.strip()
    if text[:6].lower() == "basic ":
        return True
    if is_redacted(text):
        return True
    if not identity:
        return False
    prefix = identity.encode("utf-8", "surrogateescape") + b":"
    if text.encode("utf-8", "surrogateescape").startswith(prefix):
        return True
    try:
        decoded = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return False
    return decoded.startswith(prefix)
