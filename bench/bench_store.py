"""Store benchmarks, backends side by side (medians of several runs):

    .venv/bin/python bench/bench_store.py [--backends sqlite,postgresql] [--scale 0.02]

On 5,000 athletes x 20 tests (100,000, at ``--scale 1``) loaded with the
bulk loader (every test shares one recording; each has its own analysis run
and reps): athlete search, one athlete's history and a team's latest tests
(each <= 50 ms), a summary export of every test (<= 10 s), bytes on disk per
test; and saving a 10-minute 1 kHz test with its curves (<= 50 ms on SQLite,
<= 100 ms on PostgreSQL).  PostgreSQL runs on a throwaway server (pgserver)
in a temporary folder.  On SQLite the space is broken down per table and
index (``--what-if`` also measures the proposed cuts: bench/store_size.py).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from bench import store_data, store_size
from bench.store_backends import BACKENDS, Place, Unavailable, place, sqlite_file
from station.store import codec
from station.store.export import export_summary

Figure = tuple[float, list[float]]  # median and every run, in ms (bytes for sizes)
LIMITS_MS = {
    "search": 50.0,
    "history": 50.0,
    "team": 50.0,
    "export": 10_000.0,
    "save": 50.0,
}
SAVE_LIMIT_MS = {"sqlite": 50.0, "postgresql": 100.0}


def timed(fn: Callable[[], object], runs: int, warmup: int = 1) -> Figure:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), times


def bench_save(where: Place, runs: int) -> dict[str, Figure]:
    """A 10-minute 1 kHz test (raw recording, curves, run, reps, audit) committed."""
    data, cert = store_data.session(1000.0, 600.0)
    with where.open("save") as store:
        athlete = store.athletes.add("Bench Athlete")
        base = store_data.payload(data, cert, athlete.id, curves=True)
        # A distinct recording every run (the same bytes would be stored once).
        items = [replace(base, recording=data + i.to_bytes(8, "little")) for i in range(runs + 1)]
        store.backend.save_test(items.pop(), "bench")  # warm-up
        times = []
        for item in items:
            # Saves are minutes apart in a clinic: let the previous one's background
            # checkpoint finish first (SQLite; nothing to wait for on a server).
            store.backend.checkpoint()
            start = time.perf_counter()
            store.backend.save_test(item, "bench")
            times.append((time.perf_counter() - start) * 1000)
        encoded = [
            codec.encode(name, values, base.sample_rate_hz, compress=where.kind == "sqlite")
            for name, values in (base.result.curves or {}).items()
        ]
        stored = sum(len(bytes(e.data)) for e in encoded)
        plain = sum(4 * e.length if e.codec == "f4dz" else len(bytes(e.data)) for e in encoded)
        print(
            f"  [{where.kind}] a 10-min 1 kHz test: recording {len(data) / 1e6:.2f} MB, "
            f"curves {stored / 1e6:.2f} MB stored ({plain / 1e6:.2f} MB as plain float32)"
        )
        test_id = store.tests.of_athlete(athlete.id, limit=1)[0].id
        curves = store.backend.curves(store.backend.get_test(test_id).result.id)  # type: ignore[union-attr]
        assert curves is not None and set(curves) == set(base.result.curves or {})
    return {"save": (statistics.median(times), times)}


def bench_big(
    where: Place, athletes: int, runs: int, breakdown: bool, what_if: bool
) -> dict[str, Figure]:
    data, cert = store_data.session(80.0, 60.0)
    base = store_data.payload(data, cert, 1, curves=False)
    people = store_data.athletes(athletes)
    tests = store_data.tests(base, athletes)
    with where.open("empty") as empty:
        empty_bytes = where.bytes_on_disk(empty, "empty")
    out: dict[str, Figure] = {}
    with where.open("big") as store:
        start = time.perf_counter()
        store.backend.bulk_load(people, tests, "bench")  # type: ignore[attr-defined]
        load_s = time.perf_counter() - start
        print(f"  [{where.kind}] bulk load of {len(tests):,} tests: {load_s:.1f} s", flush=True)
        searches = iter(store_data.SEARCHES * (runs + 1))
        out["search"] = timed(lambda: store.athletes.find(next(searches)), runs)
        who = iter(np.random.default_rng(3).integers(1, athletes + 1, runs + 1).tolist())
        out["history"] = timed(lambda: store.tests.of_athlete(next(who)), runs)
        teams = iter([f"Team {i % store_data.TEAMS}" for i in range(runs + 1)])
        out["team"] = timed(lambda: store.tests.latest(team=next(teams)), runs)
        sheet = where.root / "summary.csv"
        out["export"] = timed(lambda: export_summary(store, sheet, force=True), 3, warmup=0)
        with open(sheet, encoding="utf-8") as handle:
            lines = sum(1 for _ in handle)
        assert lines == len(tests) + 1, (lines, len(tests))
        per_test = (where.bytes_on_disk(store, "big") - empty_bytes) / len(tests)
        out["bytes"] = (per_test, [per_test])
        database = sqlite_file(store)
    if database is not None and breakdown:
        sizes = store_size.breakdown(database)
        if what_if:
            steps = store_size.what_if(database, where.root / "scratch.sqlite3")
            store_size.print_what_if(steps, len(tests))
            store_size.print_breakdown(steps[0][1], len(tests), steps[-1][1])
        else:
            store_size.print_breakdown(sizes, len(tests))
    return out


ROWS = (
    ("search", "athlete search ({athletes:,} athletes)"),
    ("history", "one athlete's history (20 tests)"),
    ("team", "a team's latest tests ({team:,} athletes)"),
    ("save", "save a 10-min 1 kHz test with curves"),
    ("export", "summary export of all {tests:,} tests"),
    ("bytes", "bytes on disk per test (recordings shared)"),
)


def _cell(key: str, kind: str, figure: Figure | str | None) -> tuple[str, bool]:
    if figure is None or isinstance(figure, str):
        return "n/a", True
    value, _ = figure
    if key == "bytes":
        return f"{value / 1000:,.1f} kB", True
    limit = SAVE_LIMIT_MS[kind] if key == "save" else LIMITS_MS[key]
    ok = value <= limit
    shown = f"{value:,.1f} ms" if value < 1000 else f"{value / 1000:,.2f} s"
    return shown + ("" if ok else " SLOW"), ok


def print_side_by_side(
    results: dict[str, dict[str, Figure] | str], athletes: int, runs: int
) -> bool:
    kinds = list(results)
    tests = athletes * store_data.TESTS_PER_ATHLETE
    names = {"athletes": athletes, "tests": tests, "team": athletes // store_data.TEAMS}
    print(
        f"\n{'median of ' + str(runs) + ' runs (export: 3)':46} {'target':>10} "
        + " ".join(f"{k:>14}" for k in kinds)
    )
    ok = True
    for key, label in ROWS:
        if key == "save":
            target = "/".join(f"{SAVE_LIMIT_MS[k]:g}" for k in kinds) + " ms"
        elif key == "bytes":
            target = ""
        else:
            limit = LIMITS_MS[key]
            target = f"{limit:g} ms" if limit < 1000 else f"{limit / 1000:g} s"
        cells = []
        for kind in kinds:
            got = results[kind]
            text, good = _cell(key, kind, None if isinstance(got, str) else got.get(key))
            cells.append(text)
            ok &= good
        print(f"{label.format(**names):46} {target:>10} " + " ".join(f"{c:>14}" for c in cells))
    for kind in kinds:
        got = results[kind]
        if isinstance(got, str):
            print(f"{kind}: not run: {got}")
            continue
        for key, (_, times) in got.items():
            if key != "bytes":
                print(f"  {kind} {key}: " + ", ".join(f"{t:.1f}" for t in times) + " ms")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite", help="comma-separated: sqlite,postgresql")
    parser.add_argument("--scale", type=float, default=1.0, help="share of 5,000 athletes")
    parser.add_argument("--runs", type=int, default=9, help="runs per measure (median)")
    parser.add_argument("--no-save", action="store_true", help="skip the 10-minute save")
    parser.add_argument("--what-if", action="store_true", help="measure the proposed cuts")
    args = parser.parse_args(argv)
    kinds = [k.strip() for k in args.backends.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in BACKENDS]
    if unknown or args.scale <= 0 or args.runs < 1:
        parser.error(f"backends are {', '.join(BACKENDS)}; --scale > 0; --runs >= 1")
    athletes = max(store_data.TEAMS, round(5000 * args.scale))
    results: dict[str, dict[str, Figure] | str] = {}
    with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
        for kind in kinds:
            print(f"== {kind}", flush=True)
            try:
                with place(kind, Path(tmp) / kind) as where:
                    got = {} if args.no_save else bench_save(where, args.runs)
                    got.update(
                        bench_big(where, athletes, args.runs, kind == "sqlite", args.what_if)
                    )
                    results[kind] = got
            except Unavailable as exc:
                results[kind] = str(exc)
            except AttributeError as exc:  # a backend without bulk_load, say
                results[kind] = f"the backend lacks what the bench needs: {exc}"
    ok = print_side_by_side(results, athletes, args.runs)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
