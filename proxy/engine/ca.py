"""ocppscope's own certificate authority, for chargers that connect with wss:// to the proxy.

It lives in ocppscope's config directory (never ``~/.mitmproxy``), is created on first use with names a field
engineer recognises on a charger's certificate screen, and mitmproxy signs its per-host certificates with it.
"""

from __future__ import annotations

from pathlib import Path

from ocppscope.proxy.config import config_dir

BASENAME = "mitmproxy"
"""mitmproxy 11 looks for ``<confdir>/mitmproxy-ca.pem``; the name on the certificate is ours."""
ORGANIZATION = "ocppscope"
COMMON_NAME = "ocppscope debugging proxy CA"
KEY_SIZE = 2048


def confdir() -> Path:
    """mitmproxy's configuration directory inside ocppscope's."""
    path = config_dir() / "mitmproxy"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def ensure_ca(directory: Path | None = None) -> Path:
    """Create the CA if it does not exist yet; return the path of its public certificate (PEM)."""
    from mitmproxy.certs import CertStore  # heavy import, only when a CA is really needed

    directory = directory or confdir()
    if not (directory / f"{BASENAME}-ca.pem").exists():
        CertStore.create_store(directory, BASENAME, KEY_SIZE, organization=ORGANIZATION, cn=COMMON_NAME)
    return certificate_path(directory)


def certificate_path(directory: Path | None = None) -> Path:
    return (directory or confdir()) / f"{BASENAME}-ca-cert.pem"
