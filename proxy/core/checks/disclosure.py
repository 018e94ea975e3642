"""A charger that gives a secret back: a readable AuthorizationKey, a Wi-Fi passphrase or a PIN on the wire.

Which names hold secrets is :mod:`proxy.core.secrets`'s answer (the same as redaction's). A capture keeps the
disclosure as a redaction marker: that still counts, since the marker stands where the charger sent the value.
Placeholders (empty, ``*****``) are what a charger should answer and are never reported.
"""

from __future__ import annotations

from typing import Any

from ocppscope.proxy.core.analyzer import Checker, Context
from ocppscope.proxy.core.basic_auth import basic_password, parse_redaction_marker, password_kind
from ocppscope.proxy.core.connection import Connection, PendingCall
from ocppscope.proxy.core.events import Direction, Message, header
from ocppscope.proxy.core.findings import Severity, rule
from ocppscope.proxy.core.frames import Frame
from ocppscope.proxy.core.secrets import Secret, find_secrets, may_name_secret

DISCLOSED = rule(
    "security.secret-disclosed",
    Severity.WARNING,
    "The charger discloses a secret on the wire",
    "The charger sent the value of a key, variable, member or item whose name says it is a secret "
    "(AuthorizationKey, BasicAuthPassword, a Wi-Fi passphrase, a SIM or card PIN, or a name a profile declares "
    "secret) in a GetConfiguration or GetVariables answer, a NotifyReport or a DataTransfer. Whoever can send "
    "the request, or read the backend's logs, learns it: OCPP makes AuthorizationKey write-only and 2.x "
    "BasicAuthPassword WriteOnly, and a charger may at most return an unrelated placeholder. Report it to the "
    "vendor. An error when the value is the very password the connection authenticated with. The finding never "
    "quotes the value; a capture keeps it as a redaction marker.",
    'GetConfiguration answer {"configurationKey":[{"key":"AuthorizationKey","readonly":false,'
    '"value":"<40 hex digits>"}]}',
)

_WHERE = {"GetConfiguration": "its GetConfiguration answer", "GetVariables": "its GetVariables answer",
          "NotifyReport": "a NotifyReport", "DataTransfer": "a DataTransfer"}


class DisclosureChecker(Checker):
    name = "disclosure"
    actions = frozenset({"NotifyReport", "DataTransfer"})
    result_actions = frozenset({"GetConfiguration", "GetVariables", "DataTransfer"})

    def on_call(self, ctx: Context, conn: Connection, frame: Frame) -> None:
        if ctx.direction is Direction.FROM_CHARGER:
            self._judge(ctx, conn, frame.action or "", frame.payload)

    def on_result(self, ctx: Context, conn: Connection, call: PendingCall, frame: Frame) -> None:
        if call.direction is Direction.FROM_BACKEND:  # the charger answers
            self._judge(ctx, conn, call.action or "", frame.payload)

    def _judge(self, ctx: Context, conn: Connection, action: str, payload: Any) -> None:
        event = ctx.event
        if type(event) is not Message or not may_name_secret(event.content):
            return
        try:
            found = list(find_secrets(payload, redacted=True))
        except RecursionError:  # nested beyond reading: the frame rules report it
            return
        seen: set[str] = set()
        for secret in found:
            if secret.name.casefold() in seen:
                continue
            seen.add(secret.name.casefold())
            self._report(ctx, conn, action, secret)

    @staticmethod
    def _report(ctx: Context, conn: Connection, action: str, secret: Secret) -> None:
        marker = parse_redaction_marker(secret.secret)
        size = marker.bytes if marker is not None else len(secret.secret.encode("utf-8", "surrogatepass"))
        kind = marker.kind if marker is not None else password_kind(secret.secret.encode("utf-8", "surrogatepass"))
        confirmed = _is_connection_password(conn, secret)
        details = f"{size} bytes"
        if confirmed:
            details += ", the password this connection authenticated with"
        if marker is not None:
            details += "; the capture holds it redacted"
        ctx.emit(
            DISCLOSED,
            f"the charger discloses {secret.name} in {_WHERE.get(action, action)} ({details}): a secret must be "
            "write-only; report it to the vendor",
            {"name": secret.name, "bytes": size, "kind": kind, "redacted": marker is not None,
             "connection_password": confirmed},
            action=action,
            severity=Severity.ERROR if confirmed else None,
        )


def _is_connection_password(conn: Connection, secret: Secret) -> bool:
    """Whether ``secret`` is the Basic password the connection opened with (as text or as hex of its bytes)."""
    opened = conn.opened
    if opened is None:
        return False
    marker = parse_redaction_marker(secret.secret)
    if marker is not None:
        # Marker and header were redacted with the same salt: equal HMACs are equal secrets.
        return opened.auth is not None and opened.auth.password_hmac == marker.hmac
    password = basic_password(header(opened.request_headers, "Authorization"))
    if not password:
        return False
    candidates = [secret.secret]
    if secret.keeps_user and ":" in secret.secret:
        candidates.append(secret.secret.partition(":")[2])
    for candidate in candidates:
        if candidate.encode("utf-8", "surrogatepass") == password:
            return True
        try:
            if bytes.fromhex(candidate) == password:
                return True
        except ValueError:
            pass
    return False
