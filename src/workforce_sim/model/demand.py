"""Demand and the front door (MASH).

Contacts arrive from each named source as a non-homogeneous Poisson process:
the source's annual volume, grown by its trend, shaped by the monthly
seasonal profile, piecewise constant within each calendar month (so exact for
that rate). Everything about a contact that does not depend on staffing (when
it arrives, its source, what screening will decide, how long screening takes,
what early help will do) is drawn up front from that source's own streams.

Children whose case closed and who come back reach the front door too, as
contacts about known children (``returning_contact``): they are screened in
the same queue, in order of arrival, and decided as referrals.

Screening is a first-come-first-served queue with one server per screener in
post and not absent. Contacts are handed to the earliest free screener in a
daily batch (one event per working day, not one per contact); a referral then
becomes an event at the moment its decision is made. Contacts not yet decided
are the front-door backlog.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from heapq import heapify, heappop, heappush, heapreplace
from typing import Callable, Final

import numpy as np

from ..scenario.schema import Scenario
from .clock import Due, call_after, call_first, chain_ended
from .context import Context
from .draws import BufferedSampler
from .early_help import EarlyHelp

NFA: Final = 0
EARLY_HELP: Final = 1
REFERRAL: Final = 2


def contact_rates(scn: Scenario, calendar) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
    """Per source: (name, month start, month end, contacts per working day) over the run."""
    d = scn.demand
    season = np.asarray(d.seasonality, dtype=float)
    season = season / season.mean()
    months = calendar.month_bounds()
    a = np.array([m[2] for m in months])
    b = np.array([m[3] for m in months])
    mon = np.array([m[1] for m in months])
    wdy = calendar.working_days_per_year
    mid_years = (a + b) / 2.0 / wdy
    out = []
    for name, src in d.sources.items():
        trend = d.trend_per_year if src.trend_per_year is None else src.trend_per_year
        rate = src.contacts_per_year / wdy * (1.0 + trend) ** mid_years * season[mon - 1]
        out.append((name, a, b, rate))
    return out


def histogram_of_sorted(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """``np.histogram(values, bins=edges)[0]`` for ``values`` already in order: numpy's own count after its sort
    (each edge searched for, the last one inclusive, and the differences), without sorting them again (a
    millisecond a call on a run's contacts)."""
    return np.diff(np.concatenate((values.searchsorted(edges[:-1], "left"), values.searchsorted(edges[-1:], "right"))))


class FrontDoor:
    """The front door (MASH): every contact of the run, drawn up front, and the screeners who decide them.

    ``on_referral(t)`` is called for each referral at the moment it is made (a contact
    decided as a referral, or a family stepped up from early help).
    """

    def __init__(self, ctx: Context, early_help: EarlyHelp, on_referral: Callable[..., None]):
        scn, calendar, streams, levers, monitor = ctx.scn, ctx.calendar, ctx.streams, ctx.levers, ctx.monitor
        self.env, self.monitor, self.on_referral = ctx.env, ctx.monitor, on_referral
        self.hook_known_child_contact = ctx.hooks.known_child_contact  # held in a field (see CaseFlow)
        self.early_help = early_help
        self.timescale = scn.standards.decision_days
        horizon = calendar.horizon
        times, src_idx, outcome = [], [], []
        self.source_names = list(scn.demand.sources)
        d = scn.demand
        for k, (name, a, b, rate) in enumerate(contact_rates(scn, calendar)):
            rng = streams(f"arrivals.{name}")
            n = rng.poisson(rate * (b - a))
            t = np.repeat(a, n) + rng.random(n.sum()) * np.repeat(b - a, n)
            t = np.sort(t)
            src = scn.demand.sources[name]
            u = streams(f"screening.{name}").random(t.size)
            keep_u = streams(f"levers.contacts.{name}").random(t.size)  # drawn always: levers never shift other draws
            r = np.full(t.size, src.referral_share)
            if src.partner:
                r = r * d.partner_threshold_factor * levers.partner_factor("referral_reduction", t)
                keep = keep_u < levers.partner_factor("contact_reduction", t)
                t, u, r = t[keep], u[keep], r[keep]
            times.append(t)
            src_idx.append(np.full(t.size, k))
            outcome.append(np.where(u < r, REFERRAL, np.where(u < r + src.early_help_share, EARLY_HELP, NFA)))
        t = np.concatenate(times)
        order = np.argsort(t, kind="stable")
        self.arrival = t[order]
        self.source = np.concatenate(src_idx)[order]
        self.outcome = np.concatenate(outcome)[order]
        n = self.arrival.size
        self.service = scn.front_door.screening_days.sample(streams("screening.time"), n)
        self.eh = early_help.for_contacts(self.arrival)
        monitor.array("contacts")[:] = histogram_of_sorted(self.arrival, monitor.bounds)
        for k, name in enumerate(self.source_names):
            monitor.array(f"contacts_{name}")[:] = histogram_of_sorted(self.arrival[self.source == k], monitor.bounds)
        self.next = 0  # next contact not yet handed to a screener
        self.free: list[float] = []  # heap of the times each screener is next free
        self._as_lists()
        self.horizon = horizon
        # contacts about returning children: (arrival, order, child) waiting to be screened, and those screened
        self.returns: list[tuple[float, int, int]] = []
        self._n_returns = 0
        self.return_service = BufferedSampler(scn.front_door.screening_days, streams("screening.time.returning"))
        self.ret_arrival: list[float] = []
        self.ret_start: list[float] = []
        self.ret_end: list[float] = []
        # what :meth:`snapshot` has learnt so far (the weeks' ends only move on): every contact before
        # ``_decided_upto`` was decided by the last snapshot; of the returning contacts before ``_ret_seen``, those
        # still being screened then are in ``_ret_pending`` (their decision times)
        self._snap_t = -np.inf
        self._decided_upto = 0
        self._ret_seen = 0
        self._ret_pending: list[float] = []

    def _as_lists(self) -> None:
        """The contacts as plain lists, read one at a time each day (much faster than numpy's scalars), and when
        screening of contacts 0..next-1 started and ended (the decision)."""
        self._arrival: list[float] = self.arrival.tolist()
        self._service: list[float] = self.service.tolist()
        self._outcome: list[int] = self.outcome.tolist()
        self._up: list[bool] = self.eh.step_up.tolist()
        self._up_days: list[float] = self.eh.step_up_days.tolist()
        self.start: list[float] = []
        self.end: list[float] = []

    # -- screeners -------------------------------------------------------------------
    def set_screeners(self, n: int, t: float) -> None:
        """The number of screeners present changes (starters, leavers, absence)."""
        cur = len(self.free)
        if n > cur:
            for _ in range(n - cur):
                heappush(self.free, t)
        elif n < cur:
            self.free = sorted(self.free)[:n]  # those finishing latest step away after their contact
            heapify(self.free)

    def returning_contact(self, t: float, child: int) -> None:
        """A child whose case closed comes back: a contact about them reaches the front door at ``t``."""
        heappush(self.returns, (t, self._n_returns, child))
        self._n_returns += 1
        self.monitor.count("contacts", t)
        self.monitor.count("contacts_returning", t)
        if self.hook_known_child_contact:
            self.hook_known_child_contact(child, t)

    def begin(self) -> None:
        """One event per working day, from the start: hand that day's contacts (and any waiting) to screeners."""
        call_first(self.env, self._day, 0)

    def _day(self, ev: Due) -> None:
        day: int = ev.value
        if day < self.horizon:
            self._assign(day + 1.0)
            day += 1
            call_after(self.env, day - self.env.now, self._day, day)
        else:
            chain_ended(self.env)

    def _assign(self, until: float) -> None:
        """Hand contacts that have arrived by ``until`` to the earliest free screener (first come, first served)."""
        free = self.free
        if not free:
            return
        back = []  # contacts about returning children that arrived before ``until``
        while self.returns and self.returns[0][0] < until:
            back.append(heappop(self.returns))
        i0 = self.next
        i1 = bisect_left(self._arrival, until)  # contacts i0..i1-1 arrived before ``until``
        if i1 <= i0 and not back:
            return
        self._assign_in_order(i0, i1, back)

    def _assign_in_order(self, i0: int, i1: int, back: list[tuple[float, int, int]]) -> None:
        """Contacts i0..i1-1 and those about returning children (``back``), in order of arrival, each to the
        earliest free screener. A contact that waited starts no earlier than now."""
        free, env = self.free, self.env
        now: float = env.now
        arr, service, outcome = self._arrival, self._service, self._outcome
        step_up, step_up_days = self._up, self._up_days
        starts, ends = self.start, self.end
        j = 0
        for i in range(i0, i1 + 1):
            while j < len(back) and (i == i1 or back[j][0] <= arr[i]):
                t_arr, _, child = back[j]
                start = _latest(t_arr, now, free[0])
                end = start + self.return_service.draw()
                heapreplace(free, end)
                self.ret_arrival.append(t_arr)
                self.ret_start.append(start)
                self.ret_end.append(end)
                call_after(env, end - now, self._refer_returning, child)
                j += 1
            if i >= i1:
                break
            start = _latest(arr[i], now, free[0])
            end = start + service[i]
            heapreplace(free, end)
            starts.append(start)
            ends.append(end)
            o = outcome[i]
            if o == REFERRAL:
                call_after(env, end - now, self._refer)
            elif o == EARLY_HELP and step_up[i]:
                call_after(env, end + step_up_days[i] - now, self._step_up)
        if i1 > i0:
            self.next = i1

    def finish(self) -> None:
        """Count decisions, waits and early help into their weeks, all contacts at once."""
        m, k = self.monitor, self.next
        a, out = self.arrival[:k], self.outcome[:k]
        start, end = np.array(self.start, dtype=float), np.array(self.end, dtype=float)
        ra, rs, re_ = (np.array(x, dtype=float) for x in (self.ret_arrival, self.ret_start, self.ret_end))
        m.count_many("_screening_started", np.concatenate([start, rs]))
        m.count_many("_screening_wait_days", np.concatenate([start, rs]), np.concatenate([start - a, rs - ra]))
        m.count_many("_contacts_decided", np.concatenate([end, re_]))
        decided_in_time = np.concatenate([end[end - a <= self.timescale], re_[re_ - ra <= self.timescale]])
        m.count_many("_contacts_decided_in_timescale", decided_in_time)
        m.count_many("_contacts_referred", np.concatenate([end[out == REFERRAL], re_]))
        eh = out == EARLY_HELP
        m.count_many("_contacts_to_early_help", end[eh])
        self.early_help.count_from_front_door(end, self.eh, eh)

    def _refer(self, ev: Due) -> None:
        self.on_referral(self.env.now)

    def _refer_returning(self, ev: Due) -> None:
        self.on_referral(self.env.now, child=ev.value, returning=True)

    def _step_up(self, ev: Due) -> None:
        self.monitor.count("early_help_step_ups", self.env.now)
        self.on_referral(self.env.now, step_up=True)

    def snapshot(self, week: int, t: float) -> None:
        """Contacts arrived by ``t`` and not yet decided.

        A contact decided by one snapshot's ``t`` is decided by every later one, so each snapshot looks again only
        at the contacts that were not (the same counts as comparing every contact with ``t``)."""
        if t < self._snap_t:  # not later than the last snapshot: start again from the first contact
            self._decided_upto, self._ret_seen, self._ret_pending = 0, 0, []
        self._snap_t = t
        arrived = bisect_right(self._arrival, t)
        lo, ends = self._decided_upto, self.end
        decided, first_open = lo, self.next  # how many are decided; the first one not decided
        for i in range(lo, self.next):
            if ends[i] <= t:
                decided += 1
            elif first_open == self.next:
                first_open = i
        self._decided_upto = first_open
        new = self.ret_end[self._ret_seen:]
        self._ret_seen = len(self.ret_end)
        self._ret_pending = [e for e in self._ret_pending if e > t] + [e for e in new if e > t]
        back = due_in_heap(self.returns, t) + len(self._ret_pending)
        self.monitor.set("front_door_backlog", week, arrived - decided + back)


def _latest(a: float, b: float, c: float) -> float:
    """max(a, b, c) on floats, without the generic built-in."""
    m = a if a >= b else b
    return m if m >= c else c


def due_in_heap(heap: list[tuple[float, int, int]], t: float) -> int:
    """How many entries of the heap ``heap`` are due by ``t`` (their first item at most ``t``), visiting only those
    and their children: an entry's children are never due before it."""
    count, stack, size = 0, [0] if heap else [], len(heap)
    while stack:
        i = stack.pop()
        if heap[i][0] <= t:
            count += 1
            if 2 * i + 1 < size:
                stack.append(2 * i + 1)
            if 2 * i + 2 < size:
                stack.append(2 * i + 2)
    return count
