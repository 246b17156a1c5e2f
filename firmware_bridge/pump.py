"""One event pump: a Link's events drained on one thread and handed to listeners.

A :class:`~firmware_bridge.link.Link` puts everything it has to say (sample
blocks, messages, state changes, errors, counter snapshots) on one queue.
Every consumer (the app's acquisition, the calibration readings of the CLI)
used to write its own loop over that queue; this module is the one loop,
modelled on python-can's ``Notifier`` and ``Listener``:

- a :class:`Listener` gets each event in stream order (``on_event``, or the
  typed ``on_blocks``/``on_received``/``on_state``/``on_link_error``/
  ``on_counters`` it calls), then ``on_batch_end`` once everything queued so
  far has been handed over (where a GUI wakes up once per batch);
- :class:`EventPump` drains the queue either on its own thread
  (:meth:`EventPump.start`/:meth:`EventPump.stop`) or, for a caller that
  wants to pull, on the caller's thread (:meth:`EventPump.pump_once`);
- a listener that raises does not stop the pump nor the other listeners: the
  failure is logged and handed to the error listener (``on_error``).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
from collections.abc import Callable, Iterable
from typing import Protocol

from firmware_bridge.link import (
    Blocks,
    CountersSnapshot,
    ErrorReported,
    LinkEvent,
    Received,
    StateChanged,
)

log = logging.getLogger(__name__)

WAIT_S = 0.1  # how long the pump thread waits for an event before checking for stop
STOP_TIMEOUT_S = 2.0


class EventSource(Protocol):
    """What the pump reads: a :class:`~firmware_bridge.link.Link`, or a stand-in in tests."""

    @property
    def events(self) -> queue.Queue[LinkEvent]: ...


class Listener:
    """Receives a Link's events from an :class:`EventPump`; override what you need.

    Methods are called on the pump's thread (or the thread calling
    :meth:`EventPump.pump_once`), one event at a time, in stream order.
    """

    def on_event(self, event: LinkEvent) -> None:
        """Every event; by default passed on to the typed method for its kind."""
        if isinstance(event, Blocks):
            self.on_blocks(event)
        elif isinstance(event, Received):
            self.on_received(event)
        elif isinstance(event, StateChanged):
            self.on_state(event)
        elif isinstance(event, ErrorReported):
            self.on_link_error(event)
        elif isinstance(event, CountersSnapshot):
            self.on_counters(event)

    def on_blocks(self, event: Blocks) -> None:
        """Sample blocks decoded from one read."""

    def on_received(self, event: Received) -> None:
        """Another message from the rig (INFO, EVENT, HEARTBEAT, ACK)."""

    def on_state(self, event: StateChanged) -> None:
        """The link's state changed."""

    def on_link_error(self, event: ErrorReported) -> None:
        """The link reported a problem (``event.fatal``: it has stopped for good)."""

    def on_counters(self, event: CountersSnapshot) -> None:
        """The decoder's and the link's counters (every 0.5 s and at close)."""

    def on_batch_end(self) -> None:
        """Everything queued so far has been handed over."""

    def stop(self) -> None:
        """The pump has stopped: nothing more will come."""


ErrorListener = Callable[[Listener, LinkEvent | None, Exception], None]


class EventPump:
    """Drains ``source.events`` and dispatches each event to every listener.

    ``on_error(listener, event, exc)`` is told when a listener raises (the
    event is None when it was ``on_batch_end`` or ``stop`` that raised); the
    pump logs the failure and goes on with the next listener and event.
    """

    def __init__(
        self,
        source: EventSource,
        listeners: Iterable[Listener] = (),
        *,
        on_error: ErrorListener | None = None,
        name: str | None = None,
    ) -> None:
        self.source = source
        self.listeners: list[Listener] = list(listeners)
        self.on_error = on_error
        self.name = name or f"event pump {getattr(source, 'port', '')}".strip()
        self.events_handled = 0
        self.listener_errors = 0
        self._busy = threading.Lock()  # one drain at a time: events stay in order
        self._in_hand = 0  # taken off the queue, not yet handed to every listener
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    # -- life cycle -------------------------------------------------------------------
    def add_listener(self, listener: Listener) -> None:
        self.listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        self.listeners.remove(listener)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def idle(self) -> bool:
        """Nothing waits on the queue and nothing is being handed over right now."""
        return self._in_hand == 0 and self.source.events.empty()

    def start(self) -> EventPump:
        """Drain on a thread of the pump's own until :meth:`stop`."""
        if self._thread is not None:
            raise RuntimeError(f"{self.name} was already started")
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()
        log.debug("%s started with %d listener(s)", self.name, len(self.listeners))
        return self

    def stop(self, *, flush: bool = True, timeout: float = STOP_TIMEOUT_S) -> None:
        """Stop the thread; ``flush`` hands over what is still queued (on this thread) first.

        ``timeout``: how long to wait for the thread (0: do not wait; it ends
        after its current wait of at most 0.1 s, handing over at most the batch
        it has in hand).  Listeners' ``stop`` is called last.  Safe to call
        more than once.
        """
        self._stopping.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread() and timeout > 0:
            thread.join(timeout)  # timeout 0: the thread ends by itself after its current wait
            if thread.is_alive():
                log.warning("%s did not stop within %.1f s", self.name, timeout)
        if flush:
            self.pump_once(0.0)
        for listener in list(self.listeners):
            self._call(listener, None, listener.stop)

    def __enter__(self) -> EventPump:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- draining ---------------------------------------------------------------------
    def pump_once(self, timeout_s: float = 0.0) -> int:
        """Wait up to ``timeout_s`` for an event, hand over all that are queued; how many.

        For a caller that pulls on its own thread (no :meth:`start`), and the
        pump thread's own step.
        """
        events = self.source.events
        with self._busy:
            try:
                first = events.get(timeout=timeout_s) if timeout_s > 0 else events.get_nowait()
            except queue.Empty:
                return 0
            self._in_hand = 1
            try:
                count = 0
                event: LinkEvent | None = first
                while event is not None:
                    self._dispatch(event)
                    count += 1
                    event = None
                    with contextlib.suppress(queue.Empty):
                        event = events.get_nowait()
                for listener in list(self.listeners):
                    self._call(listener, None, listener.on_batch_end)
            finally:
                self._in_hand = 0
            return count

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.pump_once(WAIT_S)
            except Exception:  # the pump itself must never die silently
                log.exception("%s: unexpected error while draining", self.name)

    def _dispatch(self, event: LinkEvent) -> None:
        self.events_handled += 1
        for listener in list(self.listeners):
            self._call(listener, event, listener.on_event, event)

    def _call(
        self,
        listener: Listener,
        event: LinkEvent | None,
        method: Callable[..., None],
        *args: object,
    ) -> None:
        try:
            method(*args)
        except Exception as exc:
            self.listener_errors += 1
            what = type(event).__name__ if event is not None else method.__name__
            log.exception("%s: listener %s failed on %s", self.name, type(listener).__name__, what)
            if self.on_error is not None:
                try:
                    self.on_error(listener, event, exc)
                except Exception:
                    log.exception("%s: the error listener failed too", self.name)


__all__ = ["EventPump", "EventSource", "Listener"]
