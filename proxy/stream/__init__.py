"""The local event stream between a proxy process and the UIs that watch it.

- :mod:`proxy.stream.wire`: the format (capture records with the analysis alongside, in batches).
- :mod:`proxy.stream.server`: the hub listener serving it over WebSockets, loopback and token by default.
- :mod:`proxy.stream.inject`: CALLs injected into live connections, their answers held back.
- :mod:`proxy.stream.addon` and :mod:`proxy.stream.options`: ``ocppscope proxy --stream`` / ``--tui``.
- :mod:`proxy.stream.client`: the client the TUI attaches with.
"""
