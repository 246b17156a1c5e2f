"""The flow goes one way (bytes -> samples -> newtons -> metrics -> storage ->
screen): each package imports only what is upstream of it, and only the app
imports Qt.  Every module of every package is checked, relative imports
included, and each rule is shown to catch a deliberate violation."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = ("firmware_bridge", "calibration", "station")
QT = ("PySide6", "shiboken6", "pyqtgraph")

# The layers, most upstream first; each may import itself and the layers listed.
# ``station`` is the package's root modules (paths, logs, version), not its subpackages.
UPSTREAM: dict[str, set[str]] = {
    "firmware_bridge": set(),
    "calibration": {"firmware_bridge"},
    "station.analysis": {"calibration", "firmware_bridge"},
    "station": {"firmware_bridge"},
    "station.store": {"station", "station.analysis", "calibration", "firmware_bridge"},
    "station.streaming": {"station", "station.analysis", "calibration", "firmware_bridge"},
    "station.present": {
        "station.store",
        "station",
        "station.analysis",
        "calibration",
        "firmware_bridge",
    },
}
# The two front doors see everything upstream; the CLI may open the app (``gui``),
# the app never reaches into the CLI.
UPSTREAM["station.app"] = set(UPSTREAM) | {"station.present"}
UPSTREAM["station.cli"] = UPSTREAM["station.app"] | {"station.app"}
LAYERS = sorted(UPSTREAM, key=len, reverse=True)


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> str | None:
    """The layer a module belongs to (``station.__main__`` is the CLI's)."""
    if module == "station.__main__":
        return "station.cli"
    for layer in LAYERS:
        if layer == "station":
            # a root module (station.paths), unless it names a subpackage
            root_module = module == "station" or (
                module.count(".") == 1 and module.startswith("station.")
            )
            if module == "station" or (root_module and module not in UPSTREAM):
                return layer
            continue
        if module == layer or module.startswith(layer + "."):
            return layer
    return None


def imported_modules(path: Path, root: Path) -> set[str]:
    """Every module a file imports, relative imports resolved against its package."""
    module = module_name(path, root)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                prefix = ".".join(base)
                if node.module:
                    names.add(f"{prefix}.{node.module}")
                else:
                    names.update(f"{prefix}.{alias.name}" for alias in node.names)
            elif node.module:
                names.add(node.module)
                # ``from station import store`` imports the subpackage station.store
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def violations(root: Path) -> list[str]:
    """Every import in the tree under ``root`` that breaks the flow or loads Qt outside the app."""
    wrong = []
    for top in OURS:
        for path in sorted((root / top).rglob("*.py")):
            module = module_name(path, root)
            layer = layer_of(module)
            if layer is None:
                wrong.append(f"{path.relative_to(root)} belongs to no layer")
                continue
            for name in sorted(imported_modules(path, root)):
                if name.split(".")[0] in QT and layer != "station.app":
                    wrong.append(f"{path.relative_to(root)} imports Qt ({name})")
                if not name.startswith(OURS):
                    continue
                target = layer_of(name)
                if target is None:
                    # ``from station import __version__``: a name, not a module
                    target = layer_of(name.rpartition(".")[0])
                if target is None or (target != layer and target not in UPSTREAM[layer]):
                    wrong.append(f"{path.relative_to(root)} ({layer}) imports {name}")
    return wrong


def test_every_module_imports_only_upstream() -> None:
    wrong = violations(ROOT)
    assert not wrong, "\n".join(wrong)


def test_every_module_is_in_a_layer() -> None:
    checked = {layer_of(module_name(p, ROOT)) for top in OURS for p in (ROOT / top).rglob("*.py")}
    assert {"station.app", "station.cli", "station.store", "firmware_bridge"} <= checked


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for top in OURS:
        (tmp_path / top).mkdir(parents=True, exist_ok=True)
        (tmp_path / top / "__init__.py").write_text("")
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        for parent in path.relative_to(tmp_path).parents:
            if str(parent) != ".":
                (tmp_path / parent / "__init__.py").touch()
        path.write_text(text)
    return tmp_path


@pytest.mark.parametrize(
    ("rel", "text", "expected"),
    [
        ("station/store/bad.py", "from station.app.shell import theme\n", "imports station.app"),
        ("station/store/bad.py", "import station.app.shell.theme\n", "imports station.app"),
        ("station/store/bad.py", "from ..app.shell import theme\n", "imports station.app"),
        ("station/store/bad.py", "from station import app\n", "imports station.app"),
        ("station/store/bad.py", "from station.cli import main\n", "imports station.cli"),
        ("station/analysis/bad.py", "from station.store import Store\n", "imports station.store"),
        ("station/analysis/bad.py", "from ..store import Store\n", "imports station.store"),
        ("station/analysis/sub/bad.py", "from ... import store\n", "imports station.store"),
        ("firmware_bridge/bad.py", "from calibration import fit\n", "imports calibration"),
        ("station/app/bad.py", "from station.cli import main\n", "imports station.cli"),
        ("station/cli/bad.py", "from PySide6.QtWidgets import QWidget\n", "imports Qt"),
        ("station/store/bad.py", "import pyqtgraph\n", "imports Qt"),
        ("station/paths2.py", "from station.store import Store\n", "imports station.store"),
    ],
)
def test_a_deliberate_violation_is_caught(
    tmp_path: Path, rel: str, text: str, expected: str
) -> None:
    root = _tree(tmp_path, {rel: text})
    wrong = violations(root)
    assert any(rel in line and expected in line for line in wrong), wrong


def test_allowed_imports_pass(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "station/store/ok.py": "from ..analysis import x\nfrom station.paths import data_dir\n",
            "station/app/ok.py": "from PySide6 import QtCore\nfrom station.store import Store\n",
            "station/cli/ok.py": "from station.app.shell import app\n",
            "station/__main__.py": "from station.cli import main\n",
        },
    )
    assert violations(root) == []


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
