"""The analysis process of a big replay: reads the inputs itself and sends pairings and findings back."""

from __future__ import annotations

from collections.abc import Sequence
from multiprocessing.connection import Connection as Pipe

from tui.analysis import AnalysisSpec, analyse
from tui.inputs import merged_events


def run(paths: Sequence[str], fmt: str, spec: AnalysisSpec, pipe: Pipe) -> None:
    analyse(merged_events(paths, fmt), spec, pipe)
