"""Investment levers in time: which are in force when, and what they change.

Other modules ask this one ("how much longer do recruitment rounds take at
time t?", "what share of families engage with early help for contacts arriving
at these times?") and never read lever settings themselves. Effects of several
levers of one type combine: shares add (capped at 1), reductions multiply.
"""

from __future__ import annotations

import datetime as dt
import math
import typing
from dataclasses import dataclass

import numpy as np

from ..scenario.calendar import WorkingCalendar
from ..scenario.schema import GRADES, Lever, Scenario

INF = float("inf")


@dataclass(frozen=True)
class LeverKind:
    """Everything the model and goal-seek need to know about one type of lever, in one place.

    - ``post_grade``: the grade of the posts it funds ("team_manager", or the lever's own
      ``grade`` field when "from lever"), or None if it funds no posts;
    - ``creates_posts``: posts it opened close (once vacant) when its funding ends;
    - ``measure`` and ``unit_cost``: a per-lever measure its cost is counted from, and the
      lever field that prices one unit of it; ``per_year`` says the unit cost is a yearly
      rate on a stock (priced week by week) rather than a price per item of a flow;
    - ``level``, ``whole`` and ``largest``: the field goal-seek varies, whether in whole
      numbers, and the largest level it tries by default (None: goal-seek does not vary it).
    """

    type: str
    effect: str
    level: str | None
    whole: bool = False
    largest: float = 1.0
    post_grade: str | None = None
    creates_posts: bool = False
    measure: str | None = None
    unit_cost: str | None = None
    per_year: bool = False


LEVERS: dict[str, LeverKind] = {k.type: k for k in [
    LeverKind("extra_posts", "funds extra posts in a team", "posts", True, 40,
              post_grade="from lever", creates_posts=True),
    LeverKind("team_managers", "funds extra team manager posts (more supervision capacity)", "posts", True, 10,
              post_grade="team_manager", creates_posts=True),
    LeverKind("retention", "lowers leaving among eligible permanent staff", "leaving_reduction", False, 0.9,
              measure="_retention_fte_{lever}", unit_cost="payment_per_worker_per_year", per_year=True),
    LeverKind("recruitment_campaign", "shortens recruitment rounds and makes fewer fail",
              "round_failure_reduction", False, 1.0),
    LeverKind("nqsw_academy", "brings extra newly qualified social workers each year", "extra_cohort", True, 30,
              creates_posts=True, measure="_academy_starters_{lever}", unit_cost="cost_per_starter"),
    LeverKind("agency_cap", "lowers the cap on agency staff and releases those above it", None),
    LeverKind("early_help", "more families engage with early help; fewer step up or come back",
              "engagement_increase", False, 0.5),
    LeverKind("threshold_training", "partners make fewer contacts and fewer of them become referrals",
              "referral_reduction", False, 0.9),
    LeverKind("foster_carers", "recruits more of the council's own foster carers (fewer agency placements)",
              "places_per_year", False, 60, measure="_foster_places_recruited_{lever}", unit_cost="cost_per_place"),
    LeverKind("edge_of_care", "supports families on the edge of care (fewer children start care)",
              "entry_reduction", False, 0.9),
    LeverKind("residential_step_down", "moves children from children's homes to foster families",
              "children_per_year", False, 30, measure="_stepped_down_{lever}", unit_cost="cost_per_child"),
    LeverKind("reunification", "supports children to return home sooner", "length_reduction", False, 0.9),
]}


def lever_types() -> list[str]:
    """Every lever type a scenario file may use (from the schema's union of lever classes)."""
    members = typing.get_args(typing.get_args(Lever)[0])
    return [typing.get_args(m.model_fields["type"].annotation)[0] for m in members]


def post_grade(lv) -> str | None:
    """The grade of the posts lever ``lv`` funds, or None."""
    g = LEVERS[lv.type].post_grade
    return lv.grade if g == "from lever" else g


class LeverSchedule:
    """The scenario's levers on the simulation clock, and what they change at a given time.

    Each lever is in force from its start (clock ``a``) until the day after its end (``b``).
    """

    def __init__(self, scn: Scenario, calendar: WorkingCalendar):
        self.scn = scn
        self.calendar = calendar
        self.items = []  # (index, lever, clock start, clock end)
        for i, lv in enumerate(scn.levers):
            a = self.clock(lv.start)
            b = INF if lv.end is None else self.clock(lv.end + dt.timedelta(days=1))
            self.items.append((i, lv, a, b))
        self._by_type: dict[str, list] = {}
        for item in self.items:
            self._by_type.setdefault(item[1].type, []).append(item)

    def clock(self, day: dt.date) -> float:
        """Clock time (working days from the start) of a date; dates before the start give 0."""
        if day <= self.calendar.start:
            return 0.0
        return float(self.calendar.working_days_between(self.calendar.start, day))

    def of_type(self, kind: str):
        """(index, lever, clock start, clock end) of each lever of type ``kind``."""
        return list(self._by_type.get(kind, ()))

    def active(self, kind: str, t: float):
        """The levers of type ``kind`` in force at time ``t``."""
        return [lv for _, lv, a, b in self._by_type.get(kind, ()) if a <= t < b]

    def active_items(self, kind: str, t: float):
        """(index, lever) of each lever of type ``kind`` in force at time ``t``."""
        return [(i, lv) for i, lv, a, b in self._by_type.get(kind, ()) if a <= t < b]

    def care_entry_factor(self, t: float) -> float:
        """Edge-of-care support: the share of children who would start care at ``t`` who still do."""
        return _product([1.0 - lv.entry_reduction for lv in self.active("edge_of_care", t)])

    def home_sooner_factor(self, t: float) -> float:
        """Reunification support: the share of their time in care that children who will return home, starting
        care at ``t``, still spend."""
        return _product([1.0 - lv.length_reduction for lv in self.active("reunification", t)])

    def _mask(self, a: float, b: float, times: np.ndarray) -> np.ndarray:
        return (times >= a) & (times < b)

    # -- demand and early help (vectorised over contact times) --------------------------------
    def engagement_share(self, base: float, times: np.ndarray) -> np.ndarray:
        """Share of families who engage with early help, for contacts arriving at ``times``."""
        share = np.full(times.shape, base)
        for _, lv, a, b in self.of_type("early_help"):
            share = share + lv.engagement_increase * self._mask(a, b, times)
        return np.minimum(share, 1.0)

    def step_up_factor(self, times: np.ndarray) -> np.ndarray:
        """Multiplier on the chance a family steps up from early help, for contacts at ``times``."""
        f = np.ones(times.shape)
        for _, lv, a, b in self.of_type("early_help"):
            f = f * np.where(self._mask(a, b, times), 1.0 - lv.step_up_reduction, 1.0)
        return f

    def partner_factor(self, field: str, times: np.ndarray) -> np.ndarray:
        """Threshold training: multiplier on partner contacts ("contact_reduction") or referral shares."""
        f = np.ones(times.shape)
        for _, lv, a, b in self.of_type("threshold_training"):
            f = f * np.where(self._mask(a, b, times), 1.0 - getattr(lv, field), 1.0)
        return f

    # -- statutory cases (scalar times) ---------------------------------------------------------
    def step_down_engagement(self, base: float, t: float) -> float:
        """Share of stepped-down families who engage with early help at ``t``."""
        return min(1.0, base + sum(lv.engagement_increase for lv in self.active("early_help", t)))

    def step_down_return_factor(self, t: float) -> float:
        """Multiplier on the chance a stepped-down case comes back, for cases closing at ``t``."""
        active = self.active("early_help", t)
        return _product([1.0 - lv.re_referral_reduction for lv in active]) if active else 1.0

    # -- workforce ------------------------------------------------------------------------------
    def leaving_factor(self, t: float, grade: np.ndarray, agency: np.ndarray) -> np.ndarray:
        """Multiplier on each worker's leaving hazard at ``t`` (grade codes and agency flags given)."""
        f = np.ones(grade.shape)
        for lv in self.active("retention", t):
            f = f * np.where(self.retention_eligible(lv, grade, agency), 1.0 - lv.leaving_reduction, 1.0)
        return f

    @staticmethod
    def retention_eligible(lv, grade: np.ndarray, agency: np.ndarray) -> np.ndarray:
        """Which workers (grade codes, agency flags) retention lever ``lv`` pays."""
        paid = np.array([g in lv.grades for g in GRADES])  # by grade code: np.isin's answer, looked up
        return paid[grade] & ~agency

    def hire_time_factor(self, t: float) -> float:
        """Multiplier on the length of recruitment rounds opened at ``t``."""
        return _product([lv.time_to_hire_factor for lv in self.active("recruitment_campaign", t)])

    def failure_factor(self, t: float) -> float:
        """Multiplier on the share of recruitment rounds that fail, for rounds ending at ``t``."""
        return _product([1.0 - lv.round_failure_reduction for lv in self.active("recruitment_campaign", t)])

    def agency_cap_share(self, base: float, t: float) -> float:
        """The agency cap in force at ``t``: the lowest of the scenario's and any agency_cap lever's."""
        caps = [lv.max_share_of_posts for lv in self.active("agency_cap", t)]
        return min([base] + caps)

    # -- costs ----------------------------------------------------------------------------------
    def week_shares(self, lv, week_dates: np.ndarray) -> np.ndarray:
        """Share of each reporting week's calendar days on which the lever is in force."""
        days = week_dates[:, None] + np.arange(7)[None, :]
        start = np.datetime64(lv.start, "D")
        on = days >= start
        if lv.end is not None:
            on &= days <= np.datetime64(lv.end, "D")
        return on.mean(axis=1)


def _product(factors: list[float]) -> float:
    """The product of ``factors`` (1.0 for none), multiplied in order from the first, as numpy's ``prod`` multiplies a
    handful of numbers (its reduction is a plain loop; only sums are added pairwise), without numpy's cost at every
    case that closes."""
    return math.prod(factors) if factors else 1.0
