"""The console reporter: one line per frame and per finding, and a summary at the end. Its one job is printing.

Modes (``ocpp_console``): ``lines`` (frames, connections and findings), ``findings`` (findings and the
summary only, for --quiet), ``json`` (one JSON object per line, for scripts), ``off``. Frame text shown on
the console goes through the capture's redaction first, even with --no-redact, so a shared screen does not
show the charger's key; findings arrive with their secrets already hidden (``Context.emit``).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO

import orjson
from mitmproxy import ctx
from ocppscope.proxy.capture.redact import Redactor, installation_salt
from ocppscope.proxy.core.analyzer import Inspection
from ocppscope.proxy.core.checks.lifecycle import describe_close
from ocppscope.proxy.core.events import ConnectionClosed, ConnectionOpened, Event, Gap, Message, Ping
from ocppscope.proxy.core.findings import Finding, Severity
from ocppscope.proxy.engine.hub import SUMMARY_HEADING, Hub, Listener, Summary

MODES = ("lines", "findings", "json", "summary", "off")
_SILENT = frozenset({"summary", "off"})
"""Modes that print nothing while the proxy runs (``summary`` still prints the summary at the end)."""
PREVIEW = 160
_COLOURS = {Severity.ERROR: "\x1b[31m", Severity.WARNING: "\x1b[33m", Severity.INFO: "\x1b[36m"}
_DIM, _RESET = "\x1b[2m", "\x1b[0m"
_KIND = {2: "CALL", 3: "RESULT", 4: "ERROR", 5: "RESULTERROR", 6: "SEND"}


def _clock(when: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(when)) + f".{int(when % 1 * 1000):03d}"


class OcppConsole(Listener):
    name = "ocppconsole"

    def __init__(self, mode: str | None = None, out: TextIO | None = None) -> None:
        """``mode`` fixes the output (an engine's choice); None leaves it to the ``ocpp_console`` option."""
        self._out = out
        self._fixed_mode = mode
        self.mode = mode or "lines"
        self._redactor: Redactor | None = None
        self._colour = self.mode in ("lines", "findings") and self.out.isatty()
        self._subscribed = False

    @property
    def out(self) -> TextIO:
        return self._out or sys.stdout

    # -- as a mitmproxy addon --------------------------------------------------------------------------------

    def load(self, loader) -> None:
        loader.add_option("ocpp_console", str, "lines",
                          "OCPP console output: lines, findings (quiet), json, summary (the end-of-run summary "
                          "only), off.", choices=MODES)

    def configure(self, updated: set[str]) -> None:
        if "ocpp_console" in updated and self._fixed_mode is None:
            self.mode = ctx.options.ocpp_console
            self._colour = self.mode in ("lines", "findings") and self.out.isatty()

    def running(self) -> None:
        if not self._subscribed:
            ctx.master.addons.get("ocppinspector").hub.subscribe(self)

    # -- hub listener ----------------------------------------------------------------------------------------

    def on_subscribe(self, hub: Hub) -> None:
        self._subscribed = True

    def on_inspection(self, event: Event, inspection: Inspection | None) -> None:
        mode = self.mode
        if mode in _SILENT:
            return
        findings = inspection.findings if inspection is not None else ()
        if mode == "json":
            self._json(self._event_record(event, inspection))
            for finding in findings:
                self._json({"type": "finding", **finding.to_json()})
            return
        charger = inspection.conn.charger if inspection is not None else None
        if mode == "lines":
            self._line(event.time, charger, self._describe(event, inspection))
        for finding in findings:
            self._finding(finding)

    def on_findings(self, findings: Sequence[Finding]) -> None:
        if self.mode == "json":
            for finding in findings:
                self._json({"type": "finding", **finding.to_json()})
        elif self.mode not in _SILENT:
            for finding in findings:
                self._finding(finding)

    def on_close(self, summary: Summary) -> None:
        if self.mode == "json":
            self._json({"type": "summary", **summary_record(summary)})
        elif self.mode != "off":
            self.out.write(summary_text(summary))
        self.out.flush()

    # -- formatting ------------------------------------------------------------------------------------------

    def _describe(self, event: Event, inspection: Inspection | None) -> str:
        kind = type(event)
        if kind is Message:
            return self._frame(event, inspection)  # type: ignore[arg-type]
        if kind is ConnectionOpened:
            assert isinstance(event, ConnectionOpened)
            if event.status == 101:
                return (f"⇄ connected {event.subprotocol or '(no subprotocol)'} from {event.client} "
                        f"→ {event.upstream}")
            why = f": {event.error}" if event.error else ""
            return f"✕ handshake answered {event.status or 'nothing'}{why} ({event.path} from {event.client})"
        if kind is ConnectionClosed:
            assert isinstance(event, ConnectionClosed)
            if inspection is not None:
                return "✕ " + describe_close(inspection.conn, event)[0]
            return f"✕ closed {event.code}"
        if kind is Gap:
            assert isinstance(event, Gap)
            return f"⚠ {event.frames} event(s) relayed but not recorded ({event.reason or 'analysis behind'})"
        assert isinstance(event, Ping)
        return f"{event.direction.arrow} {'pong' if event.pong else 'ping'} ({len(event.data)} B)"

    def _frame(self, event: Message, inspection: Inspection | None) -> str:
        arrow = event.direction.arrow
        if not event.is_text:
            return f"{arrow} BINARY {len(event.content)} B {event.content[:24].hex()}"
        frame = inspection.frame if inspection is not None else None
        parts = [arrow]
        if frame is None or frame.message_type is None:
            parts.append("INVALID")
        else:
            parts.append(_KIND.get(int(frame.message_type), "?"))
            call = inspection.call if inspection is not None else None
            action = frame.action or (call.action if call is not None else None)
            if action:
                parts.append(action)
            if frame.message_id is not None:
                parts.append(f"#{frame.message_id}")
            if inspection is not None and inspection.latency is not None:
                parts.append(f"{inspection.latency * 1000:.0f} ms")
        parts.append(self._preview(event))
        return " ".join(parts)

    def _preview(self, event: Message) -> str:
        if self._redactor is None:
            self._redactor = Redactor(installation_salt())
        text = self._redactor.message(event).content.decode("utf-8", "replace")
        text = text.replace("\n", "⏎")
        return text if len(text) <= PREVIEW else text[: PREVIEW - 1] + "…"

    def _line(self, when: float, charger: str | None, text: str) -> None:
        stamp = f"{_DIM}{_clock(when)}{_RESET}" if self._colour else _clock(when)
        self.out.write(f"{stamp} {charger or '?'} {text}\n")

    def _finding(self, finding: Finding) -> None:
        label = f"{finding.severity!s:<7}"
        if self._colour:
            label = f"{_COLOURS[finding.severity]}{label}{_RESET}"
        where = f" {finding.charger}" if self.mode == "findings" and finding.charger else ""
        self.out.write(f"  {label}{where} {finding.rule}: {finding.message}\n")

    def _event_record(self, event: Event, inspection: Inspection | None) -> dict[str, Any]:
        record: dict[str, Any] = {"seq": event.seq, "time": event.time, "conn": event.conn_id,
                                  "charger": inspection.conn.charger if inspection is not None else None}
        if isinstance(event, Message):
            frame = inspection.frame if inspection is not None else None
            record.update(type="frame", direction=event.direction.value, size=len(event.content),
                          text=event.is_text)
            if frame is not None and frame.message_type is not None:
                call = inspection.call if inspection is not None else None
                record.update(message_type=int(frame.message_type), message_id=frame.message_id,
                              action=frame.action or (call.action if call is not None else None))
            if inspection is not None and inspection.latency is not None:
                record["latency"] = round(inspection.latency, 6)
            record["frame"] = self._preview(event) if event.is_text else event.content.hex()
        elif isinstance(event, ConnectionOpened):
            record.update(type="open", status=event.status, path=event.path, client=event.client,
                          subprotocol=event.subprotocol, upstream=event.upstream, error=event.error)
        elif isinstance(event, ConnectionClosed):
            record.update(type="close", code=event.code, reason=event.reason, closed_by=event.closed_by,
                          relayed_code=event.relayed_code)
        else:
            record.update(type="pong" if event.pong else "ping", direction=event.direction.value,
                          size=len(event.data))
        return record

    def _json(self, record: dict[str, Any]) -> None:
        self.out.write(orjson.dumps(record, default=str).decode() + "\n")


def summary_record(summary: Summary) -> dict[str, Any]:
    return {
        "handshakes": summary.handshakes,
        "connections": summary.connections,
        "refused": {str(status): count for status, count in summary.refused.items()},
        "chargers": sorted(summary.chargers),
        "frames": summary.frames,
        "frame_bytes": summary.frame_bytes,
        "pings": summary.pings,
        "findings": {str(severity): summary.findings[severity] for severity in Severity},
        "rules": dict(summary.rules.most_common()),
        "analysis_errors": summary.analysis_errors,
        "listener_errors": dict(summary.listener_errors),
        "warnings": summary.warnings,
    }


def summary_text(summary: Summary) -> str:
    refused = ", ".join(f"{status}×{count}" for status, count in sorted(summary.refused.items()))
    lines = [
        "",
        SUMMARY_HEADING,
        f"handshakes {summary.handshakes} ({summary.connections} opened"
        + (f", refused: {refused}" if refused else "") + f"), chargers {len(summary.chargers)}",
        f"frames {summary.frames:,} ({summary.frame_bytes / 1024:,.1f} KiB), pings/pongs {summary.pings}",
        "findings: " + ", ".join(f"{summary.findings[s]} {s}" for s in sorted(Severity, reverse=True)),
    ]
    lines += [f"  {rule} ×{count}" for rule, count in summary.rules.most_common(15)]
    if summary.analysis_errors or summary.listener_errors:
        failed = ", ".join(f"{name} {count}×" for name, count in summary.listener_errors.items())
        lines.append(f"internal errors: analysis {summary.analysis_errors}" + (f", {failed}" if failed else "")
                     + " (every frame was still relayed)")
    lines += [f"WARNING: {text}" for text in summary.warnings]
    return "\n".join(lines) + "\n"
