"""The analysis behind a replay: the same :class:`~proxy.core.analyzer.Analyzer` and checkers as the live proxy.

What the UI needs from each inspection is small: for an answer, the seq of the CALL it pairs with and the
latency; for every event, its findings. :class:`AnalysisResults` collects exactly that, so the work can run
in the indexer's thread for a small input, or in a process of its own for a big capture (the second core does
the analysis while the first indexes and draws), and the index applies it the same way in both cases and for
a live proxy's stream.

No Textual here: the worker process imports this module only.
"""

from __future__ import annotations

import argparse
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ocppscope.proxy.core.analyzer import Analyzer, AnalyzerOptions, Checker, Inspection
from ocppscope.proxy.core.checks import default_checkers
from ocppscope.proxy.core.events import Event
from ocppscope.proxy.core.findings import Finding

CHUNK_EVENTS = 20_000
"""Events analysed between two messages from a worker: a few per second, each a modest pickle."""


class Sender(Protocol):
    def send(self, obj: Any) -> None: ...

    def close(self) -> None: ...


Pair = tuple[int, int, float | None]
"""(answer seq, CALL seq, latency in seconds)."""


@dataclass(frozen=True)
class AnalysisSpec:
    """Everything that decides what the analyzer reports; picklable, for the worker process."""

    options: AnalyzerOptions = field(default_factory=AnalyzerOptions)
    profile_args: tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]] | None = ((), (), ())
    """(--profile values, --profiles dirs, --profile-map files), or None for --no-profiles."""

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> AnalysisSpec:
        from ocppscope.proxy.commands.check import analyzer_options

        if getattr(args, "no_profiles", False):
            profiles = None
        else:
            profiles = (tuple(getattr(args, "profile", ()) or ()),
                        tuple(str(p) for p in getattr(args, "profiles", ()) or ()),
                        tuple(str(p) for p in getattr(args, "profile_map", ()) or ()))
        return cls(analyzer_options(args), profiles)

    def checkers(self) -> list[Checker]:
        checkers = default_checkers()
        if self.profile_args is not None:
            from pathlib import Path

            from ocppscope.proxy.profiles.options import profile_checker_from_args

            mapping, dirs, files = self.profile_args
            args = argparse.Namespace(profile=list(mapping), profiles=[Path(d) for d in dirs],
                                      profile_map=[Path(f) for f in files], no_profiles=False)
            checker = profile_checker_from_args(args)
            if checker is not None:
                checkers.append(checker)
        return checkers

    def analyzer(self) -> Analyzer:
        return Analyzer(self.checkers(), self.options)


@dataclass
class AnalysisResults:
    """What an analysis found since the last :meth:`take`."""

    pairs: list[Pair] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    events: int = 0

    def add(self, event: Event, inspection: Inspection) -> None:
        self.events += 1
        call = inspection.call
        if call is not None:
            self.pairs.append((event.seq, call.seq, inspection.latency))
        if inspection.findings:
            self.findings.extend(inspection.findings)

    def take(self) -> AnalysisResults:
        """What was found since the last take, and how many events that covers (each take counts its own)."""
        taken = AnalysisResults(self.pairs, self.findings, self.events)
        self.pairs, self.findings, self.events = [], [], 0
        return taken


def analyse(events: Iterable[Event], spec: AnalysisSpec, pipe: Sender) -> None:
    """The worker's job: analyse ``events``, sending results in chunks, then ``("done", results)``."""
    analyzer = spec.analyzer()
    results = AnalysisResults()
    feed = analyzer.feed
    add = results.add
    try:
        for event in events:
            add(event, feed(event))
            if results.events == CHUNK_EVENTS:
                pipe.send(("results", results.take()))
        results.findings.extend(analyzer.finish())
        pipe.send(("done", results.take()))
    except Exception as exc:  # the reader met unusable input: the indexer reports the same problem precisely
        pipe.send(("error", f"{type(exc).__name__}: {exc}", traceback.format_exc()))
    finally:
        pipe.close()




