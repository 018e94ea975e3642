"""Play a scenario end to end: its backend, optionally the recording relay in front, its charger."""

from __future__ import annotations

from ocppscope.proxy.core.events import Event
from ocppscope.proxy.demo.backend import CentralSystem, start_central_system
from ocppscope.proxy.demo.recorder import EventSink, RecordingRelay
from ocppscope.proxy.demo.scenarios import Scenario, run_charge_point


async def run_scenario(scenario: Scenario) -> CentralSystem:
    """Charger straight to backend, nothing recorded; returns the (stopped) backend to inspect."""
    async with await start_central_system(scenario.backend) as backend:
        await run_charge_point(backend.url, scenario)
    return backend


async def record_scenario(scenario: Scenario, sink: EventSink | None = None) -> list[Event]:
    """Run ``scenario`` through a :class:`RecordingRelay`; return (and pass to ``sink``) every event.

    Returns once the relay has reported the close of every connection it relayed.
    """
    events: list[Event] = []

    def record(event: Event) -> None:
        events.append(event)
        if sink is not None:
            sink(event)

    async with (
        await start_central_system(scenario.backend) as backend,
        RecordingRelay(f"ws://{backend.host}:{backend.port}", record) as relay,
    ):
        await run_charge_point(f"{relay.url}/ocpp", scenario)
    return events
