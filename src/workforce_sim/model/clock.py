"""The model's clock: SimPy's environment, with the two steps every event takes made cheap.

Nearly every event in a replication is a timeout with one callback (an assessment's work done, a plan's
end, a worker's notice served). :func:`call_after` schedules one where ``env.timeout(delay,
value).callbacks.append(callback)`` would (the same priority and place in SimPy's queue), as a small
:class:`Due` event with the fields SimPy's step reads (so a plain SimPy environment processes it too),
and :class:`Clock` processes events with SimPy's own step, a :class:`Due` without SimPy's generic
machinery. Both follow SimPy 4's code statement for statement (pinned below 5 in pyproject.toml); compiled
with the rest of the model's core they run as C. Steps that repeat (the front door's day, the week's
reading of the stocks) are chains of such events begun with :func:`call_first`, scheduled where a SimPy
process of the same steps would schedule its events. tests/test_clock.py checks them against SimPy's.
"""

from __future__ import annotations

import copy
from heapq import heappop, heappush
from typing import Any, Callable, Optional

import simpy
from simpy.core import EmptySchedule, StopSimulation
from simpy.events import NORMAL, URGENT, Event, EventPriority


class Due:
    """An event made by :func:`call_after`: the fields SimPy's step reads of a timeout (``callbacks``, ``_ok``) and
    the ``value`` its callback reads, so that it costs a small object rather than SimPy's event to make and to read."""

    __slots__ = ("callbacks", "value", "_ok")

    def __init__(self, callback: Callable[[Any], Any], value: Any) -> None:
        self.callbacks: Optional[list[Callable[[Any], Any]]] = [callback]
        self.value = value
        self._ok = True


class Clock(simpy.Environment):
    """A SimPy environment (time in working days) that also says how many events it has processed."""

    def step(self) -> None:
        """Process the next event: SimPy 4's ``Environment.step``, statement for statement."""
        self._step(self._queue)

    def _step(self, queue: list[Any]) -> None:
        try:
            entry: tuple[Any, Any, Any, Any] = heappop(queue)  # (typed: its items read directly, not iterated)
        except IndexError:
            raise EmptySchedule from None
        self._now = entry[0]
        event = entry[3]
        popped: object = event  # (typed apart from SimPy's Event, so that a Due's fields are read directly)
        if isinstance(popped, Due):  # the same statements, on a Due's own fields (it is always ok)
            self._fire(popped)
        else:
            self._process(event)

    def run(self, until: Any = None) -> Any:
        """SimPy 4's ``Environment.run``, statement for statement, its loop compiled with the rest of the clock (SimPy's
        looks up and calls :meth:`step` from Python at every event)."""
        if until is not None:
            if not isinstance(until, Event):
                at = until if isinstance(until, int) else float(until)
                if at <= self.now:
                    raise ValueError(f"until ({at}) must be greater than the current simulation time")
                until = Event(self)
                until._ok = True
                until._value = None
                self.schedule(until, URGENT, at - self.now)
            elif until.callbacks is None:
                return until.value
            until.callbacks.append(StopSimulation.callback)
        queue: list[Any] = self._queue
        try:
            while True:
                self._step(queue)
        except StopSimulation as exc:
            return exc.args[0]
        except EmptySchedule:
            if until is not None:
                assert not until.triggered
                raise RuntimeError(f'No scheduled events left but "until" event was not triggered: {until}') from None
        return None

    def _process(self, event: Any) -> None:
        """The rest of :meth:`step` for SimPy's own events."""
        callbacks, event.callbacks = event.callbacks, None  # (as SimPy does)
        try:
            for callback in callbacks:
                callback(event)
        except StopSimulation:
            event.callbacks = callbacks[callbacks.index(callback) + 1:]
            self.schedule(event, EventPriority(-1))
            raise
        if not event._ok and not hasattr(event, "_defused"):
            exc = type(event._value)(*event._value.args)
            exc.__cause__ = event._value
            raise exc

    def _fire(self, due: Due) -> None:
        callbacks = due.callbacks
        due.callbacks = None
        if callbacks is None:
            return
        try:
            for callback in callbacks:
                callback(due)
        except StopSimulation:
            due.callbacks = callbacks[callbacks.index(callback) + 1:]
            self.schedule(due, EventPriority(-1))  # type: ignore[arg-type]
            raise

    @property
    def now(self) -> float:
        """The current simulation time (SimPy's property, compiled with the clock: read at nearly every event)."""
        return float(self._now)

    @property
    def processed(self) -> int:
        """Events processed so far: every event scheduled (SimPy numbers them as it schedules them) less those
        still in the queue; counted this way, not one by one, so that a step costs nothing extra."""
        return next(copy.copy(self._eid)) - len(self._queue)


def call_after(env: simpy.Environment, delay: float, callback: Callable[[Any], Any], value: Any = None) -> None:
    """``callback(event)`` in ``delay`` working days, the event (a :class:`Due`) carrying ``value``: scheduled as
    SimPy's ``Timeout`` constructor schedules one."""
    if delay < 0:
        raise ValueError(f"Negative delay {delay}")
    queue: list[Any] = env._queue  # (a Due stands where SimPy's queue expects its Event)
    # a Python float, not a numpy scalar, as the time: the queue's comparisons and the model's arithmetic on it
    # stay on plain floats (the same value)
    # (``env._now``, the value ``env.now`` gives, read without the property)
    heappush(queue, (float(env._now + delay), NORMAL, next(env._eid), Due(callback, value)))


def call_first(env: simpy.Environment, callback: Callable[[Any], Any], value: Any = None) -> None:
    """``callback(event)`` now, before the events of this moment scheduled as usual: scheduled as SimPy schedules the
    start of a new process (urgent, now). A chain of steps begun with it, each scheduling the next with
    :func:`call_after` once its work is done and ending with :func:`chain_ended`, runs in the order a SimPy process
    of the same steps would (one event a step, fewer calls)."""
    queue: list[Any] = env._queue
    heappush(queue, (env._now, URGENT, next(env._eid), Due(callback, value)))


def chain_ended(env: simpy.Environment) -> None:
    """What SimPy schedules when a process returns, for a chain of steps begun with :func:`call_first`: the
    process's own event, now (nothing waits for it)."""
    queue: list[Any] = env._queue
    heappush(queue, (env._now, NORMAL, next(env._eid), Due(_nothing, None)))


def _nothing(event: Any) -> None:
    pass
