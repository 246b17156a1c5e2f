"""The store is composed of services, not mixins, and every new test, whether imported,
recorded live or recovered after a crash, is made by one pipeline (``store.new_tests``)."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from station.store import Store, open_store
from station.store.athletes import Athletes
from station.store.new_tests import TestCreation
from station.store.parts import Service
from station.store.recompute import Runs
from station.store.recovery import Recovery
from station.store.stored_tests import StoredTests
from tests.store import synth

STORE = Path(__file__).resolve().parents[2] / "station" / "store"


def test_store_is_composed_not_inherited(store: Store) -> None:
    assert Store.__bases__ == (object,)
    services = {name: value for name, value in vars(store).items() if isinstance(value, Service)}
    assert {
        "athletes",
        "athlete_import",
        "certificates",
        "tests",
        "new_tests",
        "live",
        "recovery",
        "runs",
        "exports",
        "erasure",
    } <= set(services)
    assert isinstance(store.athletes, Athletes) and isinstance(store.tests, StoredTests)
    assert isinstance(store.new_tests, TestCreation) and isinstance(store.runs, Runs)
    assert isinstance(store.recovery, Recovery)
    # Each service stands alone: none is another service's subclass.
    kinds = {type(service) for service in services.values()}
    for kind in kinds:
        assert kind.__bases__ == (Service,), kind


def calls_of(method: str) -> dict[str, int]:
    """Where, among the store's own modules (not a backend's), ``.method(`` is called."""
    found: dict[str, int] = {}
    for path in sorted(STORE.glob("*.py")):
        if path.name == "backend.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == method
            ):
                found[path.name] = found.get(path.name, 0) + 1
    return found


def test_only_the_pipeline_saves_a_new_test_or_analyses_a_new_capture() -> None:
    assert calls_of("save_test") == {"new_tests.py": 1}
    assert calls_of("run_analysis") == {"new_tests.py": 1}
    # A stored test analysed again: the pipeline's reanalyse, and recompute --all's
    # worker processes (which cannot hold the store) call the same processing function.
    assert set(calls_of("reanalyse")) == {"new_tests.py", "recompute.py", "recompute_all.py"}


@pytest.fixture
def spied(store: Store, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bool]]:
    """Every test the pipeline saves: (its source, recovered)."""
    seen: list[tuple[str, bool]] = []
    real = store.new_tests.save_capture

    def spy(*args: Any, **kwargs: Any) -> Any:
        origin = args[3]
        seen.append((origin.source, origin.recovered))
        return real(*args, **kwargs)

    monkeypatch.setattr(store.new_tests, "save_capture", spy)
    return seen


def record(path: Path, seed: int) -> None:
    synth.write_recording(path, synth.capture(seed=seed))


def test_import_live_and_recovered_tests_take_one_path(
    store: Store, athlete: Any, capture_file: Path, cert_file: Path, spied: list, home: Path
) -> None:
    imported = store.new_tests.import_file(athlete.id, capture_file, certificate=cert_file)
    pending = store.live.begin(athlete.id, certificate=cert_file)
    record(pending.path, 3)
    live = store.live.finish(pending)
    crashed = store.live.begin(athlete.id, certificate=cert_file)
    record(crashed.path, 4)
    store.live.in_progress.locks.pop(crashed.id).release()  # as if the station died
    recovered = store.recovery.recover(crashed.id)
    assert spied == [(imported.source, False), ("live", False), ("recovered", True)]
    assert imported.source.startswith("import:") and live.source == "live"
    assert recovered.recovered and recovered.warnings[0].startswith("recovered after")
    assert [t.result is not None for t in (imported, live, recovered)] == [True] * 3


def test_a_reopened_store_has_fresh_services(home: Path) -> None:
    with open_store(actor="first") as one, open_store(actor="second") as two:
        assert one.athletes is not two.athletes
        added = one.athletes.add("Shared Person")
        assert two.athletes.get(added.id).name == "Shared Person"
        assert one.audit_log("athlete", added.id)[-1].actor == "first"
        two.athletes.update(added.id, team="U21")
        assert two.audit_log("athlete", added.id)[-1].actor == "second"
