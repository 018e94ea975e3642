"""ocppscope for people who already run mitmproxy: ``mitmdump -s addons/ocppscope.py --mode reverse:http://…``.

Loads the inspector (the OCPP analysis), the handshake timeouts, the console reporter, the capture writer and
the OCPP content view.
Their options (``--set ocpp_console=findings``, ``--set ocpp_capture_dir=captures``, …) are listed by
``mitmdump -s addons/ocppscope.py --options``. Upstream paths are mitmproxy's own: use ``ocppscope proxy``
for base paths and prefix rewrites.
"""

import sys
from pathlib import Path

# mitmproxy loads this file by path; make the project importable when it is not installed.
_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from addons.capture import OcppCapture  # noqa: E402
from addons.console import OcppConsole  # noqa: E402
from addons.contentview import OcppContentView  # noqa: E402
from addons.handshake_timeout import OcppHandshakeTimeout  # noqa: E402
from addons.inspector import OcppInspector  # noqa: E402
from addons.routing import OcppRouting  # noqa: E402

addons = [OcppRouting(), OcppInspector(), OcppHandshakeTimeout(), OcppConsole(), OcppCapture(), OcppContentView()]
