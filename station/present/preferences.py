"""The clinic's choices: display unit, analysis thresholds, MDC, reference lines, validity.

Each preference has a key in the app's settings file (an INI file in the
data folder, so tests that point the data folder at a temporary one never
touch real settings), a default, and a one-line explanation the settings
screen shows beside it.  No Qt here: the app reads and writes the file with
QSettings (:mod:`station.app.settings.preferences`), the command line reads it
with :func:`read_settings_file`, and both build the same :class:`Preferences`.
The analysis preferences map onto
:class:`~station.analysis.AnalysisSettings` (:meth:`Preferences.analysis_settings`),
which the store keeps with every result, so a test always says which rules
computed its numbers.
"""

from __future__ import annotations

import configparser
import os
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from station.analysis import (
    ASYMMETRY_FORMULAS,
    DEFAULT_REFERENCES,
    AnalysisSettings,
    ReferenceLine,
)
from station.present.references import applicable_references
from station.present.units import UNITS

PREFIX = "preferences/"
SETTINGS_FILE = "settings.ini"  # in the data folder: the app's and the command line's
DEBUG_ENV = "NORDIC_STATION_DEBUG"

# Reference-line choice: lines for the athlete's sport, every line, or one population's.
REFERENCES_BY_SPORT = "sport"
REFERENCES_ALL = "all"
REFERENCES_NONE = "none"

# Opar et al. 2013 (JOSPT): MDC95 of bilateral Nordic peak force is 60.1-76.2 N.
DEFAULT_MDC_N = 60.1


@dataclass(frozen=True)
class Preference:
    """One setting as the settings screen shows it."""

    name: str
    label: str
    explanation: str
    unit: str = ""


PREFERENCES: tuple[Preference, ...] = (
    Preference(
        "display_unit",
        "Force unit",
        "Unit for forces on screen and in reports; data are always stored and exported in N.",
    ),
    Preference(
        "lever_arm_m",
        "Default lever arm",
        "Knee joint centre to hook centre, for athletes with none of their own (torque = force "
        "× lever arm).",
        "m",
    ),
    Preference(
        "references",
        "Reference lines",
        "Which published lines to draw: the athlete's sport, one population, all or none.",
    ),
    Preference(
        "cutoff_hz",
        "Filter cut-off",
        "Low-pass filter of the analysis: lower smooths more, higher keeps fast changes "
        "(metrics.md: 10 Hz).",
        "Hz",
    ),
    Preference(
        "impulse_threshold_n",
        "Impulse threshold",
        "Impulse counts only the time the force is above this (metrics.md: 20 N).",
        "N",
    ),
    Preference(
        "rep_threshold_n",
        "Rep threshold",
        "Both legs must pull above this force for a repetition to count (default 30 N).",
        "N",
    ),
    Preference(
        "mdc_n",
        "Minimal detectable change",
        "A change in max force smaller than this is not called a change (Opar et al. 2013: "
        "60.1–76.2 N).",
        "N",
    ),
    Preference(
        "asymmetry_formula",
        "Asymmetry formula",
        "Formula new tests' imbalance is computed in, and the History screen judges "
        "(metrics.md): percentage difference (default), signed percentage or symmetry index; "
        "always named. Stored tests keep the formula they were analysed in.",
    ),
    Preference(
        "certificate_valid_days",
        "Certificate validity",
        "How long a new calibration certificate stays valid before the station warns.",
        "days",
    ),
    Preference(
        "data_folder",
        "Data folder",
        "Where the database and recordings live, from the next start (--data-dir or "
        "NORDIC_STATION_HOME, when given, win over it).",
    ),
    Preference(
        "clinic_name",
        "Clinic name",
        "Printed at the top of every report.",
    ),
    Preference(
        "clinic_logo",
        "Clinic logo",
        "An image (PNG or JPEG) printed beside the clinic's name on reports.",
    ),
    Preference(
        "show_tester_tools",
        "Show tester tools",
        "A menu to switch on the virtual rig's faults (also shown when NORDIC_STATION_DEBUG=1).",
    ),
)


def explanation(name: str) -> Preference:
    """The label and one-line explanation of a preference."""
    for preference in PREFERENCES:
        if preference.name == name:
            return preference
    raise KeyError(name)


@dataclass(frozen=True)
class Preferences:
    """Every preference with its default (SI units; display_unit only changes what is shown)."""

    display_unit: str = "N"
    lever_arm_m: float = 0.40
    references: str = REFERENCES_BY_SPORT
    cutoff_hz: float = AnalysisSettings.cutoff_hz
    impulse_threshold_n: float = AnalysisSettings.impulse_threshold_n
    rep_threshold_n: float = AnalysisSettings.rep_threshold_n
    mdc_n: float = DEFAULT_MDC_N
    asymmetry_formula: str = "pct_difference"
    certificate_valid_days: int = 180
    data_folder: str = ""
    clinic_name: str = ""
    clinic_logo: str = ""
    show_tester_tools: bool = False

    def analysis_settings(self, base: AnalysisSettings | None = None) -> AnalysisSettings:
        """The analysis rules these preferences ask for (SettingsError if inconsistent)."""
        return (base or AnalysisSettings()).with_changes(
            cutoff_hz=float(self.cutoff_hz),
            impulse_threshold_n=float(self.impulse_threshold_n),
            rep_threshold_n=float(self.rep_threshold_n),
            asymmetry_formula=str(self.asymmetry_formula),
        )

    def reference_lines(
        self, sport: str | None = None, sex: str | None = None
    ) -> list[ReferenceLine]:
        """The reference lines to draw for an athlete of ``sport`` and ``sex``."""
        return select_references(self.references, sport, sex)

    def lines_for(self, athlete: Any) -> list[ReferenceLine]:
        """The reference lines to draw for ``athlete`` (their sport and sex)."""
        return self.reference_lines(getattr(athlete, "sport", None), getattr(athlete, "sex", None))

    def tester_tools_visible(self) -> bool:
        return self.show_tester_tools or os.environ.get(DEBUG_ENV, "") not in ("", "0")

    def with_changes(self, **changes: Any) -> Preferences:
        return replace(self, **changes)


def select_references(
    choice: str, sport: str | None = None, sex: str | None = None
) -> list[ReferenceLine]:
    """Lines for a choice: those that apply to the athlete (their sport and sex; none when
    no published line covers the group: another group's cut-off is not shown), all, none,
    or one population by name."""
    lines = list(DEFAULT_REFERENCES)
    if choice == REFERENCES_NONE:
        return []
    if choice == REFERENCES_ALL:
        return lines
    if choice == REFERENCES_BY_SPORT:
        return applicable_references(lines, sport, sex)
    return [line for line in lines if line.population == choice] or lines


def populations() -> list[str]:
    """The populations of the built-in reference lines, in their order."""
    return list(dict.fromkeys(line.population for line in DEFAULT_REFERENCES))


def _coerce(value: Any, default: Any) -> Any:
    """A value read from the INI file (strings) as the default's type; bad values -> default."""
    if value is None or value == "":
        return default
    try:
        if isinstance(default, bool):
            return str(value).strip().lower() in ("1", "true", "yes", "on")
        if isinstance(default, int):
            return int(float(value))
        if isinstance(default, float):
            number = float(value)
            return number if number == number else default
    except (TypeError, ValueError):
        return default
    return str(value)


def from_values(value: Callable[[str], Any]) -> Preferences:
    """Preferences from ``value(key)`` (the raw setting or None); defaults for anything missing
    or unreadable."""
    defaults = Preferences()
    values: dict[str, Any] = {}
    for f in fields(Preferences):
        values[f.name] = _coerce(value(PREFIX + f.name), getattr(defaults, f.name))
    if values["display_unit"] not in UNITS:
        values["display_unit"] = defaults.display_unit
    if values["asymmetry_formula"] not in ASYMMETRY_FORMULAS:
        values["asymmetry_formula"] = defaults.asymmetry_formula
    return Preferences(**values)


def read_settings_file(path: Path) -> Preferences:
    """The preferences saved by the app in its INI file, read without Qt (defaults when the
    file is missing or unreadable: a report is never refused for want of settings)."""
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except (OSError, configparser.Error):
        return Preferences()
    section = PREFIX.rstrip("/")

    def value(key: str) -> Any:
        raw = parser.get(section, key.removeprefix(PREFIX), fallback=None)
        if raw is not None and len(raw) >= 2 and raw[0] == raw[-1] == '"':
            raw = raw[1:-1]
        return raw

    return from_values(value)


def validate(preferences: Preferences) -> str | None:
    """What is wrong with these preferences, in one line, or None."""
    if preferences.display_unit not in UNITS:
        return f"unknown force unit {preferences.display_unit!r}: choose N, kgf or lbf"
    if not 0.1 <= preferences.lever_arm_m <= 1.0:
        return "the default lever arm must be between 0.10 and 1.00 m"
    if preferences.asymmetry_formula not in ASYMMETRY_FORMULAS:
        return f"unknown asymmetry formula {preferences.asymmetry_formula!r}: choose " + ", ".join(
            ASYMMETRY_FORMULAS
        )
    if not preferences.mdc_n > 0:
        return "the minimal detectable change must be above 0 N"
    if preferences.certificate_valid_days < 1:
        return "a certificate must stay valid for at least 1 day"
    try:
        preferences.analysis_settings()
    except ValueError as exc:
        return str(exc)
    if preferences.data_folder and not Path(preferences.data_folder).expanduser().is_absolute():
        return "the data folder must be an absolute path"
    logo = preferences.clinic_logo
    if logo and not Path(logo).expanduser().is_file():
        return f"the clinic logo {logo} is not a file: choose an image (PNG or JPEG)"
    return None
