"""``virtual://NAME?...`` in-process through pyserial: the same rig on every reopen,
and an unplug that a reader sees as a SerialException."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import numpy as np
import pytest
import serial
from serial.serialutil import SerialException

from firmware_bridge.decoder import StreamDecoder
from firmware_bridge.device import open_port
from firmware_bridge.errors import PortError
from firmware_bridge.messages import GetInfo, Info, Message, SampleBlock, Start, Stop, encode
from firmware_bridge.virtual_rig import (
    Athlete,
    NordicModel,
    RigOptions,
    VirtualRig,
    forget_device,
    get_device,
    register_device,
)


@pytest.fixture
def name() -> Iterator[str]:
    """A fresh rig name per test, forgotten afterwards."""
    value = f"t-{uuid.uuid4().hex[:8]}"
    yield value
    forget_device(value)


def read_until(
    port: serial.SerialBase, done: Callable[[list[Message]], bool], timeout: float = 2.0
) -> tuple[list[Message], StreamDecoder]:
    """Read in chunks (never readline) until ``done(messages)`` or the timeout."""
    decoder = StreamDecoder()
    messages: list[Message] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not done(messages):
        messages += decoder.feed(port.read(port.in_waiting or 1))
    return messages, decoder


def has_info(messages: list[Message]) -> bool:
    return any(isinstance(m, Info) for m in messages)


def decoder_samples(messages: list[Message]) -> int:
    return sum(len(m) for m in messages if isinstance(m, SampleBlock))


def test_get_info_through_serial_for_url(name: str) -> None:
    port = open_port(f"virtual://{name}?rate=1000&seed=3&serial=NR-URL-1", timeout=0.05)
    port.reset_input_buffer()  # drop the greeting: the INFO below answers GET_INFO
    port.write(encode(GetInfo()))
    messages, _ = read_until(port, has_info)
    info = next(m for m in messages if isinstance(m, Info))
    assert (info.sample_rate_mhz, info.serial_number) == (1_000_000, "NR-URL-1")
    port.close()


def test_samples_through_the_port_are_the_rig_counts(name: str) -> None:
    port = serial.serial_for_url(f"virtual://{name}?rate=2000&seed=1", timeout=0.05)
    port.write(encode(Start()))
    messages, decoder = read_until(port, lambda m: decoder_samples(m) >= 600)
    port.write(encode(Stop()))
    blocks = [m for m in messages if isinstance(m, SampleBlock)]
    index = np.concatenate([np.arange(b.first_index, b.end_index) for b in blocks])
    counts = np.concatenate([b.counts for b in blocks])
    np.testing.assert_array_equal(index, np.arange(len(index)))
    np.testing.assert_array_equal(counts, get_device(name).expected_counts(index)[0])
    assert decoder.counters.frames_corrupt == 0
    port.close()


def test_reopening_a_name_reaches_the_same_rig(name: str) -> None:
    first = serial.serial_for_url(f"virtual://{name}?rate=1000", timeout=0.05)
    rig = get_device(name)
    first.close()
    second = serial.serial_for_url(f"virtual://{name}?rate=80", timeout=0.05)  # options ignored
    assert get_device(name) is rig and rig.rate_hz == 1000
    second.close()


def test_a_registered_rig_is_served(name: str) -> None:
    rig = register_device(
        name, VirtualRig(NordicModel(Athlete(), seed=4, rate_hz=500), rate_hz=500, seed=4)
    )
    port = serial.serial_for_url(f"virtual://{name}", timeout=0.05)
    port.write(encode(GetInfo()))
    messages, _ = read_until(port, has_info)
    assert next(m for m in messages if isinstance(m, Info)).sample_rate_mhz == 500_000
    assert get_device(name) is rig
    port.close()


def test_unknown_name_and_bad_options() -> None:
    with pytest.raises(PortError, match="no virtual rig named"):
        get_device("never-opened")
    with pytest.raises(SerialException, match="unknown virtual rig option 'colour'"):
        serial.serial_for_url("virtual://bad-opt?colour=red")
    with pytest.raises(SerialException, match="bad fault"):
        serial.serial_for_url("virtual://bad-fault?fault=drop:7")
    with pytest.raises(SerialException, match="10..2000 Hz"):
        serial.serial_for_url("virtual://bad-rate?rate=5000")


def test_unplug_raises_on_read_and_the_rig_is_back_after_replug(name: str) -> None:
    port = serial.serial_for_url(f"virtual://{name}?rate=1000", timeout=0.05)
    rig = get_device(name)
    port.write(encode(Start()))
    read_until(port, lambda m: decoder_samples(m) > 100)
    rig.unplug(now=time.monotonic())
    with pytest.raises(SerialException, match="disconnected"):
        port.read(100)
    with pytest.raises(SerialException):
        port.write(encode(GetInfo()))
    with pytest.raises(SerialException, match="not connected"):
        serial.serial_for_url(f"virtual://{name}", timeout=0.05)
    rig.replug(now=time.monotonic())
    with pytest.raises(SerialException, match="open the port again"):
        port.read(1)  # the old handle is gone for good, as with a real USB device
    port.close()
    fresh = serial.serial_for_url(f"virtual://{name}", timeout=0.05)
    messages, _ = read_until(fresh, has_info)  # the reboot greeting
    assert not rig.streaming and rig.boot_count == 2
    fresh.write(encode(GetInfo()))
    messages, _ = read_until(fresh, has_info)
    assert has_info(messages)
    fresh.close()


def test_scheduled_unplug_fault_in_process(name: str) -> None:
    port = serial.serial_for_url(f"virtual://{name}?rate=1000&fault=unplug:0.2s:0.3", timeout=0.05)
    start = time.monotonic()
    with pytest.raises(SerialException):
        while time.monotonic() - start < 2.0:
            port.read(port.in_waiting or 1)
    assert 0.15 <= time.monotonic() - start <= 0.6
    port.close()
    deadline = time.monotonic() + 2.0
    while True:
        try:
            fresh = serial.serial_for_url(f"virtual://{name}", timeout=0.05)
            break
        except SerialException:
            assert time.monotonic() < deadline, "the rig never came back"
            time.sleep(0.02)
    messages, _ = read_until(fresh, has_info)
    assert has_info(messages)
    fresh.close()


def test_query_options_build_the_same_rig_as_the_options_object() -> None:
    options = RigOptions.from_query(
        "rate=200&seed=5&fault=drop:0.1&fault=overrun:1s&static=left:20&noise=0.1&gain=0.0004,0.0006"
    )
    assert options.rate_hz == 200 and options.seed == 5
    assert options.faults == ["drop:0.1", "overrun:1s"]
    rig = options.build()
    assert rig.model.athlete is None  # static loads alone: the calibration bench
    assert rig.adc.gain_n_per_count == (0.0004, 0.0006)
    assert [str(s) for s in rig.faults.specs] == ["drop:0.1", "overrun:1s"]
    assert rig.model.static.target()[0] == pytest.approx(20 * 9.80665)
