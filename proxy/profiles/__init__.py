"""Vendor capability profiles: what a charger model really supports and accepts, as TOML data.

Modules: :mod:`model` (the data), :mod:`parse` and :mod:`loader` (TOML files, ``extends``, errors with file
and line), :mod:`values` (judging one configuration value), :mod:`selection` (which profile applies to which
charger), :mod:`lint`, :mod:`checker` (the inspection-core checker that applies them to traffic) and
:mod:`options` (the command-line options and the checker constructor that ``check``, ``proxy`` and ``replay``
share). The dependency runs one way: this package uses the inspection core, the core knows nothing of it.
"""

from __future__ import annotations

from typing import Any

_LAZY = {"add_profile_arguments", "profile_checker", "profile_checker_from_args"}


def __getattr__(name: str) -> Any:
    # Lazy: reading the profile data (proxy.profiles.model) need not load the checker and the inspection core.
    if name in _LAZY:
        from ocppscope.proxy.profiles import options

        return getattr(options, name)
    raise AttributeError(name)
