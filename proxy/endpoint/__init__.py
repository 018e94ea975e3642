"""The endpoint helper: which settings make a charger model reach a backend, and the way back.

:mod:`proxy.endpoint.forward` turns a backend URL into a model's settings, :mod:`proxy.endpoint.reverse`
rebuilds the URL from a charger's configuration. Both are pure; ``proxy.commands.endpoint`` does the I/O.
"""
