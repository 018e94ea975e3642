"""The dependency between the inspection core and the vendor profiles runs one way: profiles → core."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "proxy" / "core"


def _imported_modules(path: Path) -> list[tuple[int, str]]:
    """Every module an ``import`` or ``from ... import`` in ``path`` names, anywhere in the file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def test_no_core_module_imports_the_profiles() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in sorted(CORE.rglob("*.py"))
        for line, name in _imported_modules(path)
        if name == "ocppscope.proxy.profiles" or name.startswith("ocppscope.proxy.profiles.")
    ]
    assert offenders == []


def test_the_scan_sees_imports_inside_functions(tmp_path: Path) -> None:
    module = tmp_path / "late.py"
    module.write_text("def f():\n    from ocppscope.proxy.profiles.model import Profile\n"
                      "    import ocppscope.proxy.profiles\n")
    assert [name for _, name in _imported_modules(module)] == [
        "ocppscope.proxy.profiles.model", "ocppscope.proxy.profiles.model.Profile", "ocppscope.proxy.profiles"]


def test_loading_the_core_and_its_checkers_loads_no_profile_module() -> None:
    script = (
        "import importlib, pkgutil, sys\n"
        "import ocppscope.proxy.core, ocppscope.proxy.core.checks\n"
        "for package in (ocppscope.proxy.core, ocppscope.proxy.core.checks):\n"
        "    for module in pkgutil.iter_modules(package.__path__):\n"
        "        importlib.import_module(f'{package.__name__}.{module.name}')\n"
        "ocppscope.proxy.core.checks.default_checkers()\n"
        "print(sorted(name for name in sys.modules if name.startswith('ocppscope.proxy.profiles')))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            check=True)
    assert result.stdout.strip() == "[]"


def test_the_rules_page_still_lists_the_profile_rules() -> None:
    from ocppscope.proxy.core.rulesdoc import load_all_rules

    rules = load_all_rules()
    assert {"profile.selected", "config.read-only", "limit.local-list"} <= set(rules)
