"""Where the proxy listens and where each listener forwards: ``--upstream``, ``--listen``, ``--route``.

A route is one listener and one backend. The charger's path is kept under the backend's base path
(``ws://backend/base`` + ``/ocpp/CP01`` → ``/base/ocpp/CP01``), after optional prefix rewrites for backends
that expect another prefix. Pure data: no mitmproxy import, so the CLI can validate arguments cheaply.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from ocppscope.proxy.addresses import parse_host_port
from ocppscope.proxy.errors import OcppscopeError

DEFAULT_LISTEN = "127.0.0.1:8080"


def _format_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


@dataclass(frozen=True, slots=True)
class Upstream:
    """The backend: ``ws[s]://HOST[:PORT][/BASE]``."""

    tls: bool
    host: str
    port: int
    base: str = ""
    """Path prefix without a trailing slash ("" for none)."""

    @classmethod
    def parse(cls, text: str) -> Upstream:
        parts = urlsplit(text.strip())
        scheme = parts.scheme.lower()
        if scheme not in ("ws", "wss"):
            hint = " (ocppscope speaks to the backend in WebSocket terms: ws:// or wss://)" if scheme in (
                "http", "https") else ""
            raise OcppscopeError(f"upstream {text!r}: the scheme must be ws or wss{hint}")
        if not parts.hostname:
            raise OcppscopeError(f"upstream {text!r}: no host name")
        if parts.query or parts.fragment:
            raise OcppscopeError(f"upstream {text!r}: no query string or fragment, please")
        if parts.username or parts.password:
            raise OcppscopeError(
                f"upstream {text!r}: credentials in the URL are not forwarded; the charger's own "
                "Authorization header goes upstream unchanged"
            )
        try:
            port = parts.port or (443 if scheme == "wss" else 80)
        except ValueError as exc:
            raise OcppscopeError(f"upstream {text!r}: {exc}") from None
        return cls(scheme == "wss", parts.hostname, port, parts.path.rstrip("/"))

    @property
    def scheme(self) -> str:
        return "wss" if self.tls else "ws"

    def url(self, path: str = "") -> str:
        return f"{self.scheme}://{_format_host(self.host)}:{self.port}{path}"

    def __str__(self) -> str:
        return self.url(self.base)


@dataclass(frozen=True, slots=True)
class Rewrite:
    """Replace the path prefix ``old`` by ``new`` before the base path is put in front."""

    old: str
    new: str

    @classmethod
    def parse(cls, text: str) -> Rewrite:
        old, sep, new = text.partition("=")
        if not sep or not old.startswith("/") or (new and not new.startswith("/")):
            raise OcppscopeError(
                f"--rewrite-path {text!r}: expected /OLD/PREFIX=/NEW/PREFIX (e.g. /ocpp/=/steve/websocket/)"
            )
        return cls(old, new)


@dataclass(frozen=True, slots=True)
class Route:
    """One listener forwarding to one backend."""

    listen_host: str
    listen_port: int
    upstream: Upstream
    rewrites: tuple[Rewrite, ...] = ()

    @classmethod
    def parse(cls, listen: str, upstream: str, rewrites: tuple[Rewrite, ...] = ()) -> Route:
        host, port = parse_host_port(listen, "listen address")
        return cls(host, port, Upstream.parse(upstream), rewrites)

    @classmethod
    def parse_pair(cls, text: str, rewrites: tuple[Rewrite, ...] = ()) -> Route:
        """``LISTEN=UPSTREAM`` as given to ``--route``."""
        listen, sep, upstream = text.partition("=")
        if not sep:
            raise OcppscopeError(f"--route {text!r}: expected LISTEN=UPSTREAM, e.g. 127.0.0.1:8081=wss://csms/ocpp")
        return cls.parse(listen, upstream, rewrites)

    def upstream_path(self, charger_path: str) -> str:
        """The path the backend gets for the path the charger asked for."""
        path = charger_path or "/"
        for rewrite in self.rewrites:
            if path.startswith(rewrite.old):
                path = rewrite.new + path[len(rewrite.old):]
                break
        if not path.startswith("/"):
            path = "/" + path
        return self.upstream.base + path

    def mode_spec(self, port: int | None = None) -> str:
        """The mitmproxy ``--mode`` spec: reverse mode takes http(s) upstreams, not ws(s)."""
        scheme = "https" if self.upstream.tls else "http"
        listen_port = self.listen_port if port is None else port
        return (f"reverse:{scheme}://{_format_host(self.upstream.host)}:{self.upstream.port}"
                f"@{_format_host(self.listen_host)}:{listen_port}")

    def describe(self) -> str:
        return f"{_format_host(self.listen_host)}:{self.listen_port} → {self.upstream}"


def charger_urls(host: str, port: int, tls: bool = False) -> list[str]:
    """The URLs a charger can be given for a listener (every local address for a wildcard listener)."""
    scheme = "wss" if tls else "ws"
    if host not in ("0.0.0.0", "::", ""):
        return [f"{scheme}://{_format_host(host)}:{port}/"]
    addresses = set()
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, family=socket.AF_INET):
            addresses.add(info[4][0])
    except OSError:
        pass
    addresses |= _outbound_addresses()
    usable = sorted(a for a in addresses if not ipaddress.ip_address(a).is_loopback)
    return [f"{scheme}://{a}:{port}/" for a in usable] or [f"{scheme}://127.0.0.1:{port}/"]


def _outbound_addresses() -> set[str]:
    """The address of the interface a default route uses; connect() on UDP sends nothing."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: never routed anywhere real
            return {probe.getsockname()[0]}
        except OSError:
            return set()
