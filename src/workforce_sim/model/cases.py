"""Statutory case flow: referral, assessment, section 47 and ICPC, plans, closure, re-referral.

Each case schedules only the events that change it: the end of its
assessment, the end of each plan, and (if it comes back) its re-referral. An
assessment's clock starts at referral; its work starts when a worker is
allocated, and takes longer when that worker is over capacity. A section 47
strategy discussion is held on a duty basis soon after referral, allocated or
not; the initial conference is timed from it. Plans that drift (child in need
and child protection by default) move more slowly while their worker is over
capacity and not at all while unallocated; a child protection plan that
drifted is likelier to end in care, and its case to come back. Cases that
wait unallocated, or whose assessment ran under pressure or late, are more
likely to come back within a year. Every child protection plan starts at an
initial conference after a section 47 enquiry: a child in need plan that
escalates goes through a strategy discussion, an enquiry and a conference
(one scheduled event), and becomes a plan with the conference's chance;
otherwise a new child in need plan follows. Families stepped up from early
help may have their own outcome mix.

Random draws are made per case, in the order cases arise, from streams that
belong to one quantity each, so scenarios that differ elsewhere still see the
same case mix (common random numbers). Returning children draw from their own
streams so that their number never shifts the draws for new referrals.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from typing import Callable, Final

import numpy as np

from ..scenario.calendar import WORKING_DAYS_PER_WEEK as WD
from ..scenario.schema import HELD_CASE_TYPES, Scenario
from ..scenario.streams import Streams
from .allocation import Allocator
from .case import Case
from .clock import Due, call_after
from .context import Context
from .draws import BufferedSampler, UniformBuffer
from .early_help import EarlyHelp
from .hooks import Hooks
from .workforce import Workforce, pairwise_sum

PLAN_KINDS: Final = ("cin", "cp", "cla")
YEAR_DAYS: Final = 52.0 * WD  # durations in weeks count five working days a week, so a year of plan is 260 working days
TIME_TOL: Final = 1e-9  # clock arithmetic is in floating point: a duration of exactly the timescale is in time
# DfE table C2: assessments by whole working days from referral to completion; each bin's last day
ASSESSMENT_BINS: Final = ((0, "assessments_days_0"), (10, "assessments_days_1_10"), (20, "assessments_days_11_20"),
                   (30, "assessments_days_21_30"), (40, "assessments_days_31_40"), (45, "assessments_days_41_45"),
                   (50, "assessments_days_46_50"), (60, "assessments_days_51_60"),
                   (math.inf, "assessments_days_61_plus"))
_ASSESSMENT_BIN_ENDS: Final = [b for b, _ in ASSESSMENT_BINS]
_ASSESSMENT_BIN_NAMES: Final = [name for _, name in ASSESSMENT_BINS]  # a list: compiled, a Final tuple indexed by a
# variable is rebuilt as a Python tuple (of tuples) at every read
# DfE table D7: child protection plans ending, by length (3 months is a quarter of a year of working days)
# (each band's last length, its column): "3 months or less", "over 3 months to 6 months", "over 6 months
# to 1 year", then "1 to 2 years" up to (not including) 2 years, and "2 years or more"
CP_LENGTH_BINS: Final = ((YEAR_DAYS / 4, "cp_plans_ended_3m_or_less"), (YEAR_DAYS / 2, "cp_plans_ended_3_6m"),
                  (YEAR_DAYS, "cp_plans_ended_6_12m"), (2 * YEAR_DAYS - 2 * TIME_TOL, "cp_plans_ended_1_2y"),
                  (math.inf, "cp_plans_ended_2y_plus"))
_CP_LENGTH_BANDS: Final = list(CP_LENGTH_BINS)  # a list, read in a loop (as _ASSESSMENT_BIN_NAMES)


def whole_working_days(start: float, end: float) -> int:
    """Whole working days from ``start`` to ``end`` as DfE counts them: the difference of their dates
    (working day k is the clock interval [k, k+1)), so the same day is 0."""
    return math.floor(end + TIME_TOL) - math.floor(start + TIME_TOL)


class _CaseDraws:
    """The per-case random quantities for one family of cases (new or returning)."""

    def __init__(self, scn: Scenario, streams: Streams, prefix: str):
        c = scn.cases
        self.mix = UniformBuffer(streams(f"{prefix}.mix"))
        self.assessment_days = BufferedSampler(c.assessment_days, streams(f"{prefix}.assessment_days"))
        self.icpc_days = BufferedSampler(c.s47_to_icpc_days, streams(f"{prefix}.s47_to_icpc_days"))


class CaseFlow:
    """Statutory cases from referral to closure, and who holds them (through its :class:`Allocator`).

    It is told of referrals (``referral``) and of staff changes (through its allocator's
    ``fill`` and ``reallocate_from``); it asks early help what a stepped-down family does.
    """

    def __init__(self, ctx: Context, workforce: Workforce, early_help: EarlyHelp):
        scn, streams, monitor = ctx.scn, ctx.streams, ctx.monitor
        self.scn, self.env, self.monitor, self.wf = scn, ctx.env, monitor, workforce
        # working days in 12 calendar months (DfE's re-referral window), from the calendar
        self.months_12 = ctx.calendar.working_days_in_12_months
        self._hold_hooks(ctx.hooks)
        self.last_referral: dict[int, float] = {}  # child -> time of their latest referral (for DfE's re-referral)
        self.levers = ctx.levers
        self.early_help = early_help
        self.streams = streams
        teams = workforce.team_names
        handles = {k: np.array([k in scn.teams[t].handles for t in teams]) for k in HELD_CASE_TYPES}
        a = scn.workforce.allocation
        self.alloc = Allocator(workforce, handles, monitor, self.on_allocated, self.on_queued, self.on_released,
                               ceiling=a.ceiling_share, priority=a.priority, hooks=ctx.hooks)
        self.strategy_days = a.strategy_discussion_days
        c = scn.cases
        self.drift = c.drift
        self.drifts = {k: k in c.drift.plans for k in PLAN_KINDS}
        self.cp_children: set[int] = set()  # children who have had a child protection plan in the run
        self.wp = c.workload_points
        self.slowdown = c.pressure_slowdown
        self.timescale = scn.standards.assessment_days
        self.icpc_timescale = scn.standards.icpc_days
        self.new_draws = _CaseDraws(scn, streams, "cases")
        self.return_draws = _CaseDraws(scn, streams, "re_referral")
        self.plan_days = {k: BufferedSampler(getattr(c.plans, k).duration_weeks,
                                             streams(f"cases.plans.{k}.duration"), WD)
                          for k in PLAN_KINDS}
        self.plan_end_u = {k: UniformBuffer(streams(f"cases.plans.{k}.ends")) for k in PLAN_KINDS}
        self.rr = rr = scn.re_referral
        self._read_often(scn)
        self.rr_u = UniformBuffer(streams("re_referral.decision"))
        self.rr_delay = BufferedSampler(rr.delay_weeks, streams("re_referral.delay"), WD)
        o = c.outcomes
        self.outcome_cum = np.cumsum([o.nfa, o.early_help, o.cin, o.cla]).tolist()
        self.outcome_names = ("nfa", "early_help", "cin", "cla")
        eh = scn.early_help
        so = eh.step_up_outcomes or o
        self.step_up_cum = np.cumsum([so.nfa, so.early_help, so.cin, so.cla]).tolist()
        self.step_up_s47 = c.s47_share if eh.step_up_s47_share is None else eh.step_up_s47_share
        # escalation of a child in need plan: the conference's timing and its decision, from their own streams
        self.escalation_icpc_days = BufferedSampler(c.s47_to_icpc_days, streams("cases.escalation.s47_to_icpc_days"))
        self.escalation_u = UniformBuffer(streams("cases.escalation.plan"))
        self.plan_ends = {}  # kind -> (cumulative shares of each ending, their total)
        for k in PLAN_KINDS:
            ends = getattr(c.plans, k).ends
            shares = [ends.close, ends.early_help, ends.cin, ends.cp, ends.cla]
            self.plan_ends[k] = (np.cumsum(shares).tolist(), sum(shares))
        self.edge_u = UniformBuffer(streams("cases.edge_of_care"))  # drawn for every child about to start care
        self.care_length: Callable[[Case, float, float, float | None], float] | None = None  # wired by the council
        self.next_case = self.next_child = 0
        self.open = {"assessment": 0, "cin": 0, "cp": 0, "cla": 0}
        self.open_assessments: dict[int, float] = {}  # case id -> referral time, of assessments open now
        self.created = self.closed = 0
        # Little's law accounting: area under the open-assessments counter, and time each assessment
        # has been open within the run (kept separately, so the two can be checked against each other)
        self._area = 0.0
        self._area_t = 0.0
        self._in_run_done = 0.0

    def _hold_hooks(self, h: Hooks) -> None:
        """The hooks this part calls, held in its own fields: reading a field of a compiled class costs a fraction of
        looking an attribute up on the Hooks object (each is the same list of subscribers, which may still grow)."""
        self.hook_child_referred, self.hook_strategy_discussion = h.child_referred, h.strategy_discussion
        self.hook_icpc_held, self.hook_child_returns = h.icpc_held, h.child_returns
        self.hook_assessment_completed, self.hook_plan_started = h.assessment_completed, h.plan_started
        self.hook_plan_ended, self.hook_case_closed = h.plan_ended, h.case_closed

    def _read_often(self, scn: Scenario) -> None:
        """The settings read at every assessment and closure, kept as plain floats (a scenario's field costs a
        lookup each time it is read)."""
        c, rr = scn.cases, scn.re_referral
        self.s47_share, self.icpc_share, self.cp_share = c.s47_share, c.icpc_share_of_s47, c.cp_plan_share_of_icpc
        self.rr_probability, self.rr_late = rr.probability, rr.late_assessment_factor
        self.rr_pressure, self.rr_not_engaged = rr.pressure_factor, rr.early_help_not_engaged_factor
        self.drift_outcome = c.drift.outcome_effect
        wp = c.workload_points  # a case's points by its type
        self.points_of: dict[str, float] = {k: getattr(wp, k) for k in ("assessment", "s47", *PLAN_KINDS)}
        self.points_assessment, self.points_s47 = wp.assessment, wp.s47  # read at every referral

    # -- creation --------------------------------------------------------------------
    def _new_case(self, kind: str, t: float, child: int | None, points: float) -> Case:
        if child is None:
            child = self.next_child
            self.next_child += 1
        case = Case(self.next_case, child, kind, points, t)
        self.next_case += 1
        self.created += 1
        return case

    def _draw_assessment(self, case: Case, draws: _CaseDraws) -> None:
        case.s47 = draws.mix.draw() < (self.step_up_s47 if case.step_up else self.s47_share)
        case.icpc = draws.mix.draw() < self.icpc_share and case.s47
        case.cp = draws.mix.draw() < self.cp_share and case.icpc
        case.outcome_u = draws.mix.draw()
        case.base_days = draws.assessment_days.draw()
        case.icpc_days = draws.icpc_days.draw()
        case.points = self.points_s47 if case.s47 else self.points_assessment

    def referral(self, t: float, child: int | None = None, returning: bool = False, step_up: bool = False) -> None:
        """A referral is accepted: an assessment is needed. ``returning``: a child whose case closed before;
        ``step_up``: a family stepped up from early help."""
        case = self._new_case("assessment", t, child, self.points_assessment)
        case.returning = returning
        case.step_up = step_up
        self._draw_assessment(case, self.return_draws if returning else self.new_draws)
        m = self.monitor
        m.count("referrals", t)
        if returning:
            m.count("returns_after_closure", t)
        before = self.last_referral.get(case.child)
        if before is not None and t - before <= self.months_12 + TIME_TOL:
            m.count("re_referrals", t)
        self.last_referral[case.child] = t
        if self.hook_child_referred:
            self.hook_child_referred(case, t, returning)
        if case.s47:  # the strategy discussion is held on a duty basis, allocated or not; the enquiry starts there
            self._strategy_discussion(case, t)
        self._open_assessment(case, t)

    def _strategy_discussion(self, case: Case, t: float) -> float:
        """A section 47 enquiry starts at a strategy discussion held on a duty basis (``strategy_days`` after ``t``);
        the initial conference is timed from it. Returns when it is held."""
        case.strategy_t = held = t + self.strategy_days
        self.monitor.count("s47_enquiries", held)
        if self.hook_strategy_discussion:
            self.hook_strategy_discussion(case, held)
        return held

    def _conference_held(self, case: Case, t: float) -> None:
        """An initial child protection conference is held now, within the ICPC timescale of its strategy discussion
        or not."""
        self.monitor.count("icpcs", t)
        if case.strategy_t is not None and t - case.strategy_t <= self.icpc_timescale + TIME_TOL:
            self.monitor.count("_icpcs_in_timescale", t)
        if self.hook_icpc_held:
            self.hook_icpc_held(case, t)

    def _count_area(self, t: float) -> None:
        self._area += self.open["assessment"] * (t - self._area_t)
        self._area_t = t

    def _open_assessment(self, case: Case, t: float) -> None:
        self._count_area(t)
        self.open["assessment"] += 1
        self.open_assessments[case.id] = case.referral_t
        self.alloc.place(case, t)

    def start_state(self, groups) -> None:
        """Open cases at time 0, with how long each has been open, given to the staff already in post;
        then the cases closed in the year before the start that will come back."""
        streams = self.streams
        init = _CaseDraws(self.scn, streams, "initial")
        rng = streams("initial.residual")
        c = self.scn.cases
        for g in groups:
            if g.type == "early_help":
                continue  # counted by the council from the early help start state
            elapsed_days = g.weeks_open * WD
            if g.type == "assessment":
                cases = []
                for _ in range(g.count):
                    case = self._new_case("assessment", -elapsed_days, None, self.wp.assessment)
                    self._draw_assessment(case, init)
                    case.strategy_t = -elapsed_days + self.strategy_days if case.s47 else None
                    self.last_referral[case.child] = case.referral_t
                    cases.append(case)
                rest_icpc = c.s47_to_icpc_days.sample_residual(rng, np.full(g.count, elapsed_days))
                rest_assess = c.assessment_days.sample_residual(rng, np.full(g.count, elapsed_days))
                for case, ri, ra in zip(cases, rest_icpc, rest_assess):
                    case.remaining = float(ri if case.icpc else ra)
                    self._open_assessment(case, 0.0)
            else:
                plan = getattr(c.plans, g.type)
                rest = plan.duration_weeks.sample_residual(rng, np.full(g.count, g.weeks_open)) * WD
                for r in rest:
                    case = self._new_case(g.type, -elapsed_days, None, getattr(self.wp, g.type))
                    self.last_referral[case.child] = case.referral_t  # the plan's start stands in for the referral
                    self._begin_plan(case, g.type, 0.0, duration=float(r), started=-elapsed_days)
        self._recently_closed()

    def _recently_closed(self) -> None:
        """Cases closed in the 52 weeks before the start, which may return in the first year. Each was
        referred one assessment before it closed, or (as often as assessments lead to a plan) one
        assessment and one child in need plan before (for DfE's re-referral count)."""
        rr = self.rr
        rng = self.streams("initial.closed_before_start")
        n = rng.poisson(rr.closed_before_start_per_year)
        closed_at = -rng.random(n) * 52.0 * WD
        back = rng.random(n) < rr.probability
        delay = np.minimum(rr.delay_weeks.sample(rng, n) * WD, 52.0 * WD)
        c = self.scn.cases
        o = c.outcomes
        plan_share = (o.cin + o.cla) / (o.nfa + o.early_help + o.cin + o.cla)
        episode = c.assessment_days.sample(rng, n)
        episode += np.where(rng.random(n) < plan_share, c.plans.cin.duration_weeks.sample(rng, n) * WD, 0.0)
        referred_at = closed_at - episode
        at = closed_at + delay
        for i in np.argsort(at, kind="stable"):
            if back[i] and at[i] > 0:
                child = self.next_child
                self.next_child += 1
                self.last_referral[child] = float(referred_at[i])
                if self.hook_child_returns:
                    self.hook_child_returns(float(at[i]), child)

    def enter_care(self, t: float) -> None:
        """A child starts care with no referral (an unaccompanied asylum-seeking child): a new case in care."""
        self._begin_plan(self._new_case("cla", t, None, self.wp.cla), "cla", t)

    def reweigh(self, case: Case, points: float) -> None:
        """A case's weight on its worker's caseload changes (a child in care proceedings weighs more)."""
        self.alloc.reweigh(case, points)

    # -- who holds cases, as the council asks ---------------------------------------------
    @property
    def waiting(self) -> int:
        """Cases waiting for a worker now."""
        return self.alloc.waiting

    @property
    def handles(self) -> dict[str, np.ndarray]:
        """Which teams hold each case type (a bool per team)."""
        return self.alloc.handles

    def waiting_by_kind(self) -> dict[str, int]:
        """Cases waiting for a worker now, by case type."""
        return self.alloc.waiting_by_kind()

    def waiting_points(self) -> dict[str, float]:
        """The workload points waiting for each team."""
        return self.alloc.waiting_points()

    def fill(self, t: float) -> None:
        """Offer waiting cases to workers with room (a worker started, or capacity was freed)."""
        self.alloc.fill(t)

    def reallocate_from(self, w: int, t: float) -> None:
        """Worker ``w`` has gone: their cases go to colleagues or back to the front of their queue."""
        self.alloc.reallocate_from(w, t)

    # -- the allocator's news ------------------------------------------------------------
    def on_allocated(self, case: Case, t: float) -> None:
        """A case got a worker: an assessment starts (or resumes) its work; a drifting plan moves again."""
        if case.kind != "assessment":
            if self.drifts[case.kind] and not case.enquiry:
                self._schedule_plan(case, t)
            return
        if case.queued_t is not None and t - case.queued_t > 1.0:
            case.pressured = True  # it waited for a worker
        if case.end is not None:
            return  # an assessment handed to a colleague mid-way
        if case.remaining is not None:
            dur = case.remaining
            case.remaining = None
        else:
            ratio = self.wf.load_ratio(case.worker)
            slow = 1.0 + self.slowdown * max(0.0, ratio - 1.0)
            case.pressured = case.pressured or ratio > 1.0 or (t - case.referral_t) > 1.0
            work = (case.icpc_days if case.icpc else case.base_days) * slow
            # a section 47 enquiry's work (and any conference) follows the duty strategy discussion
            strategy = case.strategy_t if case.s47 else None
            dur = work if strategy is None else max(0.0, strategy - t) + work
        case.end = t + dur
        call_after(self.env, dur, self._assessment_done, (case, case.token))

    def on_queued(self, case: Case, t: float) -> None:
        """A case waits unallocated: an assessment's work stands still (a drifting plan already did, on release)."""
        if case.kind == "assessment" and case.end is not None:
            case.remaining = max(0.0, case.end - t)
            case.end = None
            case.token += 1

    def on_released(self, case: Case, t: float) -> None:
        """A case is about to lose its worker: a drifting plan banks the progress it made with them."""
        if case.kind in self.drifts and self.drifts[case.kind]:
            case.work_left -= self.wf.progress(case.worker, t) - case.mark
            case.token += 1

    # -- assessment ------------------------------------------------------------------
    def _assessment_done(self, ev: Due) -> None:
        got: tuple[Case, int] = ev.value  # (typed: its items read directly, not iterated)
        case, token = got
        if token != case.token or case.kind != "assessment":
            return
        t = self.env.now
        m = self.monitor
        took = t - case.referral_t
        days = whole_working_days(case.referral_t, t)  # as DfE counts them
        case.late = days > self.timescale
        m.count("assessments_completed", t)
        m.count("_assessment_days_total", t, took)
        m.count("_assessment_workdays_total", t, days)
        m.count(_ASSESSMENT_BIN_NAMES[bisect_left(_ASSESSMENT_BIN_ENDS, days)], t)
        if not case.late:
            m.count("_assessments_in_timescale", t)
        self._count_area(t)
        self.open["assessment"] -= 1
        self._in_run_done += t - max(case.referral_t, 0.0)
        del self.open_assessments[case.id]
        case.end = None
        if self.hook_assessment_completed:
            self.hook_assessment_completed(case, t, days)
        if case.icpc:
            self._conference_held(case, t)
        if case.cp:
            self._transfer(case, "cp", t)
            return
        cum = self.step_up_cum if case.step_up else self.outcome_cum
        i = bisect_right(cum, case.outcome_u * cum[-1])
        outcome = self.outcome_names[min(i, 3)]
        if outcome == "nfa":
            self._close(case, t)
        elif outcome == "early_help":
            self._step_down(case, t)
        else:
            self._transfer(case, outcome, t)

    # -- plans -----------------------------------------------------------------------
    def _transfer(self, case: Case, kind: str, t: float) -> None:
        """The case moves to a plan of ``kind``, staying with its worker if their team handles it. A child about to
        start care stays at home on a child in need plan instead if edge-of-care support keeps them there."""
        if kind == "cla" and self.edge_u.draw() >= self.levers.care_entry_factor(t):
            self.monitor.count("care_entries_avoided", t)
            kind = "cin"
        w = case.worker
        points = self.points_of[kind]
        if w >= 0 and self.alloc.handles[kind][self.wf.team[w]]:
            self.alloc.reweigh(case, points)
            case.kind = kind
            self._begin_plan(case, kind, t, placed=True)
        else:
            self.alloc.release(case, t)
            case.kind = kind
            case.points = points
            self._begin_plan(case, kind, t)

    def _begin_plan(self, case: Case, kind: str, t: float, duration: float | None = None, placed: bool = False,
                    started: float | None = None) -> None:
        """A plan of ``kind`` starts at ``t`` (or, in the start state, started at ``started``) and runs
        ``duration`` working days at normal pace (drawn if not given)."""
        case.kind = kind
        self.open[kind] += 1
        d = self.plan_days[kind].draw() if duration is None else duration
        if kind == "cla" and self.care_length is not None:
            d = self.care_length(case, t, d, started)
        case.plan_start = t if started is None else started
        case.plan_due = t + d
        if self.hook_plan_started:
            self.hook_plan_started(case, kind, t, d)
        if kind == "cp":
            self._cp_plan_starts(case, t, counted=started is None)
        elif kind == "cla" and started is None:
            self.monitor.count("cla_started", t)
        if not self.drifts[kind]:
            if not placed:
                self.alloc.place(case, t)
            call_after(self.env, d, self._plan_done, (case, case.token))
            return
        case.work_left = d
        if placed:
            if case.worker >= 0:  # (a case placed but waiting moves once allocated: on_allocated)
                self._schedule_plan(case, t)
        else:
            self.alloc.place(case, t)  # on_allocated schedules it, if a worker is found

    def _schedule_plan(self, case: Case, t: float) -> None:
        """A drifting plan held by a worker: look again when its work would be done at its worker's pace now.

        If the pace falls meanwhile, the look finds work left and looks again; if it rises, the plan
        ends at the look (so a recovery shows only at the next look: drift lingers a little)."""
        w = case.worker
        case.mark = self.wf.progress(w, t)
        case.token += 1
        wait = max(0.0, case.work_left) / self.wf.pace[w]
        call_after(self.env, wait, self._plan_check, (case, case.token))

    def _plan_check(self, ev: Due) -> None:
        got: tuple[Case, int] = ev.value  # (typed: its items read directly, not iterated)
        case, token = got
        if token != case.token:
            return
        t = self.env.now
        case.work_left -= self.wf.progress(case.worker, t) - case.mark
        if case.work_left > 1e-7:
            self._schedule_plan(case, t)
        else:
            self._plan_ends(case, t)

    def _plan_done(self, ev: Due) -> None:
        got: tuple[Case, int] = ev.value  # (typed: its items read directly, not iterated)
        case, token = got
        if token == case.token:
            self._plan_ends(case, self.env.now)

    def _plan_ends(self, case: Case, t: float) -> None:
        """The plan's work is done: the case closes, steps down or moves to another plan (a child in need
        plan escalating to child protection goes through a section 47 enquiry and a conference first)."""
        kind = case.kind
        cum, total = self.plan_ends[kind]
        u = self.plan_end_u[kind].draw()
        if kind == "cp":
            case.drift_years = max(0.0, t - case.plan_due) / YEAR_DAYS
            cum, total = self._cp_plan_ends(case, t, cum, total)
        i = bisect_right(cum, u * total)
        nxt = ("close", "early_help", "cin", "cp", "cla")[min(i, 4)]
        if kind == "cin" and nxt == "cp":
            self._escalate(case, t)
            return
        self.open[kind] -= 1
        if self.hook_plan_ended:
            self.hook_plan_ended(case, kind, t, nxt)
        if nxt == "close":
            self._close(case, t)
        elif nxt == "early_help":
            self._step_down(case, t)
        else:
            case.token += 1
            self._transfer(case, nxt, t)

    def _escalate(self, case: Case, t: float) -> None:
        """A child in need plan escalates: a strategy discussion starts a section 47 enquiry and an initial
        conference follows (table C4's timing). The child stays in need, with the same worker, meanwhile."""
        case.token += 1  # nothing of the plan is in flight while the enquiry runs
        case.enquiry = True
        strategy_t = self._strategy_discussion(case, t)
        self.alloc.reweigh(case, self.wp.s47)
        icpc_t = strategy_t + self.escalation_icpc_days.draw()
        call_after(self.env, icpc_t - t, self._escalation_conference, case)

    def _escalation_conference(self, ev: Due) -> None:
        """The initial conference of an escalated child in need plan: a child protection plan with the
        conference's chance (cases.cp_plan_share_of_icpc), otherwise a new child in need plan."""
        case: Case = ev.value
        t = self.env.now
        case.enquiry = False
        self._conference_held(case, t)
        nxt = "cp" if self.escalation_u.draw() < self.scn.cases.cp_plan_share_of_icpc else "cin"
        self.open["cin"] -= 1
        if self.hook_plan_ended:
            self.hook_plan_ended(case, "cin", t, nxt)
        case.token += 1
        if nxt == "cp":
            self._transfer(case, "cp", t)
        else:
            self.alloc.reweigh(case, self.wp.cin)
            self._begin_plan(case, "cin", t, placed=True)

    def _cp_plan_starts(self, case: Case, t: float, counted: bool) -> None:
        if counted:
            self.monitor.count("cp_plans_started", t)
            if case.child in self.cp_children:
                self.monitor.count("_cp_plans_repeat", t)
        self.cp_children.add(case.child)

    def _cp_plan_ends(self, case: Case, t: float, cum: list, total: float):
        """Count a child protection plan's end; a plan that drifted is likelier to end in care."""
        self.monitor.count("cp_plans_ended", t)
        length = t - case.plan_start
        for end, name in _CP_LENGTH_BANDS:  # "3 months or less", then "over 3 months to 6 months", ...
            if length <= end + TIME_TOL or end == math.inf:
                self.monitor.count(name, t)
                break
        if case.drift_years <= 0 or self.drift.outcome_effect <= 0:
            return cum, total
        shares = np.diff([0.0] + list(cum))
        shares[4] *= 1.0 + self.drift.outcome_effect * case.drift_years
        return np.cumsum(shares).tolist(), float(shares.sum())

    # -- endings ---------------------------------------------------------------------
    def _end(self, case: Case, t: float) -> None:
        self.alloc.release(case, t)
        case.kind = "closed"
        case.token += 1
        self.closed += 1
        self.monitor.count("cases_closed", t)
        self.alloc.fill(t)

    def _close(self, case: Case, t: float, stepped_down: bool = False, not_engaged: bool = False) -> None:
        self._end(case, t)
        p = self.rr_probability
        if stepped_down:
            p *= self.levers.step_down_return_factor(t)
        if case.late:
            p *= self.rr_late
        if case.pressured:
            p *= self.rr_pressure
        if not_engaged:
            p *= self.rr_not_engaged
        p *= 1.0 + self.drift_outcome * case.drift_years
        back = self.rr_u.draw() < p and not case.settled
        delay = min(self.rr_delay.draw(), 52.0 * WD)
        if self.hook_case_closed:
            self.hook_case_closed(case, t, stepped_down, delay if back else None)
        if back:  # the child comes back through the front door, as a contact about a known child
            if self.hook_child_returns:
                self.hook_child_returns(t + delay, case.child)

    def _step_down(self, case: Case, t: float) -> None:
        """Step-down to early help: the statutory case closes; the family may or may not engage."""
        engaged = self.early_help.step_down(t)
        self._close(case, t, stepped_down=True, not_engaged=not engaged)

    # -- measurement -----------------------------------------------------------------
    def open_case_ages(self, t: float):
        """Every open statutory case at ``t``, held or waiting: (type, weeks open), for writing a start state.
        An assessment is open since its referral; a plan since the plan started."""
        waiting = [c for _, c in self.alloc.waiting_cases()]
        for case in list(self.wf.held_cases()) + waiting:
            since = case.referral_t if case.kind == "assessment" else case.plan_start
            yield case.kind, float(t - since) / WD

    def snapshot(self, week: int, t: float) -> None:
        """Read the case stocks: open cases, overdue assessments, who waits and for how long."""
        m = self.monitor
        m.set("assessments_open", week, self.open["assessment"])
        # past the timescale in whole working days, as an assessment finished now would be late; and the days open
        # within the run, added in order (numpy's arithmetic on each, as np.floor, np.maximum and cumsum did it)
        late_before = math.floor(t + TIME_TOL) - self.timescale
        overdue = 0
        open_days = 0.0
        for referred in self.open_assessments.values():
            if math.floor(referred + TIME_TOL) < late_before:
                overdue += 1
            open_days += t - (referred if referred >= 0.0 else 0.0)
        m.set("assessments_overdue", week, overdue)
        self._count_area(t)
        m.set("_assessment_area", week, self._area)
        m.set("_assessment_in_run_days", week, self._in_run_done + open_days)
        for k in PLAN_KINDS:
            m.set(f"{k}_open", week, self.open[k])
        m.set("unallocated_cases", week, self.alloc.waiting)
        cp_waiting, waited = 0, []
        for cls, case in self.alloc.waiting_cases():
            cp_waiting += cls in ("s47", "cp")
            waited.append(t - case.queued_t)
        m.set("cp_unallocated", week, cp_waiting)
        m.set("unallocated_wait_days_mean", week, pairwise_sum(waited) / len(waited) if waited else math.nan)  # np.mean
        m.set("_cases_created", week, self.created)
        m.set("_cases_closed_total", week, self.closed)

