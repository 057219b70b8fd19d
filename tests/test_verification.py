"""Verification against queueing theory: where the right answer is known, the model gives it."""

import math

import numpy as np
import pytest

from workforce_sim import load_scenario
from workforce_sim.analysis.statistics import mean_ci
from workforce_sim.model import simulate
from workforce_sim.scenario.calendar import WorkingCalendar


def erlang_c_wait(lam: float, mean_service: float, c: int) -> float:
    """Mean time in queue (before service) of an M/M/c queue (Erlang C)."""
    a = lam * mean_service
    assert a < c
    top = a ** c / math.factorial(c) * c / (c - a)
    p_wait = top / (sum(a ** k / math.factorial(k) for k in range(c)) + top)
    return p_wait * mean_service / (c - a)


def front_door_only(base: dict, contacts_per_year: float, mean_screening: float, screeners: int):
    zero = {"asye": 0.0, "social_worker": 0.0, "senior_social_worker": 0.0, "team_manager": 0.0}
    base.update({
        "name": "mmc", "open_cases": [], "levers": [],
        "demand": {"trend_per_year": 0.0, "seasonality": [1.0] * 12, "sources": {
            "all": {"contacts_per_year": contacts_per_year, "referral_share": 0.01, "early_help_share": 0.0}}},
        "front_door": {"screening_days": {"dist": "exponential", "mean": mean_screening}},
        "teams": {"front_door": {"handles": ["screening"], "posts": {"social_worker": screeners}},
                  "social_work": {"handles": ["assessment", "cin", "cp", "cla"], "posts": {"social_worker": 10}}},
        "staff": [{"team": "front_door", "grade": "social_worker", "count": screeners},
                  {"team": "social_work", "grade": "social_worker", "count": 10}],
    })
    base["re_referral"]["closed_before_start_per_year"] = 0
    wf = base["workforce"]
    wf["turnover"].update({"permanent_per_year": zero, "agency_per_year": 0.0})
    wf["absence"]["rate"] = 0.0
    wf["agency"]["cover_share"] = 0.0
    return load_scenario(base)


def test_front_door_matches_erlang_c(base):
    """M/M/3: Poisson contacts, exponential screening, a fixed team of three screeners."""
    per_year, s, c = 6300.0, 0.1, 3
    scn = front_door_only(base, per_year, s, c)
    n_weeks = 52
    lam = per_year / WorkingCalendar(scn.start_date, n_weeks).working_days_per_year
    expect = erlang_c_wait(lam, s, c)  # working days
    waits = []
    for r in range(12):
        out = simulate(scn, 99, r, n_weeks)
        waits.append(out["_screening_wait_days"][4:].sum() / out["_screening_started"][4:].sum())
    mean, lo, hi = mean_ci(np.array(waits))
    assert lo <= expect <= hi or abs(mean - expect) < 0.05 * expect, (mean, lo, hi, expect)
    assert 0.5 < lam * s / c < 0.95  # a busy queue, where waiting matters


def test_erlang_c_formula_known_value():
    # M/M/1 is Erlang C with c = 1: Wq = rho * S / (1 - rho)
    assert erlang_c_wait(0.5, 1.0, 1) == pytest.approx(1.0)
    assert erlang_c_wait(2.0, 1.0, 3) == pytest.approx(0.4444, abs=1e-4)  # textbook: P(wait)=4/9, Wq=4/9


def test_littles_law_holds_under_turnover_and_a_growing_backlog():
    """Finite-horizon Little's law: mean open assessments = (assessments present / T) x mean time open in [0, T].

    Both sides are kept independently by the model (the counter's area under time, and each
    assessment's own time open), in a scenario whose backlog grows through the vicious circle.
    """
    scn = load_scenario("baseline", [
        "demand.trend_per_year=0", "demand.seasonality=[1,1,1,1,1,1,1,1,1,1,1,1]",
        "workforce.turnover.permanent_per_year={asye=0.3, social_worker=0.3, senior_social_worker=0.3, "
        "team_manager=0.3}",
        "workforce.capacity_points={asye=18, social_worker=18, senior_social_worker=16}"])
    n_weeks = 156
    bounds = WorkingCalendar(scn.start_date, n_weeks).week_bounds
    out = simulate(scn, 5, 1, n_weeks)
    assert out["unallocated_cases"][-1] > 3 * out["unallocated_cases"][0] and out["leavers_incl_agency"].sum() > 30
    T = bounds[1:] - 1e-7  # the snapshot times
    L = out["_assessment_area"] / T
    W_lam = out["_assessment_in_run_days"] / T  # = lambda_T * W_T (assessments present / T times their mean time)
    np.testing.assert_allclose(L, W_lam, rtol=1e-9)
    # the weekly snapshots estimate the same time average
    weekly_L = np.cumsum(out["assessments_open"] * np.diff(bounds)) / bounds[1:]
    assert abs(weekly_L[-1] / L[-1] - 1) < 0.02


def test_littles_law_in_steady_state():
    """A stable service: mean open assessments = completion rate x mean time from referral to completion."""
    scn = load_scenario("baseline", ["demand.trend_per_year=0", "demand.seasonality=[1,1,1,1,1,1,1,1,1,1,1,1]",
                                     "workforce.capacity_points={asye=30, social_worker=30, senior_social_worker=30}"])
    n_weeks = 208
    horizon = WorkingCalendar(scn.start_date, n_weeks).horizon
    ratios = []
    for r in range(3):
        out = simulate(scn, 5, r, n_weeks)
        L = out["assessments_open"].mean()
        lam = out["assessments_completed"].sum() / horizon
        W = out["_assessment_days_total"].sum() / out["assessments_completed"].sum()
        ratios.append(L / (lam * W))
    assert np.all(np.abs(np.array(ratios) - 1) < 0.03), ratios
