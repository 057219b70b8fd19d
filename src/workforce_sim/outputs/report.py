"""One self-contained HTML report of a run, for directors and finance officers.

In order: the answer in plain words, the key findings behind it, the options side
by side (a comparison), money by financial year, the charts, the assumptions, and
the method and its limits. The file embeds its charts as images and needs no
network, scripts or other files, so it can be e-mailed and opened offline.

Money is never printed as a negative number: a difference is "saves £X" or
"£X more".
"""

from __future__ import annotations

import base64
import html
import io
from functools import partial
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from ..analysis.breaches import MANAGEABLE_MEASURE, breach_rule
from ..analysis.formats import money, money_difference, money_difference_range, setting_text, standard_text
from ..analysis.measures import MEASURES
from ..analysis.money import financial_year_days
from ..analysis.payback import payback_by_option
from ..model.measures import COST_COLUMNS, COST_ITEMS
from ..runs.files import atomic_write
from ..runs.reading import RunTables, run_tables
from ..scenario.schema import Scenario
from ..scenario.uncertainty import in_percent, setting_value
from ..studies.sensitivity import is_sensitivity_folder, read_sensitivity
from .plots import (
    BY_TEAM,
    COST_BY_YEAR,
    COST_VS_OUTCOME,
    PLACEMENTS_CHART,
    SUSTAINED,
    Chart,
    charts_of_run,
    spread_kind,
    tornado_chart,
)
from .words import (
    METHOD_WORDS,
    beats_first,
    headline_lines,
    index_text,
    part_year_words,
    payback_sentence,
    plain_headline,
    recommendation,
    run_length,
    sensitivity_sentences,
    trajectory_line,
    uncertainty_line,
)

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Arial, sans-serif; max-width: 62rem; margin: 2rem auto;
       padding: 0 1rem; color: #1a1a1a; line-height: 1.5; }
h1 { font-size: 1.8rem; margin-bottom: 0.2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ccc; }
h3 { margin-top: 1.4rem; }
.note { background: #fff6e0; border-left: 4px solid #e69f00; padding: 0.6rem 1rem; }
.headline { font-size: 1.08rem; background: #eef5fb; border-left: 4px solid #0072b2; padding: 0.6rem 1rem; }
li { margin-bottom: 0.4rem; } img { max-width: 100%; height: auto; display: block; margin: 1rem 0; }
table { border-collapse: collapse; margin: 1rem 0; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.3rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f2f2f2; } td.num { text-align: right; white-space: nowrap; } \
tr.sum td, tr.sum th { font-weight: bold; }
small { color: #555; } .wide { overflow-x: auto; } td.effect { text-align: right; min-width: 7rem; }
summary { cursor: pointer; margin: 0.4rem 0; font-weight: bold; }
"""

UNCERTAINTY = {  # what the bands of the charts show, by what the run drew (see plots.spread_kind)
    None: ("The bands show chance variation between simulated futures with the same assumptions; they do not "
           "include uncertainty about the assumptions themselves."),
    "central": ("The bands show chance variation between simulated futures with the same assumptions: the "
                "scenario's uncertain settings (listed below) are at their central values, so the bands do not "
                "include what is not known about them. <code>workforce-sim run --uncertainty</code> draws them for "
                "each future, and <code>workforce-sim sensitivity</code> shows which of them decide the answer."),
    "drawn": ("The bands show what is not known as well as chance: each simulated future drew its own values of the "
              "uncertain settings (listed below, with their ranges), so futures differ both in their chance events "
              "and in those settings. Every other assumption is fixed."),
}
ITEMS = COST_COLUMNS  # the cost items as declared (model/measures.py), the total last
CHART_ORDER = [SUSTAINED, BY_TEAM, MANAGEABLE_MEASURE, "caseload_mean", COST_VS_OUTCOME, "unallocated_cases",
               "cp_unallocated", "assessments_overdue", "staff_fte_permanent", "staff_fte_agency", "staff_fte_asye",
               "vacancies_fte"]


# -- words and numbers ----------------------------------------------------------------------
def _e(text) -> str:
    """Text made safe for HTML (quotes too, so it can go in an attribute)."""
    return html.escape(str(text), quote=True)


def _difference(d: float) -> str:
    """A difference in cost from the first option, in millions: "saves £0.11m", "£0.17m more"."""
    return money_difference(d, partial(money, unit="m"), 0.01e6)


def _difference_interval(low: float, high: float) -> str:
    """The 95% interval of a cost difference, in millions: "from saving £0.20m to £0.10m more"."""
    return money_difference_range(low, high, partial(money, unit="m"))


def _weeks(d: float) -> str:
    """Weeks in breach avoided as words: "3 fewer", "2 more", "the same"."""
    n = round(abs(d))
    if n == 0:
        return "the same"
    return f"{n} fewer" if d > 0 else f"{n} more"


def _weeks_interval(low: float, high: float) -> str:
    """The 95% interval of weeks in breach avoided in words: "from 2 more to 1 fewer"."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return ""
    if round(low) == round(high) == 0:
        return "the same"
    return f"from {_weeks(low).replace('the same', 'no change')} to {_weeks(high).replace('the same', 'no change')}"


def _points(d: float) -> str:
    """A change in a chance as words: "12 points higher", "5 points lower", "the same"."""
    n = round(100 * abs(d))
    if n == 0:
        return "the same"
    return f"{n} point{'s' if n != 1 else ''} {'higher' if d > 0 else 'lower'}"


def _plain_name(key: str) -> str:
    """A settings key as a reader's words: "front_door" -> "Front door"."""
    text = str(key).replace("_", " ")
    return text[:1].upper() + text[1:]


def _png(fig, alt: str = "") -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, metadata={"Description": alt} if alt else None)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _img(chart: Chart) -> str:
    return f'<img alt="{_e(chart.alt)}" src="data:image/png;base64,{_png(chart.figure, chart.alt)}">'


# -- sections ---------------------------------------------------------------------------------
def headline_section(summary: pd.DataFrame, scns: list[Scenario], n: int, years: float | None = None,
                     drawn: bool = False) -> str:
    """The answer in plain words, one paragraph per scenario (HTML), and what its spread holds."""
    paras = []
    for s in scns:
        part = summary[summary["scenario"] == s.name]
        paras.append(f"<p class='headline'><b>{_e(s.label)}</b>: {_e(plain_headline(s, part, n, years))}</p>")
    spread = uncertainty_line(scns, drawn)
    if spread:
        paras.append(f"<p>{_e(spread)}</p>")
    return "<h2>Will caseloads stay manageable? The answer in plain words</h2>" + "".join(paras)


def findings(summary: pd.DataFrame, scns: list[Scenario], compare: pd.DataFrame | None, n: int) -> list[str]:
    """The key findings behind the headline, in plain words (HTML): the breach rule once when the scenarios
    share it, then one item per scenario, then (comparing) what each option costs and buys against the first."""
    out = []
    labels = {s.name: s.label for s in scns}
    rules = {s.name: breach_rule(s).describe() for s in scns}
    shared = len(set(rules.values())) == 1
    if shared:
        out.append(_e(rules[scns[0].name]))
    for s in scns:
        part = summary[summary["scenario"] == s.name]
        lines = [line for line in headline_lines(s, part, n) if not (shared and line == rules[s.name])]
        trend = trajectory_line(part)
        out.append(f"<b>{_e(s.label)}</b>: " + _e(" ".join(lines + ([trend] if trend else []))))
    if compare is not None and len(compare) > 1:
        ref = compare.iloc[0]
        for _, row in compare.iloc[1:].iterrows():
            more = row["cost_difference_per_year"]
            word = "more" if more >= 0 else "less"
            avoided = row["breach_weeks_avoided"]
            weeks = round(abs(avoided))
            buys = (f"and spends {weeks} fewer week{'s' if weeks != 1 else ''} in breach on average"
                    if avoided > 0.5 else
                    f"and spends {weeks} more week{'s' if weeks != 1 else ''} in breach on average"
                    if avoided < -0.5 else
                    "with about the same number of weeks in breach")
            unclear = [f"{what} {row[col]}" for what, col in (("weeks in breach", "outcome_vs_first"),
                                                               ("cost", "cost_vs_first"))
                       if str(row[col]).startswith("cannot")]  # a difference chance alone could give
            out.append(f"<b>{_e(labels[row['scenario']])}</b> costs {money(more)} a year {word} than "
                       f"{_e(labels[ref['scenario']])} {buys}" +
                       (f" (but {_e('; '.join(unclear))})" if unclear else "") + ".")
        out.append(recommendation(compare, labels, name=lambda s: f"<b>{_e(s)}</b>"))
    return out


def _rate_words(scns: list[Scenario], field: str) -> str:
    """A money setting shared by the scenarios ("3.5%"), or each scenario's ("3.5% for a; 3% for b")."""
    values = {s.label: getattr(s.costs, field) for s in scns}
    if len(set(values.values())) == 1:
        return setting_text(next(iter(values.values())), percent=True)
    return "; ".join(f"{setting_text(v, percent=True)} for {k}" for k, v in values.items())


def unclear_sentence(compare: pd.DataFrame, n: int) -> str | None:
    """A sentence naming the options that cannot be told apart from the first at this number of futures
    (on weeks in breach or on cost), or None when every difference is clear."""
    labels = dict(zip(compare["scenario"], compare["label"]))
    rows = compare.iloc[1:]
    bits = []
    for col, what in (("outcome_vs_first", "weeks in breach"), ("cost_vs_first", "cost")):
        who = [labels[s] for s, v in zip(rows["scenario"], rows[col]) if str(v).startswith("cannot")]
        if who:
            bits.append(f"on {what}: {'; '.join(who)}")
    if not bits:
        return None
    return (f"Some options cannot be told apart from {labels[compare.iloc[0]['scenario']]} with {n} simulated "
            f"futures ({'. '.join(bits)}): the difference could be chance. Run the comparison again with more "
            f"futures (for example --reps {max(4 * n, 40)}, or --precision 0.05) before choosing between them.")


def _ci(text: str) -> str:
    """A 95% interval under a value in a cell (HTML), or nothing when it says nothing the value does not."""
    if not text or text in ("the same", "from no change to no change"):
        return ""
    return f"<br><small>95% CI: {_e(text)}</small>"


def _or_reference(r, first: bool, fn) -> str:
    return "reference" if first else fn(r)


def _option_rows(scns: list[Scenario], drawn: bool) -> list[tuple[str, Callable]]:
    """The rows of the options table: (row heading, function of (an option's row, whether it is the first) ->
    its cell's HTML)."""
    return [
        ("Cost a year (cash, average over the run)", lambda r, f: money(r["cost_per_year"], "m")),
        ("Cost a year against the first",
         lambda r, f: _or_reference(r, f, lambda r: _difference(r["cost_difference_per_year"]))),
        (f"Net present cost of the run (real terms, discounted at {_rate_words(scns, 'discount_rate')} a year)",
         lambda r, f: money(r["net_present_cost"], "m") + _ci(
             f"{money(r['net_present_cost_ci95_low'], 'm')} to {money(r['net_present_cost_ci95_high'], 'm')}"
             if np.isfinite(r["net_present_cost_ci95_low"]) else "")),
        ("Net present cost against the first",
         lambda r, f: _or_reference(r, f, lambda r: _difference(r["net_present_cost_difference"]) + _ci(
             _difference_interval(r["net_present_cost_difference_ci95_low"],
                                  r["net_present_cost_difference_ci95_high"])))),
        ("Cost against the first, in words", lambda r, f: _or_reference(r, f, lambda r: _e(r["cost_vs_first"]))),
        ("Chance caseloads stay manageable for the whole run",
         lambda r, f: f"{r['p_sustained']:.0%}" + _ci(
             f"{r['p_sustained_ci95_low']:.0%} to {r['p_sustained_ci95_high']:.0%}")),
        ("Chance against the first",
         lambda r, f: _or_reference(r, f, lambda r: _points(r["p_sustained_difference"]) + _ci(
             f"from {_points(r['p_sustained_difference_ci95_low'])} to {_points(r['p_sustained_difference_ci95_high'])}"
             .replace("the same", "no change")
             if np.isfinite(r["p_sustained_difference_ci95_low"]) else ""))),
        ("Weeks in breach (average)", lambda r, f: f"{r['breach_weeks']:.0f}"),
        ("Weeks in breach against the first",
         lambda r, f: _or_reference(r, f, lambda r: _weeks(r["breach_weeks_avoided"]) + _ci(_weeks_interval(
             r["breach_weeks_avoided_ci95_low"], r["breach_weeks_avoided_ci95_high"])))),
        ("Weeks in breach against the first, in words",
         lambda r, f: _or_reference(r, f, lambda r: _e(r["outcome_vs_first"]))),
        ("Future by future against the first" + (" (each future with its own draw of the uncertain settings)"
                                                 if drawn else ""),
         lambda r, f: _or_reference(r, f, lambda r: _e(beats_first(r, drawn)) if "fewer_breach_weeks_share" in r
                                    else "-")),
        ("Caseload counting unallocated cases, last 13 weeks",
         lambda r, f: f"{r['caseload_incl_unallocated_end']:.1f}"),
        ("Caseload per FTE (DfE), last 13 weeks", lambda r, f: f"{r['caseload_mean_end']:.1f}"),
        ("Unallocated cases, last 13 weeks", lambda r, f: f"{r['unallocated_cases_end']:.0f}"),
        ("Agency share of staff, last 13 weeks", lambda r, f: f"{r['agency_share_pct_end']:.0f}%"),
    ]


def options_section(compare: pd.DataFrame, scns: list[Scenario], n: int, drawn: bool = False) -> str:
    """The options side by side: one column per option, the first the reference, with 95% intervals and
    each option's verdict against the first in words (HTML)."""
    labels = dict(zip(compare["scenario"], compare["label"]))
    rows = []  # the table's rows, as HTML
    head = "".join(f"<th>{_e(labels[s])}{' (the reference)' if i == 0 else ''}</th>"
                   for i, s in enumerate(compare["scenario"]))
    for title, fn in _option_rows(scns, drawn):
        cells = "".join(f"<td>{fn(r, i == 0)}</td>" for i, (_, r) in enumerate(compare.iterrows()))
        rows.append(f"<tr><th>{_e(title)}</th>{cells}</tr>")
    deflator = _rate_words(scns, "deflator_per_year")
    text = ["<h2>The options side by side</h2>",
            f"<p>Each option against the first, {_e(labels[compare.iloc[0]['scenario']])}, on the same {n} simulated "
            "futures; 95% confidence intervals (95% CI) under the values. Net present cost is the real-terms cost of "
            f"each financial year (prices deflated by {_e(deflator)} a year), discounted at "
            f"{_e(_rate_words(scns, 'discount_rate'))} a year (HM Treasury Green Book) to the run's first "
            "financial year, and added up. A saving is written as a saving.</p>",
            f"<div class='wide'><table><tr><th></th>{head}</tr>{''.join(rows)}</table></div>"]
    unclear = unclear_sentence(compare, n)
    if unclear:
        text.append(f"<p class='note'>{_e(unclear)}</p>")
    return "\n".join(text)


def _year_cell(fy: str, days: int) -> str:
    """A financial year as a table heading, a part year with its days."""
    if days >= financial_year_days(fy):
        return _e(fy)
    return f"{_e(fy)}<br><small>{part_year_words(days)}</small>"


def _with_interval(rows: pd.DataFrame, item: str, kind: str) -> str:
    """One budget.csv value in £m with its 95% interval under it in small print."""
    v = float(rows.loc[item, kind])
    lo, hi = float(rows.loc[item, f"{kind}_ci95_low"]), float(rows.loc[item, f"{kind}_ci95_high"])
    ci = f"<br><small>{money(lo, 'm')} to {money(hi, 'm')}</small>" if np.isfinite(lo) and np.isfinite(hi) else ""
    return money(v, "m") + ci


def money_table(budget: pd.DataFrame, scenario: str) -> str:
    """One scenario's cost by financial year from budget.csv (HTML): rows the financial years and the whole
    run; columns each cost item in cash, the total in cash and the total in real terms, each total with
    its 95% interval. (Every item in real terms is in budget.csv: within a year all items are deflated alike.)"""
    part = budget[budget["scenario"] == scenario]
    years = list(dict.fromkeys(part["financial_year"].astype(str)))
    prices = str(part["prices"].iloc[0]) if len(part) else ""
    heads = "".join(f"<th>{COST_ITEMS[i]}</th>" for i in ITEMS[:-1])
    head = (f"<tr><th rowspan='2'>Financial year</th><th colspan='{len(ITEMS)}'>Cash</th>"
            f"<th rowspan='2'>Total in real terms<br><small>{_e(prices)}</small></th></tr>"
            f"<tr>{heads}<th>Total</th></tr>")
    body, sums = [], dict.fromkeys(ITEMS + ["real_terms"], 0.0)
    for fy in years:
        rows = part[part["financial_year"].astype(str) == fy].set_index("item")
        cells = []
        for item in ITEMS[:-1]:
            v = float(rows.loc[item, "cash"]) if item in rows.index else np.nan
            sums[item] += 0.0 if np.isnan(v) else v
            cells.append(f"<td class='num' data-item='{item}'>{money(v, 'm')}</td>")
        sums["cost_total"] += float(rows.loc["cost_total", "cash"])
        sums["real_terms"] += float(rows.loc["cost_total", "real_terms"])
        cells.append(f"<td class='num' data-item='cost_total'>{_with_interval(rows, 'cost_total', 'cash')}</td>")
        cells.append(f"<td class='num' data-item='real_terms'>{_with_interval(rows, 'cost_total', 'real_terms')}</td>")
        body.append(f"<tr data-year='{_e(fy)}'><th>{_year_cell(fy, int(rows['days'].iloc[0]))}</th>"
                    f"{''.join(cells)}</tr>")
    total = "".join(f"<td class='num'>{money(sums[k], 'm')}</td>" for k in ITEMS + ["real_terms"])
    body.append(f"<tr class='sum'><th>Whole run</th>{total}</tr>")
    return f"<table class='money' data-scenario='{_e(scenario)}'>{head}{''.join(body)}</table>"


def money_options_table(budget: pd.DataFrame, scns: list[Scenario]) -> str:
    """The total cost of each option by financial year, side by side (HTML): cash, with real terms under it."""
    tot = budget[budget["item"] == "cost_total"]
    years = list(dict.fromkeys(tot["financial_year"].astype(str)))
    head = "<tr><th>Financial year</th>" + "".join(f"<th>{_e(s.label)}</th>" for s in scns) + "</tr>"
    body = []
    for fy in years + ["Whole run"]:
        rows = tot if fy == "Whole run" else tot[tot["financial_year"].astype(str) == fy]
        cells = []
        for s in scns:
            mine = rows[rows["scenario"] == s.name]
            cells.append(f"<td class='num'>{money(mine['cash'].sum(), 'm')}<br>"
                         f"<small>{money(mine['real_terms'].sum(), 'm')} real</small></td>")
        name = "Whole run" if fy == "Whole run" else _year_cell(fy, int(rows["days"].max()))
        body.append(f"<tr{' class=sum' if fy == 'Whole run' else ''}><th>{name}</th>{''.join(cells)}</tr>")
    return f"<div class='wide'><table class='money-options'>{head}{''.join(body)}</table></div>"


def money_section(t: RunTables, chart: Chart | None) -> str:
    """Money as finance reads it: cost by financial year (April to March) in cash and real terms, as
    tables and a bar chart (HTML). A comparison shows the options' totals side by side, with each
    option's items in a section to open."""
    parts = ["<h2>Money: cost by financial year</h2>"]
    if t.budget is None:
        parts.append("<p class='note'>This run has no budget.csv (it was made by an older version of workforce_sim): "
                     "run it again to see its costs by financial year.</p>")
        return "\n".join(parts)
    prices = str(t.budget["prices"].iloc[0])
    n = t.weekly["replication"].nunique()
    parts.append(
        f"<p>The cost of the service in each financial year (April to March): the average over the {n} simulated "
        f"futures. <b>Cash</b> is the money spent, at each year's own pay and prices. <b>Real terms</b>: "
        f"{_e(prices)}, deflated by {_e(_rate_words(t.scenarios, 'deflator_per_year'))} a year. £m is million "
        "pounds. " + ("In the table of totals the small print is the same total in real terms; in each option's "
                      "table, small print" if len(t.scenarios) > 1 else "Small print") +
        " under a total is its 95% confidence interval. Investments (levers) are what the scenario's levers "
        "cost: their running costs and their costs per unit (a payment, a starter, a foster place, a move). "
        "A year the run covers only in part is marked with its days. Every item in real terms is in the run's "
        "budget.csv.</p>")
    if len(t.scenarios) == 1:
        parts.append(f"<div class='wide'>{money_table(t.budget, t.scenarios[0].name)}</div>")
        if chart is not None:
            parts.append(_img(chart))
        return "\n".join(parts)
    parts.append("<h3>Total cost of each option</h3>" + money_options_table(t.budget, t.scenarios))
    if chart is not None:
        parts.append(_img(chart))
    parts.append("<h3>Each option's costs by item</h3>")
    for s in t.scenarios:
        parts.append(f"<details><summary>{_e(s.label)}</summary><div class='wide'>{money_table(t.budget, s.name)}"
                     "</div></details>")
    return "\n".join(parts)


def payback_section(payback: pd.DataFrame, labels: dict[str, str], n: int) -> str:
    """Cost against the first by financial year (HTML): for each option, its extra cost in each year and added
    up to the year's end (cash, with 95% intervals), and under its columns when it pays back in words."""
    first = str(payback["against"].iloc[0])
    first_label = labels.get(first, first)
    options = payback_by_option(payback)
    names = [labels.get(s, s) for s in options["scenario"]]
    head = ("<tr><th rowspan='2'>Financial year</th>" + "".join(f"<th colspan='2'>{_e(x)}</th>" for x in names)
            + "</tr><tr>" + "<th>In the year</th><th>Added up to the year's end</th>" * len(names) + "</tr>")
    years = list(dict.fromkeys(payback["financial_year"].astype(str)))
    body = []
    for fy in years:
        rows = payback[payback["financial_year"].astype(str) == fy].set_index("scenario")
        cells = []
        for s in options["scenario"]:
            for kind in ("difference_cash", "cumulative_cash"):
                if s not in rows.index:
                    cells.append("<td class='num'>-</td>")
                    continue
                r = rows.loc[s]
                lo, hi = r[f"{kind}_ci95_low"], r[f"{kind}_ci95_high"]
                cells.append(f"<td class='num' data-scenario='{_e(s)}' data-kind='{kind}'>{_difference(r[kind])}"
                             f"{_ci(_difference_interval(lo, hi) if lo < hi else '')}</td>")  # none if all alike
        body.append(f"<tr data-year='{_e(fy)}'><th>{_year_cell(fy, int(rows['days'].max()))}</th>{''.join(cells)}"
                    "</tr>")
    said = "".join(f"<td colspan='2' data-scenario='{_e(o['scenario'])}'>"
                   f"{_e(payback_sentence(o, first_label, partial(money, unit='m'), 0.01e6, interval=True))}</td>"
                   for _, o in options.iterrows())
    body.append(f"<tr class='sum'><th>When it pays back</th>{said}</tr>")
    return (f"<h3>Cost against {_e(first_label)} by financial year</h3>"
            f"<p>Each option's cost less {_e(first_label)}'s, in cash, future by future on the same {n} simulated "
            "futures: the average, with its 95% confidence interval in small print, in each year and added up to "
            f"the year's end. An option pays back in the first financial year at whose end it has cost no more than "
            f"{_e(first_label)} so far, on average, and does not cost more again before the run ends; the futures "
            "paid back are those in which, by the end of the run, it has cost no more. The same in real terms is in "
            "the run's payback.csv and its workbook.</p>"
            f"<div class='wide'><table class='payback'>{head}{''.join(body)}</table></div>")


def assumptions(scns: list[Scenario]) -> pd.DataFrame:
    """The main assumptions of each scenario, side by side (columns: scenario names)."""
    rows = {}
    changed = any(s.changes for s in scns)
    for s in scns:
        wf = s.workforce
        col = {}
        if changed:
            col["Changed for this run"] = "; ".join(s.changes) or "nothing"
        col |= {
            "Start date": f"{s.start_date:%-d %B %Y}",
            "Contacts a year (at the start)": f"{sum(x.contacts_per_year for x in s.demand.sources.values()):,.0f}",
            "Growth in contacts a year": f"{s.demand.trend_per_year:.0%}",
            "Funded posts": "; ".join(f"{_plain_name(t)}: {sum(team.posts.values()):g} posts"
                                      for t, team in s.teams.items()),
            "Staff in post at the start": f"{sum(g.count for g in s.staff)}",
            "Manageable caseload": f"{standard_text(s.standards.manageable_caseload)} cases per FTE, unallocated "
                                   f"cases counted; a breach is {s.standards.breach_weeks} weeks above it in a row, "
                                   f"in any team",
            "Allocation": f"up to {wf.allocation.ceiling_share:.0%} of capacity before cases wait; "
                          f"waiting cases in the order {', '.join(wf.allocation.priority)}",
            "Drift": (f"plans ({', '.join(s.cases.drift.plans)}) slow by {s.cases.drift.effect:g} per unit of pressure "
                      "over capacity and stop while unallocated") if s.cases.drift.plans else "none",
            "Agency above the establishment": (f"up to {wf.agency.project_share_of_posts:.0%} of a team's posts under "
                                               f"pressure above {wf.agency.project_pressure:g}")
                                              if wf.agency.project_share_of_posts else "none",
            "Social workers leaving a year (permanent)": f"{wf.turnover.permanent_per_year['social_worker']:.0%}",
            "Agency leaving a year": f"{wf.turnover.agency_per_year:.0%}",
            "Recruitment round": f"{wf.recruitment.time_to_hire_weeks.mean_value:.0f} weeks; "
                                 f"{wf.recruitment.round_failure_share:.0%} fail",
            "Agency cover": f"{wf.agency.cover_share:.0%} of vacancies, at most "
                            f"{wf.agency.max_share_of_posts:.0%} of posts",
            "Newly qualified cohort": f"{wf.recruitment.nqsw_cohort_size} a year",
            "Re-referral chance after closure": f"{s.re_referral.probability:.0%} before pressure factors",
            "Levers": "; ".join(f"{lv.label or lv.type} from {lv.start}" + (f" to {lv.end}" if lv.end else "")
                                + (f", {money(lv.cost_per_year)} a year" if lv.cost_per_year else "")
                                for lv in s.levers) or "none",
            "Real terms and discounting": (
                f"prices deflated by {setting_text(s.costs.deflator_per_year, percent=True)} a year; net present "
                f"cost discounted at {setting_text(s.costs.discount_rate, percent=True)} a year"),
            "Uncertain settings (central value; range)": "; ".join(
                f"{spec.label or key}: {_central(s, key)} ({_range(s, key)})" for key, spec in s.uncertain.items())
                or "none",
        } | care_assumptions(s)
        rows[s.name] = col
    return pd.DataFrame(rows)


def care_assumptions(s: Scenario) -> dict[str, str]:
    """The main assumptions about children in care (none without a [care] section)."""
    c = s.care
    if c is None:
        return {"Children in care": "a headcount on the caseload, at no cost (no [care] section)"}
    price = c.weekly_price
    p = c.proceedings
    return {
        "Placements a week (at the start)": (
            f"own foster carers {money(price['in_house_foster'])}, agency foster carers "
            f"{money(price['agency_foster'])}, own children's homes {money(price['in_house_home'])}, private "
            f"children's homes {money(price['external_home'])}, supported accommodation {money(price['supported'])}; "
            f"rising {c.price_growth_per_year:.0%} a year (children's homes {c.residential_growth_per_year:.0%} more)"),
        "The council's own places": (f"{c.foster_places.places} foster places ({c.foster_places.recruited_per_year:g} "
                                     f"approved and {c.foster_places.lost_per_year:.0%} lost a year); "
                                     f"{c.home_places.places} children's home beds"),
        "Care proceedings": (f"{p.share_of_entries:.0%} of children starting care; {p.duration_weeks.mean_value:.0f} "
                             f"weeks on average; {money(p.legal_cost)} each"),
        "Care leavers": (f"{c.leavers.at_start} at the start, supported to 21 ({c.leavers.to_25_share:.0%} to 25), "
                         f"{money(c.leavers.cost_per_year)} a year each"),
    }


def _central(scn: Scenario, key: str) -> str:

    return setting_text(setting_value(scn, key), in_percent(scn, key))


def _range(scn: Scenario, key: str) -> str:

    percent = in_percent(scn, key)
    return scn.uncertain[key].describe(lambda v: setting_text(v, percent))


METHOD = """
<p>workforce_sim is a discrete-event simulation of the council's children's social care service: contacts
arriving at the front door, referrals, assessments, section 47 enquiries and child protection conferences,
plans and children in care, re-referrals, and the social workers who hold the cases, with their leaving,
recruitment, agency cover, absence and newly qualified cohorts. Each scenario is run many times
(<i>simulated futures</i>) with different chance events {{assumptions}}; all scenarios in a run
share their chance events, so differences between them come from the scenarios.</p>
<p>The DfE's caseload is cases held per case-holding FTE; it cannot see children waiting for a social
worker. "Manageable" here counts them: it is allocated plus unallocated cases per case-holding FTE, at or
below the scenario's threshold, and caseloads stop being manageable (a breach) when that measure stays above
the threshold for several weeks running (four by default), or when cases are open and nobody holds cases.
There is no national cap, and individual workers can be above the threshold while the average is not.
Intervals are 95% confidence intervals over the simulated futures: {{intervals}}</p>
<p><b>Limits.</b> The results are only as good as the scenario's figures. The bundled scenarios are
illustrative: their rates come from national statistics for England and their effect sizes for investments
are assumptions, many without a published source (see the project's docs/levers.md). The model leaves out,
among other things, the quality of practice, children's outcomes, placement moves other than to adopters or
after losing an in-house place, pre-proceedings work, any effect of caseload pressure on placements, and changes
in demand caused by anything outside the scenario. Children in care's placements, court proceedings and care
leavers are costed at the scenario's prices. Use it to compare options and to see how
fragile a position is, not as a forecast.</p>
"""
METHOD_WORDS_BY_SPREAD = {  # (how futures differ, what the intervals show), by what the run drew
    None: ("but the same assumptions", "they show chance variation between futures with the same assumptions, not "
                                       "uncertainty about the assumptions themselves."),
    "central": ("but the same assumptions (the uncertain settings at their central values)",
                "they show chance variation between futures with the same assumptions, not uncertainty about the "
                "assumptions themselves (see <code>workforce-sim sensitivity</code> and <code>run "
                "--uncertainty</code>)."),
    "drawn": ("and, for each uncertain setting, a value of its own drawn from the range the scenario file gives "
              "(a probabilistic sensitivity analysis); every other assumption is the same",
              "they show chance and what is not known about the uncertain settings together; every other "
              "assumption is taken as known."),
}


def method_text(spread: str | None) -> str:
    """The method and its limits (HTML), saying what the simulated futures share and what the intervals show."""
    futures, intervals = METHOD_WORDS_BY_SPREAD[spread]
    return METHOD.replace("{{assumptions}}", futures).replace("{{intervals}}", intervals)


def build_report(run_dir: Path) -> str:
    """The report's HTML for the run in ``run_dir`` (as written by ``run`` or ``compare``)."""
    t = run_tables(Path(run_dir))
    scns, summary, manifest, compare = t.scenarios, t.summary, t.manifest, t.compare
    spread = spread_kind(manifest, scns)
    charts = charts_of_run(t)
    cost_chart, care_chart = charts.pop(COST_BY_YEAR, None), charts.pop(PLACEMENTS_CHART, None)
    n = t.weekly["replication"].nunique()
    years = manifest.get("years")
    who = (f"Scenario: {_e(scns[0].label)}." if len(scns) == 1 else
           "Options compared, the first being the reference: " + "; ".join(_e(s.label) for s in scns) + ".")
    span = f"{years:g} years" if isinstance(years, (int, float)) else "the run"
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
             f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
             f"<title>workforce_sim report: {_e('; '.join(s.label for s in scns))}</title>"
             f"<style>{CSS}</style></head><body>",
             "<h1>Will caseloads stay manageable?</h1>",
             f"<p>{who} {n} simulated futures of {span} from {scns[0].start_date:%-d %B %Y}. Produced by "
             f"workforce_sim {_e(manifest.get('workforce_sim_version'))} on "
             f"{_e(str(manifest.get('started_utc', ''))[:10])} (seed {_e(manifest.get('seed'))}).</p>",
             headline_section(summary, scns, n, years, spread == "drawn"),
             "<p class='note'>These results depend on the scenario's assumptions (listed below). The scenarios "
             "that come with workforce_sim are illustrative, not any council's own data.</p>",
             "<h2>Key findings</h2><ul>"
             + "".join(f"<li>{f}</li>" for f in findings(summary, scns, compare, n)) + "</ul>"]
    if compare is not None:
        parts.append(options_section(compare, scns, n, spread == "drawn"))
    parts.append(money_section(t, cost_chart))
    if t.payback is not None and len(t.payback):
        parts.append(payback_section(t.payback, t.labels, n))
    if care_chart is not None:
        parts.append("<h3>Children in care: where they live</h3><p>Placements are the largest line of the budget: "
                     "each child costs the weekly price of where they live. " + _img(care_chart) + "</p>")
    parts.append(f"<h2>Charts</h2><p>{UNCERTAINTY[spread]} Each scenario keeps its colour on every chart.</p>")
    for key in [k for k in CHART_ORDER if k in charts] + [k for k in charts if k not in CHART_ORDER]:
        parts.append(_img(charts[key]))
    table = assumptions(scns)
    head = "".join(f"<th>{_e(c)}</th>" for c in table.columns)
    body = "".join(f"<tr><th>{_e(i)}</th>" + "".join(f"<td>{_e(v)}</td>" for v in row) + "</tr>"
                   for i, row in table.iterrows())
    parts.append(f"<h2>Assumptions</h2><div class='wide'><table><tr><th></th>{head}</tr>{body}</table></div>")
    parts.append(f"<h2>Method and its limits</h2>{method_text(spread)}</body></html>")
    return "\n".join(parts)


def write_report(run_dir: Path, out: Path | None = None) -> Path:
    """Write the report of the run in ``run_dir`` to ``out`` (default ``run_dir/report.html``); return its path."""

    out = Path(out) if out else Path(run_dir) / "report.html"
    text = build_sensitivity_report(run_dir) if is_sensitivity_folder(run_dir) else build_report(run_dir)
    atomic_write(out, lambda fh: fh.write(text))
    return out


# -- a sensitivity analysis -------------------------------------------------------------------
SENSITIVITY_METHOD = """
<p>Each uncertain setting is one number the scenario file gives as a range or a distribution instead of a
single value (<code>{ uncertain = "uniform", low = 0.5, high = 2.5 }</code>). Everything else in the scenario
is held as it is, including the staff and open cases on the start date: those are the service as it stands,
not assumptions (so part of a change at a setting's low or high is the service moving, over the run, towards
where it would settle with that value). The scenario was run at many combinations of the settings' values, \
every combination on
the same simulated futures (the same chance events), so the differences between combinations come from the
settings, and a setting that cannot affect a measure gets exactly zero.</p>
<ul>
<li><b>One at a time</b> (the tornado): each setting at its low and at its high, the others at their central
values. Its change is the difference between the two, averaged over the futures, with a 95% interval from
the futures' paired differences; "could be chance" means that interval includes no change. Quick and easy to
read, but it cannot see a setting that matters only when another is also away from its centre.</li>
<li><b>Morris screening</b> (Morris 1991; mu* from Campolongo, Cariboni and Saltelli 2007): trajectories
through a grid of each setting's values (its quantiles 0, 1/3, 2/3 and 1), moving one setting at a time. mu* is
the average size of the change in a measure across a setting's whole range, over the other settings'
values; sigma, in sensitivity.csv, is large when a setting's effect depends on the others or is not straight.
Its interval is a bootstrap over the trajectories (how much the effect varies over the space). "Could be
chance" means a test that flips the sign of each future's change, as chance alone would, gives a mu* as large
at least 1 time in 20 (<code>p_chance</code> in sensitivity.csv); with one future per combination the test cannot
tell an effect from chance.</li>
<li><b>Sobol indices</b> (Saltelli and others 2010): the share of a measure's variation, over the settings'
distributions, that a setting accounts for alone (first order, in sensitivity.csv) and with its interactions
(total, shown here), with bootstrap 95% intervals. It needs the most runs; its estimates are rough with few
samples and can even come out below 0 or above 1.</li>
</ul>
<p>The designs and indices are computed with SALib. The ranges are themselves assumptions: a setting given a
wide range will look more important than one given a narrow range. The measures are the chance that caseloads
stay manageable for the whole run (the headline answer), the weeks before caseloads first become unmanageable
(the whole run when they never do), the caseload counting unallocated cases over the last 13 weeks, and the
cost a year in cash. Every number is in sensitivity.csv (each method, measure and setting) and points.csv
(each combination tried and its results).</p>
"""


def _sensitivity_table(result, method: str) -> str:
    """One method's ranking (HTML): each setting's range and its effect on each measure, ranked by the chance."""

    rows = result.ranking(method, "p_sustained")
    table = result.table[result.table["method"] == method].set_index(["setting", "measure"])
    heads = "".join(f"<th>{_e(m.short)}</th>" for m in MEASURES)
    body = []
    for _, r in rows.iterrows():
        cells = []
        for m in MEASURES:
            row = table.loc[(r["setting"], m.name)]
            value = index_text(method, row, m)
            if method == "tornado":
                ci = (f"{m.change(row['effect_ci95_low'])} to {m.change(row['effect_ci95_high'])}"
                      if row["effect"] != 0 else "")
                detail = f"<br><small>{_e(m.show(row['at_low']))} at the low, {_e(m.show(row['at_high']))} at the high"
                detail += f"; 95% CI {_e(ci)}</small>" if ci else "</small>"
            elif value == "no change":
                detail = ""
            elif method == "morris":
                detail = (f"<br><small>over the trajectories, 95% CI {_e(m.change(row['index_ci95_low']).lstrip('+'))} "
                          f"to {_e(m.change(row['index_ci95_high']).lstrip('+'))}</small>")
            else:
                detail = f"<br><small>95% CI {row['index_ci95_low']:.2f} to {row['index_ci95_high']:.2f}</small>"
            mark = "" if row["clear"] or value == "no change" else " <small>(could be chance)</small>"
            cells.append(f"<td class='effect'>{_e(value)}{mark}{detail}</td>")
        source = str(r["source"]) if str(r["source"]).strip() not in ("", "nan") else "no source given"
        body.append(f"<tr><td>{int(r['rank'])}</td><th>{_e(r['label'])}<br><small><code>{_e(r['setting'])}</code>; "
                    f"{_e(r['distribution'])}; {_e(source)}</small></th>{''.join(cells)}</tr>")
    return (f"<div class='wide'><table class='sensitivity' data-method='{method}'><tr><th>Rank</th><th>Setting</th>"
            f"{heads}</tr>{''.join(body)}</table></div>")


SENSITIVITY_INTRO = {
    "tornado": "The change in each measure when a setting goes from its low to its high, the others at their central "
               "values (a chance changes in percentage points). \"No change\": none in any future; \"could be "
               "chance\": the 95% interval of the change over the futures includes no change.",
    "morris": "mu*: the average size of the change in each measure across a setting's whole range, over the other "
              "settings' values.",
    "sobol": "Total Sobol indices: the share of each measure's variation a setting accounts for, with its "
             "interactions (0 to 1).",
}


def build_sensitivity_report(folder: Path) -> str:
    """The report's HTML for the sensitivity analysis in ``folder`` (as written by ``sensitivity``)."""

    result = read_sensitivity(Path(folder))
    scn, manifest = result.scenario, result.manifest
    n = manifest.get("replications")
    years = manifest["years"]
    methods = result.methods
    sizes = manifest.get("design_points") or {}
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
             f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
             f"<title>workforce_sim sensitivity: {_e(scn.label)}</title><style>{CSS}</style></head><body>",
             "<h1>Which assumptions decide the answer?</h1>",
             f"<p>Scenario: {_e(scn.label)}, from {scn.start_date:%-d %B %Y}, {_e(run_length(years))}. "
             f"{len(manifest.get('settings', []))} uncertain settings; "
             + "; ".join(f"{METHOD_WORDS[m]}: {sizes.get(m, '?')} combinations of their values" for m in methods)
             + f"; each combination on the same {n} simulated futures. Produced by workforce_sim "
             f"{_e(manifest.get('workforce_sim_version'))} on {_e(str(manifest.get('started_utc', ''))[:10])} (seed "
             f"{_e(manifest.get('seed'))}).</p>",
             "<h2>The answer in plain words</h2>",
             f"<p class='headline'>{_e(' '.join(sensitivity_sentences(result)))}</p>",
             "<p class='note'>The ranges are assumptions too: the scenarios that come with workforce_sim are "
             "illustrative, and a setting given a wider range looks more important.</p>"]
    central = manifest.get("central")
    if central:
        parts.append("<p>With every setting at its central value: " + "; ".join(
            f"{_e(m.label[0].lower() + m.label[1:])} {_e(m.show(central[m.name]))}" for m in MEASURES) + ".</p>")
    if "tornado" in methods:
        parts.append("<h2>One at a time</h2><p>" + SENSITIVITY_INTRO["tornado"] + "</p>")
        for m in MEASURES[:1] + MEASURES[2:3]:
            parts.append(_img(tornado_chart(result, m.name)))
        more = "".join(_img(tornado_chart(result, m.name)) for m in (MEASURES[1], MEASURES[3]))
        parts.append("<details><summary>The weeks before the first breach and the cost a year</summary>"
                     f"{more}</details>")
        parts.append(_sensitivity_table(result, "tornado"))
    for method in [m for m in methods if m != "tornado"]:
        title = {"morris": "Morris screening", "sobol": "Sobol indices"}[method]
        parts.append(f"<h2>{title}</h2><p>{SENSITIVITY_INTRO[method]} Ranked by the chance caseloads stay manageable "
                     "(then by the caseload at the end).</p>")
        parts.append(_sensitivity_table(result, method))
    parts.append(f"<h2>Method and its limits</h2>{SENSITIVITY_METHOD}</body></html>")
    return "\n".join(parts)
