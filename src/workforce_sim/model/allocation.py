"""Who holds each case.

A case goes to an eligible worker (in a team that handles its type, in post,
not on notice, not absent) with room for its workload points, the least
loaded for their capacity first (ties to the worker who joined first). If
nobody has room it waits, first come first served, in the unallocated queue
of its type. Queued cases are taken as soon as capacity frees. When a worker
leaves, their cases go to colleagues with room or to the front of the queue;
every move to a different worker counts as a change of social worker for
that child.

The choice is made without looking at every worker. For each case type the
eligible workers past their ramp-up sit in two heaps, one ordered by load for
capacity and one by room left, updated whenever a load changes; new starters,
whose capacity still grows by the day, are looked at one by one (or as one
vector when there are many, at national scale). The workforce logs whose
availability or capacity changed, and the pools take that log in before each
choice. The answer is the one a search of every worker would give.
"""

from __future__ import annotations

import heapq
from collections import deque

import numpy as np

from ..schema import HELD_CASE_TYPES

_SCAN = 24  # ramping workers in a pool up to which a plain loop beats one numpy pass


class _Pool:
    """The workers who may take one type of case now."""

    __slots__ = ("stamp", "by_ratio", "by_room", "ramping", "ramp_order", "_ramp_arrays")

    def __init__(self):
        self.stamp: dict[int, int] = {}  # member -> stamp of its live heap entries (stale entries are skipped)
        self.by_ratio: list[tuple[float, int, int]] = []  # (load / capacity, worker, stamp), past ramp-up
        self.by_room: list[tuple[float, int, int]] = []  # (-(capacity - load), worker, stamp), past ramp-up
        self.ramping: dict[int, float] = {}  # member still ramping up -> start time
        self.ramp_order: list[tuple[float, int]] = []  # (start, worker): ramping members, earliest first
        self._ramp_arrays = None  # (workers, full capacity, start) of ramping members, as arrays, when many


class Allocator:
    def __init__(self, workforce, team_handles: dict[str, np.ndarray], monitor, on_allocated, on_queued):
        self.wf = workforce
        self.monitor = monitor
        self.handles = team_handles  # case type -> bool per team
        self.queues: dict[str, deque] = {k: deque() for k in HELD_CASE_TYPES}
        self.waiting = 0
        self.on_allocated = on_allocated
        self.on_queued = on_queued
        n_teams = len(next(iter(team_handles.values())))
        self._kinds_of_team = [[k for k in team_handles if team_handles[k][ti]] for ti in range(n_teams)]
        self._pools = {k: _Pool() for k in team_handles}
        self._next_stamp = 0
        self._base: dict[int, float] = {}  # full capacity of each worker as the heaps know it (points)
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
            for kind in self._kinds_of_team[wf.team[w]]:
                pool = self._pools[kind]
                if w in pool.stamp and (not ok or new_cap):
                    self._leave(pool, w)
                if ok and w not in pool.stamp:
                    self._enter(pool, w, t)

    def _enter(self, pool: _Pool, w: int, t: float) -> None:
        start = float(self.wf.start[w])
        if self._ramp_days > 0 and t - start < self._ramp_days:
            pool.stamp[w] = -1
            pool.ramping[w] = start
            pool._ramp_arrays = None
            heapq.heappush(pool.ramp_order, (start, w))
        else:
            self._push(pool, w)

    def _leave(self, pool: _Pool, w: int) -> None:
        del pool.stamp[w]
        if pool.ramping.pop(w, None) is not None:
            pool._ramp_arrays = None

    def _push(self, pool: _Pool, w: int) -> None:
        """(Re)enter settled member ``w`` in both heaps at its current load."""
        self._next_stamp += 1
        stamp = pool.stamp[w] = self._next_stamp
        base, load = self._base[w], self._load[w]
        heapq.heappush(pool.by_ratio, (load / (base if base > 0 else 1.0), w, stamp))
        heapq.heappush(pool.by_room, (-(base - load), w, stamp))
        if len(pool.by_ratio) > 4 * len(pool.stamp) + 64:
            self._rebuild(pool)

    def _rebuild(self, pool: _Pool) -> None:
        """Drop stale entries (once they outnumber live ones about three to one)."""
        pool.by_ratio = [e for e in pool.by_ratio if pool.stamp.get(e[1]) == e[2]]
        pool.by_room = [e for e in pool.by_room if pool.stamp.get(e[1]) == e[2]]
        heapq.heapify(pool.by_ratio)
        heapq.heapify(pool.by_room)

    def _settle(self, pool: _Pool, t: float) -> None:
        """Ramping members whose ramp-up is over join the heaps."""
        order, r = pool.ramp_order, self._ramp_days
        while order and t - order[0][0] >= r:
            _, w = heapq.heappop(order)
            if w in pool.ramping:
                del pool.ramping[w]
                pool._ramp_arrays = None
                self._push(pool, w)

    def _load_changed(self, w: int) -> None:
        for kind in self._kinds_of_team[self.wf.team[w]]:
            pool = self._pools[kind]
            if pool.stamp.get(w, -1) >= 0:
                self._push(pool, w)

    # -- choosing ----------------------------------------------------------------------
    def best_worker(self, kind: str, points: float, t: float) -> int:
        """The eligible worker with room for ``points`` and the lowest load for their capacity, or -1.

        Ties go to the worker who joined first (lowest index).
        """
        if self.wf.has_changes():
            self._sync(t)
        pool = self._pools[kind]
        if pool.ramp_order:
            self._settle(pool, t)
        need = points - 1e-9
        best = self._best_settled(pool, need)
        if pool.ramping:
            ramp = self._best_ramping(pool, need, t)
            if ramp is not None and (best is None or ramp < best):
                best = ramp
        return -1 if best is None else best[1]

    def _best_settled(self, pool: _Pool, need: float):
        stamp, room, by_ratio = pool.stamp, pool.by_room, pool.by_ratio
        while room and stamp.get(room[0][1]) != room[0][2]:
            heapq.heappop(room)
        if not room or -room[0][0] < need:
            return None  # nobody past ramp-up has room
        while stamp.get(by_ratio[0][1]) != by_ratio[0][2]:
            heapq.heappop(by_ratio)
        e = by_ratio[0]
        w = e[1]
        if self._base[w] - self._load[w] >= need:
            return e[0], w  # the usual case: the least loaded has room
        aside = []
        while True:
            e = heapq.heappop(by_ratio)
            w = e[1]
            if stamp.get(w) != e[2]:
                continue  # stale
            aside.append(e)
            base = self._base[w]
            if base - self._load[w] >= need:
                break
        for a in aside:
            heapq.heappush(by_ratio, a)
        return e[0], w

    def _best_ramping(self, pool: _Pool, need: float, t: float):
        load, base = self._load, self._base
        if len(pool.ramping) <= _SCAN:
            ramped_one = self.wf.ramped_one
            best = None
            for w, start in pool.ramping.items():
                cap = ramped_one(t, base[w], start)
                lw = load[w]
                if cap - lw >= need:
                    e = (lw / (cap if cap > 0 else 1.0), w)
                    if best is None or e < best:
                        best = e
            return best
        if pool._ramp_arrays is None:
            ws = np.array(sorted(pool.ramping), dtype=int)
            pool._ramp_arrays = (ws, np.array([base[w] for w in ws]), np.array([pool.ramping[w] for w in ws]))
        ws, full, start = pool._ramp_arrays
        cap = self.wf.ramped(t, full, start)
        lw = self.wf.points[ws]
        fits = cap - lw >= need
        if not fits.any():
            return None
        ratio = np.where(fits, lw / np.where(cap > 0, cap, 1.0), np.inf)
        i = int(np.argmin(ratio))  # workers are in index order, so the first minimum is the lowest index
        return float(ratio[i]), int(ws[i])

    def _assign(self, case, w: int, t: float) -> None:
        if case.last_worker >= 0 and case.last_worker != w:
            self.monitor.count("social_worker_changes", t)
        case.worker = case.last_worker = w
        self.wf.take_case(w, case)
        self._load_changed(w)
        self.on_allocated(case, t)

    def _set_load(self, w: int, load: float) -> None:
        self.wf.set_load(w, load)
        self._load_changed(w)

    def _enqueue(self, case, t: float, front: bool = False) -> None:
        case.worker = -1
        case.queued = True
        self.waiting += 1
        (self.queues[case.kind].appendleft if front else self.queues[case.kind].append)(case)
        self.on_queued(case, t)

    def place(self, case, t: float) -> bool:
        """Give a new (or newly transferred) case a worker, or queue it."""
        w = self.best_worker(case.kind, case.points, t)
        if w < 0:
            self._enqueue(case, t)
            return False
        self._assign(case, w, t)
        return True

    def release(self, case) -> None:
        """The case leaves its worker or the queue (closed, or about to move)."""
        w = case.worker
        if w >= 0:
            self.wf.drop_case(w, case)
            self._load_changed(w)
            case.worker = -1
        elif case.queued:
            case.queued = False  # left in the deque; skipped when reached
            self.waiting -= 1

    def reweigh(self, case, points: float) -> None:
        """Change a held case's workload points (e.g. an assessment becoming a plan in a pool team)."""
        if case.worker >= 0:
            self._set_load(case.worker, self._load[case.worker] + (points - case.points))
        case.points = points

    def reallocate_from(self, w: int, t: float) -> None:
        """Worker ``w`` has gone: move their cases to colleagues or to the front of the queues."""
        cases = sorted(self.wf.caseset[w], key=lambda c: c.id)
        for c in cases:
            self.release(c)
        unplaced = []
        for c in cases:
            to = self.best_worker(c.kind, c.points, t)
            if to >= 0:
                self._assign(c, to, t)
            else:
                unplaced.append(c)
        for c in reversed(unplaced):
            self._enqueue(c, t, front=True)

    def fill(self, t: float) -> None:
        """Allocate queued cases while anyone has room (oldest first within each type)."""
        if self.waiting == 0:
            return
        for kind, q in self.queues.items():
            while q:
                head = q[0]
                if not head.queued:
                    q.popleft()
                    continue
                w = self.best_worker(kind, head.points, t)
                if w < 0:
                    break
                q.popleft()
                head.queued = False
                self.waiting -= 1
                self._assign(head, w, t)
