"""ocppscope on the mitmproxy this interpreter has: 11.0.x on Python 3.11, 12.x on 3.12+ (``.ci/mitmproxy12``).

That the addon file loads and relays under ``mitmdump -s`` is tests/test_engine_cli.py's job, on both versions.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from mitmproxy.version import VERSION
from ocppscope.addons.compat import MITMPROXY_MAJOR

ROOT = Path(__file__).resolve().parents[1]
MITMDUMP = str(Path(sys.executable).parent / "mitmdump")
OPTIONS = ("ocpp_capture_dir", "ocpp_capture_max_size", "ocpp_capture_redact", "ocpp_capture_split",
           "ocpp_console", "ocpp_handshake_timeout", "ocpp_keep_messages", "ocpp_upstream_timeout")


def test_the_installed_mitmproxy_is_the_one_for_this_python() -> None:
    major_for_this_python = 12 if sys.version_info >= (3, 12) else 11
    assert major_for_this_python == MITMPROXY_MAJOR, f"mitmproxy {VERSION} on Python {sys.version.split()[0]}"


def _mitmdump(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([MITMDUMP, "-s", str(ROOT / "addons" / "ocppscope.py"), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.skipif(MITMPROXY_MAJOR < 12, reason="mitmproxy 11 prints --options before it loads any script")
def test_options_lists_the_ocpp_options_the_docstring_promises() -> None:
    result = _mitmdump("--options")
    assert result.returncode == 0, result.stderr
    for option in OPTIONS:
        assert f"\n{option}:" in result.stdout, option
