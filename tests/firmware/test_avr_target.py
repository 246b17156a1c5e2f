"""The ATmega328P build, cycle by cycle in simavr, with two emulated HX711.

The real .elf runs at 16 MHz in simavr (firmware/sim/rig_sim.c): the HX711
pair converts a force profile from a file at 80 Hz on its own clock, and the
UART is bridged to a pty.  The station's ``record`` and ``analyze`` commands
and its Link talk to it like to a rig on a USB port.  Skipped, with the
reason in the summary, where avr-gcc or simavr is not installed
(``make firmware-deps`` installs them).
"""

from __future__ import annotations

import json
import math
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import serial

from firmware_bridge.decoder import StreamDecoder
from firmware_bridge.link import Link, LinkError
from firmware_bridge.messages import (
    Ack,
    Event,
    EventCode,
    GetInfo,
    SampleBlock,
    SampleFlag,
    Start,
    Stop,
    encode,
)
from firmware_bridge.virtual_rig.counts import LoadCellAdc
from tests.firmware.rigs import AVR_ELF, Seen, avr_missing, build, drain, sim_rig

MISSING = avr_missing()
pytestmark = [pytest.mark.pty, pytest.mark.skipif(MISSING is not None, reason=str(MISSING))]

SERIAL = "NR-UNO-0001"
ADC = LoadCellAdc(gain_n_per_count=(0.000477, 0.000502), offset_counts=(80_000, -40_000))
# (start s, duration s, left peak N, right peak N): three reps after a rest for the tare
# (peaks off the 12.5 ms conversion grid, so no conversion lands exactly on one)
REPS = [(3.0037, 4.0, 310.0, 285.0), (11.0113, 3.5, 342.0, 301.0), (19.0071, 4.5, 276.0, 318.0)]
PROFILE_END_S = 27.0


def write_profile(path: Path) -> None:
    """Counts of each leg every millisecond: rest, then half-sine reps (what the HX711 sees)."""
    lines = ["# time_s,left_counts,right_counts"]
    for k in range(int(PROFILE_END_S / 0.001) + 1):
        t = k * 0.001
        force = [0.0, 0.0]
        for start, duration, left, right in REPS:
            if start <= t <= start + duration:
                shape = math.sin(math.pi * (t - start) / duration)
                force = [left * shape, right * shape]
        counts = ADC.offsets + np.rint(np.asarray(force) / ADC.gains)
        lines.append(f"{t:.3f},{counts[0]:.0f},{counts[1]:.0f}")
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture
def profile(tmp_path: Path) -> Path:
    path = tmp_path / "profile.csv"
    write_profile(path)
    return path


def station(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "station.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_avr_build_fits_the_atmega328p() -> None:
    build("avr")
    out = subprocess.run(
        ["avr-size", "-A", str(AVR_ELF)], capture_output=True, text=True, check=True
    ).stdout
    size = {line.split()[0]: int(line.split()[1]) for line in out.splitlines()[2:] if line.strip()}
    flash = size[".text"] + size.get(".data", 0)
    ram = size.get(".data", 0) + size.get(".bss", 0)
    assert flash < 32 * 1024 - 512  # leaves the Optiboot boot loader its 512 bytes
    assert ram < 2048 - 512  # leaves room for the stack
    print(f"\nflash {flash} bytes, RAM {ram} bytes (static)")


def test_record_and_analyze_find_the_profiles_reps(profile: Path, tmp_path: Path) -> None:
    certificate = tmp_path / "cal.json"
    certificate.write_text(json.dumps(ADC.certificate(SERIAL)))
    out = tmp_path / "avr.nsrec"
    with sim_rig(profile, "--speed", "0") as rig:
        record = subprocess.Popen(
            [sys.executable, "-m", "station.cli", "record", rig.port, str(out)]
            + ["--calibration", str(certificate)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            rig.expect("profile-end", timeout=240)
            # a second of simulated rest after the last rep, then Ctrl-C
            deadline = time.monotonic() + 60
            while float(rig.stats()["sim_s"]) < PROFILE_END_S + 1.0 + 3.0:
                assert time.monotonic() < deadline
                time.sleep(0.1)
            record.send_signal(signal.SIGINT)
            _, err = record.communicate(timeout=30)
        finally:
            if record.poll() is None:
                record.kill()
                record.wait()
        assert record.returncode == 0, err
        stats = rig.stats()
    assert stats["missed"] == "0,0"  # every conversion read before the next one
    assert stats["long_pulses"] == "0"  # no PD_SCK high for 60 us (power-down)
    assert stats["stray_pulses"] == "0"
    result = station("analyze", str(out), "--json")
    assert result.returncode == 0, result.stderr
    analysis = json.loads(result.stdout)
    stream = analysis["stream"]
    assert stream["sample_rate_hz"] == 80.0
    assert stream["device_serial"] == SERIAL
    assert stream["dropped_samples"] == 0
    assert stream["frames_corrupt"] == 0
    assert len(analysis["reps"]) == len(REPS)
    for rep, (_, _, left, right) in zip(analysis["reps"], REPS, strict=True):
        assert rep["left"]["peak_force_n"] == pytest.approx(left, rel=0.01)
        assert rep["right"]["peak_force_n"] == pytest.approx(right, rel=0.01)
    # the recording started some simulated seconds into the run: the reps keep their spacing
    starts = [rep["start_s"] for rep in analysis["reps"]]
    assert np.diff(starts) == pytest.approx(np.diff([r[0] for r in REPS]), abs=0.3)
    errors = [
        abs(rep[leg]["peak_force_n"] / want - 1)
        for rep, spec in zip(analysis["reps"], REPS, strict=True)
        for leg, want in (("left", spec[2]), ("right", spec[3]))
    ]
    print(f"\npeak errors (%): {' '.join(f'{e * 100:.4f}' for e in errors)}")


def test_80_hz_with_the_uart_busy_loses_nothing(profile: Path) -> None:
    """GET_INFO as fast as the link allows while streaming: INFO replies fill the UART."""
    with sim_rig(profile, "--speed", "0") as rig, Link(rig.port) as link:
        with pytest.raises(LinkError, match="bad argument"):
            link.set_rate(100)
        assert link.set_rate(10).sample_rate_mhz == 10_000
        assert link.set_rate(80).sample_rate_mhz == 80_000
        seen = Seen()
        link.start()
        stop = threading.Event()
        asked = [0]

        def ask() -> None:
            while not stop.is_set():
                link.get_info(timeout=5)
                asked[0] += 1

        asker = threading.Thread(target=ask, daemon=True)
        asker.start()
        try:
            drain(link, seen, lambda s: s.samples >= 80 * 20, timeout=240)
        finally:
            stop.set()
            asker.join(timeout=10)
        link.stop()
        drain(link, seen, lambda s: bool(s.events(EventCode.STOPPED)), timeout=10)
        stats = rig.stats()
        counters = link.counters()
    assert asked[0] > 20
    assert counters["dropped_samples"] == 0, (counters, stats, seen.events(EventCode.OVERRUN))
    assert counters["overrun_events"] == 0
    assert counters["frames_corrupt"] == 0
    assert seen.events(EventCode.STOPPED)[0].sample_index == seen.samples
    assert stats["missed"] == "0,0"
    assert stats["long_pulses"] == "0"


def test_hx711_that_stops_answering_is_fault_1(profile: Path) -> None:
    with sim_rig(profile, "--speed", "0") as rig, Link(rig.port) as link:
        seen = Seen()
        link.start()
        drain(link, seen, lambda s: s.samples >= 80, timeout=60)
        rig.send("adc-stop")
        drain(link, seen, lambda s: bool(s.events(EventCode.FAULT)), timeout=60)
        fault = seen.events(EventCode.FAULT)[0]
        assert fault.arg == 1
        drain(link, seen, lambda s: s.blocks[-1].first_index > fault.sample_index + 80, 60)
        after = [b for b in seen.blocks if b.first_index >= fault.sample_index]
        assert all((b.flags & SampleFlag.ADC_FAULT).all() for b in after)
        rig.send("adc-resume")
        drain(link, seen, lambda s: not s.blocks[-1].flags.any(), timeout=60)
        link.stop()
        drain(link, seen, lambda s: bool(s.events(EventCode.STOPPED)), timeout=10)
    # flagged samples kept the time axis going at 80 Hz: no gap anywhere
    assert link.counters()["dropped_samples"] == 0


def test_80_hz_with_the_uart_saturated_by_replies_loses_nothing(profile: Path) -> None:
    """Ten GET_INFO always outstanding: ACK + INFO replies keep the UART busy all the time,
    and the samples still go out first (no overrun, no conversion missed).  In real time
    (--speed 1), so that this test keeps ten commands waiting at the rig."""
    outstanding = 10  # 50 bytes: fits the firmware's 64-byte receive queue
    with sim_rig(profile, "--speed", "1") as rig, serial.Serial(rig.port, timeout=0.01) as port:
        # the handshake as the link does it: GET_INFO until the rig answers (bytes sent
        # before the firmware has enabled its UART are lost, as on a real board)
        decoder = StreamDecoder()
        answered = False
        probe = boot = time.monotonic()
        while not answered or time.monotonic() < probe + 0.5:  # late answers to the probes
            assert time.monotonic() < boot + 30, "no answer from the booting firmware"
            if not answered and time.monotonic() >= probe:
                port.write(encode(GetInfo()))
                probe = time.monotonic() + 0.5
            answered |= any(isinstance(m, Ack) for m in decoder.feed(port.read(64)))
        decoder = StreamDecoder()
        port.write(encode(Start()))
        sent, acks, samples = 1, 0, 0  # commands sent, ACKs received
        received = 0
        stopped = None
        sim_start = float(rig.stats()["sim_s"])
        deadline = time.monotonic() + 120
        while stopped is None:
            assert time.monotonic() < deadline, f"{samples} samples, {acks} ACKs"
            if samples < 80 * 10 and sent - acks < outstanding:
                port.write(encode(GetInfo()) * (outstanding - (sent - acks)))
                sent += outstanding - (sent - acks)
            elif samples >= 80 * 10 and sent == acks and stopped is None:
                port.write(encode(Stop()))
                sent += 1
            data = port.read(port.in_waiting or 1)
            received += len(data)
            for message in decoder.feed(data):
                if isinstance(message, SampleBlock):
                    samples += len(message)
                elif isinstance(message, Ack):
                    acks += 1
                elif isinstance(message, Event) and message.code == EventCode.STOPPED:
                    stopped = message.sample_index
        stats = rig.stats()
    sim_s = float(stats["sim_s"]) - sim_start
    # the UART's own pace in simavr (a byte every 182 us there; 85 us on a real board)
    busy = received * float(stats["uart_min_byte_us"]) * 1e-6 / sim_s
    counters = decoder.counters
    assert stopped == samples >= 80 * 10
    assert counters.overrun_events == 0
    assert counters.dropped_samples == 0
    assert counters.frames_corrupt == 0
    assert stats["missed"] == "0,0"
    assert stats["long_pulses"] == "0"
    assert busy > 0.8
    print(
        f"\nUART {busy * 100:.0f} % busy for {sim_s:.1f} simulated s "
        f"({stats['uart_min_byte_us']} us a byte), {acks} replies, no loss"
    )
