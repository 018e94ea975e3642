"""The capture writer: every event the inspector publishes goes to a capture file. Its one job is the files.

One file per charger connection (refused handshakes of a day share one file), or one file per day; a file
that reaches the size limit continues in a numbered part. Nothing is ever overwritten. When a write fails
(disk full, directory gone), capturing stops for good with a loud warning and the relay carries on: a field
engineer would rather keep the charger talking than keep a complete file.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Sequence
from pathlib import Path

from mitmproxy import ctx, exceptions
from mitmproxy.utils import human
from ocppscope.proxy.capture import CaptureWriteError, CaptureWriter
from ocppscope.proxy.capture.private import private_directory
from ocppscope.proxy.core.analyzer import Inspection
from ocppscope.proxy.core.connection import identity_from_path
from ocppscope.proxy.core.events import ConnectionClosed, ConnectionOpened, Event, Gap
from ocppscope.proxy.core.findings import Finding
from ocppscope.proxy.engine.hub import Hub, Listener, Summary

log = logging.getLogger("ocppscope.capture")

SPLITS = ("connection", "day")
_STAT_EVERY = 64
"""Records between size checks: a stat per record would cost more than the write."""
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class _File:
    """One capture being written, possibly continued in parts."""

    __slots__ = ("base", "part", "path", "since_stat", "writer")

    def __init__(self, base: Path, redact: bool) -> None:
        self.path = _unused(base)
        self.base = self.path
        self.part = 1
        self.writer = CaptureWriter(self.path, redact=redact)
        self.since_stat = 0

    def write(self, event: Event, max_bytes: int, redact: bool) -> None:
        self.writer.write(event)
        self.since_stat += 1
        if self.since_stat >= _STAT_EVERY:
            self.since_stat = 0
            if self.path.stat().st_size >= max_bytes:
                self.writer.close()
                self.part += 1
                # Zero-padded so a shell glob lists the parts in order (name.jsonl sorts before name.part002…).
                self.path = _unused(self.base.with_name(f"{self.base.stem}.part{self.part:03d}{self.base.suffix}"))
                self.writer = CaptureWriter(self.path, redact=redact)

    def close(self) -> None:
        self.writer.close()


def _unused(path: Path) -> Path:
    """``path``, or ``name-2.jsonl``, ``name-3.jsonl`` … if it exists: an earlier run's capture is never lost."""
    candidate, n = path, 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
    return candidate


def _parse_size(text: str) -> int:
    return max(1, human.parse_size(text) or 0)


def _stamp(when: float, fmt: str) -> str:
    return time.strftime(fmt, time.localtime(when))


class OcppCapture(Listener):
    """Capture files for every connection the hub reports.

    Configured by its arguments when an engine subscribes it to its hub, or by the ``ocpp_capture_*`` options
    when mitmproxy loads it as an addon (``mitmdump -s addons/ocppscope.py``).
    """

    name = "ocppcapture"

    def __init__(self, directory: str | os.PathLike[str] | None = None, *, split: str = "connection",
                 max_size: str = "100m", redact: bool = True) -> None:
        self.directory: Path | None = None
        self.split = split
        self.max_bytes = _parse_size(max_size)
        self.redact = redact
        self.files: list[Path] = []
        """Every file started, in order."""
        self.stopped: str | None = None
        """Why capturing stopped, once it has."""
        self._by_conn: dict[str, _File] = {}
        self._shared: dict[str, _File] = {}
        self._hub: Hub | None = None
        self._from_options = directory is None
        """Constructed without a directory (mitmdump's way): the ``ocpp_capture_*`` options configure it."""
        if directory is not None:
            self._set_directory(directory)

    def _set_directory(self, directory: str | os.PathLike[str] | None) -> None:
        self.directory = Path(directory).expanduser() if directory else None
        if self.directory is not None:
            private_directory(self.directory)  # created 0700; each capture file is 0600

    # -- as a mitmproxy addon --------------------------------------------------------------------------------

    def load(self, loader) -> None:
        loader.add_option("ocpp_capture_dir", str | None, None, "Write OCPP captures into this directory.")
        loader.add_option("ocpp_capture_split", str, "connection",
                          "One capture file per charger connection, or one per day.", choices=SPLITS)
        loader.add_option("ocpp_capture_max_size", str, "100m",
                          "Continue a capture in a new part file when it reaches this size (e.g. 500k, 100m, 1g).")
        loader.add_option("ocpp_capture_redact", bool, True,
                          "Replace passwords and authorization keys in captures with markers.")

    def configure(self, updated: set[str]) -> None:
        if not self._from_options or not updated & {"ocpp_capture_dir", "ocpp_capture_split",
                                                    "ocpp_capture_max_size", "ocpp_capture_redact"}:
            return
        options = ctx.options
        self.split = options.ocpp_capture_split
        try:
            self.max_bytes = _parse_size(options.ocpp_capture_max_size)
        except ValueError as exc:
            raise exceptions.OptionsError(f"ocpp_capture_max_size: {exc}") from None
        self.redact = options.ocpp_capture_redact
        self._set_directory(options.ocpp_capture_dir)

    def running(self) -> None:
        if self._hub is None:
            ctx.master.addons.get("ocppinspector").hub.subscribe(self)

    def done(self) -> None:
        self._close_all()

    # -- hub listener ----------------------------------------------------------------------------------------

    def on_inspection(self, event: Event, inspection: Inspection | None) -> None:
        if self.directory is None or self.stopped is not None:
            return
        try:
            target = self._target(event)
            if target is not None:
                target.write(event, self.max_bytes, self.redact)
        except (CaptureWriteError, OSError) as exc:
            self._stop(str(exc))
            return
        if type(event) is ConnectionClosed:
            done = self._by_conn.pop(event.conn_id, None)
            if done is not None:
                self._close(done)

    def on_subscribe(self, hub: Hub) -> None:
        self._hub = hub

    def on_findings(self, findings: Sequence[Finding]) -> None:
        """Findings are derived again on replay; the capture keeps only what crossed the wire."""

    def on_close(self, summary: Summary) -> None:
        self._close_all()

    # -- files -----------------------------------------------------------------------------------------------

    def _target(self, event: Event) -> _File | None:
        assert self.directory is not None
        if self.split == "day":
            return self._shared_file(f"ocppscope-{_stamp(event.time, '%Y-%m-%d')}", event)
        if type(event) is ConnectionOpened:
            if event.status != 101:
                return self._shared_file(f"handshakes-{_stamp(event.time, '%Y-%m-%d')}", event)
            identity = _UNSAFE.sub("_", identity_from_path(event.path) or "no-identity")[:48]
            name = f"{identity}_{_stamp(event.time, '%Y%m%d-%H%M%S')}_{event.conn_id}.jsonl"
            opened = self._open(self.directory / name)
            self._by_conn[event.conn_id] = opened
            return opened
        target = self._by_conn.get(event.conn_id)
        if target is None and type(event) is Gap:
            # A connection whose opening was itself lost: the hole is still recorded, beside the others.
            return self._shared_file(f"gaps-{_stamp(event.time, '%Y-%m-%d')}", event)
        return target

    def _shared_file(self, stem: str, event: Event) -> _File:
        current = self._shared.get(stem)
        if current is None:
            # A new day: yesterday's shared file of the same kind is complete.
            kind = stem.rsplit("-", 3)[0]
            for old in [key for key in self._shared if key.rsplit("-", 3)[0] == kind]:
                self._close(self._shared.pop(old))
            current = self._shared[stem] = self._open(self.directory / f"{stem}.jsonl")  # type: ignore[operator]
        return current

    def _open(self, path: Path) -> _File:
        opened = _File(path, self.redact)
        self.files.append(opened.path)
        log.info("ocppscope: capturing to %s", opened.path)
        return opened

    def _close(self, file: _File) -> None:
        try:
            file.close()
        except (CaptureWriteError, OSError) as exc:
            self._stop(str(exc))

    def _close_all(self) -> None:
        for file in [*self._by_conn.values(), *self._shared.values()]:
            self._close(file)
        self._by_conn.clear()
        self._shared.clear()

    def _stop(self, reason: str) -> None:
        if self.stopped is not None:
            return
        self.stopped = reason
        log.error("ocppscope: CAPTURE STOPPED, the proxy keeps relaying: %s", reason)
        if self._hub is not None:
            self._hub.warn(f"capture stopped: {reason}")
        self._close_all()  # what is still open was written up to the failure; a failing close changes nothing

