"""Which configuration keys and payload members hold secrets, recognised by what their names say.

One answer for everyone: redaction (``proxy.capture.redact``), the rules that report a secret disclosed on
the wire, and any finding that would quote a configuration value.
"""

from __future__ import annotations

import re

_SECRET_NAME = re.compile(r"(?i)authorizationkey|password|passphrase|secret|(?<![a-z])pin(?![a-z])|psk")


def looks_secret(name: str) -> bool:
    """True when a key or member called ``name`` holds a secret (AuthorizationKey, wifi_psk, Cfg_UserPin…)."""
    return _SECRET_NAME.search(name) is not None
