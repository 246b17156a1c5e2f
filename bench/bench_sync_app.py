"""The app's frames during a live test while a sync runs (issue 14's figure: no frame
over 50 ms).

The real main window (offscreen) records a live test from the in-process virtual rig
at 80 Hz while a child process (as the app's background sync; ``--thread``: a thread
of the app's own process) pushes a station of ``--tests`` tests (60 s, 80 Hz,
the bench_sync station) to an empty server, as the app's background sync would.
Printed: paints of the live plot per second, and the longest gap between two paints
during the sync, with the number of gaps over 50 ms.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtCore import Qt, QTimer  # noqa: E402

from bench.bench_app import TimedRig, pump  # noqa: E402
from bench.bench_sync import _database, station_with_tests  # noqa: E402
from firmware_bridge.virtual_rig import Athlete, NordicModel, forget_device, register_device  # noqa: E402
from station.app.live import test_run as tr  # noqa: E402
from station.app.rig import acquisition as acq  # noqa: E402
from station.app.shell.app import application, build_window  # noqa: E402
from station.store.sync import join, sync_now  # noqa: E402

RATE_HZ = 80.0
GAP_LIMIT_S = 0.050


def frames_while_syncing(
    station: Path, url: str, folder: Path, in_thread: bool = False
) -> dict[str, Any]:
    app = application()
    rig = TimedRig(NordicModel(Athlete(reps=50, rest_s=3.0), seed=1, rate_hz=RATE_HZ),
                   rate_hz=RATE_HZ)  # fmt: skip
    register_device("bench-sync-app", rig)
    window = build_window(folder / "data", folder / "settings.ini", install_hook=False)
    window.resize(1600, 1000)
    window.show()
    context = window.context
    store: Any = context.store
    athletes: Any = getattr(store, "athletes", None)
    add = athletes.add if hasattr(athletes, "add") else store.add_athlete
    athlete = add("Bench Athlete")
    context.set_athlete(athlete)
    screen: Any = window.screens["test"]
    connect: Any = window.screens["connect"]
    paints: list[float] = []
    screen.plot.paint_listener = lambda: paints.append(time.monotonic())
    connect.connect_to("virtual://bench-sync-app")
    assert pump(app, 10, lambda: context.acquisition.state == acq.STREAMING), "no stream"
    screen.start_test()
    assert pump(app, 10, lambda: screen.run.state == tr.RUNNING), "test did not start"
    ticks: list[float] = []
    tick = QTimer()
    tick.setTimerType(Qt.TimerType.PreciseTimer)
    tick.timeout.connect(lambda: ticks.append(time.monotonic()))
    tick.start(10)
    pump(app, 1.0)
    quiet_start = time.monotonic()
    pump(app, 5.0)
    quiet = _gaps([t for t in paints if t >= quiet_start])
    quiet_ticks = _gaps([t for t in ticks if t >= quiet_start])
    result: dict[str, Any] = {}

    def push() -> None:
        start = time.monotonic()
        if in_thread:
            result["tests"] = sync_now(station, push_only=True).sent["tests"]
        else:  # as the app does: a child process
            line = subprocess.run(
                [sys.executable, "-m", "station", "--data-dir", str(station), "sync",
                 "--push-only"], capture_output=True, text=True, check=True,
            ).stdout  # fmt: skip
            found = re.search(r"(\d+) tests", line.split(";")[0])
            result["tests"] = int(found.group(1)) if found else 0
        result["span"] = (start, time.monotonic())

    worker = threading.Thread(target=push)
    worker.start()
    pump(app, 600, lambda: not worker.is_alive())
    worker.join()
    start, end = result["span"]
    during = [t for t in paints if start <= t <= end]
    gaps = _gaps(during)
    tick.stop()
    sync_ticks = _gaps([t for t in ticks if start <= t <= end])
    screen.run.stop()
    pump(app, 60, lambda: context.current_test_id is not None)
    window.close()
    context.store.close()
    forget_device("bench-sync-app")
    return {
        "sync_s": end - start,
        "tests": result["tests"],
        "fps": len(during) / (end - start),
        "max_gap_ms": max(gaps) * 1000 if gaps else float("nan"),
        "gaps_over_50ms": sum(1 for g in gaps if g > GAP_LIMIT_S),
        "frames": len(during),
        "quiet_max_gap_ms": max(quiet) * 1000 if quiet else float("nan"),
        "quiet_over_50ms": sum(1 for g in quiet if g > GAP_LIMIT_S),
        "quiet_frames": len(quiet) + 1,
        "tick_max_ms": max(sync_ticks) * 1000 if sync_ticks else float("nan"),
        "quiet_tick_max_ms": max(quiet_ticks) * 1000 if quiet_ticks else float("nan"),
    }


def _gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in zip(times, times[1:], strict=False)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=1000, help="tests the sync pushes")
    parser.add_argument("--url", help="a server's administrator URL (default: pgserver)")
    parser.add_argument(
        "--thread", action="store_true", help="sync on a thread of the app's process instead"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="nsba-"))
    server = None
    try:
        if args.url:
            admin = args.url
        else:
            import pgserver

            server = pgserver.get_server(work / "pg", cleanup_mode="stop")
            admin = server.get_uri()
        station_with_tests(work / "s1", args.tests)
        url = _database(admin, "bench_sync_app")
        join(work / "s1", url)
        figures = frames_while_syncing(work / "s1", url, work, in_thread=args.thread)
        how = "on a thread" if args.thread else "in a child process"
        print(f"sync ({how}) of {figures['tests']} tests during a live test: "
              f"{figures['sync_s']:.1f} s; "
              f"live plot {figures['fps']:.0f} frames/s; longest gap between frames "
              f"{figures['max_gap_ms']:.0f} ms; gaps over 50 ms: {figures['gaps_over_50ms']} "
              f"of {figures['frames']}")  # fmt: skip
        print(f"  the same live test for 5 s without a sync: longest gap "
              f"{figures['quiet_max_gap_ms']:.0f} ms; gaps over 50 ms: "
              f"{figures['quiet_over_50ms']} of {figures['quiet_frames']}")  # fmt: skip
        print(f"  GUI thread, a 10 ms timer: longest interval {figures['tick_max_ms']:.0f} ms "
              f"during the sync, {figures['quiet_tick_max_ms']:.0f} ms without")  # fmt: skip
    finally:
        if server is not None:
            server.cleanup()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
