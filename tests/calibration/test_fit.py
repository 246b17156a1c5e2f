"""Fit figures against numbers computed independently (numpy.polyfit and by hand)."""

from __future__ import annotations

import numpy as np
import pytest

from calibration.acceptance import AcceptanceLimits, evaluate
from calibration.errors import CalibrationError
from calibration.fit import fit_channel, fit_points
from calibration.points import CalPoint

G = 9.80665
OFFSET = 81234.0
COUNTS_PER_N = 2096.0  # gain 0.000477 N/count


def series(masses, counts, direction="up", run=1, channel="left", spread=10.0):
    return [
        CalPoint(channel, float(m), float(c), spread, direction, run)
        for m, c in zip(masses, counts, strict=True)
    ]


def ideal_counts(masses):
    return [OFFSET + m * G * COUNTS_PER_N for m in masses]


def test_exact_line_recovers_gain_and_offset():
    masses = [0, 10, 20, 30, 40]
    fit = fit_channel(series(masses, ideal_counts(masses)))
    assert fit.gain_n_per_count == pytest.approx(1 / COUNTS_PER_N, rel=1e-12)
    assert fit.offset_counts == pytest.approx(OFFSET, abs=1e-6)
    assert fit.max_force_n == pytest.approx(40 * G)
    assert fit.residual_max_n == pytest.approx(0, abs=1e-9)
    assert fit.nonlinearity_pct == pytest.approx(0, abs=1e-9)
    assert fit.hysteresis_pct is None  # no descending series
    assert fit.repeatability_pct is None  # no repeat run


def test_slightly_nonlinear_matches_polyfit():
    masses = np.array([0, 10, 20, 30, 40], dtype=float)
    forces = masses * G
    counts = OFFSET + forces * COUNTS_PER_N + 1.5e-3 * (forces * COUNTS_PER_N) ** 2 / 1e3
    fit = fit_channel(series(masses, counts))
    slope, intercept = np.polyfit(counts, forces, 1)
    residuals = np.polyval([slope, intercept], counts) - forces
    assert fit.gain_n_per_count == pytest.approx(slope, rel=1e-9)
    assert fit.offset_counts == pytest.approx(-intercept / slope, rel=1e-9)
    np.testing.assert_allclose(fit.residuals_n, residuals, atol=1e-9)
    assert fit.residual_max_n == pytest.approx(np.abs(residuals).max(), rel=1e-9)
    assert fit.nonlinearity_pct == pytest.approx(
        100 * np.abs(residuals).max() / forces.max(), rel=1e-9
    )
    assert fit.nonlinearity_pct > 0.05  # the curvature is visible


def test_hysteresis_and_repeatability_by_hand():
    up = [0, 10, 20, 30, 40]
    down = [30, 20, 10, 0]
    base = dict(zip(up, ideal_counts(up), strict=True))
    # run 1: descending reads 400 counts high at 20 kg, 250 at 10 kg, 50 at 0 kg
    run1 = series(up, [base[m] for m in up]) + series(
        down, [base[30] + 100, base[20] + 400, base[10] + 250, base[0] + 50], "down"
    )
    # run 2: ascending 30 kg reads 300 counts higher than in run 1
    run2 = series(up, [base[m] + (300 if m == 30 else 0) for m in up], run=2) + series(
        down, [base[30] + 100, base[20] + 400, base[10] + 250, base[0] + 50], "down", run=2
    )
    fit = fit_channel(run1 + run2)
    fmax = 40 * G
    # run 1: max |up-down| = 400 counts (20 kg); run 2: |(b30+300)-(b30+100)| = 200 -> 400 wins
    assert fit.hysteresis_pct == pytest.approx(100 * fit.gain_n_per_count * 400 / fmax, rel=1e-9)
    # runs differ only at 30 kg up, by 300 counts
    assert fit.repeatability_pct == pytest.approx(100 * fit.gain_n_per_count * 300 / fmax, rel=1e-9)
    counts = np.array([p.counts for p in run1 + run2])
    forces = np.array([p.mass_kg for p in run1 + run2]) * G
    slope, intercept = np.polyfit(counts, forces, 1)
    assert fit.gain_n_per_count == pytest.approx(slope, rel=1e-9)
    worst = np.abs(np.polyval([slope, intercept], counts) - forces).max()
    assert fit.residual_max_n == pytest.approx(worst, rel=1e-9)
    assert fit.nonlinearity_pct == pytest.approx(100 * worst / fmax, rel=1e-9)


def test_channel_dict_has_the_certificate_keys():
    masses = [0, 10, 20]
    points = series(masses, ideal_counts(masses)) + series([10, 0], ideal_counts([10, 0]), "down")
    data = fit_channel(points).to_dict()
    for key in (
        "gain_n_per_count",
        "offset_counts",
        "points",
        "max_force_n",
        "nonlinearity_pct",
        "hysteresis_pct",
        "residual_max_n",
    ):
        assert key in data
    point = data["points"][1]
    assert set(point) >= {"mass_kg", "counts", "spread_counts", "direction", "residual_n"}
    assert point["mass_kg"] == 10.0 and point["direction"] == "up"
    assert "repeatability_pct" not in data  # not measured: left out, not null
    no_spread = fit_channel(series(masses, ideal_counts(masses), spread=None)).to_dict()
    assert "spread_counts" not in no_spread["points"][0]
    assert "hysteresis_pct" not in no_spread


def test_acceptance_pass_fail_per_figure():
    up = [0, 10, 20, 30, 40]
    base = ideal_counts(up)
    points = series(up, base) + series(
        [30, 20, 10, 0], [base[3], base[2] + 20000, base[1], base[0]], "down"
    )
    fit = fit_channel(points)
    verdict = evaluate(fit, AcceptanceLimits(nonlinearity_pct=5.0, hysteresis_pct=0.5))
    results = {r.figure: r for r in verdict.results}
    # 20000 counts at 20 kg, about 9.5 N = 2.4 % of 392 N, with the gain of this very fit
    counts = np.array([p.counts for p in points])
    slope = np.polyfit(counts, np.array([p.mass_kg for p in points]) * G, 1)[0]
    assert results["hysteresis_pct"].value == pytest.approx(100 * slope * 20000 / (40 * G))
    assert results["hysteresis_pct"].passed is False
    assert results["nonlinearity_pct"].passed is True
    assert results["repeatability_pct"].passed is None  # not measured
    assert verdict.passed is False
    assert [r.figure for r in verdict.failures] == ["hysteresis_pct"]


@pytest.mark.parametrize(
    ("points", "words"),
    [
        (series([0, 10], ideal_counts([0, 10])), "too few points"),
        (series([0, 10, 10, 20], ideal_counts([0, 10, 10, 20])), "duplicate mass 10 kg"),
        (series([0, -10, 20], [OFFSET, OFFSET - 1000, OFFSET + 5e5]), "negative"),
        (series([0, 10, 20], [OFFSET, OFFSET - 2e5, OFFSET - 4e5]), "do not rise with load"),
        (series([0, 10, 20], [OFFSET, OFFSET + 2e5, OFFSET + 1e5]), "do not rise with load"),
        (series([0, 10, 20], [OFFSET, OFFSET + 30, OFFSET + 60], spread=25.0), "barely changes"),
    ],
    ids=["too-few", "duplicate", "negative", "reversed", "broken", "flat"],
)
def test_bad_points_are_refused(points, words):
    with pytest.raises(CalibrationError, match=words):
        fit_channel(points)


def test_fit_points_needs_every_requested_channel():
    masses = [0, 10, 20]
    left = series(masses, ideal_counts(masses))
    fits = fit_points(left)
    assert list(fits) == ["left"]
    with pytest.raises(CalibrationError, match="channel right: no calibration points"):
        fit_points(left, ["left", "right"])
