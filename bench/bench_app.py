"""The desktop app at 2 kHz: latency to the screen, frame rate, and a 30-minute run.

What is measured (offscreen Qt, the real main window, the in-process virtual
rig at 2000 Hz reached through ``virtual://`` exactly as the app reaches it,
so the rig's simulation shares the process and the GIL with the GUI: a
harsher setting than a real rig in its own USB device):

(a) Latency, device to pixel: the rig is wrapped so every ``poll`` that hands
    samples to the port records the time those samples left the device.  The
    live plot calls a hook at the end of each paint with the newest device
    sample index it drew.  Each sample's latency is the end of the first paint
    that shows it minus its emission time.  Target: 95th percentile <= 35 ms.
(b) Frames per second during a test: paints of the live plot per second
    of the measuring window.  Target >= 50.
(c) Loss and memory: every sample shown live is in the stored recording, with
    no dropped samples; resident memory over a second live window of the same
    length (with the benchmark's own logging off) stays flat, because the plot
    buffer and the live filter's history are fixed-size and everything else
    goes to the recording on disk.
(d) 30 minutes at 2 kHz: a 30-minute, 2 kHz recording (3.6 million samples)
    is *replayed at maximum speed* (not in real time) through the same path
    (link, queue, live processing, plot buffer, recording, analysis, store).
    Every sample must reach the live view and the new recording.  Resident
    memory before and after is printed with what the replay source itself
    holds (it keeps the whole recording, decoded, in memory).  Use
    ``--long-minutes`` to change the length (``0`` skips it).

Figures (a)-(c) are the median of ``--runs`` runs of ``--seconds`` each.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402

from bench.timing import verdict  # noqa: E402
from firmware_bridge.capture import decode_stream  # noqa: E402
from firmware_bridge.recording import RecordingWriter, parse_recording  # noqa: E402
from firmware_bridge.virtual_rig import (  # noqa: E402
    Athlete,
    NordicModel,
    VirtualRig,
    forget_device,
    register_device,
)
from station.app.live import test_run as tr  # noqa: E402
from station.app.rig import acquisition as acq  # noqa: E402
from station.app.shell.app import application, build_window  # noqa: E402

RATE_HZ = 2000.0
LATENCY_TARGET_MS = 35.0
FPS_TARGET = 50.0


class TimedRig(VirtualRig):
    """The virtual rig, noting when each run of samples leaves the device."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.log_lock = threading.Lock()
        self.emitted: list[tuple[int, int, float]] = []  # (first index, end index, time)
        self.logging = True

    def poll(self, now: float) -> bytes:
        before = self.next_index
        out = super().poll(now)
        after = self.next_index
        if out and after > before and self.logging:
            with self.log_lock:
                self.emitted.append((before, after, time.monotonic()))
        return out

    def clear_log(self) -> None:
        with self.log_lock:
            self.emitted = []


def pump(app: Any, seconds: float, until: Any = None) -> bool:
    """Run the real event loop for up to ``seconds`` (or until ``until()`` holds)."""
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    check = QTimer()
    if until is not None:
        check.timeout.connect(lambda: loop.quit() if until() else None)
        check.start(10)
    loop.exec()
    check.stop()
    return until() if until is not None else True


def latencies_ms(
    emitted: list[tuple[int, int, float]], paints: list[tuple[float, int]]
) -> np.ndarray:
    """Per emitted sample: end of the first paint showing it minus its emission time."""
    if not emitted or not paints:
        return np.zeros(0)
    firsts = np.array([e[0] for e in emitted])
    ends = np.array([e[1] for e in emitted])
    times = np.array([e[2] for e in emitted])
    paint_t = np.array([p[0] for p in paints])
    paint_idx = np.maximum.accumulate(np.array([p[1] for p in paints]))
    out = []
    for first, end, t in zip(firsts, ends, times, strict=True):
        k = int(np.searchsorted(paint_idx, end - 1, side="left"))  # first paint showing the run
        if k < len(paint_t) and paint_t[k] >= t:
            out.append(np.full(end - first, (paint_t[k] - t) * 1000.0))
    return np.concatenate(out) if out else np.zeros(0)


def live_run(seconds: float, run: int) -> dict[str, float]:
    """One test of ``seconds`` at 2 kHz on the virtual rig; latency, FPS and loss."""
    app = application()
    name = f"bench-app-{run}"
    athlete = Athlete(rest_s=3.0, rise_s=2.8, fall_s=0.8, quiet_start_s=2.0, reps=20)
    rig = TimedRig(NordicModel(athlete, seed=run, rate_hz=RATE_HZ), rate_hz=RATE_HZ)
    register_device(name, rig)
    with tempfile.TemporaryDirectory() as folder:
        window = build_window(
            Path(folder) / "data", Path(folder) / "settings.ini", install_hook=False
        )
        window.resize(1600, 1000)
        window.show()
        context = window.context
        context.set_athlete(context.store.athletes.add("Bench Athlete"))
        screen = window.screens["test"]
        paints: list[tuple[float, int]] = []
        measuring = [False]

        def painted() -> None:
            screen.frames_drawn += 1
            marker = screen.plot.shown_marker
            if measuring[0] and marker is not None and marker[1] is not None:
                paints.append((time.monotonic(), int(marker[1])))

        screen.plot.paint_listener = painted
        context.acquisition.stream_restarted.connect(rig.clear_log)
        window.screens["connect"].connect_to(f"virtual://{name}")
        assert pump(app, 10, lambda: context.acquisition.state == acq.STREAMING), "no stream"
        pump(app, 1.0)
        screen.start_test()
        assert pump(app, 10, lambda: screen.run.state == tr.RUNNING), "test did not start"
        pump(app, 0.5)
        measuring[0] = True
        started = time.monotonic()
        pump(app, seconds)
        window_s = time.monotonic() - started
        measuring[0] = False
        # Memory over a second window, with the benchmark's own logs switched off.
        rig.logging = False
        pump(app, 1.0)
        rss_start = current_rss_mb()
        pump(app, seconds)
        rss_end = current_rss_mb()
        with rig.log_lock:
            emitted = [e for e in rig.emitted if started <= e[2]]
        shown: list[int] = []
        screen.run.state_changed.connect(
            lambda s: shown.append(screen.session.samples) if s == tr.SAVING else None
        )
        screen.run.stop()
        assert pump(app, 60, lambda: context.current_test_id is not None), "not saved"
        recording = parse_recording(context.store.tests.recording(context.current_test_id))
        stream = decode_stream(recording.data)
        lat = latencies_ms(emitted, [p for p in paints if p[0] >= started])
        result = {
            "p50_ms": float(np.percentile(lat, 50)),
            "p95_ms": float(np.percentile(lat, 95)),
            "max_ms": float(lat.max()),
            "fps": len([p for p in paints if p[0] >= started]) / window_s,
            "live_samples": float(shown[0]),
            "recorded_samples": float(stream.samples),
            "dropped": float(stream.counters.dropped_samples),
            "rss_growth_mb": rss_end - rss_start,
        }
        window.close()
        context.store.close()
    forget_device(name)
    return result


def current_rss_mb() -> float:
    """Resident memory now (Linux), else the peak so far."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 1e6
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_long_recording(path: Path, minutes: float) -> int:
    """A ``minutes``-long 2 kHz station recording of a virtual session; its sample count."""
    seconds = minutes * 60.0
    athlete = Athlete(rest_s=20.0, quiet_start_s=3.0, reps=max(1, int(seconds // 24) - 1))
    rig = VirtualRig(NordicModel(athlete, seed=11, rate_hz=RATE_HZ), rate_hz=RATE_HZ)
    data = rig.capture_bytes(seconds)
    with RecordingWriter(
        path, port="virtual", info=rig.info, calibration=rig.calibration_certificate()
    ) as writer:
        step = 1 << 16
        for i, start in enumerate(range(0, len(data), step)):
            writer.write(data[start : start + step], t=i * 0.03)
    return decode_stream(data).samples


def long_run(minutes: float) -> dict[str, float]:
    """Replay a long 2 kHz recording at maximum speed through the whole app."""
    app = application()
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "long.nsrec"
        t0 = time.perf_counter()
        expected = make_long_recording(source, minutes)
        made_s = time.perf_counter() - t0
        rss_before = current_rss_mb()
        window = build_window(
            Path(folder) / "data", Path(folder) / "settings.ini", install_hook=False
        )
        window.resize(1600, 1000)
        window.show()
        context = window.context
        context.set_athlete(context.store.athletes.add("Long Run"))
        screen = window.screens["test"]
        window.screens["connect"].replay(str(source), "max")
        assert pump(app, 60, lambda: context.acquisition.state == acq.READY), "replay not ready"
        shown: list[int] = []
        screen.run.state_changed.connect(
            lambda s: shown.append(screen.session.samples) if s == tr.SAVING else None
        )
        t1 = time.perf_counter()
        screen.start_test()
        assert pump(app, 1800, lambda: bool(shown)), "replay never finished"
        streamed_s = time.perf_counter() - t1
        rss_streamed = current_rss_mb()
        device = context.acquisition.device()
        held = 0.0
        if device is not None:  # the replay source keeps the whole recording, decoded, in memory
            stream_arrays = device.capture.stream
            held = (
                len(device.data)
                + sum(a.nbytes for a in (stream_arrays.index, stream_arrays.counts))
                + sum(a.nbytes for a in (stream_arrays.flags, stream_arrays.segment))
            ) / 1e6
        assert pump(app, 1800, lambda: context.current_test_id is not None), "not saved"
        saved_s = time.perf_counter() - t1 - streamed_s
        stream = decode_stream(
            parse_recording(context.store.tests.recording(context.current_test_id)).data
        )
        buffer = screen.session.buffer
        result = {
            "expected": float(expected),
            "live": float(shown[0]),
            "recorded": float(stream.samples),
            "dropped": float(stream.counters.dropped_samples),
            "streamed_s": streamed_s,
            "saved_s": saved_s,
            "made_s": made_s,
            "plot_buffer_mb": (buffer._x.nbytes + buffer._y.nbytes) / 1e6,
            "rss_before_mb": rss_before,
            "rss_streamed_mb": rss_streamed,
            "replay_source_mb": held,
        }
        window.close()
        context.store.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each live run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--long-minutes", type=float, default=30.0, help="0 skips the long run")
    args = parser.parse_args()
    application()
    runs = [live_run(args.seconds, i) for i in range(args.runs)]
    for i, r in enumerate(runs):
        print(
            f"run {i + 1}: p50 {r['p50_ms']:.1f} ms, p95 {r['p95_ms']:.1f} ms, "
            f"max {r['max_ms']:.1f} ms, {r['fps']:.1f} fps, live {r['live_samples']:.0f} / "
            f"recorded {r['recorded_samples']:.0f} samples, dropped {r['dropped']:.0f}"
        )
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print(
        f"device-to-pixel latency p95 (median of {args.runs} runs of {args.seconds:g} s at 2 kHz): "
        + verdict(med["p95_ms"], LATENCY_TARGET_MS, "ms")
    )
    print(f"  (p50 {med['p50_ms']:.1f} ms, max {med['max_ms']:.1f} ms)")
    print(
        "frames per second during a test: "
        + verdict(med["fps"], FPS_TARGET, "fps", lower_is_better=False)
    )
    growth = max(r["rss_growth_mb"] for r in runs)
    print(
        f"resident memory growth while streaming live at 2 kHz: at most {growth:+.1f} MB over "
        f"{args.seconds:g} s (the plot buffer is fixed; the full data goes to the recording)"
    )
    lost = sum(r["live_samples"] > r["recorded_samples"] or r["dropped"] for r in runs)
    print(f"live samples missing from the recording, dropped samples: {lost or 'none'}")
    if args.long_minutes > 0:
        r = long_run(args.long_minutes)
        ok = r["live"] == r["expected"] == r["recorded"] and r["dropped"] == 0
        print(
            f"{args.long_minutes:g} min at 2 kHz, replayed at maximum speed through the app: "
            f"{r['expected']:.0f} samples, live {r['live']:.0f}, recorded {r['recorded']:.0f}, "
            f"dropped {r['dropped']:.0f}: {'no sample lost' if ok else 'SAMPLES LOST'}"
        )
        speed = r["expected"] / r["streamed_s"] / RATE_HZ
        print(
            f"  streamed in {r['streamed_s']:.1f} s ({speed:.0f}x real time), analysed and stored "
            f"in {r['saved_s']:.1f} s; plot buffer {r['plot_buffer_mb']:.2f} MB (fixed); resident "
            f"memory {r['rss_before_mb']:.0f} MB before, {r['rss_streamed_mb']:.0f} MB after "
            f"streaming (the replay source holds {r['replay_source_mb']:.0f} MB of the recording)"
        )


if __name__ == "__main__":
    main()
