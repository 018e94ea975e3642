"""The analysis process of a big replay: reads the inputs itself and sends pairings and findings back.

Run as ``python -m ocppscope.tui.worker``: the job (paths, format, analysis spec) comes as one length-prefixed pickle on
stdin, results go out the same way on stdout (the framing of :mod:`proxy.engine.stream`). A plain subprocess,
not multiprocessing: under a running Textual app the standard streams are not the terminal's, and
multiprocessing's start-up trips over that.
"""

from __future__ import annotations

import os
import pickle
import select
import subprocess
import sys
from pathlib import Path
from typing import Any

from ocppscope.proxy.engine.stream import frame, read_frame

ROOT = Path(__file__).resolve().parents[1]


class _Out:
    def __init__(self) -> None:
        self._out = sys.stdout.buffer

    def send(self, obj: Any) -> None:
        self._out.write(frame(obj))
        self._out.flush()

    def close(self) -> None:
        self._out.close()


def main() -> int:
    from ocppscope.tui.analysis import analyse
    from ocppscope.tui.inputs import merged_events

    job = read_frame(sys.stdin.buffer.read)
    if job is None:
        return 0
    # The indexer and the screen come first: findings may arrive a little later, the first screens may not.
    os.nice(5)
    paths, fmt, spec = pickle.loads(job)
    analyse(merged_events(paths, fmt), spec, _Out())
    return 0


class WorkerProcess:
    """The loader's handle on a running analysis process: ``poll`` and ``recv`` its results."""

    def __init__(self, paths: list[str], fmt: str, spec: object) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH"))))}
        # stderr is not inherited: the UI draws on the terminal's stderr.
        self.process = subprocess.Popen([sys.executable, "-m", "ocppscope.tui.worker"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(frame((paths, fmt, spec)))
        self.process.stdin.close()
        self._fd = self.process.stdout.fileno()

    def poll(self, timeout: float = 0.0) -> bool:
        return bool(select.select([self._fd], [], [], timeout)[0])

    def recv(self) -> Any:
        body = read_frame(lambda size: os.read(self._fd, size))
        if body is None:
            raise EOFError
        return pickle.loads(body)

    def is_alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(2)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


if __name__ == "__main__":
    sys.exit(main())
