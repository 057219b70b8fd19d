"""What the command line prints: an answer and its tables as lines of text for a terminal.

The command line echoes these lines; the words come from :mod:`.words`, the numbers from a run's tables.
"""

from __future__ import annotations

import textwrap
from functools import partial

import numpy as np
import pandas as pd

from ..analysis.breaches import team_words
from ..analysis.formats import money, money_difference, money_difference_range
from ..analysis.measures import MEASURE
from ..analysis.payback import payback_by_option
from ..analysis.summary import WHOLE_RUN_TOTAL, value
from ..runs.experiment import RunningShare, RunResult
from ..scenario.schema import Scenario
from ..studies.sensitivity import SensitivityResult
from .words import (
    beats_first,
    headline_lines,
    index_text,
    part_year_words,
    payback_sentence,
    plain_headline,
    recommendation,
    setting_at,
    uncertainty_line,
)

WIDTH = 100  # the widest line run and compare print: a normal terminal shows it without wrapping

# rows of the printed summary: (measure, statistic, label with its unit, format, scale)
KEY_ROWS = [
    ("caseload_incl_unallocated", "average", "Caseload counting unallocated (per FTE, avg.)", "{:.1f}", 1),
    ("caseload_incl_unallocated", "end of period", "  at the end of the year", "{:.1f}", 1),
    ("caseload_mean", "average", "Caseload per case-holding FTE (DfE, avg.)", "{:.1f}", 1),
    ("caseload_p90", "average", "90th percentile worker's caseload (avg.)", "{:.1f}", 1),
    ("workers_over_threshold_pct", "average", "Workers over the threshold (%, avg.)", "{:.0f}", 1),
    ("unallocated_cases", "average", "Unallocated cases (avg.)", "{:.0f}", 1),
    ("unallocated_cases", "end of period", "  at the end of the year", "{:.0f}", 1),
    ("cp_unallocated", "average", "Child protection cases unallocated (avg.)", "{:.0f}", 1),
    ("contacts", "total", "Contacts (in the year)", "{:,.0f}", 1),
    ("referrals", "total", "Referrals (in the year)", "{:,.0f}", 1),
    ("front_door_backlog", "average", "Contacts awaiting a decision (avg.)", "{:.0f}", 1),
    ("assessments_in_timescale_pct", "average", "Assessments within 45 working days (%)", "{:.0f}", 1),
    ("re_referral_pct", "average", "Re-referrals in 12 months (% of referrals)", "{:.0f}", 1),
    ("staff_fte", "average", "Staff in post (FTE, avg.)", "{:.1f}", 1),
    ("staff_fte_agency", "average", "Agency staff (FTE, avg.)", "{:.1f}", 1),
    ("vacancies_fte", "average", "Vacant posts (avg.)", "{:.1f}", 1),
    ("leavers_permanent", "total", "Permanent staff leaving (in the year)", "{:.0f}", 1),
    ("turnover_rate_pct", "average", "Permanent staff turnover (% a year)", "{:.0f}", 1),
    ("cost_total", "total", "Cost (£ thousand in the year, cash)", "{:,.0f}", 1 / 1000),
]


def drawn(manifest: dict) -> bool:
    """Whether a run drew its uncertain settings for each replication (run --uncertainty)."""
    return bool((manifest.get("uncertainty") or {}).get("drawn"))


def summary_lines(result: RunResult) -> list[str]:
    """Each scenario's answer in plain words first, then the numbers behind it, year by year (the lines
    ``run`` prints)."""
    out: list[str] = []
    s = result.summary
    n = result.manifest["replications"]
    for scn in result.scenarios:
        part = s[s["scenario"] == scn.name]
        years = [p for p in dict.fromkeys(part["period"]) if p != "whole run"] or ["whole run"]  # < a year: the run
        out.append(f"\n{scn.label}: {n} simulated futures from {scn.start_date:%-d %B %Y}")
        out.append("Will caseloads stay manageable? " + plain_headline(scn, part, n, result.manifest.get("years")))
        spread = uncertainty_line([scn], drawn(result.manifest))
        if spread:
            out.append(spread)
        out += _year_table(part, years)
        out.append("")
        for line in headline_lines(scn, part, n):
            out.append(line)
    return fit_lines(out)


def _year_cells(part: pd.DataFrame, years: list[str], with_interval: bool) -> list[tuple[str, list[str]]]:
    """Each row of KEY_ROWS as its label and one cell a year: the mean, with its 95% interval if asked."""
    rows = []
    for metric, statistic, label, fmt, k in KEY_ROWS:
        cells = []
        for y in years:
            row = value(part, metric, y, WHOLE_RUN_TOTAL if (y, statistic) == ("whole run", "total") else statistic)
            if np.isnan(row["mean"]):
                cells.append("-")
                continue
            ci = "" if np.isnan(row["ci95_low"]) or not with_interval else \
                f" ({fmt.format(k * row['ci95_low'])} to {fmt.format(k * row['ci95_high'])})"
            cells.append(fmt.format(k * row["mean"]) + ci)
        rows.append((label, cells))
    return rows


def _year_table(part: pd.DataFrame, years: list[str]) -> list[str]:
    """The numbers behind the answer, a column a year, within WIDTH characters: each year's mean with its 95%
    interval when they fit, else the means alone (the intervals are in summary.csv, the report and the
    workbook), and the years in blocks when even those do not fit."""
    label_w = max(len(label) for _, _, label, _, _ in KEY_ROWS) + 2
    for with_interval in (True, False):
        rows = _year_cells(part, years, with_interval)
        cell_w = max(len(c) for _, cells in rows for c in cells + years) + 2
        if label_w + cell_w * len(years) <= WIDTH or not with_interval:
            break
    title = ("Each year: the mean over the simulated futures (95% confidence interval)" if with_interval else
             "Each year: the mean over the simulated futures (their 95% confidence intervals are in summary.csv, "
             "the report and the workbook)")
    out = [""] + textwrap.wrap(title, WIDTH)
    per_block = max(1, (WIDTH - label_w) // cell_w)
    for b in range(0, len(years), per_block):
        block = slice(b, b + per_block)
        out.append(f"{'':{label_w}}" + "".join(f"{y:>{cell_w}}" for y in years[block]))
        out += [f"{label:{label_w}}" + "".join(f"{c:>{cell_w}}" for c in cells[block]) for label, cells in rows]
    return out


def fit_lines(lines: list[str], width: int | None = None) -> list[str]:
    """Lines as a terminal of ``width`` (default WIDTH) columns shows them without wrapping: a longer line (a
    sentence) is broken between words, its indent kept. A table is built to fit; a word longer than the width
    (a long folder name) is left whole."""
    width = width or WIDTH
    out: list[str] = []
    for line in lines:
        if len(line) <= width:
            out.append(line)
            continue
        indent = line[: len(line) - len(line.lstrip())]
        out += textwrap.wrap(line.strip(), width, initial_indent=indent, subsequent_indent=indent,
                             break_long_words=False, break_on_hyphens=False)
    return out


_thousands = partial(money, unit="k")  # money as the printed comparison shows it: £5,904k


def _diff_money(v: float) -> str:
    """A difference in cost as words: "£31k more" or "saves £12k" (never £-12k)."""
    return money_difference(v, _thousands, 1000)


# the printed comparison's two tables, an option a row: (column, heading in two lines, format of one value,
# interval columns or None); compare.csv, the report and the workbook hold every measure
COMPARE_TABLES = [
    [("p_sustained", ("Stays", "manageable"), "{:.0%}".format, ("p_sustained_ci95_low", "p_sustained_ci95_high")),
     ("breach_weeks_avoided", ("Weeks in breach", "avoided vs first"), "{:+.0f}".format,
      ("breach_weeks_avoided_ci95_low", "breach_weeks_avoided_ci95_high")),
     ("net_present_cost_difference", ("Net present cost", "vs first"), _diff_money,
      ("net_present_cost_difference_ci95_low", "net_present_cost_difference_ci95_high"))],
    [("cost_per_year", ("Cost a year", "(cash)"), _thousands, None),
     ("median_weeks_to_first_breach", ("First breach", "(median week)"), "{:.0f}".format, None),
     ("breaks_first", ("Breaks first in", "(share of futures)"), str, None),
     ("caseload_worst_team_end", ("Worst team", "at the end"), "{:.1f}".format, None)],
]
NAME_WIDTH = 28  # an option's name in the printed tables; a longer one is cut with "..."


def _rates(scns) -> str:
    """The discount rate of the scenarios in words: "3.5% (HM Treasury Green Book)", or each scenario's."""
    rates = {s.costs.discount_rate for s in scns}
    if rates == {0.035}:
        return "3.5% a year (HM Treasury Green Book)"
    if len(rates) == 1:
        return f"{rates.pop():.1%} a year"
    return "each scenario's rate a year (" + ", ".join(f"{s.name} {s.costs.discount_rate:.1%}" for s in scns) + ")"


def _is_difference(col: str) -> bool:
    return "difference" in col or "avoided" in col


def _cell(row, col: str, fmt) -> str:
    """One value of the printed comparison ("-" for the first scenario's differences from itself)."""
    v = row[col]
    if row.name == 0 and _is_difference(col):
        return "reference"
    if col == "median_weeks_to_first_breach" and np.isinf(v):
        return "never"
    if col == "breaks_first":
        if not (isinstance(v, str) and v):
            return "nowhere"
        return f"{team_words(v).removeprefix('the ')} ({row['breaks_first_share']:.0%})"
    if col == "cost_per_breach_week_avoided" and row["cost_difference"] <= 0 < row["breach_weeks_avoided"]:
        return "saves money too"
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "-"
    return fmt(v)


def _interval_cell(row, col: str, ci) -> str:
    """The 95% interval under a value of the printed comparison, in brackets ("" when there is none).

    A difference in cost is in words, like the value above it: "(saves £221k to £919k)",
    "(£12k to £40k more)" or "(from saving £30k to £20k more)"."""
    lo, hi = row[ci[0]], row[ci[1]]
    if (row.name == 0 and _is_difference(col)) or not (np.isfinite(lo) and np.isfinite(hi)):
        return ""
    if col == "p_sustained":
        return f"({lo:.0%} to {hi:.0%})"
    if col == "breach_weeks_avoided":
        return f"({lo:+.0f} to {hi:+.0f})"
    if _is_difference(col):
        return f"({money_difference_range(lo, hi, _thousands)})"
    return f"({_thousands(lo)} to {_thousands(hi)})"


def compare_lines(result: RunResult, scns: list[Scenario], years: float, uncertainty: bool) -> list[str]:
    """The options side by side, as ``compare`` prints them: a key, each measure with its 95% interval under it,
    and each option against the first in words."""
    out: list[str] = []
    table = result.tables["compare.csv"].reset_index(drop=True)
    n = result.manifest["replications"]
    out.append("")
    out.append(f"{n} simulated futures of {years:g} year{'s' if years != 1 else ''} from "
               f"{scns[0].start_date:%-d %B %Y}; the first scenario is the reference. Money in £ thousand (k), cash; "
               f"net present cost in real terms, discounted at {_rates(scns)}. Brackets: 95% confidence intervals. "
               "Every measure of every option: compare.csv, the report and the workbook.")
    for columns in COMPARE_TABLES:
        out += [""] + _option_table(table, columns)
    out.append("")
    for i, row in table.iloc[1:].iterrows():
        outcome, cost = row["outcome_vs_first"], row["cost_vs_first"]
        outcome = outcome if outcome.endswith("weeks in breach") else f"weeks in breach {outcome}"
        cost = cost if cost.startswith("costs") else f"cost {cost}"
        out.append(f"{row['label']} against {table.iloc[0]['label']}: {outcome}; {cost}. Future by future: "
                   f"{beats_first(row, uncertainty)}.")
    spread = uncertainty_line(scns, uncertainty)
    if spread:
        out.append(spread)
    unclear = table.iloc[1:]["outcome_vs_first"].str.startswith("cannot").sum()
    if unclear:
        options = "1 option" if unclear == 1 else f"{unclear} options"
        out.append(f"{options} cannot be told apart from {table.iloc[0]['label']} on weeks in breach with "
                   f"{n} futures: run again with more --reps (or --precision 0.05) before choosing between them.")
    labels = dict(zip(table["scenario"], table["label"]))
    out += ["", recommendation(table, labels)]
    if "payback.csv" in result.tables:
        out += payback_lines(result.tables["payback.csv"], labels)
    return fit_lines(out)


def _short(name: str) -> str:
    return name if len(name) <= NAME_WIDTH else name[: NAME_WIDTH - 3] + "..."


def _option_table(table: pd.DataFrame, columns) -> list[str]:
    """Options as rows (their names, cut to NAME_WIDTH), ``columns`` of COMPARE_TABLES as columns, each value
    with its 95% interval on the line under it."""
    names = [_short(str(label)) for label in table["label"]]
    cells = [[_cell(row, col, fmt) for col, _, fmt, _ in columns] for _, row in table.iterrows()]
    under = [[_interval_cell(row, col, ci) if ci else "" for col, _, _, ci in columns] for _, row in table.iterrows()]
    widths = [max(len(t) for t in [*head, *(c[j] for c in cells), *(u[j] for u in under)]) + 2
              for j, (_, head, _, _) in enumerate(columns)]
    name_w = max(len("Option"), *map(len, names)) + 2
    out = [f"{'' if i else 'Option':{name_w}}" + "".join(f"{h[i]:>{w}}" for (_, h, _, _), w in zip(columns, widths))
           for i in (0, 1)]
    for name, row, sub in zip(names, cells, under):
        out.append(f"{name:{name_w}}" + "".join(f"{c:>{w}}" for c, w in zip(row, widths)))
        if any(sub):
            out.append(f"{'':{name_w}}" + "".join(f"{c:>{w}}" for c, w in zip(sub, widths)))
    return [line.rstrip() for line in out]




def _year_label(fy: str, days: int, part: bool) -> str:
    """A financial year as a row of the printed payback table: "2027-28", or "2027-28 (part year: 55 days)"."""
    return f"{fy} ({part_year_words(days)})" if part else fy


def _so_far_cells(rec, kind: str) -> tuple[str, str]:
    """One difference of a row of payback.csv as two cells: the value in words, and under it its interval."""
    lo, hi = rec[f"{kind}_ci95_low"], rec[f"{kind}_ci95_high"]
    interval = f"({money_difference_range(lo, hi, _thousands)})" if lo < hi else ""  # none: one future, or all alike
    return _diff_money(rec[kind]), interval


def payback_lines(payback: pd.DataFrame, labels: dict[str, str]) -> list[str]:
    """When each option pays back, as ``compare`` prints it after the options side by side: per option, its
    cost against the first by financial year, in the year and added up to the year's end (cash, with 95%
    intervals under the values, none where every future is alike), and when it pays back in words (from
    payback.csv)."""
    out: list[str] = []
    for _, option in payback_by_option(payback).iterrows():
        name, first = labels.get(option["scenario"], option["scenario"]), labels.get(option["against"],
                                                                                     option["against"])
        rows = payback[payback["scenario"] == option["scenario"]]
        out.append("")
        out += textwrap.wrap(f"{name} against {first}, by financial year (cash; 95% confidence intervals under "
                             "the values):", WIDTH)
        cells = [(_year_label(str(r["financial_year"]), int(r["days"]), bool(r["part_year"])),
                  _so_far_cells(r, "difference_cash"), _so_far_cells(r, "cumulative_cash"))
                 for _, r in rows.iterrows()]
        label_w = max(len(c[0]) for c in cells) + 4
        heads = ("In the year", "Added up to the year's end")
        width = max(len(t) for c in cells for t in c[1] + c[2] + heads) + 3
        out.append(f"{'':{label_w}}{heads[0]:>{width}}{heads[1]:>{width}}")
        for year, (v1, ci1), (v2, ci2) in cells:
            out.append(f"  {year:{label_w - 2}}{v1:>{width}}{v2:>{width}}")
            if ci1 or ci2:
                out.append(f"{'':{label_w}}{ci1:>{width}}{ci2:>{width}}")
        out += textwrap.wrap(payback_sentence(option, first, _thousands, 1000), WIDTH)
    return out


def ranking_lines(result: SensitivityResult, method: str) -> list[str]:
    """One method's ranking of the settings, by the chance of staying manageable (ties by the caseload at the end),
    with each measure's index beside it (the lines ``sensitivity`` prints)."""
    out: list[str] = []
    measures = MEASURE
    rows = result.ranking(method, "p_sustained")
    n = result.manifest["replications"]
    others = ["p_sustained", "weeks_manageable", "caseload_end", "cost_per_year"]
    heads = {"p_sustained": "chance", "weeks_manageable": "weeks manageable", "caseload_end": "caseload at end",
             "cost_per_year": "cost a year"}
    table = result.table[result.table["method"] == method].set_index(["setting", "measure"])
    if method == "tornado":
        title = ("One at a time: the change in each measure from the setting's low to its high, the others central; "
                 "a chance changes in percentage points (in brackets: could be chance, its 95% interval over the "
                 f"{n} futures includes no change; 'no change': none in any future)")
    elif method == "morris":
        title = ("Morris screening: mu*, the average size of the change in each measure across the setting's whole "
                 f"range, over the other settings' values (in brackets: could be chance; flipping the signs of the "
                 f"{n} futures' changes gives a mu* as large at least 1 time in 20)")
    else:
        title = ("Sobol total indices: the share of each measure's variation a setting accounts for, with its "
                 "interactions (in brackets: its 95% interval reaches zero)")
    out.append(f"\n{title}.\nRanked by the chance caseloads stay manageable (then by the caseload at the end):")
    label_w = min(48, max(len(str(r["label"])) for _, r in rows.iterrows())) + 2
    cell_w = 18
    out.append(f"{'rank':>4}  {'setting':{label_w}}{'low to high':>16}"
               + "".join(f"{heads[m]:>{cell_w}}" for m in others))
    for _, r in rows.iterrows():
        cells = []
        for m in others:
            row = table.loc[(r["setting"], m)]
            text = index_text(method, row, measures[m])
            cells.append(f"{text if row['clear'] or text == 'no change' else '(' + text + ')':>{cell_w}}")
        span = f"{setting_at(r, 'low')} to {setting_at(r, 'high')}"
        out.append(f"{int(r['rank']):>4}  {str(r['label'])[:label_w - 2]:{label_w}}{span:>16}" + "".join(cells))
    return out


# -- the answer so far, as futures finish ---------------------------------------------------------------
PROGRESS_WIDTH = 100  # the longest line progress prints


def fit_line(text: str, width: int = PROGRESS_WIDTH) -> str:
    """``text`` cut to ``width`` characters, ending in ... when cut."""
    return text if len(text) <= width else text[: width - 3] + "..."


def _pct(x: float) -> str:
    return f"{x:.0%}"


def answer_so_far_lines(shares: list[RunningShare], done: int, total: int) -> list[str]:
    """Whole lines for a log (the error stream when it is not a terminal): futures done, then the share of those
    finished that stay manageable so far with its 95% interval, as the final answer gives it."""
    head = f"{done} of {total} simulated futures done"
    started = [s for s in shares if s.futures]
    if not started:
        return [head]
    if len(shares) == 1:
        (s,) = started
        lo, hi = s.interval()
        return [fit_line(f"{head}; so far {s.manageable} of {s.futures} stay manageable: {_pct(s.share)} "
                     f"(95% interval {_pct(lo)} to {_pct(hi)})")]
    lines = [f"{head}; so far, the futures that stay manageable:"]
    for s in started:
        lo, hi = s.interval()
        lines.append(fit_line(f"  {s.scenario}: {s.manageable} of {s.futures}, {_pct(s.share)} "
                          f"(95% interval {_pct(lo)} to {_pct(hi)})"))
    return lines


def answer_so_far(shares: list[RunningShare]) -> str:
    """The answer so far in a few words, for the end of a progress bar: "so far 58% stay manageable (95% interval
    32% to 81%)", or for several scenarios "so far manageable: baseline 58% (32-81%), ..."; "" before
    any future has finished."""
    started = [s for s in shares if s.futures]
    if not started:
        return ""
    if len(shares) == 1:
        lo, hi = started[0].interval()
        return f"so far {_pct(started[0].share)} stay manageable (95% interval {_pct(lo)} to {_pct(hi)})"
    parts = []
    for s in started:
        lo, hi = s.interval()
        parts.append(f"{s.scenario} {_pct(s.share)} ({100 * lo:.0f}-{_pct(hi)})")
    return "so far manageable: " + ", ".join(parts)
