"""A training session is saved as a test with protocol ``training``: the live test's own
begin → record → finish path (:class:`~station.app.live.test_run.TestRun`), unchanged.

:class:`TrainingStore` is the store as that run sees it: ``live.begin`` asks for
the ``training`` protocol and ``live.finish`` adds the live zone figures, which
the store keeps in the result's metrics.  Everything else (crash recovery,
retrying a failed save, discarding) is the test path's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from station.analysis import AnalysisSettings
from station.app.live.test_run import TestRun
from station.app.rig.acquisition import Acquisition
from station.present.history_data import TRAINING


class TrainingLive:
    """The store's live-test service as a training run uses it."""

    def __init__(self, live: Any, figures: Callable[[], dict[str, Any]]) -> None:
        self._live = live
        self._figures = figures

    def begin(self, athlete_id: int, **options: Any) -> Any:
        """The test path's start, as a training session (whatever protocol the Test
        screen has chosen: a session has no knee angle)."""
        options.update(protocol=TRAINING, knee_angle_deg=None, position=None)
        return self._live.begin(athlete_id, **options)

    def finish(self, pending: Any, **options: Any) -> Any:
        return self._live.finish(pending, training=self._figures(), **options)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._live, name)


class TrainingStore:
    """Wraps the store for one kind of use: saving training sessions."""

    def __init__(self, store: Any, figures: Callable[[], dict[str, Any]]) -> None:
        self._store = store
        self.live = TrainingLive(store.live, figures)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def training_run(
    store: Any,
    acquisition: Acquisition,
    figures: Callable[[], dict[str, Any]],
    operator: str = "",
    analysis_settings: Callable[[], AnalysisSettings] | None = None,
) -> TestRun:
    """A run that saves training sessions, with ``figures()`` (the zone tracker's summary)
    read at Stop."""
    return TestRun(TrainingStore(store, figures), acquisition, operator, analysis_settings)
