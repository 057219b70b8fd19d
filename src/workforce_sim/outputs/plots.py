"""Charts of a run: fan charts, the chance of staying manageable, cost by financial year, cost against outcome.

Every chart function takes the tables a run writes (weekly.csv, budget.csv,
compare.csv) and returns a matplotlib Figure, so notebooks, the ``plot``
command and the HTML report draw the same charts. :func:`charts_of_run` builds
all of a run's charts from its folder, each with a plain-word description
(:func:`alt_text`) for the report's ``alt`` attributes and the files' metadata.

How the charts read:

- a scenario has the same colour on every chart (its position in the run picks
  it from a colour-blind-safe palette), and is named by its label: its name
  with the settings changed for the run;
- with more than two scenarios, the week-by-week charts are *small multiples*:
  one panel per scenario on shared axes, each with its own manageable threshold
  and the first scenario's middle line in grey for comparison, and one small
  legend, instead of a dozen overlapping bands;
- money is by financial year (April to March), in cash or in real terms, never
  annualised from single weeks.
"""

from __future__ import annotations

import math
import textwrap
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import NamedTuple, cast

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ..analysis.breaches import MANAGEABLE_MEASURE, TEAM_MEASURE, BreachRule, first_breach
from ..analysis.formats import and_list, money
from ..analysis.measures import MEASURE, MEASURES
from ..analysis.money import financial_year_days
from ..model.measures import describe
from ..runs.files import atomic_write
from ..runs.reading import RunTables, run_tables, scenario_names
from ..scenario.schema import Scenario
from ..studies.sensitivity import SensitivityResult, read_sensitivity
from .words import part_year_words, setting_at

# Okabe-Ito palette: distinguishable with the common colour-vision deficiencies
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
FONT_SIZE = 10
REFERENCE_GREY = "#8c8c8c"  # the first scenario's middle line, drawn in the other panels
THRESHOLD_GREY = "#444444"
SMALL_MULTIPLES_ABOVE = 2  # more scenarios than this: one panel each

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
    # a week's cost as it falls; costs by financial year are the cost_by_year bar chart
    "cost_total": ("Cost of the service each week", "£ thousand a week", 1e-3),
    "referrals": ("Referrals", "referrals a week", 1.0),
    "re_referral_pct": ("Re-referrals", "% of referrals", 1.0),
    "assessments_in_timescale_pct": ("Assessments completed within 45 working days", "% of assessments", 1.0),
}
DEFAULT_METRICS = [MANAGEABLE_MEASURE, "caseload_mean", "unallocated_cases", "cp_unallocated", "assessments_overdue",
                   "staff_fte_permanent", "staff_fte_agency", "staff_fte_asye", "vacancies_fte"]
CASELOAD_MEASURES = (MANAGEABLE_MEASURE, "caseload_mean", "caseload_p90")  # drawn with the manageable threshold
SUSTAINED = "p_sustained"
COST_BY_YEAR = "cost_by_year"
COST_VS_OUTCOME = "cost_vs_outcome"
SHORTEST_YEAR_SHOWN = 28  # days: a financial year the run covers less of is left out of the bar chart, with a note


class Chart(NamedTuple):
    """One chart of a run: the figure, its title and a plain-word description for readers who cannot see it."""

    figure: Figure
    title: str
    alt: str


# -- small helpers ----------------------------------------------------------------------------
def _declared(metric: str) -> tuple[str, str, float]:
    """Title, unit and scale of a measure with no entry in METRICS, from its declaration."""
    m = describe(metric)
    return m.label, m.unit + (" a week" if m.kind == "flow" else ""), 1.0


def describe_metric(metric: str) -> tuple[str, str, float]:
    """(title, unit, scale) of a weekly measure as the charts show it."""
    return METRICS.get(metric) or _declared(metric)


def _text(name) -> str:
    """A scenario name as chart text: '$' escaped, so matplotlib does not read "$...$" as mathematics."""
    return str(name).replace("$", r"\$")


def _wrap(text: str, width: int) -> str:
    """Chart text broken into lines of at most ``width`` characters (long labels with their changes)."""
    return "\n".join(textwrap.wrap(str(text), width, break_long_words=True, break_on_hyphens=False)) or str(text)


def _label_of(labels: Mapping[str, str] | None, name: str) -> str:
    return (labels or {}).get(name, name)


def scenario_colors(names: Iterable[str]) -> dict[str, str]:
    """The colour of each scenario, by its order in the run."""
    return {n: PALETTE[i % len(PALETTE)] for i, n in enumerate(dict.fromkeys(names))}


def _thresholds(threshold, names: list[str]) -> dict[str, float]:
    """Each scenario's manageable threshold from a number (the same for all), a mapping of numbers or of
    :class:`BreachRule` by scenario, or None (no threshold)."""
    if threshold is None:
        return {}
    if isinstance(threshold, Mapping):
        out = {}
        for n in names:
            t = threshold.get(n)
            if t is not None:
                out[n] = float(t.threshold if isinstance(t, BreachRule) else t)
        return out
    return {n: float(threshold) for n in names}


def _date_axis(ax) -> None:
    loc = mdates.AutoDateLocator(maxticks=8)
    ax.xaxis.set_major_locator(loc)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))


def _style(ax, title: str, ylabel: str, dated: bool = True) -> None:
    ax.set_title(title, fontsize=FONT_SIZE + 2, loc="left")
    ax.set_ylabel(ylabel, fontsize=FONT_SIZE)
    ax.tick_params(labelsize=FONT_SIZE)
    ax.grid(True, alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    if dated:
        _date_axis(ax)
        ax.set_xlabel("Date (week starting)", fontsize=FONT_SIZE)


def _panels(n: int, title: str, ylabel: str, key: list, key_columns: int, xlabel: str = "Date (week starting)"):
    """A figure of ``n`` panels on shared axes (2 columns up to 4 panels, then 3) under one title and one
    small legend (``key``: its handles, in ``key_columns`` columns), with one label per axis for the
    whole figure. Returns (figure, list of n axes); grid slots left over are removed."""
    ncols = 2 if n <= 4 else 3
    nrows = math.ceil(n / ncols)
    key_rows = math.ceil(len(key) / key_columns)
    key_height, grid_height = 0.12 + 0.28 * key_rows, 0.7 + 2.6 * nrows
    fig = plt.figure(layout="constrained", figsize=(11 if ncols == 3 else 10, 0.45 + key_height + grid_height))
    fig.suptitle(title, fontsize=FONT_SIZE + 3, x=0.01, ha="left")
    # two rows of subfigures come back as an array of two
    top, bottom = cast(np.ndarray, fig.subfigures(2, 1, height_ratios=[key_height, grid_height]))
    top.legend(handles=key, loc="center left", ncols=key_columns, fontsize=FONT_SIZE, frameon=False)
    grid = bottom.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False)
    flat = list(grid.ravel())
    for ax in flat[n:]:
        bottom.delaxes(ax)
    axes = flat[:n]
    for i, ax in enumerate(axes):
        if i + ncols >= n:  # nothing below this panel: it shows the dates itself
            ax.xaxis.set_tick_params(labelbottom=True)
        ax.tick_params(labelsize=FONT_SIZE)
        ax.grid(True, alpha=0.3)
        ax.spines[["top", "right"]].set_visible(False)
    bottom.supylabel(ylabel, fontsize=FONT_SIZE)
    bottom.supxlabel(xlabel, fontsize=FONT_SIZE)
    return fig, axes


def _panel_title(ax, label: str, ncols_wide: bool) -> None:
    ax.set_title(_text(_wrap(label, 38 if ncols_wide else 55)), fontsize=FONT_SIZE, loc="left")


def _values(weekly: pd.DataFrame, metric: str) -> pd.Series:
    if metric == "staff_fte_permanent":
        return weekly["staff_fte"] - weekly["staff_fte_agency"]
    if metric not in weekly.columns:
        raise KeyError(f"no column {metric} in weekly.csv; charts can show: {', '.join(sorted(METRICS))}")
    return weekly[metric]


def fan_quantiles(weekly: pd.DataFrame, metric: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per scenario: the weeks' dates and the 5th, 25th, 50th, 75th and 95th percentiles over replications
    (a 5 x weeks array), in the chart's units."""
    values = _values(weekly, metric)  # first: a clear error for a column the run does not have
    scale = describe_metric(metric)[2]
    df = weekly.assign(_v=values * scale, _d=pd.to_datetime(weekly["date"]))
    out = {}
    for scen, part in df.groupby("scenario", sort=False):
        wide = part.pivot(index="_d", columns="replication", values="_v")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a week with no value in any future
            q = np.nanpercentile(wide.to_numpy(dtype=float), [5, 25, 50, 75, 95], axis=1)
        out[scen] = (wide.index.to_numpy(), q)
    return out


# -- week-by-week charts ---------------------------------------------------------------------
def fan_chart(weekly: pd.DataFrame, metric: str,
              threshold: float | Mapping[str, float | BreachRule] | None = None, colors: dict | None = None,
              labels: Mapping[str, str] | None = None):
    """Middle future (median over replications) with bands holding 50% and 90% of futures, dates on the x axis.

    ``threshold`` is the manageable caseload, drawn on the caseload measures: one number for every
    scenario, or each scenario's own (a mapping of numbers or of :class:`BreachRule` by name).
    ``labels`` names the scenarios on the chart (default: their names). With one or two scenarios
    they share one axes (a threshold line for each distinct threshold); with more, each has its own
    panel on shared axes, with its own threshold and the first scenario's middle line in grey.
    """
    fans = fan_quantiles(weekly, metric)
    title, unit, _ = describe_metric(metric)
    names = list(fans)
    colors = colors or scenario_colors(names)
    thresholds = _thresholds(threshold, names) if metric in CASELOAD_MEASURES else {}
    if len(names) > SMALL_MULTIPLES_ABOVE:
        return _fan_panels(fans, title, unit, thresholds, colors, labels)
    fig, ax = plt.subplots(figsize=(9, 4.8), layout="constrained")
    for scen, (x, q) in fans.items():
        c, lab = colors[scen], _text(_label_of(labels, scen))
        ax.fill_between(x, q[0], q[4], color=c, alpha=0.15, linewidth=0, label=f"{lab}: 90% of futures")
        ax.fill_between(x, q[1], q[3], color=c, alpha=0.30, linewidth=0, label=f"{lab}: 50% of futures")
        ax.plot(x, q[2], color=c, linewidth=2, label=f"{lab}: median")
    distinct = sorted(set(thresholds.values()))
    for thr in distinct:
        owners = [n for n in names if thresholds[n] == thr]
        if len(distinct) == 1:
            ax.axhline(thr, color=THRESHOLD_GREY, linestyle="--", linewidth=1.2,
                       label=f"manageable threshold ({thr:g})")
        else:  # scenarios with different thresholds: each line in its scenario's colour, named
            who = ", ".join(_text(_label_of(labels, n)) for n in owners)
            ax.axhline(thr, color=colors[owners[0]], linestyle="--", linewidth=1.2,
                       label=f"manageable threshold ({thr:g}) of {who}")
    _style(ax, title, unit)
    handles, texts = ax.get_legend_handles_labels()
    ax.legend(handles, [_wrap(t, 45) for t in texts], fontsize=FONT_SIZE - 1, loc="upper left",
              bbox_to_anchor=(1.01, 1.0), frameon=False)
    return fig


def _fan_panels(fans, title, unit, thresholds, colors, labels):
    """The fan chart as small multiples: one panel per scenario (see :func:`fan_chart`)."""
    names = list(fans)
    ref = names[0]
    key = [Line2D([], [], color="#333333", linewidth=2, label="median (middle future)"),
           Patch(color="#333333", alpha=0.30, linewidth=0, label="50% of futures"),
           Patch(color="#333333", alpha=0.15, linewidth=0, label="90% of futures")]
    if thresholds:
        values = sorted(set(thresholds.values()))
        which = f"{values[0]:g}" if len(values) == 1 else "each panel's own: " + " or ".join(f"{v:g}" for v in values)
        key.append(Line2D([], [], color=THRESHOLD_GREY, linestyle="--", linewidth=1.2,
                          label=f"manageable threshold ({which})"))
    key.append(Line2D([], [], color=REFERENCE_GREY, linewidth=1.2,
                      label=f"first scenario's median ({_text(_wrap(_label_of(labels, ref), 40))})"))
    fig, axes = _panels(len(names), title, unit, key, 3)
    ref_x, ref_q = fans[ref]
    for ax, scen in zip(axes, names):
        x, q = fans[scen]
        c, lab = colors[scen], _text(_label_of(labels, scen))
        if scen != ref:
            ax.plot(ref_x, ref_q[2], color=REFERENCE_GREY, linewidth=1.2, label="first scenario's median")
        ax.fill_between(x, q[0], q[4], color=c, alpha=0.15, linewidth=0, label=f"{lab}: 90% of futures")
        ax.fill_between(x, q[1], q[3], color=c, alpha=0.30, linewidth=0, label=f"{lab}: 50% of futures")
        ax.plot(x, q[2], color=c, linewidth=2, label=f"{lab}: median")
        if scen in thresholds:
            ax.axhline(thresholds[scen], color=THRESHOLD_GREY, linestyle="--", linewidth=1.2,
                       label=f"manageable threshold ({thresholds[scen]:g})")
        _panel_title(ax, _label_of(labels, scen), len(axes) > 4)
    _date_axis(axes[0])
    return fig


def _sustained_curve(part: pd.DataFrame, rule: BreachRule) -> tuple[np.ndarray, np.ndarray]:
    """Dates, and the % of futures of one scenario with no breach begun by each week."""
    breach = first_breach(part, rule).to_numpy()
    weeks = np.sort(part["week"].unique())
    p = np.array([(breach > w).mean() for w in weeks])
    first_rep = part[part["replication"] == part["replication"].min()].sort_values("week")
    return pd.to_datetime(first_rep["date"]).to_numpy(), 100 * p


def _where_threshold(rule: BreachRule) -> str:
    """The standard a breach is counted against, in a legend: "threshold 18 in any team", "each team's standard"."""
    stds = {s for _, s in rule.teams}
    if not rule.teams:
        return f"threshold {rule.threshold:g}"
    return f"threshold {stds.pop():g} in any team" if len(stds) == 1 else "each team's standard"


def sustained_chart(weekly: pd.DataFrame, rules: dict[str, BreachRule], colors: dict | None = None,
                    labels: Mapping[str, str] | None = None):
    """The chance that no breach has begun so far, per scenario, over time (each by its own rule).

    With more than two scenarios: one panel each, the first scenario's line in grey in the others.
    """
    names = scenario_names(weekly)
    colors = colors or scenario_colors(names)
    curves = {s: _sustained_curve(part, rules[s]) for s, part in weekly.groupby("scenario", sort=False)}
    title = "Chance caseloads have stayed manageable so far"
    if len(names) <= SMALL_MULTIPLES_ABOVE:
        fig, ax = plt.subplots(figsize=(9, 4.8), layout="constrained")
        for scen, (x, p) in curves.items():
            rule = rules[scen]
            ax.step(x, p, where="post", color=colors[scen], linewidth=2,
                    label=_wrap(f"{_text(_label_of(labels, scen))} ({_where_threshold(rule)}, "
                                f"{rule.weeks} weeks running)", 45))
        ax.set_ylim(-2, 102)
        _style(ax, title, "% of simulated futures")
        ax.legend(fontsize=FONT_SIZE - 1, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        return fig
    ref = names[0]
    same_rule = len({rules[s] for s in names}) == 1
    rule = rules[ref]
    what = (f"share of futures with no breach yet (above {_where_threshold(rule)} for {rule.weeks} weeks running)"
            if same_rule else "share of futures with no breach yet (each by its own threshold)")
    key = [Line2D([], [], color="#333333", linewidth=2, label=what),
           Line2D([], [], color=REFERENCE_GREY, linewidth=1.2,
                  label=f"first scenario ({_text(_wrap(_label_of(labels, ref), 40))})")]
    fig, axes = _panels(len(names), title, "% of simulated futures", key, 2)
    for ax, scen in zip(axes, names):
        x, p = curves[scen]
        if scen != ref:
            ax.step(curves[ref][0], curves[ref][1], where="post", color=REFERENCE_GREY, linewidth=1.2,
                    label="first scenario")
        ax.step(x, p, where="post", color=colors[scen], linewidth=2, label=_text(_label_of(labels, scen)))
        rule = rules[scen]
        name = _label_of(labels, scen) + ("" if same_rule else f" (threshold {rule.threshold:g})")
        _panel_title(ax, name, len(axes) > 4)
    axes[0].set_ylim(-2, 102)
    _date_axis(axes[0])
    return fig


BY_TEAM = "caseloads_by_team"


def _team_medians(weekly: pd.DataFrame, rules: Mapping[str, BreachRule]) -> dict[str, dict[str, tuple]]:
    """Per team the run has columns for, per scenario: dates, the 5th, 50th and 95th percentiles over futures of
    the team's caseload counting waiting cases, and its standard."""
    out: dict[str, dict[str, tuple]] = {}
    for scen, part in weekly.groupby("scenario", sort=False):
        for team, std in rules[scen].teams:
            col = TEAM_MEASURE.format(team=team)
            if col not in part.columns:
                continue
            wide = part.assign(_d=pd.to_datetime(part["date"])).pivot(index="_d", columns="replication", values=col)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                q = np.nanpercentile(wide.to_numpy(dtype=float), [5, 50, 95], axis=1)
            out.setdefault(team, {})[scen] = (wide.index.to_numpy(), q, std)
    return out


def team_chart(weekly: pd.DataFrame, rules: Mapping[str, BreachRule], colors: dict | None = None,
               labels: Mapping[str, str] | None = None):
    """Each case-holding team's caseload counting the cases waiting for it, one panel per team (small multiples):
    each scenario's middle future with a band holding 90% of futures, and the team's manageable standard."""
    teams = _team_medians(weekly, rules)
    names = scenario_names(weekly)
    colors = colors or scenario_colors(names)
    key: list[Artist] = [Line2D([], [], color=colors[n], linewidth=2, label=f"{_text(_label_of(labels, n))}: median")
                         for n in names]
    key += [Patch(color="#333333", alpha=0.15, linewidth=0, label="90% of futures"),
            Line2D([], [], color=THRESHOLD_GREY, linestyle="--", linewidth=1.2, label="the team's standard")]
    fig, axes = _panels(len(teams), "Caseload by team, counting the cases waiting for it", "cases per FTE", key,
                        min(3, len(key)))
    for ax, (team, by_scen) in zip(axes, teams.items()):
        for scen, (x, q, std) in by_scen.items():
            ax.fill_between(x, q[0], q[2], color=colors[scen], alpha=0.15, linewidth=0)
            ax.plot(x, q[1], color=colors[scen], linewidth=2)
        for std in sorted({v[2] for v in by_scen.values()}):
            ax.axhline(std, color=THRESHOLD_GREY, linestyle="--", linewidth=1.2)
        _panel_title(ax, team.replace("_", " ").capitalize(), len(axes) > 4)
    _date_axis(axes[0])
    return fig


def _team_alt(weekly: pd.DataFrame, rules: Mapping[str, BreachRule], labels: Mapping[str, str] | None) -> str:
    teams = _team_medians(weekly, rules)
    names = scenario_names(weekly)
    bits = []
    for team, by_scen in teams.items():
        ends = ", ".join(f"{_label_of(labels, s) + ' ' if len(names) > 1 else ''}{_number(q[1][-1])}"
                         for s, (_, q, _) in by_scen.items())
        stds = sorted({v[2] for v in by_scen.values()})
        bits.append(f"{team.replace('_', ' ')} (standard {' or '.join(f'{v:g}' for v in stds)}): {ends}")
    return (f"Small multiples, one panel per case-holding team: the team's caseload counting the cases waiting for "
            f"it, in cases per FTE, for {_who(names, labels, False)}, week by week {_month_span(weekly)}; the line "
            f"is the middle future, the band holds 90% of futures, the dashed line is the team's standard. In the "
            f"last week the middle future is: " + "; ".join(bits) + ".")


# -- children in care ---------------------------------------------------------------------------
PLACEMENTS_CHART = "children_in_care_by_placement"
PLACEMENT_GROUPS = {  # the chart's bands, cheapest first, and the weekly.csv placement columns in each
    "With family or friends (kinship foster care)": ["kinship_foster"],
    "The council's own foster carers": ["in_house_foster"],
    "Agency foster carers": ["agency_foster"],
    "Children's homes (the council's own and private)": ["in_house_home", "external_home"],
    "Supported accommodation (16 and 17)": ["supported"],
    "With parents, placed for adoption, other": ["with_parents", "placed_for_adoption", "other"],
}


def has_placements(weekly: pd.DataFrame) -> bool:
    """Whether a run's weekly.csv follows children in care by placement (a scenario with a [care] section)."""
    cols = [f"cla_{p}" for ps in PLACEMENT_GROUPS.values() for p in ps]
    return all(c in weekly.columns for c in cols) and bool(weekly[cols].to_numpy().any())


def _placement_means(weekly: pd.DataFrame) -> dict[str, tuple[np.ndarray, dict[str, np.ndarray]]]:
    """Per scenario: the weeks' dates and, per band of :data:`PLACEMENT_GROUPS`, its children in care averaged over
    the simulated futures."""
    out = {}
    for scen, part in weekly.groupby("scenario", sort=False):
        by_week = part.assign(_d=pd.to_datetime(part["date"])).groupby("_d")
        bands = {g: by_week[[f"cla_{p}" for p in ps]].mean().sum(axis=1).to_numpy()
                 for g, ps in PLACEMENT_GROUPS.items()}
        out[scen] = (np.array(sorted(by_week.groups)), bands)
    return out


def placements_chart(weekly: pd.DataFrame, labels: Mapping[str, str] | None = None):
    """Children in care by where they live, one panel per scenario (small multiples): stacked bands of the average
    future, cheapest placements at the bottom."""
    data = _placement_means(weekly)
    colours = dict(zip(PLACEMENT_GROUPS, [PALETTE[2], PALETTE[5], PALETTE[0], PALETTE[3], PALETTE[4], PALETTE[6]]))
    key: list[Artist] = [Patch(color=c, label=g) for g, c in colours.items()]
    fig, axes = _panels(len(data), "Children in care by where they live (the average future)", "children", key, 2)
    for ax, (scen, (x, bands)) in zip(axes, data.items()):
        ax.stackplot(x, *bands.values(), colors=list(colours.values()), linewidth=0)
        _panel_title(ax, _label_of(labels, scen), len(axes) > 4)
    _date_axis(axes[0])
    return fig


def _placements_alt(weekly: pd.DataFrame, labels: Mapping[str, str] | None) -> str:
    data = _placement_means(weekly)
    bits = []
    for scen, (_, bands) in data.items():
        last = {g: v[-1] for g, v in bands.items()}
        bits.append(f"{_label_of(labels, scen)}: {_number(sum(last.values()))} children, of whom "
                    + ", ".join(f"{_number(v)} {g[0].lower() + g[1:]}" for g, v in last.items()))
    return (f"Stacked areas, one panel for each of {_who(list(data), labels, False)}: children in care by where "
            f"they live, the average over the simulated futures, week by week {_month_span(weekly)}. In the last "
            f"week: " + "; ".join(bits) + ".")


# -- money -----------------------------------------------------------------------------------
def _budget_totals(budget: pd.DataFrame, real_terms: bool) -> pd.DataFrame:
    """budget.csv's total rows with the columns a chart of them needs (value, low, high in £)."""
    col = "real_terms" if real_terms else "cash"
    tot = budget[budget["item"] == "cost_total"]
    return pd.DataFrame({"scenario": tot["scenario"].to_numpy(),
                         "financial_year": tot["financial_year"].astype(str).to_numpy(),
                         "days": tot["days"].astype(int).to_numpy(), "value": tot[col].to_numpy(dtype=float),
                         "low": tot[f"{col}_ci95_low"].to_numpy(dtype=float),
                         "high": tot[f"{col}_ci95_high"].to_numpy(dtype=float),
                         "prices": tot["prices"].astype(str).to_numpy() if "prices" in tot else ""})


def _years_shown(totals: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Financial years in the bar chart, and those left out (the run covers under SHORTEST_YEAR_SHOWN days)."""
    days = totals.groupby("financial_year", sort=False)["days"].max()
    shown = [fy for fy, d in days.items() if d >= SHORTEST_YEAR_SHOWN]
    return shown, [fy for fy in days.index if fy not in shown]


def _year_label(fy: str, days: int) -> str:
    return fy if days >= financial_year_days(fy) else f"{fy}\n({part_year_words(days)})"


def budget_chart(budget: pd.DataFrame, colors: dict | None = None, labels: Mapping[str, str] | None = None,
                 real_terms: bool = False):
    """Cost of the service by financial year (April to March) from budget.csv: a group of bars per year,
    one bar per scenario, with its 95% interval; in cash, or in real terms (the prices of the run's
    first financial year) with ``real_terms=True``.

    A part year is labelled with the days the run covers; one of under four weeks (the few days a
    run spills past its last March) is left out, and a note under the chart says so.
    """
    totals = _budget_totals(budget, real_terms)
    names = scenario_names(totals)
    colors = colors or scenario_colors(names)
    shown, left_out = _years_shown(totals)
    fig, ax = plt.subplots(figsize=(10, 5.0), layout="constrained")
    width = min(0.8 / max(1, len(names)), 0.3)
    x = np.arange(len(shown))
    numbered = len(names) * len(shown) <= 12  # few bars: each shows its value, to read without the table
    for i, scen in enumerate(names):
        part = totals[totals["scenario"] == scen].set_index("financial_year").reindex(shown)
        v = part["value"].to_numpy() / 1e6
        err = np.vstack([np.clip(v - part["low"].to_numpy() / 1e6, 0, None),
                         np.clip(part["high"].to_numpy() / 1e6 - v, 0, None)])
        err = np.nan_to_num(err)
        bars = ax.bar(x + (i - (len(names) - 1) / 2) * width, v, width * 0.92, yerr=err, color=colors[scen],
                      ecolor="#222222", capsize=3, error_kw={"linewidth": 1},
                      label=_text(_wrap(_label_of(labels, scen), 40)))
        if numbered:
            ax.bar_label(bars, labels=[money(c, "m") if np.isfinite(c) else "" for c in part["value"]], padding=2,
                         fontsize=FONT_SIZE - 1)
    days = totals.groupby("financial_year", sort=False)["days"].max()
    ax.set_xticks(x, [_year_label(fy, int(days[fy])) for fy in shown])
    prices = totals["prices"].iloc[0] if len(totals) else ""
    how = f"real terms ({prices})" if real_terms else "cash"
    _style(ax, f"Cost of the service by financial year (April to March), {how}", "£ million", dated=False)
    ax.set_xlabel("Financial year", fontsize=FONT_SIZE)
    ax.grid(False, axis="x")
    note = "Bars: the average over the simulated futures; lines: its 95% confidence interval."
    if left_out:
        note += " Left out: " + "; ".join(
            f"{fy} (the run covers only {int(days[fy])} day{'s' if int(days[fy]) != 1 else ''} of it)"
            for fy in left_out) + "."
    fig.supxlabel(_wrap(note, 130), fontsize=FONT_SIZE - 1, x=0.01, ha="left", color="#333333")  # laid out below
    ax.legend(fontsize=FONT_SIZE - 1, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return fig


def cost_outcome_chart(compare: pd.DataFrame, colors: dict | None = None, target: float = 0.9,
                       labels: Mapping[str, str] | None = None):
    """Each option's cost per year (cash) against its chance of keeping caseloads manageable.

    The cheapest option that reaches ``target`` is ringed, so it stands out; if none does, the option
    with the best chance is. ``labels`` (default: compare.csv's ``label`` column, else the names) name
    the options.
    """
    colors = colors or scenario_colors(compare["scenario"])
    if labels is None and "label" in compare.columns:
        labels = dict(zip(compare["scenario"], compare["label"]))
    fig, ax = plt.subplots(figsize=(9, 5.4), layout="constrained")
    x = compare["cost_per_year"].to_numpy() / 1e6
    y = 100 * compare["p_sustained"].to_numpy()
    lo = 100 * compare["p_sustained_ci95_low"].to_numpy()
    hi = 100 * compare["p_sustained_ci95_high"].to_numpy()
    pick = _ringed(compare, target)
    for i, scen in enumerate(compare["scenario"]):
        ax.errorbar(x[i], y[i], yerr=[[max(0.0, y[i] - lo[i])], [max(0.0, hi[i] - y[i])]], fmt="o", color=colors[scen],
                    markersize=9, capsize=4, label=_text(_wrap(_label_of(labels, scen), 45)))
    reached = bool((compare["p_sustained"] >= target).any())
    ax.scatter([x[pick]], [y[pick]], s=420, facecolors="none", edgecolors="#222222", linewidths=2,
               label=("cheapest reaching " + f"{target:.0%}") if reached else "best chance (none reach the target)")
    ax.axhline(100 * target, color=THRESHOLD_GREY, linestyle=":", linewidth=1, label=f"target {target:.0%}")
    ax.set_ylim(-5, 105)
    pad = max(0.05, 0.1 * (x.max() - x.min()))
    ax.set_xlim(x.min() - pad, x.max() + pad)
    _style(ax, "Cost against the chance of keeping caseloads manageable", "% of simulated futures", dated=False)
    ax.set_xlabel("Cost of the service, £ million a year (cash, average over the run)", fontsize=FONT_SIZE)
    ax.legend(fontsize=FONT_SIZE - 1, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return fig


def _ringed(compare: pd.DataFrame, target: float) -> int:
    """Row of the option the cost chart rings: the cheapest reaching ``target``, else the best chance."""
    good = np.flatnonzero(compare["p_sustained"].to_numpy() >= target)
    cost = compare["cost_per_year"].to_numpy()
    return int(good[np.argmin(cost[good])]) if good.size else int(np.argmax(compare["p_sustained"].to_numpy()))


# -- words for readers who cannot see the charts ---------------------------------------------
def _month_span(weekly: pd.DataFrame) -> str:
    d = pd.to_datetime(weekly["date"])
    return f"from {d.min():%B %Y} to {d.max():%B %Y}"


def _number(v: float) -> str:
    """A chart value in words: 1,234, 85.3, 16, 0."""
    if not np.isfinite(v):
        return "no value"
    text = f"{v:,.0f}" if abs(v) >= 100 else f"{v:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _who(names: list[str], labels, panels: bool) -> str:
    """Which scenarios a chart shows, and how, in words."""
    if len(names) == 1:
        return f"the scenario {_label_of(labels, names[0])}"
    listed = "; ".join(_label_of(labels, n) for n in names)
    return (f"each of the {len(names)} scenarios in its own panel on the same scales ({listed}), with the first "
            f"scenario's line in grey in the others for comparison" if panels else
            f"the {len(names)} scenarios ({listed})")


def alt_text(name: str, weekly: pd.DataFrame | None = None, rules: Mapping[str, BreachRule] | None = None,
             labels: Mapping[str, str] | None = None, budget: pd.DataFrame | None = None,
             compare: pd.DataFrame | None = None, real_terms: bool = False, target: float = 0.9) -> str:
    """What the chart ``name`` (a weekly measure, "p_sustained", "cost_by_year" or "cost_vs_outcome")
    shows, in one or two sentences for a reader who cannot see it, with its main figures: the text of
    the report's ``alt`` attributes. Give it the tables the chart was drawn from."""
    if name == COST_BY_YEAR:
        return _budget_alt(budget, labels, real_terms)
    if name == COST_VS_OUTCOME:
        return _cost_outcome_alt(compare, labels, target)
    if name == SUSTAINED:
        return _sustained_alt(weekly, rules or {}, labels)
    if name == BY_TEAM:
        return _team_alt(weekly, rules or {}, labels)
    if name == PLACEMENTS_CHART:
        return _placements_alt(weekly, labels)
    return _fan_alt(name, weekly, rules, labels)


def _budget_alt(budget: pd.DataFrame, labels: Mapping[str, str] | None, real_terms: bool) -> str:
    totals = _budget_totals(budget, real_terms)
    shown, left_out = _years_shown(totals)
    names = scenario_names(totals)
    how = f"in real terms ({totals['prices'].iloc[0]})" if real_terms else "in cash"
    days = totals.groupby("financial_year", sort=False)["days"].max()
    part = [fy for fy in shown if days[fy] < financial_year_days(fy)]
    text = (f"Bar chart: the cost of the service in each financial year (April to March), {how}, in £ million, "
            f"one bar for each of {_who(names, labels, False)}, with its 95% confidence interval")
    if part:
        text += f"; {and_list(part)} {'is a part year' if len(part) == 1 else 'are part years'}"
    if left_out:
        text += f"; {and_list(left_out)} (a few days only) {'is' if len(left_out) == 1 else 'are'} left out"
    bits = []
    named = {fy: fy + (" (part year)" if fy in part else "") for fy in shown}
    for n in names:
        mine = totals[totals["scenario"] == n].set_index("financial_year").reindex(shown)["value"]
        bits.append(f"{_label_of(labels, n)} {money(mine.iloc[0], 'm')} in {named[shown[0]]}"
                    + (f" and {money(mine.iloc[-1], 'm')} in {named[shown[-1]]}" if len(shown) > 1 else ""))
    return text + ". " + "; ".join(bits) + "." if shown else text + "."


def _cost_outcome_alt(compare: pd.DataFrame, labels: Mapping[str, str] | None, target: float) -> str:
    labels = labels or (dict(zip(compare["scenario"], compare["label"])) if "label" in compare.columns else {})
    pick = compare.iloc[_ringed(compare, target)]
    reached = bool((compare["p_sustained"] >= target).any())
    ring = (f"the ring marks the cheapest option that keeps caseloads manageable in at least {target:.0%} of "
            f"futures: {_label_of(labels, pick['scenario'])}" if reached else
            f"no option reaches {target:.0%}; the ring marks the one with the best chance: "
            f"{_label_of(labels, pick['scenario'])}")
    points = "; ".join(f"{_label_of(labels, r['scenario'])} {money(r['cost_per_year'], 'm')} a year, "
                       f"{r['p_sustained']:.0%}" for _, r in compare.iterrows())
    return (f"Scatter chart: each option's average cost a year (cash, £ million) against the share of simulated "
            f"futures in which caseloads stay manageable for the whole run, with 95% confidence intervals; {ring}. "
            f"{points}.")


def _sustained_alt(weekly: pd.DataFrame, rules: Mapping[str, BreachRule], labels: Mapping[str, str] | None) -> str:
    names = scenario_names(weekly)
    span = _month_span(weekly)
    thr = sorted({rules[n].threshold for n in names})
    weeks = sorted({rules[n].weeks for n in names})
    rule = (f"above {thr[0]:g} cases per FTE" if len(thr) == 1 else "above each scenario's own threshold") + \
           f" for {' or '.join(str(w) for w in weeks)} weeks running"
    ends = []
    for scen, part in weekly.groupby("scenario", sort=False):
        ends.append(f"{_label_of(labels, scen)} {_sustained_curve(part, rules[scen])[1][-1]:.0f}%")
    who = _who(names, labels, len(names) > SMALL_MULTIPLES_ABOVE)
    return (f"Step chart: the share of simulated futures in which caseloads have stayed manageable so far (no "
            f"breach yet: the caseload counting unallocated cases {rule}), for {who}, week by week {span}. "
            f"At the end of the run: {'; '.join(ends)}.")


def _fan_alt(name: str, weekly: pd.DataFrame, rules, labels: Mapping[str, str] | None) -> str:
    names = scenario_names(weekly)
    span = _month_span(weekly)
    title, unit, _ = describe_metric(name)
    fans = fan_quantiles(weekly, name)
    who = _who(names, labels, len(names) > SMALL_MULTIPLES_ABOVE)
    text = (f"Fan chart: {title[:1].lower() + title[1:]}, in {unit}, for {who}, "
            f"week by week {span}: the line is the middle future, the bands hold half and 90% of the simulated futures")
    thresholds = _thresholds(rules, names) if name in CASELOAD_MEASURES else {}
    if thresholds:
        distinct = sorted(set(thresholds.values()))
        text += (f"; the dashed line is the manageable threshold of {distinct[0]:g}" if len(distinct) == 1 else
                 "; the dashed lines are each scenario's own manageable threshold ("
                 + "; ".join(f"{thresholds[n]:g} for {_label_of(labels, n)}" for n in names) + ")")
    ends = "; ".join(f"{_label_of(labels, n)} {_number(q[2][-1])}" for n, (_, q) in fans.items())
    return text + f". In the last week the middle future is: {ends}."


# -- every chart of a run ----------------------------------------------------------------------
SPREAD_NOTES = {  # what the spread between simulated futures holds, under every week-by-week chart
    "drawn": "Spread between futures: chance, and what is not known (uncertain settings drawn for each future)",
    "central": "Spread between futures: chance alone (uncertain settings at their central values)",
}


def spread_kind(manifest: dict, scenarios: list[Scenario]) -> str | None:
    """Which :data:`SPREAD_NOTES` a run's week-by-week charts carry: "drawn" (run --uncertainty), "central"
    (its scenarios have uncertain settings, held central) or None (nothing is uncertain: chance alone, as
    the report says)."""
    if (manifest.get("uncertainty") or {}).get("drawn"):
        return "drawn"
    return "central" if any(s.uncertain for s in scenarios) else None


def _note_spread(fig, note: str) -> None:
    """Add ``note`` under a chart's x-axis label (the figure's shared one in small multiples)."""
    for sub in fig.subfigs:
        if sub.get_supxlabel():
            sub.supxlabel(f"{sub.get_supxlabel()}\n{note}", fontsize=FONT_SIZE)
            return
    ax = fig.axes[0]
    ax.set_xlabel(f"{ax.get_xlabel()}\n{note}" if ax.get_xlabel() else note, fontsize=FONT_SIZE)


def all_charts(weekly: pd.DataFrame, rules: dict[str, BreachRule], metrics: list[str] | None = None,
               compare: pd.DataFrame | None = None, *, labels: Mapping[str, str] | None = None,
               budget: pd.DataFrame | None = None, real_terms: bool = False,
               spread: str | None = None) -> dict[str, Chart]:
    """Every chart of a run's tables, by file stem, each a :class:`Chart` (figure, title, alt text).

    Fan charts of ``metrics`` (default :data:`DEFAULT_METRICS`), each scenario with its own
    threshold; the chance of staying manageable; with ``budget`` (budget.csv), cost by financial
    year (cash, or real terms); with a ``compare`` table of two or more options, cost against outcome.
    ``spread`` (a key of :data:`SPREAD_NOTES`) says under each week-by-week chart, and in its alt text,
    what the spread between futures holds.
    """
    names = scenario_names(weekly)
    colors = scenario_colors(names)
    out: dict[str, Chart] = {}

    def add(key, fig, **alt_args):
        alt = alt_text(key, labels=labels, **alt_args)
        if spread and key not in (COST_BY_YEAR, COST_VS_OUTCOME, PLACEMENTS_CHART):  # money and averages
            _note_spread(fig, SPREAD_NOTES[spread])
            alt += f" {SPREAD_NOTES[spread]}."
        out[key] = Chart(fig, _title_of(fig), alt)

    for m in metrics or DEFAULT_METRICS:
        add(m, fan_chart(weekly, m, rules, colors, labels), weekly=weekly, rules=rules)
    add(SUSTAINED, sustained_chart(weekly, rules, colors, labels), weekly=weekly, rules=rules)
    if any(TEAM_MEASURE.format(team=t) in weekly.columns for r in rules.values() for t, _ in r.teams):
        add(BY_TEAM, team_chart(weekly, rules, colors, labels), weekly=weekly, rules=rules)
    if has_placements(weekly):
        add(PLACEMENTS_CHART, placements_chart(weekly, labels), weekly=weekly)
    if budget is not None and len(budget):
        add(COST_BY_YEAR, budget_chart(budget, colors, labels, real_terms), budget=budget, real_terms=real_terms)
    if compare is not None and len(compare) > 1:
        add(COST_VS_OUTCOME, cost_outcome_chart(compare, colors, labels=labels), compare=compare)
    return out


def _title_of(fig) -> str:
    """A figure's title: its suptitle (small multiples) or its axes' left title."""
    return fig.get_suptitle() or fig.axes[0].get_title(loc="left") or fig.axes[0].get_title()


def charts_of_run(run: Path | RunTables, metrics: list[str] | None = None, *,
                  real_terms: bool = False) -> dict[str, Chart]:
    """Every chart of the finished run in folder ``run`` (or its :class:`RunTables`), by file stem, each a
    :class:`Chart` (figure, title, alt text): what the ``plot`` command writes and the report shows.

    Raises KeyError for a measure the run's weekly.csv does not have.
    """
    t = run if isinstance(run, RunTables) else run_tables(run)
    return all_charts(t.weekly, t.rules, metrics, t.compare, labels=t.labels, budget=t.budget, real_terms=real_terms,
                      spread=spread_kind(t.manifest, t.scenarios))


# -- sensitivity ---------------------------------------------------------------------------------
LOW_COLOUR, HIGH_COLOUR = PALETTE[5], PALETTE[3]  # sky blue and vermillion: a setting at its low, at its high
TORNADO_ROWS = 15  # settings shown; the rest are listed in sensitivity.csv


def _axis_value(unit: str, v):
    """A measure's value on a chart axis: a share as %, money in £ million."""
    v = np.asarray(v, dtype=float)
    return 100 * v if unit == "share" else v / 1e6 if unit == "£" else v


def tornado_chart(result: SensitivityResult, measure: str) -> Chart:
    """A tornado chart of one measure (a :class:`workforce_sim.studies.sensitivity.SensitivityResult` with a tornado):
    for each uncertain setting, the measure with that setting at its low and at its high (the others
    central), largest swing at the top, around the value with every setting central."""

    m = MEASURE[measure]
    rows = result.ranking("tornado", measure).head(TORNADO_ROWS).iloc[::-1]
    central = float(rows["at_central"].iloc[0]) if len(rows) else np.nan
    unit_label = {"share": "% of simulated futures", "£": "£ million a year"}.get(m.unit, m.unit)
    fig, ax = plt.subplots(figsize=(9.5, 1.2 + 0.42 * max(len(rows), 1)), layout="constrained")
    c = float(_axis_value(m.unit, central))
    y = np.arange(len(rows))
    lows, highs = _axis_value(m.unit, rows["at_low"]), _axis_value(m.unit, rows["at_high"])
    ax.barh(y, lows - c, left=c, height=0.62, color=LOW_COLOUR, label="setting at its low")
    ax.barh(y, highs - c, left=c, height=0.62, color=HIGH_COLOUR, alpha=0.85, label="setting at its high")
    ax.axvline(c, color=THRESHOLD_GREY, linewidth=1.2)
    if m.unit == "share":
        ax.set_xlim(-2, 102)  # a chance runs from 0 to 100%: the whole scale, so a small swing looks small
    names = [_wrap(f"{_text(r['label'])} ({setting_at(r, 'low')} to {setting_at(r, 'high')})", 48)
             for _, r in rows.iterrows()]
    ax.set_yticks(y, names, fontsize=FONT_SIZE - 1)
    for yi, (_, r) in zip(y, rows.iterrows()):
        if not r["clear"]:
            note = "  no change" if r["index_ci95_high"] == 0 else "  could be chance"
            ax.text(max(c, lows[yi], highs[yi]), float(yi), note, va="center", fontsize=FONT_SIZE - 2,
                    color=THRESHOLD_GREY)
    title = f"{m.label}, with each uncertain setting at its low and at its high"
    fig.suptitle(_wrap(title, 90), fontsize=FONT_SIZE + 2, x=0.01, ha="left")
    ax.set_xlabel(f"{unit_label}; the line is every setting at its central value ({m.show(central)})",
                  fontsize=FONT_SIZE)
    ax.tick_params(labelsize=FONT_SIZE)
    ax.grid(True, axis="x", alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    fig.legend(handles=ax.get_legend_handles_labels()[0], fontsize=FONT_SIZE - 1, loc="outside lower right",
               ncols=2, frameon=False)
    top = rows.iloc[::-1]
    top = top[top["at_low"] != top["at_high"]]  # only settings that changed it
    bits = [f"{r['label']} from {m.show(r['at_low'])} at its low ({setting_at(r, 'low')}) to {m.show(r['at_high'])} "
            f"at its high ({setting_at(r, 'high')})" for _, r in top.head(3).iterrows()]
    n = result.manifest.get("replications")
    alt = (f"Tornado chart of {m.label[0].lower()}{m.label[1:]} for {result.scenario.label}, each uncertain setting at "
           f"its low and at its high with the others central, on the same {n} simulated futures. With every setting "
           f"central it is {m.show(central)}. " + ("The largest changes: " + "; ".join(bits) + "." if bits else
                                                    "No setting changed it."))
    return Chart(fig, title, alt)


def sensitivity_charts(source: SensitivityResult | Path) -> dict:
    """The charts of a sensitivity analysis (a result, or its folder), by file stem: a tornado chart of each
    measure when the tornado was run (each a :class:`workforce_sim.outputs.plots.Chart`)."""
    result = source if isinstance(source, SensitivityResult) else read_sensitivity(source)
    if "tornado" not in result.methods:
        return {}
    return {f"tornado-{m.name}": tornado_chart(result, m.name) for m in MEASURES}


def save_charts(charts: dict[str, Chart], folder: Path, fmt: str = "png") -> list[Path]:
    """Save ``charts`` into ``folder`` (which exists), each as NAME.FMT with its title and its description in words
    (for alt text) in the file's metadata, written atomically; each figure is closed once saved."""
    paths = []
    for name, chart in charts.items():
        path = folder / f"{name}.{fmt}"
        meta = {"Title": chart.title, "Description": chart.alt}
        # atomic_write calls the writer at once, while chart and meta are this chart's
        atomic_write(path, lambda fh: chart.figure.savefig(fh, format=fmt, dpi=120, metadata=meta), binary=True)
        plt.close(chart.figure)
        paths.append(path)
    return paths
