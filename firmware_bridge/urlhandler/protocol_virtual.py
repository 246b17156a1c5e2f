"""``virtual://NAME?rate=80&seed=1&fault=drop:0.01``: the virtual rig as an in-process port.

Why: tests and the app's demo mode reach the virtual rig through
``serial.serial_for_url`` exactly as they reach a real port.  Reopening the
same NAME reaches the same rig (see :mod:`firmware_bridge.virtual_rig.registry`),
so a link can reconnect to it.  Options (first open only): rate, seed, serial,
block, fault (repeatable), static (CH:KG, repeatable), athlete, left_peak,
right_peak, reps, rest, rise, fall, quiet, preload, tremor, distractors, noise,
drift, gain (L[,R]), offset (L[,R]).

While the rig is unplugged, and afterwards on a handle opened before the
unplug (the old port is gone for good, as with a real USB device), reads and
writes raise SerialException; open the URL again once the rig is back.
"""

from __future__ import annotations

import time

from serial.serialutil import SerialException

from firmware_bridge.device import DeviceSerial
from firmware_bridge.virtual_rig.device import VirtualRig
from firmware_bridge.virtual_rig.registry import device_for_url


class Serial(DeviceSerial):
    """A pyserial port on a named :class:`~firmware_bridge.virtual_rig.VirtualRig`."""

    device: VirtualRig

    def make_device(self, url: str) -> VirtualRig:
        rig = device_for_url(url)
        rig.tick(time.monotonic())
        return rig

    def open(self) -> None:
        super().open()
        self._boot_seen = self.device.boot_count

    def _check_plugged(self) -> None:
        self.device.tick(time.monotonic())
        if not self.device.connected:
            raise SerialException(
                f"{self.portstr}: device disconnected (the virtual rig is unplugged)"
            )
        if self.device.boot_count != self._boot_seen:
            raise SerialException(f"{self.portstr}: device was unplugged: open the port again")

    def _pump(self) -> None:
        self._check_plugged()
        super()._pump()

    def write(self, data: bytes) -> int:
        if self.is_open:
            self._check_plugged()
        return super().write(data)
