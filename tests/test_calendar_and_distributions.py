"""Working days on the real calendar, and the distributions durations are drawn from."""

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from workforce_sim.scenario.calendar import WorkingCalendar, england_bank_holidays, weeks_for_years
from workforce_sim.scenario.distributions import Empirical, Exponential, Fixed, Gamma, LogNormal, Uniform


def test_bank_holidays_include_moved_and_one_off_days():
    h = set(england_bank_holidays(2019, 2023))
    assert dt.date(2020, 5, 8) in h and dt.date(2020, 5, 4) not in h  # VE Day moved the May holiday
    assert dt.date(2022, 9, 19) in h  # state funeral
    assert dt.date(2019, 12, 25) in h and dt.date(2019, 12, 26) in h


def test_week_bounds_count_working_days():
    cal = WorkingCalendar(dt.date(2019, 12, 23), 2)  # Monday before Christmas
    assert list(cal.week_bounds) == [0, 3, 7]  # 25, 26 Dec and 1 Jan are holidays
    year = WorkingCalendar(dt.date(2019, 1, 1), weeks_for_years(1))
    assert 250 <= year.horizon <= 254


@given(st.dates(dt.date(2015, 1, 1), dt.date(2030, 1, 1)), st.integers(1, 300))
@settings(max_examples=30, deadline=None)
def test_week_bounds_increase_by_at_most_five(start, n):
    b = WorkingCalendar(start, n).week_bounds
    d = np.diff(b)
    assert b[0] == 0 and np.all(d >= 1) and np.all(d <= 5)


DISTS = [Exponential(dist="exponential", mean=4.0), Gamma(dist="gamma", mean=20.0, cv=0.6),
         LogNormal(dist="lognormal", mean=10.0, cv=1.2), Fixed(dist="fixed", value=3.0),
         Uniform(dist="uniform", low=2.0, high=52.0),
         Empirical(dist="empirical", edges=[0, 1, 10, 45, 90], weights=[1, 5, 10, 2])]


@pytest.mark.parametrize("d", DISTS, ids=lambda d: d.dist)
def test_distribution_means_match_their_stated_mean(d):
    x = d.sample(np.random.default_rng(0), 200_000)
    assert abs(x.mean() - d.mean_value) < 0.02 * d.mean_value + 1e-9
    assert abs(d.frozen().mean() - d.mean_value) < 0.01 * d.mean_value + 1e-6


@pytest.mark.parametrize("d", [x for x in DISTS if x.dist != "fixed"], ids=lambda d: d.dist)
def test_residual_durations_are_the_conditional_tail(d):
    """Items already `e` into their duration: remaining time follows D - e given D > e."""
    rng = np.random.default_rng(1)
    e = float(d.frozen().ppf(0.4))
    rest = d.sample_residual(rng, np.full(100_000, e))
    x = d.sample(rng, 400_000)
    tail = x[x > e] - e
    assert np.all(rest > 0)
    assert abs(rest.mean() - tail.mean()) < 0.03 * tail.mean()
