"""Writing captures: one record per event, appended and flushed at once, secrets redacted on the way."""

from __future__ import annotations

import logging
import os
import time
from types import TracebackType
from typing import Any, BinaryIO

import orjson
from ocppscope.proxy import __version__
from ocppscope.proxy.capture.format import encode_event, header_record
from ocppscope.proxy.capture.private import open_private
from ocppscope.proxy.capture.redact import Redactor, installation_salt, salt_id
from ocppscope.proxy.capture.times import iso_utc
from ocppscope.proxy.core.events import ConnectionOpened, Event, Message
from ocppscope.proxy.errors import OcppscopeError

log = logging.getLogger("ocppscope.capture")


class CaptureWriteError(OcppscopeError):
    """The capture file cannot be written (disk full, removed, permissions); the writer is then unusable.

    The live proxy catches this, says loudly that capturing stopped, and keeps relaying.
    """


class CaptureWriter:
    """Writes events to a capture file (docs/capture-format.md).

    ``target`` is a path (created or truncated, mode 0600) or a binary file open for writing. Each :meth:`write`
    appends one record and flushes it to the operating system, so a crash of the process loses nothing
    already written; a power cut can still lose what the OS had not stored yet.

    ``redact`` (default True) replaces credentials with markers using ``salt`` (default: this installation's
    salt from :func:`~proxy.capture.redact.installation_salt`). ``redact=False`` writes secrets in clear text
    and logs a warning; the header records which it was.
    """

    def __init__(
        self,
        target: str | os.PathLike[str] | BinaryIO,
        *,
        redact: bool = True,
        salt: bytes | None = None,
    ) -> None:
        self.name = os.fspath(target) if isinstance(target, str | os.PathLike) else getattr(target, "name", "<capture>")
        self.redact = redact
        self.records = 0
        self.redacted = 0
        """Events whose secrets were replaced by markers."""
        self._failed: CaptureWriteError | None = None
        self._owned = isinstance(target, str | os.PathLike)
        if salt is None:
            salt = installation_salt()
        self._redactor = Redactor(salt)
        if not redact:
            log.warning("capture %s is NOT redacted: it will contain passwords and authorization keys in "
                        "clear text; do not share it", self.name)
        try:
            # Readable by the owner only, like the CA keys: a capture holds identities and traffic.
            self._file: BinaryIO = open_private(target, buffering=0) if self._owned else target  # type: ignore[arg-type]
        except OSError as exc:
            raise CaptureWriteError(f"cannot create capture {self.name}: {exc.strerror or exc}") from exc
        header = header_record(tool=f"ocppscope {__version__}", created=iso_utc(time.time()), redacted=redact,
                               salt_id=salt_id(salt))
        try:
            self._append(orjson.dumps(header) + b"\n")
        except CaptureWriteError:
            self.close()
            raise

    def write(self, event: Event) -> None:
        """Append ``event``; raises :class:`CaptureWriteError` if it cannot be stored."""
        if self._failed is not None:
            raise self._failed
        if self.redact or type(event) is ConnectionOpened:
            original = event
            event = self._redact(event)
            if event is not original and self.redact:
                self.redacted += 1
        record = encode_event(event)
        try:
            line = orjson.dumps(record)
        except TypeError:
            # Text with bytes that were not UTF-8 (surrogate escapes, e.g. in a header value) cannot be JSON:
            # those characters become U+FFFD so the record, and the capture, stay readable.
            line = orjson.dumps(_valid_text(record))
        self._append(line + b"\n")
        self.records += 1

    def close(self) -> None:
        if self._owned and not self._file.closed:
            try:
                self._file.close()
            except OSError as exc:
                raise CaptureWriteError(f"cannot finish capture {self.name}: {exc.strerror or exc}") from exc

    def __enter__(self) -> CaptureWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _redact(self, event: Event) -> Event:
        if type(event) is Message:
            return self._redactor.message(event) if self.redact else event
        if type(event) is ConnectionOpened:
            if self.redact:
                return self._redactor.opened(event)
            return self._redactor.summarised(event)
        return event

    def _append(self, data: bytes) -> None:
        try:
            view = memoryview(data)
            while view:
                written = self._file.write(view)
                # A raw file may write only part of the record; a buffered one returns None or everything.
                view = view[written if written is not None else len(view):]
            if not self._owned:
                self._file.flush()
        except OSError as exc:
            self._failed = CaptureWriteError(
                f"cannot write to capture {self.name}: {exc.strerror or exc}; capturing stopped after "
                f"{self.records} event(s)"
            )
            raise self._failed from exc


def _valid_text(value: Any) -> Any:
    """``value`` with every string made valid UTF-8."""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    if isinstance(value, list):
        return [_valid_text(item) for item in value]
    if isinstance(value, dict):
        return {_valid_text(key): _valid_text(item) for key, item in value.items()}
    return value
