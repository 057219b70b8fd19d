"""The model's clock: SimPy's environment, with the steps every event takes made cheap.

Nearly every event in a replication is a timeout with one callback (an assessment's work done, a plan's
end, a worker's notice served). :func:`call_after` schedules one where ``env.timeout(delay,
value).callbacks.append(callback)`` would (the same time, priority and number, so the same place in the
queue), as a :class:`Due`: one small object that is both the queue's entry and the event its callback reads.
:class:`Clock` is SimPy's environment, its fields (the time, the queue, the count of events scheduled) read
directly by compiled code; SimPy's own events and processes run on it as on SimPy's, each held in the queue
by a :class:`Due` without a callback. The queue is ordered as SimPy orders its entries (time, priority, then
the order in which they were scheduled) and every entry's number is unique, so events are processed in
SimPy's order. All follows SimPy 4's code statement for statement (pinned below 5 in pyproject.toml);
compiled with the rest of the model's core it runs as C. Steps that repeat (the front door's day, the week's
reading of the stocks) are chains of such events begun with :func:`call_first`, scheduled where a SimPy
process of the same steps would schedule its events. tests/test_clock.py checks them against SimPy's.
"""

from __future__ import annotations

from heapq import heappop, heappush
from typing import Any, Callable, Final, Optional

from simpy.core import EmptySchedule, Infinity, StopSimulation
from simpy.events import NORMAL, URGENT, AllOf, AnyOf, Event, EventPriority, Process, Timeout

# compiled, the queue's heap is kept by the functions below (heapq's algorithm, comparing two entries' fields in
# C); run from the Python source, by heapq itself (in C, comparing with Due.__lt__). The same algorithm on the same
# order gives the same heap, entry for entry.
_COMPILED: Final = not __file__.endswith(".py")
_NORMAL: Final = 1  # SimPy's NORMAL and URGENT, as constants compiled code need not look up
_URGENT: Final = 0
assert (_NORMAL, _URGENT) == (NORMAL, URGENT)


class Due:
    """An entry of the clock's queue, ordered as SimPy orders its entries, ``(time, priority, eid)``. An event made by
    :func:`call_after` is its own entry: its callback reads the ``value`` it carries. A SimPy event is held by one
    without a callback, as its ``value``."""

    __slots__ = ("t", "priority", "eid", "callback", "value")

    def __init__(self, t: float, priority: int, eid: int, callback: Optional[Callable[[Any], Any]], value: Any) -> None:
        self.t = t
        self.priority = priority
        self.eid = eid
        self.callback = callback
        self.value = value

    def __lt__(self, other: Due) -> bool:
        """:func:`_before`, written out: heapq calls it at every comparison when the model runs from its source."""
        if self.t != other.t:
            return self.t < other.t
        if self.priority != other.priority:
            return self.priority < other.priority
        return self.eid < other.eid


def _before(a: Due, b: Due) -> bool:
    """Whether ``a`` comes before ``b``: SimPy's order of ``(time, priority, eid, event)`` tuples, item by item (each
    eid is unique). (A function, so that compiled code calls it directly, where ``a < b`` goes through Python.)"""
    if a.t != b.t:
        return a.t < b.t
    if a.priority != b.priority:
        return a.priority < b.priority
    return a.eid < b.eid


class Clock:
    """SimPy 4's ``Environment`` (time in working days), as a class of the model's own whose fields (the time, the
    queue, the count of events scheduled) compiled code reads directly: SimPy's events and processes use it as
    they use SimPy's (they ask it only for ``schedule``, ``now``, ``active_process`` and ``_active_proc``). It also
    says how many events it has processed."""

    def __init__(self, initial_time: float = 0.0) -> None:
        self._now: float = float(initial_time)
        self._queue: list[Due] = []
        self._eid: int = 0  # events scheduled so far: SimPy numbers each event as it schedules it (its ``_eid``)
        self._active_proc: Any = None

    @property
    def now(self) -> float:
        """The current simulation time."""
        return self._now

    @property
    def active_process(self) -> Any:
        """The process being run now, if any (SimPy's)."""
        return self._active_proc

    @property
    def processed(self) -> int:
        """Events processed so far: every event scheduled less those still in the queue; counted this way, not one
        by one, so that a step costs nothing extra."""
        return self._eid - len(self._queue)

    def schedule(self, event: Any, priority: int = NORMAL, delay: float = 0) -> None:
        """Schedule ``event`` with ``priority`` after ``delay`` (SimPy's, statement for statement)."""
        self._put(self._now + delay, priority, None, event)

    def _put(self, t: float, priority: int, callback: Optional[Callable[[Any], Any]], value: Any) -> None:
        """Queue an entry at time ``t``, numbered in the order entries are scheduled (SimPy's eid)."""
        _push(self._queue, Due(t, priority, self._eid, callback, value))
        self._eid += 1

    def peek(self) -> float:
        """The time of the next scheduled event, or infinity (SimPy's)."""
        try:
            return self._queue[0].t
        except IndexError:
            return Infinity

    def process(self, generator: Any) -> Process:
        """A new SimPy process running ``generator``."""
        return Process(self, generator)  # type: ignore[arg-type]

    def timeout(self, delay: float = 0, value: Any = None) -> Timeout:
        """A SimPy timeout of ``delay``."""
        return Timeout(self, delay, value)  # type: ignore[arg-type]

    def event(self) -> Event:
        """A new SimPy event."""
        return Event(self)  # type: ignore[arg-type]

    def all_of(self, events: Any) -> AllOf:
        """A SimPy condition met when all ``events`` are."""
        return AllOf(self, events)  # type: ignore[arg-type]

    def any_of(self, events: Any) -> AnyOf:
        """A SimPy condition met when any of ``events`` is."""
        return AnyOf(self, events)  # type: ignore[arg-type]

    def step(self) -> None:
        """Process the next event: SimPy 4's ``Environment.step``, statement for statement."""
        self._step(self._queue)

    def _step(self, queue: list[Due]) -> None:
        try:
            due = _pop(queue)
        except IndexError:
            raise EmptySchedule from None
        self._now = due.t
        if due.callback is not None:  # SimPy's statements for an event with one callback (it is always ok)
            self._fire(due)
        else:
            self._process(due.value)

    def run(self, until: Any = None) -> Any:
        """SimPy 4's ``Environment.run``, statement for statement, its loop compiled with the rest of the clock."""
        if until is not None:
            if not isinstance(until, Event):
                at = until if isinstance(until, int) else float(until)
                if at <= self.now:
                    raise ValueError(f"until ({at}) must be greater than the current simulation time")
                until = Event(self)  # type: ignore[arg-type]
                until._ok = True
                until._value = None
                self.schedule(until, URGENT, at - self.now)
            elif until.callbacks is None:
                return until.value
            until.callbacks.append(StopSimulation.callback)
        queue = self._queue
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
        callback = due.callback
        assert callback is not None
        due.callback = None  # (processed, as SimPy marks an event)
        try:
            callback(due)
        except StopSimulation:  # SimPy schedules it again (priority -1, now) with the callbacks not yet run: none
            self._put(self._now, -1, _nothing, due.value)
            raise


def call_after(env: Clock, delay: float, callback: Callable[[Any], Any], value: Any = None) -> None:
    """``callback(event)`` in ``delay`` working days, the event (a :class:`Due`) carrying ``value``: scheduled as
    SimPy's ``Timeout`` constructor schedules one."""
    if delay < 0:
        raise ValueError(f"Negative delay {delay}")
    # a Python float, not a numpy scalar, as the time (``delay`` is typed float): the queue's comparisons and the
    # model's arithmetic on it stay on plain floats (the same value)
    env._put(float(env._now + delay), _NORMAL, callback, value)


def call_first(env: Clock, callback: Callable[[Any], Any], value: Any = None) -> None:
    """``callback(event)`` now, before the events of this moment scheduled as usual: scheduled as SimPy schedules the
    start of a new process (urgent, now). A chain of steps begun with it, each scheduling the next with
    :func:`call_after` once its work is done and ending with :func:`chain_ended`, runs in the order a SimPy process
    of the same steps would (one event a step, fewer calls)."""
    env._put(env._now, _URGENT, callback, value)


def chain_ended(env: Clock) -> None:
    """What SimPy schedules when a process returns, for a chain of steps begun with :func:`call_first`: the
    process's own event, now (nothing waits for it)."""
    env._put(env._now, _NORMAL, _nothing, None)


def _nothing(event: Any) -> None:
    pass


def _push(heap: list[Due], item: Due) -> None:
    if _COMPILED:
        heap_push(heap, item)
    else:
        heappush(heap, item)


def _pop(heap: list[Due]) -> Due:
    return heap_pop(heap) if _COMPILED else heappop(heap)


def heap_push(heap: list[Due], item: Due) -> None:
    """heapq.heappush, statement for statement (tests/test_clock.py compares the heaps entry for entry)."""
    heap.append(item)
    _sift_down(heap, 0, len(heap) - 1)


def heap_pop(heap: list[Due]) -> Due:
    """heapq.heappop, statement for statement (IndexError when empty)."""
    last = heap.pop()
    if heap:
        first = heap[0]
        heap[0] = last
        _sift_up(heap, 0)
        return first
    return last


def _sift_down(heap: list[Due], start: int, pos: int) -> None:
    """heapq's _siftdown: the entry at ``pos`` moves up towards ``start`` past every parent it comes before."""
    item = heap[pos]
    while pos > start:
        parent_pos = (pos - 1) >> 1
        parent = heap[parent_pos]
        if _before(item, parent):
            heap[pos] = parent
            pos = parent_pos
            continue
        break
    heap[pos] = item


def _sift_up(heap: list[Due], pos: int) -> None:
    """heapq's _siftup: the smaller child moves up until a leaf is reached, then the entry at ``pos`` sifts down."""
    end = len(heap)
    start = pos
    item = heap[pos]
    child = 2 * pos + 1
    while child < end:
        right = child + 1
        if right < end and not _before(heap[child], heap[right]):
            child = right
        heap[pos] = heap[child]
        pos = child
        child = 2 * pos + 1
    heap[pos] = item
    _sift_down(heap, start, pos)
