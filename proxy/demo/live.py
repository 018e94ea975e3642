"""The live demo: a real central system and a real charge point (the ``ocpp`` package) on loopback, with
ocppscope's real proxy between them, playing a charging session with a few deliberate faults.

Nothing leaves the machine: the backend, the proxy and the charger all listen on or connect to 127.0.0.1.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from ocppscope.proxy.core.analyzer import AnalyzerOptions, Checker
from ocppscope.proxy.core.checks import default_checkers
from ocppscope.proxy.core.findings import Severity
from ocppscope.proxy.demo.backend import start_central_system
from ocppscope.proxy.demo.scenarios import SCENARIOS, Scenario, run_charge_point

DEMO_SCENARIO = "demo-session"


def _demo_checkers() -> list[Checker]:
    # The demo charger is no vendor's model: it gets the OCPP 1.6 generic profile, as a real unknown one would.
    from ocppscope.proxy.profiles.options import profile_checker

    return [*default_checkers(), profile_checker()]


async def run_live_demo(out: TextIO = sys.stdout, capture: Path | None = None,
                        scenario: Scenario | None = None) -> int:
    """Run the demo session through the proxy, printing every frame and finding; return the error count."""
    from ocppscope.addons.capture import OcppCapture
    from ocppscope.addons.console import OcppConsole
    from ocppscope.proxy.engine.embed import open_proxy
    from ocppscope.proxy.engine.hub import Listener

    scenario = scenario or SCENARIOS[DEMO_SCENARIO]
    console = OcppConsole(mode="lines", out=out)
    listeners: list[Listener] = [console]
    if capture is not None:
        listeners.append(OcppCapture(capture))
    options = AnalyzerOptions(call_timeout=scenario.call_timeout or AnalyzerOptions().call_timeout)
    async with await start_central_system(scenario.backend) as backend:
        upstream = f"ws://{backend.host}:{backend.port}"
        async with open_proxy(upstream, listeners=listeners, keep_events=False, analyzer=options,
                              checkers=_demo_checkers) as proxy:
            out.write(
                f"ocppscope demo: central system (ocpp package) on {upstream}, ocppscope listening on {proxy.url};\n"
                f"the charge point (ocpp package) connects to {proxy.url}/ocpp/<identity>. {scenario.title}.\n\n"
            )
            out.flush()
            await run_charge_point(f"{proxy.url}/ocpp", scenario)
    summary = proxy.summary
    return summary.findings[Severity.ERROR] if summary is not None else 0
