"""Who holds each case: the allocation rule, its fast pools against a full search, and leavers' cases."""

import datetime as dt

import numpy as np
import pytest
from hypothesis import example, given, settings, strategies as st

from workforce_sim import load_scenario, run


def test_asye_carry_a_protected_caseload(baseline):
    from workforce_sim.model.monitoring import Monitor
    from workforce_sim.model.workforce import ASYE, SW, Workforce
    from workforce_sim.scenario.streams import Streams
    wf = Workforce(baseline, list(baseline.teams), Streams(1, 0), Monitor(np.arange(3.0), set()))
    a = wf.add(1, ASYE, False, 1.0, -1000.0, 0)
    s = wf.add(1, SW, False, 1.0, -1000.0, 1)
    new = wf.add(1, SW, False, 1.0, 0.0, 2)
    cap = wf.capacity(0.0, np.array([a, s, new]))
    assert cap[0] == pytest.approx(0.9 * cap[1])
    assert cap[2] == pytest.approx(baseline.workforce.ramp_up_start_share * cap[1])  # a new starter ramps up
    assert wf.capacity(60.0 * 5, np.array([new]))[0] == pytest.approx(cap[1])


def test_shortage_leaves_cases_unallocated_and_overdue():
    scn = load_scenario("baseline", ["workforce.capacity_points={asye=8, social_worker=8, senior_social_worker=8}"])
    from workforce_sim.model import simulate
    out = simulate(scn, 3, 0, 40)
    assert out["unallocated_cases"][-1] > 200
    assert out["assessments_overdue"][-1] > 20
    assert np.nanmean(out["assessments_in_timescale_pct"][-10:]) < 70


def test_leavers_cases_are_reallocated_and_counted_as_changes():
    scn = load_scenario("baseline", [
        "workforce.turnover.permanent_per_year={asye=0.5, social_worker=0.5, senior_social_worker=0.5, "
        "team_manager=0.5}"])
    from workforce_sim.model import simulate
    out = simulate(scn, 3, 0, 52)
    assert out["leavers_incl_agency"].sum() > 15
    assert out["social_worker_changes"].sum() > 5 * out["leavers_incl_agency"].sum()


SHORTAGE = ["workforce.turnover.permanent_per_year={asye=0.6, social_worker=0.6, senior_social_worker=0.6, "
            "team_manager=0.3}",
            "workforce.capacity_points={asye=14, social_worker=14, senior_social_worker=13}"]


@pytest.mark.parametrize("overrides, scan, least_waits", [(["demand.trend_per_year=0.3"], 24, 10), (SHORTAGE, 24, 1000),
                                                         (SHORTAGE, 0, 1000)],
                         ids=["baseline-growing", "shortage", "shortage-ramping-as-vectors"])
def test_allocation_answers_as_a_full_search_would(overrides, scan, least_waits, monkeypatch, on_python_source):
    """The pools never change who gets a case: every answer is checked against a search
    of all workers, under shortage, heavy turnover and new starters ramping up (looked at one by
    one, and as one vector as at national scale)."""
    if on_python_source:
        return
    from workforce_sim.model import allocation, simulate
    from workforce_sim.model.allocation import Allocator
    monkeypatch.setattr(allocation, "_SCAN", scan)
    original = Allocator.best_worker
    calls = {"all": 0, "no_room": 0, "over_capacity": 0}

    def checked(self, kind, points, t):
        want = _search_all(self.wf, self.handles, kind, points, t, self.ceiling)
        got = original(self, kind, points, t)
        assert got == want, (kind, points, t)
        calls["all"] += 1
        calls["no_room"] += got < 0
        if got >= 0:
            wf = self.wf
            cap = wf.capacity(t, np.array([got]))[0]
            calls["over_capacity"] += wf.points[got] + points > cap + 1e-9
        return got

    monkeypatch.setattr(Allocator, "best_worker", checked)
    scn = load_scenario("baseline", overrides)
    for seed in (1, 2):
        simulate(scn, seed, 0, 104)
    assert calls["no_room"] > least_waits and calls["all"] > calls["no_room"]
    assert calls["over_capacity"] > 100  # the ceiling was used, not only room under capacity


def _search_all(wf, handles, kind, points, t, ceiling):
    """Who should get a case: a plain search of every worker (the allocation rule as documented)."""
    a = wf.array
    ok = a("active") & ~a("notice") & ~a("absent") & a("holds_cases") & handles[kind][a("team")]
    idx = np.flatnonzero(ok)
    if idx.size == 0:
        return -1
    cap = wf.capacity(t, idx)
    load = wf.points[idx]
    for limit in (cap, ceiling * cap):  # room under capacity first; if nobody has any, under the ceiling
        fits = limit - load >= points - 1e-9
        if fits.any():
            return int(idx[np.argmin(np.where(fits, load / cap, np.inf))])
    return -1


_WORKER = st.tuples(st.sampled_from([0, 1, 2]), st.sampled_from([0.5, 0.6, 0.8, 1.0]),  # grade, fte
                    st.sampled_from([-300.0, -55.0, -30.0, -10.0, 0.0]), st.booleans())  # start, absent


@settings(max_examples=400, deadline=None)
@example(workers=[(1, 0.5, -300.0, False), (1, 1.0, -300.0, False)],  # the least loaded has no room for 1.5
         steps=[(0, 10.0, 1.5, 0.0), (1, 20.0, 1.5, 0.0)], ceiling=1.0)
@example(workers=[(1, 0.5, -300.0, False), (1, 1.0, -300.0, False)],  # over capacity: the least loaded is at
         steps=[(0, 14.0, 1.5, 0.0), (1, 28.0, 1.5, 0.0)], ceiling=1.3)  # its ceiling, the larger worker is not
@given(workers=st.lists(_WORKER, min_size=1, max_size=10),
       steps=st.lists(st.tuples(st.integers(0, 9), st.integers(0, 68).map(lambda k: k / 2),
                                st.sampled_from([1.0, 1.5]), st.sampled_from([0.0, 2.0, 20.0, 40.0])),
                      min_size=1, max_size=12),
       ceiling=st.sampled_from([1.0, 1.3, 2.0]))
def test_allocation_rule_on_drawn_teams(baseline, workers, steps, ceiling):
    """Least loaded for capacity among those with room under capacity (not merely the least loaded);
    when nobody has room, the same under the ceiling; ties to the first to join, new starters at
    their ramped capacity: on drawn workers, loads, times and ceilings."""
    from workforce_sim.model.allocation import Allocator
    from workforce_sim.model.monitoring import Monitor
    from workforce_sim.model.workforce import Workforce
    from workforce_sim.scenario.streams import Streams
    teams = list(baseline.teams)
    handles = {k: np.array([k in baseline.teams[x].handles for x in teams]) for k in ("assessment", "cin", "cp", "cla")}
    wf = Workforce(baseline, teams, Streams(1, 0), Monitor(np.arange(0.0, 300.0, 5.0), set()))
    alloc = Allocator(wf, handles, wf.monitor, lambda c, t: None, lambda c, t: None, ceiling=ceiling)
    team = teams.index("long_term")
    for grade, fte, start, absent in workers:
        w = wf.add(team, grade, False, fte, start, 0)
        wf.absent[w] = absent
    t = 0.0
    alloc.best_worker("cin", 1.0, t)  # takes in the new workers
    for who, load, points, later in steps:
        t += later
        if who < wf.n:
            alloc._set_load(who, load)
        for kind in ("cin", "cp", "cla"):
            assert alloc.best_worker(kind, points, t) == _search_all(wf, handles, kind, points, t, ceiling)


def test_single_pool_keeps_the_same_worker_through_a_case(base):
    """In one pool team, with nobody leaving, no child ever changes social worker."""
    base["teams"] = {
        "front_door": base["teams"]["front_door"],
        "pool": {"handles": ["assessment", "cin", "cp", "cla"],
                 "posts": {"social_worker": 70, "senior_social_worker": 20, "team_manager": 12}}}
    base["staff"] = [g | {"team": "pool" if g["team"] != "front_door" else g["team"], "contract": "permanent"}
                     for g in base["staff"]]  # agency staff would be released (leave) when permanent hires arrive
    zero = {"asye": 0.0, "social_worker": 0.0, "senior_social_worker": 0.0, "team_manager": 0.0}
    base["workforce"]["turnover"] |= {"permanent_per_year": zero, "agency_per_year": 0.0}
    base["workforce"]["agency"]["cover_share"] = 0.0
    scn = load_scenario(base)
    from workforce_sim.model import simulate
    out = simulate(scn, 6, 0, 60)
    assert out["leavers_incl_agency"].sum() == 0 and out["cp_open"].max() > 0
    assert out["assessments_completed"].sum() > 1000
    assert out["social_worker_changes"].sum() == 0
    # the same with separate teams: transfers from assessment to long-term teams change the worker
    split = load_scenario("baseline", [
        "workforce.turnover.permanent_per_year={asye=0, social_worker=0, senior_social_worker=0, team_manager=0}",
        "workforce.turnover.agency_per_year=0", "workforce.agency.cover_share=0"])
    assert simulate(split, 6, 0, 60)["social_worker_changes"].sum() > 300


def test_nqsw_cohort_arrives_in_its_month():
    scn = load_scenario("baseline", ["workforce.recruitment.nqsw_cohort_size=6",
                                     "workforce.recruitment.nqsw_cohort_month=9"])
    res = run(scn, years=1, reps=1, seed=1).weekly
    asye = res.set_index("date")["staff_fte_asye"]
    # rows are dated by the first day of their week; stocks are read at the week's end
    # weeks start on Wednesdays (1 April 2027): the week of 26 August ends on Tuesday 1 September
    before, after = asye[dt.date(2027, 8, 19)], asye[dt.date(2027, 8, 26)]
    assert after >= before + 4  # up to 6 join, if there are vacant posts for them


# -- priority and the queues, on a team of one ----------------------------------------------------
def _one_worker_team(baseline, ceiling=1.0):
    """An allocator over one full-time social worker in the assessment team (capacity: the team's standard, in
    points)."""
    from workforce_sim.model.allocation import Allocator
    from workforce_sim.model.monitoring import Monitor
    from workforce_sim.model.workforce import SW, Workforce
    from workforce_sim.scenario.streams import Streams
    teams = list(baseline.teams)
    handles = {k: np.array([k in baseline.teams[x].handles for x in teams]) for k in ("assessment", "cin", "cp", "cla")}
    wf = Workforce(baseline, teams, Streams(1, 0), Monitor(np.arange(0.0, 300.0, 5.0), {"social_worker_changes"}))
    w = wf.add(teams.index("assessment"), SW, False, 1.0, -300.0, 0)
    got = []
    alloc = Allocator(wf, handles, wf.monitor, lambda c, t: got.append(c.id), lambda c, t: None, ceiling=ceiling)
    return alloc, wf, w, got


def _case(i, s47=False, points=1.0):
    from workforce_sim.model.cases import Case
    c = Case(i, i, "assessment", 1.5 if s47 else points, 0.0)
    c.s47 = s47
    return c


def test_a_new_case_queues_behind_waiting_cases_of_its_class(baseline):
    alloc, wf, w, got = _one_worker_team(baseline)
    for i in range(int(wf.full_capacity(w))):
        assert alloc.place(_case(i), 0.0)
    assert not alloc.place(_case(100), 1.0)  # full: waits
    alloc.release(next(c for c in wf.caseset[w] if c.id == 0), 2.0)  # room for one, no fill yet
    alloc.place(_case(101), 3.0)  # the newcomer does not jump the case that has waited since day 1
    assert got[-1] == 100 and alloc.waiting == 1 and alloc.queues["assessment"][-1].id == 101


def test_a_blocked_higher_risk_case_is_not_overtaken_by_a_lower_risk_one(baseline):
    alloc, wf, w, got = _one_worker_team(baseline)
    for i in range(int(wf.full_capacity(w))):
        alloc.place(_case(i), 0.0)
    alloc.place(_case(200, s47=True), 1.0)  # a section 47 enquiry (1.5 points) waits
    alloc.place(_case(201), 1.0)  # and an ordinary assessment (1 point)
    alloc.release(next(c for c in wf.caseset[w] if c.id == 0), 2.0)  # 1 point of room: enough only for the lower risk
    alloc.fill(2.0)
    assert 201 not in got and alloc.waiting == 2
    alloc.release(next(c for c in wf.caseset[w] if c.id == 1), 3.0)
    alloc.fill(3.0)
    assert got[-1] == 200  # the enquiry first, as soon as it fits


def test_a_leavers_cases_go_to_the_front_of_their_queue(baseline):
    from workforce_sim.model.workforce import SW
    alloc, wf, w, got = _one_worker_team(baseline)
    for i in range(int(wf.full_capacity(w))):
        alloc.place(_case(i), 0.0)
    alloc.place(_case(300), 1.0)  # waiting before the worker leaves
    other = wf.add(int(wf.team[w]), SW, False, 1.0, -300.0, 1)
    wf.remove(w)
    wf.notice[other] = True  # nobody can take new work
    alloc.reallocate_from(w, 2.0)
    ids = [c.id for c in alloc.queues["assessment"] if c.queued]
    assert ids[:22] == sorted(ids[:22]) and ids[-1] == 300  # the leaver's cases, in order, ahead of the earlier wait
