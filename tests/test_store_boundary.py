"""Nothing outside ``station.store`` knows which backend a store has: the app, the CLI
and the presentation layer never touch ``.backend`` and never import a backend's
package (SQLite today, PostgreSQL next), so a new backend needs no caller edited.
Each rule is shown to catch a deliberate violation."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CALLERS = ("station/app", "station/cli", "station/present")
BACKEND_MODULES = (
    "station.store.backend",
    "station.store.sqlite",
    "station.store.postgres",
    "station.store.schema",
    "station.store.locations",
)
# The clinic server's administration (``nordic-station server``: roles, row-level
# security, views) works on a server database itself, not through a store: not a backend.
SERVER_ADMINISTRATION = "station.store.postgres.server"
BACKEND_NAMES = {"SqliteStore", "Backend", "PostgresStore", "open_backend"}


def violations(source: str, where: str) -> list[str]:
    """Every use of a store's backend in one module's source."""
    tree = ast.parse(source)
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in ("backend", "_backend"):
            found.append(f"{where}:{node.lineno}: .{node.attr}")
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith(BACKEND_MODULES) and not node.module.startswith(
                SERVER_ADMINISTRATION
            ):
                found.append(f"{where}:{node.lineno}: from {node.module} import ...")
            elif node.module == "station.store":
                names = {alias.name for alias in node.names} & BACKEND_NAMES
                found += [f"{where}:{node.lineno}: imports {name}" for name in sorted(names)]
        elif isinstance(node, ast.Import):
            found += [
                f"{where}:{node.lineno}: import {alias.name}"
                for alias in node.names
                if alias.name.startswith(BACKEND_MODULES)
            ]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "getattr"
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and node.args[1].value in ("backend", "_backend")
        ):
            found.append(f"{where}:{node.lineno}: getattr(..., {node.args[1].value!r})")
    return found


def caller_files() -> list[Path]:
    files = [path for folder in CALLERS for path in sorted((ROOT / folder).rglob("*.py"))]
    assert len(files) > 50  # the scan really covers the app, the CLI and present
    return files


def test_no_caller_outside_the_store_touches_its_backend() -> None:
    found: list[str] = []
    for path in caller_files():
        found += violations(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    assert found == [], "use a Store service or property instead:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "source",
    [
        "store.backend.migrated_from",
        "self.context.store._backend.close()",
        "getattr(store, 'backend')",
        "from station.store.sqlite import SqliteStore",
        "from station.store import SqliteStore",
        "import station.store.postgres.connection",
        "from station.store.locations import open_backend",
    ],
)
def test_the_scan_catches_a_backend_use(source: str) -> None:
    assert violations(source, "x.py") != []


def test_the_scan_lets_services_and_properties_through() -> None:
    source = "store.upgrade\nstore.athletes.add('A')\nfrom station.store import Store, open_store"
    assert violations(source, "x.py") == []
