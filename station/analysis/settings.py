"""Every number the analysis depends on, in one frozen, serialisable object.

A stored result carries the settings it was computed with, so it can be
recomputed and compared later; ``from_dict`` refuses keys it does not know
rather than silently analysing with different rules.  The meaning of each
field is in docs/analysis.md.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from firmware_bridge.errors import InputError

PROTOCOLS = ("nordic", "isometric")
ASYMMETRY_FORMULAS = ("pct_difference", "signed_pct", "symmetry_index")
# RFD and impulse windows (metrics.md), ms after the onset; also the JSON keys "0-50ms" ...
RFD_WINDOWS_MS = (50, 100, 150, 200, 250)
# Settings that are words from a fixed list, and optional ones (None allowed).
_CHOICES = {"protocol": PROTOCOLS, "asymmetry_formula": ASYMMETRY_FORMULAS}
_POSITION_MAX_CHARS = 60


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
    # Protocol (metrics.md): "nordic" (bilateral reps) or "isometric" (each leg on its own),
    # and for an isometric test the knee angle (0 = knee straight) and the position.
    protocol: str = "nordic"
    knee_angle_deg: float | None = None
    position: str | None = None
    # Formula of every imbalance figure (metrics.md, Asymmetry formulas).
    asymmetry_formula: str = "pct_difference"
    # RFD and windowed impulse: onset threshold on the RFD-filtered force, the RFD filter's
    # cut-off (lowered to this fraction of the rate on slow rigs), and how many sample
    # periods a window must span to be resolved (metrics.md: period <= W / 2, so 2).
    onset_threshold_n: float = 20.0
    rfd_cutoff_hz: float = 50.0
    rfd_max_cutoff_rate_fraction: float = 0.4
    rfd_min_samples_per_window: float = 2.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in _CHOICES:
                if value not in _CHOICES[f.name]:
                    raise SettingsError(
                        f"analysis setting {f.name} must be one of "
                        f"{', '.join(_CHOICES[f.name])}, not {value!r}"
                    )
                continue
            if f.name == "position":
                _check_position(value)
                continue
            if f.name == "knee_angle_deg" and value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise SettingsError(f"analysis setting {f.name} must be a number, not {value!r}")
            if f.name == "knee_angle_deg":
                if not (math.isfinite(value) and 0 <= value <= 180):
                    raise SettingsError(
                        f"analysis setting knee_angle_deg must be 0 to 180 degrees, not {value!r}"
                    )
                continue
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
        if not self.rfd_max_cutoff_rate_fraction < 0.5:
            raise SettingsError(
                "analysis setting rfd_max_cutoff_rate_fraction must be below 0.5 (Nyquist)"
            )

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

    def with_text(self, assignments: Iterable[str]) -> AnalysisSettings:
        """These settings with ``NAME=VALUE`` overrides (``--set``), each value parsed as its
        setting's type; an unknown name or a bad value is a :class:`SettingsError`."""
        changes: dict[str, Any] = {}
        for text in assignments:
            name, sep, value = text.partition("=")
            name = name.strip()
            if not sep or not name:
                raise SettingsError(f"--set takes NAME=VALUE (e.g. cutoff_hz=8), not {text!r}")
            changes[name] = parse_setting(name, value)
        return self.with_changes(**changes)

    @property
    def is_isometric(self) -> bool:
        """Reps are found per leg (metrics.md, Protocols)."""
        return self.protocol == "isometric"


def setting_names() -> tuple[str, ...]:
    return tuple(f.name for f in fields(AnalysisSettings))


def parse_setting(name: str, text: str) -> Any:
    """The value of setting ``name`` written as text (a number, a word, or none)."""
    if name not in setting_names():
        raise SettingsError(
            f"unknown analysis setting {name!r}: known settings are {', '.join(setting_names())}"
        )
    text = text.strip()
    if name in _CHOICES or name == "position":
        return None if name == "position" and text.lower() in ("", "none") else text
    if name == "knee_angle_deg" and text.lower() in ("", "none"):
        return None
    try:
        number = float(text)
    except ValueError:
        raise SettingsError(f"analysis setting {name} must be a number, not {text!r}") from None
    if name == "filter_order" and number.is_integer():
        return int(number)
    return number


def _check_position(value: object) -> None:
    if value is None:
        return
    if (
        not isinstance(value, str)
        or not value.strip()
        or len(value) > _POSITION_MAX_CHARS
        or not value.isprintable()
    ):
        raise SettingsError(
            f"analysis setting position must be a short text (at most {_POSITION_MAX_CHARS} "
            f"characters, e.g. prone), not {value!r}"
        )
