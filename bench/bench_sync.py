"""Sync figures (issue 14): push 1,000 tests (80 Hz, 60 s each) from one station to an
empty server; push 100 tests to a server that already holds 100,000; a new station's
pull of the first server's tests (without their raw recordings), then the fetch of
those recordings (``sync --recordings``); and how long a 10 ms tick on another thread waits
while a sync runs (the GUI thread's share of the interpreter during a background sync).

``--scale 0.1`` divides every count by ten (a quick run).  The station's tests are
one real import (virtual rig, 80 Hz, 60 s, 6 reps) cloned with new uuids and a raw
recording made distinct by 8 bytes appended (the sync treats recordings as opaque
bytes); the server's 100,000 are cloned on the server with 8-byte recordings and no
curves or reps (they are there for the lookups' and indexes' sake, not their size).

Then the no-op sync: a station that holds all of that server's tests (pulled once)
syncs again with nothing new either way; the median of several runs, routine (only
the rows above its marks are listed) and ``full`` (every key listed, as every pull
did before the marks).  ``--only noop`` skips the 1,000-test push and its pull.
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import os
import shutil
import sqlite3
import statistics
import tempfile
import threading
import time
import uuid
from contextlib import closing
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg

if __package__ in (None, ""):  # run as a file: the repository's root holds tests/
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from station import paths
from station.store.store import Store
from station.store.sync import join, sync_now
from station.store.sync.hooks import BATCH_ENV
from station.store.sync.recordings import fetch_recordings
from tests.store import synth


def _database(admin_url: str, name: str) -> str:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    parts = urlsplit(admin_url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def station_with_tests(folder: Path, count: int) -> None:
    """One real 60 s test, cloned to ``count`` (new uuids, distinct recordings)."""
    capture = folder.parent / f"{folder.name}.nsrec"
    synth.write_recording(capture, synth.capture(seconds=60.0, reps=6))
    with Store.open(folder) as opened:
        store: Any = opened
        if hasattr(store, "new_tests"):  # the store made of services
            athlete = store.athletes.add(name="Bench Athlete", team="A")
            store.new_tests.import_file(athlete, capture)
        else:
            athlete = store.athletes.add(name="Bench Athlete", team="A")
            store.new_tests.import_file(athlete, capture)
    with closing(sqlite3.connect(paths.database_path(folder))) as conn, conn:
        conn.row_factory = sqlite3.Row
        test = dict(conn.execute("SELECT * FROM tests").fetchone())
        recording = dict(conn.execute("SELECT * FROM recordings").fetchone())
        results = [dict(r) for r in conn.execute("SELECT * FROM results ORDER BY id")]
        curves = [dict(r) for r in conn.execute("SELECT * FROM curves")]
        reps = [dict(r) for r in conn.execute("SELECT * FROM reps")]
        for i in range(1, count):
            data = bytes(recording["data"]) + i.to_bytes(8, "big")
            rec_id = _insert(conn, "recordings", recording, data=data, size=len(data),
                             sha256=hashlib.sha256(data).hexdigest())  # fmt: skip
            test_id = _insert(conn, "tests", test, uuid=str(uuid.uuid4()), recording_id=rec_id)
            for result in results:
                result_id = _insert(conn, "results", result, uuid=str(uuid.uuid4()),
                                    test_id=test_id, curves_result_id=None)  # fmt: skip
                for curve in curves:
                    _insert(conn, "curves", curve, result_id=result_id, key=None)
            for rep in reps:
                _insert(conn, "reps", rep, test_id=test_id)


def _insert(
    conn: sqlite3.Connection, table: str, row: dict[str, Any], key: str | None = "id", **new: Any
) -> int | None:
    values = {k: v for k, v in {**row, **new}.items() if k != "id" and k != "key"}
    if "curves_result_id" in values and values["curves_result_id"] is not None:
        values["curves_result_id"] = None
    cur = conn.execute(
        f"INSERT INTO {table} ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
        list(values.values()),
    )
    return cur.lastrowid


def preload_server(url: str, count: int) -> None:
    """Clone the server's one test ``count`` times, on the server (tiny recordings)."""
    with psycopg.connect(url, autocommit=True) as conn, conn.transaction():
        cols = lambda t: [  # noqa: E731
            r[0]
            for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                "AND column_name NOT IN ('id', 'uuid', 'seq') ORDER BY ordinal_position",
                (t,),
            )
        ]
        conn.execute(
            "INSERT INTO recordings (sha256, size, kind, stored_at, data) "
            "SELECT md5(g::text) || md5((g + 1)::text), 8, kind, stored_at, int8send(g) "
            "FROM generate_series(1, %s) g, (SELECT * FROM recordings LIMIT 1) r",
            (count,),
        )
        test_cols = [c for c in cols("tests") if c != "recording_id"]
        conn.execute(
            f"INSERT INTO tests (uuid, recording_id, {', '.join(test_cols)}) "
            f"SELECT gen_random_uuid()::text, r.id, {', '.join('t.' + c for c in test_cols)} "
            "FROM recordings r, (SELECT * FROM tests LIMIT 1) t WHERE r.size = 8"
        )
        result_cols = [c for c in cols("results") if c not in ("test_id", "curves_result_id")]
        conn.execute(
            f"INSERT INTO results (uuid, test_id, {', '.join(result_cols)}) "
            f"SELECT gen_random_uuid()::text, t.id, {', '.join('x.' + c for c in result_cols)} "
            "FROM tests t, (SELECT * FROM results WHERE is_current = 1 LIMIT 1) x "
            "WHERE t.recording_id IN (SELECT id FROM recordings WHERE size = 8)"
        )
        conn.execute(
            "INSERT INTO audit_log (uuid, at, actor, entity, entity_id, action) "
            "SELECT gen_random_uuid()::text, t.created_at, 'bench', 'test', t.id, 'create' "
            "FROM tests t WHERE t.recording_id IN (SELECT id FROM recordings WHERE size = 8)"
        )
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def ticks_while(work: threading.Thread, period_s: float = 0.010) -> list[float]:
    """How late each 10 ms tick of this thread is while ``work`` runs (seconds)."""
    late: list[float] = []
    work.start()
    next_at = time.perf_counter() + period_s
    while work.is_alive():
        time.sleep(max(0.0, next_at - time.perf_counter()))
        now = time.perf_counter()
        late.append(now - next_at)
        next_at = now + period_s
    work.join()
    return late


def with_recordings(folder: Path, url: str) -> None:
    """A pull as it was before schema 9: each test's raw recording copied with it."""
    from unittest import mock

    from station.store.sync import pull
    from station.store.sync.rows import copy_rows
    from station.store.sync.tables import RECORDINGS

    join(folder, url)
    whole = lambda server, local, shas: copy_rows(server, local, RECORDINGS, shas)  # noqa: E731
    with mock.patch.object(pull, "pull_without_bytes", whole):
        sync_now(folder)


def timed_push(folder: Path, url: str, gap: bool = False) -> tuple[float, int, int, list[float]]:
    join(folder, url)
    out: dict[str, object] = {}

    def run() -> None:
        start = time.perf_counter()
        report = sync_now(folder, push_only=True)
        out["s"] = time.perf_counter() - start
        out["report"] = report

    late: list[float] = []
    if gap:
        late = ticks_while(threading.Thread(target=run))
    else:
        run()
    report = out["report"]
    return out["s"], report.sent["tests"], report.bytes_sent, late  # type: ignore[attr-defined, return-value]


def _megabytes(folder: Path) -> float:
    """The size of a station's database file."""
    return paths.database_path(folder).stat().st_size / 1e6


def push_and_pull(work: Path, admin: str, n_push: int) -> None:
    """Push 1,000 tests to an empty server, with the tick figures; a new station pulls them."""
    print(f"building a station of {n_push} tests ...", flush=True)
    station_with_tests(work / "s1", n_push)
    print(f"  station database: {_megabytes(work / 's1'):.1f} MB")
    url1 = _database(admin, "bench_sync_empty")
    seconds, sent, sent_bytes, late = timed_push(work / "s1", url1, gap=True)
    print(f"push {sent} tests to an empty server: {seconds:.1f} s, "
          f"{sent / seconds:.1f} tests/s, {sent_bytes / 1e6:.1f} MB sent")  # fmt: skip
    print(f"  10 ms tick on another thread during that sync: median late "
          f"{statistics.median(late) * 1e3:.2f} ms, max {max(late) * 1e3:.1f} ms, "
          f"over 50 ms: {sum(1 for x in late if x > 0.050)} of {len(late)}")  # fmt: skip
    start = time.perf_counter()
    join(work / "s3", url1)
    report = sync_now(work / "s3")
    print(f"a new station pulls them: {time.perf_counter() - start:.1f} s "
          f"({report.received['tests']} tests, without their raw recordings)")  # fmt: skip
    print(f"  its database: {_megabytes(work / 's3'):.1f} MB")
    start = time.perf_counter()
    fetched = fetch_recordings(work / "s3")
    print(f"  then 'sync --recordings': {time.perf_counter() - start:.1f} s, "
          f"{fetched.line()}")  # fmt: skip
    print(f"  its database with them: {_megabytes(work / 's3'):.1f} MB")
    start = time.perf_counter()
    with_recordings(work / "s4", url1)
    print(f"the same pull with the raw recordings (before schema 9): "
          f"{time.perf_counter() - start:.1f} s, "
          f"database {_megabytes(work / 's4'):.1f} MB")  # fmt: skip


def noop_figures(folder: Path, runs: int) -> None:
    """A station holding every test of the server syncs with nothing new, ``runs`` times."""
    os.environ[BATCH_ENV] = "1000"  # the one big pull (not timed) in fewer round trips
    start = time.perf_counter()
    report = sync_now(folder)
    os.environ.pop(BATCH_ENV)
    print(f"  the station pulls the server's tests once: {time.perf_counter() - start:.1f} s "
          f"({report.received['tests']} tests)")  # fmt: skip
    kinds: list[tuple[str, dict[str, bool]]] = [("routine", {})]
    if "full" in inspect.signature(sync_now).parameters:  # a version with the marks
        kinds.append(("full (every key listed)", {"full": True}))
    for name, options in kinds:
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            report = sync_now(folder, **options)
            times.append(time.perf_counter() - start)
            assert not +report.sent and not +report.received, report.line()
        print(f"  a no-op sync, {name}: median {statistics.median(times) * 1e3:.0f} ms "
              f"(min {min(times) * 1e3:.0f}, max {max(times) * 1e3:.0f}, {runs} runs)")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every count")
    parser.add_argument("--url", help="a server's administrator URL (default: pgserver)")
    parser.add_argument("--only", choices=("all", "noop"), default="all")
    parser.add_argument("--runs", type=int, default=7, help="no-op syncs timed (median)")
    args = parser.parse_args()
    n_push, n_server, n_small = (max(1, int(x * args.scale)) for x in (1000, 100_000, 100))
    work = Path(tempfile.mkdtemp(prefix="nsbs-"))
    server = None
    if args.url:
        admin = args.url
    else:
        import pgserver

        server = pgserver.get_server(work / "pg", cleanup_mode="stop")
        admin = server.get_uri()
    try:
        if args.only == "all":
            push_and_pull(work, admin, n_push)
        url2 = _database(admin, "bench_sync_full")
        station_with_tests(work / "seed", 1)
        join(work / "seed", url2)
        sync_now(work / "seed", push_only=True)
        start = time.perf_counter()
        preload_server(url2, n_server)
        print(f"server preloaded with {n_server} tests in {time.perf_counter() - start:.1f} s")
        station_with_tests(work / "s2", n_small)
        seconds, sent, sent_bytes, _ = timed_push(work / "s2", url2)
        print(f"push {sent} tests to a server holding {n_server}: {seconds:.2f} s, "
              f"{sent_bytes / 1e6:.1f} MB of values sent")  # fmt: skip
        start = time.perf_counter()
        sync_now(work / "s2", push_only=True)
        print(f"  a sync with nothing to send: {time.perf_counter() - start:.3f} s")
        noop_figures(work / "s2", args.runs)
    finally:
        if server is not None:
            server.cleanup()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
