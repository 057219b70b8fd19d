"""Who holds each case.

A case goes to an eligible worker (in a team that handles its type, in post,
not on notice, not absent) with room for its workload points, the least
loaded first. If nobody has room it waits, first come first served, in the
unallocated queue of its type. Queued cases are taken as soon as capacity
frees. When a worker leaves, their cases go to colleagues with room or to the
front of the queue; every move to a different worker counts as a change of
social worker for that child.

Most attempts to allocate find nobody with room (a queue waits while every
worker is full). After such an attempt the allocator remembers, for that case
type, until when the answer cannot change: no worker's load falls, nobody
joins, leaves or returns, and no new starter's growing capacity reaches the
case's points. Until then a further attempt is answered without looking,
which never changes who gets a case, only how fast the answer comes.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from ..schema import HELD_CASE_TYPES


class _NoRoom:
    """What the last allocation attempt that found nobody with room showed, for one case type."""

    __slots__ = ("version", "points", "until", "freed")

    def __init__(self, version: int, points: float, until: float):
        self.version = version  # the workforce as it was (membership, availability, grades)
        self.points = points  # nobody had room for this many points (so none for more)
        self.until = until  # nor will, as new starters ramp up, before this time
        self.freed: set[int] = set()  # workers whose load has fallen since


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
        kinds = list(team_handles)
        self._kinds_of_team = [[k for k in kinds if team_handles[k][ti]] for ti in range(len(next(iter(team_handles.values()))))]
        self._no_room: dict[str, _NoRoom] = {}

    def _candidates(self, kind: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        """Workers who may take a case of ``kind`` now, their full capacity, start times and the latest start (cached)."""
        wf = self.wf
        hit = self._eligible.get(kind)
        if hit is not None and hit[0] == wf.version:
            return hit[1:]
        n = wf.n
        idx = np.flatnonzero(wf.available() & wf.holds_cases[:n] & self.handles[kind][wf.team[:n]])
        base = wf.cap_by_grade[wf.grade[idx]] * wf.fte[idx]
        start = wf.start[idx]
        latest = float(start.max(initial=-np.inf))
        self._eligible[kind] = (wf.version, idx, base, start, latest)
        return idx, base, start, latest

    def best_worker(self, kind: str, points: float, t: float) -> int:
        """The eligible worker with room for ``points`` and the lowest load for their capacity, or -1.

        Ties go to the worker who joined first (lowest index).
        """
        wf = self.wf
        known = self._no_room.get(kind)
        if known is not None and known.version == wf.version and points >= known.points and t < known.until:
            # nobody had room; only workers whose load has fallen since might have it now
            if not known.freed:
                return -1
            w = self._best_of_freed(kind, known, points, t)
            if w < 0 and points == known.points:
                self._forget_freed(known, t)
            return w
        idx, base, start, latest = self._candidates(kind)
        if idx.size == 0:
            self._no_room[kind] = _NoRoom(wf.version, points, np.inf)
            return -1
        cap = wf.ramped(t, base, start, latest)
        load = wf.points[idx]
        fits = (cap - load) >= points - 1e-9
        if not fits.any():
            self._no_room[kind] = _NoRoom(wf.version, points, wf.room_from(t, points - 1e-9, base, start, load))
            return -1
        ratio = np.where(fits, load / np.where(cap > 0, cap, 1.0), np.inf)
        return int(idx[int(np.argmin(ratio))])

    def _best_of_freed(self, kind: str, known: "_NoRoom", points: float, t: float) -> int:
        """:meth:`best_worker` when only the workers in ``known.freed`` can have room (the same arithmetic)."""
        wf = self.wf
        latest = self._candidates(kind)[3]
        best, best_ratio = -1, np.inf
        for w in sorted(known.freed):
            if not wf.active[w] or wf.notice[w] or wf.absent[w]:
                continue
            cap = wf.ramped_one(t, float(wf.cap_by_grade[wf.grade[w]]) * float(wf.fte[w]), float(wf.start[w]), latest)
            load = float(wf.points[w])
            if cap - load >= points - 1e-9:
                ratio = load / (cap if cap > 0 else 1.0)
                if ratio < best_ratio:
                    best, best_ratio = w, ratio
        return best

    def _forget_freed(self, known: "_NoRoom", t: float) -> None:
        """The freed workers have no room either: fold when their ramp-up could give it into ``until``."""
        wf = self.wf
        ws = np.array(sorted(known.freed), dtype=int)
        base = wf.cap_by_grade[wf.grade[ws]] * wf.fte[ws]
        known.until = min(known.until, wf.room_from(t, known.points - 1e-9, base, wf.start[ws], wf.points[ws]))
        known.freed.clear()

    def _freed(self, w: int) -> None:
        """Worker ``w``'s load fell: note it for each case type they may hold."""
        for kind in self._kinds_of_team[self.wf.team[w]]:
            known = self._no_room.get(kind)
            if known is not None:
                known.freed.add(w)

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
            self._freed(w)
        elif case.queued:
            case.queued = False  # left in the deque; skipped when reached
            self.waiting -= 1

    def reweigh(self, case, points: float) -> None:
        """Change a held case's workload points (e.g. an assessment becoming a plan in a pool team)."""
        if case.worker >= 0:
            self.wf.points[case.worker] += points - case.points
            if points < case.points:
                self._freed(case.worker)
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
