"""Staff in post: who they are, what they can carry, who is absent, who leaves.

Workers live in growable numpy arrays so that the weekly update (pressure,
leaving, absence, end of the ASYE year) is a handful of vector operations, not
a wake-up per worker. Leaving uses one exponential threshold per worker: a
worker resigns when their accumulated leaving hazard passes it, which is exact
for a hazard that changes week by week with caseload pressure and gives the
same worker the same threshold in every scenario (common random numbers).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from ..scenario.calendar import WEEKS_PER_YEAR, WORKING_DAYS_PER_WEEK
from ..scenario.schema import GRADES, Scenario
from ..scenario.streams import Streams
from .case import Case
from .monitoring import Monitor

ASYE, SW, SENIOR, TM = range(4)  # grade codes: positions in schema.GRADES


class Workforce:
    """Everyone in post (and everyone who has been), as parallel arrays indexed by worker.

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
        self.threshold = np.array([scn.standard(t) if t in holding else np.inf for t in team_names])  # by team
        self.ramp_days = wf.ramp_up_weeks * WORKING_DAYS_PER_WEEK
        self.ramp0 = wf.ramp_up_start_share
        self.asye_days = wf.asye_weeks * WORKING_DAYS_PER_WEEK
        to = wf.turnover
        self.hazard_perm = np.array([-math.log1p(-min(to.permanent_per_year[g], 0.999999)) for g in GRADES])
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
        self._rng_absence = [streams(f"absence.{t}") for t in team_names]
        self.screening_team = np.array(["screening" in scn.teams[t].handles for t in team_names])
        self.case_holding = [i for i, t in enumerate(team_names) if t in scn.case_holding_teams()]
        self._team_measures = [(ti, f"caseload_{team_names[ti]}", f"caseload_incl_unallocated_{team_names[ti]}")
                               for ti in self.case_holding]
        self.span = wf.manager_span
        # each team's workers (all so far, by index): the absence draws are made team by team
        self._members = [np.zeros(16, np.intp) for _ in team_names]
        self._n_members = [0] * len(team_names)
        self._changes: list[int] = []  # workers whose availability or capacity changed, for the allocator
        self.n = 0
        size = 64
        self.team = np.zeros(size, int)
        self.grade = np.zeros(size, int)
        self.agency = np.zeros(size, bool)
        self.fte = np.zeros(size)
        self.start = np.zeros(size)
        self.active = np.zeros(size, bool)
        self.notice = np.zeros(size, bool)
        self.absent = np.zeros(size, bool)
        self.hazard = np.zeros(size)
        self.limit = np.zeros(size)
        self.pressure = np.ones(size)  # smoothed caseload pressure: weighted caseload over capacity (1 = at capacity)
        self.pace = np.ones(size)  # how fast the worker's plans move this week (1: at normal pace; drift below)
        self.work_clock = np.zeros(size)  # plan-days of progress each worker's cases have made, at clock_t
        self.clock_t = 0.0
        self.post = np.zeros(size, int)
        self.caseset: list[set[Case]] = []  # the cases each worker holds
        self.load: list[float] = []  # weighted caseload per worker, as Python floats (read by the allocator)
        self.n_cases: list[int] = []  # cases held per worker
        self.team_of: list[int] = []  # each worker's team, as Python ints (``team`` without numpy's indexing)
        # (cases, points) per worker as arrays, made from the two lists when first read after a change
        self._held_arrays: tuple[np.ndarray, np.ndarray] | None = None
        self.holds_cases = np.zeros(size, bool)
        self.screener = np.zeros(size, bool)  # screens at the front door: in a screening team, not its manager
        self.manager = np.zeros(size, bool)  # a team manager (nobody becomes or stops being one)
        self.std_points = np.zeros(size)  # points at the team's manageable standard (std_table by team, grade x fte)

    # -- membership -----------------------------------------------------------------
    def _grow(self) -> None:
        size = 2 * len(self.team)
        for name in ("team", "grade", "agency", "fte", "start", "active", "notice", "absent",
                     "hazard", "limit", "pressure", "pace", "work_clock", "post", "holds_cases",
                     "screener", "manager", "std_points"):
            old = getattr(self, name)
            new = np.zeros(size, old.dtype) if name not in ("pressure", "pace") else np.ones(size)
            new[: len(old)] = old
            setattr(self, name, new)

    def add(self, team: int, grade: int, agency: bool, fte: float, start: float, post: int) -> int:
        """A worker starts (or, at time 0, is already in post since ``start``)."""
        if self.n == len(self.team):
            self._grow()
        i = self.n
        self.n += 1
        self.team[i], self.grade[i], self.agency[i], self.fte[i] = team, grade, agency, fte
        self.start[i], self.post[i] = start, post
        self.active[i] = True
        self.limit[i] = self._rng_leave[team].exponential()
        self.holds_cases[i] = grade != TM and not self.screening_team[team]
        self.screener[i] = grade != TM and self.screening_team[team]
        self.manager[i] = grade == TM
        self.std_points[i] = self.std_table[team, grade] * self.fte[i]
        members, k = self._members[team], self._n_members[team]
        if k == len(members):
            members = self._members[team] = np.concatenate([members, np.zeros(k, np.intp)])
        members[k] = i
        self._n_members[team] = k + 1
        self.caseset.append(set())
        self.load.append(0.0)
        self.n_cases.append(0)
        self.team_of.append(team)
        self._held_arrays = None
        self._changes.append(i)
        return i

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
        return self.ramped(t, self.cap_table[self.team[idx], self.grade[idx]] * self.fte[idx], self.start[idx])

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
        return float(self.cap_table[self.team[i], self.grade[i]] * self.fte[i])

    def available(self) -> np.ndarray:
        """Mask of workers who can take new work now (in post, not on notice, not absent)."""
        n = self.n
        return self.active[:n] & ~self.notice[:n] & ~self.absent[:n]

    def takes_cases_now(self, i: int) -> bool:
        """Whether worker ``i`` holds cases and can take new ones now (:meth:`available`, for one worker)."""
        return bool(self.holds_cases[i] and self.active[i] and not self.notice[i] and not self.absent[i])

    def load_ratio(self, i: int) -> float:
        """Worker ``i``'s caseload pressure now: weighted caseload over their team's manageable standard in points
        (1 = at the standard)."""
        std = self.std_points.item(i)  # a Python float: the same division, without numpy's scalar overhead
        return self.load[i] / std if std > 0 else 0.0

    def progress(self, i: int, t: float) -> float:
        """Plan-days of progress a case held by worker ``i`` throughout would have made by ``t`` (a running total)."""
        return float(self.work_clock[i] + self.pace[i] * (t - self.clock_t))

    def team_pressure(self, waiting_points: dict[str, float], handles: dict[str, np.ndarray]) -> np.ndarray:
        """Per team: held plus waiting workload over what its case-holders in post carry at the manageable standard.

        Waiting work of a case type is shared among the teams that handle it in proportion to
        their capacity. A team with work and no capacity has pressure 2 (as supervision does).
        """
        n = self.n
        hc = self.active[:n] & self.holds_cases[:n]
        team = self.team[:n][hc]
        cap, waiting = self._team_waiting(hc, team, waiting_points, handles)
        work = np.bincount(team, weights=self.points[:n][hc], minlength=len(self.team_names)) + waiting
        has_cap = cap > 0
        return np.where(has_cap, work / np.where(has_cap, cap, 1.0), np.where(work > 0, 2.0, 0.0))

    def team_waiting(self, waiting_points: dict[str, float], handles: dict[str, np.ndarray]
                     ) -> tuple[np.ndarray, np.ndarray]:
        """Per team: what its case-holders in post carry at the standard (points), and the points waiting for it
        (work of a type several teams handle shared in proportion to the first)."""
        n = self.n
        hc = self.active[:n] & self.holds_cases[:n]
        return self._team_waiting(hc, self.team[:n][hc], waiting_points, handles)

    def _team_waiting(self, hc: np.ndarray, team: np.ndarray, waiting_points: Mapping[str, float],
                      handles: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`team_waiting` for the case-holders in post ``hc`` (mask), whose teams are ``team``."""
        cap = np.bincount(team, weights=self.std_points[: self.n][hc], minlength=len(self.team_names))
        return cap, share_among_teams(waiting_points, handles, cap)

    # -- the staff as a whole ----------------------------------------------------------
    def screeners_present(self) -> int:
        """Front-door screeners in post, not on notice and not absent (team managers do not screen)."""
        n = self.n
        return int(np.count_nonzero(self.active[:n] & ~self.notice[:n] & ~self.absent[:n] & self.screener[:n]))

    def screens(self, i: int) -> bool:
        """Whether worker ``i`` is in a front-door (screening) team."""
        return bool(self.screening_team[self.team[i]])

    def supervision_ratio(self) -> np.ndarray:
        """Per team: staff FTE over what its managers can supervise (1 = at the span; 2 with no manager)."""
        n, n_teams = self.n, len(self.team_names)
        act = self.active[:n]
        # one bincount: staff in bins 0..n_teams-1, managers in the next n_teams (each bin adds in worker order)
        by = np.bincount((self.team[:n] + n_teams * self.manager[:n])[act], weights=self.fte[:n][act],
                         minlength=2 * n_teams)
        sup, cap = by[:n_teams], by[n_teams:] * self.span
        has_cap = cap > 0
        return np.where(has_cap, sup / np.where(has_cap, cap, 1.0), np.where(sup > 0, 2.0, 0.0))

    def supervision_load_pct(self) -> float:
        """Social workers per manager across the service, as a percentage of the span (NaN with no managers)."""
        n = self.n
        act, tm = self.active[:n], self.manager[:n]
        staff_fte = self.fte[:n][act & ~tm].sum()
        mgr_fte = self.fte[:n][act & tm].sum()
        return 100.0 * staff_fte / (mgr_fte * self.span) if mgr_fte > 0 else np.nan

    def agency_staying(self) -> np.ndarray:
        """Agency workers in post and not on notice (by index)."""
        n = self.n
        return np.flatnonzero(self.active[:n] & self.agency[:n] & ~self.notice[:n])

    def fte_where(self, mask: np.ndarray) -> float:
        """FTE in post among the workers picked by ``mask`` (over all workers so far)."""
        n = self.n
        return float(self.fte[:n][self.active[:n] & mask].sum())

    # -- weekly update ----------------------------------------------------------------
    def weekly(self, supervision_ratio: np.ndarray, t: float, levers, waiting_ratio: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """Advance pressure, leaving hazard, absence and ASYE year by one week. ``waiting_ratio`` (per team: work
        waiting unallocated for it over what its staff carry at the standard) adds to the pressure its case-holders
        feel, by ``waiting_pressure_share``; their own caseload alone sets how fast their plans move.

        Returns the workers who resign now and when each one's leaving hazard passed their threshold. The week's
        hazard builds up at a steady rate from the last weekly step to ``t``, so the crossing falls within the week
        just ended; the worker gives notice now (when the council learns of it) but their notice runs from the
        crossing, as it does for those who resigned before the start (:meth:`resigned_before_start`). Were it to run
        from ``t``, leaving would lag by up to a week: the run's first resigners would leave a notice period and a
        week after the start, and nobody would leave in the week after the start state's resigners had gone.
        """
        n = self.n
        since = self.clock_t  # the last weekly step (0: the start)
        act, team, grade = self.active[:n], self.team[:n], self.grade[:n]
        hc = self.holds_cases[:n] & act
        tm = act & self.manager[:n]
        team_supervision = supervision_ratio[team]
        self._pressure_and_pace(t, hc, tm, team_supervision, waiting_ratio)
        to = self.scn.workforce.turnover
        agency = self.agency[:n]
        h = np.where(agency, self.hazard_agency, self.hazard_perm[grade])
        mult = 1.0 + to.pressure_effect * np.maximum(0.0, self.pressure[:n] - 1.0)
        mult *= 1.0 + to.supervision_effect * np.maximum(0.0, team_supervision - 1.0) * ~tm
        if levers.active("retention", t):  # else the factor is 1 for everyone: multiplying by it changes nothing
            mult *= levers.leaving_factor(t, grade, agency)
        staying = act & ~self.notice[:n]
        added = np.where(staying, h * mult / WEEKS_PER_YEAR, 0.0)
        self.hazard[:n] += added
        resign = (staying & (self.hazard[:n] >= self.limit[:n])).nonzero()[0]
        crossed = self._crossed(resign, added, since, t)
        self._absence(act)
        return resign, crossed

    def _pressure_and_pace(self, t: float, hc: np.ndarray, tm: np.ndarray, team_supervision: np.ndarray,
                           waiting_ratio: np.ndarray | None) -> None:
        """:meth:`weekly`'s smoothed pressure and the pace of each case-holder's plans (case-holders in post ``hc``,
        managers in post ``tm``, each worker's team's supervision ratio)."""
        n = self.n
        std = self.std_points[:n]
        has_std = std > 0
        now_ratio = np.where(hc & has_std, self.points[:n] / np.where(has_std, std, 1.0), 1.0)
        self.work_clock[:n] += self.pace[:n] * (t - self.clock_t)
        self.clock_t = t
        self.pace[:n] = np.where(hc, 1.0 / (1.0 + self.drift_effect * np.maximum(0.0, now_ratio - 1.0)), 1.0)
        if waiting_ratio is not None and self.waiting_share > 0:
            now_ratio = now_ratio + np.where(hc, self.waiting_share * waiting_ratio[self.team[:n]], 0.0)
        now_ratio = np.where(tm, team_supervision, now_ratio)
        self.pressure[:n] += self.alpha * (now_ratio - self.pressure[:n])

    def _crossed(self, resign: np.ndarray, added: np.ndarray, since: float, t: float) -> np.ndarray:
        """When each resigner's leaving hazard reached their threshold: ``added`` of it built up steadily from
        ``since`` to ``t``."""
        if not resign.size:
            return np.zeros(0)
        step = added[resign]
        share = np.where(step > 0, 1.0 - (self.hazard[resign] - self.limit[resign]) / np.where(step > 0, step, 1.0),
                         1.0)
        # np.clip's values without its overhead (share is never NaN)
        crossed = np.maximum(since + np.minimum(np.maximum(share, 0.0), 1.0) * (t - since), self.start[resign])
        return np.minimum(crossed, t)

    def _absence(self, act: np.ndarray) -> None:
        """A week of absence: one draw per worker (so far), from their team's stream; those in post start or end a
        spell."""
        n = self.n
        u = np.empty(n)
        for ti, rng in enumerate(self._rng_absence):
            mine = self._members[ti][: self._n_members[ti]]
            u[mine] = rng.random(mine.size)
        was = self.absent[:n].copy()
        # (was | starts) & ~ends & act, where starts = act & ~was & (u < start) and ends = act & was & (u < end)
        self.absent[:n] = act & np.where(was, u >= self.absence_end, u < self.absence_start)
        self._changes.extend((self.absent[:n] != was).nonzero()[0].tolist())

    def finish_asye(self, t: float) -> int:
        """Newly qualified workers past their ASYE year become social workers; returns how many."""
        n = self.n
        done = (self.active[:n] & (self.grade[:n] == ASYE) & (t - self.start[:n] >= self.asye_days)).nonzero()[0]
        if done.size:
            self.grade[done] = SW
            self.std_points[done] = self.std_table[self.team[done], SW] * self.fte[done]
            self._changes.extend(done.tolist())
        return len(done)

    # -- the state as a start state -------------------------------------------------
    def in_post(self, t: float):
        """Everyone in post at ``t``: (team, grade, contract, fte, weeks in post), for writing a start state."""
        for i in np.flatnonzero(self.active[: self.n]):
            yield (self.team_names[self.team[i]], GRADES[self.grade[i]], "agency" if self.agency[i] else "permanent",
                   float(self.fte[i]), (t - float(self.start[i])) / WORKING_DAYS_PER_WEEK)

    def held_cases(self):
        """Every case held by someone in post."""
        for i in np.flatnonzero(self.active[: self.n]):
            yield from self.caseset[i]

    # -- measurement ----------------------------------------------------------------
    def snapshot(self, week: int, waiting: int) -> None:
        """Read staff and caseload stocks; ``waiting`` cases are unallocated (counted in the headline measure)."""
        m, n = self.monitor, self.n
        act = self.active[:n]
        # the FTE of each group of workers in post, in index order, summed as numpy sums them (pairwise_sum): one pass
        # over the workers instead of a dozen masks and sums on small arrays
        in_post: list[bool] = act.tolist()
        fte: list[float] = self.fte[:n].tolist()
        grade: list[int] = self.grade[:n].tolist()
        agency: list[bool] = self.agency[:n].tolist()
        absent: list[bool] = self.absent[:n].tolist()
        everyone: list[float] = []
        agency_fte: list[float] = []
        absent_fte: list[float] = []
        of_grade: list[list[float]] = [[] for _ in GRADES]
        by_contract: list[list[float]] = [[] for _ in range(2 * len(GRADES))]  # grade g: permanent 2g, agency 2g + 1
        for i in range(n):
            if in_post[i]:
                f = fte[i]
                g = grade[i]
                everyone.append(f)
                of_grade[g].append(f)
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
        self._caseload_snapshot(week, waiting, act & self.holds_cases[:n])
        m.set("_cases_held", week, self.cases[:n][act].sum())

    def _caseload_snapshot(self, week: int, waiting: int, hc: np.ndarray) -> None:
        """The caseload stocks of :meth:`snapshot`, over the case-holders in post ``hc`` (mask)."""
        m = self.monitor
        fte, cases = self.fte[: self.n][hc], self.cases[: self.n][hc]
        fte_sum, cases_sum = fte.sum(), cases.sum()
        m.set("case_holding_fte", week, fte_sum)
        m.set("caseload_incl_unallocated", week, caseload_with_waiting(cases_sum, waiting, fte_sum))
        if not fte.size:
            for k in ("caseload_mean", "caseload_p90", "caseload_max", "workers_over_threshold_pct"):
                m.set(k, week, np.nan)
            return
        per = cases / fte
        m.set("caseload_mean", week, cases_sum / fte_sum)
        over = np.count_nonzero(per > self.threshold[self.team[: self.n][hc]])
        m.set("workers_over_threshold_pct", week, 100.0 * (over / per.size))  # np.mean's value: a count over a count
        ranked = np.sort(per)
        if ranked[-1] != ranked[-1]:  # a NaN: np.sort may rewrite its bits, which np.percentile and max keep
            m.set("caseload_p90", week, np.percentile(per, 90))
            m.set("caseload_max", week, per.max())
        else:
            m.set("caseload_p90", week, percentile_of_sorted(ranked, 90))
            m.set("caseload_max", week, ranked[-1])  # max's value: caseloads are never -0.0, so no tie of zeros

    def team_snapshot(self, week: int, waiting: dict[str, int], handles: dict[str, np.ndarray]) -> None:
        """Each case-holding team's caseload per case-holding FTE (DfE's measure) and counting the cases waiting for
        it; the largest of the latter is ``caseload_worst_team``. Cases of a type several teams handle are shared
        among them in proportion to their case-holding FTE."""
        m, n, n_teams = self.monitor, self.n, len(self.team_names)
        hc = self.active[:n] & self.holds_cases[:n]
        team = self.team[:n][hc]
        fte_a = np.bincount(team, weights=self.fte[:n][hc], minlength=n_teams)
        held_a = np.bincount(team, weights=self.cases[:n][hc], minlength=n_teams)
        # as Python floats: the same arithmetic as on numpy's scalars, without their overhead
        queued, fte, held = share_among_teams(waiting, handles, fte_a).tolist(), fte_a.tolist(), held_a.tolist()
        with_waiting, never_manageable = [], False
        for ti, name, name_incl in self._team_measures:
            m.set(name, week, held[ti] / fte[ti] if fte[ti] > 0 else np.nan)
            caseload = caseload_with_waiting(held[ti], queued[ti], fte[ti])
            never_manageable = never_manageable or caseload != caseload  # NaN
            with_waiting.append(caseload)
            m.set(name_incl, week, caseload)
        # NaN if any team is NaN: never manageable (np.max's answer; its NaN is caseload_with_waiting's np.nan)
        m.set("caseload_worst_team", week, np.nan if never_manageable else max(with_waiting))


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


def percentile_of_sorted(ranked: np.ndarray, q: int) -> float:
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


def share_among_teams(amounts: Mapping[str, float], handles: dict[str, np.ndarray], weights: np.ndarray) -> np.ndarray:
    """Per team: its share of the ``amounts`` of work waiting by case type, each shared among the teams that handle
    the type in proportion to their ``weights`` (equally when none of them has any)."""
    out = np.zeros(len(weights))
    for kind, amount in amounts.items():
        if amount:
            mine = np.where(handles[kind], weights, 0.0)
            total = mine.sum()
            out += amount * (mine / total if total > 0 else handles[kind] / handles[kind].sum())
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
