"""The interactive calibration procedure on a terminal: the operator's console
(messages, one updating line, answers read in a thread), the rig's readings, and
the loop that drives a :class:`calibration.procedure.Procedure` with both.

Everything the procedure decides is in the calibration package, so the app's
wizard behaves the same; this module only carries readings and answers to it.
"""

from __future__ import annotations

import contextlib
import queue
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any, TextIO

from calibration.procedure import Phase, Procedure, ProcedureEvent
from calibration.settle import Assessment, Stability

POLL_S = 0.05
_EOF = object()


@contextlib.contextmanager
def rig_readings(port: str, expected_serial: str | None = None) -> Iterator[Any]:
    """The rig's readings, streaming until the block ends (however it ends)."""
    import calibration.live as live  # the serial link: only when a rig is asked for

    readings = live.LiveReadings(port, expected_serial=expected_serial)
    readings.open()
    try:
        yield readings
    finally:
        readings.close()


class Console:
    """Operator I/O: messages, a live line (terminals only) and non-blocking answers.

    One ``input()`` runs in a thread per question, so readings keep flowing
    (and the live line keeps moving) while the operator hangs a mass.
    """

    def __init__(
        self,
        out: TextIO | None = None,
        input_fn: Callable[[], str] | None = None,
        live: bool | None = None,
    ) -> None:
        self.out = out or sys.stdout
        self._input = input_fn or (lambda: input())
        self.live = self.out.isatty() if live is None else live
        self._answers: queue.Queue[object] = queue.Queue()
        self._asking = False
        self._live_shown = False

    @property
    def asking(self) -> bool:
        return self._asking

    def say(self, text: str) -> None:
        self._clear_live()
        print(text, file=self.out, flush=True)

    def show_live(self, text: str) -> None:
        if self.live:
            self.out.write("\r\x1b[K" + text)
            self.out.flush()
            self._live_shown = True

    def ask(self, prompt: str) -> None:
        """Show ``prompt`` and start waiting for one line (see :meth:`answer`)."""
        self._discard_typeahead()
        self.say(prompt)
        self._asking = True
        threading.Thread(target=self._read, name="operator input", daemon=True).start()

    def answer(self) -> object | None:
        """The operator's line (stripped, lower case), ``_EOF`` or None if none yet."""
        try:
            line = self._answers.get_nowait()
        except queue.Empty:
            return None
        self._asking = False
        return line

    def _read(self) -> None:
        try:
            line: object = self._input().strip().lower()
        except (EOFError, OSError, ValueError):
            line = _EOF
        self._answers.put(line)

    def _clear_live(self) -> None:
        if self._live_shown:
            self.out.write("\r\x1b[K")
            self._live_shown = False

    def _discard_typeahead(self) -> None:
        """Keys pressed while nothing was asked must not answer the next question."""
        with contextlib.suppress(Exception):
            import termios

            if sys.stdin.isatty():
                termios.tcflush(sys.stdin, termios.TCIFLUSH)


_STATUS_WORDS = {
    Stability.NO_DATA: "waiting for readings",
    Stability.COLLECTING: "measuring",
    Stability.SETTLED: "STEADY",
    Stability.NOISY: "too noisy",
    Stability.CREEPING: "creeping",
    Stability.JUMP: "jumped",
    Stability.REMOVED_EARLY: "load removed?",
    Stability.NO_CHANGE: "no change yet",
}


def live_text(proc: Procedure) -> str:
    """The one updating line: channel, reading, spread, drift, stability (and ~kg)."""
    step = proc.step
    if step is None:
        return ""
    reading: Assessment = proc.reading
    if reading.mean_counts is None:
        return f"  {step.channel:<5}  {_STATUS_WORDS[reading.status]}"
    text = f"  {step.channel:<5} {reading.mean_counts:12.0f} counts"
    scale = proc.counts_per_kg(step.channel)
    zero = proc.zero_counts(step.channel)
    if scale and zero is not None:
        text += f" (~{(reading.mean_counts - zero) / scale:6.2f} kg)"
    if reading.spread_counts is not None:
        text += f"  spread {reading.spread_counts:5.0f}  drift {reading.slope_counts_per_s:+6.0f}/s"
    word = _STATUS_WORDS[reading.status]
    if reading.status is Stability.COLLECTING:
        word += f" {reading.covered_s:.1f} s"
    return f"{text}  {word}"


def _report(console: Console, events: list[ProcedureEvent]) -> None:
    for event in events:
        if event.kind == "settled":
            console.say(f"  ok   {event.message}")
        elif event.kind in ("accepted_unsettled", "skipped", "retry", "load_detected"):
            console.say(f"  ..   {event.message}")
        elif event.kind in ("done", "aborted"):
            console.say(event.message[:1].upper() + event.message[1:] + ".")
        else:
            console.say(f"  !    {event.message}")


def drive(proc: Procedure, readings: Any, console: Console, poll_s: float = POLL_S) -> None:
    """Run ``proc`` to its end with live readings and the operator's answers."""
    asked: tuple | None = None
    while not proc.finished:
        marker = (proc.phase, proc.progress[0], len(proc.events))
        if proc.phase in (Phase.WAITING, Phase.PROBLEM) and not console.asking and asked != marker:
            asked = marker
            console.ask(_question(proc))
        line = console.answer()
        if line is not None:
            events, understood = _act(proc, line)
            _report(console, events)
            if not understood:
                console.say("  (answer with Enter, or one of the letters shown)")
                asked = None
        chunks, notes = readings.read(poll_s)
        for note in notes:
            console.say(f"  link: {note}")
        for t, counts in chunks:
            _report(console, proc.feed(t, counts))
            if proc.finished:
                break
        console.show_live(live_text(proc))
    console.show_live("")


def _question(proc: Procedure) -> str:
    step = proc.step
    assert step is not None
    done, total = proc.progress
    if proc.phase is Phase.PROBLEM:
        return "  Enter or r = retry, a = accept anyway, s = skip, q = quit:"
    if step.is_zero:
        what = f"{step.instruction}; press Enter when the hook is empty and still"
    else:
        what = f"{step.instruction}; press Enter when it hangs still"
    return f"[{done + 1}/{total}] {what} (s = skip, q = quit)."


def _act(proc: Procedure, line: object) -> tuple[list[ProcedureEvent], bool]:
    if line is _EOF or line in ("q", "quit"):
        return proc.abort(), True
    if line in ("s", "skip"):
        return proc.skip(), True
    if proc.phase is Phase.WAITING:
        if line == "":
            return proc.accept(), True
        return [], False
    if line in ("", "r", "retry"):
        return proc.retry(), True
    if line in ("a", "accept"):
        return proc.accept(), True
    return [], False
