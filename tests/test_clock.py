"""The model's clock (model/clock.py) schedules and processes events exactly as SimPy does."""

import heapq

import pytest
import simpy
from hypothesis import given, settings, strategies as st

from workforce_sim.model.clock import Clock, Due, call_after, call_first, chain_ended, heap_pop, heap_push


def _trace(env, schedule) -> list:
    """Events at equal and different times, made by ``schedule(env, delay, callback, value)``; the order they fire."""
    fired = []

    def note(ev):
        fired.append((env.now, ev.value))
        if ev.value == "b":  # an event made while events are being processed
            schedule(env, 0.0, note, "b-child")

    def proc():
        yield env.timeout(1.0)
        fired.append((env.now, "process"))
        schedule(env, 0.5, note, "from process")

    # "at until": due exactly when the run stops, so never fired (SimPy's stop is urgent at that moment)
    for delay, value in ((2.0, "a"), (1.0, "b"), (1.0, "c"), (0.0, "d"), (2.0, "e"), (3.0, "at until")):
        schedule(env, delay, note, value)
    env.process(proc())
    env.run(until=3.0)
    return fired


def _simpy_way(env, delay, callback, value):
    env.timeout(delay, value=value).callbacks.append(callback)


def test_call_after_and_the_clock_fire_events_in_simpys_order():
    want = _trace(simpy.Environment(), _simpy_way)
    assert len(want) == 8
    assert _trace(Clock(), call_after) == want
    assert _trace(Clock(), _simpy_way) == want  # SimPy's own timeouts and processes run on the clock as on SimPy's


class _StepCounting(simpy.Environment):
    def __init__(self):
        super().__init__()
        self.steps = 0

    def step(self):
        self.steps += 1
        super().step()


def test_the_clock_counts_the_events_it_processed():
    counted = _StepCounting()
    _trace(counted, _simpy_way)
    env = Clock()
    _trace(env, call_after)
    assert counted.steps > 8 and env.processed == counted.steps
    assert env.processed == counted.steps  # reading the count does not move it


def test_a_negative_delay_is_refused_as_simpy_refuses_it():
    with pytest.raises(ValueError, match="Negative delay"):
        call_after(Clock(), -1.0, lambda e: None)


def _stopped_and_resumed(env) -> list:
    """An event whose callbacks stop the simulation part-way: the rest run when the simulation resumes."""
    from simpy.core import StopSimulation
    fired = []
    ev = env.timeout(1.0, value="stop")
    ev.callbacks += [lambda e: fired.append("before"), StopSimulation.callback, lambda e: fired.append("after")]
    env.timeout(2.0).callbacks.append(lambda e: fired.append("later"))
    fired.append(env.run())
    fired.append(env.now)
    env.run()
    return fired


def test_a_simulation_stopped_part_way_through_an_events_callbacks_resumes_as_simpys_does():
    want = _stopped_and_resumed(simpy.Environment())
    assert want == ["before", "stop", 1.0, "after", "later"]
    assert _stopped_and_resumed(Clock()) == want


def _steps(env, as_process: bool) -> tuple[list, int]:
    """Three steps a working day apart, each making an event of its own, among events at the same times made before
    and after they begin: as a SimPy process, or as a chain begun with call_first. The order and the count."""
    fired = []

    def note(ev):
        fired.append((env.now, ev.value))

    def work(step):
        fired.append((env.now, f"step {step}"))
        call_after(env, 0.0, note, f"made in step {step}")

    for delay, value in ((0.0, "before, at 0"), (1.0, "before, at 1"), (3.0, "before, at 3")):
        call_after(env, delay, note, value)
    if as_process:
        def proc():
            for step in range(3):
                work(step)
                yield env.timeout(1.0)
        env.process(proc())
    else:
        def chain(ev):
            if ev.value < 3:
                work(ev.value)
                call_after(env, 1.0, chain, ev.value + 1)
            else:
                chain_ended(env)
        call_first(env, chain, 0)
    call_after(env, 0.0, note, "after, at 0")
    env.run(until=5.0)
    return fired, env.processed


def test_a_chain_of_steps_runs_in_the_order_of_a_simpy_process_of_them():
    """The front door's day and the week's reading of the stocks are such chains (fewer calls than a process)."""
    want = _steps(Clock(), as_process=True)
    assert want[0][:2] == [(0.0, "step 0"), (0.0, "before, at 0")]  # a process starts before what is due now
    assert _steps(Clock(), as_process=False) == want


def _stopped_by_a_call(env, schedule) -> list:
    """A callback made with ``schedule`` that stops the simulation: where the clock stands, what it returns, and what
    fires when it resumes."""
    from simpy.core import StopSimulation

    def stop(ev):
        raise StopSimulation(ev.value)

    fired = []
    schedule(env, 1.0, stop, "stopped")
    schedule(env, 1.0, lambda e: fired.append((env.now, "same moment")), None)
    schedule(env, 2.0, lambda e: fired.append((env.now, "later")), None)
    fired.append(env.run())
    fired.append(env.now)
    env.run()
    return fired


def test_a_call_that_stops_the_simulation_stops_it_as_simpys_timeout_would():
    want = _stopped_by_a_call(simpy.Environment(), _simpy_way)
    assert want == ["stopped", 1.0, (1.0, "same moment"), (2.0, "later")]
    env = Clock()
    assert _stopped_by_a_call(env, call_after) == want
    assert env.processed == 4  # the three, and the stopped one again (SimPy schedules it with the callbacks left)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.tuples(st.sampled_from([0.0, 1.0, 2.5, float("nan")]), st.sampled_from([-1, 0, 1])),
                          st.none()), max_size=300))
def test_the_compiled_clocks_heap_is_heapqs_entry_for_entry(steps):
    """The compiled clock keeps its queue with heap_push and heap_pop; run from the Python source it uses heapq.
    Both must leave the same heap, entry for entry, after every step (ties of time and priority, NaN times)."""
    ours: list = []
    theirs: list = []
    for eid, step in enumerate(steps):
        if step is None:  # a pop
            if not theirs:
                with pytest.raises(IndexError):
                    heap_pop(ours)
                continue
            assert heap_pop(ours).eid == heapq.heappop(theirs).eid
        else:
            heap_push(ours, Due(step[0], step[1], eid, None, None))
            heapq.heappush(theirs, Due(step[0], step[1], eid, None, None))
        assert [d.eid for d in ours] == [d.eid for d in theirs]
