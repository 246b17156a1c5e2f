"""The host build of the reference firmware, driven through the station's own Link.

The firmware's protocol core runs as a real C process behind a pty (a
simulated pair of cells and a UART of 115200 baud); ``--time-scale`` runs its
simulated clock faster than real time.
"""

from __future__ import annotations

import os
import random
import time

import numpy as np
import pytest
import serial

from firmware_bridge.decoder import StreamDecoder
from firmware_bridge.framing import encode_frame
from firmware_bridge.link import Link, LinkError
from firmware_bridge.messages import (
    Ack,
    AckStatus,
    EventCode,
    GetInfo,
    Heartbeat,
    Info,
    MsgType,
    SampleFlag,
    encode,
)
from station.app.rig.ports import serial_ports
from tests.firmware.rigs import Seen, drain, host_rig

pytestmark = pytest.mark.pty


def contiguous(seen: Seen) -> bool:
    """Every block starts where the previous one ended (one segment)."""
    index = 0
    for block in seen.blocks:
        if block.first_index != index:
            return False
        index = block.end_index
    return True


def test_handshake_gives_the_rigs_identity() -> None:
    with host_rig("--serial", "NR-HOST-0042") as rig, Link(rig.port) as link:
        info = link.info
        assert info == Info(80000, "NR-HOST-0042", "ref-1.0 host", 24, 2, 1)
        assert link.get_info() == info


def test_start_stop_streams_one_gapless_segment_then_heartbeats() -> None:
    with host_rig("--time-scale", "5") as rig, Link(rig.port) as link:
        seen = Seen()
        link.start()
        drain(link, seen, lambda s: s.samples >= 200, timeout=20)
        link.stop()
        drain(link, seen, lambda s: bool(s.events(EventCode.STOPPED)), timeout=5)
        drain(link, seen, lambda s: isinstance(s.messages[-1], Heartbeat), timeout=5)
        assert [e.sample_index for e in seen.events(EventCode.STARTED)] == [0]
        assert seen.events(EventCode.STOPPED)[0].sample_index == seen.samples
        assert contiguous(seen)
        counters = link.counters()
        assert counters["dropped_samples"] == 0
        assert counters["frames_corrupt"] == 0
        stats = rig.stats()
        assert stats["lost"] == "0"
        # 80 Hz: frames of 50 ms (4 samples), so one leaves at least every 100 ms
        assert int(stats["frames"]) >= seen.samples // 4


def test_set_rate_accepts_what_the_hardware_does_and_refuses_the_rest() -> None:
    with host_rig("--rates", "10,80,1000") as rig, Link(rig.port) as link:
        assert link.set_rate(1000).sample_rate_mhz == 1_000_000
        assert link.set_rate(10).sample_rate_mhz == 10_000
        with pytest.raises(LinkError, match="refused SET_RATE 100 Hz: bad argument"):
            link.set_rate(100)
        link.start()
        with pytest.raises(LinkError, match="refused SET_RATE 80 Hz: busy"):
            link.set_rate(80)
        link.stop()
        assert link.get_info().sample_rate_mhz == 10_000


def heartbeat_in(messages: list) -> bool:
    return any(isinstance(m, Heartbeat) for m in messages)


def exchange(port: serial.Serial, data: bytes, until: type, timeout: float = 5.0) -> list:
    """Write raw bytes, return the messages decoded up to the first of type ``until``."""
    port.write(data)
    decoder = StreamDecoder()
    out: list = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out += decoder.feed(port.read(port.in_waiting or 1))
        if any(isinstance(m, until) for m in out):
            return out
    raise AssertionError(f"no {until.__name__} in {timeout} s: {out}")


def test_unknown_command_gets_ack_1_and_corrupt_frames_no_answer() -> None:
    with host_rig() as rig, serial.Serial(rig.port, timeout=0.05) as port:
        exchange(port, b"", Info)  # the boot greeting
        replies = exchange(port, encode_frame(b"\x90\x01\x02"), Ack)
        assert Ack(0x90, AckStatus.UNKNOWN_COMMAND) in replies
        bad = bytearray(encode(GetInfo()))
        bad[1] ^= 0x40  # CRC fails
        wrong_length = encode_frame(bytes([MsgType.START, 0]))
        replies = exchange(port, bytes(bad) + wrong_length + encode(GetInfo()), Info)
        assert [m for m in replies if isinstance(m, Ack)] == [Ack(MsgType.GET_INFO)]
        stats = rig.stats()
        assert (stats["corrupt"], stats["unknown"], stats["commands"]) == ("2", "1", "1")


def test_random_bytes_from_the_host_do_not_stop_the_rig() -> None:
    noise = random.Random(17).randbytes(20_000)
    with host_rig() as rig, serial.Serial(rig.port, timeout=0.05) as port:
        exchange(port, b"", Info)
        for start in range(0, len(noise), 1000):
            port.write(noise[start : start + 1000])
        replies = exchange(port, b"\x00" + encode(GetInfo()), Info, timeout=10)
        assert Ack(MsgType.GET_INFO) in replies
        assert int(rig.stats()["corrupt"]) > 0


def test_adc_that_stops_answering_is_a_fault_with_flagged_samples() -> None:
    with host_rig("--time-scale", "5") as rig, Link(rig.port) as link:
        seen = Seen()
        link.start()
        drain(link, seen, lambda s: s.samples >= 40, timeout=10)
        assert not any(b.flags.any() for b in seen.blocks)
        rig.send("adc-stop")
        drain(link, seen, lambda s: bool(s.events(EventCode.FAULT)), timeout=10)
        fault = seen.events(EventCode.FAULT)[0]
        assert fault.arg == 1
        drain(link, seen, lambda s: s.blocks[-1].first_index > fault.sample_index + 40, 10)
        after = [b for b in seen.blocks if b.first_index >= fault.sample_index]
        assert after[0].first_index == fault.sample_index
        assert all(b.flags.all() and (b.flags & SampleFlag.ADC_FAULT).all() for b in after)
        # values held at the last reading while the ADC is silent
        assert len({tuple(c) for b in after for c in b.counts}) == 1
        rig.send("adc-resume")
        drain(link, seen, lambda s: not s.blocks[-1].flags.any(), timeout=10)
        link.stop()
        drain(link, seen, lambda s: bool(s.events(EventCode.STOPPED)), timeout=5)
        assert contiguous(seen)
        assert len(seen.events(EventCode.FAULT)) == 1


def test_saturated_samples_are_flagged_exactly() -> None:
    with host_rig("--time-scale", "5") as rig, Link(rig.port) as link:
        seen = Seen()
        rig.send("set 1000 -1000")
        link.start()
        drain(link, seen, lambda s: s.samples >= 20, timeout=10)
        rig.send("set 8388607 -8388608")
        drain(link, seen, lambda s: s.blocks[-1].flags.any(), timeout=10)
        drain(link, seen, lambda s: s.samples >= 100, timeout=10)
        rig.send("set 1000 -1000")
        drain(link, seen, lambda s: not s.blocks[-1].flags.any() and s.samples > 140, 10)
        counts = np.concatenate([b.counts for b in seen.blocks])
        flags = np.concatenate([b.flags for b in seen.blocks])
        at_limit = counts[:, 0] == 8388607
        both = SampleFlag.LEFT_SATURATED | SampleFlag.RIGHT_SATURATED
        assert at_limit.sum() > 20
        # the flag covers exactly the samples at the limit: frames break where it changes
        assert np.array_equal(flags == both, at_limit)
        assert np.array_equal(counts[at_limit, 1], np.full(at_limit.sum(), -8388608))


def test_overrun_is_reported_where_samples_were_lost() -> None:
    """The UART stalls for 6 s at 1 kHz: the 4096-sample ring overflows."""
    with host_rig("--time-scale", "10") as rig, Link(rig.port) as link:
        link.set_rate(1000)
        seen = Seen()
        link.start()
        drain(link, seen, lambda s: s.samples >= 500, timeout=10)
        rig.send("tx-stall 6000")
        drain(link, seen, lambda s: bool(s.events(EventCode.OVERRUN)), timeout=15)
        drain(link, seen, lambda s: s.samples >= 9000, timeout=15)
        link.stop()
        drain(link, seen, lambda s: bool(s.events(EventCode.STOPPED)), timeout=5)
        (overrun,) = seen.events(EventCode.OVERRUN)
        lost = int(rig.stats()["lost"])
        assert 1000 < overrun.arg == lost
        gap = [
            (a.end_index, b.first_index)
            for a, b in zip(seen.blocks, seen.blocks[1:], strict=False)
            if b.first_index != a.end_index
        ]
        assert gap == [(overrun.sample_index, overrun.sample_index + lost)]
        counters = link.counters()
        assert counters["dropped_samples"] == lost
        assert counters["overrun_events"] == 1
        assert seen.events(EventCode.STOPPED)[0].sample_index == seen.samples + lost


def test_reopening_the_port_reboots_the_rig_like_an_uno() -> None:
    with host_rig("--time-scale", "5") as rig:
        with Link(rig.port) as link:
            assert link.set_rate(10).sample_rate_mhz == 10_000
            link.start()
        # the rig sees the port closed (the pty hangs up) before it is opened again
        deadline = time.monotonic() + 5
        while rig.stats()["connected"] != "0":
            assert time.monotonic() < deadline, "the rig did not see the port close"
        with Link(rig.port) as link:
            # power-on rate again, idle (heartbeats), no command from before the reboot
            assert link.info is not None and link.info.sample_rate_mhz == 80_000
            seen = drain(link, Seen(), lambda s: heartbeat_in(s.messages), timeout=10)
            assert seen.samples == 0


@pytest.mark.slow
def test_ten_minutes_at_the_top_rate_without_loss() -> None:
    """600 000 samples at 1 kHz (10 simulated minutes, about 2 real minutes at 5x).

    5x, not more: the pty and this process must keep up with 5,000 samples/s even
    on a shared, busy machine (at 10x a loaded machine overran the rig's buffer)."""
    total = 600_000
    with host_rig("--time-scale", "5") as rig, Link(rig.port) as link:
        link.set_rate(1000)
        seen = Seen()
        started = time.monotonic()
        link.start()
        drain(link, seen, lambda s: s.samples >= total, timeout=600)
        link.stop()
        drain(link, seen, lambda s: bool(s.events(EventCode.STOPPED)), timeout=10)
        elapsed = time.monotonic() - started
        stopped = seen.events(EventCode.STOPPED)[0].sample_index
        counters = link.counters()
        assert stopped == seen.samples >= total
        assert contiguous(seen)
        assert counters["dropped_samples"] == 0
        assert counters["frames_corrupt"] == 0
        assert counters["overrun_events"] == 0
        assert rig.stats()["lost"] == "0"
        print(f"\n{seen.samples} samples at 1 kHz (x5) in {elapsed:.1f} s real, no loss")


@pytest.mark.skipif(
    not os.access("/dev", os.W_OK), reason="needs write access to /dev (root) for the port link"
)
def test_rig_with_a_dev_link_is_in_the_connect_list() -> None:
    """The app lists what pyserial finds (/dev/ttyACM*, /dev/ttyUSB*, ...), not /dev/pts/N:
    ``--link /dev/ttyACM-...`` names the pty so the Connect screen shows it."""
    path = f"/dev/ttyACM-nordic-test{os.getpid()}"
    with host_rig("--link", path) as rig:
        assert rig.port == path
        assert path in [choice.device for choice in serial_ports()]
        with Link(path) as link:
            assert link.info is not None and link.info.serial_number == "NR-HOST-0001"
    assert not os.path.lexists(path)
