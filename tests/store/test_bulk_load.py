"""The bulk loader (migrations from other systems, the benchmarks) on both engines:
loaded athletes and tests read back like saved ones, and new ids follow theirs."""

from __future__ import annotations

from dataclasses import replace

from calibration.certificate import parse_certificate
from firmware_bridge.capture import decode_stream
from station.analysis import analyze
from station.store import Store
from station.store.models import NewTest
from station.store.processing import new_reps, new_result
from station.store.validate import search_key
from tests.store import synth


def test_bulk_loaded_records_read_back_and_new_ids_follow(
    store: Store, capture_bytes: bytes
) -> None:
    cert = synth.certificate()
    result = analyze(decode_stream(capture_bytes), parse_certificate(cert), body_mass_kg=70.0)
    run = new_result(result, "import", with_curves=False)
    athletes = [
        {"id": 10 + i, "name": f"Loaded {i}", "name_key": search_key(f"Loaded {i}"),
         "external_id": f"L-{i}", "team": "Academy", "lever_arm_m": 0.4}
        for i in range(3)
    ]  # fmt: skip
    base = NewTest(
        athlete_id=10,
        recorded_at="2024-01-01T10:00:00.000Z",
        protocol="nordic_eccentric",
        recording=capture_bytes,
        recording_kind="binary",
        result=run,
        reps=new_reps(run.metrics, {}),
        sample_rate_hz=result.stream.sample_rate_hz,
        body_mass_kg=70.0,
        certificate=cert,
    )
    tests = [
        replace(base, athlete_id=10 + i % 3, recorded_at=f"2024-01-0{1 + i}T10:00:00.000Z")
        for i in range(5)
    ]
    store.backend.bulk_load(athletes, tests, "migration")

    loaded = store.list_athletes(team="academy")
    assert [(a.id, a.external_id) for a in loaded] == [(10, "L-0"), (11, "L-1"), (12, "L-2")]
    assert all(a.uuid for a in loaded) and len({a.uuid for a in loaded}) == 3
    ids = store.test_ids()
    assert len(ids) == 5
    for test_id in ids:
        test = store.get_test(test_id)
        assert test.result is not None and test.result.summary == run.metrics["summary"]
        assert store.recording(test_id) == capture_bytes  # stored once, shared
        assert len(store.reps(test_id)) == len(base.reps)
    assert [e.action for e in store.audit_log("athlete")] == ["bulk"] * 3
    # The next athlete and test made one by one get the ids after the loaded ones.
    later = store.add_athlete("Made Later")
    assert later.id == 13
    path = synth.write_capture(store.folder / "later.bin", seed=5)
    again = store.import_test(later.id, path, certificate=cert)
    assert again.id == max(ids) + 1
