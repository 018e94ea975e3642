"""Which configuration keys and payload members hold secrets, recognised by what their names say.

One answer for everyone: redaction (``proxy.capture.redact``), the rule that reports a secret disclosed on
the wire (``proxy.core.checks.disclosure``), and the scrubbing of findings (:func:`scrub_finding`).

A name is split into words whatever its style (``Cfg_UserPin``, ``wifi_psk``, ``AUTH_KEY``, ``WiFiPassword``,
``com_AuthorizationKey``), and it holds a secret when its last word is the secret: a password, passphrase,
PIN, PSK, secret or credentials, or a key or token that a qualifier makes one (``AuthKey``, ``ApiKey``,
``AccessToken``). A secret word anywhere else describes the secret without being it (``PasswordMinLength``,
``PskIdentity``, ``AuthorizationKeyLength``), and look-alikes stay visible (``GetConfigurationMaxKeys``,
``AuthorizeRemoteTxRequests``, ``idToken``, ``SpinDelay``). Profiles declare names their vendors chose that
say nothing (:func:`declare_secret_names`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

import orjson
from ocppscope.proxy.core import render
from ocppscope.proxy.core.basic_auth import hidden, is_redacted
from ocppscope.proxy.core.events import Message

_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
"""One word of a name: an acronym, a capitalised or lower-case word, or digits (``WiFiPSK2`` → Wi Fi PSK 2)."""

_SECRET_WORDS = frozenset({
    "password", "passwd", "passwort", "kennwort", "wachtwoord", "motdepasse", "pwd", "pw", "pass", "passphrase",
    "passcode", "pincode", "pin", "puk", "psk", "secret", "secrets", "credential", "credentials", "creds",
    "apikey", "authkey", "secretkey", "privatekey",
})
"""Words that are a secret when a name ends with them."""
_JOINED = frozenset({"password", "passphrase", "passcode", "pincode", "passwd"})
"""Secret words people split in two (``PassWord``, ``pass_phrase``, ``PinCode``)."""
_COMPOUND_ENDINGS = ("password", "passwd", "passphrase", "passcode", "secret", "psk", "authkey", "apikey",
                     "authorizationkey")
"""Endings recognised inside one run of letters with no case change (``WIFIPASSWORD``, ``wpapsk``)."""
_KEY_QUALIFIERS = frozenset({
    "auth", "authorization", "authorisation", "authentication", "api", "private", "secret", "shared", "preshared",
    "encryption", "encrypt", "crypt", "crypto", "access", "signing", "hmac", "psk", "wep", "wpa", "network",
    "master", "session", "aes", "security", "client", "vpn", "wifi", "wlan",
})
"""Words that make a ``key`` a secret one (``AuthKey``, ``PrivateKey``); ``configurationKey`` is just a name."""
_TOKEN_QUALIFIERS = frozenset({
    "access", "api", "auth", "authorization", "authentication", "bearer", "refresh", "session", "security",
    "oauth", "jwt", "secret", "private", "csrf",
})
"""Words that make a ``token`` a secret one (``AccessToken``); ``idToken`` is an RFID card, shown everywhere."""
_CODE_QUALIFIERS = frozenset({"pin", "pass", "puk", "secret"})
_HARDWARE_PIN = frozenset({"led", "gpio", "io", "relay", "reset", "input", "output", "cp", "pp", "tx", "rx",
                           "enable", "sense", "signal", "button", "lock", "clock", "data"})
"""A ``pin`` of these is a connector pin, not a PIN code (``RelayPin``, ``LedPin``)."""
_USER_KEYS = frozenset({"auth", "authorization", "authorisation"})
"""An ``…AuthorizationKey`` may be written ``user:password``: the user part stays visible."""
_TRAILING = frozenset({"value", "val", "str", "string", "text", "hex", "b64", "base64", "raw", "new", "old",
                       "current", "cur"})
"""Words after the secret that still name the secret itself (``PasswordValue``, ``wifi_psk_hex``)."""
_HASHES = frozenset({"hash", "digest"})

_NEEDLES = ("pass", "pw", "secret", "psk", "cred", "kennwort", "wachtwoord", "motdepasse", "puk", "pin", "key",
            "token")
"""Every secret name holds one of these, lower-cased: a text without any names no secret (the fast path)."""
_TOKEN = re.compile(r"[A-Za-z_][\w.-]*")
"""The names a text may hold: identifiers, with the dots and dashes vendors use (``wifi-psk``)."""

_DECLARED: set[str] = set()
"""Case-folded names profiles declared secret."""
_needles: tuple[str, ...] = _NEEDLES


def declare_secret_names(names: Iterable[str]) -> None:
    """Names that hold secrets in this process's traffic though they do not say so (profiles declare them)."""
    global _needles
    new = {name.casefold() for name in names if name.strip()} - _DECLARED
    if new:
        _DECLARED.update(new)
        _needles = (*_NEEDLES, *sorted(name.lower() for name in _DECLARED))
        looks_secret.cache_clear()


def declared_secret_names() -> frozenset[str]:
    return frozenset(_DECLARED)


def forget_declared_names() -> None:
    """Back to the names alone (for tests)."""
    global _needles
    _DECLARED.clear()
    _needles = _NEEDLES
    looks_secret.cache_clear()


def may_name_secret(text: str | bytes) -> bool:
    """Whether ``text`` (a frame, a message) holds a name :func:`looks_secret` accepts; cheap when it holds none.

    Checked on every frame written and every finding: substring tests first, names only when one hits.
    """
    if isinstance(text, bytes):
        text = text.decode("latin-1")  # never fails; names are ASCII
    lowered = text.lower()
    for needle in _needles:
        if needle in lowered:
            break
    else:
        return False
    return any(looks_secret(name) for name in _TOKEN.findall(text))


@functools.lru_cache(maxsize=8192)
def looks_secret(name: str) -> bool:
    """True when a key or member called ``name`` holds a secret (AuthorizationKey, wifi_psk, Cfg_UserPin…)."""
    return name.casefold() in _DECLARED or _by_words(name)


def _by_words(name: str) -> bool:
    words = [word.lower() for word in _WORD.findall(name)]
    while words and (words[-1] in _TRAILING or words[-1].isdigit()):
        words.pop()
    if not words:
        return False
    head = words[-1]
    before = words[-2] if len(words) > 1 else ""
    if head in _HASHES:
        return before in _SECRET_WORDS
    if len(words) > 1 and before + head in _JOINED:
        return True
    if head == "pin":
        return before not in _HARDWARE_PIN
    if head in _SECRET_WORDS:
        return True
    if head == "key":
        return before in _KEY_QUALIFIERS
    if head == "token":
        return before in _TOKEN_QUALIFIERS
    if head == "code":
        return before in _CODE_QUALIFIERS
    return head.endswith(_COMPOUND_ENDINGS)


def keeps_user(name: str) -> bool:
    """An authorization key (``AuthorizationKey``, ``authKey``) may be ``user:password``: keep the user."""
    words = [word.lower() for word in _WORD.findall(name)]
    return (len(words) >= 2 and words[-1] == "key" and words[-2] in _USER_KEYS) or name.casefold().endswith(
        "authorizationkey")


MASKS = frozenset("*•●·")
_MASK_WORDS = frozenset({"hidden", "masked", "redacted", "<hidden>", "(hidden)", "<masked>", "***hidden***",
                         "writeonly", "write-only", "write only"})


def is_masked(value: str) -> bool:
    """A value that stands in for a secret without being it: empty, ``*****``, ``hidden``, a marker."""
    text = value.strip()
    return not text or set(text) <= MASKS or text.casefold() in _MASK_WORDS or is_redacted(text)


# -- secrets in decoded payloads ------------------------------------------------------------------------------

class Secret(NamedTuple):
    """A secret found in a payload: ``holder`` is the whole string value it sits in (it may be all of it)."""

    holder: str
    secret: str
    keeps_user: bool
    """An authorization key written as ``user:password`` keeps its user part visible."""
    name: str
    """The key, variable, member or item name that says it is a secret."""
    number: bool = False
    """The secret is a JSON number (a 2.x ``simPin``), ``holder`` its text."""
    at: int | None = None
    """Where ``secret`` starts in ``holder``, when known (the holder itself, a ``name=value`` item); None for a
    secret of a JSON document inside the holder, found by its value."""


_ITEM = re.compile(r"(?<![\w.-])([A-Za-z_][\w.-]*)=([^,;&\r\n]*)")
"""A ``name=value`` item of a comma-, semicolon- or ampersand-separated text (Ecotap ``com_Options``)."""
_QUOTED_ITEM = re.compile(r"(?<![\w.-])([A-Za-z_][\w.-]*)=([^,;&\s'\"]*)")
"""The same item quoted in a sentence (a finding's message): it also ends at a space or a quote."""


def find_secrets(value: Any, parent: str = "", *, redacted: bool = False) -> Iterator[Secret]:
    """Every secret in a decoded payload (any JSON value), with the name that says so, in document order.

    Values that only stand in for a secret (:func:`is_masked`) are skipped, redaction markers too unless
    ``redacted`` (the disclosure rule: a marker in a capture stands for a secret that crossed the wire).
    Never raises on shape. The walk keeps its own stack instead of recursing: a structure nested 100,000
    deep (built in code; a JSON parser stops far sooner) is walked in memory proportional to its depth.
    """
    pending: list[Iterator[Secret | tuple[Any, str]]] = [iter(((value, parent),))]
    while pending:
        step = next(pending[-1], None)
        if step is None:
            pending.pop()
        elif type(step) is Secret:
            yield step
        else:
            item, name = step
            if isinstance(item, list):
                pending.append((member, name) for member in item)
            elif isinstance(item, dict):
                pending.append(_object_steps(item, name, redacted))
            elif isinstance(item, str) and may_name_secret(item):
                yield from secrets_in_text(item, redacted=redacted)


def _object_steps(value: dict[Any, Any], parent: str, redacted: bool) -> Iterator[Secret | tuple[Any, str]]:
    """The secrets one object holds itself, and its members to walk (with their case-folded names), in order."""
    key = value.get("key")
    if isinstance(key, str) and looks_secret(key):
        yield from _scalar(value.get("value"), key, redacted)
    variable = value.get("variable")
    if isinstance(variable, dict):
        name = variable.get("name")
        if isinstance(name, str) and looks_secret(name):
            yield from _scalar(value.get("attributeValue"), name, redacted)
            attributes = value.get("variableAttribute")
            for attribute in attributes if isinstance(attributes, list) else ():
                if isinstance(attribute, dict):
                    yield from _scalar(attribute.get("value"), name, redacted)
    for name, member in value.items():
        if not isinstance(name, str):
            continue
        if isinstance(member, str | int | float) and not isinstance(member, bool) and (
                looks_secret(name) or (parent == "vpn" and name.casefold() == "key")):
            yield from _scalar(member, name, redacted)
        else:
            yield member, name.casefold()


def _shown(value: str, redacted: bool) -> bool:
    """Whether ``value`` is a secret to report: not a stand-in, or a marker when markers count."""
    return not is_masked(value) or (redacted and is_redacted(value))


def _scalar(value: Any, name: str, redacted: bool) -> Iterator[Secret]:
    if isinstance(value, str):
        if _shown(value, redacted):
            yield Secret(value, value, keeps_user(name), name, at=0)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        text = orjson.dumps(value).decode() if value == value and abs(value) != float("inf") else str(value)
        yield Secret(text, text, False, name, number=True, at=0)


def secrets_in_text(value: str, *, redacted: bool = False, quoted: bool = False) -> Iterator[Secret]:
    """Secrets inside one string: ``name=value`` items, and a JSON document (DataTransfer ``data``).

    ``quoted``: the string is a sentence quoting values, whose items end at a space or quote as well."""
    for match in (_QUOTED_ITEM if quoted else _ITEM).finditer(value):
        raw = match.group(2)
        secret = raw.strip()
        if secret and looks_secret(match.group(1)) and _shown(secret, redacted):
            at = match.start(2) + len(raw) - len(raw.lstrip())
            yield Secret(value, secret, keeps_user(match.group(1)), match.group(1), at=at)
    stripped = value.strip()
    if stripped[:1] in ("{", "["):
        try:
            inner = orjson.loads(stripped)
        except orjson.JSONDecodeError:
            return
        for found in find_secrets(inner, redacted=redacted):
            yield Secret(value, found.secret, found.keeps_user, found.name)


# -- findings ---------------------------------------------------------------------------------------------------

_SHORT = 4
"""Secrets shorter than this are only hidden where they stand alone: a PIN ``12`` is not every ``12``."""


def hide_in(text: str, secret: str, keep_user: bool = False) -> str:
    """``text`` with every occurrence of ``secret`` replaced by a placeholder that says only its size."""
    new = hidden(secret)
    if keep_user:
        user, colon, password = secret.partition(":")
        if colon and user and password:
            new = f"{user}:{hidden(password)}"
    if len(secret) >= _SHORT:
        return text.replace(secret, new)
    return re.sub(rf"(?<![A-Za-z0-9]){re.escape(secret)}(?![A-Za-z0-9])", lambda _match: new, text)


def scrub_text(text: str, secrets: Iterable[Secret] = ()) -> str:
    """``text`` (a finding's message) without the given secrets, nor any ``name=value`` item whose name says
    secret."""
    for found in secrets:
        if found.secret in text:
            text = hide_in(text, found.secret, found.keeps_user)
    if may_name_secret(text):
        for found in list(secrets_in_text(text, quoted=True)):
            text = hide_in(text, found.secret, found.keeps_user)
    return text


def scrub_value(value: Any, secrets: tuple[Secret, ...] = (), name: str = "", depth: int = 0) -> Any:
    """``value`` (a finding's evidence) with secrets hidden; the same object when it holds none.

    ``name`` is the member ``value`` sits in: a secret name hides a string or number whole."""
    kind = type(value)
    if kind is str:
        if name and looks_secret(name) and not is_masked(value):
            return hidden(value)
        if secrets or (len(value) > 2 and may_name_secret(value)):
            return scrub_text(value, secrets)
        return value
    if kind is int or kind is float:
        return hidden(str(value)) if name and looks_secret(name) else value
    if depth >= render.MAX_DEPTH and (kind is dict or kind is list or kind is tuple):
        return render.CUT  # nesting hundreds deep: no report shows it, so nothing in it can leak
    if kind is dict:
        pair_key = value.get("key")
        pair_secret = type(pair_key) is str and looks_secret(pair_key)
        out: dict[Any, Any] | None = None
        for key, item in value.items():
            member = key if type(key) is str else ""
            if pair_secret and member == "value" and type(item) is str and not is_masked(item):
                new = hidden(item)
            else:
                new = scrub_value(item, secrets, member, depth + 1)
            if new is not item:
                if out is None:
                    out = dict(value)
                out[key] = new
        return value if out is None else out
    if kind is list or kind is tuple:
        items = [scrub_value(item, secrets, name, depth + 1) for item in value]
        if any(new is not old for new, old in zip(items, value, strict=True)):
            return items if kind is list else tuple(items)
    return value


def scrub_finding(message: str, evidence: dict[str, Any], secrets: tuple[Secret, ...] = ()
                  ) -> tuple[str, dict[str, Any]]:
    """A finding's message and evidence without secrets: those of its frame (``secrets``), ``name=value``
    items and members whose names say secret. Returns the same objects when there is nothing to hide."""
    if secrets or may_name_secret(message):
        message = scrub_text(message, secrets)
    if evidence:
        evidence = scrub_value(evidence, secrets)
    return message, evidence


def frame_secrets(event: Message) -> tuple[Secret, ...]:
    """The secrets of a text frame (what a finding about it must not quote); empty when it names none."""
    if not event.is_text or not may_name_secret(event.content):
        return ()
    try:
        return tuple(find_secrets(orjson.loads(event.content)))
    except (orjson.JSONDecodeError, RecursionError):
        return ()
