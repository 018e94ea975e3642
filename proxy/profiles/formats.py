"""Vendor value formats too irregular for a regular expression, named by ``format = "..."`` in profiles.

Each checker returns the list of problems in words a field engineer can act on (empty when fine).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_IPV4 = re.compile(r"^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$")


@dataclass(frozen=True, slots=True)
class EcotapEndpoint:
    """An Ecotap ``com_Endpoint``: ``host:port/path`` with #OSN# (OCPP id) or #SN# (serial), no scheme."""

    text: str
    scheme: str | None
    host: str
    ports: tuple[str, ...]
    path: str

    @property
    def port(self) -> int | None:
        if len(self.ports) == 1 and self.ports[0].isdigit():
            return int(self.ports[0])
        return None


def parse_ecotap_endpoint(text: str) -> EcotapEndpoint:
    rest = text.strip()
    scheme = None
    match = _SCHEME.match(rest)
    if match:
        scheme = match.group(1).lower()
        rest = rest[match.end() :]
    authority, slash, path = rest.partition("/")
    host, *ports = authority.split(":")
    return EcotapEndpoint(text, scheme, host, tuple(ports), slash + path)


def ecotap_endpoint_problems(text: str) -> list[str]:
    endpoint = parse_ecotap_endpoint(text)
    problems = []
    if endpoint.scheme is not None:
        problems.append(f"starts with {endpoint.scheme}://, but com_Endpoint takes no scheme: leave it out and "
                        "choose ws or wss with useTLS in com_Options")
    if any(c.isspace() for c in text):
        problems.append("contains white space")
    if not endpoint.host:
        problems.append("has no host before the port and path")
    if not endpoint.ports:
        problems.append("has no port: write host:port/path (80 for ws, 443 for wss)")
    elif len(endpoint.ports) > 1:
        problems.append(f"has {len(endpoint.ports)} ports ({':'.join(endpoint.ports)}): write exactly one, "
                        "host:port/path")
    elif not endpoint.ports[0].isdigit() or not 0 < int(endpoint.ports[0]) < 65536:
        problems.append(f"port {endpoint.ports[0]!r} is not a number from 1 to 65535")
    return problems


def _scheme_host_problems(text: str) -> list[str]:
    match = _SCHEME.match(text)
    if match is None:
        return ["must start with ws:// or wss:// (the scheme chooses plain or secured WebSocket)"]
    problems = []
    if match.group(1).lower() not in ("ws", "wss"):
        problems.append(f"scheme {match.group(1)}:// is not ws:// or wss://")
    rest = text[match.end() :]
    if not rest:
        problems.append("has no host after the scheme")
    if "/" in rest:
        problems.append("contains a path: it belongs in the path key, not in the URL key")
    if ":" in rest:
        problems.append("contains a port: it belongs in the port key")
    return problems


def _url_path_problems(text: str) -> list[str]:
    problems = []
    if not text.startswith("/"):
        problems.append("must start with /")
    if not text.endswith("/"):
        problems.append("must end with /: the charger appends its identity directly after the path")
    if any(c.isspace() for c in text):
        problems.append("contains white space")
    return problems


def _ipv4_problems(text: str) -> list[str]:
    match = _IPV4.match(text)
    if match is None or any(int(part) > 255 for part in match.groups()):
        return ["is not an IPv4 address (four numbers 0–255 separated by dots)"]
    return []


FORMAT_CHECKS: dict[str, Callable[[str], list[str]]] = {
    "ecotap-endpoint": ecotap_endpoint_problems,
    "scheme-host": _scheme_host_problems,
    "url-path": _url_path_problems,
    "ipv4": _ipv4_problems,
}
