"""The model's clock: SimPy's environment, with the two steps every event takes made cheap.

Nearly every event in a replication is a timeout with one callback (an assessment's work done, a plan's
end, a worker's notice served). :func:`call_after` schedules one exactly as ``env.timeout(delay,
value).callbacks.append(callback)`` would (the same event class, fields, priority and place in SimPy's
queue), without the Python-level constructor, and :class:`Clock` processes events with SimPy's own
step. Both follow SimPy 4's code statement for statement (pinned below 5 in pyproject.toml); compiled
with the rest of the model's core they run as C. tests/test_clock.py checks them against SimPy's.
"""

from __future__ import annotations

import copy
from heapq import heappop, heappush
from typing import Any, Callable

import simpy
from simpy.core import EmptySchedule, StopSimulation
from simpy.events import NORMAL, EventPriority, Timeout


class Clock(simpy.Environment):
    """A SimPy environment (time in working days) that also says how many events it has processed."""

    def step(self) -> None:
        """Process the next event: SimPy 4's ``Environment.step``, statement for statement."""
        try:
            self._now, _, _, event = heappop(self._queue)
        except IndexError:
            raise EmptySchedule from None
        callbacks, event.callbacks = event.callbacks, None  # type: ignore[assignment]  # (as SimPy does)
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

    @property
    def processed(self) -> int:
        """Events processed so far: every event scheduled (SimPy numbers them as it schedules them) less those
        still in the queue; counted this way, not one by one, so that a step costs nothing extra."""
        return next(copy.copy(self._eid)) - len(self._queue)


def call_after(env: simpy.Environment, delay: float, callback: Callable[[Any], Any], value: Any = None) -> None:
    """``callback(event)`` in ``delay`` working days, the event carrying ``value``: SimPy's ``Timeout``, made and
    scheduled as its constructor does."""
    if delay < 0:
        raise ValueError(f"Negative delay {delay}")
    ev = Timeout.__new__(Timeout)
    ev.env = env
    ev.callbacks = [callback]
    ev._value = value
    ev._delay = delay
    ev._ok = True
    heappush(env._queue, (env._now + delay, NORMAL, next(env._eid), ev))
