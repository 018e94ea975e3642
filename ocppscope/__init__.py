"""ocppscope, an OCPP-J debugging proxy.

One importable package: :mod:`ocppscope.proxy` (the sans-I/O inspection core, the engine around mitmproxy and
the command line), :mod:`ocppscope.tui` (the Textual app) and :mod:`ocppscope.addons` (mitmproxy addons, also
loadable with ``mitmdump -s``). In the source tree they are the top-level folders ``proxy/``, ``tui/`` and
``addons/``, mapped under this name by ``pyproject.toml``.
"""

from pathlib import Path

_TREE = Path(__file__).resolve().parent.parent
if (_TREE / "pyproject.toml").is_file() and (_TREE / "proxy" / "core").is_dir():
    # A source tree (a clone run in place, ``mitmdump -s addons/ocppscope.py``): the folders of the package
    # are this folder's siblings. An installed copy has them inside this folder.
    __path__.append(str(_TREE))
