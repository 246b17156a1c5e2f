"""The virtual rig over a real pseudo-terminal, read with pyserial in chunks, including
an unplug (the pty goes away) and a replug (a new pty behind the same symlink)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import numpy as np
import pytest
import serial
from serial.serialutil import SerialException

from firmware_bridge.decoder import StreamDecoder
from firmware_bridge.device import PtyServer
from firmware_bridge.messages import GetInfo, Info, Message, SampleBlock, Start, Stop, encode
from firmware_bridge.virtual_rig import Athlete, NordicModel, VirtualRig

pytestmark = pytest.mark.pty


def read_until(
    port: serial.Serial, done: Callable[[list[Message]], bool], timeout: float = 3.0
) -> list[Message]:
    decoder = StreamDecoder()
    messages: list[Message] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not done(messages):
        messages += decoder.feed(port.read(port.in_waiting or 1))
    return messages


def samples_in(messages: list[Message]) -> int:
    return sum(len(m) for m in messages if isinstance(m, SampleBlock))


def has_info(messages: list[Message]) -> bool:
    return any(isinstance(m, Info) for m in messages)


def make_rig(rate_hz: float = 1000.0) -> VirtualRig:
    return VirtualRig(NordicModel(Athlete(), seed=2, rate_hz=rate_hz), rate_hz=rate_hz, seed=2)


def test_info_and_samples_over_a_pty(tmp_path: os.PathLike[str]) -> None:
    rig = make_rig()
    link = os.path.join(tmp_path, "rig")
    with PtyServer(rig, link), serial.Serial(link, timeout=0.05) as port:
        port.write(encode(GetInfo()))
        info = [m for m in read_until(port, has_info) if isinstance(m, Info)]
        assert info[0].sample_rate_mhz == 1_000_000
        port.write(encode(Start()))
        messages = read_until(port, lambda m: samples_in(m) >= 500)
        port.write(encode(Stop()))
    blocks = [m for m in messages if isinstance(m, SampleBlock)]
    index = np.concatenate([np.arange(b.first_index, b.end_index) for b in blocks])
    counts = np.concatenate([b.counts for b in blocks])
    np.testing.assert_array_equal(index, np.arange(len(index)))
    np.testing.assert_array_equal(counts, rig.expected_counts(index)[0])


def test_unplug_closes_the_pty_and_replug_brings_it_back_at_the_same_path(
    tmp_path: os.PathLike[str],
) -> None:
    rig = make_rig()
    link = os.path.join(tmp_path, "rig")
    with PtyServer(rig, link):
        port = serial.Serial(link, timeout=0.05)
        port.write(encode(Start()))
        read_until(port, lambda m: samples_in(m) >= 100)
        rig.unplug(for_s=0.4, now=time.monotonic())
        with pytest.raises(SerialException):
            deadline = time.monotonic() + 2.0
            while time.monotonic() < deadline:
                port.read(port.in_waiting or 1)
        port.close()
        deadline = time.monotonic() + 3.0
        while not os.path.exists(link):
            assert time.monotonic() < deadline, "the port never came back"
            time.sleep(0.02)
        with serial.Serial(link, timeout=0.05) as port:
            port.write(encode(GetInfo()))
            assert has_info(read_until(port, has_info))
        assert rig.boot_count == 2 and not rig.streaming
