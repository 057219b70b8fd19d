"""Charts of a run: fan charts, the chance of staying manageable, cost against outcome.

Every function takes the tables a run writes (weekly.csv, compare.csv) and
returns a matplotlib Figure, so notebooks, the ``plot`` command and the HTML
report draw the same charts. A scenario has the same colour on every chart
(its position in the run picks it from a colour-blind-safe palette).
"""

from __future__ import annotations

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .calendar import WEEKS_PER_YEAR
from .model.measures import describe
from .results import MANAGEABLE_MEASURE, BreachRule, first_breach

# Okabe-Ito palette: distinguishable with the common colour-vision deficiencies
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
FONT_SIZE = 10

# metric -> (title, y-axis label with units, scale)
METRICS = {
    "caseload_incl_unallocated": ("Caseload counting unallocated cases (the manageable measure)", "cases per FTE", 1.0),
    "caseload_mean": ("Caseload per case-holding social worker (DfE measure)", "cases per FTE", 1.0),
    "caseload_p90": ("Caseload of the 90th-percentile worker", "cases per FTE", 1.0),
    "unallocated_cases": ("Unallocated cases", "cases", 1.0),
    "cp_unallocated": ("Child protection cases waiting unallocated", "cases", 1.0),
    "unallocated_wait_days_mean": ("How long waiting cases have waited", "working days (mean)", 1.0),
    "staff_fte_agency_project": ("Agency staff above the establishment", "FTE", 1.0),
    "cp_plans_ended_2y_pct": ("Child protection plans ending after 2 years or more", "% of plans ending", 1.0),
    "cp_open": ("Child protection plans open", "plans", 1.0),
    "assessments_overdue": ("Assessments past 45 working days", "assessments", 1.0),
    "staff_fte": ("Staff in post", "FTE", 1.0),
    "staff_fte_permanent": ("Permanent staff in post", "FTE", 1.0),
    "staff_fte_agency": ("Agency staff in post", "FTE", 1.0),
    "staff_fte_asye": ("Newly qualified (ASYE) staff in post", "FTE", 1.0),
    "vacancies_fte": ("Vacant funded posts", "FTE", 1.0),
    "cost_total": ("Cost of the service (annualised)", "£ million a year", WEEKS_PER_YEAR / 1e6),
    "referrals": ("Referrals", "referrals a week", 1.0),
    "re_referral_pct": ("Re-referrals", "% of referrals", 1.0),
    "assessments_in_timescale_pct": ("Assessments completed within 45 working days", "% of assessments", 1.0),
}
DEFAULT_METRICS = [MANAGEABLE_MEASURE, "caseload_mean", "unallocated_cases", "cp_unallocated", "assessments_overdue", "staff_fte_permanent",
                   "staff_fte_agency", "staff_fte_asye", "vacancies_fte", "cost_total"]


def _declared(metric: str) -> tuple[str, str, float]:
    """Title, unit and scale of a measure with no entry in METRICS, from its declaration."""
    m = describe(metric)
    return m.label, m.unit + (" a week" if m.kind == "flow" else ""), 1.0


def _text(name) -> str:
    """A scenario name as chart text: '$' escaped, so matplotlib does not read "$...$" as mathematics."""
    return str(name).replace("$", r"\$")


def scenario_colors(names) -> dict[str, str]:
    """The colour of each scenario, by its order in the run."""
    return {n: PALETTE[i % len(PALETTE)] for i, n in enumerate(dict.fromkeys(names))}


def _style(ax, title: str, ylabel: str, dated: bool = True) -> None:
    ax.set_title(title, fontsize=FONT_SIZE + 2, loc="left")
    ax.set_ylabel(ylabel, fontsize=FONT_SIZE)
    ax.tick_params(labelsize=FONT_SIZE)
    ax.grid(True, alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    if dated:
        loc = mdates.AutoDateLocator(maxticks=8)
        ax.xaxis.set_major_locator(loc)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))
        ax.set_xlabel("Date (week starting)", fontsize=FONT_SIZE)


def _values(weekly: pd.DataFrame, metric: str) -> pd.Series:
    if metric == "staff_fte_permanent":
        return weekly["staff_fte"] - weekly["staff_fte_agency"]
    if metric not in weekly.columns:
        raise KeyError(f"no column {metric} in weekly.csv; charts can show: {', '.join(sorted(METRICS))}")
    return weekly[metric]


def fan_chart(weekly: pd.DataFrame, metric: str, threshold: float | None = None, colors: dict | None = None):
    """Median over replications with 50% and 90% bands, one colour per scenario, dates on the x axis."""
    values = _values(weekly, metric)  # first: a clear error for a column the run does not have
    title, unit, scale = METRICS.get(metric) or _declared(metric)
    colors = colors or scenario_colors(weekly["scenario"])
    fig, ax = plt.subplots(figsize=(9, 4.8), layout="constrained")
    df = weekly.assign(_v=values * scale, _d=pd.to_datetime(weekly["date"]))
    for scen, part in df.groupby("scenario", sort=False):
        wide = part.pivot(index="_d", columns="replication", values="_v")
        q = np.nanpercentile(wide.to_numpy(dtype=float), [5, 25, 50, 75, 95], axis=1)
        x = wide.index.to_numpy()
        c = colors[scen]
        ax.fill_between(x, q[0], q[4], color=c, alpha=0.15, linewidth=0, label=f"{_text(scen)}: 90% of futures")
        ax.fill_between(x, q[1], q[3], color=c, alpha=0.30, linewidth=0, label=f"{_text(scen)}: 50% of futures")
        ax.plot(x, q[2], color=c, linewidth=2, label=f"{_text(scen)}: median")
    if threshold is not None and metric in (MANAGEABLE_MEASURE, "caseload_mean", "caseload_p90"):
        ax.axhline(threshold, color="#444444", linestyle="--", linewidth=1.2, label=f"manageable threshold ({threshold:g})")
    _style(ax, title, unit)
    ax.legend(fontsize=FONT_SIZE - 1, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return fig


def sustained_chart(weekly: pd.DataFrame, rules: dict[str, BreachRule], colors: dict | None = None):
    """The chance that no breach has begun so far, per scenario, over time."""
    colors = colors or scenario_colors(weekly["scenario"])
    fig, ax = plt.subplots(figsize=(9, 4.8), layout="constrained")
    for scen, part in weekly.groupby("scenario", sort=False):
        rule = rules[scen]
        breach = first_breach(part, rule).to_numpy()
        weeks = np.sort(part["week"].unique())
        p = [(breach > w).mean() for w in weeks]
        dates = pd.to_datetime(part[part["replication"] == part["replication"].min()].sort_values("week")["date"])
        ax.step(dates, 100 * np.asarray(p), where="post", color=colors[scen], linewidth=2,
                label=f"{_text(scen)} (threshold {rule.threshold:g}, {rule.weeks} weeks running)")
    ax.set_ylim(-2, 102)
    _style(ax, "Chance caseloads have stayed manageable so far", "% of simulated futures")
    ax.legend(fontsize=FONT_SIZE - 1, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return fig


def cost_outcome_chart(compare: pd.DataFrame, colors: dict | None = None, target: float = 0.9):
    """Each option's cost per year against its chance of keeping caseloads manageable.

    The cheapest option that reaches ``target`` is ringed, so it stands out; if none
    does, the option with the best chance is.
    """
    colors = colors or scenario_colors(compare["scenario"])
    fig, ax = plt.subplots(figsize=(9, 5.4), layout="constrained")
    x = compare["cost_per_year"].to_numpy() / 1e6
    y = 100 * compare["p_sustained"].to_numpy()
    lo = 100 * compare["p_sustained_ci95_low"].to_numpy()
    hi = 100 * compare["p_sustained_ci95_high"].to_numpy()
    good = np.flatnonzero(compare["p_sustained"].to_numpy() >= target)
    pick = good[np.argmin(x[good])] if good.size else int(np.argmax(y))
    for i, scen in enumerate(compare["scenario"]):
        ax.errorbar(x[i], y[i], yerr=[[max(0.0, y[i] - lo[i])], [max(0.0, hi[i] - y[i])]], fmt="o", color=colors[scen], markersize=9,
                    capsize=4, label=_text(scen))
    ax.scatter([x[pick]], [y[pick]], s=420, facecolors="none", edgecolors="#222222", linewidths=2,
               label=("cheapest reaching " + f"{target:.0%}") if good.size else "best chance (none reach the target)")
    ax.axhline(100 * target, color="#444444", linestyle=":", linewidth=1, label=f"target {target:.0%}")
    ax.set_ylim(-5, 105)
    pad = max(0.05, 0.1 * (x.max() - x.min()))
    ax.set_xlim(x.min() - pad, x.max() + pad)
    _style(ax, "Cost against the chance of keeping caseloads manageable", "% of simulated futures", dated=False)
    ax.set_xlabel("Cost of the service, £ million a year", fontsize=FONT_SIZE)
    ax.legend(fontsize=FONT_SIZE - 1, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return fig


def all_charts(weekly: pd.DataFrame, rules: dict[str, BreachRule], metrics: list[str] | None = None,
               compare: pd.DataFrame | None = None) -> dict[str, object]:
    """Every chart of a run, by file stem."""
    colors = scenario_colors(weekly["scenario"])
    thr = next(iter(rules.values())).threshold
    charts = {m: fan_chart(weekly, m, thr, colors) for m in (metrics or DEFAULT_METRICS)}
    charts["p_sustained"] = sustained_chart(weekly, rules, colors)
    if compare is not None and len(compare) > 1:
        charts["cost_vs_outcome"] = cost_outcome_chart(compare, colors)
    return charts
