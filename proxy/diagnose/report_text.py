"""The diagnosis as plain text to paste into a ticket: causes first, then the connection timeline.

Whatever a charger sent can end up in a line (an action name, a close reason, a value quoted by a finding):
every piece goes through :func:`proxy.core.render.line`, so lone surrogates, control characters and line
breaks are shown escaped and the report is one valid UTF-8 text whatever the input.
"""

from __future__ import annotations

from typing import TextIO

from ocppscope.proxy.core.render import line, timestamp
from ocppscope.proxy.core.words import duration as seconds
from ocppscope.proxy.diagnose.model import ChargerDiagnosis, ConnectionTimeline, Diagnosis, FrameRef


def _clock(value: float | None, date: bool = False) -> str:
    if value is None:
        return "?"
    shown = timestamp(value, "%Y-%m-%d %H:%M:%S.%f" if date else "%H:%M:%S.%f")
    return shown if shown.startswith("t=") else shown[:-3]


def _ref(ref: FrameRef) -> str:
    where = f"#{ref.seq}" if ref.seq is not None else "-"
    return f"{where:>7}  {line(ref.conn_id):<10} {_clock(ref.time)}  {line(ref.text)}"


def render(diagnosis: Diagnosis, out: TextIO, *, top: int | None = None, timeline_rows: int = 50) -> None:
    if diagnosis.inputs:
        out.write(f"Diagnosis of {', '.join(line(i) for i in diagnosis.inputs)}: {len(diagnosis.chargers)} "
                  "charger(s)\n")
    if not diagnosis.chargers:
        out.write("No charger connection in the input.\n")
    for charger in diagnosis.chargers:
        out.write("\n")
        _charger(charger, out, top, timeline_rows)


def _charger(charger: ChargerDiagnosis, out: TextIO, top: int | None, rows: int) -> None:
    conns = charger.connections
    settings = ", ".join(line(f"{name} {entry['value']} s (#{entry['seq']} {entry['source']})")
                         for name, entry in charger.settings.items())
    span = ""
    if conns:
        span = f" from {_clock(conns[0].opened_at, True)} UTC"
    out.write(f"Charger {line(charger.charger or '?')}: {len(conns)} connection(s){span}, {charger.drops} ended, "
              f"{charger.refused} refused" + (f"; {settings}" if settings else "") + "\n")
    causes = charger.causes[:top] if top else charger.causes
    if not causes:
        out.write("  No cause of lost connections found: every connection that ended did so cleanly.\n")
    else:
        out.write("  Probable causes, most likely first:\n")
    for number, cause in enumerate(causes, 1):
        out.write(f"  {number}. [{cause.score}] {line(cause.title)}  ({cause.kind})\n")
        out.write(f"     {line(cause.explanation)}\n")
        out.write("     Change:\n")
        for item in cause.change:
            out.write(f"       - {line(item)}\n")
        if cause.evidence:
            out.write("     Evidence:\n")
            for ref in cause.evidence:
                out.write(f"       {_ref(ref)}\n")
    if len(charger.causes) > len(causes):
        out.write(f"  … {len(charger.causes) - len(causes)} less likely cause(s) not shown\n")
    out.write("  Connections:\n")
    for conn in conns[:rows]:
        out.write(f"    {_row(conn)}\n")
    if len(conns) > rows:
        out.write(f"    … {len(conns) - rows} more connection(s) (--format json has them all)\n")


def _row(conn: ConnectionTimeline) -> str:
    head = f"{line(conn.conn_id):<10} {_clock(conn.opened_at, True)}"
    if conn.source is not None:
        head += f"  in {line(conn.source)}"
    if not conn.opened:
        return f"{head}  upgrade answered {conn.status or 'not at all'}" + (
            f": {line(conn.handshake_error)}" if conn.handshake_error else "")
    if conn.closed_at is None:
        return f"{head}  still open at the end, {conn.frames} frames"
    last = ", ".join(f"#{ref.seq} {line(ref.text)}" for ref in conn.last_frames[-2:])
    pinged = f", last ping {seconds(conn.since_ping)} before" if conn.since_ping is not None else ""
    reason = f" {line(repr(conn.reason))}" if conn.reason else ""
    return (f"{head}  {seconds(conn.duration or 0.0):>7}  {line(conn.closed_by or '?')} closed with "
            f"{conn.code if conn.code is not None else 'no code'}{reason}"
            + f", idle {seconds(conn.idle or 0.0)}{pinged}" + (f"; last: {last}" if last else ""))
