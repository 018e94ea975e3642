"""Redaction at write time: credentials leave the capture, the facts rules need about them stay.

What is redacted (docs/capture-format.md, "Redaction"):

- the ``Authorization`` / ``Proxy-Authorization`` credentials of the upgrade request (the user of a Basic
  header is kept; its facts go into ``ConnectionOpened.auth``);
- in frames: the value of a ``{"key": "AuthorizationKey", "value": …}`` pair (1.6 ChangeConfiguration,
  GetConfiguration answers), members named ``authorizationKey`` or ending in ``password`` (2.x
  ``BasicAuthPassword``, ``apnPassword``, VPN ``password``) and the VPN ``key``, the value of a
  ``BasicAuthPassword`` variable (2.x SetVariables, GetVariables, NotifyReport), and an
  ``authorizationKey=…`` item inside a comma-separated value (the Ecotap ``com_Options`` style).

A secret is replaced by a marker (:func:`proxy.core.basic_auth.redaction_marker`) inside the frame text, so
every other byte of the frame stays as it was. An ``AuthorizationKey`` written as ``user:password`` (Ecotap)
keeps its user part.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, NamedTuple

import msgspec
import orjson

from proxy.config import config_dir
from proxy.core.basic_auth import (
    CREDENTIAL_HEADERS,
    MARKER_PATTERN,
    format_marker,
    is_redacted,
    looks_like_credentials,
    parse_basic_auth,
    redaction_marker,
)
from proxy.core.connection import identity_from_path
from proxy.core.events import ConnectionOpened, Message, header
from proxy.errors import OcppscopeError

log = logging.getLogger("ocppscope.capture")

SALT_FILE = "redaction-salt"
_SALT_BYTES = 32

# Cheap test first: only frames that mention one of these are parsed for secrets.
_TRIGGER = re.compile(rb"(?i)authorizationkey|password")
_TRIGGER_TEXT = re.compile(r"(?i)authorizationkey|password")
_MIN_SAFETY_NET = 4
_STRING_LITERAL = re.compile(r'"(?:[^"\\]|\\.)*"')
_CSL_ITEM = re.compile(r"(?i)(authorizationkey\s*=\s*)([^,]*)")
# Fallbacks for frames that are not valid JSON: the usual spellings, written out.
_LITERAL = r'("(?:[^"\\]|\\.)*")'
_LOOSE_PATTERNS = (
    (re.compile(r'(?i)"key"\s*:\s*"authorizationkey"\s*,\s*"value"\s*:\s*' + _LITERAL), True),
    (re.compile(r'(?i)"value"\s*:\s*' + _LITERAL + r'\s*,\s*"key"\s*:\s*"authorizationkey"'), True),
    (re.compile(r'(?i)"authorizationkey"\s*:\s*' + _LITERAL), True),
    (re.compile(r'(?i)"\w*password"\s*:\s*' + _LITERAL), False),
)


def installation_salt(directory: Path | None = None) -> bytes:
    """This installation's redaction salt, created on first use in ``config_dir()/redaction-salt``.

    The salt is a random secret: with it, equal secrets give equal HMACs in every capture made here; without
    it, an HMAC says nothing about the secret.
    """
    path = (directory or config_dir()) / SALT_FILE
    cached = _SALTS.get(path)
    if cached is not None:
        return cached
    salt = _load_or_create_salt(path)
    _SALTS[path] = salt
    return salt


_SALTS: dict[Path, bytes] = {}
"""Salts already read, per file: the proxy starts a writer per connection."""


def _load_or_create_salt(path: Path) -> bytes:
    for _ in range(50):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            text = path.read_text(encoding="ascii").strip()
            if text:
                try:
                    return bytes.fromhex(text)
                except ValueError:
                    raise OcppscopeError(f"{path}: not a redaction salt (expected hex digits); remove it to "
                                         "create a new one (HMACs of older captures will no longer match)") from None
            time.sleep(0.01)  # another process is writing it right now
            continue
        except OSError as exc:
            raise OcppscopeError(f"cannot create the redaction salt {path}: {exc.strerror}") from exc
        salt = secrets.token_bytes(_SALT_BYTES)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(salt.hex() + "\n")
        return salt
    raise OcppscopeError(f"{path} stays empty; remove it to create a new redaction salt")


def salt_id(salt: bytes) -> str:
    """A short name for a salt, so two captures can tell whether their HMACs are comparable."""
    return hashlib.sha256(b"ocppscope salt id\0" + salt).hexdigest()[:8]


class Secret(NamedTuple):
    """A secret found in a frame: ``holder`` is the whole string value it sits in (it may be all of it)."""

    holder: str
    secret: str
    keeps_user: bool
    """An ``AuthorizationKey`` written as ``user:password`` keeps its user part visible."""


class Redactor:
    """Replaces the secrets of events with markers; returns events unchanged when there is nothing to hide."""

    def __init__(self, salt: bytes) -> None:
        self.salt = salt

    def opened(self, event: ConnectionOpened) -> ConnectionOpened:
        headers = []
        auth = event.auth
        changed = False
        identity = identity_from_path(event.path)
        for name, value in event.request_headers:
            if is_redacted(value):
                pass
            elif name.lower() in CREDENTIAL_HEADERS:
                if name.lower() == "authorization":
                    auth = parse_basic_auth(value, self.salt)  # the header says it all, with this salt's HMAC
                value = self.header_value(value)
                changed = True
            elif looks_like_credentials(value, identity):
                # Credentials in the wrong header (auth.credentials-in-other-header) are still credentials.
                value = redaction_marker(value.encode("utf-8", "surrogateescape"), self.salt, kind="credentials")
                changed = True
            headers.append((name, value))
        if not changed:
            return event
        return replace(event, request_headers=tuple(headers), auth=auth)

    def summarised(self, event: ConnectionOpened) -> ConnectionOpened:
        """``event`` with ``auth`` made from its Authorization header, which is left as it is."""
        value = header(event.request_headers, "Authorization")
        if value is None or is_redacted(value):
            return event
        return replace(event, auth=parse_basic_auth(value, self.salt))

    def header_value(self, value: str) -> str:
        """``Basic <redacted user="CP001" kind=… bytes=… hmac=…>``; other schemes keep only their name."""
        summary = parse_basic_auth(value, self.salt)
        scheme, _, credentials = value.strip().partition(" ")
        if (summary.user is not None and summary.password_bytes is not None
                and summary.password_kind is not None and summary.password_hmac is not None):
            marker = format_marker(summary.password_kind, summary.password_bytes, summary.password_hmac,
                                   user=summary.user)
            return f"{scheme} {marker}"
        # Header values may carry bytes that were not UTF-8 (as surrogate escapes): hash the bytes as sent.
        if not credentials.strip():
            return redaction_marker(value.encode("utf-8", "surrogateescape"), self.salt, kind="credentials")
        secret = credentials.strip().encode("utf-8", "surrogateescape")
        return f"{scheme} {redaction_marker(secret, self.salt, kind='credentials')}"

    def message(self, event: Message) -> Message:
        if not event.is_text or _TRIGGER.search(event.content) is None:
            return event
        redacted = self.frame(event.content)
        if redacted is None:
            return event
        return msgspec.structs.replace(event, content=redacted, redacted=True)

    def frame(self, content: bytes) -> bytes | None:
        """The frame with its secrets replaced, or None when it holds none.

        Bytes that are not UTF-8 pass through unchanged around the markers.
        """
        text = content.decode("utf-8", "surrogateescape")
        try:
            new_text = self._structured(text, orjson.loads(content))
        except orjson.JSONDecodeError:
            try:
                value = json.loads(text)
            except (ValueError, RecursionError):
                new_text = self._loose(text)
            else:
                new_text = self._safely_structured(text, value)
        except RecursionError:  # nested deeper than the walk can go: fall back to the usual spellings
            new_text = self._loose(text)
        if new_text == text:
            return None
        return new_text.encode("utf-8", "surrogateescape")

    def _safely_structured(self, text: str, value: Any) -> str:
        try:
            return self._structured(text, value)
        except RecursionError:
            return self._loose(text)

    # -- valid JSON: find the secrets in the structure, replace their string literals in the text ----------

    def _structured(self, text: str, value: Any) -> str:
        replacements: dict[str, str] = {}
        for found in _secrets(value):
            if found.secret and not is_redacted(found.secret):
                holder = replacements.get(found.holder, found.holder)
                replacements[found.holder] = self._replace_secret(holder, found.secret, found.keeps_user)
        if not replacements:
            return text

        def literal(match: re.Match[str]) -> str:
            token = match.group(0)
            try:
                decoded = json.loads(token)
            except ValueError:
                return token
            new = replacements.get(decoded)
            return token if new is None else json.dumps(new, ensure_ascii=False)

        new_text = _STRING_LITERAL.sub(literal, text)
        # Safety net for a secret that also occurs inside other strings or behind unusual escapes.
        for original, new in replacements.items():
            for removed in _removed_parts(original, new):
                if len(removed) >= _MIN_SAFETY_NET and removed in new_text:
                    new_text = self._replace_outside_markers(new_text, removed)
        return new_text

    def _replace_secret(self, holder: str, secret: str, keeps_user: bool) -> str:
        """``holder`` with ``secret`` (all of it, or a part) replaced by a marker."""
        if keeps_user:
            user, colon, password = secret.partition(":")
            if colon and user and password:
                return holder.replace(secret, f"{user}:{self._marker(password)}", 1)
        return holder.replace(secret, self._marker(secret), 1)

    def _marker(self, secret: str) -> str:
        return redaction_marker(secret.encode("utf-8"), self.salt)

    def _replace_outside_markers(self, text: str, secret: str) -> str:
        pattern = re.compile(f"({MARKER_PATTERN})|{re.escape(secret)}")
        marker = self._marker(secret)
        return pattern.sub(lambda m: m.group(0) if m.group(1) else marker, text)

    # -- not JSON: the usual spellings, by pattern --------------------------------------------------------

    def _loose(self, text: str) -> str:
        for pattern, keeps_user in _LOOSE_PATTERNS:
            text = pattern.sub(lambda m, keeps=keeps_user: self._loose_literal(m, keeps), text)
        return _CSL_ITEM.sub(self._csl_item, text)

    def _loose_literal(self, match: re.Match[str], keeps_user: bool) -> str:
        token = match.group(1)
        try:
            secret = json.loads(token)
        except ValueError:
            secret = token[1:-1]
        if not isinstance(secret, str) or not secret or is_redacted(secret):
            return match.group(0)
        new = json.dumps(self._replace_secret(secret, secret, keeps_user), ensure_ascii=False)
        start, end = match.start(1) - match.start(0), match.end(1) - match.start(0)
        whole = match.group(0)
        return whole[:start] + new + whole[end:]

    def _csl_item(self, match: re.Match[str]) -> str:
        secret = match.group(2).strip()
        if not secret or is_redacted(secret):
            return match.group(0)
        return match.group(1) + self._replace_secret(secret, secret, True)


def _secrets(value: Any, parent: str = "") -> Iterator[Secret]:
    """Every secret in a decoded frame."""
    if isinstance(value, list):
        for item in value:
            yield from _secrets(item, parent)
    elif isinstance(value, dict):
        key = value.get("key")
        if isinstance(key, str) and key.casefold() == "authorizationkey":
            secret = value.get("value")
            if isinstance(secret, str):
                yield Secret(secret, secret, True)
        variable = value.get("variable")
        if isinstance(variable, dict) and str(variable.get("name", "")).casefold() == "basicauthpassword":
            secret = value.get("attributeValue")
            if isinstance(secret, str):
                yield Secret(secret, secret, False)
            for attribute in value.get("variableAttribute") or ():
                if isinstance(attribute, dict) and isinstance(attribute.get("value"), str):
                    yield Secret(attribute["value"], attribute["value"], False)
        for name, member in value.items():
            lowered = name.casefold()
            if isinstance(member, str) and (
                lowered == "authorizationkey" or lowered.endswith("password") or (parent == "vpn" and lowered == "key")
            ):
                yield Secret(member, member, lowered == "authorizationkey")
            else:
                yield from _secrets(member, lowered)
    elif isinstance(value, str) and _TRIGGER_TEXT.search(value):
        yield from _secrets_in_string(value)


def _secrets_in_string(value: str) -> Iterator[Secret]:
    for match in _CSL_ITEM.finditer(value):
        secret = match.group(2).strip()
        if secret:
            yield Secret(value, secret, True)
    stripped = value.strip()
    if stripped[:1] in ("{", "["):
        # A JSON document inside a string (DataTransfer data): its secrets are substrings of this string.
        try:
            inner = orjson.loads(stripped)
        except orjson.JSONDecodeError:
            return
        for found in _secrets(inner):
            yield Secret(value, found.secret, found.keeps_user)


def _removed_parts(original: str, new: str) -> Iterator[str]:
    """The part of ``original`` a replacement took out (what must not remain anywhere in the frame)."""
    prefix = 0
    limit = min(len(original), len(new))
    while prefix < limit and original[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and original[-1 - suffix] == new[-1 - suffix]:
        suffix += 1
    removed = original[prefix: len(original) - suffix]
    if removed:
        yield removed
