"""The headline answer in words, written once for the command line and the report.

Will caseloads stay manageable, and for how long? The sentences read the
headline rows of ``summary.csv`` (``p_sustained`` by period and
``weeks_to_first_breach``) and the scenario's breach rule.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from .results import BreachRule, value


def money_difference(d: float, fmt, smallest: float) -> str:
    """A difference in cost as words, never a negative amount: "saves £0.11m", "£0.17m more", "no
    difference", or "less than £0.01m more" when ``fmt`` (which shows an amount) rounds it to nothing;
    ``smallest`` is the least amount ``fmt`` shows."""
    if not np.isfinite(d):
        return "-"
    if d == 0:
        return "no difference"
    shown = fmt(abs(d))
    if shown == fmt(0.0):
        shown = "less than " + fmt(smallest)
    return f"saves {shown}" if d < 0 else f"{shown} more"


def money_difference_range(low: float, high: float, fmt) -> str:
    """The 95% interval of a difference in cost as words: "saves £0.06m to £0.59m", "£0.41m to £0.55m more",
    or "from saving £0.20m to £0.10m more" ("" when unknown)."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return ""
    if high <= 0:
        return f"saves {fmt(-high)} to {fmt(-low)}"
    if low >= 0:
        return f"{fmt(low)} to {fmt(high)} more"
    return f"from saving {fmt(-low)} to {fmt(high)} more"


def when(scn, week: float) -> str:
    """A week of the run as words: "never", or "week 92 (Nov 2020)"."""
    if not np.isfinite(week):
        return "never"
    d = scn.start_date + dt.timedelta(weeks=int(week))
    return f"week {int(week)} ({d:%b %Y})"


def _month(scn, week: float) -> str:
    """The month a week of the run falls in, e.g. "November 2027"."""
    return f"{scn.start_date + dt.timedelta(weeks=int(week)):%B %Y}"


def _months(week: float) -> str:
    """A time from the start in words: "about 21 months", "about 3 years and 2 months"."""
    months = int(round(week * 7 / 30.44))
    if months < 24:
        return f"about {months} month{'s' if months != 1 else ''}"
    y, m = divmod(months, 12)
    return f"about {y} years" + (f" and {m} month{'s' if m != 1 else ''}" if m else "")


def answer_word(p: float, low: float = 0.0, high: float = 1.0) -> str:
    """The short answer to "will caseloads stay manageable?" for a share ``p`` of futures that do, with the
    95% interval ``low`` to ``high`` of that share: a firm yes or no only when the interval allows it."""
    if p >= 0.9:
        return "Yes, very likely." if low >= 0.75 else "Probably (too few simulated futures to be sure)."
    if p >= 0.6:
        return "Probably, but not certainly."
    if p > 0.4:
        return "Perhaps: about as likely as not."
    if p > 0.1:
        return "Probably not."
    return "No." if high <= 0.25 else "Probably not (too few simulated futures to be sure)."


def run_length(years: float) -> str:
    """A run's length in words: "5 years", "1 year", "2.5 years", "26 weeks"."""
    if years < 1:
        return f"{round(years * 365.25 / 7)} weeks"
    return f"{years:g} year" + ("" if years == 1 else "s")


def plain_headline(scn, part: pd.DataFrame, n: int, years: float | None = None) -> str:
    """The headline answer in plain words, for a director: yes or no, when, and how sure.

    For example: "No. In a typical future caseloads first go above 18 cases per social worker in
    about 21 months (by November 2027); by year 5 they have in every future."
    """
    thr = f"{scn.standards.manageable_caseload:g}"
    sus = part[part["metric"] == "p_sustained"].set_index("period")
    whole = sus.loc["whole run"]
    p = float(whole["mean"])
    k = int(round(p * n))
    year_labels = [q for q in sus.index if q != "whole run"]
    b = part[part["metric"] == "weeks_to_first_breach"].iloc[0]
    length = run_length(years) if years else None
    text = answer_word(p, float(whole["ci95_low"]), float(whole["ci95_high"])) + " "
    if np.isfinite(b["p50"]):
        text += (f"In a typical future caseloads (counting children waiting for a social worker) first go above {thr} "
                 f"cases per social worker in {_months(b['p50'])} (by {_month(scn, b['p50'])})")
        gone = next((q for q in year_labels if sus.loc[q, "mean"] == 0), None)
        text += (f"; by {gone} they have in every future." if gone else
                 f"; in {k} of {n} futures they stay at or below it for the whole run.")
    else:
        text += (f"In {k} of {n} simulated futures caseloads (counting children waiting for a social worker) stay at "
                 f"or below {thr} cases per social worker for the whole run"
                 + (f" ({length})" if length else ""))
        if k < n and np.isfinite(b["p10"]):
            text += (f"; in 1 future in 10 they have gone above it within {_months(b['p10'])} "
                     f"(by {_month(scn, b['p10'])})")
        text += "."
    text += (f" (95% confidence interval for the share of futures that stay manageable: {whole['ci95_low']:.0%} to "
             f"{whole['ci95_high']:.0%}, from {n} simulated futures.)")
    return text


def headline_lines(scn, part: pd.DataFrame, n: int) -> list[str]:
    """Sentences for one scenario from its summary rows ``part`` over ``n`` simulated futures."""
    rule = BreachRule(scn.standards.manageable_caseload, scn.standards.breach_weeks)
    sus = part[part["metric"] == "p_sustained"].set_index("period")
    whole = sus.loc["whole run"]
    lines = [f"Caseloads stayed manageable for the whole run in {round(whole['mean'] * n)} of {n} simulated futures: "
             f"{whole['mean']:.0%} (95% confidence interval {whole['ci95_low']:.0%} to {whole['ci95_high']:.0%}).",
             rule.describe()]
    by_year = [f"{p}: {r['mean']:.0%}" for p, r in sus.iterrows() if p != "whole run"]
    if by_year:
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
        try:
            return float(value(part, metric, period)["mean"])
        except KeyError:
            return np.nan

    def agency_pct(period: str) -> float:
        return 100 * mean("staff_fte_agency", period) / mean("staff_fte", period)

    bits = [f"the caseload counting unallocated cases goes from {mean('caseload_incl_unallocated', first):.1f} to "
            f"{mean('caseload_incl_unallocated', last):.1f} per FTE",
            f"cases waiting unallocated from {mean('unallocated_cases', first):.0f} to {mean('unallocated_cases', last):.0f} "
            f"(child protection: {mean('cp_unallocated', first):.0f} to {mean('cp_unallocated', last):.0f})",
            f"agency staff from {agency_pct(first):.0f}% to {agency_pct(last):.0f}% of staff",
            f"permanent leavers from {mean('leavers_permanent', first):.0f} to {mean('leavers_permanent', last):.0f} a year"]
    return f"On average, from {first} to {last}: " + "; ".join(bits) + "."
