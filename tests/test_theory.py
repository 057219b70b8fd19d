"""The model against queueing theory, and against common sense (monotonicity)."""

import numpy as np
import pytest
from scipy import stats

from workforce_sim import load_scenario
from workforce_sim.model import simulate
from workforce_sim.scenario.calendar import WorkingCalendar


def _deep_update(base: dict, new: dict) -> dict:
    for k, v in new.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict) and "dist" not in v and k != "sources":
            _deep_update(base[k], v)
        else:
            base[k] = v
    return base


def ample_scenario(base: dict, contacts: float, share: float, assess_mean: float, cin_mean_weeks: float):
    """One Poisson source, flat demand, ample staff, no turnover, absence or returns."""
    return load_scenario(_deep_update(base, {
        "name": "mginf",
        "demand": {"trend_per_year": 0.0, "seasonality": [1.0] * 12,
                   "sources": {"only": {"contacts_per_year": contacts, "referral_share": share,
                                        "early_help_share": 0.0}}},
        "front_door": {"screening_days": {"dist": "exponential", "mean": 0.01}},
        "re_referral": {"probability": 0.0, "closed_before_start_per_year": 0.0},
        "cases": {"s47_share": 0.0, "pressure_slowdown": 0.0,
                  "assessment_days": {"dist": "exponential", "mean": assess_mean},
                  "outcomes": {"nfa": 0.0, "early_help": 0.0, "cin": 1.0, "cla": 0.0},
                  "plans": {"cin": {"duration_weeks": {"dist": "gamma", "mean": cin_mean_weeks, "cv": 0.5},
                                    "ends": {"close": 1.0, "early_help": 0.0, "cp": 0.0, "cla": 0.0}}}},
        "workforce": {"capacity_points": {"asye": 1000, "social_worker": 1000, "senior_social_worker": 1000},
                      "ramp_up_weeks": 0, "absence": {"rate": 0.0},
                      "turnover": {"agency_per_year": 0.0, "permanent_per_year": {
                          "asye": 0, "social_worker": 0, "senior_social_worker": 0, "team_manager": 0}},
                      "recruitment": {"nqsw_cohort_size": 0}, "agency": {"cover_share": 0.0}},
        "teams": {"front_door": {"posts": {"social_worker": 20, "team_manager": 3}}},
        "staff": [{"team": t, "grade": "social_worker", "count": 10} for t in
                  ("front_door", "assessment", "long_term", "children_in_care")],
        "open_cases": [],
    }))


def test_open_cases_follow_m_g_infinity(base):
    """Mean and variance of open assessments and open CIN plans both equal lambda * E[S]."""
    contacts, share, d_assess, d_cin_weeks = 2000.0, 0.3, 10.0, 4.0
    scn = ample_scenario(base, contacts, share, d_assess, d_cin_weeks)
    assert list(scn.demand.sources) == ["only"]
    n_weeks, reps = 44, 30
    cal = WorkingCalendar(scn.start_date, n_weeks)
    lam = contacts * share / cal.working_days_per_year  # referrals per working day
    weeks = [14, 22, 30, 38, 43]  # after warm-up; 8 weeks apart, several durations, so nearly independent
    a, c = [], []
    for r in range(reps):
        out = simulate(scn, 123, r, n_weeks)
        assert out["unallocated_cases"].max() == 0 and out["leavers_incl_agency"].sum() == 0
        a += list(out["assessments_open"][weeks])
        c += list(out["cin_open"][weeks])
    n = len(a)
    for values, mean_s in ((np.array(a), d_assess), (np.array(c), d_cin_weeks * 5.0)):
        expect = lam * mean_s
        se = np.sqrt(expect / n)
        assert abs(values.mean() - expect) < 3.5 * se, (values.mean(), expect)
        # variance of a Poisson count equals its mean: chi-square interval for the sample variance
        lo, hi = stats.chi2.ppf([0.0005, 0.9995], n - 1) / (n - 1) * expect
        assert lo < values.var(ddof=1) < hi, (values.var(ddof=1), lo, hi)


def test_ample_staff_gives_no_delay_and_full_timeliness(base):
    scn = ample_scenario(base, 2000.0, 0.3, 10.0, 4.0)
    out = simulate(scn, 5, 0, 30)
    assert np.nanmin(out["contacts_decided_in_timescale_pct"]) == 100.0
    assert out["front_door_backlog"].max() <= 3


def mean_caseload(scn, reps=3, weeks=104):
    return np.array([np.mean(simulate(scn, 77, r, weeks)["caseload_mean"]) for r in range(reps)])


@pytest.fixture(scope="module")
def base_caseload(baseline):
    return mean_caseload(baseline)


def test_more_staff_never_raises_mean_caseload(base_caseload):
    base = load_scenario("baseline")
    sets = []
    for team in ("long_term", "assessment"):  # five more social workers in post in each, and the posts for them
        i = next(i for i, g in enumerate(base.staff)
                 if (g.team, g.grade, g.contract) == (team, "social_worker", "permanent"))
        sets += [f"teams.{team}.posts.social_worker={base.teams[team].posts['social_worker'] + 5}",
                 f"staff.{i}.count={base.staff[i].count + 5}"]
    more = load_scenario("baseline", sets)
    got = mean_caseload(more)
    assert np.all(got < base_caseload), (got, base_caseload)


def test_more_demand_never_lowers_mean_caseload(base_caseload):
    sets = [f"demand.sources.{s}.contacts_per_year={v * 1.4}" for s, v in
            (("police", 2300), ("schools", 1250), ("health", 1050), ("la_services", 900), ("individuals", 700),
             ("other", 1000))]
    got = mean_caseload(load_scenario("baseline", sets))
    assert np.all(got > base_caseload), (got, base_caseload)


@pytest.mark.parametrize("days, in_time", [(45.0, 100.0), (46.0, 0.0)])
def test_an_assessment_is_late_only_after_the_timescale(days, in_time):
    """With every assessment taking exactly ``days`` working days and no waiting, the share within
    45 working days is all or nothing: 45 days is in time, 46 is late. (Days are counted as DfE counts
    them, from the referral's date to the completion's, so a whole number of days is exact.)"""
    scn = load_scenario("baseline", [
        f"cases.assessment_days={{dist='fixed', value={days}}}", "cases.s47_share=0", "cases.pressure_slowdown=0",
        "early_help.step_up_s47_share=0", "cases.plans.cin.ends={close=0.71, early_help=0.265, cp=0, cla=0.025}",
        "workforce.capacity_points={asye=200, social_worker=200, senior_social_worker=200}"])
    out = simulate(scn, 3, 0, 40)
    in_timescale = out["assessments_in_timescale_pct"][12:]
    assert np.nanmin(in_timescale) == in_time == np.nanmax(in_timescale)
