"""``recompute --all`` speed: ``.venv/bin/python bench/bench_recompute.py [--tests N] [--runs R]``.

Target (issue 16): at least 50 tests/s on 10,000 stored 60-s tests on this
2-core machine.  The stored tests are 60-s virtual-rig sessions at the rig's
80 Hz, each with a distinct recording (a few bytes appended), loaded with the
store's bulk loader as if an older analysis version had made their runs, so
every one of them is analysed again and gets a new run with curves.

Each run starts from a copy of the same freshly loaded database; the figure
is the median over ``--runs`` runs, for the process pool (one worker per
core) and for one process, side by side.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.store_data import payload, session
from bench.timing import verdict
from station import paths
from station.store import Store

TARGET = 50.0  # tests per second


def load(folder: Path, count: int) -> None:
    data, cert = session(80.0, 60.0)
    with Store.open(folder, actor="bench") as store:
        athlete = store.athletes.add("Bench Athlete", body_mass_kg=75)
        base = payload(data, cert, athlete.id, curves=False)
        old = replace(base.result, analysis_version="0.0-bench")
        tests = [
            replace(base, recording=data + i.to_bytes(4, "little"), result=old)
            for i in range(count)
        ]
        start = time.perf_counter()
        store.backend.bulk_load([], tests, "bench")
        store.backend.checkpoint()
        print(
            f"  loaded {count} tests of {len(data) / 1000:.0f} kB each with the bulk loader "
            f"in {time.perf_counter() - start:.1f} s"
        )


def one_run(fresh: Path, work: Path, workers: int) -> float:
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(fresh, work)
    with Store.open(work, actor="bench") as store:
        start = time.perf_counter()
        state = store.runs.recompute_all(workers=workers)
        seconds = time.perf_counter() - start
        if state.failed or state.stored != state.total:
            raise SystemExit(f"bench: {len(state.failed)} failed, {state.stored} stored")
    return state.total / seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tests", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="bench-recompute-") as tmp:
        fresh = Path(tmp) / "fresh"
        load(fresh, args.tests)
        size = paths.database_path(fresh).stat().st_size
        print(f"  database {size / 1e6:.0f} MB")
        figures: dict[int, list[float]] = {cores: [], 1: []}
        for _ in range(args.runs):  # interleaved, so machine load hits both alike
            for workers in figures:
                figures[workers].append(one_run(fresh, Path(tmp) / "work", workers))
    ok = True
    for workers, rates in figures.items():
        label = f"recompute --all, {args.tests} 60-s tests, {workers} process(es)"
        median = statistics.median(rates)
        spread = ", ".join(f"{r:.1f}" for r in rates)
        print(f"{label:58} {verdict(median, TARGET, 'tests/s', False)}  [{spread}]")
        ok &= median >= TARGET or workers == 1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
