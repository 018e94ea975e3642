"""From a charger's configuration back to the URL it will open, and what does not add up.

Used by ``ocppscope endpoint --from CAPTURE`` (compare with where the charger really connected) and by the
profile checker (a ChangeConfiguration that makes the endpoint settings contradict each other).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote

from ocppscope.proxy.endpoint.urls import DEFAULT_PORTS
from ocppscope.proxy.profiles.formats import ecotap_endpoint_problems, parse_ecotap_endpoint
from ocppscope.proxy.profiles.model import Profile
from ocppscope.proxy.profiles.values import option_value

Config = Mapping[str, str]
"""Known configuration values by case-folded key name."""

TLS_PORTS = {80: False, 443: True}
"""Ecotap's rule of thumb (OCPP connection configuration v1.4, ECCLite: Endpoint URL): port 80 is a ws connection,
port 443 a wss connection."""


@dataclass(slots=True)
class Rebuilt:
    scheme: str | None = None
    host: str | None = None
    port: int | None = None
    path: str | None = None
    identity: str | None = None
    used: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def url(self) -> str | None:
        if None in (self.scheme, self.host, self.port, self.path):
            return None
        return f"{self.scheme}://{self.host}:{self.port}{self.path}"


@dataclass(frozen=True, slots=True)
class Actual:
    """Where a charger really connected, from the handshake the proxy saw; None where it cannot tell."""

    scheme: str | None
    host: str
    port: int | None
    path: str

    @classmethod
    def from_handshake(cls, host_header: str, path: str, tls: bool | None) -> Actual:
        """``tls`` None when the input does not say whether the charger used TLS."""
        scheme = None if tls is None else ("wss" if tls else "ws")
        host, colon, port = host_header.strip().rpartition(":")
        if not colon or not port.isdigit() or (":" in host and not host.endswith("]")):
            host, port = host_header.strip(), ""  # no port, or a bare IPv6 address
        number = int(port) if port else (DEFAULT_PORTS[scheme] if scheme else None)
        return cls(scheme, host.lower(), number, path)

    @property
    def url(self) -> str:
        port = f":{self.port}" if self.port is not None else ""
        return f"{self.scheme or 'ws(s)?'}://{self.host}{port}{self.path}"


def _value(config: Config, name: str | None, rebuilt: Rebuilt) -> str | None:
    if not name:
        return None
    value = config.get(name.casefold())
    if value is None:
        rebuilt.problems.append(f"{name} is not known (no GetConfiguration answer or accepted change holds it)")
    else:
        rebuilt.used[name] = value
    return value


def tls_port_problem(tls: bool | None, port: int | None, tls_what: str) -> str | None:
    if tls is None or port not in TLS_PORTS or TLS_PORTS[port] == tls:
        return None
    return (f"{tls_what} asks for {'wss' if tls else 'ws'} but the port is {port}, the usual "
            f"{'wss' if port == 443 else 'ws'} port: the TLS setting and the port disagree")


def rebuild_url(profile: Profile, config: Config, serial: str | None = None) -> Rebuilt:
    style = profile.endpoint.style
    if style == "ecotap-template":
        return _rebuild_template(profile, config, serial)
    if style == "ecotap-split":
        return _rebuild_split(profile, config)
    rebuilt = Rebuilt()
    rebuilt.problems.append(f"{profile.id} keeps its backend URL outside the OCPP configuration "
                            f"({profile.endpoint.url_setting}): it cannot be rebuilt from GetConfiguration")
    return rebuilt


def _rebuild_template(profile: Profile, config: Config, serial: str | None) -> Rebuilt:
    endpoint = profile.endpoint
    rebuilt = Rebuilt()
    text = _value(config, endpoint.endpoint_key, rebuilt)
    identity = _value(config, endpoint.identity_key, rebuilt)
    options = _value(config, endpoint.options_key, rebuilt)
    rebuilt.identity = identity
    tls_text = option_value(options, endpoint.tls_option or "") if options is not None else None
    tls = {"1": True, "0": False}.get(tls_text or "")
    if options is not None and tls is None:
        rebuilt.problems.append(f"{endpoint.options_key} has no {endpoint.tls_option}=0/1: ws or wss is unknown")
    rebuilt.scheme = None if tls is None else ("wss" if tls else "ws")
    if text is None:
        return rebuilt
    parsed = parse_ecotap_endpoint(text)
    rebuilt.problems += [f"{endpoint.endpoint_key} {problem}" for problem in ecotap_endpoint_problems(text)]
    rebuilt.host = parsed.host.lower() or None
    rebuilt.port = parsed.port
    path: str | None = parsed.path
    if path is not None and endpoint.placeholder and endpoint.placeholder in path:
        path = None if identity is None else path.replace(endpoint.placeholder, identity)
    if path is not None and endpoint.serial_placeholder and endpoint.serial_placeholder in path:
        if serial is None:
            rebuilt.problems.append(f"{endpoint.serial_placeholder} stands for the controller's serial number, "
                                    "which no BootNotification in the input gave")
        path = None if serial is None else path.replace(endpoint.serial_placeholder, serial)
    rebuilt.path = path
    mismatch = tls_port_problem(tls, rebuilt.port, f"{endpoint.tls_option}={tls_text}")
    if mismatch:
        rebuilt.problems.append(mismatch)
    return rebuilt


def _rebuild_split(profile: Profile, config: Config) -> Rebuilt:
    endpoint = profile.endpoint
    rebuilt = Rebuilt()
    origin = _value(config, endpoint.url_key, rebuilt)
    port = _value(config, endpoint.port_key, rebuilt)
    path = _value(config, endpoint.path_key, rebuilt)
    identity = _value(config, endpoint.identity_key, rebuilt)
    rebuilt.identity = identity
    if origin is not None:
        scheme, separator, host = origin.partition("://")
        if separator and scheme.lower() in ("ws", "wss"):
            rebuilt.scheme, rebuilt.host = scheme.lower(), host.lower()
        else:
            rebuilt.problems.append(f"{endpoint.url_key} {origin!r} does not start with ws:// or wss://")
    if port is not None:
        if port.isdigit():
            rebuilt.port = int(port)
        else:
            rebuilt.problems.append(f"{endpoint.port_key} {port!r} is not a number")
    if path is not None and identity is not None:
        rebuilt.path = path + identity
        if not path.endswith("/"):
            rebuilt.problems.append(f"{endpoint.path_key} {path!r} does not end with /: the identity is glued to "
                                    "the last path segment")
    tls = None if rebuilt.scheme is None else rebuilt.scheme == "wss"
    mismatch = tls_port_problem(tls, rebuilt.port, f"{endpoint.url_key} {origin}")
    if mismatch:
        rebuilt.problems.append(mismatch)
    return rebuilt


def differences(rebuilt: Rebuilt, actual: Actual) -> list[str]:
    """Where the rebuilt URL and the real connection differ; parts not rebuilt are not compared."""
    found = []
    if rebuilt.scheme is not None and actual.scheme is not None and rebuilt.scheme != actual.scheme:
        found.append(f"scheme: the configuration says {rebuilt.scheme}://, the charger connected with "
                     f"{actual.scheme}://")
    if rebuilt.host is not None and rebuilt.host != actual.host:
        found.append(f"host: the configuration says {rebuilt.host}, the charger connected to {actual.host}")
    if rebuilt.port is not None and actual.port is not None and rebuilt.port != actual.port:
        found.append(f"port: the configuration says {rebuilt.port}, the charger connected to {actual.port}")
    if rebuilt.path is not None and unquote(rebuilt.path) != unquote(actual.path):
        found.append(f"path: the configuration says {rebuilt.path}, the charger asked for {actual.path}")
    return found


def inconsistencies(profile: Profile, config: Config, changed: set[str], identity: str | None,
                    auth_value: str | None = None, auth_user: str | None = None) -> list[str]:
    """Contradictions between endpoint and authentication settings that a change in ``changed`` causes.

    ``config`` already holds the proposed values (except secrets); ``changed`` are case-folded key names;
    ``auth_value`` is a proposed AuthorizationKey, ``auth_user`` the user name of the last one accepted.
    """
    found = []
    endpoint = profile.endpoint
    tls: bool | None = None
    if endpoint.style == "ecotap-template":
        options = config.get((endpoint.options_key or "").casefold())
        tls = {"1": True, "0": False}.get(option_value(options, endpoint.tls_option or "") or "") \
            if options is not None else None
        if changed & {(endpoint.endpoint_key or "").casefold(), (endpoint.options_key or "").casefold()}:
            text = config.get((endpoint.endpoint_key or "").casefold())
            port = parse_ecotap_endpoint(text).port if text is not None else None
            mismatch = tls_port_problem(tls, port, f"{endpoint.options_key} {endpoint.tls_option}")
            if mismatch:
                found.append(mismatch)
    elif endpoint.style == "ecotap-split":
        origin = config.get((endpoint.url_key or "").casefold())
        port_text = config.get((endpoint.port_key or "").casefold())
        if origin is not None:
            scheme = origin.partition("://")[0].lower()
            tls = {"wss": True, "ws": False}.get(scheme)
        if changed & {(endpoint.url_key or "").casefold(), (endpoint.port_key or "").casefold()} and port_text \
                and port_text.isdigit():
            mismatch = tls_port_problem(tls, int(port_text), f"{endpoint.url_key} {origin}")
            if mismatch:
                found.append(mismatch)
    identity_key = (profile.identity.key or endpoint.identity_key or "").casefold()
    expected_user = config.get(identity_key) or identity
    auth = profile.auth
    if auth_value is not None:
        user, colon, _ = auth_value.partition(":")
        if auth.format == "user:password":
            if colon and expected_user and user != expected_user:
                found.append(f"{auth.key} names user {user!r} but the charger's identity is {expected_user!r}: "
                             "the backend checks the user name against the identity")
            elif not colon:
                found.append(f"{auth.key} must be user:password for {profile.id} (the user being the identity)")
        elif auth.format == "password" and expected_user and auth_value.startswith(expected_user + ":"):
            found.append(f"{profile.id} takes the password only in {auth.key}: the user name is already the "
                         f"identity, so this would make the password start with {expected_user!r}:")
        if auth.requires_tls and tls is False:
            found.append(f"{auth.key} is only used over wss:// on {profile.id}, and TLS is off")
    if identity_key and identity_key in changed and auth_user and auth.format == "user:password":
        new_identity = config.get(identity_key)
        if new_identity and new_identity != auth_user:
            found.append(f"the charger will connect as {new_identity!r} but its {auth.key} still names user "
                         f"{auth_user!r}: set {auth.key} to {new_identity}:<password> as well")
    return found
