"""Generate docs/rules.md from the rule declarations: ``python -m ocppscope.proxy.core.rulesdoc > docs/rules.md``."""

from __future__ import annotations

import importlib
import pkgutil

import ocppscope.proxy.core.checks
from ocppscope.proxy.core.findings import RULES, Rule

_AREAS = {
    "frame": "Frames",
    "rpc": "Requests and answers",
    "version": "OCPP version",
    "schema": "JSON schema",
    "boot": "BootNotification",
    "heartbeat": "Heartbeat",
    "status": "Connector status",
    "meter": "Meter values",
    "authorize": "Authorization",
    "firmware": "Firmware and diagnostics",
    "handshake": "WebSocket handshake",
    "auth": "HTTP Basic authentication",
    "identity": "Charger identity in the URL",
    "lifecycle": "Connections and reconnects",
    "profile": "Charger profiles",
    "config": "Configuration keys (profiles)",
    "limit": "Charger limits (profiles)",
    "call": "Repeated and failing CALLs",
    "ocppscope": "ocppscope itself",
}


RULE_MODULES = ("ocppscope.proxy.core.analyzer", "ocppscope.proxy.profiles.checker")
"""Modules outside ``proxy.core.checks`` that declare rules. Named, not imported: the profile checker builds on
the core, so the core reaches it only here, when the page listing every rule is made."""


def load_all_rules() -> dict[str, Rule]:
    """Import every module that declares rules (each declares them on import) and return the registry."""
    for name in RULE_MODULES:
        importlib.import_module(name)
    for module in pkgutil.iter_modules(ocppscope.proxy.core.checks.__path__):
        importlib.import_module(f"ocppscope.proxy.core.checks.{module.name}")
    return RULES


def render() -> str:
    rules = load_all_rules()
    lines = [
        "# Rules",
        "",
        "Every finding ocppscope reports carries one of these stable rule ids. Severity is the rule's default.",
        "This page is generated from the rule declarations (`make rules-doc`); a test keeps it current.",
        "",
    ]
    areas: dict[str, list[Rule]] = {}
    for declared in rules.values():
        areas.setdefault(declared.area, []).append(declared)
    for area in sorted(areas, key=lambda a: (list(_AREAS).index(a) if a in _AREAS else len(_AREAS), a)):
        lines += [f"## {_AREAS.get(area, area.capitalize())}", ""]
        lines += ["| Rule | Severity | What it means |", "| --- | --- | --- |"]
        for declared in sorted(areas[area], key=lambda r: r.id):
            lines.append(f"| `{declared.id}` | {declared.severity} | {declared.title} |")
        lines.append("")
        for declared in sorted(areas[area], key=lambda r: r.id):
            lines += [f"### `{declared.id}`", "", f"**{declared.severity}**: {declared.title}.", ""]
            lines += [declared.explanation, ""]
            if declared.example:
                lines += ["Example:", "", "```", declared.example, "```", ""]
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    print(render(), end="")
