"""The result object: the analyze-cli.md schema, curves, exclusions, settings round trip."""

from __future__ import annotations

import json

import numpy as np
import pytest

from firmware_bridge.errors import InputError
from station.analysis import (
    ANALYSIS_VERSION,
    AnalysisSettings,
    SettingsError,
    analyze_arrays,
)
from tests.analysis.helpers import GAINS, Session, run

SCHEMA_EXAMPLE = {  # the keys of analyze-cli.md's example, which must all be there
    "schema": None,
    "stream": {
        "sample_rate_hz": None,
        "samples": None,
        "duration_s": None,
        "device_serial": None,
        "frames_ok": None,
        "frames_corrupt": None,
        "frames_unknown": None,
        "lines_corrupt": None,
        "dropped_samples": None,
        "saturated_samples": {"left": None, "right": None},
    },
    "summary": {
        "left": {"max_force_n": None, "avg_force_n": None},
        "right": {"max_force_n": None, "avg_force_n": None},
        "imbalance_max_pct": None,
        "imbalance_avg_pct": None,
        "stronger": None,
    },
    "flags": None,
}
REP_KEYS = {"number", "start_s", "end_s", "left", "right", "imbalance_pct", "stronger", "flags"}
LEG_KEYS = {"peak_force_n", "time_to_peak_s", "impulse_ns", "mean_force_n"}


def _has_keys(doc: dict, example: dict, where: str = "") -> None:
    for key, sub in example.items():
        assert key in doc, f"missing {where}{key}"
        if isinstance(sub, dict):
            _has_keys(doc[key], sub, f"{where}{key}.")


@pytest.fixture(scope="module")
def result():
    session = Session(
        reps=[(4.0, 300.0, 250.0), (16.0, 320.0, 240.0), (28.0, 280.0, 260.0)], duration=36.0
    )
    return run(session)


def test_to_dict_has_every_field_of_the_schema_and_is_strict_json(result) -> None:
    doc = result.to_dict()
    assert doc["schema"] == "nordic-station.analysis/1"
    _has_keys(doc, SCHEMA_EXAMPLE)
    assert len(doc["reps"]) == 3
    for rep in doc["reps"]:
        assert set(rep) >= REP_KEYS
        assert set(rep["left"]) >= LEG_KEYS and set(rep["right"]) >= LEG_KEYS
        assert "relative_peak_force_n_per_kg" not in rep["left"]
    assert doc["analysis_version"] == ANALYSIS_VERSION
    assert AnalysisSettings.from_dict(doc["settings"]) == result.settings
    json.loads(json.dumps(doc, allow_nan=False))  # no NaN, everything serialisable


def test_body_mass_and_lever_arm_add_their_fields() -> None:
    session = Session(reps=[(4.0, 300.0, 250.0)], duration=12.0)
    doc = run(session, body_mass_kg=75.0, lever_arm_m=0.45).to_dict()
    leg = doc["reps"][0]["left"]
    assert leg["relative_peak_force_n_per_kg"] == pytest.approx(
        leg["peak_force_n"] / 75.0, abs=1e-3
    )
    assert leg["peak_torque_nm"] == pytest.approx(leg["peak_force_n"] * 0.45, abs=0.01)


@pytest.mark.parametrize("bad", [0.0, -70.0, float("nan"), float("inf")])
def test_bad_body_mass_is_an_input_error(bad: float) -> None:
    with pytest.raises(InputError, match="body mass"):
        run(Session(duration=5.0), body_mass_kg=bad)


def test_excluding_a_rep_recomputes_every_summary(result) -> None:
    changed = result.with_exclusions({2: "lost balance"})
    assert result.summary.reps_included == 3  # the original is untouched
    assert changed.summary.reps_included == 2 and changed.summary.reps_detected == 3
    lefts = [r.left.peak_force_n for r in result.reps if r.number != 2]
    assert changed.summary.left.max_force_n == max(lefts)
    assert changed.summary.left.avg_force_n == pytest.approx(np.mean(lefts))
    assert changed.summary.imbalance_max.pct != result.summary.imbalance_max.pct
    assert "reps_excluded" in changed.flags
    doc = changed.to_dict()
    assert doc["excluded"] == {"2": "lost balance"}
    assert [r["excluded"] for r in doc["reps"]] == [False, True, False]
    assert doc["reps"][1]["exclusion_reason"] == "lost balance"
    # Exclusions replace, they do not accumulate; none brings the original back.
    assert changed.with_exclusions({}).to_dict() == result.to_dict()
    everything = result.with_exclusions({1: "a", 2: "b", 3: "c"})
    assert "all_reps_excluded" in everything.flags
    assert everything.summary.left.max_force_n is None


def test_exclusions_given_to_the_analysis_are_the_same_as_afterwards() -> None:
    session = Session(reps=[(4.0, 300.0, 250.0), (16.0, 320.0, 240.0)], duration=24.0)
    assert (
        run(session, excluded={1: "poor attempt"}).to_dict()
        == run(session).with_exclusions({1: "poor attempt"}).to_dict()
    )


@pytest.mark.parametrize(("excluded", "message"), [({9: "x"}, "no such rep"), ({1: " "}, "reason")])
def test_bad_exclusions_are_refused(result, excluded, message) -> None:
    with pytest.raises(InputError, match=message):
        result.with_exclusions(excluded)


def test_curves_carry_time_raw_and_filtered_force_with_nan_at_gaps() -> None:
    session = Session(reps=[(4.0, 300.0, 250.0)], duration=12.0)
    keep = np.ones(len(session.index), bool)
    keep[600:640] = False  # a gap inside the rep
    result = run(session, keep=keep)
    c = result.curves
    assert c.time_s.dtype == np.float64 and c.left_n.dtype == np.float32
    assert len(c) == keep.sum() + 1
    gap = np.flatnonzero(c.sample < 0)
    assert len(gap) == 1 and np.isnan(c.left_n[gap[0]]) and np.isnan(c.right_raw_n[gap[0]])
    assert np.all(np.diff(c.time_s) > 0)
    assert np.isfinite(c.left_n[c.sample >= 0]).all()
    rep = result.reps[0]
    assert "samples_dropped_in_rep" in rep.flags
    window = result.rep_curves(1)
    assert window["time_s"][0] == pytest.approx(rep.start_s)
    assert window["time_s"][-1] == pytest.approx(rep.end_s)
    assert np.nanmax(window["left_n"]) == pytest.approx(rep.left.peak_force_n, rel=1e-6)


def test_the_result_is_deterministic() -> None:
    session = Session(reps=[(4.0, 300.0, 250.0)], duration=12.0)
    a, b = run(session), run(session)
    assert a.to_dict() == b.to_dict()
    np.testing.assert_array_equal(a.curves.left_n, b.curves.left_n)


def test_settings_round_trip_and_refuse_unknown_keys_and_bad_values() -> None:
    settings = AnalysisSettings(cutoff_hz=8.0, impulse_threshold_n=25.0)
    assert AnalysisSettings.from_dict(settings.to_dict()) == settings
    assert AnalysisSettings.from_dict({"cutoff_hz": 8.0}).rep_threshold_n == 30.0
    with pytest.raises(SettingsError, match="unknown"):
        AnalysisSettings.from_dict({"cutof_hz": 8.0})
    with pytest.raises(SettingsError, match="cutoff_hz must be positive, not -1.0"):
        AnalysisSettings(cutoff_hz=-1.0)
    with pytest.raises(SettingsError, match="rep_edge_n must be below rep_threshold_n"):
        AnalysisSettings(rep_edge_n=40.0)  # above the rep threshold


def test_settings_change_the_analysis_and_are_carried_in_the_result() -> None:
    session = Session(reps=[(4.0, 300.0, 250.0)], duration=12.0)
    strict = AnalysisSettings(impulse_threshold_n=100.0)
    default, changed = run(session), run(session, settings=strict)
    assert changed.settings == strict
    assert changed.to_dict()["settings"]["impulse_threshold_n"] == 100.0
    assert changed.reps[0].left.impulse_ns < default.reps[0].left.impulse_ns


def test_the_sample_rate_is_required() -> None:
    with pytest.raises(InputError, match="--rate"):
        analyze_arrays(np.arange(10), np.zeros((10, 2)), None, 0.0, 24, GAINS)


def test_curves_are_laid_out_when_first_read_with_a_nan_row_at_each_break() -> None:
    from station.analysis.gaps import find_runs
    from station.analysis.result import Curves

    index = np.array([0, 1, 2, 5, 6])  # three samples dropped after the third
    raw = np.array([[1.0, 2, 3, 4, 5], [10, 20, 30, 40, 50]])
    filtered = raw / 2
    saturated = np.zeros((2, 5), bool)
    saturated[1, 4] = True
    curves = Curves.from_samples(index, 10.0, find_runs(index), raw, filtered, saturated)
    raw[0, 0] = 99.0  # the arrays belong to the result now: read when first asked for
    assert repr(curves) == "Curves(6 rows)"
    np.testing.assert_allclose(curves.time_s, [0.0, 0.1, 0.2, 0.35, 0.5, 0.6])
    np.testing.assert_array_equal(curves.left_raw_n, np.float32([99, 2, 3, np.nan, 4, 5]))
    np.testing.assert_array_equal(curves.right_n, np.float32([5, 10, 15, np.nan, 20, 25]))
    np.testing.assert_array_equal(curves.sample, [0, 1, 2, -1, 3, 4])
    np.testing.assert_array_equal(curves.saturated, [0, 0, 0, 0, 0, 2])
    raw[0, 1] = -1.0  # once laid out, the rows are the curves' own
    assert curves.left_raw_n[1] == 2.0
    assert set(curves.to_arrays()) == {
        "time_s", "left_raw_n", "right_raw_n", "left_n", "right_n", "sample", "saturated"
    }  # fmt: skip
    given = Curves(**curves.to_arrays())  # made from arrays directly: the same rows
    assert len(given) == 6 and given.right_raw_n is curves.right_raw_n
