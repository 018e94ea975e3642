"""Connection-loss diagnosis: why does this charger keep dropping off?

Pure: events in, :class:`~proxy.diagnose.model.Diagnosis` out (per charger a timeline of connections and
ranked probable causes, each with evidence frames and what to change). Two ways in::

    diagnosis = diagnose(read_events("capture.jsonl"))       # runs its own analyzer

    builder = DiagnosisBuilder()                              # alongside an analyzer you already run
    for event in events:
        builder.observe(event, analyzer.feed(event))
    builder.findings(analyzer.finish())
    diagnosis = finish_diagnosis(builder)

The second form is what a live view uses: ``finish_diagnosis`` may be called at any time for the picture so
far (it does not consume the builder's state, except that clock jumps not yet confirmed are counted).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ocppscope.proxy.core.analyzer import Analyzer, AnalyzerOptions
from ocppscope.proxy.core.checks import default_checkers
from ocppscope.proxy.core.events import Event
from ocppscope.proxy.diagnose.model import Cause, ChargerDiagnosis, ConnectionTimeline, Diagnosis, FrameRef
from ocppscope.proxy.diagnose.observe import DiagnosisBuilder
from ocppscope.proxy.diagnose.options import DiagnoseOptions
from ocppscope.proxy.diagnose.rank import rank


def diagnose(
    events: Iterable[Event],
    options: DiagnoseOptions | None = None,
    analyzer: AnalyzerOptions | None = None,
    inputs: Sequence[str] = (),
) -> Diagnosis:
    """Analyse ``events`` (one capture, or several chained) and diagnose every charger in them."""
    options = options or DiagnoseOptions()
    builder = DiagnosisBuilder(options.clock_jump)
    core = Analyzer(default_checkers(), analyzer)
    for event in events:
        builder.observe(event, core.feed(event))
    builder.findings(core.finish())
    return rank(builder, list(inputs), options)


def finish_diagnosis(builder: DiagnosisBuilder, options: DiagnoseOptions | None = None,
                     inputs: Sequence[str] = ()) -> Diagnosis:
    return rank(builder, list(inputs), options or DiagnoseOptions())


__all__ = ["Cause", "ChargerDiagnosis", "ConnectionTimeline", "DiagnoseOptions", "Diagnosis", "DiagnosisBuilder",
           "FrameRef", "diagnose", "finish_diagnosis"]
