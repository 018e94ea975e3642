"""Backend URLs as OCPP-J uses them: ``ws[s]://host[:port]/base/path/<identity>``."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

from ocppscope.proxy.errors import OcppscopeError

DEFAULT_PORTS = {"ws": 80, "wss": 443}
_SCHEMES = {"ws": "ws", "wss": "wss", "http": "ws", "https": "wss"}
_PATH_SAFE = "!$&'()*+,;=:@"
"""RFC 3986 pchar sub-delimiters: an identity such as NL*ECO*1000 stays readable in the path."""


@dataclass(frozen=True, slots=True)
class BackendUrl:
    scheme: str
    host: str
    port: int
    port_written: bool
    base_path: str
    """The path before the identity, without a trailing slash ("" for the root)."""
    identity: str | None
    template: str | None = None
    """A placeholder such as {deviceId} written where the identity goes."""
    replaced: str | None = None
    """The URL's last segment when it was a near miss of the identity given (TESTOCPPID for TEST-OCPPID)."""

    @property
    def tls(self) -> bool:
        return self.scheme == "wss"

    def origin(self, always_port: bool = True) -> str:
        port = f":{self.port}" if always_port or self.port_written else ""
        return f"{self.scheme}://{self.host}{port}"

    def base(self, always_port: bool = True) -> str:
        return self.origin(always_port) + self.base_path

    def for_identity(self, identity: str, always_port: bool = True) -> str:
        return f"{self.base(always_port)}/{quote_identity(identity)}"


def quote_identity(identity: str) -> str:
    return quote(identity, safe=_PATH_SAFE)


def split_backend_url(url: str, identity: str | None = None, placeholders: tuple[str, ...] = ()) -> BackendUrl:
    """Split ``url``; the identity is ``identity`` when given, else the URL's last path segment."""
    parts = urlsplit(url.strip())
    scheme = _SCHEMES.get(parts.scheme.lower())
    if scheme is None:
        raise OcppscopeError(f"{url!r}: the backend URL must start with ws:// or wss://")
    if not parts.hostname:
        raise OcppscopeError(f"{url!r} has no host")
    try:
        port = parts.port
    except ValueError:
        raise OcppscopeError(f"{url!r} has a port that is not a number from 0 to 65535") from None
    if parts.query or parts.fragment:
        raise OcppscopeError(f"{url!r}: OCPP-J endpoints have no ?query or #fragment")
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    path = parts.path.rstrip("/")
    head, _, last = path.rpartition("/")
    template = next((p for p in placeholders if last == p), None)
    replaced = None
    if template is not None:
        base = head
    elif identity is not None:
        near_miss = unquote(last) != identity and _loose(unquote(last)) == _loose(identity)
        base = head if unquote(last) == identity or near_miss else path
        replaced = unquote(last) if near_miss else None
    elif last:
        identity, base = unquote(last), head
    else:
        raise OcppscopeError(f"{url!r} does not end in a charger identity: add it to the URL or pass --id")
    return BackendUrl(scheme, host, port or DEFAULT_PORTS[scheme], port is not None, base, identity, template,
                      replaced)


def _loose(identity: str) -> str:
    """An identity without case and punctuation, to recognise a typo such as TESTOCPPID for TEST-OCPPID."""
    return "".join(c for c in identity.casefold() if c.isalnum())


def split_via(text: str) -> tuple[str, str, int]:
    """``HOST:PORT`` or ``ws[s]://HOST:PORT`` of an ocppscope listener: (scheme, host, port)."""
    scheme = "ws"
    rest = text.strip()
    if "://" in rest:
        given, rest = rest.split("://", 1)
        scheme = _SCHEMES.get(given.lower(), "")
        if not scheme:
            raise OcppscopeError(f"--via {text!r}: the scheme must be ws:// or wss://")
    host, colon, port = rest.rstrip("/").rpartition(":")
    if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise OcppscopeError(f"--via {text!r}: write HOST:PORT, where ocppscope listens for chargers")
    return scheme, host, int(port)
