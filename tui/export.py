"""Export the frames on screen (the filter's result) as an ocppscope capture.

The handshake and close of every connection those frames belong to go along, so that ``ocppscope check`` and
a replay of the export judge the frames with the subprotocol they were sent under. Written through the capture
writer, so secrets are redacted as in any capture.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from ocppscope.proxy.capture.writer import CaptureWriter
from ocppscope.tui.index import FrameIndex


def export_rows(index: FrameIndex, rows: Sequence[int], path: str | os.PathLike[str]) -> int:
    """Write ``rows`` (and their connections' opens and closes) to a new capture at ``path``; return events written."""
    wanted = set(rows)
    for conn_no in {index.conn[row] for row in rows}:
        info = index.conns[conn_no]
        wanted.update(row for row in (info.open_row, info.close_row) if row is not None)
    written = 0
    with CaptureWriter(path) as writer:
        for row in sorted(wanted):
            event = index.event(row)
            if event is not None:
                writer.write(event)
                written += 1
    return written
