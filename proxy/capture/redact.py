"""Redaction at write time: credentials leave the capture, the facts rules need about them stay.

What is redacted (docs/capture-format.md, "Redaction"):

- the ``Authorization`` / ``Proxy-Authorization`` credentials of the upgrade request (the user of a Basic
  header is kept; its facts go into ``ConnectionOpened.auth``), and credentials sent in any other header;
- in frames, every value whose name says it is a secret (:func:`proxy.core.secrets.looks_secret`, plus the
  names profiles declare): the value of a ``{"key": …, "value": …}`` pair (1.6 ChangeConfiguration,
  GetConfiguration answers), of a 2.x variable (SetVariables, GetVariables, NotifyReport), of a member
  (``apnPassword``, VPN ``password`` and ``key``, ``simPin``), of a ``name=value`` item inside a text (the
  Ecotap ``com_Options`` style), and all of these inside a JSON document carried in a string (DataTransfer).

A secret is replaced by a marker (:func:`proxy.core.basic_auth.redaction_marker`) inside the frame text, so
every other byte of the frame stays as it was. An authorization key written as ``user:password`` (Ecotap)
keeps its user part. Values that only stand in for a secret (empty, ``*****``) stay as they are.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import secrets
import time
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import msgspec
import orjson
from ocppscope.proxy.config import config_dir
from ocppscope.proxy.core.basic_auth import (
    CREDENTIAL_HEADERS,
    MARKER_PATTERN,
    format_marker,
    is_redacted,
    looks_like_credentials,
    parse_basic_auth,
    redaction_marker,
)
from ocppscope.proxy.core.connection import identity_from_path
from ocppscope.proxy.core.events import ConnectionOpened, Event, Message, header
from ocppscope.proxy.core.secrets import Secret, find_secrets, is_masked, keeps_user, looks_secret, may_name_secret
from ocppscope.proxy.errors import OcppscopeError

log = logging.getLogger("ocppscope.capture")

SALT_FILE = "redaction-salt"
_SALT_BYTES = 32

_MIN_SAFETY_NET = 4
_STRING_LITERAL = re.compile(r'"(?:[^"\\]|\\.)*"')
_NAMED_NUMBER = r'"(?P<name>[A-Za-z_][\w.-]*)"\s*:\s*(?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)'
# Fallbacks for frames that are not valid JSON: the usual spellings, written out, each with a name and the
# string literal it says is secret.
_LITERAL = r'(?P<literal>"(?:[^"\\]|\\.)*")'
_LOOSE_PATTERNS = (
    re.compile(r'"key"\s*:\s*"(?P<name>[^"\\]*)"\s*,\s*"value"\s*:\s*' + _LITERAL),
    re.compile(r'"value"\s*:\s*' + _LITERAL + r'\s*,\s*"key"\s*:\s*"(?P<name>[^"\\]*)"'),
    re.compile(r'"(?P<name>[A-Za-z_][\w.-]*)"\s*:\s*' + _LITERAL),
)
_LOOSE_ITEM = re.compile(r"(?<![\w.-])([A-Za-z_][\w.-]*)=([^,;&\r\n\"\\]*)")
"""A ``name=value`` item in frame text that is not JSON: it ends at a quote as well."""


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


_PROFILES_DECLARED = False


def declare_profile_secrets() -> None:
    """Declare the secret names of the bundled and the user's profiles, once per process.

    A capture written without ``--profile`` still hides what the profiles know is secret; profiles loaded
    later (``--profiles DIR``) declare theirs as they are read.
    """
    global _PROFILES_DECLARED
    if _PROFILES_DECLARED:
        return
    _PROFILES_DECLARED = True
    from ocppscope.proxy.profiles.loader import ProfileLibrary
    from ocppscope.proxy.profiles.tomlfile import ProfileError

    try:
        ProfileLibrary().all()
    except (ProfileError, OcppscopeError, OSError):
        # A broken user profile is reported by the commands that use profiles; the bundled ones still count.
        try:
            ProfileLibrary(include_user=False).all()
        except (ProfileError, OcppscopeError, OSError):  # pragma: no cover - bundled profiles are tested
            log.exception("ocppscope: the bundled profiles cannot be read for their secret names")


def salt_id(salt: bytes) -> str:
    """A short name for a salt, so two captures can tell whether their HMACs are comparable."""
    return hashlib.sha256(b"ocppscope salt id\0" + salt).hexdigest()[:8]


class Redactor:
    """Replaces the secrets of events with markers; returns events unchanged when there is nothing to hide."""

    def __init__(self, salt: bytes) -> None:
        self.salt = salt
        declare_profile_secrets()

    def event(self, event: Event) -> Event:
        """``event`` with its secrets replaced (handshake headers, frames); other events as they are."""
        kind = type(event)
        if kind is Message:
            return self.message(event)  # type: ignore[arg-type]
        if kind is ConnectionOpened:
            return self.opened(event)  # type: ignore[arg-type]
        return event

    def events(self, events: Iterable[Event]) -> Iterator[Event]:
        """Every event of ``events``, redacted (exports, reports of inputs recorded with ``--no-redact``)."""
        for event in events:
            yield self.event(event)

    def opened(self, event: ConnectionOpened) -> ConnectionOpened:
        headers = []
        auth = event.auth
        changed = False
        identity = identity_from_path(event.path)
        for name, value in event.request_headers:
            new = self.request_header(name, value, identity)
            if new != value:
                changed = True
                if name.lower() == "authorization":
                    auth = parse_basic_auth(value, self.salt)  # the header says it all, with this salt's HMAC
            headers.append((name, new))
        path = self.path(event.path)
        if not changed and path == event.path:
            return event
        return replace(event, request_headers=tuple(headers), auth=auth, path=path)

    def path(self, path: str) -> str:
        """A request path with the values of secret query items replaced (``/ocpp/CP01?token=…``)."""
        _, question, query = path.partition("?")
        if not question or not may_name_secret(query):
            return path
        return path[: len(path) - len(query)] + _LOOSE_ITEM.sub(self._loose_item, query)

    def request_header(self, name: str, value: str, identity: str | None) -> str:
        """One upgrade request header as a capture keeps it: credentials replaced, wherever they were sent."""
        if is_redacted(value):
            return value
        if name.lower() in CREDENTIAL_HEADERS:
            return self.header_value(value)
        if looks_like_credentials(value, identity):
            # Credentials in the wrong header (auth.credentials-in-other-header) are still credentials.
            return redaction_marker(value.encode("utf-8", "surrogateescape"), self.salt, kind="credentials")
        return value

    def flow(self, flow: Any) -> Any:
        """A copy of a mitmproxy flow (``proxy --save-flows``) redacted as a capture is: the credentials of
        its upgrade request and the secrets of its WebSocket text messages. ``flow`` itself is untouched, so
        the relay goes on with the real one. Duck-typed: no mitmproxy import here."""
        copy = flow.copy()
        request = getattr(copy, "request", None)
        if request is not None:
            identity = identity_from_path(request.path)
            for name in list(request.headers.keys()):
                values = request.headers.get_all(name)
                new = [self.request_header(name, value, identity) for value in values]
                if new != values:
                    request.headers.set_all(name, new)
        websocket = getattr(copy, "websocket", None)
        for message in websocket.messages if websocket is not None else ():
            if message.is_text:
                content = self.frame(message.content)
                if content is not None:
                    message.content = content
        return copy

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
        if not event.is_text or not may_name_secret(event.content):
            return event
        redacted = self.frame(event.content)
        if redacted is None:
            return event
        return msgspec.structs.replace(event, content=redacted, redacted=True)

    def frame(self, content: bytes) -> bytes | None:
        """The frame with its secrets replaced, or None when it holds none.

        Bytes that are not UTF-8 pass through unchanged around the markers.
        """
        if not may_name_secret(content):
            return None
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

    def text(self, text: str) -> str:
        """``text`` (a frame as text, a line of a report) with its secrets replaced."""
        new = self.frame(text.encode("utf-8", "surrogatepass"))
        return text if new is None else new.decode("utf-8", "surrogatepass")

    def _safely_structured(self, text: str, value: Any) -> str:
        try:
            return self._structured(text, value)
        except RecursionError:
            return self._loose(text)

    # -- valid JSON: find the secrets in the structure, replace their literals in the text ------------------

    def _structured(self, text: str, value: Any) -> str:
        held: dict[str, list[Secret]] = {}
        numbers: set[str] = set()
        for found in find_secrets(value):
            if found.number:
                numbers.add(found.name)
            elif found.secret and not is_redacted(found.secret):
                held.setdefault(found.holder, []).append(found)
        replacements = {holder: self._replace_in(holder, secrets) for holder, secrets in held.items()}
        if numbers:
            text = self._numbers(text, numbers)
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

    def _numbers(self, text: str, names: set[str]) -> str:
        """Secrets written as JSON numbers (a 2.x ``simPin``) become markers, as strings."""

        def number(match: re.Match[str]) -> str:
            if match["name"] not in names:
                return match.group(0)
            marker = json.dumps(self._marker(match["number"]))
            return match.group(0)[: match.start("number") - match.start(0)] + marker

        return re.sub(_NAMED_NUMBER, number, text)

    def _replace_in(self, holder: str, secrets: list[Secret]) -> str:
        """``holder`` with each of ``secrets`` replaced by a marker, in one pass: a string of many ``name=value``
        items is copied once, not once per item.

        A secret whose place is known (an item, the whole string) is replaced there. One of a JSON document
        inside the string is replaced at its next occurrence after the previous such secret (they come in
        document order), else at its first anywhere, skipping occurrences inside the secrets placed already and
        those an equal secret took.
        """
        spans = sorted((found.at, found.at + len(found.secret), found) for found in secrets
                       if found.at is not None and holder.startswith(found.secret, found.at))
        unplaced = [found for found in secrets if found.at is None or not holder.startswith(found.secret, found.at)]
        if unplaced:
            inside = _Covered(spans)
            taken: dict[str, set[int]] = {}
            cursor = 0
            for found in unplaced:
                secret = found.secret
                used = taken.setdefault(secret, set())
                at = _occurrence(holder, secret, cursor, inside, used)
                if at < 0:
                    at = _occurrence(holder, secret, 0, inside, used)
                if at >= 0:
                    used.add(at)
                    cursor = at + len(secret)
                    spans.append((at, cursor, found))
        spans.sort(key=_longest_first)
        parts: list[str] = []
        position = 0
        for start, end, found in spans:
            if start < position:
                continue  # inside a secret replaced already (the whole string, or the same text reported twice)
            parts += (holder[position:start], self._replace_secret(found.secret, found.secret, found.keeps_user))
            position = end
        parts.append(holder[position:])
        return "".join(parts)

    def _replace_secret(self, holder: str, secret: str, keeps_user: bool) -> str:
        """``holder`` with ``secret`` (all of it, or a part) replaced by a marker."""
        if keeps_user:
            user, colon, password = secret.partition(":")
            if colon and user and password:
                return holder.replace(secret, f"{user}:{self._marker(password)}", 1)
        return holder.replace(secret, self._marker(secret), 1)

    def _marker(self, secret: str) -> str:
        return redaction_marker(secret.encode("utf-8", "surrogatepass"), self.salt)

    def _replace_outside_markers(self, text: str, secret: str) -> str:
        pattern = re.compile(f"({MARKER_PATTERN})|{re.escape(secret)}")
        marker = self._marker(secret)
        return pattern.sub(lambda m: m.group(0) if m.group(1) else marker, text)

    # -- not JSON: the usual spellings, by pattern --------------------------------------------------------

    def _loose(self, text: str) -> str:
        for pattern in _LOOSE_PATTERNS:
            text = pattern.sub(self._loose_literal, text)
        return _LOOSE_ITEM.sub(self._loose_item, text)

    def _loose_literal(self, match: re.Match[str]) -> str:
        name = match["name"]
        if not looks_secret(name):
            return match.group(0)
        token = match["literal"]
        try:
            secret = json.loads(token)
        except ValueError:
            secret = token[1:-1]
        if not isinstance(secret, str) or is_masked(secret):
            return match.group(0)
        new = json.dumps(self._replace_secret(secret, secret, keeps_user(name)), ensure_ascii=False)
        start, end = match.start("literal") - match.start(0), match.end("literal") - match.start(0)
        whole = match.group(0)
        return whole[:start] + new + whole[end:]

    def _loose_item(self, match: re.Match[str]) -> str:
        secret = match.group(2).strip()
        if not secret or is_masked(secret) or not looks_secret(match.group(1)):
            return match.group(0)
        return match.group(0).replace(secret, self._replace_secret(secret, secret, keeps_user(match.group(1))), 1)


def _longest_first(span: tuple[int, int, Secret]) -> tuple[int, int]:
    return span[0], -span[1]


class _Covered:
    """Whether a stretch of text overlaps one of a fixed set of spans."""

    def __init__(self, spans: list[tuple[int, int, Secret]]) -> None:
        self.starts = [start for start, _, _ in spans]  # spans are sorted by start
        self.reach: list[int] = []  # the furthest end of the spans up to each index
        furthest = 0
        for _, end, _ in spans:
            furthest = max(furthest, end)
            self.reach.append(furthest)

    def __call__(self, start: int, end: int) -> bool:
        index = bisect_right(self.starts, end - 1)
        return index > 0 and self.reach[index - 1] > start


def _occurrence(holder: str, secret: str, start: int, covered: _Covered, used: set[int]) -> int:
    """The first occurrence of ``secret`` in ``holder`` from ``start`` outside ``covered`` and not in ``used``;
    -1 if there is none."""
    at = holder.find(secret, start)
    while at >= 0 and (at in used or covered(at, at + len(secret))):
        at = holder.find(secret, at + 1)
    return at


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
