"""The store benchmarks' data: virtual-rig sessions analysed for real, and a big
population of athletes and tests built from one of them (the same recording
shared by every test, as a migration of summaries would be; each test's
imbalance varies so results are not all identical)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from calibration.certificate import parse_certificate
from firmware_bridge.capture import decode_stream
from firmware_bridge.virtual_rig import Athlete, NordicModel, VirtualRig
from station.analysis import analyze
from station.store.models import NewTest
from station.store.processing import new_reps, new_result
from station.store.validate import now_utc, search_key

FIRST = ["Anna", "Øyvind", "Jörg", "Ingrid", "Lars", "Siri"]
FIRST += ["Mats", "Åsa", "Noah", "Emma", "Liam", "Olivia"]
LAST = ["Hansen", "Johansen", "Ødegård", "Berg", "Müller"]
LAST += ["Larsen", "Andersen", "Nilsen", "Dahl", "Lie"]
TESTS_PER_ATHLETE = 20
TEAMS = 40
SEARCHES = ["oyvind", "müller 1", "ødegård", "hansen", "ingrid larsen", "emma", "xyz"]
SEARCHES += ["ext-0123", "asa"]


def session(rate_hz: float, seconds: float, seed: int = 1) -> tuple[bytes, dict[str, Any]]:
    rig = VirtualRig(NordicModel(Athlete(reps=3), seed=seed), rate_hz=rate_hz)
    return rig.capture_bytes(seconds), rig.calibration_certificate()


def payload(data: bytes, cert: dict[str, Any], athlete_id: int, *, curves: bool) -> NewTest:
    """A test as the station would save it, analysed for real."""
    result = analyze(
        decode_stream(data), parse_certificate(cert), body_mass_kg=75.0, lever_arm_m=0.42
    )
    run = new_result(result, "import", with_curves=curves)
    return NewTest(
        athlete_id=athlete_id,
        recorded_at=now_utc(),
        protocol="nordic_eccentric",
        recording=data,
        recording_kind="binary",
        result=run,
        reps=new_reps(run.metrics, {}),
        rig_serial=result.stream.device_serial,
        sample_rate_hz=result.stream.sample_rate_hz,
        duration_s=result.stream.duration_s,
        body_mass_kg=75.0,
        lever_arm_m=0.42,
        certificate=cert,
    )


def athletes(count: int) -> list[dict[str, Any]]:
    """Rows for ``bulk_load``: ids 1..count, spread over :data:`TEAMS` teams."""
    rows = []
    for i in range(1, count + 1):
        name = f"{FIRST[i % len(FIRST)]} {LAST[(i // len(FIRST)) % len(LAST)]} {i}"
        rows.append(
            {
                "id": i,
                "name": name,
                "name_key": search_key(name),
                "external_id": f"EXT-{i:05d}",
                "date_of_birth": f"{1990 + i % 15}-0{1 + i % 9}-1{i % 9}",
                "sex": ("female", "male")[i % 2],
                "sport": ("football", "rugby", "athletics")[i % 3],
                "team": f"Team {i % TEAMS}",
                "dominant_leg": ("left", "right")[i % 2],
                "lever_arm_m": 0.38 + (i % 10) / 100,
            }
        )
    return rows


def tests(base: NewTest, athlete_count: int, seed: int = 7) -> list[NewTest]:
    """:data:`TESTS_PER_ATHLETE` tests an athlete over five years, one imbalance each."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(athlete_count):
        for k in range(TESTS_PER_ATHLETE):
            metrics = dict(base.result.metrics)
            summary = dict(metrics["summary"])
            summary["imbalance_max_pct"] = float(rng.uniform(0, 25))
            metrics["summary"] = summary
            out.append(
                replace(
                    base,
                    athlete_id=i + 1,
                    recorded_at=f"{2020 + k // 5}-{1 + k % 12:02d}-{1 + i % 28:02d}"
                    f"T{8 + k % 10:02d}:00:00.000Z",
                    result=replace(base.result, metrics=metrics),
                )
            )
    return out
