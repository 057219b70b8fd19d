"""Wiring: one replication of one scenario, built and run in visible steps.

The only module that knows every part of the model. :class:`Replication` builds
the parts (each owns one concern), wires their hooks, puts the start state in
place, runs the SimPy clock (in working days) to the end of the run and
collects the weekly measures into the published columns.
"""

from __future__ import annotations

import gc
import threading
from contextlib import contextmanager
from typing import Callable, Final, Sequence

import numpy as np

from ..scenario.calendar import WEEKS_PER_YEAR, working_calendar
from ..scenario.schema import Scenario
from ..scenario.streams import Streams
from .care import ChildrenInCare
from .cases import CaseFlow
from .clock import Clock, Due, call_after, call_first, chain_ended
from .context import Context
from .costs import weekly_costs
from .demand import FrontDoor
from .early_help import EarlyHelp
from .levers import LeverSchedule
from .measures import ID_COLUMNS, MEASURES, WEEKLY_COLUMNS, declared_names
from .monitoring import Monitor, pct
from .recruitment import Staffing
from .trace import Tracer, follow
from .workforce import Workforce

_EPS: Final = 1e-7  # stocks are read just before a week boundary; flows at the boundary belong to the next week

# Sub-models: parts that follow the service through its hooks (a plan started or ended, a week ending, ...) and
# count measures of their own (declared in measures.py). Each is made with the replication's Context, after the
# core parts are built and wired; adding one is a line here.
SUBMODELS: tuple[Callable[[Context], object], ...] = ()


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


def simulate(scn: Scenario, seed: int, replication: int, n_weeks: int) -> dict[str, np.ndarray]:
    """Run one replication; returns every declared measure by week (published columns and ``_`` accounting)."""
    with collector_paused():
        # the replication is let go before the collector resumes: its first collection then frees it, where with
        # the replication still held it walked every object of it to find nothing to free (1.5% of a replication)
        return _replicate(scn, seed, replication, n_weeks)


def _replicate(scn: Scenario, seed: int, replication: int, n_weeks: int) -> dict[str, np.ndarray]:
    rep = Replication(scn, seed, replication, n_weeks)
    rep.start()
    rep.run()
    return rep.collect()


class Replication:
    """One replication of one scenario: build (the constructor), start, run, collect.

    The parts and who tells whom what:

    - :class:`FrontDoor` draws every contact and screens them; each referral goes to the
      case flow (``CaseFlow.referral``).
    - :class:`CaseFlow` moves cases from referral to closure and gives them to workers
      through its allocator; it asks :class:`EarlyHelp` what stepped-down families do.
    - :class:`Staffing` fills posts (recruitment, agency, cohorts) and turns leavers out;
      it calls the hooks ``worker_started`` and ``worker_left``, to which this class subscribes
      (``_on_start``, ``_on_leave``): it tells the front door (screeners present) or the case flow
      (cases to move or capacity freed).
    - :class:`Workforce` holds every worker's state; the weekly step asks it who resigns.
    - :class:`Monitor` keeps the declared measures; :class:`LeverSchedule` answers what the
      scenario's levers change at a given time.
    """

    def __init__(self, scn: Scenario, seed: int, replication: int, n_weeks: int, tracer: Tracer | None = None,
                 submodels: Sequence[Callable[[Context], object]] = SUBMODELS):
        self.scn, self.n_weeks = scn, n_weeks
        self.calendar = working_calendar(scn.start_date, n_weeks)
        self.env = Clock()
        monitor = Monitor(self.calendar.week_bounds, declared_names(scn.demand.sources, scn.levers,
                                                                     scn.case_holding_teams()))
        self.ctx = ctx = Context(scn, self.calendar, self.env, Streams(seed, replication), monitor,
                                 LeverSchedule(scn, self.calendar))
        self.monitor, self.levers, hooks = monitor, ctx.levers, ctx.hooks
        self.workforce = Workforce(scn, list(scn.teams), ctx.streams, monitor)
        if tracer is not None:  # an observer subscribes first: it sees each moment before the parts react
            follow(tracer, hooks, self.workforce)
        self.early_help = EarlyHelp(ctx)
        self.flow = CaseFlow(ctx, self.workforce, self.early_help)
        self.door = FrontDoor(ctx, self.early_help, on_referral=self.flow.referral)
        self.staffing = Staffing(ctx, list(scn.teams), self.workforce)
        self.care = ChildrenInCare(ctx, self.flow) if scn.care is not None else None
        # the wiring: who reacts to what
        hooks.child_returns.append(self.door.returning_contact)
        hooks.worker_started.append(self._on_start)
        hooks.worker_left.append(self._on_leave)
        if self.care is not None:  # children in care: how long care lasts, who leaves it, each week's placements
            self.flow.care_length = self.care.length
            hooks.plan_ended.append(self.care.ended)
            hooks.week_ending.append(self.care.week_ending)
        # parts that follow the service through its hooks, each made with the context: one line each in SUBMODELS
        self.submodels = [make(ctx) for make in submodels]

    # -- wiring ------------------------------------------------------------------------
    def _on_start(self, w: int, t: float) -> None:
        if self.workforce.screens(w):
            self.door.set_screeners(self.workforce.screeners_present(), t)
        elif self.workforce.holds_cases[w] and t > 0:
            self.flow.fill(t)  # a new worker takes waiting cases

    def _on_leave(self, w: int, t: float, released: bool, returner: bool) -> None:
        if self.workforce.screens(w):
            self.door.set_screeners(self.workforce.screeners_present(), t)
        self.flow.reallocate_from(w, t)
        self.flow.fill(t)

    # -- steps -------------------------------------------------------------------------
    def start(self) -> None:
        """The state at time 0. The order matters: staff take their posts before open cases are
        given to them; every event scheduled here at the same time runs in this order."""
        self.staffing.start_state()
        self.staffing.schedule_levers()
        self.door.set_screeners(self.workforce.screeners_present(), 0.0)
        self.flow.start_state(self.scn.open_cases)
        self.staffing.schedule_cohorts(self.calendar)
        self.early_help.start_state(self.scn.open_cases)
        if self.care is not None:
            self.care.start_state()
        call_first(self.env, self._week_begins, 0)
        self.door.begin()

    def run(self) -> None:
        """Run the clock to the end of the run."""
        self.env.run(until=self.calendar.horizon)
        self.door.finish()

    # the weeks: just before each week ends, read the stocks; at the boundary, the week's staff changes (a chain of
    # steps, each scheduling the next: see clock.call_first)
    def _week_begins(self, ev: Due) -> None:
        self._next_week(ev.value)

    def _next_week(self, week: int) -> None:
        if week < self.n_weeks:
            delay = max(0.0, float(self.calendar.week_bounds[week + 1]) - _EPS - self.env.now)
            call_after(self.env, delay, self._week_ending, week)
        else:
            chain_ended(self.env)

    def _week_ending(self, ev: Due) -> None:
        week: int = ev.value
        call_after(self.env, _EPS, self._week_ended, (week, self._snapshot(week, self.env.now)))

    def _week_ended(self, ev: Due) -> None:
        week: int
        supervision: list[float]
        week, supervision = ev.value
        if week + 1 < self.n_weeks:
            self._turn_of_week(self.env.now, supervision)
        self._next_week(week + 1)

    def _snapshot(self, week: int, t: float) -> list[float]:
        """Read the week's stocks; returns each team's supervision ratio as it stands now."""
        wf, mon = self.workforce, self.monitor
        self.flow.snapshot(week, t)
        self.door.snapshot(week, t)
        wf.snapshot(week, self.flow.waiting)
        wf.team_snapshot(week, self.flow.waiting_by_kind(), self.flow.handles)
        self.staffing.snapshot(week)
        mon.set("supervision_load_pct", week, wf.supervision_load_pct())
        if self.ctx.hooks.week_ending:
            self.ctx.hooks.week_ending(week, t)
        for i, lv, _, _ in self.levers.of_type("retention"):
            eligible = self.levers.retention_eligible(lv, np.array(wf.grade, dtype=int),
                                                        np.array(wf.agency, dtype=bool))
            mon.set(f"_retention_fte_{i}", week, wf.fte_where(eligible))
        return wf.supervision_ratio()

    def _turn_of_week(self, t: float, supervision: list[float]) -> None:
        """Pressure, leaving, absence and the end of the ASYE year move on; waiting cases are offered again."""
        wf = self.workforce
        cap, waiting = wf.team_waiting(self.flow.waiting_points(), self.flow.handles)
        waiting_ratio = [w / c if c > 0 else 0.0 for c, w in zip(cap, waiting)]
        resign, crossed = wf.weekly(supervision, t, self.levers, waiting_ratio)
        for w, since in zip(resign, crossed):
            self.staffing.resign(w, t, since)
        self.staffing.reduce_agency(t)
        self.staffing.offer_cover()
        self.staffing.buy_or_release_project(wf.team_pressure(self.flow.waiting_points(), self.flow.handles), t)
        wf.finish_asye(t)
        self.door.set_screeners(wf.screeners_present(), t)
        self.flow.fill(t)

    def state(self) -> dict:
        """The service at the end of the run, as a start state reads it: everyone in post (team, grade,
        contract, fte, weeks in post), every open statutory case (type, weeks open) and the families in
        early help. Call after :meth:`run`."""
        t = self.env.now
        started, ended = self.monitor.results(["_early_help_started", "_early_help_ended"]).values()
        return {"staff": list(self.workforce.in_post(t)), "cases": list(self.flow.open_case_ages(t)),
                "early_help": int(self.early_help.open_by_week(started, ended)[-1])}

    def collect(self) -> dict[str, np.ndarray]:
        """Every declared measure by week: flows and stocks, then the derived measures and costs."""
        mon, n_weeks = self.monitor, self.n_weeks
        out = mon.results(sorted(mon.declared - {m.name for m in MEASURES.values()
                                                 if m.kind in ("derived", "cost") or m.per_10k_of}
                                 - {"_workers_initial", "_clock", "_events"}))
        out.update(derived_measures(out))
        out.update(rates_per_10k(out, self.scn.population.children if self.scn.population else np.nan))
        out["early_help_open"] = self.early_help.open_by_week(out["_early_help_started"], out["_early_help_ended"])
        out.update(weekly_costs(self.scn, self.calendar.week_dates, out, self.levers))
        out["_workers_initial"] = np.full(n_weeks, float(sum(g.count for g in self.scn.staff)))
        out["_clock"] = self.calendar.week_bounds[1:].astype(float)
        out["_events"] = np.full(n_weeks, float(self.env.processed))
        missing = sorted(mon.declared - set(out))
        if missing:
            raise KeyError(f"declared measures not produced: {', '.join(missing)}")
        return out


def derived_measures(out: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Percentages and means worked out from the weekly flows (NaN in a week with nothing to measure)."""
    done = out["assessments_completed"]
    with np.errstate(invalid="ignore", divide="ignore"):
        days_mean = np.where(done > 0, out["_assessment_workdays_total"] / np.where(done > 0, done, 1), np.nan)
    permanent = out["staff_fte"] - out["staff_fte_agency"]
    return {
        "assessments_in_timescale_pct": pct(out["_assessments_in_timescale"], done),
        "assessment_days_mean": days_mean,
        "icpcs_in_timescale_pct": pct(out["_icpcs_in_timescale"], out["icpcs"]),
        "contacts_decided_in_timescale_pct": pct(out["_contacts_decided_in_timescale"], out["_contacts_decided"]),
        "re_referral_pct": pct(out["re_referrals"], out["referrals"]),
        "cp_plans_repeat_pct": pct(out["_cp_plans_repeat"], out["cp_plans_started"]),
        "cp_plans_per_icpc": pct(out["cp_plans_started"], out["icpcs"]) / 100.0,
        "cp_plans_ended_2y_pct": pct(out["cp_plans_ended_2y_plus"], out["cp_plans_ended"]),
        # DfE's workforce rates: turnover is a yearly rate (a week's leavers times weeks in a year)
        "turnover_rate_pct": pct(out["leavers_permanent_fte"] * WEEKS_PER_YEAR, permanent),
        "vacancy_rate_pct": pct(out["vacancies_fte"], out["vacancies_fte"] + permanent),
        "agency_rate_pct": pct(out["staff_fte_agency"], out["staff_fte"]),
    }


def rates_per_10k(out: dict[str, np.ndarray], children: float) -> dict[str, np.ndarray]:
    """The measures DfE publishes per 10,000 children, week by week (a flow's yearly total is its yearly rate; NaN
    when the population is not known)."""
    base = dict(out, children_in_need=out["assessments_open"] + out["cin_open"] + out["cp_open"] + out["cla_open"])
    return {m.name: base[m.per_10k_of] * (1e4 / children) for m in MEASURES.values() if m.per_10k_of}


def week_dates(scn: Scenario, n_weeks: int) -> np.ndarray:
    """First calendar day of each reporting week of a run of ``n_weeks`` weeks."""
    return working_calendar(scn.start_date, n_weeks).week_dates


__all__ = ["simulate", "Replication", "ID_COLUMNS", "WEEKLY_COLUMNS", "week_dates", "collector_paused"]
