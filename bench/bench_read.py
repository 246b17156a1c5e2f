"""Speed of reading a capture, side by side with what a researcher would write
(run: ``.venv/bin/python bench/bench_read.py [--runs N]``).

Issue 16 §4: the whole ``nordic-station analyze`` of a 10-minute 1 kHz capture
should take at most twice as long as a Python process that only imports NumPy
(the floor any NumPy tool pays).  Reported, each the median of ``--runs``
whole-process runs, interleaved so a busy machine slows all of them alike:

- ``python -c "import numpy"``: the floor;
- ``nordic-station analyze CAPTURE --calibration CAL --json``: read, decode,
  calibrate, filter, find reps, every metric, JSON out;
- the ratio of the two (target <= 2.0).  The floor is NumPy as it loads by
  default, starting OpenBLAS's thread pool (hence its CPU above its wall
  time); ``analyze`` loads it with one BLAS thread (see station/cli/analyze.py),
  ~5 ms quicker: against a one-thread floor the ratio would be ~0.1 higher;
- the plain NumPy + SciPy script a researcher would write on the test's CSV
  export (``numpy.loadtxt``, a 4th-order Butterworth ``scipy.signal.filtfilt``
  at 10 Hz, each leg's peak): what the station competes with;
- that script's own floor, ``python -c "import numpy, scipy.signal"``: the
  imports it needs before reading a byte (the station's filter is NumPy, so
  the station's floor is NumPy's alone);

and, in this process, the binary decoder's throughput (median of 7).  CPU
time (user + system of the process and its threads) is given beside the wall
time: on a machine shared with other jobs it moves less.

Subprocesses run with the bytecode cache on (in a temporary
``PYTHONPYCACHEPREFIX``), as an installed package does: with
``PYTHONDONTWRITEBYTECODE=1`` every run would compile the station's sources
again.  Exit status 1 if the ratio misses its target.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_analysis import DURATION_S, RATE_HZ, _session  # noqa: E402
from bench.timing import median_seconds  # noqa: E402
from calibration.certificate import parse_certificate  # noqa: E402
from firmware_bridge.decoder import decode_bytes  # noqa: E402
from station.analysis import AnalysisInput, analyze  # noqa: E402

TARGET_RATIO = 2.0

# What a researcher writes on `nordic-station test export`'s CSV (its column names).
RESEARCHER = """\
import sys
import numpy as np
from scipy.signal import butter, filtfilt

data = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1, usecols=(0, 3, 4))
t, left, right = data.T
rate = 1 / np.median(np.diff(t))
b, a = butter(4, 10 / (rate / 2))
for name, force in (("left", left), ("right", right)):
    smooth = filtfilt(b, a, force)
    peak = int(smooth.argmax())
    print(name, "peak", round(float(smooth[peak]), 1), "N at", round(float(t[peak]), 3), "s")
"""


def _write_csv(path: Path, curves: dict[str, np.ndarray]) -> None:
    """The per-sample columns of ``nordic-station test export`` (time, filtered, raw)."""
    columns = ["time_s", "left_n", "right_n", "left_raw_n", "right_raw_n"]
    header = "time_s,left_force_n,right_force_n,left_raw_force_n,right_raw_force_n"
    table = np.column_stack([curves[c] for c in columns])
    np.savetxt(path, table, delimiter=",", fmt=["%.6f"] + ["%.3f"] * 4, header=header, comments="")


def _timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system, all threads) of one whole process."""
    start = time.perf_counter()
    child = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=ROOT
    )
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        subprocess.run(command, check=True, env=env, cwd=ROOT)  # shows what went wrong
    return wall, usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="whole-process runs of each (9)")
    runs = parser.parse_args().runs

    print(f"making a {DURATION_S:g} s, {RATE_HZ:g} Hz virtual-rig capture ...", flush=True)
    data, cert_dict = _session()
    mb = len(data) / 1e6
    stream = decode_bytes(data)
    result = analyze(AnalysisInput.from_stream(stream), parse_certificate(cert_dict))
    decode_s = median_seconds(lambda: decode_bytes(data), runs=7)
    decode_cpu = []
    for _ in range(7):
        start = time.process_time()
        decode_bytes(data)
        decode_cpu.append(time.process_time() - start)
    decode_cpu_s = statistics.median(decode_cpu)

    with tempfile.TemporaryDirectory() as folder:
        capture, cal = Path(folder) / "capture.bin", Path(folder) / "cal.json"
        csv, script = Path(folder) / "test-1.csv", Path(folder) / "researcher.py"
        capture.write_bytes(data)
        cal.write_text(json.dumps(cert_dict))
        _write_csv(csv, result.curves.to_arrays())
        script.write_text(RESEARCHER)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env.update(PYTHONPATH=str(ROOT), PYTHONPYCACHEPREFIX=str(Path(folder) / "pycache"))
        commands = {
            "floor": [sys.executable, "-c", "import numpy"],
            "analyze": [sys.executable, "-m", "station", "analyze", str(capture),
                        "--calibration", str(cal), "--json"],
            "researcher": [sys.executable, str(script), str(csv)],
            "scipy_floor": [sys.executable, "-c", "import numpy, scipy.signal"],
        }  # fmt: skip
        for command in commands.values():
            _timed(command, env)  # warm the file cache and the bytecode cache
        times: dict[str, list[float]] = {name: [] for name in commands}
        cpu: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(runs):
            for name, command in commands.items():
                wall, used = _timed(command, env)
                times[name].append(wall)
                cpu[name].append(used)
        csv_mb = csv.stat().st_size / 1e6

    med = {name: statistics.median(values) for name, values in times.items()}
    med_cpu = {name: statistics.median(values) for name, values in cpu.items()}
    ratio = med["analyze"] / med["floor"]
    ok = ratio <= TARGET_RATIO

    def row(label: str, name: str) -> None:
        spread = ", ".join(f"{t:.3f}" for t in sorted(times[name]))
        print(f"  {label:<50} {med[name]:6.3f} s  CPU {med_cpu[name]:6.3f} s  (wall: {spread})")

    print(f"  {stream.samples} samples, capture {mb:.1f} MB, CSV export {csv_mb:.1f} MB, "
          f"{len(result.reps)} reps; median of {runs} interleaved runs each:")  # fmt: skip
    row('python -c "import numpy" (the floor)', "floor")
    row("nordic-station analyze --json (whole process)", "analyze")
    row("researcher: loadtxt(CSV) + butter/filtfilt + peak", "researcher")
    row('python -c "import numpy, scipy.signal" (its floor)', "scipy_floor")
    verdict = "OK" if ok else "MISSED"
    cpu_ratio = med_cpu["analyze"] / med_cpu["floor"]
    print(f"  analyze / floor: {ratio:.2f} wall, {cpu_ratio:.2f} CPU "
          f"(target <= {TARGET_RATIO:g}: {verdict})")  # fmt: skip
    print(f"  analyze / researcher's script: {med['analyze'] / med['researcher']:.2f}")
    load = f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    cpu_text = f"CPU {decode_cpu_s * 1e3:.0f} ms, {mb / decode_cpu_s:.0f} MB/s"
    print(f"  decode_bytes in process: {decode_s * 1e3:.0f} ms, {mb / decode_s:.0f} MB/s; "
          f"{cpu_text} (medians of 7); {load}")  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
