"""Every number the analysis depends on, in one frozen, serialisable object.

A stored result carries the settings it was computed with, so it can be
recomputed and compared later; ``from_dict`` refuses keys it does not know
rather than silently analysing with different rules.  The meaning of each
field is in docs/analysis.md.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from firmware_bridge.errors import InputError


class SettingsError(InputError):
    """Analysis settings that cannot be used."""


@dataclass(frozen=True)
class AnalysisSettings:
    """Analysis rules: filter, tare, repetition detection and metric thresholds (SI units)."""

    # Filtering: zero-phase Butterworth low-pass (causal form for the live view).
    cutoff_hz: float = 10.0
    filter_order: int = 4
    # On a slow rig the cut-off is lowered to this fraction of the Nyquist frequency.
    max_cutoff_nyquist_fraction: float = 0.8
    # Tare: the first stretch where every window of this length is this still.
    quiet_window_s: float = 1.0
    quiet_max_std_n: float = 2.0
    # Repetition detection (both legs filtered, after the tare).
    rep_threshold_n: float = 30.0
    rep_edge_n: float = 10.0
    rep_min_duration_s: float = 0.5
    rep_merge_gap_s: float = 1.0
    rep_max_extend_s: float = 2.0
    # Metrics.
    impulse_threshold_n: float = 20.0
    rfd_window_s: float = 0.05
    rfd_min_rate_hz: float = 40.0
    # Warning when a still stretch sits this far from the zero (drift, repositioning).
    drift_warning_n: float = 10.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise SettingsError(f"analysis setting {f.name} must be a number, not {value!r}")
            if not math.isfinite(value) or value <= 0:
                raise SettingsError(f"analysis setting {f.name} must be positive, not {value!r}")
        if self.filter_order != int(self.filter_order) or not 1 <= self.filter_order <= 8:
            raise SettingsError("analysis setting filter_order must be a whole number from 1 to 8")
        if not self.max_cutoff_nyquist_fraction < 1:
            raise SettingsError("analysis setting max_cutoff_nyquist_fraction must be below 1")
        if not self.rep_edge_n < self.rep_threshold_n:
            raise SettingsError("analysis setting rep_edge_n must be below rep_threshold_n")
        if not self.rep_merge_gap_s <= self.rep_max_extend_s:
            raise SettingsError("analysis setting rep_merge_gap_s must not exceed rep_max_extend_s")

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> AnalysisSettings:
        """Settings from a stored dict; missing keys take today's defaults, unknown keys fail."""
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise SettingsError(f"unknown analysis setting(s): {', '.join(unknown)}")
        return cls(**data)

    def with_changes(self, **changes: Any) -> AnalysisSettings:
        return replace(self, **changes)
