"""The reverse direction over recorded traffic: per charger, the URL its configuration makes it open, compared
with where it really connected.

The profile checker does the remembering (GetConfiguration answers, accepted changes, the serial number of
the BootNotification); this module adds where each charger connected and puts the two side by side.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ocppscope.proxy.core.analyzer import Analyzer, Checker, Context
from ocppscope.proxy.core.connection import Connection
from ocppscope.proxy.core.events import ConnectionOpened, Event, header
from ocppscope.proxy.endpoint.reverse import Actual, Rebuilt, differences, rebuild_url
from ocppscope.proxy.profiles.checker import ProfileChecker


@dataclass(slots=True)
class ChargerEndpoint:
    charger: str
    profile_id: str
    why: str
    rebuilt: Rebuilt
    actual: Actual | None
    differences: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.actual is not None and self.rebuilt.url is not None and not self.differences \
            and not self.rebuilt.problems


class _Handshakes(Checker):
    """The last successful handshake of each charger."""

    name = "endpoint-handshakes"

    def __init__(self) -> None:
        self.last: dict[str, ConnectionOpened] = {}

    def on_open(self, ctx: Context, conn: Connection, event: ConnectionOpened) -> None:
        if event.status == 101:
            self.last[conn.charger or conn.conn_id] = event


def compare_endpoints(events: Iterable[Event], checker: ProfileChecker) -> list[ChargerEndpoint]:
    handshakes = _Handshakes()
    analyzer = Analyzer([checker, handshakes])
    for event in events:
        analyzer.feed(event)
    analyzer.finish()
    results = []
    for charger, state in sorted(checker.chargers().items()):
        if state.choice is None:
            continue
        profile = state.choice.profile
        rebuilt = rebuild_url(profile, state.values(), state.serial)
        opened = handshakes.last.get(charger)
        host = header(opened.request_headers, "Host") if opened else None
        actual = None
        if opened is not None and host:
            actual = Actual.from_handshake(host, opened.path, True if opened.client_tls is not None else None)
        found = differences(rebuilt, actual) if actual is not None else []
        results.append(ChargerEndpoint(charger, profile.id, state.choice.reason, rebuilt, actual, found))
    return results
