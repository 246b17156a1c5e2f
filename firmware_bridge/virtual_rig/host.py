"""A scripted host on a virtual clock: drive any ByteDevice without real time.

Why: a test of the rig's protocol, cadence or faults should run in
milliseconds and give the same result on a loaded machine, so it moves a
virtual clock instead of sleeping.  The host decodes everything the device
sends with the station's own :class:`~firmware_bridge.decoder.StreamDecoder`
and records when each message arrived.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from firmware_bridge.decoder import DecodedStream, StreamCollector, StreamDecoder
from firmware_bridge.device import ByteDevice
from firmware_bridge.messages import Message, SampleBlock, encode


@dataclass
class Arrival:
    """One message and the virtual time it reached the host."""

    time: float
    message: Message


@dataclass
class ScriptedHost:
    """Talks to ``device`` at virtual times; ``now`` only moves forward."""

    device: ByteDevice
    now: float = 0.0
    decoder: StreamDecoder = field(default_factory=StreamDecoder)
    arrivals: list[Arrival] = field(default_factory=list)
    raw: bytearray = field(default_factory=bytearray)

    def open(self) -> list[Message]:
        """Open the port (the device greets) and read what is there."""
        self.device.on_open(self.now)
        return self.read()

    def send(self, *messages: Message) -> list[Message]:
        """Send commands now and read the immediate answers."""
        self.device.receive(b"".join(encode(m) for m in messages), self.now)
        return self.read()

    def send_bytes(self, data: bytes) -> list[Message]:
        self.device.receive(data, self.now)
        return self.read()

    def read(self) -> list[Message]:
        data = self.device.poll(self.now)
        self.raw += data
        messages = self.decoder.feed(data)
        self.arrivals += [Arrival(self.now, m) for m in messages]
        return messages

    def run(self, seconds: float, step: float = 0.01) -> list[Message]:
        """Let ``seconds`` pass, reading every ``step``."""
        out: list[Message] = []
        end = self.now + seconds
        while self.now < end - 1e-12:
            self.now = min(self.now + step, end)
            out += self.read()
        return out

    @property
    def messages(self) -> list[Message]:
        return [a.message for a in self.arrivals]

    def blocks(self) -> list[SampleBlock]:
        return [m for m in self.messages if isinstance(m, SampleBlock)]

    def samples(self) -> tuple[np.ndarray, np.ndarray]:
        """(device indices, counts (n, 2)) of every sample received, as sent."""
        blocks = self.blocks()
        if not blocks:
            return np.empty(0, np.int64), np.empty((0, 2), np.int32)
        index = np.concatenate([np.arange(b.first_index, b.end_index) for b in blocks])
        return index, np.concatenate([b.counts for b in blocks])

    def collected(self) -> DecodedStream:
        """Everything so far as a DecodedStream (finishes the decoder)."""
        self.messages += self.decoder.finish()  # a frame completed only by the end counts too
        collector = StreamCollector()
        collector.add(self.messages)
        return collector.result(self.decoder)
