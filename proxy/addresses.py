"""``HOST:PORT`` as users type it on the command line, parsed one way for every option that takes one."""

from __future__ import annotations

from ocppscope.proxy.errors import OcppscopeError


def parse_host_port(text: str, what: str = "address", *, default_host: str | None = None,
                    default_port: int | None = None) -> tuple[str, int]:
    """``HOST:PORT``, ``[V6]:PORT``, ``:PORT`` (all interfaces), ``HOST`` (with ``default_port``) or ``PORT``
    alone (with ``default_host``) → (host, port). Raises :class:`OcppscopeError` saying what is wrong."""
    text = text.strip()
    if default_host is not None and text.isdigit():
        host, port_text = default_host, text
    elif text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise OcppscopeError(f"{what} {text!r}: expected [IPv6]:PORT")
        port_text = rest[1:]
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    else:
        host, port_text = text, ""  # a host name, or a bare IPv6 address
    if not port_text:
        if default_port is None:
            raise OcppscopeError(f"{what} {text!r}: a port is required (HOST:PORT)")
        port = default_port
    else:
        try:
            port = int(port_text)
        except ValueError:
            raise OcppscopeError(f"{what} {text!r}: port {port_text!r} is not a number") from None
    if not 0 <= port <= 65535:
        raise OcppscopeError(f"{what} {text!r}: port {port} is out of range")
    return host or default_host or "0.0.0.0", port
