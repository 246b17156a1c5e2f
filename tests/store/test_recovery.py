"""Crash safety with real processes killed by SIGKILL: a test being recorded is
found and recovered on the next start; a committed test is never lost."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from firmware_bridge.decoder import decode_bytes
from firmware_bridge.messages import Info
from firmware_bridge.recording import RecordingWriter
from station import paths
from station.cli import main
from station.store import NotFoundError, Store, StoreError, open_store
from tests.store import synth

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")

RECORDER = """
import sys, threading
from firmware_bridge.messages import Info
from firmware_bridge.recording import RecordingWriter
from station.store import open_store
from tests.store import synth

store = open_store(actor="app")
pending = store.live.begin(int(sys.argv[1]), certificate=synth.certificate(), operator="Kim")
data = synth.capture()
cert = synth.certificate()
writer = RecordingWriter(pending.path, info=Info(80000, "NR-SIM-0001"), calibration=cert)
part = len(data) * 2 // 3
for i in range(0, part, 512):
    writer.write(data[i : i + 512])
writer.flush(sync=True)
print("READY", pending.id, flush=True)
threading.Event().wait()  # until the test kills it
"""

COMMITTER = """
import sys
from station.store import open_store

store = open_store(actor="loop")
for i in range(10_000):
    test = store.new_tests.import_file(
        int(sys.argv[1]), sys.argv[2], certificate=sys.argv[3], notes=f"n{i}"
    )
    print("COMMITTED", test.id, test.recording_sha256, flush=True)
"""


class _Child:
    """A child process whose stdout lines are read with a timeout (raw fd, own buffer)."""

    def __init__(self, code: str, *args: str) -> None:
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        self.process = subprocess.Popen(
            [sys.executable, "-c", code, *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.buffer = b""

    def line(self, prefix: str, timeout: float = 60.0) -> list[str]:
        """The next line starting with ``prefix``; never blocks past ``timeout``."""
        deadline = time.monotonic() + timeout
        fd = self.process.stdout.fileno()
        while True:
            while b"\n" in self.buffer:
                line, self.buffer = self.buffer.split(b"\n", 1)
                if line.decode().startswith(prefix):
                    return line.decode().split()
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                self.process.kill()
                raise AssertionError(f"no {prefix} line within {timeout} s")
            chunk = os.read(fd, 65536)
            if not chunk:
                raise AssertionError(f"child ended: {self.process.stderr.read().decode()}")
            self.buffer += chunk

    def kill_9(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        assert self.process.returncode == -signal.SIGKILL
        self.process.stdout.close()
        self.process.stderr.close()


def test_a_test_killed_while_recording_is_found_and_recovered(home: Path, capsys) -> None:
    with open_store() as store:
        athlete = store.athletes.add("Ada", external_id="S01")
    child = _Child(RECORDER, str(athlete.id))
    try:
        pending_id = int(child.line("READY")[1])
        with open_store() as store:  # a second station while the first still records
            (live,) = store.recovery.pending()
            assert live.id == pending_id and live.live and live.size > 0
            assert store.recovery.pending(include_live=False) == []
            with pytest.raises(StoreError, match="still being recorded"):
                store.recovery.recover(pending_id)
            with pytest.raises(StoreError, match="still being recorded"):
                store.recovery.discard(pending_id)
    finally:
        child.kill_9()

    # The next start: the test is unfinished, no longer live, and recoverable.
    with open_store() as store:
        (crashed,) = store.recovery.pending(include_live=False)
        assert crashed.id == pending_id and not crashed.live
        partial = crashed.path.read_bytes()
        assert main(["recover", "--list"]) == 0
        assert "interrupted" in capsys.readouterr().out
        assert main(["recover"]) == 0
        out = capsys.readouterr().out
        assert f"unfinished test {pending_id} recovered as test" in out
        test_id = int(out.split("recovered as test ")[1].split()[0])
        test = store.tests.get(test_id)
        assert test.recovered and test.source == "recovered" and test.operator == "Kim"
        assert test.warnings[0].startswith("recovered after the station stopped")
        assert store.tests.recording(test_id) == partial
        assert len(store.tests.reps(test_id)) >= 1  # what was recorded before the kill is there
        assert store.recovery.pending() == []
        assert [p.name for p in store.recovery.folder.iterdir()] == []
        assert [e.action for e in store.audit_log("test", test_id)] == ["recover"]


def test_committed_tests_survive_kill_9(home: Path, tmp_path: Path) -> None:
    capture = synth.write_capture(tmp_path / "big.bin", rate_hz=1000.0)
    cert = tmp_path / "cal.json"
    cert.write_text(__import__("json").dumps(synth.certificate()))
    samples = decode_bytes(capture.read_bytes()).samples
    with open_store() as store:
        athlete = store.athletes.add("Ada")
    child = _Child(COMMITTER, str(athlete.id), str(capture), str(cert))
    committed = []
    try:
        while len(committed) < 3:
            committed.append(child.line("COMMITTED"))
    finally:
        child.kill_9()  # mid-way through the next import
    with open_store() as store:
        assert store.backend.integrity_check() == []
        stored = {t.id for t in store.tests.of_athlete(athlete.id)}
        for _, test_id, sha in committed:
            test = store.tests.get(int(test_id))
            assert test.recording_sha256 == sha
            assert store.tests.recording(test.id) == capture.read_bytes()
            # Curves for every sample of the capture (it has no gaps).
            assert len(store.tests.curves(test.id)["time_s"]) == samples
            assert int(test_id) in stored
        # Whatever else is stored is whole: every test has its run and reps.
        for test_id in stored:
            test = store.tests.get(test_id)
            assert test.result is not None and len(store.tests.reps(test_id)) == 3


def _record(store: Store, athlete_id: int, data: bytes | None = None) -> object:
    pending = store.live.begin(
        athlete_id, certificate=synth.certificate(), operator="Kim", notes="live"
    )
    assert pending.live and not pending.path.exists()
    with RecordingWriter(
        pending.path, info=Info(80000, "NR-SIM-0001"), calibration=synth.certificate()
    ) as writer:
        writer.write(synth.capture() if data is None else data)
    return pending


def test_begin_and_finish_a_live_test(store: Store, athlete) -> None:
    pending = _record(store, athlete.id)
    raw = pending.path.read_bytes()
    test = store.live.finish(pending, notes="good session")
    assert (test.source, test.recovered, test.notes) == ("live", False, "live\ngood session")
    assert store.tests.recording(test.id) == raw and len(store.tests.reps(test.id)) == 3
    assert store.recovery.pending() == [] and list(store.recovery.folder.iterdir()) == []
    with pytest.raises(NotFoundError):
        store.live.finish(pending)


def test_abort_moves_the_partial_recording_aside(store: Store, athlete, home: Path) -> None:
    pending = _record(store, athlete.id)
    moved = store.live.abort(pending, by="Kim")
    assert moved == paths.discarded_dir(home) / pending.path.name and moved.stat().st_size > 0
    assert store.recovery.pending() == [] and not pending.path.exists()
    entry = store.audit_log("pending", pending.id)[0]
    assert entry.action == "abort" and entry.before["moved_to"] == str(moved)


def test_an_unfinished_test_that_recorded_nothing_can_only_be_discarded(
    home: Path, athlete
) -> None:
    with open_store() as first:
        pending = first.live.begin(athlete.id)
        first.backend.close()  # the station dies without finishing (its locks go with it)
        for lock in first.live.in_progress.locks.values():
            lock.release()
    with open_store() as store:
        (crashed,) = store.recovery.pending()
        assert crashed.size is None and not crashed.live
        with pytest.raises(StoreError, match=f"recorded nothing.*--discard {pending.id}"):
            store.recovery.recover(pending.id)
        assert main(["recover", "--discard", str(pending.id)]) == 0
        assert store.recovery.pending() == []


def test_files_left_between_commit_and_clean_up(
    store: Store, athlete, capture_file, cert_file
) -> None:
    test = store.new_tests.import_file(athlete.id, capture_file, certificate=cert_file)
    store.recovery.folder.mkdir(parents=True, exist_ok=True)
    stored = store.recovery.folder / "test-leftover.nsrec"
    stored.write_bytes(store.tests.recording(test.id))  # as if the clean-up never ran
    unknown = store.recovery.folder / "test-unknown.nsrec"
    unknown.write_bytes(b"never stored")
    orphans = {o.path.name: o.committed for o in store.recovery.orphan_files()}
    assert orphans == {"test-leftover.nsrec": True, "test-unknown.nsrec": False}
    assert store.recovery.clean() == [stored]
    assert unknown.exists()  # not stored: kept for the user
