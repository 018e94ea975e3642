"""Build realistic event streams for core tests without a network: one connection, frames in order.

    wire = Wire()                      # ocpp1.6, charger CP01, t0 = 2023-11-14T22:13:20Z
    wire.cp('[2,"1","Heartbeat",{}]')  # charger → backend, 1 s after the previous event
    wire.cs('[3,"1",{"currentTime":"2024-01-01T00:00:00Z"}]', after=0.2)
    findings = analyze(wire.events)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ocppscope.proxy.core.analyzer import Analyzer, AnalyzerOptions, Checker
from ocppscope.proxy.core.checks import default_checkers
from ocppscope.proxy.core.events import ConnectionClosed, ConnectionOpened, Direction, Event, Headers, Message
from ocppscope.proxy.core.findings import Finding

T0 = 1_700_000_000.0
BOOT_16 = '{"chargePointVendor":"VendorX","chargePointModel":"ModelY"}'


class Wire:
    def __init__(
        self,
        charger: str = "CP01",
        subprotocol: str | None = "ocpp1.6",
        conn_id: str = "c1",
        t0: float = T0,
        headers: Headers = (),
        status: int = 101,
        opened: bool = True,
    ) -> None:
        self.conn_id = conn_id
        self.time = t0
        self.seq = 0
        self.events: list[Event] = []
        if opened:
            self.open(charger, subprotocol, headers, status)

    def _next(self, after: float) -> tuple[float, int]:
        self.time += after
        self.seq += 1
        return self.time, self.seq

    def open(self, charger: str, subprotocol: str | None, headers: Headers = (), status: int = 101) -> Wire:
        time, seq = self._next(0)
        offered = (("Sec-WebSocket-Protocol", subprotocol),) if subprotocol else ()
        self.events.append(
            ConnectionOpened(
                self.conn_id, time, "127.0.0.1:50000", f"/ocpp/{charger}",
                request_headers=(("Host", "127.0.0.1:9000"), *offered, *headers),
                status=status, subprotocol=subprotocol if status == 101 else None, seq=seq,
            )
        )
        return self

    def cp(self, text: str | bytes, after: float = 1.0, is_text: bool = True) -> int:
        """The charger sends ``text``; returns the event's seq."""
        return self._message(Direction.FROM_CHARGER, text, after, is_text)

    def cs(self, text: str | bytes, after: float = 0.2, is_text: bool = True) -> int:
        """The backend sends ``text``; returns the event's seq."""
        return self._message(Direction.FROM_BACKEND, text, after, is_text)

    def _message(self, direction: Direction, text: str | bytes, after: float, is_text: bool) -> int:
        time, seq = self._next(after)
        content = text.encode() if isinstance(text, str) else text
        self.events.append(Message(self.conn_id, time, direction, content, is_text, seq))
        return seq

    def close(self, code: int = 1000, after: float = 1.0, closed_by: str = "charger") -> int:
        time, seq = self._next(after)
        self.events.append(ConnectionClosed(self.conn_id, time, code, "", closed_by, seq))  # type: ignore[arg-type]
        return seq

    def boot(self, status: str = "Accepted", interval: int = 300, msg_id: str = "boot") -> None:
        """A 1.6 BootNotification and its answer."""
        self.cp(f'[2,"{msg_id}","BootNotification",{BOOT_16}]')
        self.cs(f'[3,"{msg_id}",{{"status":"{status}","currentTime":"2024-01-01T00:00:00Z","interval":{interval}}}]')


def analyze(
    events: Iterable[Event], checkers: Sequence[Checker] | None = None, options: AnalyzerOptions | None = None
) -> list[Finding]:
    """Every finding the analyzer reports for ``events``, including those at the end of input."""
    analyzer = Analyzer(default_checkers() if checkers is None else checkers, options)
    found: list[Finding] = []
    for event in events:
        found += analyzer.feed(event).findings
    found += analyzer.finish()
    return found


def numbered(*wires: Wire) -> list[Event]:
    """The events of ``wires`` in this order, their seq numbered again from 1 as one recording numbers them."""
    events = [event for wire in wires for event in wire.events]
    for seq, event in enumerate(events, 1):
        event.seq = seq
    return events


def rules(findings: Iterable[Finding]) -> list[str]:
    return [f.rule for f in findings]


def hits(findings: Iterable[Finding], rule: str) -> list[Finding]:
    return [f for f in findings if f.rule == rule]
