"""Where the UI's rows come from: a replay of captures, or a live proxy's stream (:mod:`tui.live`).

The app drives a session from its timer: :meth:`Session.poll` takes in what arrived, :attr:`Session.visible` is
how many rows may be shown, :meth:`Session.status` is the status line's text.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from ocppscope.tui.analysis import AnalysisSpec
from ocppscope.tui.index import FrameIndex
from ocppscope.tui.loader import ReplayLoader
from ocppscope.tui.playback import Playback, speed_label
from ocppscope.tui.rows import clock
from rich.text import Text


class Session:
    live = False
    title = "ocppscope"

    def __init__(self) -> None:
        self.index = FrameIndex()
        self.notes: list[str] = []
        """Things to tell the user once; the app shows them as notifications."""

    def start(self) -> None:
        """Begin reading (called once the app is mounted)."""

    def poll(self) -> None:
        """Take in what arrived since the last call (on the UI's timer)."""

    @property
    def visible(self) -> int:
        return self.index.count

    def painted(self) -> None:
        """The first rows are on the screen."""

    def status(self) -> Text:
        return Text(self.title)

    def stop(self) -> None:
        self.index.close()


class ReplaySession(Session):
    """Captures opened from files: indexed and analysed in the background, played back under the controls."""

    def __init__(self, paths: Sequence[str], spec: AnalysisSpec | None = None, *, fmt: str = "auto",
                 play: bool = False, speed: float | None = None, worker_min_bytes: int | None = None) -> None:
        super().__init__()
        self.paths = [str(path) for path in paths]
        extra = {"worker_min_bytes": worker_min_bytes} if worker_min_bytes is not None else {}
        self.loader = ReplayLoader(self.paths, self.index, spec, fmt=fmt, **extra)
        self.playback = Playback(self.index)
        if speed is not None:
            self.playback.set_speed(speed)
        self._play_on_start = play
        self._warned = 0
        self._failed_noted = False
        names = [os.path.basename(path) for path in self.paths]
        self.title = names[0] + (f" (+{len(names) - 1})" if len(names) > 1 else "")

    @property
    def plays_on_start(self) -> bool:
        """``--play``: the playhead runs from the start, and the view follows it."""
        return self._play_on_start

    def start(self) -> None:
        self.loader.start()
        if self._play_on_start:
            self.playback.play()

    def painted(self) -> None:
        self.loader.painted.set()

    def poll(self) -> None:
        self.playback.tick()
        warnings = self.loader.state.warnings
        if len(warnings) > self._warned:
            self.notes.extend(warnings[self._warned:])
            self._warned = len(warnings)
        if self.loader.state.error and not self._failed_noted:
            self._failed_noted = True
            self.notes.append(f"reading stopped: {self.loader.state.error}")

    @property
    def visible(self) -> int:
        return self.playback.visible

    def status(self) -> Text:
        index = self.index
        state = self.loader.state
        text = Text()
        text.append("replay ", "bold")
        text.append(self.title, "bold cyan")
        text.append(f" │ {index.count:,} rows")
        if state.phase == "reading":
            fraction = self.loader.progress.fraction
            text.append(f" │ indexing {fraction:.0%}" if fraction is not None else " │ indexing…", "yellow")
        elif state.phase == "analysing":
            share = state.analysed / index.count if index.count else 1.0
            text.append(f" │ analysing {share:.0%}", "yellow")
        elif state.phase == "failed":
            text.append(f" │ stopped: {state.error}", "bold red")
        if state.warnings:
            text.append(f" │ {len(state.warnings)} warning(s)", "yellow")
        return text

    def replay_status(self) -> Text:
        playback = self.playback
        text = Text()
        if playback.playing:
            text.append(" ▶ playing ", "bold green")
        elif playback.at_end:
            text.append(" ■ all shown ", "bold")
        else:
            text.append(" ⏸ paused ", "bold yellow")
        text.append(f"{speed_label(playback.speed)} ", "bold")
        when = playback.position_time()
        if when is not None:
            text.append(f"│ {clock(when)} ")
        text.append(f"│ {playback.visible:,}/{self.index.count:,} ")
        text.append("│ Space play · s speed · , . step · n finding · g seek", "dim")
        return text

    def stop(self) -> None:
        self.loader.stop()
