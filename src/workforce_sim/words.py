"""The headline answer in words, written once for the command line and the report.

Will caseloads stay manageable, and for how long? The sentences read the
headline rows of ``summary.csv`` (``p_sustained`` by period and
``weeks_to_first_breach``) and the scenario's breach rule.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from .results import BreachRule


def when(scn, week: float) -> str:
    """A week of the run as words: "never", or "week 92 (Nov 2020)"."""
    if not np.isfinite(week):
        return "never"
    d = scn.start_date + dt.timedelta(weeks=int(week))
    return f"week {int(week)} ({d:%b %Y})"


def headline_lines(scn, part: pd.DataFrame, n: int) -> list[str]:
    """Sentences for one scenario from its summary rows ``part`` over ``n`` simulated futures."""
    rule = BreachRule(scn.standards.manageable_caseload, scn.standards.breach_weeks)
    sus = part[part["metric"] == "p_sustained"].set_index("period")
    whole = sus.loc["whole run"]
    lines = [f"Caseloads stayed manageable for the whole run in {round(whole['mean'] * n)} of {n} simulated futures: "
             f"{whole['mean']:.0%} (95% confidence interval {whole['ci95_low']:.0%} to {whole['ci95_high']:.0%}).",
             rule.describe()]
    by_year = [f"{p}: {r['mean']:.0%}" for p, r in sus.iterrows() if p != "whole run"]
    lines.append("Still manageable at the end of " + ", ".join(by_year) + ".")
    b = part[part["metric"] == "weeks_to_first_breach"].iloc[0]
    lines.append(f"First breach begins: median {when(scn, b['p50'])}; 10th percentile {when(scn, b['p10'])}, "
                 f"90th percentile {when(scn, b['p90'])}.")
    return lines


def trajectory_line(part: pd.DataFrame) -> str | None:
    """How the service changes from the first to the last whole year of the run, in one sentence (None for a one-year run)."""
    years = [p for p in dict.fromkeys(part["period"]) if p.startswith("year ")]
    if len(years) < 2:
        return None
    first, last = years[0], years[-1]

    def mean(metric: str, period: str) -> float:
        row = part[(part["metric"] == metric) & (part["period"] == period)]
        return float(row["mean"].iloc[0]) if len(row) else np.nan

    def agency_pct(period: str) -> float:
        return 100 * mean("staff_fte_agency", period) / mean("staff_fte", period)

    bits = [f"the caseload counting unallocated cases goes from {mean('caseload_incl_unallocated', first):.1f} to "
            f"{mean('caseload_incl_unallocated', last):.1f} per FTE",
            f"cases waiting unallocated from {mean('unallocated_cases', first):.0f} to {mean('unallocated_cases', last):.0f} "
            f"(child protection: {mean('cp_unallocated', first):.0f} to {mean('cp_unallocated', last):.0f})",
            f"agency staff from {agency_pct(first):.0f}% to {agency_pct(last):.0f}% of staff",
            f"permanent leavers from {52 * mean('leavers_permanent', first):.0f} to {52 * mean('leavers_permanent', last):.0f} a year"]
    return f"On average, from {first} to {last}: " + "; ".join(bits) + "."
