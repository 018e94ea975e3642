"""Rich renderables for the detail and handshake screens: what a row is, its pair, its findings, its raw text."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

import orjson
from ocppscope.proxy.core import render as safe
from ocppscope.proxy.core.basic_auth import parse_basic_auth
from ocppscope.proxy.core.events import AuthSummary, ConnectionOpened, TlsInfo, header
from ocppscope.proxy.core.findings import RULES, Finding
from ocppscope.tui.index import CLOSE, FRAME_KINDS, KIND_NAMES, OPEN, ConnInfo, FrameIndex
from ocppscope.tui.rows import ARROWS, SEVERITY_STYLES, full_time, latency_text
from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

_SEVERITY_CODE = {"info": 1, "warning": 2, "error": 3}


def pretty_json(text: str) -> RenderableType:
    """``text`` indented and highlighted when it is JSON, as it is otherwise."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return Text(safe.block(text))
    pretty = orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
    return Syntax(pretty, "json", theme="ansi_dark", word_wrap=True, background_color="default")


def raw_text(record: dict[str, Any]) -> str:
    """The frame exactly as it crossed the proxy: its text, or a hex dump of a binary frame."""
    text = record.get("text")
    if text is not None:
        return text
    data = base64.b64decode(record.get("b64", ""))
    return " ".join(f"{byte:02x}" for byte in data[:4096]) + (" …" if len(data) > 4096 else "")


def row_title(index: FrameIndex, row: int) -> Text:
    kind = index.kind[row]
    title = Text()
    title.append(f"{KIND_NAMES[kind]} ", "bold")
    action = index.action_of(row)
    if action:
        title.append(f"{action} ", "bold")
    arrow = ARROWS.get(index.direction[row])
    if arrow:
        title.append(f"{'charger → backend' if arrow == '→' else 'backend → charger'}  ")
    title.append(f"{index.charger_of(row) or '?'}  ", "cyan")
    title.append(full_time(index.time[row]), "dim")
    latency = index.latency_of(row)
    if latency is not None:
        title.append(f"  answered in {latency_text(latency)}", "green")
    title.append(f"  seq {index.seq[row]}", "dim")
    return title


def shown_state(index: FrameIndex, row: int) -> tuple[object, ...]:
    """What a description of ``row`` (its title, its findings and its pair's) shows that can change after it
    was drawn: its pairing, with the latency and the action an answer learns from it, its charger, and the
    findings placed on it and on its pair, which only ever grow."""
    pair = index.link[row]
    return (pair, index.latency_of(row), index.action[row], index.charger_of(row), len(index.findings_of(row)),
            len(index.findings_of(pair)) if pair >= 0 else 0)


def frame_body(index: FrameIndex, row: int) -> RenderableType:
    """The frame of ``row`` pretty-printed (or the event's own description)."""
    record = index.record(row)
    kind = index.kind[row]
    if kind in FRAME_KINDS:
        if record.get("text") is None:
            return Text(f"binary frame: {raw_text(record)}")
        return pretty_json(record["text"])
    if kind == OPEN:
        return Text(f"handshake answered {record.get('status')}; press h for its headers")
    if kind == CLOSE:
        return Text(f"close code {record.get('code')} reason {record.get('reason')!r} by {record.get('closed_by')}")
    return Text(orjson.dumps(record, option=orjson.OPT_INDENT_2).decode())


def findings_table(findings: Sequence[Finding]) -> RenderableType:
    if not findings:
        return Text("no findings", style="dim")
    parts: list[RenderableType] = []
    for finding in findings:
        style = SEVERITY_STYLES[_SEVERITY_CODE[str(finding.severity)]]
        head = Text()
        head.append(f"{str(finding.severity).upper():<8}", style)
        head.append(f"{finding.rule}", "bold")
        head.append(f"  {safe.line(finding.message)}")
        parts.append(head)
        rule = RULES.get(finding.rule)
        if rule is not None:
            parts.append(Text(f"  {rule.title}. {rule.explanation}", style="italic"))
        if finding.evidence:
            evidence = safe.json_text(finding.evidence, indent=True)
            parts.append(Syntax(evidence, "json", theme="ansi_dark", background_color="default"))
        parts.append(Text(""))
    return Group(*parts)


# -- handshake ------------------------------------------------------------------------------------------

def opened_event(index: FrameIndex, info: ConnInfo) -> ConnectionOpened | None:
    if info.open_row is None:
        return None
    event = index.event(info.open_row)
    return event if isinstance(event, ConnectionOpened) else None


def handshake_view(index: FrameIndex, info: ConnInfo) -> RenderableType:
    """Request and response headers, subprotocols, Basic auth decoded, TLS, and the handshake findings."""
    event = opened_event(index, info)
    if event is None:
        return Text(f"connection {info.conn_id}: the handshake is not in this capture or stream", style="dim")
    parts: list[RenderableType] = []
    title = Text()
    title.append(f"{info.charger or '?'}  ", "bold cyan")
    title.append(f"connection {info.conn_id}  {full_time(event.time)}  ", "dim")
    title.append(f"answered {event.status}", "bold green" if event.status == 101 else "bold red")
    if event.error:
        title.append(f" ({event.error})", "red")
    parts += [title, Text(f"{event.client or '(address not recorded)'} → {event.path} → {event.upstream or '?'}")]
    offered = header(event.request_headers, "Sec-WebSocket-Protocol")
    summary = Table.grid(padding=(0, 2))
    summary.add_column(style="bold")
    summary.add_column()
    summary.add_row("subprotocols offered", offered if offered is not None else "(none)")
    summary.add_row("subprotocol selected", event.subprotocol or "(none)")
    summary.add_row("Basic auth", _auth_text(event))
    summary.add_row("TLS charger side", _tls_text(event.client_tls))
    summary.add_row("TLS backend side", _tls_text(event.upstream_tls))
    parts += [Text(""), summary, Text("")]
    parts.append(_headers_table("request headers", event.request_headers))
    parts.append(_headers_table("response headers", event.response_headers))
    rules = [f for f in index.findings_of(info.open_row)] if info.open_row is not None else []  # type: ignore[arg-type]
    rules += [p.finding for p in list(index.placed) if p.row is None and p.finding.conn_id == info.conn_id
              and p.finding.rule.startswith("handshake.")]
    parts += [Text("rule results", style="bold underline"), findings_table(rules) if rules else
              Text("every handshake rule passed", style="green")]
    return Group(*parts)


def _auth_text(event: ConnectionOpened) -> str:
    value = header(event.request_headers, "Authorization")
    summary: AuthSummary | None = event.auth
    if summary is None or (value is not None and summary.scheme is None):
        summary = parse_basic_auth(value)
    if summary.scheme is None:
        return "no Authorization header"
    if summary.scheme.lower() != "basic":
        return f"scheme {summary.scheme} (not Basic)"
    user = summary.user if summary.user is not None else "?"
    size = f"{summary.password_bytes} bytes" if summary.password_bytes is not None else "? bytes"
    kind = summary.password_kind or "unknown kind"
    text = f"user {user!r}, password redacted ({size}, {kind})"
    if summary.error:
        text += f"; problem: {summary.error}"
    return text


def _tls_text(info: TlsInfo | None) -> str:
    if info is None:
        return "plain (no TLS)"
    parts = [info.version or "TLS", info.cipher or ""]
    if info.sni:
        parts.append(f"SNI {info.sni}")
    if info.alpn:
        parts.append(f"ALPN {info.alpn}")
    if info.peer_certificate_subject:
        parts.append(f"peer {info.peer_certificate_subject}")
    if info.verified is not None:
        parts.append("verified" if info.verified else "NOT verified")
    return ", ".join(part for part in parts if part)


def _headers_table(title: str, headers: Sequence[tuple[str, str]]) -> RenderableType:
    table = Table(title=title, title_justify="left", show_header=False, expand=True, box=None, padding=(0, 1))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for name, value in headers:
        table.add_row(name, _shown_header(name, value))
    if not headers:
        table.add_row("(none)", "")
    return table


_CREDENTIALS = frozenset({"authorization", "proxy-authorization"})


def _shown_header(name: str, value: str) -> str:
    """Credentials never reach the screen in clear, even from a capture recorded with --no-redact."""
    if name.lower() in _CREDENTIALS and "<redacted" not in value:
        scheme = value.strip().split(" ", 1)[0]
        return f"{scheme} ••• (hidden; decoded above)"
    return value
