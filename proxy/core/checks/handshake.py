"""Rules about the WebSocket upgrade: subprotocol, Basic credentials, identity in the path, the HTTP answer.

Fed by :class:`~proxy.core.events.ConnectionOpened` (and, for "the charger then closed",
:class:`~proxy.core.events.ConnectionClosed`), so a capture replays to the same findings as the live run.
Sources: shared/reference/ocpp-facts.md sections 2 and 3.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

from ocppscope.proxy.core.analyzer import Checker, Context
from ocppscope.proxy.core.basic_auth import CREDENTIAL_HEADERS, looks_like_credentials, parse_basic_auth
from ocppscope.proxy.core.connection import Connection, identity_from_path
from ocppscope.proxy.core.events import AuthSummary, ConnectionClosed, ConnectionOpened, Headers, header
from ocppscope.proxy.core.findings import Severity, rule
from ocppscope.proxy.core.protocol import SUBPROTOCOLS, version_of_subprotocol

# -- subprotocol ---------------------------------------------------------------------------------------

NO_SUBPROTOCOL_OFFERED = rule(
    "handshake.no-subprotocol-offered",
    Severity.ERROR,
    "Charger offers no OCPP subprotocol",
    "OCPP-J requires the charger to name its OCPP version in the Sec-WebSocket-Protocol header (ocpp1.6, "
    "ocpp2.0.1, ...). Without it the backend cannot agree on a version and should close the connection; "
    "lenient backends guess. Set the OCPP version or 'protocol' setting in the charger's configuration.",
    "GET /ocpp/CP01 without a Sec-WebSocket-Protocol header",
)
SUBPROTOCOL_MALFORMED = rule(
    "handshake.subprotocol-malformed",
    Severity.ERROR,
    "Sec-WebSocket-Protocol list is malformed",
    "The header is a comma-separated list of tokens: no empty entries, no spaces or quotes inside a token. "
    "Backends split it differently, so a stray comma can make one refuse what another accepts. Often a "
    "firmware template that joins an empty first version.",
    "Sec-WebSocket-Protocol: ,ocpp2.0.1",
)
SUBPROTOCOL_SPELLING = rule(
    "handshake.subprotocol-spelling",
    Severity.ERROR,
    "OCPP subprotocol misspelled",
    "Subprotocol names are compared exactly, case included: ocpp1.6, ocpp2.0.1, ocpp2.1. A backend that "
    "does not recognise the spelling answers 400 or completes the handshake without a subprotocol.",
    "Sec-WebSocket-Protocol: OCPP1.6J",
)
SUBPROTOCOL_UNKNOWN = rule(
    "handshake.subprotocol-unknown",
    Severity.WARNING,
    "Offered subprotocol is not an OCPP version",
    "Only the registered OCPP-J names (ocpp1.2 … ocpp2.1) mean something to an OCPP backend; others are "
    "ignored at best.",
    "Sec-WebSocket-Protocol: json",
)
SUBPROTOCOL_NONE_SELECTED = rule(
    "handshake.subprotocol-none-selected",
    Severity.ERROR,
    "Backend accepted without choosing a subprotocol",
    "The backend answered 101 without Sec-WebSocket-Protocol although the charger offered versions. OCPP-J "
    "says a backend that supports none of them completes the handshake without the header and then closes "
    "at once; many chargers close the connection themselves when the header is missing.",
    "offered ocpp1.6, answer 101 without Sec-WebSocket-Protocol",
)
SUBPROTOCOL_NOT_OFFERED = rule(
    "handshake.subprotocol-not-offered",
    Severity.ERROR,
    "Backend chose a subprotocol the charger did not offer",
    "RFC 6455: the backend must pick one of the offered subprotocols; a client receiving another one must "
    "fail the connection. Often a backend that always answers with its own default version.",
    "offered ocpp1.6, answer Sec-WebSocket-Protocol: ocpp2.0.1",
)
CLOSED_AFTER_SUBPROTOCOL = rule(
    "handshake.closed-after-subprotocol-problem",
    Severity.ERROR,
    "Connection closed right after a subprotocol problem",
    "The handshake left the OCPP version unsettled and one side closed before any OCPP message: this is "
    "why the charger cannot connect. Fix the subprotocol finding of the same connection.",
    "answer 101 without Sec-WebSocket-Protocol, then the charger closes with 1002",
)
VERSION_CHANGED = rule(
    "handshake.version-changed",
    Severity.WARNING,
    "Charger switched OCPP version between connections",
    "The same identity negotiated another OCPP version than on its previous connection: a configuration "
    "change, a firmware fallback after failures, or two devices configured with the same identity.",
    "CP01 on ocpp2.0.1, reconnects and negotiates ocpp1.6",
)

# -- Basic credentials ---------------------------------------------------------------------------------

AUTH_MISSING = rule(
    "auth.missing",
    Severity.ERROR,
    "Backend asks for credentials the charger did not send",
    "The backend answered 401 and the request had no Authorization header. In security profiles 1 and 2 the "
    "charger sends HTTP Basic credentials (user = its identity, password = AuthorizationKey / "
    "BasicAuthPassword) on every connection: set the password on the charger.",
    "GET /ocpp/CP01 without Authorization → 401",
)
AUTH_NOT_BASIC = rule(
    "auth.not-basic",
    Severity.ERROR,
    "Authorization is not HTTP Basic",
    "OCPP security profiles 1 and 2 use HTTP Basic only. Bearer, Digest or custom schemes are not OCPP and "
    "an OCPP backend refuses them.",
    "Authorization: Bearer eyJhbGciOi...",
)
AUTH_INVALID_BASE64 = rule(
    "auth.invalid-base64",
    Severity.ERROR,
    "Basic credentials are not valid base64",
    "After 'Basic ' comes base64(user:password). Invalid characters, missing padding or nothing at all make "
    "strict backends answer 400 or 401.",
    "Authorization: Basic CP01:secret (not encoded)",
)
AUTH_NO_COLON = rule(
    "auth.no-colon",
    Severity.ERROR,
    "Basic credentials have no ':' between user and password",
    "The decoded credentials must be user:password. Without the colon the backend cannot find the "
    "password, typically because the charger sent only the key.",
    "Authorization: Basic base64('0001020304050607...')",
)
AUTH_USER_NOT_IDENTITY = rule(
    "auth.user-not-identity",
    Severity.ERROR,
    "Basic user name differs from the identity in the URL",
    "OCPP security profiles 1 and 2: the user name SHALL be the charger identity, exactly as in the URL "
    "path. Backends check both and answer 401 when they differ.",
    "GET /ocpp/CP01 with Basic user 'cp01'",
)
AUTH_PASSWORD_TOO_SHORT = rule(
    "auth.password-too-short",
    Severity.ERROR,
    "Password shorter than 16 bytes",
    "OCPP requires at least 16 bytes (1.6 security white paper A00.FR.205, 2.0.1 passwordString 16–40). "
    "Backends may refuse shorter keys, and they are easy to guess.",
    "Basic CP01:secret",
)
AUTH_PASSWORD_TOO_LONG = rule(
    "auth.password-too-long",
    Severity.WARNING,
    "Password longer than 40 bytes",
    "OCPP 1.6 stores at most 20 bytes (40 hex digits); OCPP 2.0.1 allows 40 characters (up to 64 after the "
    "2025 errata when the charger's BasicAuthPassword maxLimit says so). A backend may truncate or refuse it.",
    "a 48-character password",
)
AUTH_KEY_AS_HEX_TEXT = rule(
    "auth.key-as-hex-text",
    Severity.WARNING,
    "AuthorizationKey sent as hex text, not as the decoded bytes",
    "The password is 32–40 hex digits. OCPP-J 1.6 §6.2.2 (Charge point authentication) sends the 20 bytes the "
    "hex digits stand for; many chargers and backends use the hex text itself. Both sides must do the same: when "
    "the backend answers 401, try the other form (on 2.x the text form is the right one).",
    "OCPP 1.6, Basic CP01:0001020304050607FFFFFFFFFFFFFFFFFFFFFFFF (40 characters)",
)
AUTH_KEY_AS_BYTES = rule(
    "auth.key-as-bytes",
    Severity.ERROR,
    "Password sent as raw bytes where text is expected",
    "The password is not text: a hex AuthorizationKey decoded to bytes. OCPP 2.x passwords are UTF-8 text and "
    "must be sent as such; on 1.6 a backend that expects the 40-hex-digit text refuses the decoded bytes.",
    "OCPP 2.0.1, Basic CP01:<20 bytes 0x00 0x01 ... 0xFF>",
)
AUTH_OVER_PLAIN_WS = rule(
    "auth.basic-over-plain-ws",
    Severity.WARNING,
    "Basic credentials over unencrypted ws://",
    "Only security profile 1 sends Basic credentials without TLS, and only inside a trusted network (VPN). "
    "Anyone on the path can read the password; profiles 2 and 3 use wss://.",
    "ws://backend/ocpp/CP01 with Authorization: Basic ...",
)
AUTH_IN_OTHER_HEADER = rule(
    "auth.credentials-in-other-header",
    Severity.ERROR,
    "Credentials found in another header",
    "Something that looks like the charger's credentials is in a header other than Authorization (e.g. in "
    "Sec-WebSocket-Key): a firmware bug. The backend does not look there, and the secret leaks into logs "
    "that do not expect one.",
    "Sec-WebSocket-Key: Q1AwMTpzZWNyZXQ= (base64 of CP01:secret)",
)

# -- identity in the path ------------------------------------------------------------------------------

IDENTITY_MISSING = rule(
    "identity.missing",
    Severity.ERROR,
    "No charger identity in the URL",
    "The charger appends '/' and its identity to the backend URL. With no path at all the backend cannot "
    "tell which charger this is and usually answers 404.",
    "GET / HTTP/1.1",
)
IDENTITY_EMPTY = rule(
    "identity.empty-segment",
    Severity.ERROR,
    "Charger identity is empty",
    "The last path segment, where the identity belongs, is empty or blank: the identity setting on the "
    "charger is probably empty.",
    "GET /ocpp/%20",
)
IDENTITY_DOUBLE_SLASH = rule(
    "identity.double-slash",
    Severity.WARNING,
    "Double slash in the URL path",
    "The backend URL was configured with a trailing '/' and the charger added another before its identity. "
    "Some backends collapse '//', others answer 404.",
    "GET /ocpp//CP01",
)
IDENTITY_TRAILING_SLASH = rule(
    "identity.trailing-slash",
    Severity.WARNING,
    "URL path ends with a slash",
    "The identity is the last path segment; after a trailing '/' some backends see an empty identity and "
    "answer 404, others strip it.",
    "GET /ocpp/CP01/",
)
IDENTITY_TOO_LONG = rule(
    "identity.too-long",
    Severity.WARNING,
    "Charger identity longer than 48 characters",
    "OCPP 2.0.1 and 2.1 limit the identity to 48 characters (error there); 1.6 sets no limit, but backends "
    "built for 2.x and EVSE ID formats stop at 48 (warning).",
    "GET /ocpp/ + 60 characters",
)
IDENTITY_COLON = rule(
    "identity.colon",
    Severity.ERROR,
    "Charger identity contains a colon",
    "The identity is also the Basic auth user name, where ':' separates user from password: the backend "
    "splits the credentials in the wrong place. OCPP 2.x forbids ':' in the identity.",
    "GET /ocpp/CP:01",
)
IDENTITY_NEEDS_ENCODING = rule(
    "identity.needs-percent-encoding",
    Severity.ERROR,
    "URL path has characters that must be percent-encoded",
    "Spaces, quotes, '|', '{', non-ASCII and other characters outside RFC 3986 must be sent as %XX (the "
    "OCPP example: identity 'RDAM|123' → /RDAM%7C123). Backends and proxies reject or mangle them raw; a "
    "'%' must start a valid %XX escape.",
    "GET /ocpp/RDAM|123",
)
PATH_REPEATS_BASE = rule(
    "identity.path-repeats-upstream-base",
    Severity.WARNING,
    "The charger's path repeats the backend's base path",
    "The proxy puts the backend's base path (the path of --upstream) in front of whatever path the charger "
    "asks for, so a charger configured with the full backend URL reaches the base twice "
    "(/ocpp/ocpp/CP01). Point the charger at the proxy with only its identity (ws://proxy:8080/CP01), or "
    "give --upstream without the path.",
    "--upstream wss://csms/ocpp, charger asks for /ocpp/CP01, backend gets /ocpp/ocpp/CP01",
)
IDENTITY_CHARSET = rule(
    "identity.not-identifier-string",
    Severity.WARNING,
    "Identity has characters OCPP 2.x does not allow",
    "OCPP 2.0.1 and 2.1 identities are identifierString: letters, digits and * - _ = + | @ . only.",
    "identity 'RDAM 123' on ocpp2.0.1",
)

# -- the HTTP answer -----------------------------------------------------------------------------------

HTTP_401 = rule(
    "handshake.http-401",
    Severity.ERROR,
    "Backend refused the credentials (401)",
    "The backend did not accept the charger's Basic credentials: wrong or missing password, user name not "
    "the identity, the key sent as hex text instead of bytes (or the reverse), or a key the backend already "
    "replaced. The auth.* findings of the same handshake say which.",
    "HTTP/1.1 401 Unauthorized",
)
HTTP_404 = rule(
    "handshake.http-404",
    Severity.ERROR,
    "Backend does not know this identity or path (404)",
    "OCPP-J backends answer 404 for an identity they do not know. Check that the charger is registered in "
    "the backend under exactly this identity (case matters to many), and that the path prefix is right.",
    "HTTP/1.1 404 Not Found for /ocpp/CP01",
)
HTTP_400 = rule(
    "handshake.http-400",
    Severity.ERROR,
    "Backend refused the handshake (400)",
    "Usually the subprotocol: the backend supports none of the offered OCPP versions or cannot parse the "
    "list. Also a malformed upgrade request.",
    "HTTP/1.1 400 Bad Request",
)
HTTP_5XX = rule(
    "handshake.http-5xx",
    Severity.ERROR,
    "Backend failed to answer the handshake (5xx)",
    "The backend (or a load balancer in front of it) had an internal problem: not the charger's fault. "
    "Retry later, or ask the backend operator.",
    "HTTP/1.1 503 Service Unavailable",
)
HTTP_OTHER = rule(
    "handshake.http-refused",
    Severity.ERROR,
    "Backend did not upgrade to WebSocket",
    "Anything but 101 ends the attempt: 403 is a refusal (IP allow-list, profile mismatch), 3xx a redirect "
    "chargers do not follow, 200 a web server that is not the OCPP endpoint.",
    "HTTP/1.1 301 Moved Permanently",
)
BACKEND_UNREACHABLE = rule(
    "handshake.backend-unreachable",
    Severity.ERROR,
    "Backend unreachable: ocppscope answered 502",
    "ocppscope could not open the connection to the backend (refused, DNS, timeout, TLS certificate "
    "refused) and answered the charger 502 Bad Gateway. The message names the reason.",
    "Connect call failed ('10.0.0.5', 443)",
)
CHARGER_GAVE_UP = rule(
    "handshake.charger-gave-up",
    Severity.WARNING,
    "Charger hung up before the backend answered the handshake",
    "The backend took longer to answer the upgrade than the charger was willing to wait.",
    "charger closes TCP 10 s after GET /ocpp/CP01, no answer yet",
)
CHARGER_STALLED = rule(
    "handshake.charger-stalled",
    Severity.WARNING,
    "A client connected but never finished its upgrade request",
    "The TCP (or TLS) connection opened, but no complete HTTP upgrade request followed within the handshake "
    "timeout, so ocppscope closed it. A charger whose firmware stalls mid-request, a slow or lossy mobile "
    "link, or something that is not a charger (a port scanner, a health check) holding the port open.",
    "connection from 10.0.0.7:50312, no request within 10 s",
)
BACKEND_TIMEOUT = rule(
    "handshake.backend-timeout",
    Severity.ERROR,
    "Backend did not answer the handshake in time",
    "The backend accepted the connection but did not answer the charger's upgrade request within the upstream "
    "timeout; ocppscope closed the charger's connection instead of letting it wait. An overloaded or hung "
    "backend, or a load balancer that holds WebSocket upgrades.",
    "GET /ocpp/CP01 upgrade sent to the backend, no answer within 30 s",
)
UPSTREAM_UNVERIFIED = rule(
    "handshake.upstream-unverified",
    Severity.WARNING,
    "Backend certificate not verified",
    "ocppscope runs with --insecure-upstream: it did not check who the backend is. The charger will verify "
    "the certificate when it connects directly; this run proves nothing about it.",
    "ocppscope proxy --upstream wss://csms.example --insecure-upstream",
)

_TCHAR = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_PCHAR_OK = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/%]")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_IDENTIFIER_STRING = re.compile(r"[A-Za-z0-9*\-_=+|@.]+")
_KNOWN_NORMALISED = {re.sub(r"[^a-z0-9]", "", token): token for token in SUBPROTOCOLS}
_MAX_IDENTITY = 48
_MIN_PASSWORD, _MAX_PASSWORD = 16, 40
_CLOSE_AFTER_PROBLEM_SECONDS = 10.0
_CHARGERS_KEPT = 10_000


def offered_subprotocols(headers: Headers) -> tuple[list[str], bool]:
    """The offered tokens (all Sec-WebSocket-Protocol headers joined) and whether the list is well-formed."""
    values = [value for name, value in headers if name.lower() == "sec-websocket-protocol"]
    if not values:
        return [], True
    items = [item.strip() for item in ",".join(values).split(",")]
    tokens = [item for item in items if item]
    well_formed = len(tokens) == len(items) and all(_TCHAR.fullmatch(token) for token in tokens)
    return tokens, well_formed


def _spelling_of(token: str) -> str | None:
    """The registered name ``token`` is a misspelling of (case, separators, a 'J'/'JSON' suffix), or None."""
    squashed = re.sub(r"[^a-z0-9]", "", token.lower())
    for suffix in ("json", "j"):
        if squashed not in _KNOWN_NORMALISED and squashed.endswith(suffix):
            squashed = squashed[: -len(suffix)]
    return _KNOWN_NORMALISED.get(squashed)


def _version(event: ConnectionOpened, offered: list[str]) -> str | None:
    """The version the handshake settled on, else the charger's first recognisable offer."""
    negotiated = version_of_subprotocol(event.subprotocol)
    if negotiated is not None:
        return negotiated
    for token in offered:
        version = version_of_subprotocol(token) or version_of_subprotocol(_spelling_of(token))
        if version is not None:
            return version
    return None


class SubprotocolChecker(Checker):
    """Offer, selection, the close that follows a mismatch, and version changes per charger."""

    name = "handshake.subprotocol"
    judges_handshake = True
    judges_request = True

    def __init__(self) -> None:
        self._last_version: OrderedDict[str, str] = OrderedDict()

    def on_open(self, ctx: Context, conn: Connection, event: ConnectionOpened) -> None:
        offered, well_formed = offered_subprotocols(event.request_headers)
        raw = header(event.request_headers, "Sec-WebSocket-Protocol")
        problem = None
        if raw is None:
            problem = ctx.emit(NO_SUBPROTOCOL_OFFERED, "the charger offers no Sec-WebSocket-Protocol (no OCPP "
                               "version)", {})
        elif not well_formed:
            problem = ctx.emit(SUBPROTOCOL_MALFORMED, f"malformed Sec-WebSocket-Protocol list {raw!r}",
                               {"header": raw, "tokens": offered})
        for token in offered:
            if token in SUBPROTOCOLS:
                continue
            meant = _spelling_of(token)
            if meant is not None:
                problem = ctx.emit(SUBPROTOCOL_SPELLING, f"subprotocol {token!r} should be spelled {meant!r}",
                                   {"offered": token, "expected": meant})
            else:
                ctx.emit(SUBPROTOCOL_UNKNOWN, f"{token!r} is not an OCPP subprotocol", {"offered": token})
        if event.status != 101:
            return
        selected = event.subprotocol or header(event.response_headers, "Sec-WebSocket-Protocol")
        if selected is None and offered:
            problem = ctx.emit(SUBPROTOCOL_NONE_SELECTED,
                               f"the backend accepted without choosing one of {', '.join(offered)}",
                               {"offered": offered})
        elif selected is not None and selected not in offered:
            problem = ctx.emit(SUBPROTOCOL_NOT_OFFERED,
                               f"the backend chose {selected!r}, which the charger did not offer "
                               f"({', '.join(offered) or 'nothing'})",
                               {"selected": selected, "offered": offered})
        if problem is not None:
            conn.data[self.name] = problem.rule
        version = version_of_subprotocol(selected)
        if conn.charger and version is not None:
            previous = self._last_version.pop(conn.charger, None)
            self._last_version[conn.charger] = version
            if len(self._last_version) > _CHARGERS_KEPT:
                self._last_version.popitem(last=False)
            if previous is not None and previous != version:
                ctx.emit(VERSION_CHANGED, f"{conn.charger} now speaks OCPP {version}, OCPP {previous} on its "
                         "previous connection", {"previous": previous, "version": version})

    def on_close(self, ctx: Context, conn: Connection, event: ConnectionClosed) -> None:
        problem = conn.data.get(self.name)
        if problem is None or conn.frames or conn.opened is None:
            return
        after = event.time - conn.opened.time
        if after > _CLOSE_AFTER_PROBLEM_SECONDS:
            return
        code = f" with {event.code}" if event.code is not None else ""
        ctx.emit(CLOSED_AFTER_SUBPROTOCOL,
                 f"the {event.closed_by} closed the connection{code} {after:.1f} s after the handshake, before "
                 f"any OCPP message ({problem})",
                 {"closed_by": event.closed_by, "code": event.code, "after": round(after, 3),
                  "problem": problem})


class AuthChecker(Checker):
    """HTTP Basic credentials as OCPP security profiles 1 and 2 define them."""

    name = "handshake.auth"
    judges_handshake = True
    judges_request = True

    def on_open(self, ctx: Context, conn: Connection, event: ConnectionOpened) -> None:
        headers = event.request_headers
        identity = identity_from_path(event.path)
        self._other_headers(ctx, headers, identity)
        raw = header(headers, "Authorization")
        auth = event.auth or parse_basic_auth(raw)
        if auth.scheme is None:
            if event.status == 401:
                ctx.emit(AUTH_MISSING, "the backend wants credentials (401); the charger sent none", {})
            return
        if auth.scheme.lower() != "basic":
            ctx.emit(AUTH_NOT_BASIC, f"Authorization scheme {auth.scheme!r} is not Basic",
                     {"scheme": auth.scheme})
            return
        if event.client_tls is None:
            ctx.emit(AUTH_OVER_PLAIN_WS, "Basic credentials sent over plain ws:// (security profile 1 only)", {})
        if auth.error:
            self._decode_error(ctx, auth)
        if auth.user is None:
            return
        if identity is not None and auth.user != identity:
            case = " (they differ only in case)" if auth.user.casefold() == identity.casefold() else ""
            ctx.emit(AUTH_USER_NOT_IDENTITY,
                     f"Basic user {auth.user!r} is not the identity {identity!r} from the URL{case}",
                     {"user": auth.user, "identity": identity})
        if auth.password_bytes is not None:
            self._password(ctx, event, auth)

    def _decode_error(self, ctx: Context, auth: AuthSummary) -> None:
        error = auth.error or ""
        if "redacted" in error:
            return  # a capture without the credentials: nothing to judge
        if "':'" in error or "colon" in error:
            ctx.emit(AUTH_NO_COLON, "the decoded Basic credentials have no ':' between user and password", {})
        elif "padding" in error:
            ctx.emit(AUTH_INVALID_BASE64, "the Basic credentials lack base64 '=' padding (decoded anyway)",
                     {"error": error}, severity=Severity.WARNING)
        elif "UTF-8" not in error:
            ctx.emit(AUTH_INVALID_BASE64, f"Basic credentials: {error}", {"error": error})

    def _password(self, ctx: Context, event: ConnectionOpened, auth: AuthSummary) -> None:
        size = auth.password_bytes or 0
        if size < _MIN_PASSWORD:
            ctx.emit(AUTH_PASSWORD_TOO_SHORT, f"the password is {size} bytes; OCPP requires at least 16",
                     {"bytes": size})
        elif size > _MAX_PASSWORD:
            ctx.emit(AUTH_PASSWORD_TOO_LONG, f"the password is {size} bytes; OCPP allows 40",
                     {"bytes": size})
        offered, _ = offered_subprotocols(event.request_headers)
        version = _version(event, offered)
        refused = event.status == 401
        evidence = {"bytes": size, "version": version, "status": event.status}
        if auth.password_kind == "hex-text" and (version == "1.6" or (refused and version is None)):
            ctx.emit(AUTH_KEY_AS_HEX_TEXT,
                     f"the password is {size} hex digits sent as text"
                     + (" and the backend refused it: try the decoded bytes" if refused else
                        "; OCPP-J 1.6 sends the decoded bytes (this backend accepts the text)"),
                     evidence, severity=Severity.WARNING if refused else Severity.INFO)
        elif auth.password_kind == "binary" and version is not None and version != "1.6":
            ctx.emit(AUTH_KEY_AS_BYTES, f"the password is {size} raw bytes, not text, on OCPP {version}",
                     evidence)
        elif auth.password_kind == "binary" and refused:
            ctx.emit(AUTH_KEY_AS_BYTES,
                     f"the password is {size} raw bytes and the backend refused it: try the key as hex text",
                     evidence, severity=Severity.WARNING)

    def _other_headers(self, ctx: Context, headers: Headers, identity: str | None) -> None:
        for name, value in headers:
            if name.lower() in CREDENTIAL_HEADERS:
                continue
            if looks_like_credentials(value, identity):
                # Never the value itself in the evidence: it is a secret.
                ctx.emit(AUTH_IN_OTHER_HEADER, f"header {name} carries what looks like credentials",
                         {"header": name})


class IdentityChecker(Checker):
    """The charger identity as the last path segment (OCPP-J §3.1.1)."""

    name = "handshake.identity"
    judges_handshake = True
    judges_request = True

    def on_open(self, ctx: Context, conn: Connection, event: ConnectionOpened) -> None:
        path = event.path.split("?", 1)[0].split("#", 1)[0]
        evidence: dict[str, Any] = {"path": path}
        if not path.strip("/"):
            ctx.emit(IDENTITY_MISSING, f"the URL path {path or '(empty)'!r} has no identity", evidence)
            return
        if "//" in path:
            ctx.emit(IDENTITY_DOUBLE_SLASH, f"the URL path {path!r} has an empty segment ('//')", evidence)
        base = repeated_base(path, event.upstream)
        if base is not None:
            ctx.emit(PATH_REPEATS_BASE,
                     f"the charger asked for {path!r} and the backend got {base + path!r}: the base {base!r} "
                     f"is added by the proxy; point the charger at {path[len(base):]!r} on the proxy",
                     {**evidence, "upstream_base": base, "upstream": event.upstream})
        if path.endswith("/"):
            ctx.emit(IDENTITY_TRAILING_SLASH, f"the URL path {path!r} ends with '/'", evidence)
        raw_segment = path.rstrip("/").rsplit("/", 1)[-1]
        self._encoding(ctx, raw_segment, evidence)
        identity = identity_from_path(path) or ""
        if not identity.strip():
            ctx.emit(IDENTITY_EMPTY, f"the identity segment {raw_segment!r} is blank", evidence)
            return
        offered, _ = offered_subprotocols(event.request_headers)
        version = _version(event, offered)
        strict = version is not None and version.startswith("2")
        evidence = {**evidence, "identity": identity, "version": version}
        if len(identity) > _MAX_IDENTITY:
            ctx.emit(IDENTITY_TOO_LONG, f"the identity is {len(identity)} characters (OCPP 2.x: at most 48)",
                     {**evidence, "length": len(identity)},
                     severity=Severity.ERROR if strict else Severity.WARNING)
        if ":" in identity:
            ctx.emit(IDENTITY_COLON, f"the identity {identity!r} contains ':'", evidence)
        if strict and not _IDENTIFIER_STRING.fullmatch(identity.replace(":", "")):
            bad = sorted({c for c in identity if c != ":" and not _IDENTIFIER_STRING.fullmatch(c)})
            ctx.emit(IDENTITY_CHARSET, f"the identity {identity!r} has {''.join(bad)!r}, not allowed in OCPP "
                     f"{version} identities", {**evidence, "characters": bad})

    def _encoding(self, ctx: Context, segment: str, evidence: dict[str, Any]) -> None:
        bad = sorted({c for c in segment if not _PCHAR_OK.fullmatch(c)})
        if _BAD_ESCAPE.search(segment):
            bad.append("%")
        if bad:
            encoded = "".join(f"%{b:02X}" for b in "".join(bad).encode("utf-8", "surrogateescape")
                              if b != 0x25)
            ctx.emit(IDENTITY_NEEDS_ENCODING,
                     f"the identity segment {segment!r} has {''.join(bad)!r} unencoded"
                     + (f" (send {encoded})" if encoded else ""),
                     {**evidence, "characters": bad})
        try:
            unquote_to_bytes(segment).decode("utf-8")
        except UnicodeDecodeError:
            ctx.emit(IDENTITY_NEEDS_ENCODING, f"the identity segment {segment!r} does not decode to UTF-8",
                     evidence)


class AnswerChecker(Checker):
    """The backend's answer to the upgrade, explained; and the proxy's own answer when it could not ask."""

    name = "handshake.answer"
    judges_handshake = True

    def on_open(self, ctx: Context, conn: Connection, event: ConnectionOpened) -> None:
        status = event.status
        evidence: dict[str, Any] = {"status": status, "path": event.path, "upstream": event.upstream}
        if event.upstream_tls is not None and event.upstream_tls.verified is False:
            ctx.emit(UPSTREAM_UNVERIFIED, "the backend's TLS certificate was not verified (--insecure-upstream)",
                     {"upstream": event.upstream})
        if status == 101:
            return
        if status == 408 and not event.path and not event.request_headers:
            ctx.emit(CHARGER_STALLED, f"{event.client} connected but {event.error}",
                     {**evidence, "client": event.client, "error": event.error})
        elif status == 504 and event.error:
            ctx.emit(BACKEND_TIMEOUT, f"{event.error} (path {event.path!r})", {**evidence, "error": event.error})
        elif status == 0:
            ctx.emit(CHARGER_GAVE_UP, f"the charger hung up before the backend answered ({event.error})",
                     {**evidence, "error": event.error})
        elif status == 502 and event.error:
            ctx.emit(BACKEND_UNREACHABLE, f"backend unreachable, the charger got 502: {_explain(event.error)}",
                     {**evidence, "error": event.error})
        elif status == 401:
            ctx.emit(HTTP_401, "the backend refused the credentials (401)", evidence)
        elif status == 404:
            identity = identity_from_path(event.path)
            ctx.emit(HTTP_404, f"the backend does not know identity {identity!r} or path {event.path!r} (404)",
                     {**evidence, "identity": identity})
        elif status == 400:
            offered = header(event.request_headers, "Sec-WebSocket-Protocol")
            ctx.emit(HTTP_400, f"the backend refused the handshake (400); offered subprotocols: "
                     f"{offered if offered is not None else 'none'}", {**evidence, "offered": offered})
        elif 500 <= status <= 599:
            ctx.emit(HTTP_5XX, f"the backend failed with {status}", evidence)
        else:
            ctx.emit(HTTP_OTHER, f"the backend answered {status} instead of 101", evidence)


def _explain(error: str) -> str:
    lowered = error.lower()
    if "certificate" in lowered or "verify" in lowered:
        return (f"{error} — the backend's TLS certificate was refused; trust its CA with --upstream-ca, or "
                "--insecure-upstream to skip the check")
    if "refused" in lowered or "connect call failed" in lowered:
        return f"{error} — nothing listens on that address and port"
    if "name or service" in lowered or "getaddrinfo" in lowered or "nodename" in lowered:
        return f"{error} — the host name does not resolve"
    return error


def repeated_base(charger_path: str, upstream_url: str | None) -> str | None:
    """The backend base path when the charger's path starts with it again (``/ocpp`` for ``/ocpp/CP01`` sent
    upstream as ``/ocpp/ocpp/CP01``), else None."""
    if not upstream_url:
        return None
    upstream_path = urlsplit(upstream_url).path
    if not upstream_path.endswith(charger_path) or len(upstream_path) == len(charger_path):
        return None
    base = upstream_path[: -len(charger_path)].rstrip("/")
    return base if base and charger_path.startswith(base + "/") else None


def handshake_checkers() -> list[Checker]:
    return [SubprotocolChecker(), AuthChecker(), IdentityChecker(), AnswerChecker()]
