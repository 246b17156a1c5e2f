"""Small timing helpers shared by the benchmarks: medians of repeated runs."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_seconds(fn: Callable[[], object], runs: int = 7, warmup: int = 1) -> float:
    """Median wall time of ``fn`` over ``runs`` calls, after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def verdict(value: float, limit: float, unit: str, lower_is_better: bool = True) -> str:
    ok = value <= limit if lower_is_better else value >= limit
    relation = "<=" if lower_is_better else ">="
    return f"{value:.3g} {unit} (target {relation} {limit:g} {unit}: {'OK' if ok else 'MISSED'})"
