"""Injectable faults: what goes wrong between a rig and the station, on demand.

Why: every counter and recovery path of the host (corrupt frames, index gaps,
overruns, a silent rig, a pulled cable) must be provable in a test, with the
exact effect known in advance.  A fault is a :class:`FaultSpec`, usually
parsed from a short string (the ``--fault`` syntax in :data:`FAULT_HELP`);
a :class:`FaultInjector` applies a set of them to the rig's output.

Exact effects on :class:`~firmware_bridge.decoder.StreamDecoder` counters
(for a fault that does not fall on the session's last frame):

- ``drop``: the frames are never sent: ``dropped_samples`` grows by the
  samples they held.
- ``overrun``: EVENT OVERRUN with ``arg`` = N, and the index jumps by N:
  ``overrun_events`` +1, ``dropped_samples`` +N.
- ``garbage`` (a burst of non-zero bytes that is never a valid frame, then a
  0x00): ``frames_corrupt`` +1 per burst, no samples lost.
- ``bitflip`` at a time: one bit of one SAMPLES frame (never turning a byte
  into 0x00): ``frames_corrupt`` +1, ``dropped_samples`` + that frame's samples.
  ``bitflip`` with a probability hits any byte, delimiters included, like line
  noise: only the totals are predictable, and no bad sample ever gets through.
- ``stall``: nothing is sent for D seconds, then the backlog (no counter
  changes); with ``lose`` the samples of the stall are never sent (a gap with no
  OVERRUN event).
- ``unplug``: the port vanishes for D seconds; the rig then reboots (INFO,
  heartbeats, not streaming) and the host must START again.
- ``adcfault``: every SAMPLES frame holding a sample of ``[T, T + D)`` (without
  D: the one frame holding the sample at T) carries flag bit 2 (ADC fault), and
  one EVENT FAULT (``sample_index`` = the first faulty sample, ``arg`` =
  :data:`ADC_FAULT_CODE`) goes out just before the first such frame.  The counts
  are unchanged and no decoder counter moves: what the station makes of it is
  the analysis's business (flag ``adc_fault``, docs/analysis.md).

Randomness comes from the rig's seed, one stream per fault, so a run is
reproducible.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from firmware_bridge.errors import InputError
from firmware_bridge.framing import decode_frame

FAULT_KINDS = ("bitflip", "garbage", "drop", "overrun", "stall", "unplug", "adcfault")
DEFAULT_GARBAGE_BYTES = 16
MAX_GARBAGE_BYTES = 250
MAX_OVERRUN_SAMPLES = 0xFFFF  # EVENT arg is a u16
DEFAULT_OVERRUN_S = 0.1
# protocol.md leaves EVENT FAULT codes to the firmware; the virtual rig's ADC fault is 1.
ADC_FAULT_CODE = 1

FAULT_HELP = """\
fault specs (--fault SPEC, repeatable): KIND:WHEN[:ARG...]
  WHEN is a probability (0.01) or a time with a unit (10s, 500ms).  Times
  count from START on the rig's sample clock and recur in every test; unplug
  counts from power-on and happens once.
    bitflip:P          flip one bit of each byte sent with probability P
    bitflip:T          flip one bit of the SAMPLES frame at T (one corrupt frame)
    garbage:P[:N]      N random bytes (default 16) before a SAMPLES frame, with
                       probability P per frame
    garbage:T[:N]      N random bytes at T (one corrupt frame, no samples lost)
    drop:P[:N]         never send a SAMPLES frame (N in a row), probability P
    drop:T[:N]         never send N SAMPLES frames (default 1) from T: an index gap
    overrun:P[:N]      the rig's buffer overflows: N samples lost (default 0.1 s
    overrun:T[:N]      worth), announced by EVENT OVERRUN
    stall:T:D[:lose]   send nothing for D seconds from T, then the backlog; with
                       'lose' the samples of those seconds are lost instead
    unplug:T:D         pull the cable T after power-on for D seconds; the rig
                       reboots and waits for START
    adcfault:T[:D]     ADC fault for D seconds from T (default: one frame):
                       those frames carry flag bit 2, after one EVENT FAULT
                       (arg 1 = ADC fault) at T; the counts are unchanged
  examples: --fault bitflip:0.001 --fault drop:0.01 --fault overrun:10s:50
            --fault stall:20s:3 --fault unplug:30s:5 --fault adcfault:12s:2"""

_EXAMPLES = "e.g. drop:0.01, stall:20s:3"
_TIME = re.compile(r"^([0-9]*\.?[0-9]+)(s|ms)$")


@dataclass(frozen=True)
class FaultSpec:
    """One fault.  Exactly one of ``at_s`` (a time) and ``probability`` is set.

    ``count`` is bytes (garbage), frames (drop) or samples (overrun; None means
    0.1 s worth at the current rate); ``duration_s`` is for stall and unplug,
    and optional for adcfault (None: one frame).
    """

    kind: str
    at_s: float | None = None
    probability: float | None = None
    count: int | None = None
    duration_s: float | None = None
    lose: bool = False

    def __str__(self) -> str:
        when = f"{self.at_s:g}s" if self.at_s is not None else f"{self.probability:g}"
        parts = [self.kind, when]
        if self.duration_s is not None:
            parts.append(f"{self.duration_s:g}")
        if self.count is not None:
            parts.append(str(self.count))
        if self.lose:
            parts.append("lose")
        return ":".join(parts)


def _bad(text: str, why: str) -> InputError:
    return InputError(
        f"bad fault {text!r}: {why} ({_EXAMPLES}; see 'nordic-station simulate --help')"
    )


def _when(text: str, spec: str) -> tuple[float | None, float | None]:
    """(time_s, None) for '10s' / '500ms'; (None, p) for a probability."""
    match = _TIME.match(text.strip().lower())
    if match:
        value = float(match.group(1))
        return (value / 1000 if match.group(2) == "ms" else value), None
    try:
        p = float(text)
    except ValueError:
        raise _bad(spec, f"{text!r} is neither a time (like 10s) nor a probability") from None
    if not (0 < p <= 1):
        raise _bad(spec, f"probability {text} must be in (0, 1]; write times with a unit (10s)")
    return None, p


def _int(text: str, spec: str, what: str, low: int, high: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise _bad(spec, f"{what} {text!r} is not a whole number") from None
    if not low <= value <= high:
        raise _bad(spec, f"{what} must be {low}..{high}, not {value}")
    return value


def _seconds(text: str, spec: str, what: str) -> float:
    value = text.strip().lower()
    match = _TIME.match(value)
    try:
        seconds = (
            float(match.group(1)) / (1000 if match.group(2) == "ms" else 1)
            if match
            else float(value)
        )
    except ValueError:
        raise _bad(spec, f"{what} {text!r} is not a number of seconds") from None
    if not (math.isfinite(seconds) and seconds > 0):
        raise _bad(spec, f"{what} must be more than 0 s")
    return seconds


def parse_fault(text: str) -> FaultSpec:
    """Parse the ``--fault`` syntax (see :data:`FAULT_HELP`); InputError in one line if bad."""
    spec = text.strip()
    parts = spec.split(":")
    kind = parts[0].lower()
    if kind not in FAULT_KINDS:
        raise _bad(text, f"unknown kind {parts[0]!r} (kinds: {', '.join(FAULT_KINDS)})")
    args = parts[1:]
    if not args or not args[0]:
        raise _bad(text, f"{kind} needs a time or a probability")
    at_s, probability = _when(args[0], text)
    rest = args[1:]
    if kind == "adcfault":
        if at_s is None:
            raise _bad(text, f"{kind} takes a time with a unit (like 12s), not a probability")
        if len(rest) > 1:
            raise _bad(text, f"too many fields for {kind}")
        duration = _seconds(rest[0], text, "duration") if rest else None
        return FaultSpec(kind, at_s=at_s, duration_s=duration)
    if kind in ("stall", "unplug"):
        if at_s is None:
            raise _bad(text, f"{kind} takes a time with a unit (like 20s), not a probability")
        if not rest:
            raise _bad(text, f"{kind} needs a duration: {kind}:{args[0]}:SECONDS")
        duration = _seconds(rest[0], text, "duration")
        lose = False
        if len(rest) == 2 and kind == "stall" and rest[1].lower() == "lose":
            lose = True
        elif len(rest) > 1:
            raise _bad(text, f"too many fields for {kind}")
        return FaultSpec(kind, at_s=at_s, duration_s=duration, lose=lose)
    if len(rest) > 1 or (kind == "bitflip" and rest):
        raise _bad(text, f"too many fields for {kind}")
    count = None
    if rest:
        limits = {
            "garbage": ("byte count", MAX_GARBAGE_BYTES),
            "drop": ("frame count", 100_000),
            "overrun": ("sample count", MAX_OVERRUN_SAMPLES),
        }
        what, high = limits[kind]
        count = _int(rest[0], text, what, 1, high)
    return FaultSpec(kind, at_s=at_s, probability=probability, count=count)


def parse_faults(specs: Iterable[str | FaultSpec]) -> tuple[FaultSpec, ...]:
    return tuple(parse_fault(s) if isinstance(s, str) else s for s in specs)


@dataclass(frozen=True)
class FaultRecord:
    """One fault that happened: ``index`` is the session sample index it hit (None if
    not tied to a sample); ``amount`` is bytes, samples or seconds, by kind."""

    kind: str
    index: int | None
    amount: float


@dataclass
class SlotPlan:
    """What happens to the SAMPLES frame(s) of one block slot."""

    garbage: bytes = b""
    drop: bool = False
    flip: bool = False


class FaultInjector:
    """Applies fault specs to a rig's output, session by session.

    The rig asks, for each block slot ``[first, stop)`` of sample indices,
    for a :class:`SlotPlan` and for the pieces to send (samples and OVERRUN
    events); whole output chunks pass :meth:`flip_bytes`; :meth:`held_until`
    says whether output is stalled.  ``log`` lists what happened and ``stats``
    totals it.
    """

    def __init__(self, specs: Iterable[str | FaultSpec] = (), seed: int = 0) -> None:
        self.specs = parse_faults(specs)
        self.seed = int(seed)
        self.reset()

    def reset(self) -> None:
        """Back to power-on: fresh random streams, nothing happened yet."""
        self.log: list[FaultRecord] = []
        self.stats: Counter[str] = Counter()
        self._rngs = [np.random.default_rng([self.seed, 3, k]) for k in range(len(self.specs))]
        self._unplugs_done: set[int] = set()
        self._end_session()

    def _end_session(self) -> None:
        self._drop_slots: set[int] = set()
        self._garbage_slots: dict[int, list[int]] = {}
        self._flip_slots: set[int] = set()
        self._lost: list[tuple[int, int, bool]] = []  # [start, stop) of indices, announce?
        self._stalls: list[tuple[float, float, int]] = []  # device-time window, index
        self._stalls_begun: set[int] = set()
        self._adc_faults: list[tuple[int, int]] = []  # [start, stop) of faulty indices
        self._adc_faults_begun: set[int] = set()
        self._block = 1
        self._rate = 1.0

    # -- sessions ----------------------------------------------------------------
    def start_session(self, rate_hz: float, block: int, start_time: float) -> None:
        """Plan this session's timed faults (times are on its sample clock)."""
        self._end_session()
        self._block = block
        self._rate = rate_hz
        for k, spec in enumerate(self.specs):
            if spec.at_s is None or spec.kind == "unplug":
                continue
            index = math.ceil(spec.at_s * rate_hz - 1e-9)
            slot = index // block
            if spec.kind == "drop":
                self._drop_slots.update(range(slot, slot + (spec.count or 1)))
            elif spec.kind == "garbage":
                self._garbage_slots.setdefault(slot, []).append(k)
            elif spec.kind == "bitflip":
                self._flip_slots.add(slot)
            elif spec.kind == "overrun":
                self._lost.append((index, index + self._overrun_count(spec), True))
            elif spec.kind == "stall":
                begin = start_time + spec.at_s
                self._stalls.append((begin, begin + (spec.duration_s or 0.0), index))
                if spec.lose:
                    lost = round((spec.duration_s or 0.0) * rate_hz)
                    self._lost.append((index, index + lost, False))
            elif spec.kind == "adcfault":
                stop = index + 1
                if spec.duration_s is not None:
                    stop = max(stop, math.ceil((spec.at_s + spec.duration_s) * rate_hz - 1e-9))
                self._adc_faults.append((index, stop))
        self._lost.sort()

    def stop_session(self) -> None:
        self._end_session()

    def _overrun_count(self, spec: FaultSpec) -> int:
        if spec.count is not None:
            return spec.count
        return min(MAX_OVERRUN_SAMPLES, max(1, round(DEFAULT_OVERRUN_S * self._rate)))

    # -- per slot ------------------------------------------------------------------
    def slot(self, first: int, stop: int) -> SlotPlan:
        """Decide the fate of the slot holding samples ``[first, stop)``."""
        plan = SlotPlan()
        slot = first // self._block
        for k, spec in enumerate(self.specs):
            if spec.probability is None or spec.kind in ("bitflip", "stall", "unplug"):
                continue
            if self._rngs[k].random() >= spec.probability:
                continue
            if spec.kind == "garbage":
                plan.garbage += self._garbage(k, spec, first)
            elif spec.kind == "drop":
                self._drop_slots.update(range(slot, slot + (spec.count or 1)))
            elif spec.kind == "overrun":
                self._lost.append((first, first + self._overrun_count(spec), True))
                self._lost.sort()
        for k in self._garbage_slots.pop(slot, []):
            plan.garbage += self._garbage(k, self.specs[k], first)
        if slot in self._drop_slots:
            self._drop_slots.discard(slot)
            plan.drop = True
        if slot in self._flip_slots:
            self._flip_slots.discard(slot)
            plan.flip = True
        return plan

    def pieces(self, first: int, stop: int) -> list[tuple[str, int, int]]:
        """The slot's output in order: ("samples", a, b) runs and ("overrun", index, n)
        events, with lost samples cut out."""
        self._lost = [r for r in self._lost if r[1] > first]
        out: list[tuple[str, int, int]] = []
        pos = first
        for begin, end, announce in self._lost:
            if begin >= stop:
                break
            if begin > pos:
                out.append(("samples", pos, begin))
            if begin >= first:
                kind = "overrun" if announce else "stall_lost"
                self.log.append(FaultRecord(kind, begin, end - begin))
                self.stats[f"{kind}_samples"] += end - begin
                if announce:
                    self.stats["overruns"] += 1
                    out.append(("overrun", begin, end - begin))
            pos = max(pos, end)
        if pos < stop:
            out.append(("samples", pos, stop))
        return out

    def adc_fault_starts(self, first: int, stop: int) -> list[int]:
        """Indices in ``[first, stop)`` where an ADC fault begins: one EVENT FAULT each."""
        out = []
        for k, (begin, end) in enumerate(self._adc_faults):
            if first <= begin < stop and k not in self._adc_faults_begun:
                self._adc_faults_begun.add(k)
                self.log.append(FaultRecord("adcfault", begin, end - begin))
                self.stats["adc_faults"] += 1
                out.append(begin)
        return sorted(out)

    def adc_faulty(self, first: int, stop: int) -> bool:
        """Whether the frame holding samples ``[first, stop)`` carries the ADC-fault flag."""
        return any(begin < stop and first < end for begin, end in self._adc_faults)

    def note_dropped(self, first: int, samples: int) -> None:
        self.log.append(FaultRecord("drop", first, samples))
        self.stats["dropped_frames"] += 1
        self.stats["dropped_samples"] += samples

    def _garbage(self, k: int, spec: FaultSpec, first: int) -> bytes:
        """Random non-zero bytes that never form a valid frame, then a delimiter."""
        rng = self._rngs[k]
        n = spec.count or DEFAULT_GARBAGE_BYTES
        burst = bytearray(rng.integers(1, 256, n, dtype=np.uint8).tobytes())
        if decode_frame(bytes(burst)) is not None:
            burst[0] = 0xFF  # a COBS code promising 254 more bytes than there are
        self.log.append(FaultRecord("garbage", first, n))
        self.stats["garbage_bursts"] += 1
        self.stats["garbage_bytes"] += n
        return bytes(burst) + b"\x00"

    def flip_frame(self, frame: bytes, first: int, samples: int) -> bytes:
        """One frame with one bit flipped, never its delimiter, never making a 0x00."""
        rng = self._flip_rng()
        out = bytearray(frame)
        pos = int(rng.integers(0, len(out) - 1))
        bit = int(rng.integers(0, 8))
        if out[pos] ^ (1 << bit) == 0:
            bit = (bit + 1) % 8
        out[pos] ^= 1 << bit
        self.log.append(FaultRecord("bitflip", first, samples))
        self.stats["flipped_frames"] += 1
        self.stats["flipped_frame_samples"] += samples
        return bytes(out)

    def _flip_rng(self) -> np.random.Generator:
        for k, spec in enumerate(self.specs):
            if spec.kind == "bitflip" and spec.at_s is not None:
                return self._rngs[k]
        return np.random.default_rng([self.seed, 4])

    # -- every byte ------------------------------------------------------------------
    def flip_bytes(self, data: bytes) -> bytes:
        """Line noise: each byte has one bit flipped with the bitflip probability."""
        if not data:
            return data
        out: np.ndarray | None = None
        for k, spec in enumerate(self.specs):
            if spec.kind != "bitflip" or spec.probability is None:
                continue
            rng = self._rngs[k]
            hit = np.flatnonzero(rng.random(len(data)) < spec.probability)
            if hit.size:
                if out is None:
                    out = np.frombuffer(data, dtype=np.uint8).copy()
                out[hit] ^= (1 << rng.integers(0, 8, hit.size)).astype(np.uint8)
                self.stats["flipped_bytes"] += int(hit.size)
        return data if out is None else out.tobytes()

    # -- time ------------------------------------------------------------------------
    def held_until(self, now: float) -> float | None:
        """End of the stall holding output at device time ``now``, or None."""
        for k, (begin, end, index) in enumerate(self._stalls):
            if begin <= now < end:
                if k not in self._stalls_begun:
                    self._stalls_begun.add(k)
                    self.log.append(FaultRecord("stall", index, end - begin))
                    self.stats["stalls"] += 1
                return end
        return None

    def next_stall(self, now: float) -> float | None:
        starts = [begin for begin, _, _ in self._stalls if begin > now]
        return min(starts, default=None)

    def due_unplugs(self, uptime_s: float) -> list[tuple[float, float]]:
        """Unplugs due by ``uptime_s`` (seconds since power-on) not yet done: (at, duration)."""
        out = []
        for k, (at, duration) in self._unplug_specs():
            if k not in self._unplugs_done and at <= uptime_s:
                self._unplugs_done.add(k)
                out.append((at, duration))
        return sorted(out)

    def unplug_times(self) -> list[tuple[float, float]]:
        """All unplug faults as (at, duration) in seconds since power-on."""
        return sorted(times for _, times in self._unplug_specs())

    def _unplug_specs(self) -> list[tuple[int, tuple[float, float]]]:
        return [
            (k, (s.at_s or 0.0, s.duration_s or 0.0))
            for k, s in enumerate(self.specs)
            if s.kind == "unplug"
        ]

    def next_unplug(self) -> float | None:
        pending = [at for k, (at, _) in self._unplug_specs() if k not in self._unplugs_done]
        return min(pending, default=None)
