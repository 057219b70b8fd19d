"""Who holds each case: allocation as team managers do it.

A case goes to an eligible worker (in a team that handles its type, in post,
not on notice, not absent). Workers with room under their capacity (the
manageable standard, in workload points) come first: the least loaded for
their capacity, ties to the worker who joined first. When nobody has room,
managers allocate over capacity to the least loaded worker, up to a ceiling
(``ceiling_share`` times capacity). Only when everyone eligible is at the
ceiling does a case wait unallocated.

Waiting cases are allocated in risk order (by default section 47 enquiries,
then child protection plans, children in care, other assessments, children in
need; first come first served within each class), and a new case never jumps
ahead of a waiting case of its own or higher priority. When a worker leaves,
their cases go to colleagues (highest risk first) or to the front of their
class's queue; every move to a different worker counts as a change of social
worker for that child.

For each case type the eligible workers past their ramp-up are kept in a pool,
in the order they joined, with their full capacity beside them; a choice is one
pass over the pool's loads (a team's few dozen workers cost less to look at than
heaps cost to keep up at every change of load). New starters, whose capacity
still grows by the day, are looked at one by one (or as one vector when there
are many, at national scale). The workforce logs whose availability or capacity
changed, and the pools take that log in before each choice. The answer is the
one a search of every worker would give.
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_left
from collections import deque
from typing import Callable, Sequence

import numpy as np

from ..scenario.schema import HELD_CASE_TYPES
from .case import Case
from .hooks import Hooks
from .monitoring import Monitor
from .workforce import Workforce

CaseNews = Callable[[Case, float], None]  # told (case, t)

_SCAN = 24  # ramping workers in a pool up to which a plain loop beats one numpy pass


class _Pool:
    """The workers who may take one type of case now."""

    __slots__ = ("members", "bases", "settled", "ramping", "ramp_order", "_ramp_arrays", "full_need", "room_need")

    def __init__(self) -> None:
        self.members: list[int] = []  # settled members (past ramp-up), lowest index (first joined) first
        self.bases: list[float] = []  # their full capacity (points), beside them
        self.settled: set[int] = set()
        self.ramping: dict[int, float] = {}  # member still ramping up -> start time
        self.ramp_order: list[tuple[float, int]] = []  # (start, worker): ramping members, earliest first
        # (workers, full capacity, start) of ramping members, as arrays, when many
        self._ramp_arrays: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        # the smallest need for which no settled member had room under the ceiling, while no load has fallen
        # and nobody has joined since (inf: not known): a service at its ceiling is not searched again and again
        self.full_need = math.inf
        self.room_need = math.inf  # the same for room under capacity: a full service is not searched twice

    def add(self, w: int, base: float) -> None:
        """Worker ``w`` (full capacity ``base``) is a settled member from now."""
        i = bisect_left(self.members, w)
        self.members.insert(i, w)
        self.bases.insert(i, base)
        self.settled.add(w)

    def drop(self, w: int) -> None:
        """Settled member ``w`` is no longer one."""
        i = bisect_left(self.members, w)
        del self.members[i]
        del self.bases[i]
        self.settled.discard(w)


def risk_class(case: Case) -> str:
    """The priority class of a case: its kind, or "s47" for an assessment with a section 47 enquiry."""
    return "s47" if case.kind == "assessment" and case.s47 else case.kind


class Allocator:
    """Gives cases to workers and keeps the unallocated queues (one per risk class).

    ``on_allocated(case, t)``, ``on_queued(case, t)`` and ``on_released(case, t)`` tell the
    case flow that a case got a worker, started waiting, or is about to lose its worker.
    """

    def __init__(self, workforce: Workforce, team_handles: dict[str, np.ndarray], monitor: Monitor,
                 on_allocated: CaseNews, on_queued: CaseNews, on_released: CaseNews | None = None,
                 ceiling: float = 1.0, priority: Sequence[str] = ("s47", "cp", "cla", "assessment", "cin"),
                 hooks: Hooks | None = None):
        self.wf = workforce
        h = hooks if hooks is not None else Hooks()
        # the hooks called here, held in fields (as in CaseFlow: a field of a compiled class is read far faster)
        self.hook_case_allocated, self.hook_case_queued, self.hook_case_handed_back = (
            h.case_allocated, h.case_queued, h.case_handed_back)
        self.monitor = monitor
        self.handles = team_handles  # case type -> bool per team
        self.ceiling = float(ceiling)
        self.priority = list(priority)
        self.rank = {c: i for i, c in enumerate(self.priority)}
        self.kind_of = {c: ("assessment" if c == "s47" else c) for c in self.priority}
        self.queues: dict[str, deque[Case]] = {c: deque() for c in self.priority}
        self.n_waiting = dict.fromkeys(self.priority, 0)  # live cases in each class's queue
        self.waiting = 0
        self.on_allocated = on_allocated
        self.on_queued = on_queued
        self.on_released = on_released
        self._max_base = float(workforce.cap_table.max())  # nobody's full capacity is larger (FTE <= 1)
        n_teams = len(next(iter(team_handles.values())))
        self._kinds_of_team = [[k for k in team_handles if team_handles[k][ti]] for ti in range(n_teams)]
        self._pools = {k: _Pool() for k in team_handles}
        self._team_pools = [[self._pools[k] for k in kinds] for kinds in self._kinds_of_team]  # a team's pools
        self._base: dict[int, float] = {}  # full capacity of each worker as the pools know it (points)
        self._load = workforce.load  # the workforce's list of weighted caseloads (read only here)
        ramp = workforce.ramp_days > 0 and workforce.ramp0 < 1.0
        self._ramp_days = workforce.ramp_days if ramp else 0.0  # 0: capacity never grows with time

    # -- pools -------------------------------------------------------------------------
    def _sync(self, t: float) -> None:
        """Take in the workforce's log of workers whose availability or capacity changed."""
        wf = self.wf
        changed = wf.take_changes()
        for w in sorted(set(changed)):
            ok = wf.takes_cases_now(w)
            base = wf.full_capacity(w)
            new_cap = base != self._base.get(w, base)
            self._base[w] = base
            for pool in self._team_pools[wf.team[w]]:
                member = w in pool.settled or w in pool.ramping
                if member and (not ok or new_cap):
                    self._leave(pool, w)
                    member = False
                if ok and not member:
                    self._enter(pool, w, t)

    def _enter(self, pool: _Pool, w: int, t: float) -> None:
        pool.full_need = pool.room_need = math.inf
        start = float(self.wf.start[w])
        if self._ramp_days > 0 and t - start < self._ramp_days:
            pool.ramping[w] = start
            pool._ramp_arrays = None
            heapq.heappush(pool.ramp_order, (start, w))
        else:
            pool.add(w, self._base[w])

    def _leave(self, pool: _Pool, w: int) -> None:
        if w in pool.settled:
            pool.drop(w)
        elif pool.ramping.pop(w, None) is not None:
            pool._ramp_arrays = None

    def _settle(self, pool: _Pool, t: float) -> None:
        """Ramping members whose ramp-up is over join the settled."""
        order, r = pool.ramp_order, self._ramp_days
        while order and t - order[0][0] >= r:
            _, w = heapq.heappop(order)
            if w in pool.ramping:
                del pool.ramping[w]
                pool._ramp_arrays = None
                pool.full_need = pool.room_need = math.inf
                pool.add(w, self._base[w])

    def _load_changed(self, w: int) -> None:
        """Worker ``w``'s load may have fallen: a pool that had no room under the ceiling may have some."""
        for pool in self._team_pools[self.wf.team[w]]:
            if w in pool.settled:
                pool.full_need = pool.room_need = math.inf

    # -- choosing ----------------------------------------------------------------------
    def best_worker(self, kind: str, points: float, t: float) -> int:
        """Who gets a case of ``kind`` worth ``points`` now, or -1 if it must wait.

        Among eligible workers with room under capacity, the lowest load for their capacity;
        if none, the same among those with room under the ceiling. Ties go to the worker who
        joined first (lowest index).
        """
        if self.wf.has_changes():
            self._sync(t)
        pool = self._pools[kind]
        if pool.ramp_order:
            self._settle(pool, t)
        need = points - 1e-9
        best = self._best_under(pool, need)
        over = None
        if pool.ramping:
            under, over = self._best_ramping(pool, need, t)
            best = _lower(best, under)
        if best is None and self.ceiling > 1.0:
            best = _lower(self._best_over(pool, need), over)
        return -1 if best is None else best[1]

    def _best_under(self, pool: _Pool, need: float) -> tuple[float, int] | None:
        """The least loaded settled member with room under capacity."""
        if need >= pool.room_need:
            return None  # nobody had room for less, and no load has fallen and nobody joined since
        found = _least_loaded(pool, self._load, need, 1.0)
        if found is None:
            pool.room_need = min(pool.room_need, need)
        return found

    def _best_over(self, pool: _Pool, need: float) -> tuple[float, int] | None:
        """The least loaded settled member with room under the ceiling (nobody has room under capacity)."""
        if need >= pool.full_need:
            return None  # nobody had room for less, and no load has fallen since
        found = _least_loaded(pool, self._load, need, self.ceiling)
        if found is None:
            pool.full_need = min(pool.full_need, need)
        return found

    def _best_ramping(self, pool: _Pool, need: float, t: float):
        """The least loaded new starters with room under their ramped capacity, and under the ceiling."""
        load, base, c = self._load, self._base, self.ceiling
        if len(pool.ramping) <= _SCAN:
            wf = self.wf
            # the lowest (ratio, worker) under capacity and under the ceiling, compared as tuples are, without
            # making a tuple for every starter
            under_r = over_r = math.inf
            under_w = over_w = -1
            for w, start in pool.ramping.items():
                cap = wf.ramped_one(t, base[w], start)
                lw = load[w]
                if c * cap - lw >= need:
                    r = lw / (cap if cap > 0 else 1.0)
                    if over_w < 0 or r < over_r or (r == over_r and w < over_w):
                        over_r, over_w = r, w
                    if cap - lw >= need and (under_w < 0 or r < under_r or (r == under_r and w < under_w)):
                        under_r, under_w = r, w
            return (None if under_w < 0 else (under_r, under_w)), (None if over_w < 0 else (over_r, over_w))
        if pool._ramp_arrays is None:
            ws = np.array(sorted(pool.ramping), dtype=int)
            pool._ramp_arrays = (ws, np.array([base[w] for w in ws]), np.array([pool.ramping[w] for w in ws]))
        ws, full, starts = pool._ramp_arrays
        caps = self.wf.ramped(t, full, starts)
        held = self.wf.points[ws]
        ratio = held / np.where(caps > 0, caps, 1.0)
        return _least(ratio, ws, caps - held >= need), _least(ratio, ws, c * caps - held >= need)

    def _assign(self, case: Case, w: int, t: float) -> None:
        if case.last_worker >= 0 and case.last_worker != w:
            self.monitor.count("social_worker_changes", t)
        case.worker = case.last_worker = w
        self.wf.take_case(w, case)
        if self.hook_case_allocated:
            self.hook_case_allocated(case, w, t)
        self.on_allocated(case, t)
        case.queued_t = None  # the wait (if any) is over: a later hand-over straight to a colleague waited for none

    def _set_load(self, w: int, load: float) -> None:
        freed = load < self._load[w]
        self.wf.set_load(w, load)
        if freed:
            self._load_changed(w)

    # -- the queues --------------------------------------------------------------------
    def _enqueue(self, case: Case, t: float, front: bool = False) -> None:
        cls = risk_class(case)
        case.worker = -1
        case.queued = True
        case.queued_t = t
        self.waiting += 1
        self.n_waiting[cls] += 1
        (self.queues[cls].appendleft if front else self.queues[cls].append)(case)
        if self.hook_case_queued:
            self.hook_case_queued(case, t)
        self.on_queued(case, t)

    def _waiting_ahead(self, cls: str, rank: int) -> bool:
        """Whether a case of the same type and priority rank ``rank`` or higher is waiting."""
        if self.waiting == 0:
            return False
        kind = self.kind_of[cls]
        return any(self.n_waiting[c] for c in self.priority[: rank + 1] if self.kind_of[c] == kind)

    def place(self, case: Case, t: float) -> bool:
        """Give a new (or newly transferred) case a worker, or queue it behind the waiting cases it does not outrank."""
        cls = risk_class(case)
        if self._waiting_ahead(cls, self.rank[cls]):
            self._enqueue(case, t)
            self.fill(t, only=case.kind)
            return case.worker >= 0
        w = self.best_worker(case.kind, case.points, t)
        if w < 0:
            self._enqueue(case, t)
            return False
        self._assign(case, w, t)
        return True

    def release(self, case: Case, t: float) -> None:
        """The case leaves its worker or the queue (closed, or about to move)."""
        w = case.worker
        if w >= 0:
            if self.on_released is not None:
                self.on_released(case, t)
            self.wf.drop_case(w, case)
            self._load_changed(w)
            case.worker = -1
        elif case.queued:
            case.queued = False  # left in the deque; skipped when reached
            self.waiting -= 1
            self.n_waiting[risk_class(case)] -= 1

    def reweigh(self, case: Case, points: float) -> None:
        """Change a held case's workload points (e.g. an assessment becoming a plan in a pool team)."""
        if case.worker >= 0:
            self._set_load(case.worker, self._load[case.worker] + (points - case.points))
        case.points = points

    def reallocate_from(self, w: int, t: float) -> None:
        """Worker ``w`` has gone: move their cases, highest risk first, to colleagues or to the front of their queue."""
        cases = sorted(self.wf.caseset[w], key=lambda c: (self.rank[risk_class(c)], c.id))
        for c in cases:
            if self.hook_case_handed_back:
                self.hook_case_handed_back(c, w, t)
            self.release(c, t)
        unplaced = []
        for c in cases:
            cls = risk_class(c)
            to = -1 if self._waiting_ahead(cls, self.rank[cls] - 1) else self.best_worker(c.kind, c.points, t)
            if to >= 0:
                self._assign(c, to, t)
            else:
                unplaced.append(c)
        for c in unplaced[::-1]:  # (reversed() of a list of Any trips mypyc 2.4's compiler)
            self._enqueue(c, t, front=True)

    def fill(self, t: float, only: str | None = None) -> None:
        """Allocate waiting cases in risk order while anyone has room (of case type ``only``, if given).

        A class whose oldest case finds nobody blocks the classes below it that share its case type.
        """
        if self.waiting == 0:
            return
        blocked = set()
        for cls in self.priority:
            kind = self.kind_of[cls]
            if not self.n_waiting[cls] or kind in blocked or (only is not None and kind != only):
                continue
            q = self.queues[cls]
            while q:
                head = q[0]
                if not head.queued:
                    q.popleft()
                    continue
                w = self.best_worker(kind, head.points, t)
                if w < 0:
                    blocked.add(kind)
                    break
                q.popleft()
                head.queued = False
                self.waiting -= 1
                self.n_waiting[cls] -= 1
                self._assign(head, w, t)

    # -- measurement -------------------------------------------------------------------
    def waiting_cases(self):
        """Every case waiting now, in priority order."""
        for cls in self.priority:
            for c in self.queues[cls]:
                if c.queued:
                    yield cls, c

    def waiting_by_kind(self) -> dict[str, int]:
        """Cases waiting, by case type (section 47 enquiries counted as assessments)."""
        out = dict.fromkeys(HELD_CASE_TYPES, 0)
        for cls, k in self.n_waiting.items():
            out[self.kind_of[cls]] += k
        return out

    def waiting_points(self) -> dict[str, float]:
        """Workload points waiting, by case type."""
        out = dict.fromkeys(HELD_CASE_TYPES, 0.0)
        for cls, c in self.waiting_cases():
            out[self.kind_of[cls]] += c.points
        return out


def _least_loaded(pool: _Pool, load: list[float], need: float, limit: float) -> tuple[float, int] | None:
    """(load / capacity, worker) of the pool's settled member with the lowest load for their capacity among
    those with room for ``need`` under ``limit`` times their capacity (ties: the lowest index), or None."""
    best_r = math.inf
    best_w = -1
    bases = pool.bases
    i = 0
    for w in pool.members:
        base = bases[i]
        i += 1
        held = load[w]
        if limit * base - held >= need:
            r = held / (base if base > 0 else 1.0)
            if r < best_r or best_w < 0:
                best_r = r
                best_w = w
    return None if best_w < 0 else (best_r, best_w)


def _lower(a, b):
    """The better of two (ratio, worker) candidates, either of which may be None."""
    if a is None:
        return b
    if b is None:
        return a
    return b if b < a else a


def _least(ratio: np.ndarray, workers: np.ndarray, fits: np.ndarray):
    """(ratio, worker) of the lowest ratio among ``fits``, or None (workers are in index order, so the first
    minimum is the lowest index)."""
    if not fits.any():
        return None
    r = np.where(fits, ratio, np.inf)
    i = int(np.argmin(r))
    return float(r[i]), int(workers[i])
