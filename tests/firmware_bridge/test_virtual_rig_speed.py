"""The virtual rig's speed factor: its time runs N times faster, its bytes stay the same."""

from __future__ import annotations

import pytest

from firmware_bridge.decoder import decode_bytes
from firmware_bridge.errors import InputError
from firmware_bridge.messages import Start, encode
from firmware_bridge.virtual_rig import RigOptions, VirtualRig


def session(rig: VirtualRig, host_times: list[float]) -> bytes:
    """Open at host time 100, START, then poll at 100 + each of ``host_times``."""
    out = bytearray()
    rig.on_open(100.0)
    out += rig.poll(100.0)
    rig.receive(encode(Start()), 100.0)
    for t in host_times:
        out += rig.poll(100.0 + t)
    return bytes(out)


def test_a_fast_rig_sends_the_same_bytes_sooner() -> None:
    normal = session(VirtualRig(seed=4), [1.0, 2.0, 5.0, 10.0])
    fast = session(VirtualRig(seed=4, speed=10.0), [0.1, 0.2, 0.5, 1.0])
    assert fast == normal
    assert decode_bytes(fast).samples >= 10 * 80 - 4  # ten seconds of an 80 Hz rig in one


def test_rig_time_and_host_time_convert_both_ways() -> None:
    rig = VirtualRig(speed=4.0)
    assert rig.rig_time(50.0) == 50.0  # the first host time is the origin
    assert rig.rig_time(51.0) == pytest.approx(54.0)
    assert rig.host_time(54.0) == pytest.approx(51.0)
    assert VirtualRig().rig_time(7.0) == 7.0


def test_next_due_is_in_host_time() -> None:
    rig = VirtualRig(speed=10.0)
    rig.on_open(0.0)
    rig.poll(0.0)
    rig.receive(encode(Start()), 0.0)
    rig.poll(0.0)
    due = rig.next_due(0.0)
    # The next frame is 50 ms of rig time away: 5 ms of host time.
    assert 0.0 < due <= 0.0051


def test_an_unplug_lasts_its_rig_time() -> None:
    rig = VirtualRig(speed=10.0)
    rig.on_open(0.0)
    rig.poll(0.0)
    rig.unplug(for_s=1.0)  # one second of the rig's time
    rig.tick(0.05)
    assert not rig.connected
    rig.tick(0.11)  # 1.1 s of rig time later: plugged back (and rebooted)
    assert rig.connected and rig.boot_count == 2


def test_speed_from_a_url_and_bad_speeds() -> None:
    assert RigOptions.from_query("speed=20").build().speed == 20.0
    assert RigOptions.from_query("").build().speed == 1.0
    for bad in (0.0, -1.0, float("inf"), float("nan")):
        with pytest.raises(InputError, match="speed must be a positive number"):
            VirtualRig(speed=bad)
