"""Fixtures of the sync tests: a PostgreSQL server a test may stop, start and kill, and
stations as separate ``python -m station`` processes, each with its own data folder.

(Not a conftest: tests/network's conftest belongs to the server-roles work.)
"""

from __future__ import annotations

import os
import queue
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

# Declared test dependencies (pgserver brings psutil): a missing one fails, never skips.
import pgserver
import psutil
import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 180


class PgServer:
    """One PostgreSQL cluster in its own folder, started and stopped on demand."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._server: Any = None
        self.url = ""

    def start(self) -> str:
        self._server = pgserver.get_server(self.folder, cleanup_mode="stop")
        url = self._server.get_uri()
        assert not self.url or url == self.url, "the server came back at another address"
        self.url = url
        return url

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None

    def kill(self) -> None:
        """A crash: SIGKILL the postmaster and every backend at once."""
        pid = int((self.folder / "postmaster.pid").read_text().split()[0])
        main = psutil.Process(pid)
        victims = [main, *main.children(recursive=True)]
        for proc in victims:
            proc.send_signal(signal.SIGKILL)
        psutil.wait_procs(victims, timeout=30)
        self.stop()

    def drop_connections(self) -> int:
        """The network cut: every other client's connection closed by the server."""
        with psycopg.connect(self.url, autocommit=True) as admin:
            rows = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'"
            ).fetchall()
        return len(rows)

    def counts(self) -> dict[str, int]:
        return table_counts(lambda sql: _server_one(self.url, sql))


def one(conn: Any, sql: str, *params: Any) -> Any:
    """The one value a query on a psycopg connection gives."""
    row = conn.execute(sql, params).fetchone()
    assert row is not None, sql
    return row[0]


def _server_one(url: str, sql: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        return int(conn.execute(sql).fetchone()[0])


COUNTED = {
    "tests": "SELECT count(*) FROM tests",
    "test uuids": "SELECT count(DISTINCT uuid) FROM tests",
    "recordings": "SELECT count(*) FROM recordings",
    "results": "SELECT count(*) FROM results",
    "current results": "SELECT count(*) FROM results WHERE is_current = 1",
    "curves": "SELECT count(*) FROM curves",
    "reps": "SELECT count(*) FROM reps",
    "athletes": "SELECT count(*) FROM athletes",
}


def table_counts(one: Any) -> dict[str, int]:
    return {name: one(sql) for name, sql in COUNTED.items()}


@pytest.fixture
def clinic_server() -> Iterator[PgServer]:
    """A running server in a short temporary folder (its socket lives there)."""
    folder = Path(tempfile.mkdtemp(prefix="nssy-"))
    server = PgServer(folder)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def station_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "NORDIC_STATION"))}
    env["NORDIC_STATION_HOME"] = str(home)
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


def station(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """One ``nordic-station`` command of the station whose data folder is ``home``."""
    return subprocess.run(
        [sys.executable, "-m", "station", *args],
        env=station_env(home, **env),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
        cwd=ROOT,
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


class Running:
    """A station command running in the background; its stderr read line by line."""

    def __init__(self, home: Path, *args: str, **env: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "station", *args],
            env=station_env(home, **env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.put(line)

    def wait_for(self, text: str, timeout: float = TIMEOUT_S) -> None:
        """Block until a stderr line holds ``text`` (or fail, showing what was seen)."""
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                pytest.fail(f"no {text!r} on stderr; saw {self.seen}")
            self.seen.append(line)
            if text in line:
                return

    def finish(self) -> tuple[int, str, str]:
        assert self.proc.stdout is not None
        out = self.proc.stdout.read()
        self.proc.wait(timeout=TIMEOUT_S)
        self._reader.join(timeout=TIMEOUT_S)
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return self.proc.returncode, out, "".join(self.seen)

    def resume(self) -> None:
        """End the sync's pause now (the test has acted)."""
        self.proc.send_signal(signal.SIGUSR1)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=TIMEOUT_S)


def local_db(home: Path) -> sqlite3.Connection:
    return sqlite3.connect(home / "nordic-station.sqlite3")


def local_counts(home: Path) -> dict[str, int]:
    with closing(local_db(home)) as conn:
        return table_counts(lambda sql: int(conn.execute(sql).fetchone()[0]))


def local_recordings(home: Path) -> dict[str, bytes]:
    """Each test's uuid and its raw recording's bytes."""
    with closing(local_db(home)) as conn:
        rows = conn.execute(
            "SELECT t.uuid, r.data FROM tests t JOIN recordings r ON r.id = t.recording_id"
        ).fetchall()
    return {uuid: bytes(data) for uuid, data in rows}


def server_recordings(url: str) -> dict[str, bytes]:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT t.uuid, r.data FROM tests t JOIN recordings r ON r.id = t.recording_id"
        ).fetchall()
    return {uuid: bytes(data) for uuid, data in rows}


def absent_recordings(home: Path) -> int:
    """Recordings this station pulled without their bytes (still on the server)."""
    with closing(local_db(home)) as conn:
        return int(conn.execute("SELECT count(*) FROM recordings WHERE absent = 1").fetchone()[0])


def fetch_all(home: Path) -> str:
    """``sync --recordings``: every raw recording pulled without its bytes, fetched."""
    out = ok(station(home, "sync", "--recordings"))
    assert absent_recordings(home) == 0, out
    return out
