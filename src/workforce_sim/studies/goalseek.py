"""Goal-seek: the smallest level of one lever that meets a target.

Every level is run on the same simulated futures (same seed and replications:
common random numbers), so the outcome moves with the level rather than with
chance, and a bisection search is stable. The search assumes the target gets
easier as the level rises and checks the largest level first. If that meets the
target on average, it bisects between none and the largest for the smallest level
that meets it on average, then for the smallest that meets it with its whole 95%
interval (if the largest does); if not even the largest meets it on average, it
says so, and why when it can tell.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from ..analysis.breaches import SERVICE, team_words
from ..analysis.statistics import wilson
from ..analysis.summary import END
from ..model.levers import LEVERS
from ..runs.experiment import run
from ..scenario.calendar import WEEKS_PER_YEAR
from ..scenario.loading import load_scenario
from ..scenario.schema import Scenario

# lever type -> (field that sets its level, whole numbers?, default largest level to try): from the lever registry
LEVELS = {k.type: (k.level, k.whole, k.largest) for k in LEVERS.values() if k.level is not None}
OPS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}
_TARGET = re.compile(r"^\s*([a-z_0-9]+)\s*(>=|<=|>|<)\s*(-?[0-9]*\.?[0-9]+)\s*$")


class GoalSeekError(ValueError):
    """A goal-seek that cannot be done as asked: unknown lever, measure or target."""


@dataclass(frozen=True)
class Target:
    """What must hold of one whole-run measure, e.g. p_sustained >= 0.9."""

    metric: str
    op: str
    value: float

    def met(self, x: float) -> bool:
        """Whether the value ``x`` meets the target."""
        return bool(OPS[self.op](x, self.value))

    def surely_met(self, low: float, high: float) -> bool:
        """Whether the whole 95% interval meets the target: its lower bound for ``>=`` and ``>``, its upper
        bound for ``<=`` and ``<`` (a target met only on average may be chance)."""
        bound = low if self.op in (">=", ">") else high
        return bool(np.isfinite(bound) and OPS[self.op](bound, self.value))

    def __str__(self) -> str:
        return f"{self.metric} {self.op} {self.value:g}"


def parse_target(text: str) -> Target:
    """Read a target written like ``p_sustained>=0.9``."""
    m = _TARGET.match(text)
    if not m:
        raise GoalSeekError(f'target "{text}" should look like "p_sustained>=0.9" or "caseload_mean<=17"')
    return Target(m.group(1), m.group(2), float(m.group(3)))


@dataclass
class Evaluation:
    """One level tried: the measure's mean and 95% interval, the cost per year, and whether it meets the
    target (``met``: the whole interval does; ``met_on_average``: the mean does)."""

    level: float
    value: float
    ci95_low: float
    ci95_high: float
    cost_per_year: float
    met: bool
    met_on_average: bool = False
    replications: int = 0
    breaks_first: str = ""  # where caseloads most often break first at this level (a team, "service" or "")
    breaks_first_share: float = 0.0  # the share of futures in which they break first there

    def replications_needed(self, target: "Target") -> int | None:
        """About how many replications would make the interval meet the target, if the mean stayed where it
        is (None if the mean itself misses it)."""
        if not self.met_on_average or self.replications < 1:
            return None
        if self.met:
            return self.replications
        if target.metric == "p_sustained":  # the Wilson interval of the same share, with more futures
            for n in range(self.replications, 100_001):
                if target.surely_met(wilson(round(self.value * n), n)[0], 1.0):
                    return n
            return None
        half = (self.ci95_high - self.ci95_low) / 2
        gap = abs(self.value - target.value)
        return int(np.ceil(self.replications * (half / gap) ** 2)) + 1 if gap > 0 else None


@dataclass
class GoalSeekResult:
    """The outcome of a search: the level found (if any), the best run, the run with none, and every level tried."""

    lever: str
    field: str
    target: Target
    found: bool
    level: float | None
    best: Evaluation | None
    none: Evaluation
    tried: list[Evaluation]
    max_level: float
    team: str | None = None  # the team an added lever's posts went to (None: the scenario had the lever, or no team)
    on_average_level: float | None = None  # the smallest level that meets the target on average (None: none does)
    on_average: Evaluation | None = None  # the run at that level
    reason: str = ""  # why no level tried meets the target even on average, in plain words ("" when one does)

    def table(self) -> pd.DataFrame:
        """Every level tried, in the order tried, as goal_seek.csv holds them."""
        rows = [{"lever": self.lever, "field": self.field, "level": e.level, "target": str(self.target),
                 "value": e.value, "ci95_low": e.ci95_low, "ci95_high": e.ci95_high,
                 "meets_on_average": e.met_on_average, "meets_with_its_interval": e.met,
                 "replications": e.replications, "cost_per_year": e.cost_per_year,
                 "breaks_first": e.breaks_first, "breaks_first_share": e.breaks_first_share} for e in self.tried]
        return pd.DataFrame(rows)


def lever_with_level(scn: Scenario, lever_type: str, level: float, team: str | None = None) -> Scenario:
    """The scenario with its first lever of ``lever_type`` set to ``level`` (one is added if it has none; extra
    posts of an added lever go to ``team``, by default the largest case-holding team)."""
    if lever_type not in LEVELS:
        raise GoalSeekError(f"goal-seek works with these levers: {', '.join(LEVELS)}")
    field, whole, _ = LEVELS[lever_type]
    data = scn.model_dump(mode="python")
    levers = data["levers"]
    idx = next((i for i, lv in enumerate(levers) if lv["type"] == lever_type), None)
    if idx is None:
        new = {"type": lever_type, "start": scn.start_date, "label": f"{lever_type} (goal-seek)"}
        if LEVERS[lever_type].post_grade is not None:
            new["team"] = team or scn.largest_case_holding_team()
        levers.append(new)
        idx = len(levers) - 1
    levers[idx][field] = int(round(level)) if whole else float(level)
    return load_scenario(data)


def _evaluate(scn: Scenario, lever_type: str, level: float, target: Target, team: str | None = None,
              **run_kw) -> Evaluation:
    res = run(lever_with_level(scn, lever_type, level, team), **run_kw)
    s = res.summary
    row = s[(s["metric"] == target.metric) & (s["period"] == "whole run") & (s["statistic"] != END)]
    if row.empty:
        known = sorted(set(s["metric"]))
        raise GoalSeekError(f"no measure called {target.metric}; choose from: {', '.join(known)}")
    row = row.iloc[0]
    years = res.weekly["week"].nunique() / WEEKS_PER_YEAR
    cost = res.weekly.groupby("replication")["cost_total"].sum().mean() / years
    lo, hi = float(row["ci95_low"]), float(row["ci95_high"])
    first = s[s["metric"] == "breaks_first"].sort_values("mean", ascending=False, kind="stable")
    where = str(first["statistic"].iloc[0]) if len(first) and first["mean"].iloc[0] > 0 else ""
    return Evaluation(level, float(row["mean"]), lo, hi, float(cost), target.surely_met(lo, hi),
                      target.met(float(row["mean"])), int(res.manifest["replications"]), where,
                      float(first["mean"].iloc[0]) if where else 0.0)


def goal_seek(scn: Scenario, lever_type: str, target: str | Target, max_level: float | None = None,
              tolerance: float = 0.01, progress: Callable[[Evaluation], None] | None = None,
              run_progress: Callable[[float], Callable[[int, int], None] | None] | None = None,
              **run_kw) -> GoalSeekResult:
    """Find the smallest level of ``lever_type`` whose run meets ``target`` with its whole 95% interval
    (the lower bound of ``p_sustained>=0.9`` at least 0.9), and the smallest that meets it on average.

    ``run_kw`` go to :func:`workforce_sim.run` (years, reps, seed, jobs, ...). ``progress(evaluation)`` is called
    as each level finishes; ``run_progress(level)``, as each level starts, may give a ``progress(done, total)``
    for its run. Whole-number levers are searched exactly; others to within ``tolerance``. If the scenario has no
    lever of that type, one is added; an added lever of extra posts goes to the team where caseloads most often
    break first with none (else the largest case-holding team).
    """
    target = parse_target(target) if isinstance(target, str) else target
    if lever_type not in LEVELS:
        raise GoalSeekError(f"goal-seek works with these levers: {', '.join(LEVELS)}")
    field, whole, default_max = LEVELS[lever_type]
    hi = float(default_max if max_level is None else max_level)
    tried: list[Evaluation] = []
    team: str | None = None

    def ev(level: float) -> Evaluation:
        known = next((e for e in tried if e.level == level), None)
        if known is not None:
            return known
        kw = dict(run_kw)
        if run_progress is not None and (shown := run_progress(level)) is not None:
            kw["progress"] = shown
        e = _evaluate(scn, lever_type, level, target, team, **kw)
        tried.append(e)
        if progress:
            progress(e)
        return e

    none = ev(0.0)
    if none.breaks_first in scn.case_holding_teams():
        team = none.breaks_first  # an added lever's posts go where caseloads break first
    added = None
    if LEVERS[lever_type].post_grade is not None and not any(lv.type == lever_type for lv in scn.levers):
        added = team or scn.largest_case_holding_team()
    res = GoalSeekResult(lever_type, field, target, False, None, None, none, tried, hi, added)
    if none.met:
        res.found, res.level, res.best, res.on_average_level, res.on_average = True, 0.0, none, 0.0, none
        return res
    top = ev(hi)
    if not top.met_on_average:
        if none.met_on_average:  # the lever makes it worse
            res.on_average_level, res.on_average = 0.0, none
        else:
            res.reason = _why_out_of_reach(none, top, target, _lever_team(scn, lever_type, added))
        return res
    step = 1.0 if whole else tolerance
    res.on_average_level, res.on_average = (0.0, none) if none.met_on_average else _bisect(
        ev, lambda e: e.met_on_average, 0.0, hi, top, step, whole)
    if top.met:  # between the largest level known to miss with its interval and the smallest known to meet it
        first = min((e for e in tried if e.met), key=lambda e: e.level)
        below = max((e.level for e in tried if not e.met and e.level < first.level), default=0.0)
        res.level, res.best = _bisect(ev, lambda e: e.met, below, first.level, first, step, whole)
        res.found = True
    return res


def _bisect(ev: Callable[[float], Evaluation], meets: Callable[[Evaluation], bool], lo: float, hi: float,
            best: Evaluation, step: float, whole: bool) -> tuple[float, Evaluation]:
    """The smallest level between ``lo`` (known to miss) and ``hi`` (known to meet, its run ``best``) that
    ``meets``, to within ``step``, halving the gap each time."""
    while hi - lo > step:
        mid = float(np.floor((lo + hi) / 2)) if whole else (lo + hi) / 2
        e = ev(mid)
        if meets(e):
            hi, best = mid, e
        else:
            lo = mid
    return hi, best


def _lever_team(scn: Scenario, lever_type: str, added: str | None) -> str | None:
    """The team the lever's posts go to: the scenario's own lever's, or the added one's (None: not a posts lever)."""
    if LEVERS[lever_type].post_grade is None:
        return None
    own = next((lv for lv in scn.levers if lv.type == lever_type), None)
    return getattr(own, "team", None) if own is not None else added


def _why_out_of_reach(none: Evaluation, top: Evaluation, target: Target, team: str | None) -> str:
    """Why even the largest level tried misses the target on average, as far as the two runs tell."""
    why = []
    if team and top.breaks_first and top.breaks_first != team:
        elsewhere = "" if top.breaks_first == SERVICE else ", where they are not"
        why.append(f"the posts go to {team_words(team)}, but at {top.level:g} caseloads break first in "
                   f"{team_words(top.breaks_first)} (in {top.breaks_first_share:.0%} of futures){elsewhere}")
    gap, moved = target.value - none.value, top.value - none.value
    if gap == 0 or abs(moved) <= 0.1 * abs(gap):
        why.append(f"{target.metric} hardly moves with the lever: {none.value:.3g} with none, {top.value:.3g} at "
                   f"{top.level:g}")
    elif moved * gap < 0:
        why.append(f"{target.metric} moves away from the target as the lever rises: {none.value:.3g} with none, "
                   f"{top.value:.3g} at {top.level:g}")
    else:
        why.append(f"{target.metric} moves {moved / gap:.0%} of the way from {none.value:.3g} (with none) to "
                   f"{target.value:g} by {top.level:g}; a larger --max may reach it")
    return "; ".join(why)
