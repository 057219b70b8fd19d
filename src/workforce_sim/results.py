"""Summaries of replications, and writing results to disk safely."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import re
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
from scipy import stats

from .calendar import WEEKS_PER_YEAR
from .files import FolderError, atomic_write, pid_alive, remove_stale_temporaries
from .model.measures import COST_COLUMNS, ID_COLUMNS, describe


def mean_ci(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t confidence interval of independent replication values."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return np.nan, np.nan, np.nan
    m = float(v.mean())
    if v.size < 2:
        return m, np.nan, np.nan
    half = float(stats.t.ppf(0.5 + level / 2, v.size - 1) * v.std(ddof=1) / np.sqrt(v.size))
    return m, m - half, m + half


def periods(n_weeks: int) -> list[tuple[str, int, int]]:
    """('year 1', first week, end week), ..., then ('whole run', 0, n_weeks).

    Only whole years of 52 weeks are reported as years, so a year's total is always a year's: the
    weeks after the last whole year (the last week of a 5-year run, the last 26 weeks of a
    2.5-year run) count in the whole run only, and a run shorter than a year has no year."""
    out = []
    per_year = int(round(WEEKS_PER_YEAR))
    for y in range(n_weeks // per_year):
        out.append((f"year {y + 1}", y * per_year, (y + 1) * per_year))
    out.append(("whole run", 0, n_weeks))
    return out


STATISTICS = {  # how each kind of measure is summarised over a period: (statistic, weekly values -> one number)
    "flow": "total",         # events: the period's total (for the whole run, the total a year on average)
    "cost": "total",         # money: likewise
    "stock": "average",      # levels: the average over the period's weeks, and the level at its end
    "derived": "average",    # rates and percentages: the average of the weeks with something to measure
}
WHOLE_RUN_TOTAL = "total a year"  # a flow over the whole run: its total divided by the run's length in years
END = "end of period"


def bounds(metric: str) -> tuple[float, float]:
    """The range a measure's values can take: counts and levels from 0, percentages from 0 to 100.

    Two percentages can exceed 100: staff per manager against the span, and turnover at a yearly rate.
    """
    m = describe(metric)
    if m.unit == "%" and metric != "supervision_load_pct":
        return 0.0, 100.0
    return 0.0, np.inf


def bootstrap_interval(values: np.ndarray, level: float = 0.95, resamples: int = 2000, seed: int = 20261127,
                       expand: bool = True):
    """Means of the columns of ``values`` (replications x measures) with bootstrap 95% intervals, ignoring
    NaN. Returns (mean, low, high), each one value per column.

    A bootstrap interval is made of means of the data resampled, so it never leaves the range of the
    data: a count's interval stays at or above 0 and a percentage's within 0 to 100, where the
    Student-t interval (:func:`mean_ci`) runs below zero for small skewed counts. The interval is
    the bias-corrected and accelerated one (BCa; Efron 1987), which corrects for skew, with its
    levels *expanded* for small samples (Hesterberg 2015, "What teachers should know about the
    bootstrap"): the normal quantile is replaced by ``sqrt(n / (n - 1))`` times Student's t with
    n - 1 degrees of freedom, since a plain bootstrap interval is too narrow with few replications
    (about 85% coverage at 6, 92% at 20, against 95%). It is computed for every column at once as
    one matrix product of resampling weights (thousands of columns in milliseconds, where
    ``scipy.stats.bootstrap`` takes a tenth of a second per call); the resampling seed is fixed,
    so a summary is the same every time it is made. Tests check it against scipy's BCa interval
    and check its coverage. ``expand=False`` gives the plain BCa interval (as scipy's).
    """
    x = np.asarray(values, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    n, k = x.shape
    ok = np.isfinite(x)
    count = ok.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(ok, x, 0.0).sum(axis=0) / count
    low, high = np.full(k, np.nan), np.full(k, np.nan)
    complete = np.flatnonzero(count == n)
    if n >= 2 and complete.size:
        lo, hi = _bca(x[:, complete], level, resamples, seed, expand)
        low[complete], high[complete] = lo, hi
    for j in np.flatnonzero((count < n) & (count >= 2)):  # replications with nothing to measure are left out
        lo, hi = _bca(x[ok[:, j], j][:, None], level, resamples, seed, expand)
        low[j], high[j] = lo[0], hi[0]
    return mean, low, high


def _bca(x: np.ndarray, level: float, resamples: int, seed: int, expand: bool) -> tuple[np.ndarray, np.ndarray]:
    """(Expanded) BCa interval of the mean of each column of ``x`` (n x k, no NaN, n >= 2)."""
    n, k = x.shape
    mean = x.mean(axis=0)
    rng = np.random.default_rng(seed)
    weights = rng.multinomial(n, np.full(n, 1.0 / n), size=resamples) / n  # resamples x n
    boot = weights @ x
    jack = (x.sum(axis=0) - x) / (n - 1)  # the mean with each replication left out in turn
    alpha = (1 - level) / 2
    z = (np.sqrt(n / (n - 1)) * stats.t.ppf([alpha, 1 - alpha], n - 1) if expand
         else stats.norm.ppf([alpha, 1 - alpha]))
    low, high = np.empty(k), np.empty(k)
    for j in range(k):
        b = boot[:, j]
        if b.max() - b.min() <= 1e-12 * max(1.0, abs(mean[j])):
            low[j] = high[j] = mean[j]  # every replication the same: nothing to be uncertain about
            continue
        share_below = (b < mean[j]).mean() + 0.5 * (b == mean[j]).mean()
        z0 = stats.norm.ppf(min(max(share_below, 0.5 / resamples), 1 - 0.5 / resamples))
        d = jack[:, j].mean() - jack[:, j]
        denom = 6.0 * (d @ d) ** 1.5
        a = float((d ** 3).sum() / denom) if denom > 0 else 0.0
        q = stats.norm.cdf(z0 + (z0 + z) / (1 - a * (z0 + z)))
        low[j], high[j] = np.quantile(b, q)
    return low, high


def summarise(weekly: pd.DataFrame, rules: dict[str, "BreachRule"] | None = None) -> pd.DataFrame:
    """Per scenario, measure and period (each year of the run, and the whole run): one value per
    replication, summarised over replications.

    Columns: scenario, metric, period, statistic, unit, mean, ci95_low, ci95_high, p10, p50, p90,
    replications. The value of one replication is, by the measure's kind (:data:`STATISTICS`):

    - a flow (contacts, leavers) or a cost: the period's **total** (for the whole run, the
      ``total a year`` on average);
    - a stock (open cases, staff, caseloads): the **average** over the period's weeks, and, in a
      second row, the level at the **end of period** (its last week);
    - a rate or percentage: the **average** of the weeks that had something to measure.

    ``mean`` is the mean over replications with a bootstrap 95% interval
    (:func:`bootstrap_interval`), which stays within what the measure can be; p10, p50 and p90
    are percentiles over replications. With ``rules`` (each scenario's :class:`BreachRule`), the
    headline rows of :func:`headline` are added.
    """
    metrics = [c for c in weekly.columns if c not in ID_COLUMNS and not c.startswith("_")]
    kinds = {m: describe(m).kind for m in metrics}
    units = {m: describe(m).unit for m in metrics}
    flows = [m for m in metrics if STATISTICS[kinds[m]] == "total"]
    stocks = [m for m in metrics if kinds[m] == "stock"]
    averaged = [m for m in metrics if m not in flows]
    frames = []
    for scen, df in weekly.groupby("scenario", sort=False):
        n_weeks = int(df["week"].max()) + 1
        for label, a, b in periods(n_weeks):
            part = df[(df["week"] >= a) & (df["week"] < b)]
            g = part.groupby("replication", sort=True)
            average = g[averaged].mean()
            total = g[flows].sum()
            if label == "whole run":
                total = total / (n_weeks / WEEKS_PER_YEAR)
            end = part[part["week"] == b - 1].set_index("replication").sort_index()[stocks]
            blocks = [(total, WHOLE_RUN_TOTAL if label == "whole run" else "total"),
                      (average, "average"), (end, END)]
            for values, statistic in blocks:
                frames.append(_summary_rows(scen, label, statistic, values, units))
    out = pd.concat(frames, ignore_index=True)
    order = {m: i for i, m in enumerate(metrics)}
    stat_order = {"total": 0, WHOLE_RUN_TOTAL: 0, "average": 1, END: 2}
    period_order = {p: i for i, p in enumerate(dict.fromkeys(out["period"]))}
    out = out.assign(_s=out["scenario"].map({s: i for i, s in enumerate(dict.fromkeys(weekly["scenario"]))}),
                     _p=out["period"].map(period_order), _m=out["metric"].map(order),
                     _t=out["statistic"].map(stat_order))
    out = out.sort_values(["_s", "_p", "_m", "_t"], kind="stable").drop(columns=["_s", "_p", "_m", "_t"])
    if rules:
        out = pd.concat([out, headline(weekly, rules)], ignore_index=True)
    return out.reset_index(drop=True)


FEW_FOR_BOOTSTRAP = 5  # below this many replications the bootstrap cannot reach beyond the data


def bounded_interval(x: np.ndarray, edges: list[tuple[float, float]]):
    """(mean, low, high) of each column of ``x`` (replications x measures) within each column's
    (lowest, highest) possible value: the bootstrap interval (:func:`bootstrap_interval`), or with fewer
    than :data:`FEW_FOR_BOOTSTRAP` replications the Student-t interval cut at the range."""
    if len(x) >= FEW_FOR_BOOTSTRAP:
        return bootstrap_interval(x)
    cols = [mean_ci(x[:, j]) for j in range(x.shape[1])]
    mean, lo, hi = (np.array(c, dtype=float) for c in zip(*cols)) if cols else (np.empty(0),) * 3
    e = np.array(edges, dtype=float).reshape(-1, 2)
    return mean, np.clip(lo, e[:, 0], e[:, 1]), np.clip(hi, e[:, 0], e[:, 1])


def _summary_rows(scen: str, period: str, statistic: str, values: pd.DataFrame, units: dict) -> pd.DataFrame:
    """Summary rows of one scenario, period and statistic from per-replication ``values`` (a column a measure).

    With fewer than :data:`FEW_FOR_BOOTSTRAP` replications, a bootstrap interval (which never leaves the
    range of the data) is far too narrow, so the Student-t interval is used, cut at the measure's range."""
    x = values.to_numpy(dtype=float)
    mean, lo, hi = bounded_interval(x, [bounds(m) for m in values.columns])
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a column with no finite value gives NaN percentiles
        q = np.nanpercentile(x, [10, 50, 90], axis=0) if len(x) else np.full((3, x.shape[1]), np.nan)
    return pd.DataFrame({"scenario": scen, "metric": values.columns, "period": period, "statistic": statistic,
                         "unit": [units[m] for m in values.columns], "mean": mean, "ci95_low": lo, "ci95_high": hi,
                         "p10": q[0], "p50": q[1], "p90": q[2], "replications": np.isfinite(x).sum(axis=0)})


SUMMARY_COLUMNS = ["scenario", "metric", "period", "statistic", "unit", "mean", "ci95_low", "ci95_high", "p10", "p50",
                   "p90", "replications"]


def value(summary: pd.DataFrame, metric: str, period: str = "whole run", statistic: str | None = None) -> pd.Series:
    """The summary row of one measure and period (its first statistic: total or average, unless named)."""
    rows = summary[(summary["metric"] == metric) & (summary["period"] == period)]
    if statistic is not None:
        rows = rows[rows["statistic"] == statistic]
    if rows.empty:
        raise KeyError(f"no summary row for {metric}, {period}" + (f", {statistic}" if statistic else ""))
    return rows.iloc[0]


# -- the headline answer ---------------------------------------------------------------------
def wilson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion k/n (sound near 0 and 1, unlike the normal interval)."""
    if n == 0:
        return np.nan, np.nan
    z = stats.norm.ppf(0.5 + level / 2)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


MANAGEABLE_MEASURE = "caseload_incl_unallocated"
MANAGEABLE_MEANING = ("caseloads count waiting (unallocated) children against the staff who would hold them, and a "
                      "breach is that caseload above the threshold for {weeks} weeks running, or open cases with "
                      "nobody to hold them")


@dataclass(frozen=True)
class BreachRule:
    """When caseloads stop being manageable: the manageable measure (allocated plus unallocated cases per
    case-holding FTE) above ``threshold``, or missing (open cases and no case-holding staff), for ``weeks``
    consecutive weeks."""

    threshold: float
    weeks: int = 4

    def describe(self) -> str:
        """The rule in one sentence for a reader."""
        return (f"Threshold: {self.threshold:g} cases per case-holding FTE, averaged over the service (individual "
                f"workers may be above it); " + MANAGEABLE_MEANING.format(weeks=self.weeks) + ".")


def breach_rules(scenarios) -> dict[str, BreachRule]:
    """Each scenario's breach rule, from its standards, keyed by scenario name."""
    return {s.name: BreachRule(s.standards.manageable_caseload, s.standards.breach_weeks) for s in scenarios}


def breach_starts(values: np.ndarray, rule: BreachRule) -> np.ndarray:
    """Weeks that begin a run of at least ``rule.weeks`` weeks above the threshold or missing (one series)."""
    over = ~(np.asarray(values, dtype=float) <= rule.threshold)  # NaN counts as over: never read as manageable
    k = rule.weeks
    if over.size < k:
        return np.zeros(over.size, bool)
    full = np.convolve(over.astype(int), np.ones(k, int), mode="valid") == k
    return np.concatenate([full, np.zeros(k - 1, bool)])


def weeks_in_breach(values: np.ndarray, rule: BreachRule) -> int:
    """How many weeks of one series lie in a breach (a run of at least ``rule.weeks`` weeks over)."""
    start = breach_starts(values, rule)
    covered = np.zeros(start.size + rule.weeks, int)
    for i in np.flatnonzero(start):
        covered[i:i + rule.weeks] = 1
    return int(covered.sum())


def first_breach(weekly: pd.DataFrame, rule: BreachRule) -> pd.Series:
    """Per replication: the week (0 = the first) in which the first breach begins; inf if none."""
    out = {}
    for rep, part in weekly.groupby("replication", sort=True):
        starts = np.flatnonzero(breach_starts(part[MANAGEABLE_MEASURE].to_numpy(), rule))
        out[rep] = float(part["week"].to_numpy()[starts[0]]) if starts.size else np.inf
    return pd.Series(out, dtype=float).rename_axis("replication")


def headline(weekly: pd.DataFrame, rules: dict[str, BreachRule]) -> pd.DataFrame:
    """Will caseloads stay manageable, and for how long?

    Rows (in the summary.csv layout), per scenario:

    - ``p_sustained``: the share of replications with no breach (see :class:`BreachRule`)
      beginning by the end of each year (period "year k") and of the whole run, with a
      Wilson 95% interval;
    - ``weeks_to_first_breach``: the 10th, 50th and 90th percentiles of the week the first
      breach begins. A replication with no breach counts as "never" (inf): it is not left
      out, so a percentile is inf when too few breached.
    """
    rows = []
    for scen, df in weekly.groupby("scenario", sort=False):
        breach = first_breach(df, rules[scen])
        n = len(breach)
        n_weeks = int(df["week"].max()) + 1
        for label, _, b in periods(n_weeks):
            k = int((breach >= b).sum())
            lo, hi = wilson(k, n)
            rows.append((scen, "p_sustained", label, "share of futures", "share", k / n, lo, hi, np.nan, np.nan,
                         np.nan, n))
        q = np.percentile(breach.to_numpy(), [10, 50, 90], method="inverted_cdf")
        rows.append((scen, "weeks_to_first_breach", "whole run", "percentiles", "weeks", np.nan, np.nan, np.nan,
                     q[0], q[1], q[2], n))
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


# -- money ----------------------------------------------------------------------------------



def financial_year(dates: pd.Series) -> pd.Series:
    """English financial years, April to March: 2019-02-01 is in 2018-19."""
    d = pd.to_datetime(dates)
    start = d.dt.year - (d.dt.month < 4)
    return start.astype(str) + "-" + ((start + 1) % 100).astype(str).str.zfill(2)


def financial_year_days(fy: str) -> int:
    """The days in a financial year named like "2027-28" (366 when it holds a 29 February)."""
    start = int(str(fy)[:4])
    return (dt.date(start + 1, 4, 1) - dt.date(start, 4, 1)).days


def costs_by_financial_year(weekly: pd.DataFrame) -> pd.DataFrame:
    """Each replication's cost columns summed by financial year (April to March), with ``days``: the days of
    that year the run covers.

    A week that spans 31 March is shared between the two years by its days (a week starting on
    Tuesday 30 March puts 2/7 of its cost in the old year), so a whole financial year holds exactly
    365 or 366 days of cost. Index: scenario, financial_year, replication.
    """
    d = pd.to_datetime(weekly["date"])
    next_april = pd.to_datetime(pd.DataFrame({"year": d.dt.year + (d.dt.month >= 4), "month": 4, "day": 1}))
    before = ((next_april - d).dt.days.clip(upper=7) / 7.0).to_numpy()  # share of the week before 1 April
    cols = list(COST_COLUMNS)
    this = weekly[["scenario", "replication"] + cols].assign(financial_year=financial_year(d), days=7 * before)
    this[cols] = this[cols].mul(before, axis=0)
    spill = weekly.loc[before < 1, ["scenario", "replication"] + cols].assign(
        financial_year=financial_year(next_april[before < 1]), days=7 * (1 - before[before < 1]))
    spill[cols] = spill[cols].mul(1 - before[before < 1], axis=0)
    both = pd.concat([this, spill], ignore_index=True)
    out = both.groupby(["scenario", "financial_year", "replication"], sort=False)[cols + ["days"]].sum()
    order = {s: i for i, s in enumerate(dict.fromkeys(weekly["scenario"]))}
    return out.sort_index(level=[1, 2]).sort_index(level=0, key=lambda x: x.map(order), sort_remaining=False)


ITEM_NAMES = {"cost_permanent": "Permanent staff", "cost_agency": "Agency staff", "cost_recruitment": "Recruitment",
              "cost_interventions": "Interventions (levers)", "cost_total": "Total"}
BUDGET_COLUMNS = ["scenario", "financial_year", "days", "item", "what", "cash", "cash_ci95_low", "cash_ci95_high",
                  "real_terms", "real_terms_ci95_low", "real_terms_ci95_high", "prices"]


@dataclass(frozen=True)
class Money:
    """How a scenario's cash costs are shown in real terms and discounted (its ``costs`` settings)."""

    deflator_per_year: float = 0.02
    discount_rate: float = 0.035


def money_settings(scenarios) -> dict[str, Money]:
    """Each scenario's :class:`Money`, keyed by name."""
    return {s.name: Money(s.costs.deflator_per_year, s.costs.discount_rate) for s in scenarios}


def years_from_first(fy: pd.Series | list[str]) -> np.ndarray:
    """Whole financial years from the first in ``fy`` ("2026-27" is 0, "2027-28" is 1, ...)."""
    start = np.array([int(str(x)[:4]) for x in fy])
    return start - start.min() if start.size else start


def budget_table(weekly: pd.DataFrame, money: dict[str, Money] | None = None) -> pd.DataFrame:
    """Cost per financial year (April to March), per scenario and item: the mean over replications with
    a 95% interval, in cash and in real terms (:func:`costs_by_financial_year` says how weeks are split).

    Real terms are cash divided by ``(1 + deflator_per_year)`` for each financial year after the
    first, so they are in the prices of the financial year the run starts in (``prices``).
    ``days`` shows part years (365 or 366 in a whole one). Money is in whole pounds.
    """
    money = money or {}
    per_rep = costs_by_financial_year(weekly)
    rows = []
    for scen, by_scen in per_rep.groupby(level=0, sort=False):
        m = money.get(scen, Money())
        fys = list(dict.fromkeys(by_scen.index.get_level_values(1)))
        base = fys[0]
        for fy, t in zip(fys, years_from_first(fys)):
            part = by_scen.xs(fy, level=1)
            cash = part[COST_COLUMNS].to_numpy(dtype=float)
            days = int(round(part["days"].iloc[0]))
            deflator = (1.0 + m.deflator_per_year) ** int(t)
            mean, lo, hi = bounded_interval(cash, [(0.0, np.inf)] * cash.shape[1])
            for j, item in enumerate(COST_COLUMNS):
                rows.append((scen, fy, days, item, ITEM_NAMES[item], mean[j], lo[j], hi[j],
                             mean[j] / deflator, lo[j] / deflator, hi[j] / deflator, f"{base} prices"))
    out = pd.DataFrame(rows, columns=BUDGET_COLUMNS)
    money = [c for c in BUDGET_COLUMNS if c.startswith(("cash", "real_terms"))]
    out[money] = out[money].round(0)  # whole pounds: a simulation's pence mean nothing
    return out


def net_present_cost(per_rep_fy: pd.DataFrame, money: Money) -> pd.Series:
    """Per replication: the real-terms cost of each financial year discounted to the first, summed.

    ``per_rep_fy`` holds cash costs with replications as rows and financial years ("2026-27", ...) as
    columns. HM Treasury's Green Book discounts real-terms costs at 3.5% a year; a year ``t`` after
    the first counts ``1 / ((1 + deflator) * (1 + discount)) ** t`` of its cash.
    """
    t = years_from_first(list(per_rep_fy.columns))
    factor = 1.0 / ((1.0 + money.deflator_per_year) * (1.0 + money.discount_rate)) ** t
    return (per_rep_fy * factor).sum(axis=1)


# -- how many replications are enough ------------------------------------------------------
PRECISION_MEASURES = ["caseload_mean", "caseload_p90", "workers_over_threshold_pct", "assessments_in_timescale_pct",
                      "staff_fte"]


def _wilson_half_width(p: float, n: int) -> float:
    """Half the width of the Wilson 95% interval of a share ``p`` observed in ``n`` trials."""
    lo, hi = wilson(round(p * n), n)
    return (hi - lo) / 2


def precision_report(weekly: pd.DataFrame, precision: float, rules: dict[str, "BreachRule"] | None = None) -> pd.DataFrame:
    """For each scenario and key measure (whole-run average per replication): is the 95% CI
    half-width within ``precision`` times the mean, and about how many replications would make it so?

    A percentage is judged against its whole scale (100 points), not its mean: a share near zero (few
    workers over the threshold in a service that copes) would otherwise never be precise enough.
    With ``rules``, the headline is judged too: the chance that caseloads stay manageable for the
    whole run (``p_sustained``), whose Wilson interval's half-width is judged against its scale (1)."""
    rows = []
    for scen, df in weekly.groupby("scenario", sort=False):
        per_rep = df.groupby("replication")[PRECISION_MEASURES].mean()
        n = len(per_rep)
        for m in PRECISION_MEASURES:
            mean, lo, hi = mean_ci(per_rep[m].to_numpy(dtype=float))
            half = (hi - lo) / 2 if np.isfinite(hi) else np.inf
            scale = 100.0 if describe(m).unit == "%" else abs(mean)
            rel = half / scale if scale else (0.0 if half == 0 else np.inf)
            need = n if rel <= precision else (int(np.ceil(n * (rel / precision) ** 2)) if np.isfinite(rel) else 2 * n)
            rows.append({"scenario": scen, "measure": m, "mean": mean, "half_width": half,
                         "relative_half_width": rel, "met": bool(rel <= precision), "replications_needed": need})
        if rules:
            k = int(np.isinf(first_breach(df, rules[scen]).to_numpy()).sum())
            half = _wilson_half_width(k / n, n)
            need = n
            while _wilson_half_width(k / n, need) > precision and need < 1_000_000:
                need = max(need + 1, int(need * 1.1))
            rows.append({"scenario": scen, "measure": "p_sustained", "mean": k / n, "half_width": half,
                         "relative_half_width": half, "met": bool(half <= precision), "replications_needed": need})
    return pd.DataFrame(rows)


# -- writing -------------------------------------------------------------------------------
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _inert(cell):
    """A text cell a spreadsheet would run as a formula, with a single quote before it; anything else as it is.

    Text that is just a number ("-3", "+4.5") is left alone: a spreadsheet reads it as a number.
    """
    if isinstance(cell, str) and cell.startswith(_FORMULA_START) and not _NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


def _inert_frame(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with every formula-like text cell and column name neutralised; numeric columns untouched.

    Returns ``df`` itself when nothing needs changing, so large results are not copied.
    """
    out = df
    for i, col in enumerate(df.columns):
        s = df.iloc[:, i]
        if isinstance(s.dtype, pd.CategoricalDtype):
            cats = s.cat.categories
            if any(_inert(c) is not c for c in cats):
                s = s.cat.rename_categories([_inert(c) for c in cats])
        elif s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
            changes = {v: _inert(v) for v in pd.unique(s) if _inert(v) is not v}
            if changes:
                s = s.map(lambda v: changes.get(v, v) if isinstance(v, str) else v)
        else:
            continue  # numbers, booleans and dates: nothing a spreadsheet would run
        if s is not df.iloc[:, i]:
            if out is df:
                out = df.copy()
            out.isetitem(i, s)
    names = [_inert(c) for c in df.columns]
    if any(n is not c for n, c in zip(names, df.columns)):
        out = out.copy() if out is df else out
        out.columns = names
    return out


def plain_number(x: float) -> str:
    """A number as a person writes it, never in scientific notation: 3131620, 15.6123, 0.000125, inf."""
    if not np.isfinite(x):
        return "" if np.isnan(x) else ("inf" if x > 0 else "-inf")
    if abs(x) >= 1e5:
        return f"{x:.0f}"
    return np.format_float_positional(x, precision=6, unique=True, fractional=False, trim="-")


def write_csv(df: pd.DataFrame, path: Path, plain: bool = False) -> None:
    """Write ``df`` to ``path`` as CSV, atomically (a reader never sees half a file).

    Numbers are written with 6 significant digits; with ``plain`` (for the small tables a person
    reads: summary, budget, compare), never in scientific notation (:func:`plain_number`).

    A text cell or column name beginning with =, +, -, @, a tab or a carriage return gets a
    single quote in front, so a spreadsheet shows it as text instead of running it as a formula
    (a scenario named ``=HYPERLINK(...)`` stays harmless). Numbers, including negative ones, are
    written as numbers.
    """
    safe = _inert_frame(df)
    # A carriage return inside a cell is not quoted by the csv module when lines end in \n, and a
    # reader would split the row there: quote every text cell in that (rare) case.
    quoting = csv.QUOTE_NONNUMERIC if _has_carriage_return(safe) else csv.QUOTE_MINIMAL
    fmt = plain_number if plain else "%.6g"
    atomic_write(Path(path), lambda fh: safe.to_csv(fh, index=False, float_format=fmt, lineterminator="\n",
                                                    quoting=quoting))


def _has_carriage_return(df: pd.DataFrame) -> bool:
    """Whether any column name or text cell of ``df`` holds a carriage return."""
    if any(isinstance(c, str) and "\r" in c for c in df.columns):
        return True
    for i in range(df.shape[1]):
        s = df.iloc[:, i]
        values = s.cat.categories if isinstance(s.dtype, pd.CategoricalDtype) else (
            pd.unique(s) if s.dtype == object or pd.api.types.is_string_dtype(s.dtype) else ())
        if any(isinstance(v, str) and "\r" in v for v in values):
            return True
    return False


def write_json(obj: dict, path: Path) -> None:
    """Write ``obj`` to ``path`` as indented JSON, atomically."""
    atomic_write(Path(path), lambda fh: (json.dump(obj, fh, indent=2, default=str), fh.write("\n")))


WORKBOOK = "results.xlsx"
RUN_FILES = ("weekly.csv", "summary.csv", "budget.csv", WORKBOOK, "manifest.json")
DERIVED = ("compare.csv", "draws.csv", "report.html", "plots")  # made with or from a run's files
SENSITIVITY_FILES = ("sensitivity.csv", "points.csv")  # a sensitivity analysis's (with its manifest.json and plots/)
OUTPUTS = RUN_FILES + DERIVED + SENSITIVITY_FILES  # a new commit clears those of the old it does not write
JOURNAL = ".commit.json"
STAGING = ".staging-"


def write_run(result, out_dir: Path, extra: dict[str, pd.DataFrame] | None = None) -> list[Path]:
    """weekly.csv, summary.csv, budget.csv, results.xlsx, manifest.json (and any ``extra`` tables, e.g.
    compare.csv) into ``out_dir``, as one unit.

    The files are written into a staging folder inside ``out_dir``; then a small journal
    naming them is written (atomically: this is the moment the new run counts as written);
    then the previous run's derived files (compare.csv, report.html, plots/) are removed
    and the new files moved into place. If the process is killed before the journal
    exists, the folder keeps the previous run; after, :func:`recover_run_folder` (which
    every command reading or writing the folder calls first) finishes the move. Either
    way the folder holds one whole run, never parts of two.
    """
    weekly = result.weekly
    money = [c for c in COST_COLUMNS if c in weekly.columns]
    weekly = weekly.assign(**{c: weekly[c].round().astype("int64") for c in money})  # whole pounds: no 3.1e+06
    tables = {"weekly.csv": weekly, "summary.csv": result.summary, "budget.csv": result.budget}
    tables.update(extra or {})

    def workbook(path: Path) -> None:
        from .workbook import write_workbook  # openpyxl is imported only when a run is written

        write_workbook(path, result.summary, tables["budget.csv"], result.manifest,
                       compare=tables.get("compare.csv"), labels={s.name: s.label for s in result.scenarios})

    writers = {name: (lambda path, df=df, name=name: write_csv(df, path, plain=name != "weekly.csv"))
               for name, df in tables.items()}
    writers[WORKBOOK] = workbook
    writers["manifest.json"] = lambda path: write_json(result.manifest, path)
    return commit_files(out_dir, writers)


def commit_files(out_dir: Path, writers: dict[str, Callable[[Path], None]]) -> list[Path]:
    """Write the files (or folders) ``writers`` name into ``out_dir`` as one unit; each writer is given the
    path to write. They are written into a staging folder, then a journal naming them is written (the
    moment they count as written), then the previous run's derived files are cleared and the new ones
    moved into place (see :func:`write_run`)."""
    out_dir = Path(out_dir)
    recover_run_folder(out_dir)
    staging = out_dir / f"{STAGING}{os.getpid()}"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    for name, write in writers.items():
        write(staging / name)
    names = list(writers)
    write_json({"staging": staging.name, "files": names}, out_dir / JOURNAL)
    _roll_forward(out_dir)
    return [out_dir / n for n in names]


def _roll_forward(out_dir: Path) -> None:
    """Finish the commit the journal describes: clear derived files, move the staged files in, tidy up.

    Each step can be repeated, so a commit interrupted at any point is finished by running this again.
    """
    journal = out_dir / JOURNAL
    try:
        plan = json.loads(journal.read_text(encoding="utf-8"))
        staging, names = out_dir / plan["staging"], list(plan["files"])
    except FileNotFoundError:
        return
    except (ValueError, KeyError, TypeError):  # not our journal: nothing can be finished from it
        journal.unlink(missing_ok=True)
        return
    for name in OUTPUTS:
        if name not in names:
            target = out_dir / name
            if target.is_dir():
                shutil.rmtree(target, ignore_errors=True)
            else:
                target.unlink(missing_ok=True)
    for name in names:
        if (staging / name).is_dir() and (out_dir / name).is_dir():  # a folder (plots/) replaces the old one whole
            shutil.rmtree(out_dir / name, ignore_errors=True)
        try:
            os.replace(staging / name, out_dir / name)
        except FileNotFoundError:  # moved already (by an earlier attempt, or a reader finishing it)
            pass
    shutil.rmtree(staging, ignore_errors=True)
    journal.unlink(missing_ok=True)


def recover_run_folder(out_dir: Path) -> None:
    """Leave ``out_dir`` holding one whole run: finish a commit that was interrupted after its journal was
    written, and remove staging folders and temporary files left by writers that no longer run.

    Safe on a folder that needs nothing, and on one this process cannot write (it then does nothing).
    """
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        return
    try:
        _roll_forward(out_dir)
        for staging in out_dir.glob(STAGING + "*"):
            pid = staging.name[len(STAGING):]
            if not (pid.isdigit() and pid_alive(int(pid))):
                shutil.rmtree(staging, ignore_errors=True)
        for folder in (out_dir, out_dir / "plots", out_dir / ".partial"):
            if folder.is_dir():
                remove_stale_temporaries(folder)
    except OSError:
        pass


def previous_run(out_dir: Path) -> dict | None:
    """The manifest of the run ``out_dir`` holds, or None if it holds none.

    Raises :class:`FolderError` if it holds a run's files but no readable manifest.
    """
    out_dir = Path(out_dir)
    present = [n for n in RUN_FILES if (out_dir / n).exists()]
    if not present:
        return None
    try:
        manifest = json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))
        if isinstance(manifest, dict) and isinstance(manifest.get("scenarios"), list):
            return manifest
    except (OSError, ValueError):
        pass
    raise FolderError(f"{out_dir} holds {', '.join(present)} but not a complete workforce-sim run (no readable "
                      "manifest.json). Add --replace to overwrite them, or choose another --out folder.")


def read_run(out_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Read back what :func:`write_run` wrote (finishing first a write that was interrupted)."""
    out_dir = Path(out_dir)
    recover_run_folder(out_dir)
    weekly = pd.read_csv(out_dir / "weekly.csv", parse_dates=["date"])
    summary = pd.read_csv(out_dir / "summary.csv")
    manifest = json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))
    return weekly, summary, manifest


# -- where runs are kept -------------------------------------------------------------------
LATEST = "latest"


def new_run_folder(parent: Path, now: dt.datetime | None = None) -> Path:
    """A new, empty folder for one run inside ``parent`` (e.g. ``outputs/baseline/2026-11-27_221530``).

    Named by the local date and time the run started; a second run in the same second gets
    ``-2``. The folder is created here (exclusively), so two runs never share one.
    """
    parent = Path(parent)
    parent.mkdir(parents=True, exist_ok=True)
    stamp = (now or dt.datetime.now()).strftime("%Y-%m-%d_%H%M%S")
    for i in range(1, 10_000):
        folder = parent / (stamp if i == 1 else f"{stamp}-{i}")
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            continue
    raise FolderError(f"{parent} has too many runs started at {stamp}")


def mark_latest(run_dir: Path) -> None:
    """Point ``latest`` in the run's parent folder at ``run_dir``: a link to open (where the system
    allows links) and ``latest.txt`` naming the folder (everywhere)."""
    run_dir = Path(run_dir)
    parent = run_dir.parent
    atomic_write(parent / f"{LATEST}.txt", lambda fh: fh.write(run_dir.name + "\n"))
    tmp = parent / f".{LATEST}-{os.getpid()}"
    try:
        tmp.unlink(missing_ok=True)
        os.symlink(run_dir.name, tmp, target_is_directory=True)
        os.replace(tmp, parent / LATEST)
    except OSError:  # no symbolic links here (e.g. Windows without developer mode): latest.txt says it
        tmp.unlink(missing_ok=True)


def resolve_run_folder(path: Path) -> Path:
    """The run folder ``path`` means: itself, or, for a folder of runs such as ``outputs/baseline``,
    the latest run in it."""
    path = Path(path)
    link = path / LATEST
    if link.is_dir() and (link / "manifest.json").is_file():
        return path / os.readlink(link) if link.is_symlink() else link
    note = path / f"{LATEST}.txt"
    if note.is_file():
        name = note.read_text(encoding="utf-8").strip()
        if name and "/" not in name and "\\" not in name and (path / name / "manifest.json").is_file():
            return path / name
    return path


def interrupted_runs(parent: Path) -> list[Path]:
    """Run folders in ``parent`` holding an unfinished run (one ``--resume`` can finish), newest last."""
    parent = Path(parent)
    if not parent.is_dir():
        return []
    def order(p: Path):  # "..._221037-10" after "..._221037-2"
        stamp, _, n = p.name.rpartition("-")
        return (stamp, int(n)) if n.isdigit() and "_" in stamp else (p.name, 1)

    return sorted((p for p in parent.iterdir() if p.is_dir() and not p.is_symlink() and (p / ".partial").is_dir()),
                  key=order)
