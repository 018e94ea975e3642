"""Judging a CALL before it is injected: the analyzer's own schema, direction and profile rules, on a dry run.

A fresh analyzer sees the connection's real handshake and then the CALL, exactly as the proxy would; the
findings about the CALL are what the proxy would report after sending it. The charger keeps the profile the
proxy chose for it (from its ``profile.selected`` finding), so the profile's limits apply.
"""

from __future__ import annotations

import dataclasses
import time

from ocppscope.proxy.core.events import ConnectionOpened, Direction, Message
from ocppscope.proxy.core.findings import Finding
from ocppscope.tui.analysis import AnalysisSpec
from ocppscope.tui.chargers import PROFILE_RULE
from ocppscope.tui.index import FrameIndex

_DRY_RUN_SEQ = 2
_NOT_ABOUT_THE_CALL = frozenset({PROFILE_RULE, "rpc.version-guessed"})


def profile_of(index: FrameIndex, charger: str | None) -> str | None:
    """The profile the analysis chose for ``charger`` most recently, if any."""
    chosen = None
    for placed in list(index.placed):
        finding = placed.finding
        if finding.rule == PROFILE_RULE and finding.charger == charger and finding.evidence.get("profile"):
            chosen = str(finding.evidence["profile"])
    return chosen


def check_call(index: FrameIndex, conn_no: int, to: str, text: str, spec: AnalysisSpec | None = None) -> list[Finding]:
    """The findings the analyzer reports about CALL ``text`` sent to ``to`` on connection ``conn_no``."""
    spec = spec or AnalysisSpec()
    info = index.conns[conn_no]
    opened = index.event(info.open_row) if info.open_row is not None else None
    if not isinstance(opened, ConnectionOpened):
        opened = ConnectionOpened(info.conn_id, time.time(), "", f"/{info.charger or ''}",
                                  subprotocol=info.subprotocol)
    opened = dataclasses.replace(opened, seq=1)
    profile = profile_of(index, info.charger)
    if profile is not None and info.charger and spec.profile_args is not None:
        mapping, dirs, files = spec.profile_args
        spec = dataclasses.replace(spec, profile_args=((f"{info.charger}={profile}", *mapping), dirs, files))
    analyzer = spec.analyzer()
    analyzer.feed(opened)
    direction = Direction.FROM_BACKEND if to == "charger" else Direction.FROM_CHARGER
    message = Message(info.conn_id, opened.time + 1, direction, text.encode("utf-8"), True, _DRY_RUN_SEQ)
    inspection = analyzer.feed(message)
    return [f for f in inspection.findings if f.seq == _DRY_RUN_SEQ and f.rule not in _NOT_ABOUT_THE_CALL]
