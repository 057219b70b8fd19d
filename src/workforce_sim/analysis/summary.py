"""The summary of a run (summary.csv): each measure by period with its interval and percentiles; the headline
(the chance caseloads stay manageable, the weeks until the first breach); and whether a run is precise enough."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..model.measures import ID_COLUMNS, describe
from ..scenario.calendar import WEEKS_PER_YEAR
from .breaches import BreachRule, breaches_by_team, first_breach, first_team
from .statistics import bounded_interval, mean_ci, wilson, wilson_half_width


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
END_WEEKS = 13  # "at the end" of a run: the average of its last quarter, steadier than a single week
LAST_WEEKS = "last 13 weeks"  # the statistic of a stock over the run's last END_WEEKS weeks (compare.csv's "_end")
RATIO = "ratio of totals"  # a ratio of two flows (e.g. plans started per conference): the period's totals divided


def _ratio_of_totals(g, ratios: list[str]) -> pd.DataFrame:
    """Per replication, each ratio measure as its numerator's total over the period over its denominator's."""
    out = {}
    for m in ratios:
        num, den = describe(m).ratio_of  # type: ignore[misc]
        n, d = g[num].sum(), g[den].sum()
        out[m] = n / d.where(d > 0)
    return pd.DataFrame(out)


def bounds(metric: str) -> tuple[float, float]:
    """The range a measure's values can take: counts and levels from 0, percentages from 0 to 100.

    Two percentages can exceed 100: staff per manager against the span, and turnover at a yearly rate.
    """
    m = describe(metric)
    if m.unit == "%" and metric != "supervision_load_pct":
        return 0.0, 100.0
    return 0.0, np.inf


def summarise(weekly: pd.DataFrame, rules: dict[str, "BreachRule"] | None = None) -> pd.DataFrame:
    """Per scenario, measure and period (each year of the run, and the whole run): one value per
    replication, summarised over replications.

    Columns: scenario, metric, period, statistic, unit, mean, ci95_low, ci95_high, p10, p50, p90,
    replications. The value of one replication is, by the measure's kind (:data:`STATISTICS`):

    - a flow (contacts, leavers) or a cost: the period's **total** (for the whole run, the
      ``total a year`` on average);
    - a stock (open cases, staff, caseloads): the **average** over the period's weeks, and, in a
      second row, the level at the **end of period** (its last week), and for the whole run, in a third,
      its average over the **last 13 weeks** (what compare.csv, the report and the workbook call "at the end");
    - a rate or percentage: the **average** of the weeks that had something to measure; a ratio of
      two flows (plans started per conference) also the **ratio of totals** over the period.

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
    ratios = [m for m in metrics if describe(m).ratio_of]
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
                      (average, "average"), (end, END), (_ratio_of_totals(g, ratios), RATIO)]
            if label == "whole run":
                blocks.append((part[part["week"] >= b - END_WEEKS].groupby("replication", sort=True)[stocks].mean(),
                               LAST_WEEKS))
            for values, statistic in blocks:
                frames.append(_summary_rows(scen, label, statistic, values, units))
    out = pd.concat(frames, ignore_index=True)
    order = {m: i for i, m in enumerate(metrics)}
    stat_order = {"total": 0, WHOLE_RUN_TOTAL: 0, "average": 1, END: 2, LAST_WEEKS: 3, RATIO: 4}
    period_order = {p: i for i, p in enumerate(dict.fromkeys(out["period"]))}
    out = out.assign(_s=out["scenario"].map({s: i for i, s in enumerate(dict.fromkeys(weekly["scenario"]))}),
                     _p=out["period"].map(period_order), _m=out["metric"].map(order),
                     _t=out["statistic"].map(stat_order))
    out = out.sort_values(["_s", "_p", "_m", "_t"], kind="stable").drop(columns=["_s", "_p", "_m", "_t"])
    if rules:
        out = pd.concat([out, headline(weekly, rules)], ignore_index=True)
    return out.reset_index(drop=True)


def _summary_rows(scen: str, period: str, statistic: str, values: pd.DataFrame, units: dict) -> pd.DataFrame:
    """Summary rows of one scenario, period and statistic from per-replication ``values`` (a column a measure).

    With fewer than :data:`FEW_FOR_BOOTSTRAP` replications, a bootstrap interval (which never leaves the
    range of the data) is far too narrow, so the Student-t interval is used, cut at the measure's range."""
    x = values.to_numpy(dtype=float)
    mean, lo, hi = bounded_interval(x, [bounds(m) for m in values.columns])
    q = _percentiles(x)
    return pd.DataFrame({"scenario": scen, "metric": values.columns, "period": period, "statistic": statistic,
                         "unit": [units[m] for m in values.columns], "mean": mean, "ci95_low": lo, "ci95_high": hi,
                         "p10": q[0], "p50": q[1], "p90": q[2], "replications": np.isfinite(x).sum(axis=0)})


def _percentiles(x: np.ndarray) -> np.ndarray:
    """The 10th, 50th and 90th percentiles of each column of ``x`` (replications x measures), ignoring NaN: as
    ``np.nanpercentile(x, [10, 50, 90], axis=0)``, the same numbers, with the columns holding no NaN (most) taken
    together (numpy's nanpercentile takes every column on its own)."""
    q = np.full((3, x.shape[1]), np.nan)
    if not len(x):
        return q
    gaps = np.isnan(x).any(axis=0)
    whole = np.flatnonzero(~gaps)
    if whole.size:
        q[:, whole] = np.percentile(x[:, whole], [10, 50, 90], axis=0)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a column with no finite value gives NaN percentiles
        for j in np.flatnonzero(gaps):
            q[:, j] = np.nanpercentile(x[:, j], [10, 50, 90])
    return q


SUMMARY_COLUMNS = ["scenario", "metric", "period", "statistic", "unit", "mean", "ci95_low", "ci95_high", "p10", "p50",
                   "p90", "replications"]


def value(summary: pd.DataFrame, metric: str, period: str = "whole run", statistic: str | None = None) -> pd.Series:
    """The summary row of one measure and period (its first statistic: total or average, unless named)."""
    hit = (summary["metric"].to_numpy() == metric) & (summary["period"].to_numpy() == period)
    if statistic is not None:
        hit &= summary["statistic"].to_numpy() == statistic
    at = np.flatnonzero(hit)  # (the row found without filtering the table: the answer's lines read 190 of them)
    if not at.size:
        raise KeyError(f"no summary row for {metric}, {period}" + (f", {statistic}" if statistic else ""))
    return summary.iloc[at[0]]


# -- how many replications are enough ------------------------------------------------------
PRECISION_MEASURES = ["caseload_mean", "caseload_p90", "workers_over_threshold_pct", "assessments_in_timescale_pct",
                      "staff_fte"]


def precision_report(weekly: pd.DataFrame, precision: float,
                     rules: dict[str, "BreachRule"] | None = None) -> pd.DataFrame:
    """For each scenario and key measure (whole-run average per replication): is the 95% CI
    half-width within ``precision`` times the mean, and about how many replications would make it so?

    A percentage is judged against its whole scale (100 points), not its mean: a share near zero (few
    workers over the threshold in a service that copes) would otherwise never be precise enough.
    With ``rules``, the headline is judged too: the chance that caseloads stay manageable for the
    whole run (``p_sustained``), whose Wilson interval's half-width is judged against its scale (1)."""
    rows = []
    for scen, df in weekly.groupby("scenario", sort=False):
        per_rep = df.groupby("replication")[PRECISION_MEASURES].mean()
        manageable = np.isinf(first_breach(df, rules[scen]).to_numpy()) if rules else None
        rows += precision_rows(str(scen), per_rep.to_numpy(dtype=float), manageable, precision)
    return pd.DataFrame(rows)


def precision_rows(scen: str, per_rep: np.ndarray, manageable: np.ndarray | None, precision: float) -> list[dict]:
    """:func:`precision_report`'s rows for one scenario, from each replication's whole-run average of every
    :data:`PRECISION_MEASURES` (``per_rep``, replications x measures) and, to judge the headline, whether each
    replication stayed manageable for the whole run (``manageable``)."""
    rows = []
    n = len(per_rep)
    for j, m in enumerate(PRECISION_MEASURES):
        mean, lo, hi = mean_ci(per_rep[:, j])
        half = (hi - lo) / 2 if np.isfinite(hi) else np.inf
        scale = 100.0 if describe(m).unit == "%" else abs(mean)
        rel = half / scale if scale else (0.0 if half == 0 else np.inf)
        need = n if rel <= precision else (int(np.ceil(n * (rel / precision) ** 2)) if np.isfinite(rel) else 2 * n)
        rows.append({"scenario": scen, "measure": m, "mean": mean, "half_width": half,
                     "relative_half_width": rel, "met": bool(rel <= precision), "replications_needed": need})
    if manageable is not None:
        k = int(np.sum(manageable))
        half = wilson_half_width(k / n, n)
        need = n
        while wilson_half_width(k / n, need) > precision and need < 1_000_000:
            need = max(need + 1, int(need * 1.1))
        rows.append({"scenario": scen, "measure": "p_sustained", "mean": k / n, "half_width": half,
                     "relative_half_width": half, "met": bool(half <= precision), "replications_needed": need})
    return rows


HEADLINE_METRICS = ["p_sustained", "weeks_to_first_breach", "team_breaches", "breaks_first"]  # rows of headline()


def headline(weekly: pd.DataFrame, rules: dict[str, BreachRule]) -> pd.DataFrame:
    """Will caseloads stay manageable, and for how long?

    Rows (in the summary.csv layout), per scenario:

    - ``p_sustained``: the share of replications with no breach (see :class:`BreachRule`)
      beginning by the end of each year (period "year k") and of the whole run, with a
      Wilson 95% interval;
    - ``weeks_to_first_breach``: the 10th, 50th and 90th percentiles of the week the first
      breach begins. A replication with no breach counts as "never" (inf): it is not left
      out, so a percentile is inf when too few breached;
    - ``team_breaches`` and ``breaks_first``, one row per team (the statistic names the team,
      ``service`` for the service as a whole): how often each breaches, when, and how often it is
      where caseloads break first (:func:`_team_rows`).

    A breach in any team is a breach: a future in which one team breaches never counts as manageable.
    """
    rows = []
    for scen, df in weekly.groupby("scenario", sort=False):
        by_team = breaches_by_team(df, rules[scen])
        breach = by_team.min(axis=1)
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
        rows += _team_rows(scen, by_team)
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def _team_rows(scen: str, by_team: pd.DataFrame) -> list[tuple]:
    """Where caseloads break, per watched team (and ``service``, the service as a whole): ``team_breaches`` (the
    share of futures in which it breaches at some time, with the percentiles of the week its first breach begins,
    inf for never) and ``breaks_first`` (the share of futures in which its breach is the first anywhere, with the
    percentiles of the week it begins in those futures)."""
    rows = []
    n = len(by_team)
    first = first_team(by_team)
    for team in by_team.columns:
        weeks = by_team[team].to_numpy(dtype=float)
        k = int(np.isfinite(weeks).sum())
        q = np.percentile(weeks, [10, 50, 90], method="inverted_cdf")
        rows.append((scen, "team_breaches", "whole run", team, "share", k / n, *wilson(k, n), q[0], q[1], q[2], n))
        mine = first == team
        k = int(mine.sum())
        q = np.percentile(weeks[mine.to_numpy()], [10, 50, 90], method="inverted_cdf") if k else [np.nan] * 3
        rows.append((scen, "breaks_first", "whole run", team, "share", k / n, *wilson(k, n), q[0], q[1], q[2], n))
    return rows
