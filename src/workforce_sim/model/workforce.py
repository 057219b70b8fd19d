"""Staff in post: who they are, what they can carry, who is absent, who leaves.

Each worker's state is an item of a Python list (one list per field, indexed by worker), so that the compiled core
reads and writes a worker's field directly, and the weekly update (pressure, leaving, absence, end of the ASYE year)
is one pass over those in post, not a wake-up per worker. Every step does numpy's arithmetic on each worker, in the
same order (sums as numpy's pairwise sum, a sum by team as np.bincount adds), so results are the same bit for bit as
when the fields were numpy arrays. A float in a list is added to as ``a[i] = a[i] + x``: compiled, that adds two
floats, where ``a[i] += x`` goes through Python's generic addition.

Leaving uses one exponential threshold per worker: a worker resigns when their accumulated leaving hazard passes it,
which is exact for a hazard that changes week by week with caseload pressure and gives the same worker the same
threshold in every scenario (common random numbers).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Final

import numpy as np

from ..scenario.calendar import WEEKS_PER_YEAR, WORKING_DAYS_PER_WEEK
from ..scenario.schema import GRADES, Scenario
from ..scenario.streams import Streams
from .case import Case
from .draws import UniformBuffer
from .monitoring import Monitor

# grade codes: positions in schema.GRADES (Final: compiled, a constant rather than a lookup at every use)
ASYE: Final = 0
SW: Final = 1
SENIOR: Final = 2
TM: Final = 3


class Workforce:
    """Everyone in post (and everyone who has been), as parallel lists indexed by worker.

    It owns each worker's state: team, grade, contract, FTE, start time, whether in post,
    on notice or absent, the cases they hold (count, weighted points and the case objects),
    their smoothed caseload pressure and their leaving hazard. Other parts change it only
    through its methods; the allocator reads loads from it and is told of changes through
    :meth:`take_changes`. It also answers questions about the staff as a whole: who screens
    at the front door, how loaded supervision is, who is eligible for a retention payment.
    """

    def __init__(self, scn: Scenario, team_names: list[str], streams: Streams, monitor: Monitor):
        wf = scn.workforce
        self.scn = scn
        self.monitor = monitor
        self.team_names = team_names
        self.std_table, self.cap_table = capacity_tables(scn, team_names)
        holding = scn.case_holding_teams()
        self.threshold: list[float] = [scn.standard(t) if t in holding else math.inf for t in team_names]  # by team
        self.ramp_days = wf.ramp_up_weeks * WORKING_DAYS_PER_WEEK
        self.ramp0 = wf.ramp_up_start_share
        self.asye_days = wf.asye_weeks * WORKING_DAYS_PER_WEEK
        to = wf.turnover
        self.hazard_perm: list[float] = [-math.log1p(-min(to.permanent_per_year[g], 0.999999)) for g in GRADES]
        self.hazard_agency = -math.log1p(-min(to.agency_per_year, 0.999999))
        self.alpha = 1.0 / to.pressure_smoothing_weeks
        self.waiting_share = to.waiting_pressure_share
        self.drift_effect = scn.cases.drift.effect
        q = 1.0 / wf.absence.mean_spell_weeks
        r = wf.absence.rate
        self.absence_end = q
        self.absence_start = min(1.0, r * q / (1.0 - r)) if r < 1 else 1.0
        # one stream per team, so staffing changes in one team never shift another's draws
        self._rng_leave = [streams(f"turnover.{t}") for t in team_names]
        # each team's absence draws, one a week for each of its workers so far, handed out from blocks (the same
        # numbers, in the same order, as drawing a team's all at once each week)
        self._absence_u = [UniformBuffer(streams(f"absence.{t}")) for t in team_names]
        self.screening_team: list[bool] = ["screening" in scn.teams[t].handles for t in team_names]
        # the two tables as Python floats, for one worker at a time (the same values)
        self._std: list[list[float]] = self.std_table.tolist()
        self._cap: list[list[float]] = self.cap_table.tolist()
        self.case_holding = [i for i, t in enumerate(team_names) if t in scn.case_holding_teams()]
        self._team_measures = [(ti, f"caseload_{team_names[ti]}", f"caseload_incl_unallocated_{team_names[ti]}")
                               for ti in self.case_holding]
        self.span = wf.manager_span
        # each team's workers (all so far, by index): the absence draws are made team by team
        self._members: list[list[int]] = [[] for _ in team_names]
        self._changes: list[int] = []  # workers whose availability or capacity changed, for the allocator
        self._no_workers()

    def _no_workers(self) -> None:
        """Every per-worker field, empty: a worker is an index into each."""
        self.n = 0
        self.present: list[int] = []  # the workers in post, by index (``active`` as a list of indices)
        self.team: list[int] = []
        self.grade: list[int] = []
        self.agency: list[bool] = []
        self.fte: list[float] = []
        self.start: list[float] = []
        self.active: list[bool] = []
        self.notice: list[bool] = []
        self.absent: list[bool] = []
        self.hazard: list[float] = []
        self.limit: list[float] = []
        self.pressure: list[float] = []  # smoothed caseload pressure: weighted caseload over capacity (1 = at capacity)
        self.pace: list[float] = []  # how fast the worker's plans move this week (1: at normal pace; drift below)
        self.work_clock: list[float] = []  # plan-days of progress each worker's cases have made, at clock_t
        self.clock_t = 0.0
        self.post: list[int] = []
        self.caseset: list[set[Case]] = []  # the cases each worker holds
        self.load: list[float] = []  # weighted caseload per worker (points)
        self.n_cases: list[int] = []  # cases held per worker
        # (cases, points) per worker as arrays, made from the two lists when first read after a change
        self._held_arrays: tuple[np.ndarray, np.ndarray] | None = None
        self.holds_cases: list[bool] = []
        self.screener: list[bool] = []  # screens at the front door: in a screening team, not its manager
        self.manager: list[bool] = []  # a team manager (nobody becomes or stops being one)
        self.std_points: list[float] = []  # points at the team's manageable standard (std_table by team, grade x fte)

    # -- membership -----------------------------------------------------------------
    def add(self, team: int, grade: int, agency: bool, fte: float, start: float, post: int) -> int:
        """A worker starts (or, at time 0, is already in post since ``start``)."""
        i = self.n
        self.n += 1
        self.present.append(i)
        self.team.append(team)
        self.grade.append(grade)
        self.agency.append(agency)
        self.fte.append(fte)
        self.start.append(start)
        self.post.append(post)
        self.active.append(True)
        self.notice.append(False)
        self.absent.append(False)
        self.hazard.append(0.0)
        self.limit.append(float(self._rng_leave[team].exponential()))
        self.pressure.append(1.0)
        self.pace.append(1.0)
        self.work_clock.append(0.0)
        screening = self.screening_team[team]
        self.holds_cases.append(grade != TM and not screening)
        self.screener.append(grade != TM and screening)
        self.manager.append(grade == TM)
        self.std_points.append(self._std[team][grade] * fte)
        self._members[team].append(i)
        self.caseset.append(set())
        self.load.append(0.0)
        self.n_cases.append(0)
        self._held_arrays = None
        self._changes.append(i)
        return i

    def array(self, field: str) -> np.ndarray:
        """A field of every worker so far (``"active"``, ``"fte"``, ...) as a numpy array, for analysis and tests."""
        return np.array(getattr(self, field))

    # -- cases held -------------------------------------------------------------------
    def take_case(self, i: int, case: Case) -> None:
        """Worker ``i`` now holds ``case`` (its ``points`` add to their weighted caseload)."""
        self.n_cases[i] += 1
        self.caseset[i].add(case)
        self.set_load(i, self.load[i] + case.points)

    def drop_case(self, i: int, case: Case) -> None:
        """Worker ``i`` no longer holds ``case``."""
        self.n_cases[i] -= 1
        self.caseset[i].discard(case)
        self.set_load(i, self.load[i] - case.points)

    def set_load(self, i: int, load: float) -> None:
        """Set worker ``i``'s weighted caseload (points)."""
        self.load[i] = load
        self._held_arrays = None

    @property
    def cases(self) -> np.ndarray:
        """Cases held, per worker (everyone who has been in post), as an array."""
        return self._held()[0]

    @property
    def points(self) -> np.ndarray:
        """Weighted caseload (points) per worker (everyone who has been in post), as an array."""
        return self._held()[1]

    def _held(self) -> tuple[np.ndarray, np.ndarray]:
        held = self._held_arrays
        if held is None:  # kept as lists while cases come and go (an array's item costs more to change)
            held = self._held_arrays = (np.array(self.n_cases, dtype=int), np.array(self.load, dtype=float))
        return held

    def remove(self, i: int) -> None:
        """Worker ``i`` has left."""
        if self.active[i]:
            self.present.remove(i)
        self.active[i] = False
        self.notice[i] = False
        self.absent[i] = False
        self._changes.append(i)

    def resigned_before_start(self, i: int, notice_days: float) -> float | None:
        """For a worker in post at the start: if they resigned within one notice period before it (at
        their grade's and contract's base leaving rate), the working days of notice left; else None.

        The worker's own leaving threshold decides, so no random number is drawn; one who did not
        resign keeps the rest of their threshold (an exponential forgets what has passed). The hazard
        builds up from one notice period before the start, as it goes on building up in the run: a
        threshold a share ``s`` of the way through the window was passed that share of the notice period
        after its beginning, so ``s`` of the notice is left. (Counting the other way, from the start
        back, had the most recent resigners hold the lowest thresholds: leavers rose through the first
        notice period, when those in post at the start leave fastest, then fell at once.)"""
        rate = self.hazard_agency if self.agency[i] else self.hazard_perm[self.grade[i]]
        window = rate * notice_days / WORKING_DAYS_PER_WEEK / WEEKS_PER_YEAR
        if window <= 0:
            return None
        if self.limit[i] < window:
            return notice_days * self.limit[i] / window
        self.limit[i] -= window
        return None

    def give_notice(self, i: int) -> None:
        """Worker ``i`` is on notice: they keep their cases but take no new ones."""
        self.notice[i] = True
        self._changes.append(i)

    def has_changes(self) -> bool:
        """Whether any worker's availability or capacity changed since the allocator last asked."""
        return bool(self._changes)

    def take_changes(self) -> list[int]:
        """Workers who joined, left, gave notice, went off or came back, or changed grade since last asked."""
        out, self._changes = self._changes, []
        return out

    # -- capacity -------------------------------------------------------------------
    def capacity(self, t: float, idx: np.ndarray) -> np.ndarray:
        """Weighted caseload the workers ``idx`` can be allocated at time ``t``."""
        team, grade = np.array(self.team)[idx], np.array(self.grade)[idx]
        return self.ramped(t, self.cap_table[team, grade] * np.array(self.fte)[idx], np.array(self.start)[idx])

    def ramped(self, t: float, base: np.ndarray, start: np.ndarray) -> np.ndarray:
        """Full capacity ``base`` scaled down for workers who started recently (at ``start``)."""
        if self.ramp_days <= 0 or t - start.max(initial=-np.inf) >= self.ramp_days:
            return base
        share = self.ramp0 + (1 - self.ramp0) * (t - start) / self.ramp_days
        return base * np.minimum(np.maximum(share, self.ramp0), 1.0)  # np.clip's values, without its overhead

    def ramped_one(self, t: float, base: float, start: float) -> float:
        """:meth:`ramped` for one worker still ramping up (the same arithmetic, on Python floats)."""
        share = self.ramp0 + (1 - self.ramp0) * (t - start) / self.ramp_days
        return base * min(max(share, self.ramp0), 1.0)

    def full_capacity(self, i: int) -> float:
        """Points worker ``i`` can carry once ramped up (the ``base`` of :meth:`capacity`)."""
        return self._cap[self.team[i]][self.grade[i]] * self.fte[i]

    def takes_cases_now(self, i: int) -> bool:
        """Whether worker ``i`` holds cases and can take new ones now (:meth:`available`, for one worker)."""
        return self.holds_cases[i] and self.active[i] and not self.notice[i] and not self.absent[i]

    def load_ratio(self, i: int) -> float:
        """Worker ``i``'s caseload pressure now: weighted caseload over their team's manageable standard in points
        (1 = at the standard)."""
        std = self.std_points[i]
        return self.load[i] / std if std > 0 else 0.0

    def progress(self, i: int, t: float) -> float:
        """Plan-days of progress a case held by worker ``i`` throughout would have made by ``t`` (a running total)."""
        return self.work_clock[i] + self.pace[i] * (t - self.clock_t)

    def _team_sums(self, values: list[float]) -> tuple[list[float], list[float]]:
        """Per team, over the case-holders in post in index order: their points at the standard, and ``values``
        (np.bincount's sums: each team's from 0.0, adding worker by worker)."""
        n_teams = len(self.team_names)
        cap, total = [0.0] * n_teams, [0.0] * n_teams
        team, holds, std = self.team, self.holds_cases, self.std_points
        for i in self.present:
            if holds[i]:
                ti = team[i]
                cap[ti] = cap[ti] + std[i]
                total[ti] = total[ti] + values[i]
        return cap, total

    def team_pressure(self, waiting_points: dict[str, float], handles: dict[str, np.ndarray]) -> np.ndarray:
        """Per team: held plus waiting workload over what its case-holders in post carry at the manageable standard.

        Waiting work of a case type is shared among the teams that handle it in proportion to
        their capacity. A team with work and no capacity has pressure 2 (as supervision does).
        """
        cap, held = self._team_sums(self.load)
        waiting = share_among_teams(waiting_points, handles, cap)
        out = []
        for c, h, q in zip(cap, held, waiting):
            work = h + q
            out.append(work / c if c > 0 else (2.0 if work > 0 else 0.0))
        return np.array(out)

    def team_waiting(self, waiting_points: dict[str, float], handles: dict[str, np.ndarray]
                     ) -> tuple[list[float], list[float]]:
        """Per team: what its case-holders in post carry at the standard (points), and the points waiting for it
        (work of a type several teams handle shared in proportion to the first)."""
        cap = self._team_sums(self.std_points)[0]
        return cap, share_among_teams(waiting_points, handles, cap)

    # -- the staff as a whole ----------------------------------------------------------
    def screeners_present(self) -> int:
        """Front-door screeners in post, not on notice and not absent (team managers do not screen)."""
        notice, absent, screener = self.notice, self.absent, self.screener
        return sum([1 for i in self.present if screener[i] and not notice[i] and not absent[i]])

    def screens(self, i: int) -> bool:
        """Whether worker ``i`` is in a front-door (screening) team."""
        return self.screening_team[self.team[i]]

    def supervision_ratio(self) -> list[float]:
        """Per team: staff FTE over what its managers can supervise (1 = at the span; 2 with no manager)."""
        n_teams = len(self.team_names)
        sup, mgr = [0.0] * n_teams, [0.0] * n_teams
        team, manager, fte = self.team, self.manager, self.fte
        for i in self.present:  # each team's sums in worker order, as np.bincount adds
            if manager[i]:
                mgr[team[i]] = mgr[team[i]] + fte[i]
            else:
                sup[team[i]] = sup[team[i]] + fte[i]
        out = []
        for s, m in zip(sup, mgr):
            cap = m * self.span
            out.append(s / cap if cap > 0 else (2.0 if s > 0 else 0.0))
        return out

    def supervision_load_pct(self) -> float:
        """Social workers per manager across the service, as a percentage of the span (NaN with no managers)."""
        manager, fte = self.manager, self.fte
        staff_fte = pairwise_sum([fte[i] for i in self.present if not manager[i]])
        mgr_fte = pairwise_sum([fte[i] for i in self.present if manager[i]])
        return 100.0 * staff_fte / (mgr_fte * self.span) if mgr_fte > 0 else math.nan

    def agency_staying(self) -> list[int]:
        """Agency workers in post and not on notice (by index)."""
        agency, notice = self.agency, self.notice
        return [i for i in self.present if agency[i] and not notice[i]]

    def fte_where(self, mask: Sequence[bool] | np.ndarray) -> float:
        """FTE in post among the workers picked by ``mask`` (over all workers so far)."""
        fte = self.fte
        return pairwise_sum([fte[i] for i in self.present if mask[i]])

    # -- weekly update ----------------------------------------------------------------
    def weekly(self, supervision_ratio: list[float], t: float, levers, waiting_ratio: list[float] | None = None
               ) -> tuple[list[int], list[float]]:
        """Advance pressure, leaving hazard, absence and ASYE year by one week. ``waiting_ratio`` (per team: work
        waiting unallocated for it over what its staff carry at the standard) adds to the pressure its case-holders
        feel, by ``waiting_pressure_share``; their own caseload alone sets how fast their plans move.

        Returns the workers who resign now and when each one's leaving hazard passed their threshold. The week's
        hazard builds up at a steady rate from the last weekly step to ``t``, so the crossing falls within the week
        just ended; the worker gives notice now (when the council learns of it) but their notice runs from the
        crossing, as it does for those who resigned before the start (:meth:`resigned_before_start`). Were it to run
        from ``t``, leaving would lag by up to a week: the run's first resigners would leave a notice period and a
        week after the start, and nobody would leave in the week after the start state's resigners had gone.

        Only those in post move on: nothing reads a leaver's pressure, pace or hazard after they have gone.
        """
        since = self.clock_t  # the last weekly step (0: the start)
        self._pressure_and_pace(t, supervision_ratio, waiting_ratio)
        to = self.scn.workforce.turnover
        pe, se = to.pressure_effect, to.supervision_effect
        factor: list[float] | None = None
        if levers.active("retention", t):  # else the factor is 1 for everyone: multiplying by it changes nothing
            grades, agency_ = np.array(self.grade, dtype=int), np.array(self.agency, dtype=bool)
            factor = levers.leaving_factor(t, grades, agency_).tolist()
        team, grade, agency, manager, notice = self.team, self.grade, self.agency, self.manager, self.notice
        pressure, hazard, limit = self.pressure, self.hazard, self.limit
        resign: list[int] = []
        crossed: list[float] = []
        for i in self.present:
            if notice[i]:
                continue
            h = self.hazard_agency if agency[i] else self.hazard_perm[grade[i]]
            mult = 1.0 + pe * _positive(pressure[i] - 1.0)
            mult *= 1.0 + se * _positive(supervision_ratio[team[i]] - 1.0) * (0.0 if manager[i] else 1.0)
            if factor is not None:
                mult *= factor[i]
            added = h * mult / WEEKS_PER_YEAR
            hz = hazard[i] + added
            hazard[i] = hz
            if hz >= limit[i]:
                resign.append(i)
                crossed.append(self._crossed(i, added, since, t))
        self._absence()
        return resign, crossed

    def _pressure_and_pace(self, t: float, supervision_ratio: list[float], waiting_ratio: list[float] | None) -> None:
        """:meth:`weekly`'s smoothed pressure and the pace of each case-holder's plans (each team's supervision
        ratio, and the work waiting for it over what it carries at the standard)."""
        team, holds, manager = self.team, self.holds_cases, self.manager
        std, load, pace, work_clock, pressure = self.std_points, self.load, self.pace, self.work_clock, self.pressure
        waits = waiting_ratio is not None and self.waiting_share > 0
        dt, alpha, drift, share = t - self.clock_t, self.alpha, self.drift_effect, self.waiting_share
        for i in self.present:
            work_clock[i] = work_clock[i] + pace[i] * dt
            if manager[i]:
                now_ratio = supervision_ratio[team[i]]
                pace[i] = 1.0
            elif holds[i]:
                s = std[i]
                now_ratio = load[i] / s if s > 0 else 1.0
                pace[i] = 1.0 / (1.0 + drift * _positive(now_ratio - 1.0))
                if waiting_ratio is not None and waits:
                    now_ratio = now_ratio + share * waiting_ratio[team[i]]
            else:
                now_ratio = 1.0
                pace[i] = 1.0
            pressure[i] = pressure[i] + alpha * (now_ratio - pressure[i])
        self.clock_t = t

    def _crossed(self, i: int, added: float, since: float, t: float) -> float:
        """When worker ``i``'s leaving hazard reached their threshold: ``added`` of it built up steadily from
        ``since`` to ``t``."""
        share = 1.0 - (self.hazard[i] - self.limit[i]) / added if added > 0 else 1.0
        crossed = since + _clip01(share) * (t - since)
        start = self.start[i]
        crossed = crossed if crossed >= start else start  # np.maximum's choice (no NaN here)
        return crossed if crossed <= t else t  # np.minimum's

    def _absence(self) -> None:
        """A week of absence: one draw per worker (so far), from their team's stream; those in post start or end a
        spell."""
        u = [0.0] * self.n
        for ti, draws in enumerate(self._absence_u):
            for i in self._members[ti]:
                u[i] = draws.draw()
        absent, end, start = self.absent, self.absence_end, self.absence_start
        for i in self.present:
            was = absent[i]
            now = u[i] >= end if was else u[i] < start
            if now != was:
                absent[i] = now
                self._changes.append(i)

    def finish_asye(self, t: float) -> int:
        """Newly qualified workers past their ASYE year become social workers; returns how many."""
        grade, start, done = self.grade, self.start, 0
        for i in self.present:
            if grade[i] == ASYE and t - start[i] >= self.asye_days:
                grade[i] = SW
                self.std_points[i] = self._std[self.team[i]][SW] * self.fte[i]
                self._changes.append(i)
                done += 1
        return done

    # -- the state as a start state -------------------------------------------------
    def in_post(self, t: float):
        """Everyone in post at ``t``: (team, grade, contract, fte, weeks in post), for writing a start state."""
        for i in list(self.present):
            yield (self.team_names[self.team[i]], GRADES[self.grade[i]], "agency" if self.agency[i] else "permanent",
                   self.fte[i], (t - self.start[i]) / WORKING_DAYS_PER_WEEK)

    def held_cases(self):
        """Every case held by someone in post."""
        for i in list(self.present):
            yield from self.caseset[i]

    # -- measurement ----------------------------------------------------------------
    def snapshot(self, week: int, waiting: int) -> None:
        """Read staff and caseload stocks; ``waiting`` cases are unallocated (counted in the headline measure)."""
        m = self.monitor
        # the FTE of each group of workers in post, in index order, summed as numpy sums them (pairwise_sum)
        fte, grade, agency, absent = self.fte, self.grade, self.agency, self.absent
        everyone: list[float] = []
        agency_fte: list[float] = []
        absent_fte: list[float] = []
        of_grade: list[list[float]] = [[] for _ in GRADES]
        by_contract: list[list[float]] = [[] for _ in range(2 * len(GRADES))]  # grade g: permanent 2g, agency 2g + 1
        cases_held = 0
        for i in self.present:
            f = fte[i]
            g = grade[i]
            everyone.append(f)
            of_grade[g].append(f)
            cases_held += self.n_cases[i]
            if agency[i]:
                agency_fte.append(f)
                by_contract[2 * g + 1].append(f)
            else:
                by_contract[2 * g].append(f)
            if absent[i]:
                absent_fte.append(f)
        m.set("staff_fte", week, pairwise_sum(everyone))
        m.set("staff_fte_agency", week, pairwise_sum(agency_fte))
        m.set("staff_fte_asye", week, pairwise_sum(of_grade[ASYE]))
        m.set("staff_fte_absent", week, pairwise_sum(absent_fte))
        m.set("staff_fte_managers", week, pairwise_sum(of_grade[TM]))
        m.set("_workers_in_post", week, float(len(everyone)))
        for g, (perm_name, agency_name) in enumerate(_FTE_BY_GRADE):
            m.set(perm_name, week, pairwise_sum(by_contract[2 * g]))
            m.set(agency_name, week, pairwise_sum(by_contract[2 * g + 1]))
        self._caseload_snapshot(week, waiting)
        m.set("_cases_held", week, float(cases_held))

    def _caseload_snapshot(self, week: int, waiting: int) -> None:
        """The caseload stocks of :meth:`snapshot`, over the case-holders in post."""
        m = self.monitor
        holds, fte, n_cases, team = self.holds_cases, self.fte, self.n_cases, self.team
        ftes: list[float] = []
        per: list[float] = []
        cases_sum = over = 0
        for i in self.present:
            if holds[i]:
                f, c = fte[i], n_cases[i]
                ftes.append(f)
                cases_sum += c
                ratio = c / f
                per.append(ratio)
                if ratio > self.threshold[team[i]]:
                    over += 1
        fte_sum = pairwise_sum(ftes)
        m.set("case_holding_fte", week, fte_sum)
        m.set("caseload_incl_unallocated", week, caseload_with_waiting(cases_sum, waiting, fte_sum))
        if not per:
            for k in ("caseload_mean", "caseload_p90", "caseload_max", "workers_over_threshold_pct"):
                m.set(k, week, math.nan)
            return
        m.set("caseload_mean", week, cases_sum / fte_sum)
        m.set("workers_over_threshold_pct", week, 100.0 * (over / len(per)))  # np.mean's value: a count over a count
        ranked = sorted(per)
        if any(x != x for x in per):  # a NaN: sorting is undefined; np.percentile and max say NaN
            m.set("caseload_p90", week, float(np.percentile(np.array(per), 90)))
            m.set("caseload_max", week, float(np.max(np.array(per))))
        else:
            m.set("caseload_p90", week, percentile_of_sorted(ranked, 90))
            m.set("caseload_max", week, ranked[-1])  # max's value: caseloads are never -0.0, so no tie of zeros

    def team_snapshot(self, week: int, waiting: dict[str, int], handles: dict[str, np.ndarray]) -> None:
        """Each case-holding team's caseload per case-holding FTE (DfE's measure) and counting the cases waiting for
        it; the largest of the latter is ``caseload_worst_team``. Cases of a type several teams handle are shared
        among them in proportion to their case-holding FTE."""
        m, n_teams = self.monitor, len(self.team_names)
        fte, held = [0.0] * n_teams, [0.0] * n_teams
        holds, team = self.holds_cases, self.team
        for i in self.present:  # np.bincount's sums, team by team in worker order
            if holds[i]:
                ti = team[i]
                fte[ti] = fte[ti] + self.fte[i]
                held[ti] = held[ti] + self.n_cases[i]
        queued = share_among_teams(waiting, handles, fte)
        with_waiting, never_manageable = [], False
        for ti, name, name_incl in self._team_measures:
            m.set(name, week, held[ti] / fte[ti] if fte[ti] > 0 else math.nan)
            caseload = caseload_with_waiting(held[ti], queued[ti], fte[ti])
            never_manageable = never_manageable or caseload != caseload  # NaN
            with_waiting.append(caseload)
            m.set(name_incl, week, caseload)
        # NaN if any team is NaN: never manageable (np.max's answer; its NaN is caseload_with_waiting's math.nan)
        m.set("caseload_worst_team", week, math.nan if never_manageable else max(with_waiting))


def _positive(x: float) -> float:
    """``np.maximum(0.0, x)``: x when above zero, else 0.0 (NaN stays NaN, as numpy keeps it)."""
    return 0.0 if x <= 0.0 else x


def _clip01(x: float) -> float:
    """``np.minimum(np.maximum(x, 0.0), 1.0)`` for an x that is not NaN."""
    x = x if x >= 0.0 else 0.0
    return x if x <= 1.0 else 1.0


_FTE_BY_GRADE = tuple((f"_fte_permanent_{name}", f"_fte_agency_{name}") for name in GRADES)


def pairwise_sum(values: list[float], lo: int = 0, n: int = -1) -> float:
    """``np.sum`` of ``values[lo:lo + n]`` (all of them by default) as a 1-D float64 array, bit for bit, without numpy:
    numpy's pairwise summation in its own order (its ``pairwise_sum``: under 8 values one by one from 0.0; up to 128
    in 8 running sums, joined in pairs, then the rest one by one; above 128 the two halves, split at a multiple of
    8). tests/test_weekly_step.py compares it with ``np.sum`` on random arrays of every size up to 300."""
    if n < 0:
        n = len(values) - lo
    if n < 8:
        res = 0.0
        for i in range(lo, lo + n):
            res += values[i]
        return res
    if n <= 128:
        r0, r1, r2, r3 = values[lo], values[lo + 1], values[lo + 2], values[lo + 3]
        r4, r5, r6, r7 = values[lo + 4], values[lo + 5], values[lo + 6], values[lo + 7]
        i = 8
        stop = n - n % 8
        while i < stop:
            j = lo + i
            r0 += values[j]
            r1 += values[j + 1]
            r2 += values[j + 2]
            r3 += values[j + 3]
            r4 += values[j + 4]
            r5 += values[j + 5]
            r6 += values[j + 6]
            r7 += values[j + 7]
            i += 8
        res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
        while i < n:
            res += values[lo + i]
            i += 1
        return res
    half = n // 2
    half -= half % 8
    return pairwise_sum(values, lo, half) + pairwise_sum(values, lo + half, n - half)


def percentile_of_sorted(ranked: Sequence[float] | np.ndarray, q: int) -> float:
    """``np.percentile(values, q)`` (its default method, 'linear') of ``values`` sorted into ``ranked``, bit for bit,
    without its overhead: the same virtual index and interpolation (numpy's ``_lerp``) on the same neighbours. For
    values with no NaN (np.sort may rewrite a NaN's bits) and no negative zero (which may sort either side of
    a zero)."""
    n = len(ranked)
    index = (n - 1) * (q / 100)
    if index >= n - 1:  # numpy takes the last value both sides, at weight index + 1
        a = b = float(ranked[-1])
        gamma = index + 1.0
    else:
        lo = math.floor(index)
        a, b = float(ranked[lo]), float(ranked[lo + 1])
        gamma = index - lo
    diff = b - a
    return b - diff * (1 - gamma) if gamma >= 0.5 else a + diff * gamma


def share_among_teams(amounts: Mapping[str, float], handles: dict[str, np.ndarray], weights: Sequence[float]
                      ) -> list[float]:
    """Per team: its share of the ``amounts`` of work waiting by case type, each shared among the teams that handle
    the type in proportion to their ``weights`` (equally when none of them has any). numpy's arithmetic on each
    team, in its order (the weights' total as np.sum adds them)."""
    out = [0.0] * len(weights)
    for kind, amount in amounts.items():
        if amount:
            handled: list[bool] = handles[kind].tolist()
            mine = [w if h else 0.0 for w, h in zip(weights, handled)]
            total = pairwise_sum(mine)
            if total > 0:
                shares = [x / total for x in mine]
            else:
                count = sum(handled)
                shares = [(1.0 if h else 0.0) / count if count else math.nan for h in handled]
            for j, share in enumerate(shares):
                out[j] = out[j] + amount * share
    return out


def capacity_tables(scn: Scenario, team_names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Points one FTE carries (team x grade): at the team's manageable standard, and at capacity (the most a manager
    allocates before going over). A case of weight 1 is one point, so a worker at the standard holds at most the
    standard number of cases; a newly qualified worker's are scaled by ``asye_protected_share``; team managers hold
    none. Capacity is the standard unless the scenario sets ``workforce.capacity_points``."""
    wf = scn.workforce
    share = np.array([wf.asye_protected_share, 1.0, 1.0, 0.0])
    holding = scn.case_holding_teams()
    std = np.array([scn.standard(t) if t in holding else 0.0 for t in team_names])[:, None] * share[None, :]
    cp = wf.capacity_points
    if cp is None:
        return std, std.copy()
    cap = np.array([cp.asye * wf.asye_protected_share, cp.social_worker, cp.senior_social_worker, 0.0])
    return std, np.tile(cap, (len(team_names), 1))


def caseload_with_waiting(held: float, waiting: float, fte: float) -> float:
    """Cases per case-holding FTE counting unallocated cases: NaN (never manageable) when cases are open and nobody
    holds cases."""
    if fte > 0:
        return (held + waiting) / fte
    return np.nan if held + waiting > 0 else 0.0
