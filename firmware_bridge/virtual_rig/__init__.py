"""The virtual rig: a Nordic-curl rig in software, for tests, demos and development.

It speaks protocol.md byte for byte (:class:`VirtualRig`, a ByteDevice), over
``virtual://NAME?...`` in-process or a pty (``nordic-station simulate``).
Behind the counts is a force model with a known truth (:class:`NordicModel`,
:class:`Athlete`, :class:`RepTruth`), an HX711-like ADC (:class:`LoadCellAdc`),
known masses for calibration (:class:`StaticLoads`) and injectable faults
(:func:`parse_fault`, :data:`FAULT_HELP`).

Typical test use::

    rig = VirtualRig(NordicModel(Athlete(left_peak_n=300, right_peak_n=250), seed=1), rate_hz=80)
    data = rig.capture_bytes(30.0)          # raw capture, as `cat /dev/ttyACM0` would give
    cert = rig.calibration_certificate()    # the true gains, calibration.md format
    truth = rig.rep_windows()               # per-rep, per-leg peaks above the baseline
"""

from firmware_bridge.virtual_rig.counts import LoadCellAdc
from firmware_bridge.virtual_rig.device import DEFAULT_SERIAL, MAX_RATE_HZ, MIN_RATE_HZ, VirtualRig
from firmware_bridge.virtual_rig.faults import (
    ADC_FAULT_CODE,
    FAULT_HELP,
    FAULT_KINDS,
    FaultInjector,
    FaultRecord,
    FaultSpec,
    parse_fault,
)
from firmware_bridge.virtual_rig.host import Arrival, ScriptedHost
from firmware_bridge.virtual_rig.model import (
    CHANNELS,
    Athlete,
    Distractor,
    NordicModel,
    RepTruth,
    channel_index,
    rep_shape,
)
from firmware_bridge.virtual_rig.options import RigOptions, parse_static_load
from firmware_bridge.virtual_rig.registry import (
    clear_devices,
    device_for_url,
    forget_device,
    get_device,
    parse_virtual_url,
    register_device,
)
from firmware_bridge.virtual_rig.static import STANDARD_GRAVITY, StaticLoads

__all__ = [
    "ADC_FAULT_CODE",
    "CHANNELS",
    "DEFAULT_SERIAL",
    "FAULT_HELP",
    "FAULT_KINDS",
    "MAX_RATE_HZ",
    "MIN_RATE_HZ",
    "STANDARD_GRAVITY",
    "Arrival",
    "Athlete",
    "Distractor",
    "FaultInjector",
    "FaultRecord",
    "FaultSpec",
    "LoadCellAdc",
    "NordicModel",
    "RepTruth",
    "RigOptions",
    "ScriptedHost",
    "StaticLoads",
    "VirtualRig",
    "channel_index",
    "clear_devices",
    "device_for_url",
    "forget_device",
    "get_device",
    "parse_fault",
    "parse_static_load",
    "parse_virtual_url",
    "register_device",
    "rep_shape",
]
