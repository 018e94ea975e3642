"""Run every cause detector over the collected facts and rank what they found."""

from __future__ import annotations

from collections.abc import Callable

from ocppscope.proxy.diagnose import causes_clock as clock
from ocppscope.proxy.diagnose import causes_connection as connection
from ocppscope.proxy.diagnose import causes_traffic as traffic
from ocppscope.proxy.diagnose.model import Cause, ChargerDiagnosis, Diagnosis
from ocppscope.proxy.diagnose.observe import ChargerFacts, DiagnosisBuilder
from ocppscope.proxy.diagnose.options import DiagnoseOptions

Detector = Callable[[ChargerFacts, DiagnoseOptions], list[Cause]]

DETECTORS: tuple[Detector, ...] = (
    connection.concurrent_connections,
    connection.handshake_failures,
    traffic.boot_loop,
    traffic.retry_loop,
    connection.idle_timeout,
    traffic.concurrent_calls,
    traffic.unanswered_before_close,
    traffic.errors_before_close,
    traffic.missing_heartbeats,
    connection.reconnect_storm,
    clock.clock_never_set,
    clock.clock_jumps,
    clock.clock_off,
    clock.offline_queue,
    connection.close_codes,
)
"""In this order among causes of equal score."""


def rank(builder: DiagnosisBuilder, inputs: list[str], options: DiagnoseOptions) -> Diagnosis:
    builder.finish()
    chargers = []
    for facts in builder.chargers.values():
        causes = _without_explained_closes([cause for detect in DETECTORS for cause in detect(facts, options)])
        causes.sort(key=lambda cause: -cause.score)  # stable: detector order breaks ties
        timelines = sorted((c.timeline for c in facts.connections), key=lambda t: t.opened_at)
        chargers.append(ChargerDiagnosis(facts.charger, timelines, causes, dict(facts.settings)))
    chargers.sort(key=lambda c: (-(c.causes[0].score if c.causes else 0), str(c.charger)))
    return Diagnosis(inputs, chargers)


def _without_explained_closes(causes: list[Cause]) -> list[Cause]:
    """Close-code causes are the fallback: drop those whose every connection a specific cause explains."""
    explained = {conn for cause in causes if not cause.kind.startswith("close-") for conn in cause.explains}
    return [cause for cause in causes if not cause.kind.startswith("close-") or not set(cause.explains) <= explained]
