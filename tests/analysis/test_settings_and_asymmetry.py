"""Protocol, asymmetry formula and ``--set`` settings; the three asymmetry formulas."""

from __future__ import annotations

import pytest

from station.analysis import AnalysisSettings, Imbalance, SettingsError
from station.analysis.metrics import asymmetry
from tests.analysis.helpers import Session, run


@pytest.mark.parametrize(
    ("formula", "left", "right", "expected"),
    [
        ("pct_difference", 300.0, 250.0, 100 * 50 / 300),
        ("pct_difference", 250.0, 300.0, 100 * 50 / 300),  # side named, not signed
        ("signed_pct", 300.0, 250.0, 100 * 50 / 300),
        ("signed_pct", 250.0, 300.0, -100 * 50 / 300),
        ("symmetry_index", 300.0, 250.0, 100 * 50 / 275),
        ("symmetry_index", 250.0, 300.0, -100 * 50 / 275),
        ("symmetry_index", 200.0, 200.0, 0.0),
    ],
)
def test_asymmetry_formulas_follow_metrics_md(
    formula: str, left: float, right: float, expected: float
) -> None:
    assert asymmetry(left, right, formula) == pytest.approx(expected)
    imbalance = Imbalance.of(left, right, formula)
    assert imbalance.pct == pytest.approx(expected)
    assert imbalance.formula == formula
    # The percentage difference is kept for the reference lines whatever the formula.
    assert imbalance.difference_pct == pytest.approx(100 * abs(left - right) / max(left, right))


def test_undefined_asymmetry_is_none() -> None:
    assert asymmetry(0.0, 0.0, "symmetry_index") is None
    assert Imbalance.of(None, 200.0, "signed_pct").pct is None
    with pytest.raises(ValueError):
        asymmetry(1.0, 2.0, "ratio")


def test_the_result_names_the_formula_and_keeps_the_reference_lines_on_pct_difference() -> None:
    session = Session(rate=100.0, reps=[(6.0, 250.0, 300.0), (16.0, 240.0, 310.0)])
    default = run(session).to_dict()
    signed = run(session, settings=AnalysisSettings(asymmetry_formula="signed_pct")).to_dict()
    assert default["summary"]["asymmetry_formula"] == "pct_difference"
    assert signed["summary"]["asymmetry_formula"] == "signed_pct"
    assert default["summary"]["imbalance_max_pct"] > 0
    assert signed["summary"]["imbalance_max_pct"] == pytest.approx(
        -default["summary"]["imbalance_max_pct"], abs=0.01
    )
    assert signed["reps"][0]["imbalance_pct"] < 0 and signed["reps"][0]["stronger"] == "right"
    bourne = [r for r in signed["references"] if r["measure"] == "imbalance_pct"]
    assert bourne and all(r["result"]["value"] > 0 for r in bourne)
    assert [r["result"] for r in bourne] == [
        r["result"] for r in default["references"] if r["measure"] == "imbalance_pct"
    ]


def test_set_parses_each_setting_as_its_type() -> None:
    s = AnalysisSettings().with_text(
        ["cutoff_hz=8", "filter_order=2", "protocol=isometric", "knee_angle_deg=0",
         "position=supine 90/90", "asymmetry_formula=symmetry_index"]
    )  # fmt: skip
    assert s.cutoff_hz == 8.0 and s.filter_order == 2 and isinstance(s.filter_order, int)
    assert s.protocol == "isometric" and s.knee_angle_deg == 0.0
    assert s.position == "supine 90/90" and s.asymmetry_formula == "symmetry_index"
    assert AnalysisSettings().with_text(["knee_angle_deg=none"]).knee_angle_deg is None


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("nonsense=1", "unknown analysis setting 'nonsense'"),
        ("cutoff_hz", "NAME=VALUE"),
        ("cutoff_hz=fast", "must be a number"),
        ("cutoff_hz=-3", "must be positive"),
        ("protocol=squat", "must be one of nordic, isometric"),
        ("asymmetry_formula=ratio", "pct_difference, signed_pct, symmetry_index"),
        ("knee_angle_deg=200", "0 to 180"),
        ("rfd_max_cutoff_rate_fraction=0.6", "below 0.5"),
        ("position=" + "x" * 80, "short text"),
    ],
)
def test_bad_settings_are_one_plain_error(text: str, words: str) -> None:
    with pytest.raises(SettingsError) as info:
        AnalysisSettings().with_text([text])
    assert words in str(info.value) and "\n" not in str(info.value)


def test_stored_settings_from_before_the_new_fields_read_as_today_s_defaults() -> None:
    old = AnalysisSettings().to_dict()
    for name in ("protocol", "knee_angle_deg", "position", "asymmetry_formula",
                 "onset_threshold_n", "rfd_cutoff_hz", "rfd_max_cutoff_rate_fraction",
                 "rfd_min_samples_per_window"):  # fmt: skip
        del old[name]
    assert AnalysisSettings.from_dict(old) == AnalysisSettings()
    changed = AnalysisSettings(protocol="isometric", knee_angle_deg=60.0, position="prone")
    assert AnalysisSettings.from_dict(changed.to_dict()) == changed
