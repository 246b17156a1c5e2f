"""The virtual rig as a calibration bench, so the wizard can be tried end to end.

A real bench needs someone to hang masses on the hooks.  Connected to the
virtual rig, the wizard does it for the operator: "Hang it" puts the mass the
step asks for on the virtual hook (with the ramp, swing and creep of a real
mass, see :mod:`firmware_bridge.virtual_rig.static`), so the reading changes as
it would at a real bench.  A virtual rig with an athlete pulling is no bench:
:func:`bench_url` names one without.
"""

from __future__ import annotations

import logging
from typing import Any

from firmware_bridge.errors import PortError
from firmware_bridge.virtual_rig import VirtualRig, get_device
from firmware_bridge.virtual_rig.registry import parse_virtual_url
from station.app.rig.ports import DEFAULT_VIRTUAL_RATE_HZ, virtual_url

log = logging.getLogger(__name__)

BENCH_NAME = "bench"


def connected_rig(acquisition: Any) -> VirtualRig | None:
    """The virtual rig the app is connected to, or None (a real rig, a replay, nothing)."""
    url = getattr(acquisition, "url", None)
    if getattr(acquisition, "kind", None) != "virtual" or not url:
        return None
    try:
        return get_device(parse_virtual_url(url)[0])
    except PortError:
        return None


def is_bench(rig: VirtualRig | None) -> bool:
    """Whether nobody pulls on this virtual rig (only the masses hung on it)."""
    return rig is not None and rig.model.athlete is None


def bench_url(rate_hz: float = DEFAULT_VIRTUAL_RATE_HZ) -> str:
    """The virtual rig with no athlete: a calibration bench."""
    return virtual_url(BENCH_NAME, rate_hz, athlete=0)


def hang(rig: VirtualRig, channel: str, mass_kg: float) -> None:
    """Hang ``mass_kg`` on the ``channel`` hook of the virtual bench (0: take it off)."""
    log.info("virtual bench: %g kg on the %s hook", mass_kg, channel)
    rig.set_static_load(channel, mass_kg)
