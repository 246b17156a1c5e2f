"""Build the firmware targets and run them as processes the station's link talks to.

Why a module of its own: the host target, the simavr harness and the fuzz
harness are all C programs with a control channel on stdin and a report on
stdout; the tests share one way to build, start, command and stop them
(and never leave one running).
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from firmware_bridge.link import Blocks, Link, Received
from firmware_bridge.messages import Ack, Event, Heartbeat, Info, SampleBlock

ROOT = Path(__file__).resolve().parents[2]
FIRMWARE = ROOT / "firmware"
BUILD = FIRMWARE / "build"
HOST_BIN = BUILD / "host" / "nordic-rig-host"
FUZZ_BIN = BUILD / "fuzz" / "fuzz-parser"
AVR_ELF = BUILD / "avr" / "nordic-rig.elf"
SIM_BIN = BUILD / "sim" / "rig-sim"
SIMAVR_HEADER = Path("/usr/include/simavr/sim_avr.h")

_built: dict[str, str | None] = {}
_build_lock = threading.Lock()


def avr_missing() -> str | None:
    """Why the AVR target cannot be built and simulated here, or None."""
    missing = [tool for tool in ("avr-gcc", "avr-objcopy", "avr-size") if not shutil.which(tool)]
    if not SIMAVR_HEADER.exists():
        missing.append("libsimavr-dev (simavr headers)")
    if not missing:
        return None
    return f"{', '.join(missing)} not installed: run 'make firmware-deps' for the AVR tests"


def build(target: str) -> None:
    """``make -C firmware TARGET`` once per session; a failure fails the test with its log."""
    with _build_lock:
        if target not in _built:
            result = subprocess.run(
                ["make", "-s", "-C", str(FIRMWARE), target],
                capture_output=True,
                text=True,
                timeout=300,
            )
            _built[target] = (
                None if result.returncode == 0 else (result.stdout + result.stderr)[-4000:]
            )
        error = _built[target]
    if error is not None:
        raise AssertionError(f"make -C firmware {target} failed:\n{error}")


class RigProcess:
    """A firmware process: ``port`` is its pty; lines on stdout are kept for :meth:`expect`."""

    def __init__(self, args: list[str]) -> None:
        self.proc = subprocess.Popen(
            args,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            bufsize=1,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.port = self.expect("pty ", timeout=10).split(" ", 1)[1]

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def expect(self, prefix: str, timeout: float = 10.0) -> str:
        """The next stdout line starting with ``prefix`` (others are skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None and self.lines.empty():
                raise AssertionError(f"no '{prefix}' line from {self.proc.args[0]} in {timeout} s")
            with contextlib.suppress(queue.Empty):
                line = self.lines.get(timeout=min(left, 0.2))
                if line.startswith(prefix):
                    return line

    def stats(self) -> dict[str, str]:
        """The process's counters (its ``stats`` line) as a dict of strings."""
        self.send("stats")
        line = self.expect("stats ")
        return dict(item.split("=", 1) for item in line.split()[1:])

    def close(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.send("quit")
            assert self.proc.stdin is not None
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)


@contextlib.contextmanager
def host_rig(*args: str) -> Iterator[RigProcess]:
    build("host")
    rig = RigProcess([str(HOST_BIN), *args])
    try:
        yield rig
    finally:
        rig.close()


@contextlib.contextmanager
def sim_rig(profile: Path, *args: str) -> Iterator[RigProcess]:
    build("avr")
    build("sim")
    rig = RigProcess([str(SIM_BIN), str(AVR_ELF), "--profile", str(profile), *args])
    try:
        yield rig
    finally:
        rig.close()


@dataclass
class Seen:
    """What a test has taken off a link's event queue, in order."""

    blocks: list[SampleBlock] = field(default_factory=list)
    messages: list[Info | Event | Heartbeat | Ack] = field(default_factory=list)

    @property
    def samples(self) -> int:
        return sum(len(b) for b in self.blocks)

    def events(self, code: int) -> list[Event]:
        return [m for m in self.messages if isinstance(m, Event) and m.code == code]


def drain(link: Link, seen: Seen, until: Callable[[Seen], bool], timeout: float) -> Seen:
    """Take link events into ``seen`` until ``until(seen)``; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not until(seen):
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(
                f"condition not met in {timeout} s: {seen.samples} samples, "
                f"last messages {seen.messages[-5:]}"
            )
        try:
            event = link.events.get(timeout=min(left, 0.2))
        except queue.Empty:
            continue
        if isinstance(event, Blocks):
            seen.blocks.extend(event.blocks)
        elif isinstance(event, Received):
            seen.messages.append(event.message)
    return seen


def cpu_count() -> int:
    return len(os.sched_getaffinity(0))
