"""The hub between the relay and everything that watches it.

The inspector addon turns mitmproxy's hooks into core events and hands each one to :meth:`Hub.publish`: the
hub numbers it, runs the analyzer and passes the (event, inspection) pair to every listener: the capture
writer, the console reporter, an embedding app, the TUI's event stream. Listeners never see mitmproxy.

A listener that raises is logged once, counted, and called again next time: a broken console must not stop
the capture, and nothing here can stop a frame, which mitmproxy has already decided to relay.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ocppscope.proxy.core.analyzer import Analyzer, AnalyzerOptions, Checker, Inspection
from ocppscope.proxy.core.events import ConnectionClosed, ConnectionOpened, Event, Message, Ping
from ocppscope.proxy.core.findings import Finding, Severity

log = logging.getLogger("ocppscope.engine")


class Publisher(Protocol):
    """Where the inspector sends events: a :class:`Hub` here, or a stream to an analysis process."""

    def next_seq(self) -> int: ...

    def publish(self, event: Event) -> Inspection | None: ...

    def warn(self, text: str) -> None: ...

    def tick(self, now: float) -> list[Finding]: ...

    def finish(self) -> list[Finding]: ...


class Listener:
    """Receives what the hub saw. Override what you need; every method runs on the proxy's event loop."""

    name = "listener"

    def on_subscribe(self, hub: Hub) -> None:
        """Subscribed to ``hub`` (e.g. to report conditions with :meth:`Hub.warn`)."""

    def on_inspection(self, event: Event, inspection: Inspection | None) -> None:
        """One event, in relay order, with what the analyzer made of it (None if the analysis failed)."""

    def on_findings(self, findings: Sequence[Finding]) -> None:
        """Findings that no event caused: call timeouts noticed by the clock, leftovers at the end."""

    def on_close(self, summary: Summary) -> None:
        """The proxy stopped: flush, print totals. Called once."""


class CallbackListener(Listener):
    """Adapts plain callables, for embedding code that does not want a class."""

    def __init__(
        self,
        inspected: Callable[[Event, Inspection | None], None] | None = None,
        findings: Callable[[Sequence[Finding]], None] | None = None,
        name: str = "callback",
    ) -> None:
        self.name = name
        self._inspected = inspected
        self._findings = findings

    def on_inspection(self, event: Event, inspection: Inspection | None) -> None:
        if self._inspected is not None:
            self._inspected(event, inspection)

    def on_findings(self, findings: Sequence[Finding]) -> None:
        if self._findings is not None:
            self._findings(findings)


SUMMARY_HEADING = "── ocppscope summary ──"
"""The first line of the closing summary (the TUI wrapper finds the relay's summary in its log by it)."""


@dataclass
class Summary:
    """Totals for the end-of-run report."""

    handshakes: int = 0
    connections: int = 0
    refused: Counter[int] = field(default_factory=Counter)
    """Handshakes that did not open, by the HTTP status the charger got."""
    closed: int = 0
    frames: int = 0
    frame_bytes: int = 0
    pings: int = 0
    findings: Counter[Severity] = field(default_factory=Counter)
    rules: Counter[str] = field(default_factory=Counter)
    chargers: set[str] = field(default_factory=set)
    analysis_errors: int = 0
    listener_errors: Counter[str] = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)
    """Conditions every report must repeat (an unverified upstream, a capture that stopped)."""

    def count(self, findings: Iterable[Finding]) -> None:
        for finding in findings:
            self.findings[finding.severity] += 1
            self.rules[finding.rule] += 1


class Hub:
    """Numbers events, runs the analyzer, fans out to listeners."""

    def __init__(self, checkers: Iterable[Checker], options: AnalyzerOptions | None = None) -> None:
        self.analyzer = Analyzer(checkers, options)
        self.summary = Summary()
        self._listeners: list[Listener] = []
        self._seq = 0
        self._closed = False

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Add ``listener``; returns a function that removes it."""
        self._listeners.append(listener)
        listener.on_subscribe(self)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def publish(self, event: Event) -> Inspection | None:
        """Analyse ``event`` and pass it on. Never raises."""
        try:
            inspection: Inspection | None = self.analyzer.feed(event)
        except Exception:  # the analyzer guards its rules; this guards the analyzer
            self.summary.analysis_errors += 1
            log.exception("ocppscope: analysis failed on event %s", event.seq)
            inspection = None
        self._account(event, inspection)
        for listener in self._listeners:
            try:
                listener.on_inspection(event, inspection)
            except Exception:
                self._listener_failed(listener)
        return inspection

    def tick(self, now: float) -> list[Finding]:
        return self._findings(lambda: self.analyzer.tick(now))

    def finish(self) -> list[Finding]:
        """End of the run: final findings, then every listener's ``on_close``. Idempotent."""
        if self._closed:
            return []
        self._closed = True
        found = self._findings(self.analyzer.finish)
        self.summary.analysis_errors += self.analyzer.internal_errors
        for listener in self._listeners:
            try:
                listener.on_close(self.summary)
            except Exception:
                self._listener_failed(listener)
        return found

    def warn(self, text: str) -> None:
        """A condition every report repeats; logged now, listed again in the summary."""
        if text not in self.summary.warnings:
            self.summary.warnings.append(text)
            log.warning("ocppscope: %s", text)

    def _findings(self, produce: Callable[[], list[Finding]]) -> list[Finding]:
        try:
            found = produce()
        except Exception:
            self.summary.analysis_errors += 1
            log.exception("ocppscope: analysis failed")
            return []
        if found:
            self.summary.count(found)
            for listener in self._listeners:
                try:
                    listener.on_findings(found)
                except Exception:
                    self._listener_failed(listener)
        return found

    def _account(self, event: Event, inspection: Inspection | None) -> None:
        summary = self.summary
        kind = type(event)
        if kind is Message:
            summary.frames += 1
            summary.frame_bytes += len(event.content)  # type: ignore[union-attr]
        elif kind is Ping:
            summary.pings += 1
        elif kind is ConnectionOpened:
            summary.handshakes += 1
            if event.status == 101:  # type: ignore[union-attr]
                summary.connections += 1
            else:
                summary.refused[event.status] += 1  # type: ignore[union-attr]
            if inspection is not None and inspection.conn.charger:
                summary.chargers.add(inspection.conn.charger)
        elif kind is ConnectionClosed:
            summary.closed += 1
        if inspection is not None and inspection.findings:
            summary.count(inspection.findings)

    def _listener_failed(self, listener: Listener) -> None:
        name = getattr(listener, "name", type(listener).__name__)
        self.summary.listener_errors[name] += 1
        if self.summary.listener_errors[name] == 1:
            log.exception("ocppscope: %s failed (counted; further failures are not logged)", name)
