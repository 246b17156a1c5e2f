"""Benchmark of training mode's live zone (run: ``.venv/bin/python bench/bench_training.py``).

Budget: the zone tracker (both legs: zone state, leg reps, reps/time/impulse in zone) on
one 20-sample block of filtered force: <= 200 us, like the live filter and rep counter it
runs beside.  The force is 10 minutes at 1 kHz of a virtual-rig session (20 reps, one-leg
pulls and blips) through the live filter, with the zone across the reps' peaks.  Exit
status 1 if the budget is missed.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from calibration.certificate import parse_certificate  # noqa: E402
from firmware_bridge.decoder import decode_bytes  # noqa: E402
from firmware_bridge.virtual_rig import Athlete, NordicModel, VirtualRig  # noqa: E402
from station.analysis import AnalysisInput, LiveProcessor, analyze  # noqa: E402
from station.analysis.training import TargetZone, ZoneTracker  # noqa: E402

RATE_HZ = 1000.0
DURATION_S = 600.0
BLOCK = 20
BUDGET_BLOCK_S = 200e-6


def main() -> int:
    athlete = Athlete(reps=20, rest_s=25.0, quiet_start_s=6.0).with_rest_distractors()
    rig = VirtualRig(NordicModel(athlete, seed=1, rate_hz=RATE_HZ), rate_hz=RATE_HZ)
    certificate = parse_certificate(rig.calibration_certificate())
    stream = decode_bytes(rig.capture_bytes(DURATION_S))
    source = AnalysisInput.from_stream(stream)
    result = analyze(source, certificate)
    live = LiveProcessor(RATE_HZ, result.calibration.gains, result.zero.counts)
    index, counts = stream.index, stream.counts
    starts = range(0, len(index) - BLOCK, BLOCK)
    blocks = [
        (live.process(counts[a : a + BLOCK], int(index[a])).forces_n, int(index[a])) for a in starts
    ]
    tracker = ZoneTracker(TargetZone.in_newtons(200, 300), RATE_HZ)

    def run_all() -> None:
        tracker.reset()
        for forces, first in blocks:
            tracker.process(forces, first)

    times = []
    for _ in range(5):
        start = time.perf_counter()
        run_all()
        times.append(time.perf_counter() - start)
    per_block = statistics.median(times) / len(blocks)
    ok = per_block <= BUDGET_BLOCK_S
    print(
        f"{'ZoneTracker.process, 20-sample block (median of 5)':<52} {per_block * 1e6:7.1f} us"
        f"  (budget {BUDGET_BLOCK_S * 1e6:g} us) {'ok' if ok else 'OVER BUDGET'}"
    )
    left, right = tracker.figures
    print(f"  leg reps {left.reps}/{right.reps}, in zone {left.reps_in_zone}/{right.reps_in_zone}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
