"""Writes a mitmproxy flow file of the traffic, secrets redacted, so a capture opens in mitmweb too. One job.

``ocppscope proxy --save-flows FILE`` adds it; ``mitmdump -s addons/save_flows.py --set ocpp_save_flows=FILE``
loads it by itself (next to ``-s addons/ocppscope.py`` or alone). A WebSocket flow is written when it ends, a
refused upgrade or a plain HTTP exchange when it is answered, what is still open when the proxy stops last.
Each flow is written as a redacted copy (:meth:`proxy.capture.redact.Redactor.flow`: upgrade credentials,
secrets in text messages) unless redaction is turned off; the file is created readable by its owner only.
mitmproxy clears nothing it writes: the proxy must keep each flow's messages (``ocpp_keep_messages``) for them
to be saved, which ``--save-flows`` sets.

When a write fails (disk full), saving stops for good with a loud error and the relay carries on.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

# mitmproxy loads this file by path; make the project importable when it is not installed.
_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from mitmproxy import ctx, exceptions, http  # noqa: E402
from mitmproxy.io import FlowWriter  # noqa: E402
from ocppscope.addons.inspector import FINDINGS_KEY  # noqa: E402
from ocppscope.proxy.capture.private import open_private  # noqa: E402
from ocppscope.proxy.capture.redact import Redactor, installation_salt  # noqa: E402

log = logging.getLogger("ocppscope.capture")

class OcppSaveFlows:
    """mitmproxy addon: every flow into one flow file."""

    name = "ocppsaveflows"

    def __init__(self, path: str | os.PathLike[str] | None = None, *, redact: bool = True) -> None:
        self.path: Path | None = None
        self.redact = redact
        self.written = 0
        self.stopped: str | None = None
        """Why saving stopped, once it has."""
        self._writer: FlowWriter | None = None
        self._file: Any = None
        self._redactor: Redactor | None = None
        self._active: dict[str, Any] = {}
        self._from_options = path is None
        if path is not None:
            self._open(path)

    # -- as a mitmproxy addon ----------------------------------------------------------------------------

    def load(self, loader: Any) -> None:
        if not self._from_options:
            return
        loader.add_option("ocpp_save_flows", str | None, None,
                          "Write every flow into this mitmproxy flow file (secrets redacted).")
        loader.add_option("ocpp_save_flows_redact", bool, True,
                          "Replace passwords and authorization keys in the saved flows with markers.")

    def configure(self, updated: set[str]) -> None:
        if not self._from_options or not updated & {"ocpp_save_flows", "ocpp_save_flows_redact"}:
            return
        self.redact = ctx.options.ocpp_save_flows_redact
        self._close()
        if ctx.options.ocpp_save_flows:
            try:
                self._open(ctx.options.ocpp_save_flows)
            except OSError as exc:
                raise exceptions.OptionsError(f"ocpp_save_flows: {exc}") from None

    def request(self, flow: http.HTTPFlow) -> None:
        if self._writer is not None:
            self._active[flow.id] = flow

    def response(self, flow: http.HTTPFlow) -> None:
        if flow.websocket is None:  # a WebSocket flow is written when it ends, with its messages
            self._save(flow)

    def error(self, flow: http.HTTPFlow) -> None:
        if flow.websocket is None:
            self._save(flow)

    def websocket_end(self, flow: http.HTTPFlow) -> None:
        self._save(flow)

    def done(self) -> None:
        for flow in list(self._active.values()):
            self._save(flow)
        self._close()

    # -- the file ----------------------------------------------------------------------------------------

    def _open(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser()
        self._file = open_private(self.path)
        self._writer = FlowWriter(self._file)
        if self.redact and self._redactor is None:
            self._redactor = Redactor(installation_salt())
        log.info("ocppscope: saving flows to %s", self.path)

    def _save(self, flow: Any) -> None:
        self._active.pop(flow.id, None)
        if self._writer is None:
            return
        copy = self._redactor.flow(flow) if self.redact and self._redactor is not None else flow.copy()
        copy.id = flow.id  # mitmproxy gives a copy a new id; the connection keeps its name (as in the capture)
        copy.metadata.pop(FINDINGS_KEY, None)  # derived again when the file is read, and never redacted
        try:
            self._writer.add(copy)
            self._file.flush()
        except (OSError, ValueError) as exc:
            self._stop(str(exc))
            return
        self.written += 1

    def _stop(self, reason: str) -> None:
        self.stopped = reason
        log.error("ocppscope: SAVING FLOWS STOPPED, the proxy keeps relaying: %s: %s", self.path, reason)
        self._close()

    def _close(self) -> None:
        if self._file is not None:
            try:
                self._file.close()
            except OSError as exc:
                log.error("ocppscope: cannot finish the flow file %s: %s", self.path, exc)
        self._file = self._writer = None


addons = [OcppSaveFlows()]
