"""Investment levers in time: which are in force when, and what they change.

Other modules ask this one ("how much longer do recruitment rounds take at
time t?", "what share of families engage with early help for contacts arriving
at these times?") and never read lever settings themselves. Effects of several
levers of one type combine: shares add (capped at 1), reductions multiply.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from ..schema import Scenario

INF = float("inf")


class LeverSchedule:
    def __init__(self, scn: Scenario, calendar):
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
        return list(self._by_type.get(kind, ()))

    def active(self, kind: str, t: float):
        return [lv for _, lv, a, b in self._by_type.get(kind, ()) if a <= t < b]

    def _mask(self, a: float, b: float, times: np.ndarray) -> np.ndarray:
        return (times >= a) & (times < b)

    # -- demand and early help (vectorised over contact times) --------------------------------
    def engagement_share(self, base: float, times: np.ndarray) -> np.ndarray:
        share = np.full(times.shape, base)
        for _, lv, a, b in self.of_type("early_help"):
            share = share + lv.engagement_increase * self._mask(a, b, times)
        return np.minimum(share, 1.0)

    def step_up_factor(self, times: np.ndarray) -> np.ndarray:
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
        return min(1.0, base + sum(lv.engagement_increase for lv in self.active("early_help", t)))

    def step_down_return_factor(self, t: float) -> float:
        active = self.active("early_help", t)
        return float(np.prod([1.0 - lv.re_referral_reduction for lv in active])) if active else 1.0

    # -- workforce ------------------------------------------------------------------------------
    def leaving_factor(self, t: float, grade_names: list[str], grade: np.ndarray, agency: np.ndarray) -> np.ndarray:
        f = np.ones(grade.shape)
        for lv in self.active("retention", t):
            eligible = np.isin(grade, [grade_names.index(g) for g in lv.grades]) & ~agency
            f = f * np.where(eligible, 1.0 - lv.leaving_reduction, 1.0)
        return f

    def retention_eligible(self, lv, grade_names: list[str], grade: np.ndarray, agency: np.ndarray) -> np.ndarray:
        return np.isin(grade, [grade_names.index(g) for g in lv.grades]) & ~agency

    def hire_time_factor(self, t: float) -> float:
        return float(np.prod([lv.time_to_hire_factor for lv in self.active("recruitment_campaign", t)]))

    def failure_factor(self, t: float) -> float:
        return float(np.prod([1.0 - lv.round_failure_reduction for lv in self.active("recruitment_campaign", t)]))

    def agency_cap_share(self, base: float, t: float) -> float:
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
