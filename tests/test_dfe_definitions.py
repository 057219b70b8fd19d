"""The DfE-defined columns against the same figure worked out by hand from the raw events of one replication.

One replication is traced in full (every child, every worker); each test recounts a published
column from the timeline the way DfE defines the figure and compares it week by week. The run
starts with no open cases, so every case and plan in it has its whole history in the timeline.
"""

import datetime as dt
import math
from collections import defaultdict

import numpy as np
import pytest

from workforce_sim import load_scenario
from workforce_sim.model.council import Replication
from workforce_sim.model.trace import Tracer
from workforce_sim.scenario.calendar import WEEKS_PER_YEAR

N_WEEKS = 120
YEAR = 260.0  # working days in a year of plan time (52 weeks of 5): plan lengths are drawn in such weeks
TOL = 1e-9


@pytest.fixture(scope="module")
def traced():
    scn = load_scenario("baseline")
    scn = scn.model_copy(update={"open_cases": []})
    tracer = Tracer()
    rep = Replication(scn, 7, 0, N_WEEKS, tracer)
    rep.start()
    rep.run()
    out = rep.collect()
    return rep, tracer.rows, out


def week_of(rep, t):
    return int(np.searchsorted(rep.calendar.week_bounds, t, side="right") - 1)


def per_week(rep, times, weights=None):
    got = np.zeros(N_WEEKS)
    for i, t in enumerate(times):
        w = week_of(rep, t)
        if 0 <= w < N_WEEKS:
            got[w] += 1.0 if weights is None else weights[i]
    return got


def child_events(rows, *names):
    by_child = defaultdict(list)
    for t, who, c, event, _, _ in rows:
        if who == "child" and event in names:
            by_child[c].append((t, event))
    return by_child


def test_referrals_and_returns_are_counted_from_the_events(traced):
    rep, rows, out = traced
    refs = [t for t, who, _, e, _, _ in rows if who == "child" and e in ("referred", "re-referred")]
    back = [t for t, who, _, e, _, _ in rows if who == "child" and e == "re-referred"]
    contacts = [t for t, who, _, e, _, _ in rows if who == "child" and e.startswith("contact about the child")]
    assert np.array_equal(per_week(rep, refs), out["referrals"])
    assert np.array_equal(per_week(rep, back), out["returns_after_closure"])
    assert np.array_equal(per_week(rep, contacts), out["contacts_returning"])
    assert out["returns_after_closure"].sum() > 100
    # every referral is a contact decided as one, or a family stepped up from early help, in the same week
    assert np.array_equal(out["referrals"], out["_contacts_referred"] + out["early_help_step_ups"])


def test_re_referrals_are_referrals_within_12_months_of_the_previous_one(traced):
    """DfE: a referral within 12 months of the child's previous referral: 12 calendar months, 256 working days
    from 1 April 2027: 262 weekdays less 6 bank holidays (no Easter: 2027's falls in March, 2028's after 1 April).
    Counted by hand for the weeks from the end of the first year on (earlier ones may look back before the run)."""
    rep, rows, out = traced
    assert rep.calendar.start == dt.date(2027, 4, 1)
    months_12 = rep.calendar.working_days_between(dt.date(2027, 4, 1), dt.date(2028, 4, 1))
    assert months_12 == rep.calendar.working_days_in_12_months == 256
    within = []
    for events in child_events(rows, "referred", "re-referred").values():
        times = sorted(t for t, _ in events)
        within += [b for a, b in zip(times, times[1:]) if b - a <= months_12 + TOL]
    want = per_week(rep, within)
    first = week_of(rep, months_12) + 1
    assert np.array_equal(want[first:], out["re_referrals"][first:])
    # and not every return is a re-referral: some come back more than 12 months after their last referral
    assert out["re_referrals"][first:].sum() < out["returns_after_closure"][first:].sum()
    rate = 100 * out["re_referrals"][first:].sum() / out["referrals"][first:].sum()
    assert 15 < rate < 30, rate


def test_assessment_days_are_whole_working_days_from_referral(traced):
    """DfE table C2: working days from the referral's date to the completion's (the same day is 0)."""
    rep, rows, out = traced
    bands = [(0, "0"), (10, "1_10"), (20, "11_20"), (30, "21_30"), (40, "31_40"), (45, "41_45"),
             (50, "46_50"), (60, "51_60"), (math.inf, "61_plus")]
    done, days = [], []
    for events in child_events(rows, "referred", "re-referred", "assessment completed").values():
        referred = None
        for t, e in sorted(events):
            if e != "assessment completed":
                referred = t
            else:
                done.append(t)
                days.append(math.floor(t + TOL) - math.floor(referred + TOL))
    days = np.array(days)
    assert np.array_equal(per_week(rep, done), out["assessments_completed"])
    for end, name in bands:
        lo = -1 if name == "0" else [b for b, _ in bands][[n for _, n in bands].index(name) - 1]
        mine = (days > lo) & (days <= end)
        assert np.array_equal(per_week(rep, np.array(done)[mine]), out[f"assessments_days_{name}"]), name
    in_time = per_week(rep, np.array(done)[days <= 45])
    total = per_week(rep, done)
    with np.errstate(invalid="ignore"):
        np.testing.assert_allclose(100 * in_time / total, out["assessments_in_timescale_pct"], equal_nan=True)
        np.testing.assert_allclose(per_week(rep, done, days) / total, out["assessment_days_mean"], equal_nan=True)


def test_child_protection_plan_lengths_are_from_start_to_end(traced):
    """DfE table D7: plans ending, by the time from the plan's start to its end (a quarter of a year is 65 working
    days)."""
    rep, rows, out = traced
    ended, length = [], []
    for events in child_events(rows, "child protection plan starts", "child protection plan ends").values():
        start = None
        # an end before a start at the same time
        for t, e in sorted(events, key=lambda x: (x[0], x[1].endswith("starts"))):
            if e.endswith("starts"):
                start = t
            else:
                ended.append(t)
                length.append(t - start)
    length = np.array(length)
    bands = {"3m_or_less": (-1, YEAR / 4), "3_6m": (YEAR / 4, YEAR / 2), "6_12m": (YEAR / 2, YEAR),
             "1_2y": (YEAR, 2 * YEAR), "2y_plus": (2 * YEAR, math.inf)}
    assert np.array_equal(per_week(rep, ended), out["cp_plans_ended"])
    for name, (lo, hi) in bands.items():
        mine = (length > lo + TOL) & (length <= hi + TOL)
        assert np.array_equal(per_week(rep, np.array(ended)[mine]), out[f"cp_plans_ended_{name}"]), name
    assert out["cp_plans_ended_1_2y"].sum() > 0


def test_turnover_is_permanent_fte_leaving_over_permanent_fte_in_post(traced):
    """DfE: permanent FTE leavers over permanent FTE in post; the column is each week's at a yearly rate.
    Both parts are rebuilt from the workers' start and leaving times."""
    rep, rows, out = traced
    wf = rep.workforce
    left = {w: t for t, who, w, e, _, _ in rows if who == "worker" and e in ("leaves", "released")}
    perm = [w for w in range(wf.n) if not wf.agency[w]]
    leavers_fte = per_week(rep, [left[w] for w in perm if w in left], [wf.fte[w] for w in perm if w in left])
    assert np.allclose(leavers_fte, out["leavers_permanent_fte"])
    ends = rep.calendar.week_bounds[1:] - 1e-7  # stocks are read just before each week ends
    in_post = np.array([sum(wf.fte[w] for w in perm if wf.start[w] <= t and left.get(w, math.inf) > t) for t in ends])
    np.testing.assert_allclose(in_post, out["staff_fte"] - out["staff_fte_agency"])
    np.testing.assert_allclose(100 * leavers_fte * WEEKS_PER_YEAR / in_post, out["turnover_rate_pct"])
    assert out["leavers_permanent_fte"].sum() > 5


def test_vacancy_and_agency_rates_at_the_end_are_counted_from_the_posts(traced):
    """DfE: vacancies over vacancies plus permanent FTE in post; agency FTE over agency plus permanent FTE."""
    rep, _, out = traced
    wf = rep.workforce
    vacancies = sum(1 for p in rep.staffing.posts if p.perm < 0 and not p.closed and not p.project)
    perm = wf.array("fte")[wf.array("active") & ~wf.array("agency")].sum()
    agency = wf.array("fte")[wf.array("active") & wf.array("agency")].sum()
    assert out["vacancy_rate_pct"][-1] == pytest.approx(100 * vacancies / (vacancies + perm))
    assert out["agency_rate_pct"][-1] == pytest.approx(100 * agency / (agency + perm))
    assert vacancies > 0 and agency > 0


@pytest.mark.parametrize("weeks, band", [(13, "3m_or_less"), (13.2, "3_6m"), (26, "3_6m"), (52, "6_12m"),
                                         (52.2, "1_2y"), (103.8, "1_2y"), (104, "2y_plus")])
def test_child_protection_plan_length_bands_follow_dfe_wording(weeks, band):
    """D7: "3 months or less", "over 3 months to 6 months", "over 6 months to 1 year", "1 to 2 years" and
    "2 years or more": a plan of exactly 2 years is in the last band. Every plan here lasts ``weeks``."""
    scn = load_scenario("baseline", [f"cases.plans.cp.duration_weeks={{dist='fixed', value={weeks}}}",
                                     "cases.drift.plans=['cin']", "workforce.allocation.ceiling_share=3"])
    scn = scn.model_copy(update={"open_cases": []})
    rep = Replication(scn, 3, 0, int(weeks) + 30)
    rep.start()
    rep.run()
    out = rep.collect()
    assert out["cp_plans_ended"].sum() > 0
    assert out[f"cp_plans_ended_{band}"].sum() == out["cp_plans_ended"].sum(), band


def test_overdue_assessments_are_open_past_45_whole_working_days(traced):
    """An open assessment is overdue when, finished now, it would be late: more than 45 whole working days
    from the referral's date (the same rule as timeliness). Recounted at each week's end from the events."""
    rep, rows, out = traced
    episodes = []  # (referred, completed or inf)
    for events in child_events(rows, "referred", "re-referred", "assessment completed").values():
        referred = None
        for t, e in sorted(events):
            if e != "assessment completed":
                if referred is not None:
                    episodes.append((referred, math.inf))
                referred = t
            else:
                episodes.append((referred, t))
                referred = None
        if referred is not None:
            episodes.append((referred, math.inf))
    ends = rep.calendar.week_bounds[1:] - 1e-7
    want = [sum(1 for a, b in episodes if b > t and math.floor(t + TOL) - math.floor(a + TOL) > 45) for t in ends]
    assert np.array_equal(want, out["assessments_overdue"])
    assert out["assessments_overdue"].sum() > 0
