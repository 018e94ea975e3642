"""The sans-I/O OCPP inspection core: events in, decoded frames, pairings and findings out.

Nothing here imports mitmproxy, asyncio or Textual.
"""

from ocppscope.proxy.core.analyzer import Analyzer, AnalyzerOptions, Checker, Context, Inspection
from ocppscope.proxy.core.events import (
    AuthSummary,
    ConnectionClosed,
    ConnectionOpened,
    Direction,
    Event,
    Gap,
    Message,
    Ping,
    TlsInfo,
)
from ocppscope.proxy.core.findings import RULES, Finding, Rule, Severity

__all__ = [
    "RULES",
    "Analyzer",
    "AnalyzerOptions",
    "AuthSummary",
    "Checker",
    "ConnectionClosed",
    "ConnectionOpened",
    "Context",
    "Direction",
    "Event",
    "Finding",
    "Gap",
    "Inspection",
    "Message",
    "Ping",
    "Rule",
    "Severity",
    "TlsInfo",
]
