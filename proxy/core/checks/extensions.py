"""Extensions of OCPP 1.6 named as such: the OCA Security Whitepaper's actions on a plain ocpp1.6 connection.

They are in the 1.6 action table (so neither side's use of them is an unknown action), but they are not core
1.6: both ends must implement the white paper (edition 3) for them to work, and the subprotocol does not
say whether they do.
"""

from __future__ import annotations

from ocppscope.proxy.core.analyzer import Checker, Context
from ocppscope.proxy.core.connection import Connection
from ocppscope.proxy.core.findings import Severity, rule
from ocppscope.proxy.core.frames import Frame
from ocppscope.proxy.core.protocol import actions

SECURITY_WHITEPAPER = rule(
    "extension.security-whitepaper",
    Severity.INFO,
    "OCPP 1.6 Security Whitepaper message",
    "SecurityEventNotification, SignCertificate, CertificateSigned, InstallCertificate, "
    "GetInstalledCertificateIds, DeleteCertificate, ExtendedTriggerMessage, GetLog, LogStatusNotification, "
    "SignedFirmwareStatusNotification and SignedUpdateFirmware come from the OCA white paper 'Improved "
    "security for OCPP 1.6-J', not from OCPP 1.6 itself. A peer that implements only 1.6 answers "
    "NotImplemented. Reported once per connection and action.",
    '[2,"1","SecurityEventNotification",{"type":"FirmwareUpdated","timestamp":"2024-01-15T10:00:00Z"}]',
)

SECURITY_ACTIONS = frozenset(
    name for name, entry in actions("1.6").items() if entry.get("profile", "").startswith("Security (whitepaper")
)
_KEY = "extensions"


class ExtensionChecker(Checker):
    name = "extensions"
    actions = SECURITY_ACTIONS

    def on_call(self, ctx: Context, conn: Connection, frame: Frame) -> None:
        if conn.version != "1.6":
            return  # 2.x has these messages (or their successors) in the core protocol
        seen: set[str] = conn.data.setdefault(_KEY, set())
        action = frame.action or ""
        if action in seen:
            return
        seen.add(action)
        sender = ctx.direction.sender if ctx.direction is not None else "peer"
        ctx.emit(SECURITY_WHITEPAPER, f"{action} from the {sender} belongs to the OCPP 1.6 Security Whitepaper "
                 "(edition 3), an extension of 1.6: both ends must implement it",
                 {"action": action, "extension": "OCA Improved security for OCPP 1.6-J, edition 3"}, action=action)
