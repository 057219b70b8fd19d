"""Children in care as the budget sees them: who starts care (age, route), where they live, court proceedings,
how and when they leave, care leavers, and the council's own foster and children's home places.

The case flow decides *that* a child starts care, and its children in care team holds the case. This part decides
the rest, from streams of its own, drawn in the order children start care (so while the same children start care,
they have the same ages, routes and needs in every scenario of a comparison; docs/levers.md says when they do not):

- **who and how**: age on starting (``care.entry_age``); in care proceedings or accommodated under section 20;
  unaccompanied asylum-seeking children arrive as their own stream, straight into care;
- **how long**: the case flow draws a length of care (``cases.plans.cla.duration_weeks``); the child leaves for
  the reason drawn for their age (home, adoption, special guardianship, other), after the drawn length, unless an
  order ends care first (special guardianship, or home under a supervision order or no order, when proceedings end)
  or their 18th birthday does: then they leave care and become a care leaver (supported to 21, or 25 on request);
  an adoption takes its own time (``care.adoption_weeks``), the last weeks of it placed with the adopters;
- **where**: the placement a child needs for their age; a foster place with the council's own carers if one is
  free, otherwise an agency's; a bed in the council's own children's homes if free, otherwise a private home.
  In-house places are recruited and lost week by week; a child whose carer's place is lost moves to an agency
  (a placement move). A child stays where they are placed until they leave, move to their adopters, or lose
  their place;
- **weight**: a child in proceedings weighs ``proceedings.extra_points`` more on their worker's caseload.

Pressure on the children in care team does not change placements, their stability or how long care lasts here:
no published study the project found measures such an effect (docs/model.md).
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_right
from collections.abc import Mapping
from typing import Any, Final

import numpy as np

from ..scenario.calendar import WEEKS_PER_YEAR, WORKING_DAYS_PER_WEEK as WD
from ..scenario.distributions import law_of
from ..scenario.schema import AGE_BAND_YEARS, AGE_BANDS, PLACEMENTS, Care
from .case import Case
from .clock import Due, call_after
from .context import Context
from .draws import BufferedSampler, UniformBuffer

YEAR_DAYS: Final = 52.0 * WD  # the case flow's year of working days
UASC_AGES = (16.0, 18.0)  # most unaccompanied asylum-seeking children in care are 16 or 17 (illustrative)


class Episode:
    """One child's time in care: age on starting, where they live, and how and when care ends."""

    __slots__ = ("age", "start", "placement", "reason", "end", "proceedings_end", "order", "closed")

    def __init__(self, age: float, start: float):
        self.age, self.start = age, start  # age on starting care, in years; when care started (clock)
        self.placement = ""
        self.reason = ""
        self.end = 0.0
        self.proceedings_end: float | None = None
        self.order = ""
        self.closed = False


class Pool:
    """The council's own places of one kind, and the children in them (the latest placed last)."""

    def __init__(self, places: int):
        self.places = places
        self.children: list[Episode] = []

    def take(self, ep: Episode) -> bool:
        """Place ``ep`` in a free place, if there is one."""
        if len(self.children) >= self.places:
            return False
        self.children.append(ep)
        return True

    def leave(self, ep: Episode) -> None:
        """``ep`` leaves their place."""
        self.children.remove(ep)

    def lose(self, n: int) -> list[Episode]:
        """``n`` places are lost; returns the children who must move (the latest placed first)."""
        self.places = max(0, self.places - n)
        moving = []
        while len(self.children) > self.places:
            moving.append(self.children.pop())
        return moving


class _Mix:
    """Draws one of several named outcomes with given shares from a uniform stream."""

    def __init__(self, shares: Mapping[Any, float], u: UniformBuffer):
        self.names = list(shares)
        self.cum = np.cumsum([shares[k] for k in self.names]).tolist()
        self.u = u

    def draw(self) -> str:
        """One of the names, as often as its share."""
        return self.names[min(bisect_right(self.cum, self.u.draw() * self.cum[-1]), len(self.names) - 1)]


class ChildrenInCare:
    """Children in care, their placements and proceedings, and care leavers. The council wires it: the case flow
    asks :meth:`length` how long a child's care lasts, and :meth:`ended` and :meth:`week_ending` follow its hooks."""

    def __init__(self, ctx: Context, flow):
        scn, s = ctx.scn, ctx.streams
        if scn.care is None:
            raise ValueError("children in care as the budget sees them need the scenario's [care] section")
        self.care: Care = scn.care
        care = scn.care
        self.env, self.monitor, self.levers, self.flow = ctx.env, ctx.monitor, ctx.levers, flow
        self.base_points = scn.cases.workload_points.cla
        u = {name: UniformBuffer(s(f"care.{name}")) for name in ("entry_age", "age_now", "route", "order", "age")}
        self.entry_band = _Mix(care.entry_age, u["entry_age"])
        self.band_now = _Mix(care.age_at_start, u["age_now"])
        self.age_u, self.route_u = u["age"], u["route"]
        self.order = _Mix(care.proceedings.orders, u["order"])
        self.needs: dict[str, _Mix] = {b: _Mix(care.needs[b], UniformBuffer(s(f"care.needs.{b}"))) for b in AGE_BANDS}
        self.not_adopted: dict[str, _Mix] = {b: _Mix({k: v for k, v in care.exits[b].items() if k != "adoption"}
                                                     or {"other": 1.0}, UniformBuffer(s(f"care.exits.{b}.not_adopted")))
                                              for b in AGE_BANDS}
        self.exits: dict[str, _Mix] = {b: _Mix(care.exits[b], UniformBuffer(s(f"care.exits.{b}"))) for b in AGE_BANDS}
        self.proceedings_days = BufferedSampler(care.proceedings.duration_weeks, s("care.proceedings.duration"), WD)
        self.adoption_days = BufferedSampler(care.adoption_weeks, s("care.adoption"), WD)
        self.adoption_share: dict[str, float] = {b: care.exits[b].get("adoption", 0.0) for b in AGE_BANDS}
        self.adoption_sf = law_of(care.adoption_weeks).sf
        self.stay_sf = law_of(scn.cases.plans.cla.duration_weeks).sf
        # weeks in care -> (adoption's, other stays' survival): a start state's children come in a few groups, each
        # with one time in care, so each survival is worked out once per group, not once per child
        self._survival: dict[float, tuple[float, float]] = {}
        self.start_u = UniformBuffer(s("care.start_state"))
        self.rng = s("care.week")  # in-house places recruited and lost, care leavers at the start
        self.uasc_rng = s("care.uasc")
        self.leaver_u = UniformBuffer(s("care.leavers"))
        self.foster, self.homes = Pool(care.foster_places.places), Pool(care.home_places.places)
        self.episodes: dict[int, Episode] = {}  # case id -> its time in care, while open
        self.count = dict.fromkeys(PLACEMENTS, 0)
        self.proceedings_open = 0
        self.leavers: list[float] = []  # when each care leaver's support ends (a heap)
        self.lever_carry: dict[int, float] = {}  # in-house foster places a lever has part-recruited
        self._arriving = False
        self._home_sooner = 1.0

    # -- the start -----------------------------------------------------------------------
    def start_state(self) -> None:
        """Care leavers already supported on the start date (support ends within three years, or seven for those
        supported to 25), and the
        arrival of unaccompanied asylum-seeking children."""
        n = self.care.leavers.at_start
        years = np.where(self.rng.random(n) < self.care.leavers.to_25_share, 7.0, 3.0)  # to 25 on request, else 21
        self.leavers = sorted((self.rng.random(n) * years * YEAR_DAYS).tolist())
        if self.care.uasc_per_year > 0:
            self.env.process(self._uasc_arrivals())

    def _uasc_arrivals(self):
        rate = self.care.uasc_per_year / YEAR_DAYS
        while True:
            yield self.env.timeout(self.uasc_rng.exponential(1.0 / rate))
            self._arriving = True
            self.flow.enter_care(self.env.now)
            self._arriving = False
            self.monitor.count("uasc_started", self.env.now)

    # -- a child starts care ---------------------------------------------------------------
    def length(self, case: Case, t: float, days: float, started: float | None) -> float:
        """A child starts care at ``t`` (or, in the start state, started at ``started``) and the case flow has drawn
        ``days`` of care (the rest of it, in the start state): who the child is, where they live, whether in
        proceedings, and how they leave. Returns the working days until care ends."""
        elapsed = 0.0 if started is None else t - started
        if self._arriving:
            ep, route = Episode(UASC_AGES[0] + self.age_u.draw() * (UASC_AGES[1] - UASC_AGES[0]), t), "uasc"
        else:
            ep = Episode(self._age_on_starting(elapsed), t - elapsed)
            route = "proceedings" if self.route_u.draw() < self.care.proceedings.share_of_entries else "section_20"
        band = _band(ep.age)
        need = self.needs["16_17" if route == "uasc" else band].draw()
        self._home_sooner = self.levers.home_sooner_factor(t) if started is None else 1.0
        left = self._how_it_ends(ep, band, route, elapsed, days)
        to_18 = max(0.0, (18.0 - ep.age) * YEAR_DAYS - elapsed)
        if left >= to_18:  # the 18th birthday comes first
            left, ep.reason = to_18, "aged_18"
        ep.end = t + left
        self.episodes[case.id] = ep
        self._place(ep, need, t)
        self._proceedings(case, ep, t, counted=started is None)
        if ep.reason == "adoption":
            self._to_adopters(ep, t)
        return left

    def _age_on_starting(self, elapsed: float) -> float:
        """A new child's age on starting care; in the start state, their age now (as children in care are) less the
        time they have been in care."""
        if elapsed <= 0:
            lo, hi = AGE_BAND_YEARS[self.entry_band.draw()]
            return lo + self.age_u.draw() * (hi - lo)
        lo, hi = AGE_BAND_YEARS[self.band_now.draw()]
        return max(0.0, lo + self.age_u.draw() * (hi - lo) - elapsed / YEAR_DAYS)

    def _how_it_ends(self, ep: Episode, band: str, route: str, elapsed: float, days: float) -> float:
        """The reason care will end and the working days left until it does (before the 18th birthday)."""
        reason = self.exits[band].draw() if elapsed <= 0 else self._reason_in_care_since(band, elapsed)
        adoption = self.adoption_days.draw()
        if elapsed > 0 and reason == "adoption":  # an adoption that takes longer than the time already in care
            rest = self.care.adoption_weeks.sample_residual(self.rng, np.array([elapsed / WD]))
            adoption = elapsed + float(rest[0]) * WD
        if reason == "home":  # reunification support, for children starting care while it runs
            days *= self._home_sooner
        if reason == "adoption" and route == "section_20":
            route = "proceedings"  # an adoption needs a placement order, made in care proceedings
        if route != "proceedings":
            ep.reason = reason
            return days
        length, order = self.proceedings_days.draw(), self.order.draw()
        if reason == "adoption":
            order = "care_order"  # (with a placement order)
        if length > elapsed:  # still in proceedings
            ep.proceedings_end, ep.order = length - elapsed, order
            if order != "care_order":  # the order ends care
                ep.reason = order
                return length - elapsed
        if reason == "adoption":
            ep.reason = reason
            return max(length, adoption) - elapsed
        ep.reason = reason
        return max(days, length - elapsed)

    def _reason_in_care_since(self, band: str, elapsed: float) -> str:
        """(start state) How a child in care for ``elapsed`` working days will leave: to be adopted as often as such
        children are among those still in care after that long (adoptions take ``care.adoption_weeks``, other
        stays ``cases.plans.cla.duration_weeks``), otherwise as other children of their age leave."""
        p = self.adoption_share[band]
        weeks = elapsed / WD
        survival = self._survival.get(weeks)
        if survival is None:
            survival = self._survival[weeks] = (float(self.adoption_sf(weeks)), float(self.stay_sf(weeks)))
        adopted = p * survival[0]
        other = (1.0 - p) * survival[1]
        if adopted > 0 and self.start_u.draw() * (adopted + other) < adopted:
            return "adoption"
        return self.not_adopted[band].draw()

    def _place(self, ep: Episode, need: str, t: float) -> None:
        if need == "foster":
            ep.placement = "in_house_foster" if self.foster.take(ep) else "agency_foster"
        elif need == "childrens_home":
            ep.placement = "in_house_home" if self.homes.take(ep) else "external_home"
        else:
            ep.placement = need
        self.count[ep.placement] += 1

    def _proceedings(self, case: Case, ep: Episode, t: float, counted: bool) -> None:
        """A child in proceedings weighs more on the caseload until the final order."""
        if ep.proceedings_end is None:
            return
        rest = min(ep.proceedings_end, ep.end - t)  # proceedings end at 18, if not before
        ep.proceedings_end = t + rest
        self.proceedings_open += 1
        if counted:
            self.monitor.count("proceedings_issued", t)
        self.flow.reweigh(case, self.base_points + self.care.proceedings.extra_points)
        call_after(self.env, rest, self._final_order, (case, ep))

    def _final_order(self, ev: Due) -> None:
        case: Case
        ep: Episode
        case, ep = ev.value
        t = self.env.now
        self.proceedings_open -= 1
        self.monitor.count(f"orders_{ep.order}", t)
        ep.proceedings_end = None
        if not ep.closed:
            self.flow.reweigh(case, self.base_points)

    def _to_adopters(self, ep: Episode, t: float) -> None:
        at = ep.end - self.care.placed_for_adoption_weeks * WD
        if at <= t:
            self._move(ep, "placed_for_adoption", t, counted=False)
            return
        call_after(self.env, at - t,
                   lambda e: None if e.value.closed else self._move(e.value, "placed_for_adoption", self.env.now), ep)

    def _move(self, ep: Episode, to: str, t: float, counted: bool = True) -> None:
        """A child moves to another placement (leaving an in-house place, which frees it)."""
        self._vacate(ep)
        self.count[ep.placement] -= 1
        ep.placement = to
        self.count[to] += 1
        if counted:
            self.monitor.count("placement_moves", t)

    def _vacate(self, ep: Episode) -> None:
        if ep.placement == "in_house_foster":
            self.foster.leave(ep)
        elif ep.placement == "in_house_home":
            self.homes.leave(ep)

    # -- a child leaves care ---------------------------------------------------------------
    def ended(self, case: Case, kind: str, t: float, next_kind: str) -> None:
        """(hook plan_ended) A child leaves care: their place is freed; at 18 they become a care leaver."""
        if kind != "cla":
            return
        ep = self.episodes.pop(case.id)
        ep.closed = True
        self._vacate(ep)
        self.count[ep.placement] -= 1
        self.monitor.count(f"cla_ceased_{ep.reason}", t)
        case.settled = ep.reason in ("aged_18", "adoption")  # an adult, or an adopted child: not back as a child
        if ep.reason == "aged_18":
            years = 7.0 if self.leaver_u.draw() < self.care.leavers.to_25_share else 3.0
            heapq.heappush(self.leavers, t + years * YEAR_DAYS)

    # -- each week -------------------------------------------------------------------------
    def week_ending(self, week: int, t: float) -> None:
        """(hook week_ending) Read the stocks; then in-house places are recruited and lost for the week ahead."""
        m = self.monitor
        for p, name in _CLA_MEASURES:
            m.set(name, week, self.count[p])
        while self.leavers and self.leavers[0] <= t:
            heapq.heappop(self.leavers)
        pa = self.care.leavers.personal_advisers_fte
        m.set("care_leavers", week, len(self.leavers))
        m.set("care_leavers_per_adviser", week, len(self.leavers) / pa if pa > 0 else np.nan)
        m.set("proceedings_open", week, self.proceedings_open)
        m.set("foster_places_in_house", week, self.foster.places)
        self._places(t)
        for i, lv in self.levers.active_items("residential_step_down", t):
            for _ in range(self._due(i, lv.children_per_year)):
                self._step_down(i, t)

    def _due(self, i: int, per_year: float) -> int:
        """Lever ``i``'s whole units due this week, at ``per_year`` (a fraction is carried to the next week)."""
        carry = self.lever_carry.get(i, 0.0) + per_year / WEEKS_PER_YEAR
        whole = math.floor(carry + 1e-9)
        self.lever_carry[i] = carry - whole
        return whole

    def _step_down(self, i: int, t: float) -> None:
        """A residential step-down lever moves a child from a private children's home (else the council's own) to a
        foster family, or at 16 or 17 to supported accommodation; the child who has been in care longest first."""
        homes = [e for e in self.episodes.values() if e.placement == "external_home"] or [
            e for e in self.episodes.values() if e.placement == "in_house_home"]
        if not homes:
            return
        ep = min(homes, key=lambda e: e.start)
        if ep.age + (t - ep.start) / YEAR_DAYS >= 16.0:
            self._move(ep, "supported", t)
        else:
            self._move(ep, "in_house_foster" if self.foster.places > len(self.foster.children) else "agency_foster", t)
            if ep.placement == "in_house_foster":
                self.foster.children.append(ep)
        self.monitor.count(f"_stepped_down_{i}", t)

    def _places(self, t: float) -> None:
        """A week of in-house places: recruited (and by levers), lost (children in a lost place move)."""
        week = 1.0 / WEEKS_PER_YEAR
        for pool, setting in ((self.foster, self.care.foster_places), (self.homes, self.care.home_places)):
            lost = self.rng.binomial(pool.places, 1.0 - (1.0 - setting.lost_per_year) ** week) if pool.places else 0
            pool.places += int(self.rng.poisson(setting.recruited_per_year * week))
            for ep in pool.lose(int(lost)):
                self.count[ep.placement] -= 1
                ep.placement = "agency_foster" if pool is self.foster else "external_home"
                self.count[ep.placement] += 1
                self.monitor.count("placement_moves", t)
        for i, lv in self.levers.active_items("foster_carers", t):
            whole = self._due(i, lv.places_per_year)
            if whole:
                self.foster.places += whole
                self.monitor.count(f"_foster_places_recruited_{i}", t, whole)


_CLA_MEASURES = tuple((p, f"cla_{p}") for p in PLACEMENTS)  # each placement's stock measure


def _band(age: float) -> str:
    for band in AGE_BANDS:
        if age < AGE_BAND_YEARS[band][1]:
            return band
    return AGE_BANDS[-1]
