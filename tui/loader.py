"""Opening recorded traffic for the UI: index it in a thread, analyse it beside, show it while both run.

The indexer thread reads the inputs once and appends rows to the :class:`~tui.index.FrameIndex`; the UI paints
the first screenful as soon as the first rows exist. The analysis (the live proxy's analyzer and checkers) runs
in the same thread for a small input. For a big capture it runs in a process of its own, which reads the file
itself and sends back pairings and findings in chunks; the indexer thread applies them, so the index has a
single writer. The UI only reads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from ocppscope.proxy.capture.report import ReadReport
from ocppscope.proxy.errors import OcppscopeError
from ocppscope.tui.analysis import AnalysisResults, AnalysisSpec
from ocppscope.tui.index import FrameIndex
from ocppscope.tui.inputs import (
    InputProgress,
    Placed,
    Spool,
    capture_rows,
    indexable_in_place,
    input_size,
    merge_by_time,
    spooled_rows,
)
from ocppscope.tui.worker import WorkerProcess

WORKER_MIN_BYTES = 16 * 1024 * 1024
"""From this size the analysis runs in its own process: below it, starting one costs more than it saves."""
_BATCH = 2_000
_FIRST_SCREEN = 2 * _BATCH
_FIRST_PAINT_WAIT = 1.0


@dataclass
class LoadState:
    """What the status line shows about loading."""

    phase: str = "reading"
    """reading, analysing, done, failed."""
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    analysed: int = 0
    started: float = field(default_factory=time.monotonic)
    indexed_at: float | None = None
    analysed_at: float | None = None


def apply_results(index: FrameIndex, results: AnalysisResults, *, wait: bool) -> None:
    for seq, call_seq, latency in results.pairs:
        index.pair(seq, call_seq, latency)
    if results.findings:
        index.add_findings(results.findings, wait=wait)


class ReplayLoader:
    """Indexes ``paths`` into ``index`` in a background thread; :meth:`stop` abandons the work."""

    def __init__(self, paths: Sequence[str], index: FrameIndex, spec: AnalysisSpec | None = None, *,
                 fmt: str = "auto", worker_min_bytes: int = WORKER_MIN_BYTES) -> None:
        self.paths = [str(path) for path in paths]
        self.index = index
        self.spec = spec or AnalysisSpec()
        self.fmt = fmt
        self.state = LoadState()
        self.progress = InputProgress(0)
        self._worker_min_bytes = worker_min_bytes
        self._stop = threading.Event()
        self.painted = threading.Event()
        """Set by the UI once it has shown the first rows; the indexer waits for it (a little) after them."""
        self._thread: threading.Thread | None = None
        self._process: WorkerProcess | None = None
        self._spool: Spool | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="ocppscope indexer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._process is not None:
            self._process.stop()
        if self._spool is not None:
            self._spool.remove()
        self.index.close()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until loading ended (tests, benchmarks); True if it did."""
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    @property
    def done(self) -> bool:
        return self.state.phase in ("done", "failed")

    # -- the indexer thread ----------------------------------------------------------------------------------

    def _run(self) -> None:
        state = self.state
        try:
            self._load()
        except OcppscopeError as exc:
            state.error = str(exc)
            state.phase = "failed"
        except Exception as exc:  # shown in the UI rather than lost in a thread
            state.error = f"{type(exc).__name__}: {exc}"
            state.phase = "failed"
        finally:
            if not self.index.complete:
                self.index.finish()
            if state.indexed_at is None:
                state.indexed_at = time.monotonic()

    def _load(self) -> None:
        state = self.state
        in_place = [indexable_in_place(path, self.fmt) for path in self.paths]
        self.progress = InputProgress(sum(input_size([p]) for p, direct in zip(self.paths, in_place, strict=True)
                                          if direct))
        streams: list[Iterator[Placed]] = []
        for path, direct in zip(self.paths, in_place, strict=True):
            report = ReadReport(path, on_warning=state.warnings.append)
            if direct:
                streams.append(capture_rows(path, self.index.add_file(path), report, self.progress))
            else:
                if self._spool is None:
                    self._spool = Spool()
                    self._spool_no = self.index.add_file(self._spool.path)
                streams.append(spooled_rows(path, self.fmt, self._spool, self._spool_no, report))
        pipe = self._start_worker() if input_size(self.paths) >= self._worker_min_bytes else None
        analyzer = self.spec.analyzer() if pipe is None else None
        results = AnalysisResults()
        index = self.index
        batch: list[Placed] = []
        for n, placed in enumerate(merge_by_time(streams, lambda item: item.event), 1):
            batch.append(placed)
            if analyzer is not None:
                index.extend(batch)  # the analysis places findings on rows: index each row first
                batch.clear()
                results.add(placed.event, analyzer.feed(placed.event))
            if n % _BATCH == 0:
                index.extend(batch)
                batch.clear()
                if self._stop.is_set():
                    return
                if analyzer is not None:
                    apply_results(index, results.take(), wait=False)
                    state.analysed = index.analysed = n
                else:
                    self._drain(pipe, block=False)  # type: ignore[arg-type]
                if n == _FIRST_SCREEN:
                    # Let the UI paint the first screenful before the rest is read (one process, one GIL).
                    self.painted.wait(_FIRST_PAINT_WAIT)
        index.extend(batch)
        if analyzer is not None:
            results.findings.extend(analyzer.finish())
            apply_results(index, results.take(), wait=False)
            state.analysed = index.analysed = index.count
        index.finish()
        state.indexed_at = time.monotonic()
        if analyzer is None:
            state.phase = "analysing"
            while not self._stop.is_set() and self._drain(pipe, block=True):  # type: ignore[arg-type]
                pass
        state.analysed_at = time.monotonic()
        state.phase = "done"

    def _start_worker(self) -> WorkerProcess:
        self._process = WorkerProcess(self.paths, self.fmt, self.spec)
        return self._process

    def _drain(self, pipe: WorkerProcess, *, block: bool) -> bool:
        """Apply what the worker sent; False once it is finished (or gone)."""
        while block or pipe.poll():
            if block and not pipe.poll(0.2):
                if self._process is not None and not self._process.is_alive() and not pipe.poll():
                    self.state.warnings.append("the analysis process ended early; findings may be missing")
                    return False
                continue
            try:
                message = pipe.recv()
            except EOFError:
                self.state.warnings.append("the analysis process ended early; findings may be missing")
                return False
            kind = message[0]
            if kind == "error":
                self.state.warnings.append(f"analysis stopped: {message[1]}")
                return False
            results: AnalysisResults = message[1]
            apply_results(self.index, results, wait=not self.index.complete)
            self.state.analysed += results.events
            self.index.analysed = self.state.analysed
            if kind == "done":
                return False
            if block:
                return True
        return True
