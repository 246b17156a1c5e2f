"""The live link at 2 kHz, and loading a long recording.

(a) CPU of the link's reader thread, as % of one core: ``time.thread_time()``
    sampled inside the reader thread (Link counters ``reader_cpu_s``), over a
    window of streaming.  Target <= 5 %.
(b) Latency from a byte's arrival to its block's delivery: for every Blocks
    event, the time the main thread takes it off ``Link.events`` minus the
    time the device handed the last byte of that read to the pty (the pty
    server writes what ``poll`` returns at once; a wrapper device timestamps
    each poll).  Target: 95th percentile <= 10 ms.
(c) ``load_capture`` of a 10-minute 1 kHz recording stored in small live-like
    chunks.  Target: well under 0.5 s.

The device is the virtual rig at 2000 Hz served on a pty (so its simulation
runs in the pty server's thread, not in the reader's).  Each figure is the
median of several runs.
"""

from __future__ import annotations

import bisect
import queue
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.timing import median_seconds, verdict  # noqa: E402
from firmware_bridge.capture import load_capture  # noqa: E402
from firmware_bridge.device import PtyServer  # noqa: E402
from firmware_bridge.link import Blocks, CountersSnapshot, Link  # noqa: E402
from firmware_bridge.messages import Info, SampleBlock, encode  # noqa: E402
from firmware_bridge.recording import RecordingWriter  # noqa: E402
from firmware_bridge.virtual_rig import VirtualRig  # noqa: E402

RATE_HZ = 2000.0
RUNS = 3
WARMUP_S = 1.0
MEASURE_S = 8.0


class TimedDevice:
    """Wraps a ByteDevice and logs (time, total bytes so far) at each poll with data.

    It waits for the reader to open the pty, so the link sees every byte the
    device wrote and byte offsets line up.
    """

    wait_for_reader = True

    def __init__(self, inner: VirtualRig) -> None:
        self.inner = inner
        self.times: list[float] = []
        self.totals: list[int] = []
        self._total = 0
        self._lock = threading.Lock()

    @property
    def connected(self) -> bool:
        return self.inner.connected

    def on_open(self, now: float) -> None:
        self.inner.on_open(now)

    def receive(self, data: bytes, now: float) -> None:
        self.inner.receive(data, now)

    def next_due(self, now: float) -> float:
        return self.inner.next_due(now)

    def poll(self, now: float) -> bytes:
        data = self.inner.poll(now)
        if data:
            stamp = time.monotonic()
            with self._lock:
                self._total += len(data)
                self.times.append(stamp)
                self.totals.append(self._total)
        return data

    def written_at(self, offset: int) -> float:
        """When the byte ending at stream offset ``offset`` was handed to the pty."""
        with self._lock:
            i = bisect.bisect_left(self.totals, offset)
            return self.times[i]


def live_run() -> tuple[float, float, int]:
    """One run: (reader CPU %, latency p95 in ms, blocks measured)."""
    device = TimedDevice(VirtualRig(rate_hz=RATE_HZ, seed=1))
    with PtyServer(device) as server:
        link = Link(server.path)
        link.open()
        link.start()
        latencies: list[float] = []
        cpu: list[tuple[float, float]] = []
        started = time.monotonic()
        end = started + WARMUP_S + MEASURE_S
        while (now := time.monotonic()) < end:
            try:
                event = link.events.get(timeout=0.1)
            except queue.Empty:
                continue
            taken = time.monotonic()
            if now - started < WARMUP_S:
                continue
            if isinstance(event, Blocks):
                latencies.append(taken - device.written_at(event.stream_offset))
            elif isinstance(event, CountersSnapshot):
                cpu.append((event.t, event.counters["reader_cpu_s"]))
        link.stop()
        counters = link.counters()
        link.close()
    assert counters["frames_corrupt"] == 0 and counters["dropped_samples"] == 0, counters
    (t0, c0), (t1, c1) = cpu[0], cpu[-1]
    cpu_pct = 100 * (c1 - c0) / (t1 - t0)
    p95_ms = 1000 * float(np.percentile(latencies, 95))
    return cpu_pct, p95_ms, len(latencies)


def make_recording(
    path: Path, seconds: float = 600.0, rate: int = 1000, per_chunk: int = 10
) -> int:
    """A 10-minute recording in chunks of ``per_chunk`` samples (one small read each)."""
    rng = np.random.default_rng(0)
    n = int(seconds * rate)
    counts = (80_000 + rng.normal(0, 20, (n, 2))).astype(np.int32)
    with RecordingWriter(path, port="bench", info=Info(rate * 1000, "NR-BENCH")) as writer:
        writer.write(b"\x00" + encode(Info(rate * 1000, "NR-BENCH")), t=0.0)
        for k, first in enumerate(range(0, n, per_chunk)):
            block = SampleBlock(first, counts[first : first + per_chunk])
            writer.write(encode(block), t=(k + 1) * per_chunk / rate)
    return n


def main() -> None:
    runs = [live_run() for _ in range(RUNS)]
    cpu = statistics.median(r[0] for r in runs)
    p95 = statistics.median(r[1] for r in runs)
    print(
        f"live link, virtual rig at {RATE_HZ:g} Hz over a pty, {MEASURE_S:g} s x {RUNS} runs "
        f"({runs[0][2]} blocks per run)"
    )
    print("reader thread CPU:", verdict(cpu, 5, "% of one core"))
    print("arrival -> delivery latency p95:", verdict(p95, 10, "ms"))
    with tempfile.TemporaryDirectory() as folder:
        for per_chunk in (30, 10):
            path = Path(folder) / f"ten_minutes_{per_chunk}.nsrec"
            n = make_recording(path, per_chunk=per_chunk)
            seconds = median_seconds(lambda p=path: load_capture(p), runs=5)
            assert load_capture(path).stream.samples == n
            size = path.stat().st_size / 1e6
            print(
                f"load_capture, 10 min at 1 kHz, {per_chunk} samples per record "
                f"({size:.1f} MB, {n // per_chunk} records):",
                verdict(seconds * 1000, 250, "ms"),
            )


if __name__ == "__main__":
    main()
