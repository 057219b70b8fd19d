"""Who holds each case.

A case goes to an eligible worker (in a team that handles its type, in post,
not on notice, not absent) with room for its workload points, the least
loaded first. If nobody has room it waits, first come first served, in the
unallocated queue of its type. Queued cases are taken as soon as capacity
frees. When a worker leaves, their cases go to colleagues with room or to the
front of the queue; every move to a different worker counts as a change of
social worker for that child.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from ..schema import HELD_CASE_TYPES


class Allocator:
    def __init__(self, workforce, team_handles: dict[str, np.ndarray], monitor, on_allocated, on_queued):
        self.wf = workforce
        self.monitor = monitor
        self.handles = team_handles  # case type -> bool per team
        self.queues: dict[str, deque] = {k: deque() for k in HELD_CASE_TYPES}
        self.waiting = 0
        self.on_allocated = on_allocated
        self.on_queued = on_queued
        self._eligible: dict[str, tuple] = {}

    def _candidates(self, kind: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Workers who may take a case of ``kind`` now, their full capacity and start times (cached)."""
        wf = self.wf
        hit = self._eligible.get(kind)
        if hit is not None and hit[0] == wf.version:
            return hit[1], hit[2], hit[3]
        n = wf.n
        idx = np.flatnonzero(wf.available() & wf.holds_cases[:n] & self.handles[kind][wf.team[:n]])
        base = wf.cap_by_grade[wf.grade[idx]] * wf.fte[idx]
        start = wf.start[idx]
        self._eligible[kind] = (wf.version, idx, base, start)
        return idx, base, start

    def best_worker(self, kind: str, points: float, t: float) -> int:
        idx, base, start = self._candidates(kind)
        if idx.size == 0:
            return -1
        cap = self.wf.ramped(t, base, start)
        load = self.wf.points[idx]
        fits = (cap - load) >= points - 1e-9
        if not fits.any():
            return -1
        ratio = np.where(fits, load / np.where(cap > 0, cap, 1.0), np.inf)
        return int(idx[int(np.argmin(ratio))])

    def _assign(self, case, w: int, t: float) -> None:
        if case.last_worker >= 0 and case.last_worker != w:
            self.monitor.count("social_worker_changes", t)
        case.worker = case.last_worker = w
        wf = self.wf
        wf.cases[w] += 1
        wf.points[w] += case.points
        wf.caseset[w].add(case)
        self.on_allocated(case, t)

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
            wf = self.wf
            wf.cases[w] -= 1
            wf.points[w] -= case.points
            wf.caseset[w].discard(case)
            case.worker = -1
        elif case.queued:
            case.queued = False  # left in the deque; skipped when reached
            self.waiting -= 1

    def reweigh(self, case, points: float) -> None:
        """Change a held case's workload points (e.g. an assessment becoming a plan in a pool team)."""
        if case.worker >= 0:
            self.wf.points[case.worker] += points - case.points
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
