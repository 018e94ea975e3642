"""The TLS options of the commands that stand between chargers and a backend: ``proxy`` and ``replay``.

``--insecure-upstream`` and ``--upstream-ca`` are about the backend's certificate (the backend behind
``proxy --upstream``, or the one ``replay --target`` plays chargers against); ``--cert`` is the certificate
shown to wss:// chargers (those that connect to ``proxy``, or to ``replay --as backend``). Same flags, same
help, same meaning in both commands.
"""

from __future__ import annotations

import argparse
import fnmatch
import ssl
from collections.abc import Sequence
from pathlib import Path

from ocppscope.proxy.errors import OcppscopeError

UNVERIFIED_WARNING = "the backend's TLS certificate is NOT verified (--insecure-upstream)"


def add_tls_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("TLS")
    group.add_argument("--insecure-upstream", action="store_true",
                       help="do not verify the backend's TLS certificate (reported as a warning)")
    group.add_argument("--upstream-ca", type=Path, metavar="PEM",
                       help="verify the backend's TLS certificate against this CA instead of the system's")
    group.add_argument("--cert", action="append", default=[], metavar="[DOMAIN=]PEM",
                       help="certificate and key (one PEM file) shown to wss:// chargers, for DOMAIN only when "
                       "given (repeatable). Without it the proxy shows one signed by ocppscope's CA (`ocppscope "
                       "ca`); replay --as backend needs one to serve wss://")


def parse_cert(text: str) -> tuple[str | None, Path]:
    """``--cert [DOMAIN=]PEM`` → (domain or None, file), as mitmproxy's ``certs`` option reads it."""
    domain, sep, path = text.partition("=")
    return (domain, Path(path)) if sep else (None, Path(text))


def check_tls_files(args: argparse.Namespace) -> None:
    """A certificate file that is not there is an error before anything listens or connects."""
    if args.upstream_ca is not None and not args.upstream_ca.is_file():
        raise OcppscopeError(f"--upstream-ca {args.upstream_ca}: no such file")
    for text in args.cert:
        path = parse_cert(text)[1]
        if not path.is_file():
            raise OcppscopeError(f"--cert {text}: no such file {path}")


def backend_context(args: argparse.Namespace) -> ssl.SSLContext:
    """The context to verify a wss:// backend with, as ``--upstream-ca``/``--insecure-upstream`` say."""
    ca: Path | None = args.upstream_ca
    context = ssl.create_default_context(cafile=str(ca) if ca is not None else None)
    if args.insecure_upstream:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def charger_context(certs: Sequence[str]) -> ssl.SSLContext | None:
    """The server context for wss:// chargers from the ``--cert`` options (None without any): the one without a
    domain for every charger, the others for chargers asking for their domain (SNI)."""
    if not certs:
        return None
    contexts: dict[str | None, ssl.SSLContext] = {}
    for text in certs:
        domain, path = parse_cert(text)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        try:
            context.load_cert_chain(path)
        except (OSError, ssl.SSLError) as exc:
            raise OcppscopeError(f"--cert {text}: cannot load a certificate and key from {path}: "
                                 f"{getattr(exc, 'strerror', None) or exc}") from None
        contexts[domain.lower() if domain else None] = context
    default = contexts.get(None) or next(iter(contexts.values()))

    def by_domain(socket: ssl.SSLObject, name: str | None, _: ssl.SSLContext) -> None:
        wanted = (name or "").lower()
        for domain, context in contexts.items():
            if domain is not None and fnmatch.fnmatchcase(wanted, domain):  # "*.example.com" as mitmproxy reads it
                socket.context = context
                return

    if len(contexts) > 1:
        default.sni_callback = by_domain  # type: ignore[assignment]
    return default
