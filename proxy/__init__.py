"""ocppscope: an OCPP-J debugging proxy.

``proxy.core`` is the sans-I/O inspection core; the engine that runs mitmproxy and the CLI live beside it.
"""

__version__ = "0.1.0"
