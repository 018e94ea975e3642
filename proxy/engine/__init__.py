"""The live proxy: mitmproxy run programmatically as a transparent OCPP relay, feeding the inspection core.

- :mod:`proxy.engine.routes`: listeners, upstreams, path rewrites (pure).
- :mod:`proxy.engine.engine`: :class:`ProxyEngine`, a bare mitmproxy Master with ocppscope's addons.
- :mod:`proxy.engine.hub`: numbering, analysis and fan-out of events to :class:`Listener` objects.
- :mod:`proxy.engine.embed`: :func:`open_proxy`, the async context manager for the demo, tests and apps.
- :mod:`proxy.engine.bridge`, :mod:`proxy.engine.pingtap`, :mod:`proxy.engine.closing`: what touches mitmproxy.
"""

from ocppscope.proxy.engine.embed import RunningProxy, open_proxy
from ocppscope.proxy.engine.engine import EngineConfig, Listening, ProxyEngine
from ocppscope.proxy.engine.hub import CallbackListener, Hub, Listener, Summary
from ocppscope.proxy.engine.routes import Rewrite, Route, Upstream

__all__ = [
    "CallbackListener",
    "EngineConfig",
    "Hub",
    "Listener",
    "Listening",
    "ProxyEngine",
    "Rewrite",
    "Route",
    "RunningProxy",
    "Summary",
    "Upstream",
    "open_proxy",
]
