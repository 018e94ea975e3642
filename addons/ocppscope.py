"""ocppscope for people who already run mitmproxy: ``mitmdump -s addons/ocppscope.py --mode reverse:http://…``.

Loads the inspector (the OCPP analysis), the handshake timeouts, the console reporter, the capture writer and
the OCPP content view.
Their options (``--set ocpp_console=findings``, ``--set ocpp_capture_dir=captures``, …) are listed by
``mitmdump -s addons/ocppscope.py --options``. Upstream paths are mitmproxy's own: use ``ocppscope proxy``
for base paths and prefix rewrites.
"""

import sys
from pathlib import Path

# mitmproxy loads this file by path and puts its folder first on sys.path, where this very file would pass for
# the ocppscope package: drop that folder. Loaded from a source tree, that tree's code is used, installed or not.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _HERE]
if (_HERE.parent / "pyproject.toml").is_file():
    sys.path.insert(0, str(_HERE.parent))

from ocppscope.addons.capture import OcppCapture  # noqa: E402
from ocppscope.addons.console import OcppConsole  # noqa: E402
from ocppscope.addons.contentview import OcppContentView  # noqa: E402
from ocppscope.addons.handshake_timeout import OcppHandshakeTimeout  # noqa: E402
from ocppscope.addons.inspector import OcppInspector  # noqa: E402
from ocppscope.addons.routing import OcppRouting  # noqa: E402

addons = [OcppRouting(), OcppInspector(), OcppHandshakeTimeout(), OcppConsole(), OcppCapture(), OcppContentView()]
