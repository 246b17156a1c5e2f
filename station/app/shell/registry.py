"""The screens the main window shows: importing a module registers its screen.

Order numbers leave room between them so later screens can slot in:
athletes 10, connect 20, test 30, results 40; part 2 (history 50, reports 60,
calibration 70, replay 80, settings 90) adds its modules to ``SCREEN_MODULES``.
"""

from __future__ import annotations

import importlib

SCREEN_MODULES = (
    "station.app.athletes.athletes_view",
    "station.app.rig.connect_view",
    "station.app.live.test_view",
    "station.app.results.results_view",
    # part 2
    "station.app.history.history_view",
    "station.app.team.team_view",
    "station.app.calibration.calibration_wizard",
    "station.app.replay.replay_view",
    "station.app.settings.settings_screen",
    "station.app.training.training_view",
)


def load_screens() -> None:
    """Import every screen module so its ``@register_screen`` runs."""
    for name in SCREEN_MODULES:
        importlib.import_module(name)
