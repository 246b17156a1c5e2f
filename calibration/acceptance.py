"""Acceptance limits: whether a fitted channel is good enough to measure athletes with.

Each figure of :class:`~calibration.fit.ChannelFit` is compared with a limit
and gets its own pass/fail, so the operator sees which one failed and why.
A figure that was not measured (hysteresis without a descending series,
repeatability without a repeat run) is reported as ``passed: None`` and does
not fail the channel; a limit set to ``None`` is not checked.

Default limits (% of the largest applied force): 0.5 % for non-linearity,
hysteresis and repeatability.  A strain-gauge cell on a rigid rig does an
order of magnitude better; ordinary cast-iron plates can be off by 1-2 %,
which shows up here as non-linearity, so weigh the plates (or use calibrated
ones) when a channel fails.  For comparison, ISO 376 class 2 force-proving
instruments allow 0.5 % reversibility and 0.2 % repeatability.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from calibration.fit import ChannelFit

FIGURES = ("nonlinearity_pct", "hysteresis_pct", "repeatability_pct", "residual_max_n")


@dataclass(frozen=True)
class AcceptanceLimits:
    """Largest acceptable value of each figure; ``None`` switches a check off."""

    nonlinearity_pct: float | None = 0.5
    hysteresis_pct: float | None = 0.5
    repeatability_pct: float | None = 0.5
    residual_max_n: float | None = None

    def to_dict(self) -> dict[str, float | None]:
        return asdict(self)


@dataclass(frozen=True)
class FigureResult:
    """One figure against its limit; ``passed`` is None when not measured or not checked."""

    figure: str
    value: float | None
    limit: float | None
    passed: bool | None

    @property
    def verdict(self) -> str:
        return {True: "pass", False: "FAIL", None: "not measured" if self.value is None else "-"}[
            self.passed
        ]

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "limit": self.limit, "passed": self.passed}


@dataclass(frozen=True)
class ChannelAcceptance:
    """The verdict on one channel: passed when no checked figure failed."""

    channel: str
    results: tuple[FigureResult, ...]

    @property
    def passed(self) -> bool:
        return all(r.passed is not False for r in self.results)

    @property
    def failures(self) -> list[FigureResult]:
        return [r for r in self.results if r.passed is False]

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "figures": {r.figure: r.to_dict() for r in self.results}}


def evaluate(fit: ChannelFit, limits: AcceptanceLimits | None = None) -> ChannelAcceptance:
    """Compare each figure of ``fit`` with ``limits`` (defaults: :class:`AcceptanceLimits`)."""
    limits = limits or AcceptanceLimits()
    values = fit.figures()
    results = []
    for name in FIGURES:
        value = values[name]
        limit = getattr(limits, name)
        passed = None if value is None or limit is None else bool(value <= limit)
        results.append(FigureResult(name, value, limit, passed))
    return ChannelAcceptance(fit.channel, tuple(results))
