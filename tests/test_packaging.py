"""One importable package on disk: the wheel installs ``ocppscope`` only, so another distribution's top-level
``proxy`` (the popular proxy.py) cannot overwrite ocppscope's code, and the installed copy starts on its own."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.timeout(240)


def test_every_source_package_is_listed_under_ocppscope() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {"ocppscope"} | {"ocppscope." + ".".join(init.parent.relative_to(ROOT).parts)
                               for top in ("proxy", "tui", "addons") for init in (ROOT / top).rglob("__init__.py")}
    assert listed == on_disk, "pyproject.toml's packages are the folders with an __init__.py"
    strays = [str(folder.relative_to(ROOT)) for top in ("proxy", "tui", "addons") for folder in (ROOT / top).rglob("*")
              if folder.is_dir() and folder.name != "__pycache__" and any(folder.glob("*.py"))
              and not (folder / "__init__.py").exists()]
    assert not strays, f"folders of code without an __init__.py are left out of the wheel: {strays}"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from this tree, installed into a folder of its own beside a stand-in for proxy.py."""
    work = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                    str(work / "dist"), str(ROOT)], check=True, timeout=180, capture_output=True)
    wheel = next((work / "dist").glob("ocppscope-*.whl"))
    tops = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()}
    assert {top for top in tops if not top.endswith(".dist-info")} == {"ocppscope"}, tops
    target = work / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True, timeout=120, capture_output=True)
    # proxy.py installs a top-level package named proxy; it must not matter to ocppscope.
    (target / "proxy").mkdir()
    (target / "proxy" / "__init__.py").write_text("raise ImportError('this is proxy.py, not ocppscope')\n")
    return target


def _run(installed: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # Outside the source tree, with the installed copy first on the path (the editable install comes later).
    env = {**os.environ, "PYTHONPATH": str(installed)}
    return subprocess.run(list(args), cwd=installed.parent, env=env, capture_output=True, text=True, timeout=120,
                          check=False)


def test_the_installed_copy_starts_beside_another_proxy_package(installed: Path) -> None:
    where = _run(installed, sys.executable, "-c", "import ocppscope.proxy.cli as cli; print(cli.__file__)")
    assert where.returncode == 0, where.stderr
    assert where.stdout.strip().startswith(str(installed / "ocppscope")), "the installed copy was imported"
    done = _run(installed, sys.executable, "-m", "ocppscope", "check", str(ROOT / "captures" / "demo-session.jsonl"),
                "--fail-on", "never")
    assert done.returncode == 0, done.stderr
    assert "frames" in done.stdout


def test_mitmdump_loads_the_installed_addon(installed: Path) -> None:
    """``mitmdump -s`` with the addon file of an installed copy (the path docs/proxy.md tells how to find)."""
    addon = installed / "ocppscope" / "addons" / "ocppscope.py"
    empty = installed.parent / "empty.flows"
    empty.write_bytes(b"")
    mitmdump = str(Path(sys.executable).parent / "mitmdump")
    done = _run(installed, mitmdump, "-n", "-r", str(empty), "-s", str(addon), "--set", "ocpp_console=findings")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "error in script" not in done.stdout + done.stderr
    assert "── ocppscope summary ──" in done.stdout, "the addons loaded and reported"
