"""The known-mass calibration procedure as a state machine, with no Qt and no I/O.

The CLI and the app's wizard both drive it the same way: feed it readings
(device time and counts) as they arrive, show :attr:`Procedure.instruction`
and :attr:`Procedure.reading`, and call :meth:`~Procedure.accept`,
:meth:`~Procedure.skip`, :meth:`~Procedure.retry` or :meth:`~Procedure.abort`
when the operator acts.  Every call returns the events it caused, each with a
message for the operator.

Plan, per channel (left, then right): the zero (nothing on the hook), the
masses ascending, then descending back to zero (for hysteresis), and with
``repeat`` the whole series again (for repeatability).  The top mass is read
once per run: it is the turning point of the series.

Phases of a step::

    WAITING  --accept()-->  SETTLING  --settled--> next step (WAITING) ... DONE
                               |  noisy/creeping/no change past timeout_s,
                               |  load removed too early, or a jump after
                               |  which the reading settled somewhere else
                               v
                            PROBLEM  --retry()--> SETTLING
                                     --accept()--> point kept, marked unsettled
                                     --skip()--> next step without a point

``accept()`` in WAITING means "the load is set": only readings after it count,
so a point always belongs to the step it is recorded for.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from calibration.certificate import CHANNELS
from calibration.errors import CalibrationError
from calibration.fit import MIN_DISTINCT_MASSES
from calibration.points import DOWN, UP, CalPoint
from calibration.settle import Assessment, SettleConfig, SettleDetector, Stability

DEFAULT_TIMEOUT_S = 20.0


class Phase(StrEnum):
    WAITING = "waiting"
    SETTLING = "settling"
    PROBLEM = "problem"
    DONE = "done"
    ABORTED = "aborted"


@dataclass(frozen=True)
class Step:
    """One reading to take: ``mass_kg`` on ``channel``'s hook, in a direction and run."""

    index: int
    channel: str
    mass_kg: float
    direction: str
    run: int

    @property
    def is_zero(self) -> bool:
        return self.mass_kg == 0

    @property
    def label(self) -> str:
        way = "ascending" if self.direction == UP else "descending"
        return f"{self.channel} {self.mass_kg:g} kg, {way}, run {self.run}"

    @property
    def instruction(self) -> str:
        if self.is_zero:
            return f"Empty the {self.channel} hook (nothing hanging): zero"
        return f"Hang {self.mass_kg:g} kg on the {self.channel} hook"


@dataclass(frozen=True)
class ProcedureEvent:
    """Something that happened, for the operator: ``kind`` is a stable word.

    Kinds: settled, accepted_unsettled, skipped, retry, load_detected, jump,
    noisy, creeping, removed_early, no_change, no_data, done, aborted.
    """

    kind: str
    message: str
    step: Step | None = None
    point: CalPoint | None = None


def parse_masses(masses: Sequence[float] | str) -> list[float]:
    """Validated, sorted masses in kg (``"0,10,20"`` or numbers); CalibrationError if bad."""
    if isinstance(masses, str):
        items = [m.strip() for m in masses.split(",") if m.strip()]
        values = []
        for item in items:
            try:
                values.append(float(item))
            except ValueError:
                raise CalibrationError(
                    f"mass {item!r} is not a number (give kg, e.g. --masses 0,10,20)"
                ) from None
    else:
        values = [float(m) for m in masses]
    for value in values:
        if not math.isfinite(value):
            raise CalibrationError(f"mass {value} is not a finite number")
        if value < 0:
            raise CalibrationError(f"mass {value:g} kg is negative; masses are >= 0 kg")
    if len(set(values)) != len(values):
        twice = next(v for v in values if values.count(v) > 1)
        raise CalibrationError(f"mass {twice:g} kg is listed twice; list each mass once")
    loads = sorted(set(values) | {0.0})
    if len(loads) < MIN_DISTINCT_MASSES:
        raise CalibrationError(
            f"too few masses ({', '.join(f'{m:g}' for m in loads)} kg with the zero); "
            f"give at least {MIN_DISTINCT_MASSES - 1} masses above zero, e.g. --masses 0,10,20"
        )
    return loads


def parse_channels(channels: Sequence[str] | str) -> list[str]:
    """Validated channel names in CHANNELS order; CalibrationError if bad."""
    items = channels.split(",") if isinstance(channels, str) else list(channels)
    names = [c.strip().lower() for c in items if c.strip()]
    for name in names:
        if name not in CHANNELS:
            raise CalibrationError(f"channel {name!r} is not left or right")
    if not names:
        raise CalibrationError("no channel given: use left, right or left,right")
    return [c for c in CHANNELS if c in names]


def plan_steps(
    masses: Sequence[float] | str,
    channels: Sequence[str] | str = CHANNELS,
    *,
    repeat: bool = False,
    descending: bool = True,
) -> list[Step]:
    """The steps of a calibration (see the module docstring for the order)."""
    loads = parse_masses(masses)
    out: list[Step] = []
    for channel in parse_channels(channels):
        for run in range(1, 3 if repeat else 2):
            series = [(m, UP) for m in loads]
            if descending:
                series += [(m, DOWN) for m in reversed(loads[:-1])]
            for mass, direction in series:
                out.append(Step(len(out), channel, mass, direction, run))
    return out


def verification_steps(channel: str, mass_kg: float) -> list[Step]:
    """The plan of a quick verification: the empty hook (a tare), then one known mass."""
    (name,) = parse_channels([channel])
    if not (math.isfinite(mass_kg) and mass_kg > 0):
        raise CalibrationError(f"verify with a mass above 0 kg, not {mass_kg:g}")
    return [Step(0, name, 0.0, UP, 1), Step(1, name, float(mass_kg), UP, 1)]


class Procedure:
    """Drive a calibration step by step; see the module docstring."""

    def __init__(
        self,
        masses: Sequence[float] | str,
        channels: Sequence[str] | str = CHANNELS,
        *,
        repeat: bool = False,
        descending: bool = True,
        config: SettleConfig | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        steps = plan_steps(masses, channels, repeat=repeat, descending=descending)
        self._setup(steps, config, timeout_s)

    @classmethod
    def from_steps(
        cls,
        steps: Sequence[Step],
        *,
        config: SettleConfig | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> Procedure:
        """A procedure over any plan (e.g. :func:`verification_steps`)."""
        if not steps:
            raise CalibrationError("a procedure needs at least one step")
        proc = cls.__new__(cls)
        proc._setup(list(steps), config, timeout_s)
        return proc

    def _setup(self, steps: list[Step], config: SettleConfig | None, timeout_s: float) -> None:
        self.steps = steps
        self.config = config or SettleConfig()
        needed = max(self.config.window_s, self.config.min_dwell_s)
        if not timeout_s > needed:
            raise CalibrationError(
                f"the timeout ({timeout_s:g} s) must be longer than the settle window and "
                f"the dwell ({needed:g} s)"
            )
        self.timeout_s = timeout_s
        self.points: list[CalPoint] = []
        self.events: list[ProcedureEvent] = []
        self.phase = Phase.WAITING
        self._index = 0
        self._zero: dict[str, float] = {}
        self._last_t: float | None = None
        self._settle_start: float | None = None
        self._live = SettleDetector(self.config)
        self._detector: SettleDetector | None = None
        self._last_full: Assessment | None = None
        self._load_seen = False
        self._pre_jump: float | None = None  # the level before an unexpected jump

    # -- what to show ---------------------------------------------------------
    @property
    def step(self) -> Step | None:
        """The current step (None when done or aborted)."""
        if self.phase in (Phase.DONE, Phase.ABORTED):
            return None
        return self.steps[self._index]

    @property
    def progress(self) -> tuple[int, int]:
        """(steps finished, steps in all)."""
        return self._index, len(self.steps)

    @property
    def reading(self) -> Assessment:
        """The live reading of the current channel and its stability."""
        if self._detector is not None:
            return self._detector.assessment
        return self._live.assessment

    @property
    def finished(self) -> bool:
        return self.phase in (Phase.DONE, Phase.ABORTED)

    @property
    def instruction(self) -> str:
        """What the operator should do now."""
        step = self.step
        if self.phase is Phase.DONE:
            return "Calibration readings complete."
        if self.phase is Phase.ABORTED:
            return "Calibration aborted."
        assert step is not None
        if self.phase is Phase.WAITING:
            return f"{step.instruction}, then accept when it hangs still."
        if self.phase is Phase.SETTLING:
            return f"{step.instruction}: hold still, measuring."
        return f"{step.instruction}: {self.reading.message}. Retry, accept anyway, or skip."

    def zero_counts(self, channel: str) -> float | None:
        """The channel's zero reading from this calibration, once taken."""
        return self._zero.get(channel)

    def counts_per_kg(self, channel: str) -> float | None:
        """A running estimate of the channel's scale (for messages), from its points so far."""
        pts = [p for p in self.points if p.channel == channel and p.mass_kg > 0]
        zero = self._zero.get(channel)
        if not pts or zero is None:
            return None
        return float(np.mean([(p.counts - zero) / p.mass_kg for p in pts]))

    # -- feeding ----------------------------------------------------------------
    def feed(self, t_s: float | np.ndarray, counts: float | np.ndarray) -> list[ProcedureEvent]:
        """Readings of the current step's channel: device times (s) and raw counts.

        ``counts`` may also be an (n, 2) array of both channels (left, right);
        the current channel's column is used.
        """
        step = self.step
        if step is None:
            return []
        values = np.asarray(counts, dtype=float)
        if values.ndim == 2:
            values = values[:, CHANNELS.index(step.channel)]
        times = np.atleast_1d(np.asarray(t_s, dtype=float))
        values = np.atleast_1d(values)
        if times.size == 0:
            return []
        self._last_t = float(times[-1])
        self._live.feed(times, values)
        if self._detector is None:
            return []
        events: list[ProcedureEvent] = []
        for assessment in self._detector.feed_all(times, values):
            if self._detector is None:  # the step ended inside this chunk
                break
            events += self._judge(assessment)
        return events

    def _judge(self, assessment: Assessment) -> list[ProcedureEvent]:
        """React to one assessment of the current step's detector."""
        assert self._detector is not None
        if assessment.spread_counts is not None:
            self._last_full = assessment
        if self.phase is not Phase.SETTLING:
            return []
        now = self._detector.last_t
        if self._settle_start is None:
            self._settle_start = now
        events: list[ProcedureEvent] = []
        if self._detector.departed and not self._load_seen:
            self._load_seen = True
            events += self._emit("load_detected", "change detected: measuring")
        status = assessment.status
        if status is Stability.SETTLED:
            moved = self._moved_since_jump(assessment)
            if moved is not None:
                self.phase = Phase.PROBLEM
                return events + self._emit("jump", moved)
            return events + self._capture(assessment, settled=True)
        if status is Stability.REMOVED_EARLY:
            self.phase = Phase.PROBLEM
            return events + self._emit("removed_early", assessment.message)
        if status is Stability.JUMP:
            if self._pre_jump is None and assessment.jump_counts is not None:
                self._pre_jump = assessment.mean_counts - assessment.jump_counts
            return events + self._emit("jump", self._jump_message(assessment))
        if now - self._settle_start >= self.timeout_s:
            self.phase = Phase.PROBLEM
            waiting = status in (Stability.COLLECTING, Stability.NO_DATA)
            kind = "no_data" if waiting and assessment.spread_counts is None else str(status)
            message = assessment.message
            if kind == "no_data":
                message = f"no steady readings for {self.timeout_s:g} s: is the rig streaming?"
            return events + self._emit(kind, f"not settled after {self.timeout_s:g} s: {message}")
        return events

    # -- operator actions ------------------------------------------------------
    def accept(self) -> list[ProcedureEvent]:
        """WAITING: the load is set, start measuring.  PROBLEM: keep the reading as it is."""
        if self.phase is Phase.WAITING:
            self._start_settling()
            return []
        if self.phase is Phase.PROBLEM:
            if self._last_full is None:
                return self._emit(
                    "no_data", "no full window of readings to accept yet: wait, retry or skip"
                )
            return self._capture(self._last_full, settled=False)
        return []

    def retry(self) -> list[ProcedureEvent]:
        """Measure the current step again (after the operator fixed the problem)."""
        if self.phase not in (Phase.SETTLING, Phase.PROBLEM):
            return []
        self._start_settling()
        return self._emit("retry", f"measuring {self.steps[self._index].label} again")

    def skip(self) -> list[ProcedureEvent]:
        """Go on without a point for this step."""
        if self.finished:
            return []
        step = self.steps[self._index]
        events = self._emit("skipped", f"skipped {step.label}")
        return events + self._advance()

    def abort(self) -> list[ProcedureEvent]:
        """Stop; the points taken so far stay in :attr:`points`."""
        if self.finished:
            return []
        self.phase = Phase.ABORTED
        self._detector = None
        return self._emit("aborted", "calibration aborted")

    # -- internals ----------------------------------------------------------------
    def _start_settling(self) -> None:
        step = self.steps[self._index]
        previous = self._previous_point(step)
        expect_change = previous is not None and previous.mass_kg != step.mass_kg
        self._detector = SettleDetector(
            self.config,
            zero_counts=self._zero.get(step.channel),
            previous_counts=previous.counts if previous is not None else None,
            expect_change=expect_change,
        )
        self._detector.restart(self._last_t)
        self._settle_start = self._last_t
        self._last_full = None
        self._load_seen = False
        self._pre_jump = None
        self.phase = Phase.SETTLING

    def _previous_point(self, step: Step) -> CalPoint | None:
        for point in reversed(self.points):
            if point.channel == step.channel:
                return point
        return None

    def _capture(self, assessment: Assessment, settled: bool) -> list[ProcedureEvent]:
        step = self.steps[self._index]
        point = CalPoint(
            channel=step.channel,
            mass_kg=step.mass_kg,
            counts=float(assessment.mean_counts),
            spread_counts=float(assessment.spread_counts),
            direction=step.direction,
            run=step.run,
            settled=settled,
        )
        self.points.append(point)
        if step.is_zero and step.channel not in self._zero:
            self._zero[step.channel] = point.counts
        if settled:
            text = f"{step.label}: {point.counts:.0f} counts (spread {point.spread_counts:.0f})"
            events = self._emit("settled", text, point)
        else:
            text = (
                f"{step.label}: kept {point.counts:.0f} counts although not settled "
                f"({assessment.status}); the certificate will say so"
            )
            events = self._emit("accepted_unsettled", text, point)
        return events + self._advance()

    def _advance(self) -> list[ProcedureEvent]:
        previous = self.steps[self._index]
        self._detector = None
        self._settle_start = None
        self._index += 1
        if self._index >= len(self.steps):
            self.phase = Phase.DONE
            return self._emit("done", f"all {len(self.steps)} steps done")
        self.phase = Phase.WAITING
        if self.steps[self._index].channel != previous.channel:
            self._live = SettleDetector(self.config)
        return []

    def _kg(self, counts: float) -> str:
        scale = self.counts_per_kg(self.steps[self._index].channel)
        return f" (about {counts / scale:+.2f} kg)" if scale else ""

    def _jump_message(self, assessment: Assessment) -> str:
        if assessment.jump_counts is None:
            return assessment.message
        return (
            f"the reading jumped by {assessment.jump_counts:+.0f} counts"
            f"{self._kg(assessment.jump_counts)} or more: was the mass bumped or changed? "
            "measuring again"
        )

    def _moved_since_jump(self, assessment: Assessment) -> str | None:
        """After a jump, a reading that settled elsewhere needs the operator's word.

        A bump settles back where it was and is simply measured again; a plate
        added or taken off does not, and must not be recorded as this step's mass.
        """
        if self._pre_jump is None or assessment.mean_counts is None:
            return None
        moved = assessment.mean_counts - self._pre_jump
        if abs(moved) <= self.config.jump_factor * assessment.spread_limit:
            return None
        step = self.steps[self._index]
        return (
            f"after the jump the reading settled {moved:+.0f} counts{self._kg(moved)} away "
            f"from where it was: check that {step.mass_kg:g} kg hangs on the {step.channel} "
            "hook, then retry (or accept this reading)"
        )

    def _emit(self, kind: str, message: str, point: CalPoint | None = None) -> list[ProcedureEvent]:
        step = self.steps[min(self._index, len(self.steps) - 1)]
        event = ProcedureEvent(kind, message, step, point)
        self.events.append(event)
        return [event]
