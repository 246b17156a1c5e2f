"""``replay://PATH?speed=X|max&rate=HZ``: a recording or capture as a serial port.

The in-process twin of ``nordic-station replay`` (which serves a pty): the
station reads a replay through the very code that reads a rig.
"""

from __future__ import annotations

from firmware_bridge.device import DeviceSerial
from firmware_bridge.replay import ReplayDevice, parse_replay_url


class Serial(DeviceSerial):
    def make_device(self, url: str) -> ReplayDevice:
        path, speed, rate = parse_replay_url(url)
        return ReplayDevice(path, speed=speed, rate_hz=rate)
