"""The weekly step's shortcuts give numpy's answers bit for bit: the 90th-percentile caseload worked out on a sorted
array is np.percentile's, and the front door's count of returning contacts due is the count of every one due.

Both stand in for numpy calls only to save their overhead, so a numpy that changed its percentile's arithmetic
(or a change here) would move results without this failing loudly elsewhere."""

from __future__ import annotations

import heapq

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from workforce_sim.model.demand import due_in_heap
from workforce_sim.model.workforce import pairwise_sum, percentile_of_sorted


def _arrays(rng: np.random.Generator):
    """Caseloads per FTE as the model makes them (whole cases over part-time FTEs), and other awkward values."""
    for _ in range(400):
        n = int(rng.integers(1, 200))
        yield rng.integers(0, 30, n) / rng.choice([1.0, 0.9, 0.8, 0.7, 0.6, 0.5], n)
        yield rng.random(n) * 10.0 ** int(rng.integers(-6, 6))
        yield rng.standard_normal(n) * 1e3
        yield np.full(n, rng.random())
        with np.errstate(divide="ignore"):
            yield rng.integers(1, 30, n) / rng.choice([1.0, 0.0], n)  # infinities


@pytest.mark.parametrize("q", [90, 0, 10, 50, 75, 99, 100])
def test_the_percentile_of_a_sorted_array_is_numpys_bit_for_bit(q):
    for values in _arrays(np.random.default_rng(q)):
        with np.errstate(invalid="ignore"):  # inf - inf in numpy's interpolation, as in ours
            want = np.float64(np.percentile(values, q))
        got = np.float64(percentile_of_sorted(np.sort(values), q))
        assert got.tobytes() == want.tobytes(), (q, values)


def test_the_returning_contacts_due_in_the_heap_are_every_one_due():
    rng = np.random.default_rng(3)
    for _ in range(300):
        heap: list[tuple[float, int, int]] = []
        for k in range(int(rng.integers(0, 60))):
            heapq.heappush(heap, (float(rng.integers(0, 40)) / 4, k, k))
        for _ in range(int(rng.integers(0, 10))):
            if heap:
                heapq.heappop(heap)
        for t in (-1.0, 0.0, 2.5, 5.0, 7.75, 100.0):
            assert due_in_heap(heap, t) == sum(1 for r in heap if r[0] <= t)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6), max_size=300))
def test_the_weekly_steps_sum_is_numpys_bit_for_bit(values):
    """The weekly reading of the staff sums each group's FTE with pairwise_sum, not numpy: the same bits."""
    assert pairwise_sum(values).hex() == float(np.sum(np.array(values, dtype=float))).hex()


def test_the_weekly_steps_sum_is_numpys_at_every_size():
    rng = np.random.default_rng(7)
    for n in range(0, 301):
        for _ in range(5):
            fte = rng.choice([1.0, 0.8, 0.6, 0.5, 0.9, 0.4, 0.7], size=n) * rng.choice([1.0, 1.1, 0.37])
            assert pairwise_sum(fte.tolist()).hex() == float(fte.sum()).hex(), n


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([-1.0, 0.0, 0.5, 4.999, 5.0, 7.25, 9.0, 13.0, 14.0, 14.5]) | st.floats(-2, 16),
                max_size=80))
def test_a_histogram_of_sorted_values_is_numpys(values):
    """The front door counts its contacts (in order of arrival) by week without np.histogram's sort: the same counts,
    values on an edge in the later week, on the last edge in the last week, those outside in none."""
    from workforce_sim.model.demand import histogram_of_sorted
    edges = np.array([0.0, 5.0, 9.0, 14.0])
    ordered = np.sort(np.array(values, dtype=float))
    np.testing.assert_array_equal(histogram_of_sorted(ordered, edges), np.histogram(ordered, bins=edges)[0])
