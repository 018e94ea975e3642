"""Routing: each listener's requests go to its backend under the backend's base path. Its one job is the path.

mitmproxy's reverse mode already picks the backend host from the listener; this adds what OCPP backends
need on top: a base path in front of the charger's path and prefix rewrites. The charger's own path is kept
in the flow's metadata, because the identity rules judge what the charger sent, not what the backend got.
"""

from __future__ import annotations

from collections.abc import Sequence

from mitmproxy import http
from mitmproxy.proxy.mode_specs import ProxyMode
from ocppscope.proxy.engine.bridge import CHARGER_PATH
from ocppscope.proxy.engine.routes import Route


class OcppRouting:
    name = "ocpprouting"

    def __init__(self, routes: Sequence[Route] = ()) -> None:
        self._by_spec = {ProxyMode.parse(route.mode_spec()).full_spec: route for route in routes}

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        path = flow.request.path
        flow.metadata[CHARGER_PATH] = path
        route = self._by_spec.get(flow.client_conn.proxy_mode.full_spec)
        if route is not None:
            flow.request.path = route.upstream_path(path)
