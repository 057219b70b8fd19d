"""Comparing options: what each costs, what it buys, and the cost of what it buys.

All scenarios in a comparison run on the same simulated futures (common random
numbers), so differences from the first scenario are taken replication by
replication, which gives much tighter intervals than comparing averages.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..scenario.calendar import WEEKS_PER_YEAR
from .breaches import MANAGEABLE_MEASURE, BreachRule, breach_weeks_any, breaches_by_team, first_team
from .money import Money, costs_by_financial_year, net_present_cost
from .statistics import mean_ci, mean_ci_within, wilson
from .summary import END_WEEKS


def per_replication(weekly: pd.DataFrame, rule: BreachRule, money: Money) -> pd.DataFrame:
    """One row per replication of one scenario with the measures compared (and a sensitivity analysis's):
    costs, caseloads over the last :data:`END_WEEKS` weeks, weeks in breach and the week the first breach
    began (inf if none) and where (a team, ``service``, or "" if none)."""
    g = weekly.groupby("replication", sort=True)
    by_team = breaches_by_team(weekly, rule)
    last = weekly["week"] >= weekly["week"].max() + 1 - END_WEEKS
    end = weekly[last].groupby("replication", sort=True)
    n_weeks = weekly["week"].max() + 1
    years = n_weeks / WEEKS_PER_YEAR
    out = pd.DataFrame({
        "cost_total": g["cost_total"].sum(),
        "cost_per_year": g["cost_total"].sum() / years,
        "caseload_mean_end": end["caseload_mean"].mean(),
        "caseload_p90_end": end["caseload_p90"].mean(),
        "caseload_incl_unallocated_end": end[MANAGEABLE_MEASURE].mean(),
        "unallocated_cases_end": end["unallocated_cases"].mean(),
        "assessments_in_timescale_pct": g["assessments_in_timescale_pct"].mean(),
        "agency_share_pct_end": 100 * end["staff_fte_agency"].sum() / end["staff_fte"].sum(),
        "caseload_worst_team_end": end["caseload_worst_team"].mean() if "caseload_worst_team" in weekly else np.nan,
        "breach_weeks": pd.Series({rep: float(breach_weeks_any(part, rule)) for rep, part in g}),
        "first_breach_week": by_team.min(axis=1),
        "first_breach_team": first_team(by_team),
    })
    per_year = weekly.assign(year=(weekly["week"] // round(WEEKS_PER_YEAR)).astype(int) + 1)
    yearly = per_year.groupby(["replication", "year"])["cost_total"].sum().unstack()
    for y in yearly.columns:
        if (per_year["year"] == y).sum() / per_year["replication"].nunique() >= round(WEEKS_PER_YEAR) // 2:
            out[f"cost_year_{y}"] = yearly[y]
    by_fy = costs_by_financial_year(weekly)["cost_total"].droplevel(0).unstack(level=0)  # replications x years
    out["net_present_cost"] = net_present_cost(by_fy, money)
    return out


def versus_first(low: float, high: float, better: str, worse: str, n: int) -> str:
    """How an option compares with the first on one measure, from the 95% interval of their paired difference."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return "-"
    if low == high == 0:
        return "the same in every future"
    if low > 0:
        return better
    if high < 0:
        return worse
    return f"cannot be told apart with {n} futures"


def compare_table(weekly: pd.DataFrame, rules: dict[str, BreachRule], money: dict[str, Money] | None = None,
                  labels: dict[str, str] | None = None) -> pd.DataFrame:
    """compare.csv: one row per scenario, the first scenario being the reference.

    Differences from the first are taken replication by replication (the futures are shared), with
    95% intervals; ``outcome_vs_first`` and ``cost_vs_first`` say in words whether the difference is
    clear at this number of replications. Net present cost discounts real-terms cost by financial
    year at each scenario's discount rate (HM Treasury Green Book: 3.5%).
    """
    names = list(dict.fromkeys(weekly["scenario"]))
    money = money or {}
    labels = labels or {}
    reps = {s: per_replication(weekly[weekly["scenario"] == s], rules[s], money.get(s, Money())) for s in names}
    n_weeks = int(weekly["week"].max()) + 1
    rows = [_row(s, reps[s], reps[names[0]], labels.get(s, s), s == names[0], n_weeks) for s in names]
    years = sorted((c for c in rows[0] if c.startswith("cost_year_")), key=lambda c: int(c.rsplit("_", 1)[1]))
    order = COMPARE_COLUMNS[:COMPARE_COLUMNS.index("cost_per_year") + 1] + years + \
        COMPARE_COLUMNS[COMPARE_COLUMNS.index("cost_per_year") + 1:]
    return pd.DataFrame(rows)[order]


# compare.csv's columns in order; each financial year's cost (cost_year_1, ...) follows cost_per_year
COMPARE_COLUMNS = [
    "scenario", "label", "replications", "cost_total", "cost_total_ci95_low", "cost_total_ci95_high", "cost_per_year",
    "cost_difference", "cost_difference_ci95_low", "cost_difference_ci95_high", "cost_difference_per_year",
    "caseload_mean_end", "caseload_incl_unallocated_end", "caseload_p90_end", "p_sustained", "p_sustained_ci95_low",
    "p_sustained_ci95_high", "p_sustained_difference", "p_sustained_difference_ci95_low",
    "p_sustained_difference_ci95_high", "median_weeks_to_first_breach", "breaks_first", "breaks_first_share",
    "caseload_worst_team_end", "breach_weeks", "breach_weeks_avoided",
    "breach_weeks_avoided_ci95_low", "breach_weeks_avoided_ci95_high", "cost_per_breach_week_avoided",
    "net_present_cost", "net_present_cost_ci95_low", "net_present_cost_ci95_high", "net_present_cost_difference",
    "net_present_cost_difference_ci95_low", "net_present_cost_difference_ci95_high", "outcome_vs_first",
    "cost_vs_first", "fewer_breach_weeks_share", "same_breach_weeks_share", "more_breach_weeks_share",
    "lower_cost_share", "unallocated_cases_end", "assessments_in_timescale_pct", "agency_share_pct_end"]


def _row(s: str, r: pd.DataFrame, ref: pd.DataFrame, label: str, first: bool, n_weeks: int) -> dict:
    """One scenario's row of compare.csv: ``r`` its replications (from :func:`per_replication`), ``ref`` the
    first scenario's, on the same futures of ``n_weeks`` weeks. Every interval stays within what its measure can
    take: a cost is never below zero, weeks avoided are within the run, a chance moves by at most 100 points."""
    row: dict = {"scenario": s, "label": label, "replications": len(r)}
    for col in [c for c in r.columns if c not in ("first_breach_week", "first_breach_team")]:
        row[col] = r[col].mean()
    where = r["first_breach_team"][r["first_breach_team"] != ""]
    row["breaks_first"] = str(where.value_counts().index[0]) if len(where) else ""
    row["breaks_first_share"] = float((where == row["breaks_first"]).sum() / len(r)) if len(where) else 0.0
    _, row["cost_total_ci95_low"], row["cost_total_ci95_high"] = mean_ci_within(r["cost_total"].to_numpy(), 0, np.inf)
    k = int(np.isinf(r["first_breach_week"]).sum())
    row["p_sustained"] = k / len(r)
    row["p_sustained_ci95_low"], row["p_sustained_ci95_high"] = wilson(k, len(r))
    row["median_weeks_to_first_breach"] = float(np.percentile(r["first_breach_week"], 50, method="inverted_cdf"))
    diff = (r["cost_total"] - ref["cost_total"]).to_numpy()
    d, dlo, dhi = mean_ci(diff)
    row["cost_difference"], row["cost_difference_ci95_low"], row["cost_difference_ci95_high"] = d, dlo, dhi
    row["cost_difference_per_year"] = (r["cost_per_year"] - ref["cost_per_year"]).mean()
    avoided = (ref["breach_weeks"] - r["breach_weeks"]).to_numpy()
    row["breach_weeks_avoided"] = avoided.mean()
    _, row["breach_weeks_avoided_ci95_low"], row["breach_weeks_avoided_ci95_high"] = mean_ci_within(
        avoided, -n_weeks, n_weeks)
    gain = (np.isinf(r["first_breach_week"]).astype(float)
            - np.isinf(ref["first_breach_week"]).astype(float)).to_numpy()
    row["p_sustained_difference"], row["p_sustained_difference_ci95_low"], row["p_sustained_difference_ci95_high"] = (
        mean_ci_within(gain, -1, 1))
    npc_diff = (r["net_present_cost"] - ref["net_present_cost"]).to_numpy()
    row["net_present_cost"], row["net_present_cost_ci95_low"], row["net_present_cost_ci95_high"] = mean_ci_within(
        r["net_present_cost"].to_numpy(), 0, np.inf)
    row["net_present_cost_difference"], row["net_present_cost_difference_ci95_low"], \
        row["net_present_cost_difference_ci95_high"] = mean_ci(npc_diff)
    # how often, future by future, the option does better than the first (each future: the same chance
    # events and, with drawn settings, the same draw of what is not known)
    row["fewer_breach_weeks_share"] = float((r["breach_weeks"] < ref["breach_weeks"]).mean())
    row["same_breach_weeks_share"] = float((r["breach_weeks"] == ref["breach_weeks"]).mean())
    row["more_breach_weeks_share"] = float((r["breach_weeks"] > ref["breach_weeks"]).mean())
    row["lower_cost_share"] = float((r["cost_total"] < ref["cost_total"]).mean())
    _verdicts(row, r, first, d, dlo, dhi, avoided)
    return row


def _verdicts(row: dict, r: pd.DataFrame, first: bool, d: float, dlo: float, dhi: float, avoided: np.ndarray) -> None:
    """Whether the option beats the first, in words, and the cost of each week in breach it avoids."""
    n = len(r)
    if first:
        row["outcome_vs_first"] = row["cost_vs_first"] = "reference"
    else:
        lo, hi = row["breach_weeks_avoided_ci95_low"], row["breach_weeks_avoided_ci95_high"]
        plo, phi = row["p_sustained_difference_ci95_low"], row["p_sustained_difference_ci95_high"]
        if lo == hi == 0 and not (plo == phi == 0):
            lo, hi = plo, phi
        row["outcome_vs_first"] = versus_first(lo, hi, "fewer weeks in breach", "more weeks in breach", n)
        row["cost_vs_first"] = versus_first(-dhi, -dlo, "costs less", "costs more", n)
    # only for an option that costs more and avoids breaches: one that saves money too needs no price
    row["cost_per_breach_week_avoided"] = (d / avoided.mean() if not first and avoided.mean() > 0 and d > 0
                                           else np.nan)
