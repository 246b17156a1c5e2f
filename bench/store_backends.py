"""Where a store benchmark runs: a temporary SQLite data folder, or a database on a
throwaway PostgreSQL server (pgserver's binaries in a temporary folder, stopped
and deleted at the end).  Stores are opened through the Store's own opening."""

from __future__ import annotations

import contextlib
import importlib.util
import inspect
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from station import paths
from station.store import Store

BACKENDS = ("sqlite", "postgresql")


class Unavailable(Exception):
    """This checkout or machine cannot run the backend (the reason is the message)."""


def postgresql_missing() -> str | None:
    """Why PostgreSQL cannot be benchmarked here, or None when it can."""
    opens_urls = "database" in inspect.signature(Store.open).parameters
    if not opens_urls and importlib.util.find_spec("station.store.locations") is None:
        return "no PostgreSQL backend in this checkout (the pg branch is not merged)"
    for module in ("pgserver", "psycopg"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed (pip install pgserver 'psycopg[binary]')"
    return None


@dataclass
class Place:
    """One backend's home for the benchmark's stores (one store per case)."""

    kind: str
    root: Path
    server: Any = None

    def url(self, case: str) -> str | None:
        if self.server is None:
            return None
        self.server.psql(f"CREATE DATABASE {case};")
        return str(self.server.get_uri(case))

    def open(self, case: str) -> Store:
        folder = self.root / case
        url = self.url(case)
        if url is None:
            return Store.open(folder, actor="bench")
        folder.mkdir(parents=True, exist_ok=True)
        if "database" in inspect.signature(Store.open).parameters:
            return Store.open(folder, actor="bench", database=url)  # type: ignore[call-arg]
        try:
            from station.store.locations import open_backend
        except ImportError as exc:
            raise Unavailable(f"cannot open {url}: {exc}") from None
        return Store(folder, open_backend(url, folder), "bench")

    def bytes_on_disk(self, store: Store, case: str) -> int:
        """The database file (with its write-ahead log), or the server's database size."""
        if self.server is None:
            database = paths.database_path(self.root / case)
            wal = database.with_name(database.name + "-wal")
            # checkpoint() returns without folding anything in while the background
            # checkpointer holds the lock (its PASSIVE pass over a big load takes
            # seconds), and the log keeps its size until a TRUNCATE one succeeds:
            # measured then, every page counts twice.  So wait until the log is empty.
            deadline = time.monotonic() + 300
            while True:
                store.backend.checkpoint()
                if not wal.exists() or wal.stat().st_size == 0:
                    break
                if time.monotonic() > deadline:
                    print(f"  (the write-ahead log of {case} never emptied: counted with it)")
                    break
                time.sleep(0.05)
            return database.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
        import psycopg

        with psycopg.connect(str(self.server.get_uri(case))) as conn:
            row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
        return int(row[0]) if row else 0


@contextlib.contextmanager
def place(kind: str, root: Path) -> Iterator[Place]:
    """A home for ``kind`` stores under ``root``, torn down on exit."""
    if kind == "sqlite":
        yield Place(kind, root / "sqlite")
        return
    if kind != "postgresql":
        raise Unavailable(f"unknown backend {kind!r} (known: {', '.join(BACKENDS)})")
    missing = postgresql_missing()
    if missing:
        raise Unavailable(missing)
    import pgserver

    root.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(root / "pgdata", cleanup_mode="delete")
    try:
        yield Place(kind, root / "postgresql", server)
    finally:
        server.cleanup()


def sqlite_file(store: Store) -> Path | None:
    """The SQLite database behind a store (None on a server)."""
    path = getattr(store.backend, "path", None)
    if path is None or not Path(path).is_file():
        return None
    with contextlib.suppress(sqlite3.Error, OSError), open(path, "rb") as handle:
        if handle.read(16) == b"SQLite format 3\x00":
            return Path(path)
    return None
