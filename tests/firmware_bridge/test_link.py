"""The link: handshake, commands, states, reconnects, and no silent failure."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import numpy as np
import pytest
import serial

from firmware_bridge.capture import load_capture
from firmware_bridge.errors import PortError
from firmware_bridge.link import (
    CountersSnapshot,
    ErrorReported,
    Link,
    LinkError,
    LinkState,
    Received,
    StateChanged,
)
from firmware_bridge.messages import (
    AckStatus,
    GetInfo,
    Heartbeat,
    Info,
    MsgType,
    SampleBlock,
    Start,
    Stop,
    encode,
)
from firmware_bridge.recording import RecordingWriter, read_recording
from tests.firmware_bridge.scripted_rig import EventLog, ScriptedRig, Socket


def make_link(socket: Socket, **kwargs: object) -> tuple[Link, EventLog]:
    kwargs.setdefault("retry_interval", 0.1)
    kwargs.setdefault("foreign_retry_interval", 0.1)
    kwargs.setdefault("info_timeout", 0.2)
    link = Link("rig://test", opener=socket.opener, **kwargs)  # type: ignore[arg-type]
    return link, EventLog(link)


@pytest.fixture
def socket() -> Socket:
    return Socket(ScriptedRig())


def assert_counts_follow_indices(blocks: list[SampleBlock]) -> None:
    """The scripted rig sends counts (i, -i) for sample i of each session."""
    for block in blocks:
        assert np.array_equal(block.counts[:, 1], -block.counts[:, 0])


def test_open_does_the_handshake_and_reports_its_states(socket: Socket) -> None:
    link, log = make_link(socket)
    info = link.open()
    try:
        assert info == socket.rig.info
        assert link.info == info and link.serial_number == "NR-0001"
        assert link.state == LinkState.IDLE and link.reader_alive
        log.wait(lambda e: isinstance(e, Received) and isinstance(e.message, Info))
    finally:
        link.close()
    log.pump()
    assert log.states() == [LinkState.CONNECTING, LinkState.IDLE, LinkState.CLOSED]
    assert not link.reader_alive
    link.close()  # twice is fine


def test_start_stream_stop_and_the_recording_matches_what_was_delivered(
    socket: Socket, tmp_path: Path
) -> None:
    path = tmp_path / "live.nsrec"
    with RecordingWriter(path, port="rig://test") as writer:
        link, log = make_link(socket, recorder=writer)
        link.open()
        link.start()
        assert link.state == LinkState.STREAMING
        log.wait_samples(300)
        link.stop()
        assert link.state == LinkState.IDLE
        log.pump(0.1)
        link.close()
        log.pump()
    live = log.blocks()
    assert_counts_follow_indices(live)
    delivered = np.concatenate([b.counts for b in live])
    assert np.array_equal(delivered[:, 0], np.arange(len(delivered)))
    recording = read_recording(path)
    assert recording.data == bytes(socket.rig.sent)
    assert recording.info == socket.rig.info.to_dict()
    assert [d for _, d in recording.sent] == [encode(GetInfo()), encode(Start()), encode(Stop())]
    capture = load_capture(path)
    assert np.array_equal(capture.stream.counts, delivered)
    counters = link.counters()
    assert counters["samples"] == capture.stream.counters.samples == len(delivered)
    assert counters["frames_corrupt"] == 0 and counters["dropped_samples"] == 0
    assert counters["bytes_received"] == len(recording.data)
    final = [e for e in log.events if isinstance(e, CountersSnapshot)][-1]
    assert final.counters["samples"] == len(delivered)


def test_set_rate_waits_for_the_new_info_and_is_refused_while_streaming(
    socket: Socket, tmp_path: Path
) -> None:
    with RecordingWriter(tmp_path / "r.nsrec") as writer:
        link, _ = make_link(socket, recorder=writer)
        link.open()
        try:
            info = link.set_rate(500)
            assert info is not None and info.sample_rate_hz == 500
            assert link.info == info
            link.start()
            with pytest.raises(LinkError, match="refused SET_RATE 250 Hz: busy"):
                link.set_rate(250)
            with pytest.raises(LinkError, match="1 Hz to 100 kHz"):
                link.set_rate(float("nan"))
        finally:
            link.close()
    assert read_recording(tmp_path / "r.nsrec").info["sample_rate_mhz"] == 500_000


def test_a_refused_command_is_a_clear_error(socket: Socket) -> None:
    socket.rig.refuse[MsgType.START] = AckStatus.BAD_ARGUMENT
    link, _ = make_link(socket)
    link.open()
    try:
        with pytest.raises(LinkError, match="refused START: bad argument"):
            link.start()
        assert link.counters()["commands_refused"] == 1
        assert link.state == LinkState.IDLE
    finally:
        link.close()


def test_a_command_without_ack_times_out(socket: Socket) -> None:
    link, _ = make_link(socket)
    link.open()
    socket.rig.ack = False
    try:
        started = time.monotonic()
        with pytest.raises(LinkError, match="did not acknowledge STOP within 0.2 s"):
            link.stop(timeout=0.2)
        assert 0.15 <= time.monotonic() - started < 1.0
        assert link.counters()["command_timeouts"] == 1
    finally:
        link.close()


def test_a_port_that_never_sends_info_is_not_a_rig_unless_passive() -> None:
    socket = Socket(ScriptedRig(answer_info=False, info_on_open=False))
    link, _ = make_link(socket, info_timeout=0.1)
    started = time.monotonic()
    with pytest.raises(PortError, match="no INFO from rig://test after 3 requests"):
        link.open()
    assert time.monotonic() - started < 1.0
    assert link.state == LinkState.CLOSED and not link.reader_alive
    passive, _ = make_link(socket, passive=True)
    assert passive.open() is None
    assert passive.state == LinkState.IDLE
    passive.start()  # sent, not awaited
    passive.close()
    assert any(isinstance(c, Start) for c in socket.rig.commands)


def test_a_missing_port_is_one_line_naming_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(PortError) as info:
        Link(str(tmp_path / "ttyACM9")).open()
    message = str(info.value)
    assert "no such device — is the rig plugged in?" in message
    assert "nordic-station simulate" in message and "\n" not in message
    with pytest.raises(PortError, match="no such device"):
        make_link(Socket(None))[0].open()


@pytest.mark.pty
def test_a_busy_port_is_refused() -> None:
    master, slave = os.openpty()
    name = os.ttyname(slave)
    holder = serial.Serial(name, exclusive=True)
    try:
        with pytest.raises(PortError, match="busy"):
            Link(name).open()
    finally:
        holder.close()
        os.close(master)
        os.close(slave)


def test_commands_need_a_connected_rig(socket: Socket) -> None:
    link, log = make_link(socket)
    link.open()
    try:
        socket.unplug()
        log.wait_state(LinkState.DISCONNECTED)
        with pytest.raises(LinkError, match="not connected"):
            link.start()
    finally:
        link.close()


def test_a_silent_rig_becomes_a_state_change_and_comes_back(socket: Socket) -> None:
    link, log = make_link(socket)
    link.open()
    try:
        link.start()
        log.wait_samples(50)
        socket.rig.silent = True
        went_quiet = time.monotonic()
        event = log.wait_state(LinkState.SILENT, timeout=4.0)
        assert event.t - went_quiet < 2.5
        assert link.state == LinkState.SILENT
        socket.rig.silent = False
        log.wait_state(LinkState.STREAMING)
        log.wait(lambda e: link.counters()["dropped_samples"] > 0)  # the hung rig's samples
    finally:
        link.close()


def test_unplug_and_replug_of_the_same_rig_continues_the_stream(
    socket: Socket, tmp_path: Path
) -> None:
    path = tmp_path / "replug.nsrec"
    with RecordingWriter(path) as writer:
        link, log = make_link(socket, recorder=writer)
        link.open()
        link.start()
        log.wait_samples(200)
        first_rig = socket.rig
        socket.unplug()
        log.wait_state(LinkState.DISCONNECTED)
        log.wait_state(LinkState.RECONNECTING)
        before = log.samples()
        tried = socket.attempts
        log.wait_for(lambda: socket.attempts >= tried + 3, "three more attempts to reopen")
        assert link.state == LinkState.RECONNECTING
        second_rig = ScriptedRig(serial="NR-0001")
        socket.plug(second_rig)
        log.wait_state(LinkState.IDLE)
        log.wait_state(LinkState.STREAMING)
        log.wait_samples(before + 200)
        link.close()
        log.pump()
    assert any(isinstance(c, Start) for c in second_rig.commands)  # START sent again
    blocks = log.blocks()
    assert_counts_follow_indices(blocks)
    segments = sorted({b.segment for b in blocks})
    assert len(segments) == 2  # the new samples form a new segment
    counters = link.counters()
    assert counters["disconnects"] == 1 and counters["reconnects"] == 1
    assert counters["samples"] == log.samples()
    recording = read_recording(path)
    assert recording.data == bytes(first_rig.sent) + bytes(second_rig.sent)
    assert [n["state"] for n in recording.notes if n["event"] == "state"][-3:] == [
        "reconnecting",
        "idle",
        "streaming",
    ]
    capture = load_capture(path)
    assert capture.stream.samples == log.samples()
    assert list(np.unique(capture.stream.segment)) == [0, 1]


@pytest.mark.parametrize(
    ("announce", "sign"),
    [(True, "it sent INFO as at power-on"), (False, "heartbeat instead of samples")],
)
def test_a_rig_that_reboots_under_a_test_is_started_again_once(
    socket: Socket, announce: bool, sign: str
) -> None:
    link, log = make_link(socket)
    link.open()
    try:
        link.start()
        log.wait_samples(200)
        rig = socket.rig
        rig.reboot(announce=announce)
        restarted = log.wait(
            lambda e: isinstance(e, StateChanged) and "restarted" in e.detail, timeout=3.0
        )
        assert restarted.state == LinkState.IDLE and sign in restarted.detail
        again = log.wait_state(LinkState.STREAMING)
        assert again.detail == "streaming again after the rig restarted"
        before = log.samples()
        # 1.5 s more of the rig's samples (more than a heartbeat's worth): no second START.
        log.wait_samples(before + 1500, timeout=5.0)
    finally:
        link.close()
        log.pump()
    assert rig.boots == 2
    assert sum(isinstance(c, Start) for c in rig.commands) == 2  # once for the reboot
    blocks = log.blocks()
    assert_counts_follow_indices(blocks)
    segments = sorted({b.segment for b in blocks})
    assert len(segments) == 2  # the samples after the reboot are a new segment
    assert link.counters()["rig_restarts"] == 1
    assert link.counters()["disconnects"] == 0
    assert not log.errors()


def test_a_reboot_is_not_restarted_after_stop_or_when_the_rig_was_not_asked(
    socket: Socket,
) -> None:
    link, log = make_link(socket)
    link.open()
    try:
        link.start()
        log.wait_samples(50)
        link.stop()
        socket.rig.reboot()
        log.wait(lambda e: isinstance(e, Received) and isinstance(e.message, Info))
        log.wait(lambda e: isinstance(e, Received) and isinstance(e.message, Heartbeat))
        socket.rig.reboot(announce=False)
        boots = socket.rig.boots
        log.wait_for(lambda: socket.rig.boots > boots, "the second reboot")
        log.wait(lambda e: isinstance(e, Received) and isinstance(e.message, Heartbeat))
    finally:
        link.close()
        log.pump()
    assert sum(isinstance(c, Start) for c in socket.rig.commands) == 1
    assert link.counters()["rig_restarts"] == 0
    assert not any("restarted" in e.detail for e in log.events if isinstance(e, StateChanged))


def test_info_asked_for_while_streaming_is_not_a_reboot(socket: Socket) -> None:
    link, log = make_link(socket)
    link.open()
    try:
        link.start()
        log.wait_samples(50)
        assert link.get_info().serial_number == "NR-0001"
        log.wait_samples(log.samples() + 200)  # the stream goes on after the answer
        assert link.state == LinkState.STREAMING
        assert LinkState.IDLE not in log.states()[log.states().index(LinkState.STREAMING) :]
    finally:
        link.close()
    assert sum(isinstance(c, Start) for c in socket.rig.commands) == 1
    assert link.counters()["rig_restarts"] == 0


def test_a_rig_that_refuses_start_after_a_reboot_is_an_error_not_a_loop(
    socket: Socket,
) -> None:
    link, log = make_link(socket)
    link.open()
    try:
        link.start()
        log.wait_samples(50)
        socket.rig.refuse[MsgType.START] = AckStatus.BUSY
        socket.rig.reboot()
        error = log.wait(lambda e: isinstance(e, ErrorReported))
        assert "refused START after the rig restarted" in error.message  # type: ignore[attr-defined]
        for _ in range(1):  # a heartbeat follows: no second START
            log.wait(lambda e: isinstance(e, Received) and isinstance(e.message, Heartbeat))
        assert link.state == LinkState.IDLE
    finally:
        link.close()
    assert sum(isinstance(c, Start) for c in socket.rig.commands) == 2
    assert link.state == LinkState.CLOSED and link.counters()["rig_restarts"] == 1


def test_another_rig_on_the_port_is_an_error_and_its_data_is_not_used(
    socket: Socket, tmp_path: Path
) -> None:
    path = tmp_path / "foreign.nsrec"
    with RecordingWriter(path) as writer:
        link, log = make_link(socket, recorder=writer)
        link.open()
        socket.unplug()
        log.wait_state(LinkState.RECONNECTING)
        stranger = ScriptedRig(serial="NR-9999")
        socket.plug(stranger)
        error = log.wait(lambda e: isinstance(e, ErrorReported))
        assert error.kind == "foreign_rig"
        assert "NR-9999" in error.message and "NR-0001" in error.message
        tried = socket.attempts
        log.wait_for(lambda: socket.attempts >= tried + 2, "two more attempts with the stranger")
        assert not link.connected and link.serial_number == "NR-0001"
        assert len(log.errors()) == 1  # said once, not at every attempt
        socket.unplug()
        socket.plug(ScriptedRig(serial="NR-0001"))
        log.wait_state(LinkState.IDLE, timeout=4.0)
        link.close()
    recording = read_recording(path)
    assert b"NR-9999" not in recording.data
    assert link.counters()["bytes_discarded"] > 0
    assert any(n.get("kind") == "foreign_rig" for n in recording.notes)


def test_the_reader_survives_an_exception_in_decoding_and_reports_it(socket: Socket) -> None:
    link, log = make_link(socket)
    link.open()
    try:
        link.start()
        log.wait_samples(50)
        feed = link._decoder.feed
        calls = {"n": 0}

        def broken(data: bytes) -> list:
            calls["n"] += 1
            if calls["n"] == 1:
                raise RuntimeError("injected decoder fault")
            return feed(data)

        link._decoder.feed = broken  # type: ignore[method-assign]
        error = log.wait(lambda e: isinstance(e, ErrorReported))
        assert error.kind == "internal" and "injected decoder fault" in error.message
        assert not error.fatal
        log.wait_state(LinkState.DISCONNECTED)
        log.wait_state(LinkState.STREAMING)
        before = log.samples()
        log.wait_samples(before + 100)
        assert link.reader_alive
        assert link.counters()["reader_errors"] == 1
    finally:
        link.close()


def test_a_recording_failure_is_reported_and_the_link_goes_on(
    socket: Socket, tmp_path: Path
) -> None:
    writer = RecordingWriter(tmp_path / "fail.nsrec")
    link, log = make_link(socket, recorder=writer)
    link.open()
    try:
        link.start()
        log.wait_samples(20)

        def broken(data: bytes, t: float | None = None) -> None:
            raise OSError(28, "No space left on device")

        writer.write = broken  # type: ignore[method-assign]
        error = log.wait(lambda e: isinstance(e, ErrorReported))
        assert error.kind == "recording" and "No space left" in error.message
        before = log.samples()
        log.wait_samples(before + 50)
        assert link.detach_recorder() is None
        assert link.counters()["recording_errors"] == 1
    finally:
        link.close()
        writer.close()


def test_a_recorder_attached_later_gets_the_info_in_its_header(
    socket: Socket, tmp_path: Path
) -> None:
    link, log = make_link(socket)
    link.open()
    try:
        link.start()
        log.wait_samples(20)
        with RecordingWriter(tmp_path / "late.nsrec") as writer:
            link.attach_recorder(writer)
            log.wait_samples(log.samples() + 50)
            assert link.detach_recorder() is writer
    finally:
        link.close()
    capture = load_capture(tmp_path / "late.nsrec")
    assert capture.header["info"] == socket.rig.info.to_dict()
    assert capture.stream.sample_rate_hz == 1000 and capture.stream.samples >= 40


def test_a_replay_is_a_passive_source_that_needs_no_answers(tmp_path: Path) -> None:
    path = tmp_path / "src.nsrec"
    rig = ScriptedRig()
    rig.on_open(0.0)
    rig.receive(encode(Start()), 0.0)
    with RecordingWriter(path, info=rig.info) as writer:
        for k in range(1, 41):
            writer.write(rig.poll(k * 0.01), t=k * 0.01)
    link = Link(f"replay://{path}?speed=max")
    log = EventLog(link)
    assert link.passive and not link.reconnect
    assert link.open() is None
    try:
        link.start()  # ignored by the replay, not awaited
        log.wait_samples(400)
        assert link.info == rig.info
    finally:
        link.close()
    assert link.counters()["bytes_received"] == len(bytes(rig.sent))


class SteppedClock:
    """A monotonic clock a test moves forward at will (on top of real time)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


def test_the_links_clock_is_injectable_so_silence_is_found_without_waiting(
    socket: Socket,
) -> None:
    """Issue 10: time-outs read the injected clock, so a test moves time instead of sleeping."""
    clock = SteppedClock()
    link, log = make_link(socket, clock=clock, silence_s=60.0)
    link.open()
    try:
        link.start()
        log.wait_samples(50)
        socket.rig.silent = True
        clock.advance(61.0)  # a minute of silence, in no time
        silent = log.wait_state(LinkState.SILENT)
        assert "60 s" in silent.detail
        assert silent.t >= time.monotonic() + 60.0  # events carry the injected clock's time
    finally:
        link.close()


def test_the_serial_devices_clock_is_injectable(socket: Socket) -> None:
    """The device behind a pyserial port reads its time from the port's clock."""
    clock = SteppedClock()
    socket.clock = clock
    link, log = make_link(socket)
    link.open()
    try:
        link.start()
        log.wait_samples(10)
        before = log.samples()
        clock.advance(0.5)  # half a second of the rig's time: 500 samples at 1 kHz at once
        log.wait_samples(before + 500, timeout=1.0)
    finally:
        link.close()


def test_state_changes_reconnects_and_recording_problems_are_logged(
    socket: Socket, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 10 §3: what a support person needs is in the log (never a name)."""
    caplog.set_level(logging.INFO, logger="firmware_bridge")
    writer = RecordingWriter(tmp_path / "log.nsrec")
    link, log = make_link(socket, recorder=writer)
    link.open()
    try:
        link.start()
        log.wait_samples(20)
        socket.unplug()
        log.wait_state(LinkState.RECONNECTING)
        socket.plug(ScriptedRig(serial="NR-0001"))
        log.wait_state(LinkState.STREAMING)

        def broken(data: bytes, t: float | None = None) -> None:
            raise OSError(28, "No space left on device")

        writer.write = broken  # type: ignore[method-assign]
        log.wait(lambda e: isinstance(e, ErrorReported))
    finally:
        link.close()
        writer.close()
    text = "\n".join(f"{r.name} {r.levelname} {r.getMessage()}" for r in caplog.records)
    assert "firmware_bridge.link INFO link rig://test: idle -> streaming" in text
    assert "-> disconnected" in text and "reconnected to NR-0001" in text
    assert "firmware_bridge.recording_tee ERROR recording stopped" in text
    assert "firmware_bridge.link WARNING link rig://test: recording stopped" in text
