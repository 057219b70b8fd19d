"""Wiring: one replication of one scenario.

The only module that knows every part of the model. It builds them, connects
their hooks, runs the SimPy clock (in working days) to the end of the run and
turns the weekly counters into the published columns.
"""

from __future__ import annotations

import gc
import threading
from contextlib import contextmanager

import numpy as np
import simpy

from ..calendar import WorkingCalendar
from ..schema import HELD_CASE_TYPES, Scenario
from ..streams import Streams
from .allocation import Allocator
from .cases import CaseFlow
from .costs import COST_COLUMNS, weekly_costs
from .demand import FrontDoor
from .levers import LeverSchedule
from .monitoring import Monitor, pct
from .recruitment import Staffing
from .workforce import GRADES as GRADE_NAMES, TM, Workforce

# The weekly.csv contract: identifying columns, then the measures in this order.
ID_COLUMNS = ["scenario", "replication", "week", "date"]
WEEKLY_COLUMNS = [
    "contacts", "referrals", "re_referrals", "re_referral_pct", "early_help_step_ups",
    "front_door_backlog", "contacts_decided_in_timescale_pct",
    "assessments_open", "assessments_overdue", "assessments_completed", "assessments_in_timescale_pct",
    "assessment_days_mean",
    "s47_enquiries", "icpcs", "icpcs_in_timescale_pct",
    "unallocated_cases", "cin_open", "cp_open", "cla_open", "early_help_open", "cases_closed",
    "caseload_mean", "caseload_p90", "caseload_max", "workers_over_threshold_pct",
    "staff_fte", "staff_fte_agency", "staff_fte_asye", "staff_fte_absent", "staff_fte_managers",
    "case_holding_fte", "vacancies_fte", "supervision_load_pct",
    "leavers", "leavers_permanent", "starters", "social_worker_changes",
] + COST_COLUMNS
_EPS = 1e-7  # stocks are read just before a week boundary; flows at the boundary belong to the next week


_gc_lock = threading.Lock()
_gc_pauses = 0
_gc_was_enabled = False


@contextmanager
def collector_paused():
    """Pause Python's cyclic garbage collector while a replication is built and run (re-entrant, thread-safe).

    The model makes no cyclic garbage as it runs: cases, events and their callbacks are freed by
    reference counting the moment they are done with. The only cycles are the replication's own
    objects, which are collected after it ends. Collections during a replication would only walk
    live objects: measured at 32 s of a 94 s national-scale year (23 full collections over
    millions of objects) and about 50 ms (a tenth) of most baseline replications. Results are
    unaffected either way.
    """
    global _gc_pauses, _gc_was_enabled
    with _gc_lock:
        if _gc_pauses == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_was_enabled:
                gc.enable()


class CountingEnvironment(simpy.Environment):
    """A SimPy environment that counts the events it processes (for speed measurements)."""

    def __init__(self):
        super().__init__()
        self.processed = 0

    def step(self) -> None:
        self.processed += 1
        super().step()


def simulate(scn: Scenario, seed: int, replication: int, n_weeks: int) -> dict[str, np.ndarray]:
    """Run one replication; returns weekly arrays (published columns, plus ``_``-prefixed accounting)."""
    with collector_paused():
        return _replicate(scn, seed, replication, n_weeks)


def _replicate(scn: Scenario, seed: int, replication: int, n_weeks: int) -> dict[str, np.ndarray]:
    cal = WorkingCalendar(scn.start_date, n_weeks)
    env = CountingEnvironment()
    streams = Streams(seed, replication)
    mon = Monitor(cal.week_bounds)
    levers = LeverSchedule(scn, cal)
    teams = list(scn.teams)
    handles = {k: np.array([k in scn.teams[t].handles for t in teams]) for k in HELD_CASE_TYPES}
    screening = np.array(["screening" in scn.teams[t].handles for t in teams])
    wf = Workforce(scn, teams, streams, mon)
    flow = CaseFlow(scn, env, streams, mon, wf, levers)
    alloc = Allocator(wf, handles, mon, flow.on_allocated, flow.on_queued)
    flow.alloc = alloc
    door = FrontDoor(scn, cal, env, streams, mon, levers, on_referral=lambda t: flow.referral(t))
    span = scn.workforce.manager_span

    def screeners_present() -> int:
        n = wf.n
        return int(np.sum(wf.available()[:n] & screening[wf.team[:n]] & (wf.grade[:n] != TM)))

    def supervision_ratio() -> np.ndarray:
        n = wf.n
        act = wf.active[:n]
        mgr = act & (wf.grade[:n] == TM)
        staff = act & ~mgr
        sup = np.bincount(wf.team[:n][staff], weights=wf.fte[:n][staff], minlength=len(teams))
        cap = np.bincount(wf.team[:n][mgr], weights=wf.fte[:n][mgr], minlength=len(teams)) * span
        return np.where(cap > 0, sup / np.where(cap > 0, cap, 1.0), np.where(sup > 0, 2.0, 0.0))

    def on_start(w: int, t: float) -> None:
        if screening[wf.team[w]]:
            door.set_screeners(screeners_present(), t)
        elif wf.holds_cases[w] and t > 0:
            alloc.fill(t)

    def on_leave(w: int, t: float) -> None:
        if screening[wf.team[w]]:
            door.set_screeners(screeners_present(), t)
        alloc.reallocate_from(w, t)
        alloc.fill(t)

    staffing = Staffing(scn, teams, env, streams, mon, wf, levers, on_start, on_leave)
    staffing.start_state()
    staffing.schedule_levers()
    door.set_screeners(screeners_present(), 0.0)
    flow.start_state(scn.open_cases, streams)
    flow.recently_closed(streams)
    staffing.schedule_cohorts(cal)
    eh0 = sum(g.count for g in scn.open_cases if g.type == "early_help")
    if eh0:
        eh_rng = streams("initial.early_help")
        for g in scn.open_cases:
            if g.type == "early_help":
                rest = scn.early_help.duration_weeks.sample_residual(eh_rng, np.full(g.count, g.weeks_open)) * 5.0
                for r in rest:
                    mon.count("_early_help_ended", float(r))

    def weekly():
        for week in range(n_weeks):
            yield env.timeout(max(0.0, cal.week_bounds[week + 1] - _EPS - env.now))
            t = env.now
            flow.snapshot(week, t)
            door.snapshot(week, t)
            wf.snapshot(week)
            staffing.snapshot(week)
            ratio = supervision_ratio()
            n = wf.n
            staff_fte = wf.fte[:n][wf.active[:n] & (wf.grade[:n] != TM)].sum()
            mgr_fte = wf.fte[:n][wf.active[:n] & (wf.grade[:n] == TM)].sum()
            mon.set("supervision_load_pct", week, 100.0 * staff_fte / (mgr_fte * span) if mgr_fte > 0 else np.nan)
            for i, lv in enumerate(scn.levers):
                if lv.type == "retention":
                    eligible = wf.active[:n] & levers.retention_eligible(lv, GRADE_NAMES, wf.grade[:n], wf.agency[:n])
                    mon.set(f"_retention_fte_{i}", week, wf.fte[:n][eligible].sum())
            yield env.timeout(_EPS)
            t = env.now
            if week + 1 < n_weeks:
                resign = wf.weekly(ratio, t, levers)
                for w in resign:
                    staffing.resign(int(w), t)
                staffing.reduce_agency(t)
                wf.finish_asye(t)
                door.set_screeners(screeners_present(), t)
                alloc.fill(t)

    env.process(weekly())
    env.process(door.process())
    env.run(until=cal.horizon)
    door.finish()

    out = mon.results()
    z = np.zeros(n_weeks)
    g = lambda k: out.get(k, z)  # noqa: E731 - a flow nobody counted is zero
    out["assessments_in_timescale_pct"] = pct(g("_assessments_in_timescale"), g("assessments_completed"))
    with np.errstate(invalid="ignore", divide="ignore"):
        done = g("assessments_completed")
        out["assessment_days_mean"] = np.where(done > 0, g("_assessment_days_total") / np.where(done > 0, done, 1), np.nan)
    out["icpcs_in_timescale_pct"] = pct(g("_icpcs_in_timescale"), g("icpcs"))
    out["contacts_decided_in_timescale_pct"] = pct(g("_contacts_decided_in_timescale"), g("_contacts_decided"))
    out["re_referral_pct"] = pct(g("re_referrals"), g("referrals") + g("re_referrals"))
    out["early_help_open"] = eh0 + np.cumsum(g("_early_help_started")) - np.cumsum(g("_early_help_ended"))
    for k in WEEKLY_COLUMNS:
        if k not in out:
            out[k] = z.copy()
    out.update(weekly_costs(scn, cal.week_dates, out, levers))
    out["_workers_initial"] = np.full(n_weeks, float(sum(g.count for g in scn.staff)))
    out["_clock"] = cal.week_bounds[1:].astype(float)
    out["_events"] = np.full(n_weeks, float(env.processed))
    return out


def week_dates(scn: Scenario, n_weeks: int) -> np.ndarray:
    return WorkingCalendar(scn.start_date, n_weeks).week_dates
