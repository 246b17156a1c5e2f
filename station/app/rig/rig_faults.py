"""Faults a tester can switch on in the connected virtual rig, while it runs.

The virtual rig's own fault syntax (``firmware_bridge.virtual_rig.parse_fault``)
and injector do the work; this module only offers a few ready-made ones and
applies them to a running rig.  Probabilities act at once; a timed fault
counts from the moment it is switched on and then recurs in every test (as
with ``--fault``); an unplug pulls the cable now.  Faults stay on until
cleared.  No Qt here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from firmware_bridge.virtual_rig import FaultInjector, parse_fault

UNPLUG = "unplug"
BUTTON = "button"


@dataclass(frozen=True)
class Preset:
    """A menu entry: ``spec`` is a fault (the --fault syntax), or UNPLUG / BUTTON."""

    label: str
    spec: str
    seconds: float = 0.0


PRESETS: tuple[Preset, ...] = (
    Preset("Unplug the cable for 3 s", UNPLUG, 3.0),
    Preset("Unplug the cable for 10 s", UNPLUG, 10.0),
    Preset("Stall: send nothing for 3 s (from 1 s from now, then in every test)", "stall:1s:3"),
    Preset("Drop 1 % of the frames", "drop:0.01"),
    Preset("Corrupt bytes (1 bit in 2000 bytes)", "bitflip:0.0005"),
    Preset("Garbage bursts before 2 % of the frames", "garbage:0.02"),
    Preset("Buffer overruns (0.5 % of the frames)", "overrun:0.005"),
    Preset("Press the rig's button", BUTTON),
)


def active_faults(rig: Any) -> list[str]:
    """The faults switched on, in the --fault syntax."""
    return [str(spec) for spec in rig.faults.specs]


def _install(rig: Any, specs: list[Any]) -> None:
    """Swap in a new injector (one attribute: the rig's thread sees the old or the new one)."""
    injector = FaultInjector(specs, rig.faults.seed)
    if rig.streaming:
        injector.start_session(rig.rate_hz, rig.block_size, time.monotonic())
    rig.faults = injector


def apply(rig: Any, preset: Preset | str) -> str:
    """Switch a preset (or a --fault string) on; returns what was done, in words.

    InputError (one line) for a fault string that does not parse.
    """
    if isinstance(preset, str):
        preset = Preset(preset, preset)
    if preset.spec == UNPLUG:
        rig.unplug(for_s=preset.seconds)
        return f"virtual rig unplugged for {preset.seconds:g} s"
    if preset.spec == BUTTON:
        rig.press_button()
        return "virtual rig button pressed"
    spec = parse_fault(preset.spec)
    _install(rig, [*rig.faults.specs, spec])
    return f"fault on: {spec}"


def clear(rig: Any) -> str:
    """Switch every fault off (an unplugged rig still comes back when its time is up)."""
    _install(rig, [])
    return "all faults off"
