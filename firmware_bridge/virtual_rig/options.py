"""One set of options for building a virtual rig, from a URL query or the CLI.

Why: ``virtual://NAME?rate=1000&fault=drop:0.01`` and ``nordic-station
simulate --rate 1000 --fault drop:0.01`` must mean the same rig, so both go
through :class:`RigOptions`.
"""

from __future__ import annotations

import math
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from firmware_bridge.errors import InputError
from firmware_bridge.virtual_rig.counts import LoadCellAdc
from firmware_bridge.virtual_rig.device import DEFAULT_SERIAL, VirtualRig
from firmware_bridge.virtual_rig.faults import parse_fault
from firmware_bridge.virtual_rig.model import Athlete, NordicModel, channel_index

DEFAULT_NOISE_N = 0.3


def parse_static_load(text: str) -> tuple[int, float]:
    """``left:20`` -> (0, 20.0): CH:KG, a known mass on one hook."""
    channel, sep, mass = text.partition(":")
    try:
        if not sep:
            raise ValueError
        ch = channel_index(channel)
        kg = float(mass)
        if not (math.isfinite(kg) and kg >= 0):
            raise ValueError
    except (ValueError, InputError):
        raise InputError(
            f"bad static load {text!r}: use CH:KG with CH left or right, e.g. left:20"
        ) from None
    return ch, kg


# Athlete fields the options can set (None: the Athlete default).
_ATHLETE_FIELDS = (
    "left_peak_n",
    "right_peak_n",
    "reps",
    "rest_s",
    "rise_s",
    "fall_s",
    "quiet_start_s",
    "preload_n",
    "tremor_n",
)


@dataclass
class RigOptions:
    """Everything a virtual rig can be built from; None means the default.

    ``athlete``: True/False forces the athlete on/off; None means an athlete
    unless static loads are given (the calibration bench).
    """

    rate_hz: float = 80.0
    seed: int = 0
    serial_number: str = DEFAULT_SERIAL
    block_size: int | None = None
    faults: list[str] = field(default_factory=list)
    static_loads: list[str] = field(default_factory=list)
    athlete: bool | None = None
    left_peak_n: float | None = None
    right_peak_n: float | None = None
    reps: int | None = None
    rest_s: float | None = None
    rise_s: float | None = None
    fall_s: float | None = None
    quiet_start_s: float | None = None
    preload_n: float | None = None
    tremor_n: float | None = None
    distractors: bool = False
    noise_n: float | None = None
    drift_n_per_s: float = 0.0
    gain_n_per_count: tuple[float, float] | None = None
    offset_counts: tuple[int, int] | None = None
    speed: float = 1.0  # the rig's time runs this many times faster than real time

    def build(self) -> VirtualRig:
        """The rig these options describe; InputError (one line) for a bad option."""
        faults = [parse_fault(spec) for spec in self.faults]
        loads = [parse_static_load(spec) for spec in self.static_loads]
        use_athlete = self.athlete if self.athlete is not None else not loads
        athlete = None
        if use_athlete:
            kwargs = {
                name: getattr(self, name)
                for name in _ATHLETE_FIELDS
                if getattr(self, name) is not None
            }
            athlete = Athlete(**kwargs)
            if self.distractors:
                athlete = athlete.with_rest_distractors()
        model = NordicModel(
            athlete,
            seed=self.seed,
            rate_hz=self.rate_hz,
            noise_n=DEFAULT_NOISE_N if self.noise_n is None else self.noise_n,
            drift_n_per_s=self.drift_n_per_s,
        )
        for channel, kg in loads:
            model.static.set_mass(channel, kg)
        adc_kwargs: dict = {}
        if self.gain_n_per_count is not None:
            adc_kwargs["gain_n_per_count"] = self.gain_n_per_count
        if self.offset_counts is not None:
            adc_kwargs["offset_counts"] = self.offset_counts
        return VirtualRig(
            model,
            rate_hz=self.rate_hz,
            seed=self.seed,
            serial_number=self.serial_number,
            adc=LoadCellAdc(**adc_kwargs),
            faults=faults,
            block_size=self.block_size,
            speed=self.speed,
        )

    @classmethod
    def from_query(cls, query: str) -> RigOptions:
        """Options from a URL query: ``rate=1000&seed=1&fault=drop:0.01&static=left:20``.

        Keys (see :data:`QUERY_KEYS`): repeat ``fault`` and ``static`` for more than one.
        """
        options = cls()
        for key, values in urllib.parse.parse_qs(query, keep_blank_values=True).items():
            if key not in QUERY_KEYS:
                raise InputError(
                    f"unknown virtual rig option {key!r} (known: {', '.join(sorted(QUERY_KEYS))})"
                )
            name, convert = QUERY_KEYS[key]
            if name in ("faults", "static_loads"):
                getattr(options, name).extend(values)
                continue
            try:
                value = convert(values[-1])
            except ValueError:
                raise InputError(f"virtual rig option {key}={values[-1]!r} is not valid") from None
            setattr(options, name, value)
        return options


def _bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on", ""):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(text)


def _pair_float(text: str) -> tuple[float, float]:
    parts = [float(p) for p in text.split(",")]
    if len(parts) == 1:
        return parts[0], parts[0]
    if len(parts) != 2:
        raise ValueError(text)
    return parts[0], parts[1]


def _pair_int(text: str) -> tuple[int, int]:
    parts = [int(p) for p in text.split(",")]
    if len(parts) == 1:
        return parts[0], parts[0]
    if len(parts) != 2:
        raise ValueError(text)
    return parts[0], parts[1]


QUERY_KEYS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "rate": ("rate_hz", float),
    "seed": ("seed", int),
    "serial": ("serial_number", str),
    "block": ("block_size", int),
    "fault": ("faults", str),
    "static": ("static_loads", str),
    "athlete": ("athlete", _bool),
    "left_peak": ("left_peak_n", float),
    "right_peak": ("right_peak_n", float),
    "reps": ("reps", int),
    "rest": ("rest_s", float),
    "rise": ("rise_s", float),
    "fall": ("fall_s", float),
    "quiet": ("quiet_start_s", float),
    "preload": ("preload_n", float),
    "tremor": ("tremor_n", float),
    "distractors": ("distractors", _bool),
    "noise": ("noise_n", float),
    "drift": ("drift_n_per_s", float),
    "gain": ("gain_n_per_count", _pair_float),
    "offset": ("offset_counts", _pair_int),
    "speed": ("speed", float),
}
