"""Where ocppscope keeps its own files: the CA, the redaction salt, user profiles.

``OCPPSCOPE_HOME`` overrides the location (tests point it at a temporary folder); otherwise
``$XDG_CONFIG_HOME/ocppscope`` or ``~/.config/ocppscope``. Never ``~/.mitmproxy``.
"""

from __future__ import annotations

import os
from pathlib import Path


def config_dir(create: bool = True) -> Path:
    base = os.environ.get("OCPPSCOPE_HOME")
    if base:
        path = Path(base)
    else:
        xdg = os.environ.get("XDG_CONFIG_HOME")
        path = (Path(xdg) if xdg else Path.home() / ".config") / "ocppscope"
    if create:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path
