"""What every exported column means: units and plain-language definitions.

The sidecar of every export describes its columns from these tables, so a
researcher never has to guess a unit (see metrics.md for the formulas).
"""

from __future__ import annotations

DEFINITIONS = {
    "max_force_n": "highest rep peak of the leg in the test (N); peaks are maxima of the "
    "zero-phase low-pass filtered force within each rep",
    "avg_force_n": "mean of the included reps' peaks of the leg (N)",
    "max_rep": "number of the rep with the highest peak",
    "relative_max_force_n_per_kg": "max force / body mass at the test (N/kg)",
    "relative_avg_force_n_per_kg": "avg force / body mass at the test (N/kg)",
    "max_torque_nm": "max force x lever arm (knee joint centre to hook) (N·m)",
    "avg_torque_nm": "avg force x lever arm (N·m)",
    "imbalance_max_pct": "imbalance on the legs' max forces in the formula named in "
    "asymmetry_formula (%)",
    "imbalance_avg_pct": "imbalance on the legs' avg forces in the formula named in "
    "asymmetry_formula (%)",
    "imbalance_max_difference_pct": "100 x (stronger - weaker) / stronger on the legs' max "
    "forces, whatever the formula: the form of the 15 % / 20 % risk figures (%)",
    "imbalance_avg_difference_pct": "100 x (stronger - weaker) / stronger on the legs' avg "
    "forces, whatever the formula (%)",
    "stronger": "the stronger leg on max force",
    "stronger_max": "the stronger leg on max force",
    "stronger_avg": "the stronger leg on avg force",
    "l_r_ratio_max": "left / right, max forces",
    "l_r_ratio_avg": "left / right, avg forces",
    "reps_detected": "repetitions found by the analysis (Nordic: bilateral; isometric: each "
    "leg's reps on their own, a rep may hold one leg)",
    "reps": "included reps holding this leg (isometric: a rep may hold one leg only)",
    "reps_included": "repetitions not excluded by the clinician (summaries use only these)",
}

BASE_COLUMNS: dict[str, tuple[str, str]] = {
    "test_id": ("", "the test's id in this database"),
    "athlete_id": ("", "the athlete's id in this database"),
    "athlete": ("", "pseudonymous athlete id, stable across exports of this database"),
    "name": ("", "athlete's name"),
    "external_id": ("", "athlete's external (club or study) id"),
    "date_of_birth": ("date", "athlete's date of birth"),
    "age_years": ("years", "age at the test, from the date of birth"),
    "sex": ("", "female, male or other"),
    "sport": ("", ""),
    "team": ("", ""),
    "dominant_leg": ("", "left or right"),
    "recorded_at": ("ISO 8601 UTC", "when the test was recorded"),
    "protocol": ("", "test protocol (nordic_eccentric or isometric); never compare across"),
    "knee_angle_deg": ("°", "isometric protocol: knee angle, 0 = knee straight (empty: Nordic)"),
    "position": ("", "isometric protocol: the athlete's position (e.g. prone, 90/90)"),
    "rig_serial": ("", "serial number of the rig"),
    "certificate_id": ("", "calibration certificate used (see the test export for its content)"),
    "operator": ("", "who ran the test"),
    "sample_rate_hz": ("Hz", "the rig's sample rate"),
    "duration_s": ("s", "length of the recording on the device's clock"),
    "body_mass_kg": ("kg", "body mass used for relative values"),
    "lever_arm_m": ("m", "lever arm used for torques"),
    "source": ("", "import, live or recovered"),
    "recovered": ("", "true if the test was recovered after a crash (may end early)"),
    "voided": ("", "true if the test was voided (only in exports that include voided tests)"),
    "void_reason": ("", "why the test was voided"),
    "result_id": ("", "the analysis run these numbers come from"),
    "analysis_version": ("", "version of the analysis that computed the numbers"),
    "analyzed_at": ("ISO 8601 UTC", "when that analysis ran"),
    "asymmetry_formula": (
        "",
        "formula of the imbalance_*_pct columns (metrics.md): pct_difference = 100 x "
        "(stronger - weaker) / stronger; signed_pct = 100 x (L - R) / max(L, R); "
        "symmetry_index = 100 x (L - R) / ((L + R) / 2); signed ones: positive = left stronger",
    ),
    "excluded_reps": ("", "rep numbers excluded by the clinician, ';'-separated"),
    "flags": ("", "data-quality and analysis flags, ';'-separated"),
    "dropped_samples": ("samples", "samples lost on the link"),
    "frames_corrupt": ("frames", "frames that failed their checksum"),
    "saturated_samples_left": ("samples", "samples at the ADC's limit, left"),
    "saturated_samples_right": ("samples", "samples at the ADC's limit, right"),
    "lines_corrupt": ("lines", "text-dialect lines that could not be read"),
    "device_restarts": ("", "times the rig rebooted and started again during the test"),
    "overrun_events": ("", "times the rig reported it could not send every sample (OVERRUN)"),
    "segments": ("", "stretches of unbroken recording (1 = no restart)"),
}

_UNITS = {"_n": "N", "_pct": "%", "_n_per_kg": "N/kg", "_nm": "N·m", "_s": "s"}


def describe_column(column: str) -> dict[str, str]:
    if column in BASE_COLUMNS:
        unit, text = BASE_COLUMNS[column]
        return {"unit": unit, "description": text}
    leg, _, metric = column.partition("_")
    if leg in ("left", "right") and metric in DEFINITIONS:
        return {"unit": _unit(metric), "description": f"{leg} leg: {DEFINITIONS[metric]}"}
    return {"unit": _unit(column), "description": DEFINITIONS.get(column, "")}


def _unit(name: str) -> str:
    for suffix, unit in sorted(_UNITS.items(), key=lambda kv: -len(kv[0])):
        if name.endswith(suffix):
            return unit
    return ""
