"""The flow goes one way (bytes -> samples -> newtons -> metrics -> storage ->
screen): each package imports only what is upstream of it, and only the app
imports Qt."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Which top-level packages each package may import from (its own included).
ALLOWED = {
    "firmware_bridge": {"firmware_bridge"},
    "calibration": {"calibration", "firmware_bridge"},
    "station.analysis": {"station.analysis", "calibration", "firmware_bridge"},
    "station.store": {
        "station.store",
        "station.analysis",
        "station.paths",
        "station",
        "calibration",
        "firmware_bridge",
    },
    "station.present": {
        "station.present",
        "station.store",
        "station.analysis",
        "station.paths",
        "calibration",
        "firmware_bridge",
    },
}
OURS = ("firmware_bridge", "calibration", "station")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def layer_of(module: str) -> str | None:
    for layer in sorted(ALLOWED, key=len, reverse=True):
        if module == layer or module.startswith(layer + "."):
            return layer
    return None


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_packages_import_only_upstream(package: str) -> None:
    folder = ROOT.joinpath(*package.split("."))
    wrong = []
    for path in folder.rglob("*.py"):
        for name in imported_modules(path):
            if not name.startswith(OURS):
                continue
            target = layer_of(name) or name
            allowed = ALLOWED[package]
            if not any(target == a or target.startswith(a + ".") for a in allowed):
                wrong.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not wrong, "\n".join(wrong)


def test_nothing_outside_the_app_loads_qt() -> None:
    code = (
        "import importlib, pkgutil, sys\n"
        "import firmware_bridge, calibration, station\n"
        "for pkg in (firmware_bridge, calibration, station):\n"
        "    for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        if info.name.startswith('station.app') or info.name.endswith('__main__'):\n"
        "            continue\n"
        "        importlib.import_module(info.name)\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph'))\n"
        "print(loaded)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_presentation_loads_with_qt_blocked() -> None:
    """station.present (numbers, units, report content) imports with PySide6 unavailable, so
    the command line can make the same reports on a machine without Qt."""
    code = (
        "import importlib, pkgutil, sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('PySide6', 'pyqtgraph', 'shiboken6'):\n"
        "            raise ImportError('blocked: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import station.present\n"
        "for info in pkgutil.walk_packages(station.present.__path__, 'station.present.'):\n"
        "    importlib.import_module(info.name)\n"
        "from station.present.numbers import format_number\n"
        "print(format_number(6.55, 1))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "6.6"
