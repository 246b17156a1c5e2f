"""Store benchmarks: ``.venv/bin/python bench/bench_store.py`` (medians of several runs).

Targets (the brief's):
- saving a 10-minute 1 kHz test (raw recording, curves, metrics, reps, audit) <= 50 ms;
- listing an athlete's 200 tests <= 50 ms;
- with 2,000 athletes x 20 tests: searching athletes by name <= 50 ms, and a
  full summary export <= 5 s.

Everything happens in a temporary data folder, created per run.  The big
database is loaded with ``SqliteStore.bulk_load`` (executemany); its tests
carry real analysis results but no curves (the export does not read curves).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from calibration.certificate import parse_certificate
from firmware_bridge.capture import decode_stream
from firmware_bridge.virtual_rig import Athlete, NordicModel, VirtualRig
from station.analysis import analyze
from station.store import Store
from station.store.export import export_summary
from station.store.models import NewTest
from station.store.processing import new_reps, new_result
from station.store.validate import now_utc, search_key


def median_ms(fn: Callable[[], object], runs: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), times


def report(label: str, value_ms: float, limit_ms: float, times: list[float]) -> bool:
    ok = value_ms <= limit_ms
    spread = ", ".join(f"{t:.1f}" for t in times)
    unit = f"{value_ms:8.1f} ms" if limit_ms < 1000 else f"{value_ms / 1000:8.2f} s "
    limit = f"{limit_ms:g} ms" if limit_ms < 1000 else f"{limit_ms / 1000:g} s"
    print(f"{label:58} median {unit} (limit {limit}) {'OK' if ok else 'TOO SLOW'}  [{spread}]")
    return ok


def session(rate_hz: float, seconds: float, seed: int = 1) -> tuple[bytes, dict]:
    rig = VirtualRig(NordicModel(Athlete(reps=3), seed=seed), rate_hz=rate_hz)
    return rig.capture_bytes(seconds), rig.calibration_certificate()


def payload(data: bytes, cert: dict, athlete_id: int, *, curves: bool) -> NewTest:
    result = analyze(
        decode_stream(data), parse_certificate(cert), body_mass_kg=75.0, lever_arm_m=0.42
    )
    run = new_result(result, "import", with_curves=curves)
    return NewTest(
        athlete_id=athlete_id,
        recorded_at=now_utc(),
        protocol="nordic_eccentric",
        recording=data,
        recording_kind="binary",
        result=run,
        reps=new_reps(run.metrics, {}),
        rig_serial=result.stream.device_serial,
        sample_rate_hz=result.stream.sample_rate_hz,
        duration_s=result.stream.duration_s,
        body_mass_kg=75.0,
        lever_arm_m=0.42,
        certificate=cert,
    )


def bench_save(folder: Path) -> bool:
    data, cert = session(1000.0, 600.0)
    with Store.open(folder / "save", actor="bench") as store:
        athlete = store.athletes.add("Bench Athlete")
        base = payload(data, cert, athlete.id, curves=True)
        curve_bytes = sum(np.asarray(v).nbytes for v in base.result.curves.values())
        # A distinct recording every run (the same bytes would be stored once).
        payloads = [replace(base, recording=data + i.to_bytes(8, "little")) for i in range(10)]
        store.backend.save_test(payloads.pop(), "bench")  # warm-up
        times, checkpoints = [], []
        for item in payloads:
            # Saves are minutes apart in a clinic: let the previous one's background
            # checkpoint finish first (timed separately below).
            start = time.perf_counter()
            store.backend.checkpoint()
            checkpoints.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            store.backend.save_test(item, "bench")
            times.append((time.perf_counter() - start) * 1000)
        ok = report(
            f"save 10-min 1 kHz test ({len(data) / 1e6:.1f} MB raw, "
            f"{curve_bytes / 1e6:.1f} MB curves in)",
            statistics.median(times),
            50,
            times,
        )
        label = "  (WAL checkpoint, background thread, off the save path)"
        print(f"{label:58} median {statistics.median(checkpoints[1:]):8.1f} ms")
        path = folder / "capture.bin"
        path.write_bytes(data)
        cert_path = folder / "cal.json"
        cert_path.write_text(__import__("json").dumps(cert))
        full, ftimes = median_ms(
            lambda: store.new_tests.import_file(athlete.id, path, certificate=cert_path), 3
        )
        print(
            f"{'  (whole import: read, decode, analyse, save; for information)':58} "
            f"median {full:8.1f} ms"
        )
    return ok


def bench_list(folder: Path) -> bool:
    data, cert = session(80.0, 60.0)
    with Store.open(folder / "list", actor="bench") as store:
        athlete = store.athletes.add("Many Tests")
        base = payload(data, cert, athlete.id, curves=False)
        tests = [
            replace(
                base, recorded_at=f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T10:{i % 60:02d}:00.000Z"
            )
            for i in range(200)
        ]
        store.backend.bulk_load([], tests, "bench")
        assert len(store.tests.of_athlete(athlete.id)) == 200
        value, times = median_ms(lambda: store.tests.of_athlete(athlete.id), 9)
        return report("list an athlete's 200 tests", value, 50, times)


FIRST = [
    "Anna",
    "Øyvind",
    "Jörg",
    "Ingrid",
    "Lars",
    "Siri",
    "Mats",
    "Åsa",
    "Noah",
    "Emma",
    "Liam",
    "Olivia",
]
LAST = [
    "Hansen",
    "Johansen",
    "Ødegård",
    "Berg",
    "Müller",
    "Larsen",
    "Andersen",
    "Nilsen",
    "Dahl",
    "Lie",
]


def bench_big(folder: Path) -> bool:
    data, cert = session(80.0, 60.0)
    rng = np.random.default_rng(7)
    with Store.open(folder / "big", actor="bench") as store:
        athletes = []
        for i in range(1, 2001):
            name = f"{FIRST[i % len(FIRST)]} {LAST[(i // len(FIRST)) % len(LAST)]} {i}"
            athletes.append(
                {
                    "id": i,
                    "name": name,
                    "name_key": search_key(name),
                    "external_id": f"EXT-{i:05d}",
                    "date_of_birth": f"{1990 + i % 15}-0{1 + i % 9}-1{i % 9}",
                    "sex": ("female", "male")[i % 2],
                    "sport": ("football", "rugby", "athletics")[i % 3],
                    "team": f"Team {i % 40}",
                    "dominant_leg": ("left", "right")[i % 2],
                    "lever_arm_m": 0.38 + (i % 10) / 100,
                }
            )
        base = payload(data, cert, 1, curves=False)
        tests = []
        for i in range(2000):
            for k in range(20):
                metrics = dict(base.result.metrics)
                summary = dict(metrics["summary"])
                summary["imbalance_max_pct"] = float(rng.uniform(0, 25))
                metrics["summary"] = summary
                tests.append(
                    replace(
                        base,
                        athlete_id=i + 1,
                        recorded_at=f"{2020 + k // 5}-{1 + k % 12:02d}-{1 + i % 28:02d}"
                        f"T{8 + k % 10:02d}:00:00.000Z",
                        result=replace(base.result, metrics=metrics),
                    )
                )
        start = time.perf_counter()
        store.backend.bulk_load(athletes, tests, "bench")
        print(
            f"{'  (loading 2,000 athletes x 20 tests with executemany)':58} "
            f"{time.perf_counter() - start:8.2f} s"
        )
        searches = iter(
            [
                "oyvind",
                "müller 1",
                "ødegård",
                "hansen",
                "ingrid larsen",
                "emma",
                "xyz",
                "ext-0123",
                "asa",
            ]
            * 3
        )
        value, times = median_ms(lambda: store.athletes.find(next(searches)), 9)
        ok = report("search 2,000 athletes by name", value, 50, times)
        out = folder / "summary.csv"
        value, times = median_ms(lambda: export_summary(store, out, force=True), 3)
        ok &= report("full summary export, 40,000 tests", value, 5000, times)
        with open(out, encoding="utf-8") as handle:
            lines = sum(1 for _ in handle)
        assert lines == 40_001, lines
    return ok


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
        folder = Path(tmp)
        ok = bench_save(folder)
        ok &= bench_list(folder)
        ok &= bench_big(folder)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
