"""Comparing options: what each costs, what it buys, and the cost of what it buys.

All scenarios in a comparison run on the same simulated futures (common random
numbers), so differences from the first scenario are taken replication by
replication, which gives much tighter intervals than comparing averages.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .calendar import WEEKS_PER_YEAR
from .results import MANAGEABLE_MEASURE, BreachRule, first_breach, mean_ci, weeks_in_breach, wilson

END_WEEKS = 13  # "at the end" means the average of the last quarter, steadier than a single week


def _per_rep(weekly: pd.DataFrame, rule: BreachRule) -> pd.DataFrame:
    """One row per replication of one scenario with the measures compared."""
    g = weekly.groupby("replication", sort=True)
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
        "breach_weeks": g[MANAGEABLE_MEASURE].apply(lambda c: float(weeks_in_breach(c.to_numpy(), rule))),
        "first_breach_week": first_breach(weekly, rule),
    })
    per_year = weekly.assign(year=(weekly["week"] // round(WEEKS_PER_YEAR)).astype(int) + 1)
    yearly = per_year.groupby(["replication", "year"])["cost_total"].sum().unstack()
    for y in yearly.columns:
        if (per_year["year"] == y).sum() / per_year["replication"].nunique() >= round(WEEKS_PER_YEAR) // 2:
            out[f"cost_year_{y}"] = yearly[y]
    return out


def compare_table(weekly: pd.DataFrame, rules: dict[str, BreachRule]) -> pd.DataFrame:
    """compare.csv: one row per scenario, the first scenario being the reference."""
    names = list(dict.fromkeys(weekly["scenario"]))
    reps = {s: _per_rep(weekly[weekly["scenario"] == s], rules[s]) for s in names}
    ref = reps[names[0]]
    rows = []
    for s in names:
        r = reps[s]
        row = {"scenario": s, "replications": len(r)}
        for col in [c for c in r.columns if c not in ("first_breach_week",)]:
            row[col] = r[col].mean()
        lo, hi = mean_ci(r["cost_total"].to_numpy())[1:]
        row["cost_total_ci95_low"], row["cost_total_ci95_high"] = lo, hi
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
        row["cost_per_breach_week_avoided"] = d / avoided.mean() if s != names[0] and avoided.mean() > 0 else np.nan
        rows.append(row)
    order = ["scenario", "replications", "cost_total", "cost_total_ci95_low", "cost_total_ci95_high", "cost_per_year"]
    order += sorted(c for c in rows[0] if c.startswith("cost_year_"))
    order += ["cost_difference", "cost_difference_ci95_low", "cost_difference_ci95_high", "cost_difference_per_year",
              "caseload_mean_end", "caseload_incl_unallocated_end", "caseload_p90_end", "p_sustained", "p_sustained_ci95_low", "p_sustained_ci95_high",
              "median_weeks_to_first_breach", "breach_weeks", "breach_weeks_avoided", "cost_per_breach_week_avoided",
              "unallocated_cases_end", "assessments_in_timescale_pct", "agency_share_pct_end"]
    return pd.DataFrame(rows)[order]
