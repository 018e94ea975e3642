"""What differs between the mitmproxy versions ocppscope runs on: 11.0.x (Python 3.11) and 12.x (3.12+).

Only the content-view API differs in what ocppscope uses: mitmproxy 11 takes a ``contentviews.View`` that
returns a title and styled lines, mitmproxy 12 a ``contentviews.Contentview`` whose ``prettify`` returns text.
Everything version-specific lives here; the view itself (:mod:`addons.contentview`) renders once for both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mitmproxy import contentviews
from mitmproxy.version import VERSION

MITMPROXY_MAJOR = int(VERSION.split(".", 1)[0])

Lines = list[tuple[str, str]]
"""One (style, text) pair per line; styles are mitmproxy 11's names (``text``, ``warn``, ``error``)."""
Render = Callable[[bytes, Any, Any], tuple[str, Lines]]
"""(data, flow, websocket message) → (title, lines)."""
Priority = Callable[[bytes, Any, Any], float]
"""(data, flow, websocket message) → how much this view wants the data (0: not at all)."""


def register_view(name: str, render: Render, priority: Priority) -> Callable[[], None]:
    """Register a content view called ``name`` with mitmproxy; returns the function that unregisters it."""
    if MITMPROXY_MAJOR >= 12:
        return _register_12(name, render, priority)
    return _register_11(name, render, priority)


def _register_11(name: str, render: Render, priority: Priority) -> Callable[[], None]:
    class View(contentviews.View):  # type: ignore[misc,name-defined]
        def __call__(self, data: bytes, *, flow: Any = None, **metadata: Any) -> Any:
            title, lines = render(data, flow, metadata.get("websocket_message"))
            return title, ([line] for line in lines)

        def render_priority(self, data: bytes, *, flow: Any = None, **metadata: Any) -> float:
            return priority(data, flow, metadata.get("websocket_message"))

    View.name = name
    view = View()
    if contentviews.get(name) is None:
        contentviews.add(view)

    def unregister() -> None:
        if contentviews.get(name) is view:
            contentviews.remove(view)

    return unregister


def _register_12(name: str, render: Render, priority: Priority) -> Callable[[], None]:
    class View:
        # A structural contentviews.Contentview: mitmproxy 12 checks the protocol, not the base class.
        syntax_highlight = "none"

        @property
        def name(self) -> str:
            return name

        def prettify(self, data: bytes, metadata: Any) -> str:
            title, lines = render(data, metadata.flow, metadata.websocket_message)
            return "\n".join([title, *(text for _, text in lines)])

        def render_priority(self, data: bytes, metadata: Any) -> float:
            return priority(data, metadata.flow, metadata.websocket_message)

        def __lt__(self, other: Any) -> bool:
            return name < other.name

    contentviews.add(View())

    def unregister() -> None:
        # mitmproxy 12 has no public way to remove a view (``contentviews.remove`` is a no-op there); a later
        # registration under the same name replaces this one.
        pass

    return unregister
