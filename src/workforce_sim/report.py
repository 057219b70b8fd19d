"""One self-contained HTML report of a run, for directors: findings in words, charts, assumptions, method.

The file embeds its charts as images and needs no network, scripts or other
files, so it can be e-mailed and opened offline.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import pandas as pd

from .analysis import compare_table
from .files import atomic_write
from .plots import all_charts
from .results import MANAGEABLE_MEASURE, breach_rules, read_run
from .words import headline_lines, trajectory_line
from .schema import Scenario

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Arial, sans-serif; max-width: 60rem; margin: 2rem auto;
       padding: 0 1rem; color: #1a1a1a; line-height: 1.5; }
h1 { font-size: 1.8rem; margin-bottom: 0.2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ccc; }
.note { background: #fff6e0; border-left: 4px solid #e69f00; padding: 0.6rem 1rem; }
li { margin-bottom: 0.4rem; } img { max-width: 100%; height: auto; display: block; margin: 1rem 0; }
table { border-collapse: collapse; margin: 1rem 0; font-size: 0.92rem; }
th, td { border: 1px solid #ccc; padding: 0.3rem 0.6rem; text-align: left; vertical-align: top; }
th { background: #f2f2f2; } td.num { text-align: right; }
"""


def _png(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _money(x: float) -> str:
    return f"£{x / 1e6:,.2f} million" if abs(x) >= 1e6 else f"£{x:,.0f}"


def findings(summary: pd.DataFrame, scns: list[Scenario], compare: pd.DataFrame | None, n: int) -> list[str]:
    """The key findings, in plain words (HTML)."""
    out = []
    for s in scns:
        part = summary[summary["scenario"] == s.name]
        lines = headline_lines(s, part, n)
        trend = trajectory_line(part)
        out.append(f"<b>{html.escape(s.name)}</b>: " + html.escape(" ".join(lines)))
        if trend:
            out.append(f"<b>{html.escape(s.name)}</b>: " + html.escape(trend))
    if compare is not None and len(compare) > 1:
        ref = compare.iloc[0]
        for _, row in compare.iloc[1:].iterrows():
            more = row["cost_difference_per_year"]
            word = "more" if more >= 0 else "less"
            avoided = row["breach_weeks_avoided"]
            buys = (f"and spends {avoided:.0f} fewer weeks in breach on average"
                    if avoided > 0.5 else
                    f"and spends {-avoided:.0f} more weeks in breach on average" if avoided < -0.5 else
                    "with about the same number of weeks in breach")
            out.append(f"<b>{html.escape(row['scenario'])}</b> costs {_money(abs(more))} a year {word} than "
                       f"{html.escape(ref['scenario'])} {buys}.")
        good = compare[compare["p_sustained"] >= 0.9]
        if len(good):
            best = good.sort_values("cost_per_year").iloc[0]
            out.append(f"The cheapest option that keeps caseloads manageable in at least 90% of futures is "
                       f"<b>{html.escape(best['scenario'])}</b> ({_money(best['cost_per_year'])} a year).")
        else:
            out.append("No option compared keeps caseloads manageable in 90% of simulated futures.")
    return out


def assumptions(scns: list[Scenario]) -> pd.DataFrame:
    """The main assumptions of each scenario, side by side."""
    rows = {}
    for s in scns:
        wf = s.workforce
        col = {
            "Start date": str(s.start_date),
            "Contacts a year (at the start)": f"{sum(x.contacts_per_year for x in s.demand.sources.values()):,.0f}",
            "Growth in contacts a year": f"{s.demand.trend_per_year:.0%}",
            "Funded posts": ", ".join(f"{t}: {sum(team.posts.values())}" for t, team in s.teams.items()),
            "Staff in post at the start": f"{sum(g.count for g in s.staff)}",
            "Manageable caseload": f"{s.standards.manageable_caseload:g} cases per FTE, unallocated cases counted; "
                                   f"a breach is {s.standards.breach_weeks} weeks above it in a row",
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
            "Agency cover": f"{wf.agency.cover_share:.0%} of vacancies, at most {wf.agency.max_share_of_posts:.0%} of posts",
            "Newly qualified cohort": f"{wf.recruitment.nqsw_cohort_size} a year",
            "Re-referral chance after closure": f"{s.re_referral.probability:.0%} before pressure factors",
            "Levers": "; ".join(f"{lv.label or lv.type} from {lv.start}" + (f" to {lv.end}" if lv.end else "")
                                + (f", {_money(lv.cost_per_year)} a year" if lv.cost_per_year else "")
                                for lv in s.levers) or "none",
        }
        rows[s.name] = col
    return pd.DataFrame(rows)


METHOD = """
<p>workforce_sim is a discrete-event simulation of the council's children's social care service: contacts
arriving at the front door, referrals, assessments, section 47 enquiries and child protection conferences,
plans and children in care, re-referrals, and the social workers who hold the cases, with their leaving,
recruitment, agency cover, absence and newly qualified cohorts. Each scenario is run many times
(<i>simulated futures</i>) with different chance events but the same assumptions; all scenarios in a run
share their chance events, so differences between them come from the scenarios.</p>
<p>The DfE's caseload is cases held per case-holding FTE; it cannot see children waiting for a social
worker. "Manageable" here counts them: it is allocated plus unallocated cases per case-holding FTE, at or
below the scenario's threshold, and caseloads stop being manageable (a breach) when that measure stays above
the threshold for several weeks running (four by default), or when cases are open and nobody holds cases.
There is no national cap, and individual workers can be above the threshold while the average is not.
Intervals are 95% confidence intervals over the simulated futures.</p>
<p><b>Limits.</b> The results are only as good as the scenario's figures. The bundled scenarios are
illustrative: their rates come from national statistics for England and their effect sizes for investments
are assumptions, many without a published source (see the project's docs/levers.md). The model leaves out,
among other things, the quality of practice, children's outcomes, placement sufficiency and costs, court work,
and changes in demand caused by anything outside the scenario. Use it to compare options and to see how
fragile a position is, not as a forecast.</p>
"""


def build_report(run_dir: Path) -> str:
    """The report's HTML for the run in ``run_dir`` (as written by ``run`` or ``compare``)."""
    run_dir = Path(run_dir)
    weekly, summary, manifest = read_run(run_dir)
    weekly["date"] = pd.to_datetime(weekly["date"]).dt.date
    scns = [Scenario.model_validate(s) for s in manifest["scenarios"]]
    rules = breach_rules(scns)
    compare = compare_table(weekly, rules) if len(scns) > 1 else None
    charts = all_charts(weekly, rules, compare=compare)
    order = ["p_sustained", MANAGEABLE_MEASURE, "caseload_mean", "cost_vs_outcome", "unallocated_cases", "cp_unallocated",
             "assessments_overdue",
             "staff_fte_permanent", "staff_fte_agency", "staff_fte_asye", "vacancies_fte", "cost_total"]
    n = weekly["replication"].nunique()
    years = manifest.get("years")
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
             f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
             f"<title>workforce_sim report: {html.escape(', '.join(s.name for s in scns))}</title>"
             f"<style>{CSS}</style></head><body>",
             "<h1>Will caseloads stay manageable?</h1>",
             f"<p>{html.escape(', '.join(s.name for s in scns))}: {n} simulated futures of {years:g} years from "
             f"{scns[0].start_date:%-d %B %Y}. Produced by workforce_sim {html.escape(str(manifest.get('workforce_sim_version')))} "
             f"on {html.escape(str(manifest.get('started_utc', ''))[:10])} (seed {manifest.get('seed')}).</p>",
             "<p class='note'>These results depend on the scenario's assumptions (listed below). The scenarios that come "
             "with workforce_sim are illustrative, not any council's own data.</p>",
             "<h2>Key findings</h2><ul>" + "".join(f"<li>{f}</li>" for f in findings(summary, scns, compare, n)) + "</ul>",
             "<h2>Charts</h2>"]
    for key in order:
        if key in charts:
            parts.append(f"<img alt='{html.escape(key.replace('_', ' '))} chart' src='data:image/png;base64,{_png(charts.pop(key))}'>")
    for key, fig in charts.items():
        parts.append(f"<img alt='{html.escape(key.replace('_', ' '))} chart' src='data:image/png;base64,{_png(fig)}'>")
    if compare is not None:
        cols = {"cost_per_year": ("Cost per year", _money), "cost_difference_per_year": ("Extra cost a year", _money),
                "p_sustained": ("Chance of staying manageable", "{:.0%}".format),
                "caseload_incl_unallocated_end": ("Caseload counting unallocated, at the end", "{:.1f}".format),
                "caseload_mean_end": ("Caseload at the end (DfE)", "{:.1f}".format),
                "unallocated_cases_end": ("Unallocated cases at the end", "{:.0f}".format),
                "agency_share_pct_end": ("Agency share at the end", lambda v: f"{v:.0f}%")}
        head = "".join(f"<th>{label}</th>" for label, _ in cols.values())
        body = "".join("<tr><th>" + html.escape(r["scenario"]) + "</th>" +
                       "".join(f"<td class='num'>{fmt(r[c])}</td>" for c, (_, fmt) in cols.items()) + "</tr>"
                       for _, r in compare.iterrows())
        parts.append(f"<h2>The options side by side</h2><table><tr><th>Scenario</th>{head}</tr>{body}</table>")
    table = assumptions(scns)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in table.columns)
    body = "".join(f"<tr><th>{html.escape(i)}</th>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
                   for i, row in table.iterrows())
    parts.append(f"<h2>Assumptions</h2><table><tr><th></th>{head}</tr>{body}</table>")
    parts.append(f"<h2>Method and its limits</h2>{METHOD}</body></html>")
    return "\n".join(parts)


def write_report(run_dir: Path, out: Path | None = None) -> Path:
    """Write the report of the run in ``run_dir`` to ``out`` (default ``run_dir/report.html``); return its path."""
    out = Path(out) if out else Path(run_dir) / "report.html"
    text = build_report(run_dir)
    atomic_write(out, lambda fh: fh.write(text))
    return out
