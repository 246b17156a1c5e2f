"""Index tracking: wrapped device indices -> one unwrapped count per segment.

Gaps become dropped samples, an index running backwards or a rig that
rebooted mid-test a restart and a new segment (protocol.md, "Segments").
"""

from __future__ import annotations

from dataclasses import dataclass, field

from firmware_bridge.counters import Counters
from firmware_bridge.messages import INDEX_MODULO

HALF_RANGE = INDEX_MODULO // 2


@dataclass
class IndexTracker:
    """Turns wrapped device indices into unwrapped ones, counting gaps and restarts.

    ``bases`` holds where each segment's index starts: the STARTED event's
    index, or the first index seen when a stream starts mid-test or restarts.
    ``streaming`` says a test is under way (STARTED or samples seen, no
    STOPPED since): a STARTED then means the test restarted without a STOP
    (the rig rebooted, or lost its test), which counts as a device restart.
    ``suspect_reboot`` says an INFO nobody asked for arrived during the test;
    continuing samples clear it (the host merely reopened the port).
    """

    expected: int | None = None  # next raw (wrapped) index
    next_unwrapped: int = 0
    segment: int = 0
    seen_in_segment: bool = False
    streaming: bool = False
    suspect_reboot: bool = False
    bases: dict[int, int] = field(default_factory=dict)

    def new_segment(self, start_index: int, counters: Counters) -> None:
        """A STARTED: samples count from ``start_index``; any lost before the first are a gap."""
        if self.streaming:
            # A test started again without a STOP: the rig rebooted (the INFO it
            # sent at boot may be lost with the reopened port) or lost its test.
            counters.device_restarts += 1
        if self.seen_in_segment:
            self.segment += 1
        self.expected = start_index % INDEX_MODULO
        self.next_unwrapped = start_index
        self.seen_in_segment = False
        self.streaming = True
        self.bases[self.segment] = start_index

    def stop(self, stop_index: int, counters: Counters) -> None:
        """A STOPPED: its index is where the test ended, so samples lost at the end count."""
        if self.streaming and self.expected is not None:
            gap = (stop_index - self.expected) % INDEX_MODULO
            if gap < HALF_RANGE:
                counters.dropped_samples += gap
                self.next_unwrapped += gap
                self.expected = stop_index % INDEX_MODULO
        self.streaming = False
        self.suspect_reboot = False

    def unasked_info(self) -> None:
        """An INFO as at power-on: during a test, the rig may have rebooted."""
        if self.streaming:
            self.suspect_reboot = True

    def heartbeat(self, counters: Counters) -> None:
        """A rig sends heartbeats only when not streaming: during a test, it rebooted."""
        if self.streaming:
            self.reboot(counters)

    def reboot(self, counters: Counters) -> None:
        """The rig restarted under a running test: count it; what follows is a new segment."""
        counters.device_restarts += 1
        if self.seen_in_segment:
            self.segment += 1
        self.seen_in_segment = False
        self.expected = None
        self.streaming = False
        self.suspect_reboot = False

    def place(self, raw: int, count: int, counters: Counters) -> tuple[int, bool]:
        """Unwrapped first index of a run of ``count`` samples, and whether it continues."""
        contiguous = False
        if self.expected is None:
            unwrapped = raw
            self.bases.setdefault(self.segment, raw)
        else:
            gap = (raw - self.expected) % INDEX_MODULO
            if gap == 0:
                unwrapped = self.next_unwrapped
                contiguous = self.seen_in_segment
            elif gap < HALF_RANGE:
                counters.dropped_samples += gap
                unwrapped = self.next_unwrapped + gap
            else:
                counters.device_restarts += 1
                self.segment += 1
                unwrapped = raw
                self.bases[self.segment] = raw
        self.seen_in_segment = True
        self.streaming = True
        self.suspect_reboot = False
        self.expected = (raw + count) % INDEX_MODULO
        self.next_unwrapped = unwrapped + count
        return unwrapped, contiguous
