"""Benchmarks of the analysis (run: ``.venv/bin/python bench/bench_analysis.py``).

Budgets (the station's speed claims), each the median of several runs:

- analysing 10 minutes of 2-channel 1 kHz samples: <= 100 ms (decoding excluded), with the
  onset, RFD and impulse windows of every rep and leg, for the Nordic protocol and for the
  isometric one (each leg's reps found on their own);
- the whole ``nordic-station analyze`` command on such a capture: <= 1.5 s (a subprocess,
  so Python start-up, imports, reading and decoding are included);
- the live filter and rep counter on one 20-sample block: <= 200 us.

The capture is a virtual-rig session (20 reps, one-leg pulls and blips in the
rests, default noise and tremor), made once before timing.  Exit status 1 if
any budget is missed.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from calibration.certificate import parse_certificate  # noqa: E402
from firmware_bridge.decoder import decode_bytes  # noqa: E402
from firmware_bridge.virtual_rig import Athlete, NordicModel, VirtualRig  # noqa: E402
from station.analysis import (  # noqa: E402
    AnalysisInput,
    AnalysisSettings,
    LiveProcessor,
    analyze,
)

RATE_HZ = 1000.0
DURATION_S = 600.0
BUDGET_ANALYSIS_S = 0.100
BUDGET_COMMAND_S = 1.5
BUDGET_LIVE_BLOCK_S = 200e-6
BLOCK = 20


def _session() -> tuple[bytes, dict]:
    athlete = Athlete(reps=20, rest_s=25.0, quiet_start_s=6.0).with_rest_distractors()
    rig = VirtualRig(NordicModel(athlete, seed=1, rate_hz=RATE_HZ), rate_hz=RATE_HZ)
    return rig.capture_bytes(DURATION_S), rig.calibration_certificate()


def _median(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    print(f"making a {DURATION_S:g} s, {RATE_HZ:g} Hz virtual-rig capture ...", flush=True)
    data, cert_dict = _session()
    stream = decode_bytes(data)
    certificate = parse_certificate(cert_dict)
    source = AnalysisInput.from_stream(stream)
    result = analyze(source, certificate)
    print(f"  {stream.samples} samples, {len(data) / 1e6:.1f} MB, {len(result.reps)} reps found")

    ok = True

    def report(name: str, seconds: float, budget: float, scale: float, unit: str) -> None:
        nonlocal ok
        passed = seconds <= budget
        ok &= passed
        verdict = "ok" if passed else "OVER BUDGET"
        budget_text = f"(budget {budget * scale:g} {unit})"
        print(f"{name:<48} {seconds * scale:9.1f} {unit}  {budget_text} {verdict}")

    cpu: list[float] = []

    def timed_analysis() -> None:
        start = time.process_time()
        analyze(source, certificate)
        cpu.append(time.process_time() - start)

    analysis = _median(timed_analysis, 9)
    report("analyze(): 10 min, 2 ch, 1 kHz (median of 9)", analysis, BUDGET_ANALYSIS_S, 1e3, "ms")
    print(
        f"  (CPU time median {statistics.median(cpu) * 1e3:.1f} ms; load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs: a busy machine inflates wall time)"
    )

    isometric = AnalysisSettings(protocol="isometric")
    report(
        "analyze(), isometric protocol (median of 9)",
        _median(lambda: analyze(source, certificate, isometric), 9),
        BUDGET_ANALYSIS_S,
        1e3,
        "ms",
    )

    with tempfile.TemporaryDirectory() as folder:
        capture = Path(folder) / "capture.bin"
        capture.write_bytes(data)
        cal = Path(folder) / "cal.json"
        cal.write_text(json.dumps(cert_dict))
        command = [
            sys.executable, "-m", "station.cli", "analyze", str(capture),
            "--calibration", str(cal), "--json",
        ]  # fmt: skip
        env = dict(os.environ, PYTHONPATH=str(ROOT))

        def whole() -> None:
            subprocess.run(command, check=True, capture_output=True, env=env, cwd=ROOT)

        whole()  # warm the file cache and the bytecode
        report(
            "nordic-station analyze --json (median of 5)",
            _median(whole, 5),
            BUDGET_COMMAND_S,
            1,
            "s",
        )

    gains = result.calibration.gains
    index, counts = stream.index, stream.counts
    blocks = [(counts[a : a + BLOCK], int(index[a])) for a in range(0, len(index) - BLOCK, BLOCK)]
    live = LiveProcessor(RATE_HZ, gains, result.zero.counts)

    def stream_all() -> None:
        live.reset()
        for block, first in blocks:
            live.process(block, first)

    per_block = _median(stream_all, 5) / len(blocks)
    report(f"LiveProcessor.process, {BLOCK}-sample block (median of 5)", per_block,
           BUDGET_LIVE_BLOCK_S, 1e6, "us")  # fmt: skip
    print(f"  live reps counted: {live.rep_count} (offline: {len(result.reps)})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
