"""results.xlsx: a run's results as one Excel workbook, for a finance officer.

The sheets, in order:

1. **Headline**: per scenario, the chance that caseloads stay manageable (whole run and
   by year, with 95% intervals), the median week of the first breach, the caseload at
   the end and the cost a year; then a short account of the run.
2. **Budget**: cost by financial year and item, in cash and then in real terms, with a
   total per scenario.
3. **Options compared** (only when several scenarios were compared): compare.csv for a reader.
4. **Payback** (only with payback.csv, from ``compare``): each option's cost against the first by financial
   year, in the year and added up, and when it pays back.
5. **Assumptions**: every setting of every scenario, one row per setting, one column per scenario.
6. **Summary**: summary.csv as it is, with a filter.

Everything is written as values (no formulas), numbers as numbers and dates as dates,
so the workbook can be used for further sums. Text that begins like a formula (a
scenario named ``=1+1``) is stored as text and stays text.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from functools import lru_cache
from pathlib import Path
from weakref import WeakKeyDictionary

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from ..analysis.breaches import team_words
from ..analysis.formats import money, standard_text
from ..analysis.money import financial_year_days
from ..analysis.payback import payback_by_option
from ..analysis.summary import LAST_WEEKS
from ..model.measures import describe
from ..runs.files import atomic_write
from .words import payback_sentence

# Number formats.
MONEY = "£#,##0"
MONEY_CHANGE = '+£#,##0;"saves "£#,##0;£0'  # an extra cost; a negative one is a saving
SHARE = "0%"
SHARE_CHANGE = "+0%;-0%;0%"
ONE_DP = "#,##0.0"
ONE_DP_CHANGE = "+#,##0.0;-#,##0.0;0.0"
WHOLE = "#,##0"
PLAIN_WHOLE = "0"  # seeds and weeks: no thousands separator
DETAIL = "#,##0.0##"  # the Summary sheet's measures of every size, never in scientific notation
SETTING = "0.0#########"  # an assumption that is not a whole number
DATE = "d mmm yyyy"
DATE_TIME = 'd mmm yyyy hh:mm "UTC"'

TITLE_FONT = Font(bold=True, size=14)
HEADING_FONT = Font(bold=True, size=12)
NOTE_FONT = Font(italic=True, color="555555")
BOLD = Font(bold=True)
WRAPPED = Alignment(wrap_text=True, vertical="top")
LEFT = Alignment(horizontal="left")
HEADER_FILL = PatternFill("solid", fgColor="DDE5F0")
DIFFERS_FILL = PatternFill("solid", fgColor="FFF2CC")
RULE_ABOVE = Border(top=Side(style="thin"))
RULE_BELOW = Border(bottom=Side(style="thin"))

FORMULA_START = ("=", "+", "-", "@")
MAX_TEXT = 32767  # Excel's limit on the characters in a cell
MAX_WIDTH = 60
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

ILLUSTRATIVE = ("The scenarios that come with workforce_sim are illustrative: their rates come from national "
                "statistics for England and their effects are assumptions. They are not any council's own data; "
                "use your own figures before relying on the results.")


def write_workbook(path: Path, summary: pd.DataFrame, budget: pd.DataFrame, manifest: dict,
                   compare: pd.DataFrame | None = None, labels: dict[str, str] | None = None,
                   payback: pd.DataFrame | None = None) -> None:
    """Write a run's results to ``path`` as an Excel workbook, atomically.

    ``summary``, ``budget``, ``compare`` and ``payback`` are the tables of summary.csv, budget.csv,
    compare.csv and payback.csv (``compare`` only when several scenarios were compared: the Options
    compared sheet is written when it has two rows or more; the Payback sheet when ``payback`` has
    a row); ``manifest`` is the run's
    manifest (manifest.json). ``labels`` maps scenario names to the labels shown; by
    default the manifest's labels, else the names.

    The file is written to a temporary file in the same folder and renamed over ``path``,
    so a reader never sees half a workbook.
    """
    labels = dict(labels) if labels is not None else _manifest_labels(manifest)
    wb = Workbook()
    started = _utc_datetime(manifest.get("started_utc"))
    if started is not None:
        wb.properties.created = started  # openpyxl sets the modified time itself when saving
    wb.properties.creator = f"workforce_sim {manifest.get('workforce_sim_version', '')}".strip()
    wb.properties.title = "workforce_sim results"

    _headline_sheet(wb.active, summary, manifest, labels)
    _budget_sheet(wb.create_sheet(), budget, manifest, labels)
    if compare is not None and len(compare) >= 2:
        _compare_sheet(wb.create_sheet(), compare, manifest, labels)
    if payback is not None and len(payback):
        _payback_sheet(wb.create_sheet(), payback, manifest, labels)
    _assumptions_sheet(wb.create_sheet(), manifest, labels)
    _summary_sheet(wb.create_sheet(), summary)
    atomic_write(Path(path), wb.save, binary=True)


# -- cells -----------------------------------------------------------------------------------
def _plain(value):
    """``value`` as something a cell can hold: numpy numbers as Python ones, NaN as empty, text cleaned.

    Infinity has no place in a spreadsheet; it becomes the text "inf" (callers that know
    what it means, such as "never" for a week of first breach, replace it first).
    """
    kind = type(value)
    if kind is str:
        return _clean_text(value)
    if kind is float:  # (the commonest: the same steps as for any float below)
        return None if value != value else ("inf" if value > 0 else "-inf") if math.isinf(value) else value
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if math.isnan(value):
            return None
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return value
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        return _utc_datetime(value)
    if isinstance(value, dt.date):
        return value
    return _clean_text(str(value))


@lru_cache(maxsize=4096)
def _clean_text(text: str) -> str:
    """``text`` without the control characters openpyxl refuses, cut at Excel's limit (the same few texts, scenario
    names and periods, fill thousands of cells: each is cleaned once)."""
    return ILLEGAL_CHARACTERS_RE.sub("", text)[:MAX_TEXT]


# the width each written cell shows, by (row, column), per sheet (:func:`_fit_columns` reads it instead of every cell)
_SHOWN: WeakKeyDictionary = WeakKeyDictionary()


def _shown(ws) -> dict[tuple[int, int], int]:
    """The widths of the cells of ``ws`` written so far, by (row, column) (see :func:`_shown_width`)."""
    shown = _SHOWN.get(ws)
    if shown is None:
        shown = _SHOWN[ws] = {}
    return shown


def _put(ws, row: int, col: int, value, fmt: str | None = None, font: Font | None = None,
         alignment: Alignment | None = None):
    """Write one cell: ``value`` (see :func:`_plain`) with number format ``fmt`` for numbers and dates, in ``font``
    and ``alignment`` if given, and note the width it shows (:func:`_shown_width`).

    Text beginning with =, +, - or @ is stored as text, never as a formula, and marked with
    Excel's quote prefix so it stays text if someone edits the cell.
    """
    cell = ws.cell(row=row, column=col)
    value = _plain(value)
    cell.value = value
    shown_format = "General"
    if isinstance(value, str):
        if value.startswith(FORMULA_START):
            cell.data_type = "s"  # openpyxl would otherwise write text beginning with "=" as a formula
            cell.quotePrefix = True
    elif fmt is not None and value is not None and not isinstance(value, bool):
        cell.number_format = shown_format = fmt
    if font is not None:
        cell.font = font
    if alignment is not None:
        cell.alignment = alignment
    _shown(ws)[row, col] = _shown_width(value, shown_format, alignment is not None and bool(alignment.wrap_text))
    return cell


def _touch(ws, row: int, col: int):
    """The cell at ``row``, ``col`` (made if absent), to style; an empty one shows no width."""
    _shown(ws).setdefault((row, col), 0)
    return ws.cell(row=row, column=col)


def _title(ws, title: str, notes: list[str]) -> int:
    """A title line and notes at the top of ``ws``; returns the row after them and a blank line."""
    _put(ws, 1, 1, title, font=TITLE_FONT)
    for i, note in enumerate(notes):
        _put(ws, 2 + i, 1, note, font=NOTE_FONT)
    return 3 + len(notes)


def _header(ws, row: int, names: list[str]) -> None:
    """A bold, shaded, wrapped header row."""
    for col, name in enumerate(names, start=1):
        cell = _put(ws, row, col, name, font=BOLD, alignment=WRAPPED)
        cell.fill = HEADER_FILL
        cell.border = RULE_BELOW


def _shown_width(v, fmt: str, wrap: bool) -> int:
    """About how many characters a cell holding ``v`` (as :func:`_plain` gives it) shows in number format ``fmt``,
    wrapped or not, for column widths."""
    if v is None:
        return 0
    if isinstance(v, str):
        if wrap:  # a wrapped header needs its longest word, and not too many lines
            return max(max((len(w) for w in v.split()), default=0), min(len(v), 16))
        return len(v)
    if isinstance(v, dt.datetime):
        return 22
    if isinstance(v, dt.date):
        return 12
    if isinstance(v, bool):
        return 5
    if "%" in fmt:
        return 6
    if "£" in fmt:
        return len(f"{abs(v):,.0f}") + (8 if "saves" in fmt else 2)
    return len(f"{v:,.2f}") if abs(v) < 1e6 else len(f"{v:,.0f}")


def _fit_columns(ws, first_row: int, header_row: int | None = None, minimum: int = 8) -> None:
    """Set column widths to fit the cells from ``first_row`` on (titles and long notes may spill over).

    Text longer than :data:`MAX_WIDTH` is left out (it spills into empty cells to its right).
    The header row is made tall enough for its wrapped names.

    Every column up to the last used is fitted (from 0: an empty cell shows nothing), unless every row from
    ``first_row`` holds text too long in it; the widths come from those noted as the cells were written
    (:func:`_put`, :func:`_touch`), and each row without a cell gets an empty one, as a walk over every cell
    (``ws.iter_rows``) would leave it.
    """
    shown = _shown(ws)
    rows = ws.max_row - first_row + 1 if shown else 0
    widest: dict[int, int] = {}
    too_wide: dict[int, int] = {}
    used = set()
    for (r, c), n in shown.items():
        if r >= first_row:
            used.add(r)
            if n <= MAX_WIDTH:
                widest[c] = max(widest.get(c, 0), n)
            else:
                too_wide[c] = too_wide.get(c, 0) + 1
    for r in range(first_row, first_row + rows):
        if r not in used:
            ws.cell(row=r, column=1)
    widths = {c: widest.get(c, 0) for c in range(1, ws.max_column + 1) if rows > 0 and too_wide.get(c, 0) < rows}
    for col, n in widths.items():
        ws.column_dimensions[get_column_letter(col)].width = max(minimum, n + 2)
    if header_row is not None:
        lines = 1
        for cell in ws[header_row]:
            if isinstance(cell.value, str):
                width = widths.get(cell.column, minimum) + 1
                lines = max(lines, math.ceil(len(cell.value) / max(width, 1)))
        ws.row_dimensions[header_row].height = 15 * min(lines, 6) + 2


# -- reading the inputs ----------------------------------------------------------------------
def _manifest_labels(manifest: dict) -> dict[str, str]:
    """Scenario name -> label from the manifest (its ``labels`` list follows its ``scenarios``)."""
    names = [s.get("name") for s in manifest.get("scenarios") or []]
    return {n: lab for n, lab in zip(names, manifest.get("labels") or []) if n is not None}


def _utc_datetime(value) -> dt.datetime | None:
    """An ISO date-time or datetime as a naive UTC datetime (Excel has no time zones); None if absent."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value


def _as_date(value):
    """An ISO date string ("2026-04-01") as a date; anything else as it is."""
    if isinstance(value, str) and ISO_DATE.fullmatch(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    return value


def _scenario_order(*tables: pd.DataFrame | None) -> list[str]:
    """Scenario names in the order they first appear in ``tables``."""
    names: dict[str, None] = {}
    for t in tables:
        if t is not None and "scenario" in t.columns:
            names.update(dict.fromkeys(t["scenario"]))
    return list(names)


def _summary_value(summary: pd.DataFrame, scenario: str, metric: str, period: str, statistic: str,
                   columns: tuple[str, ...] = ("mean", "ci95_low", "ci95_high")) -> tuple:
    """The named columns of one summary row, or Nones when there is no such row."""
    rows = summary[(summary["scenario"] == scenario) & (summary["metric"] == metric)
                   & (summary["period"] == period) & (summary["statistic"] == statistic)]
    if rows.empty:
        return (None,) * len(columns)
    return tuple(rows.iloc[0][c] for c in columns)


def _breaks_first(summary: pd.DataFrame, scenario: str) -> str | None:
    """Where caseloads break first, most often first: "children in care team 75%; assessment team 25%"; "nowhere"
    when no team breaches; empty for a run written before teams were watched."""
    rows = summary[(summary["scenario"] == scenario) & (summary["metric"] == "breaks_first")]
    if rows.empty:
        return None
    rows = rows[rows["mean"] > 0].sort_values("mean", ascending=False, kind="stable")
    return "; ".join(f"{team_words(r['statistic'])} {r['mean']:.0%}" for _, r in rows.iterrows()) or "nowhere"


def _week_or_never(week):
    """A week of first breach: "never" for infinity, empty when unknown."""
    if week is None or (isinstance(week, float) and math.isnan(week)):
        return None
    return "never" if math.isinf(week) else week


def _covers(financial_year: str, days) -> str:
    """Whether the run covers all of a financial year: "whole year" or "part year: 76 of 366 days"."""
    days = int(days)
    full = financial_year_days(financial_year)
    return "whole year" if days >= full else f"part year: {days} of {full} days"


def _common(values: list, describe) -> str:
    """``describe(value)`` if all ``values`` are the same, else each described, separated by "; "."""
    distinct = list(dict.fromkeys(values))
    return describe(distinct[0]) if len(distinct) == 1 else "; ".join(describe(v) for v in distinct)


# -- sheets ----------------------------------------------------------------------------------
# headings a measure has wherever it appears (the Headline and Options compared sheets), so one measure is one
# figure under one name: the same definition, the same value
CHANCE = "Chance of staying manageable (whole run)"
CHANCE_LOW, CHANCE_HIGH = "Chance: 95% low", "Chance: 95% high"
FIRST_BREACH = "Median weeks until the first breach"
AT_END = "Caseload at the end (last 13 weeks; cases per FTE, unallocated counted)"
COST_A_YEAR = "Cost a year (£, cash)"


def _headline_sheet(ws, summary: pd.DataFrame, manifest: dict, labels: dict[str, str]) -> None:
    """Headline: per scenario, will caseloads stay manageable and what does it cost; then about the run."""
    ws.title = "Headline"
    scenarios = manifest.get("scenarios") or []
    rule = _manageable_rule(scenarios)
    header_row = _title(ws, "Headline: do caseloads stay manageable, and what does it cost?", [
        "Chance of staying manageable = the share of simulated futures in which caseloads stayed manageable "
        "(95% interval). Caseload in cases per case-holding FTE. Cost in £ a year, cash.",
        f"Manageable: {rule}.",
    ])
    names = _scenario_order(summary)
    sustained = summary[summary["metric"] == "p_sustained"]
    years = [p for p in dict.fromkeys(sustained["period"]) if p != "whole run"]
    _header(ws, header_row, ["Scenario", CHANCE, CHANCE_LOW, CHANCE_HIGH] +
            [f"Stays manageable to the end of {y}" for y in years] +
            [FIRST_BREACH, "Where caseloads break first (share of futures)", AT_END, COST_A_YEAR])
    row = header_row
    for name in names:
        row += 1
        values: list = [labels.get(name, name)]
        values += list(_summary_value(summary, name, "p_sustained", "whole run", "share of futures"))
        values += [_summary_value(summary, name, "p_sustained", y, "share of futures")[0] for y in years]
        formats = [None, SHARE, SHARE, SHARE] + [SHARE] * len(years)
        week = _summary_value(summary, name, "weeks_to_first_breach", "whole run", "percentiles", ("p50",))[0]
        values.append(_week_or_never(week))
        values.append(_breaks_first(summary, name))
        values.append(_summary_value(summary, name, "caseload_incl_unallocated", "whole run", LAST_WEEKS)[0])
        values.append(_summary_value(summary, name, "cost_total", "whole run", "total a year")[0])
        formats += [PLAIN_WHOLE, None, ONE_DP, MONEY]
        for col, (v, fmt) in enumerate(zip(values, formats), start=1):
            _put(ws, row, col, v, fmt)
    _about_run(ws, row + 2, manifest, scenarios, labels)
    _fit_columns(ws, header_row, header_row)
    ws.freeze_panes = ws.cell(row=header_row + 1, column=2)


def _manageable_rule(scenarios: list[dict]) -> str:
    """The scenarios' standard of a manageable caseload in words (or where to read them when they differ)."""
    rules = [(repr((s.get("standards") or {}).get("manageable_caseload")),
              (s.get("standards") or {}).get("breach_weeks")) for s in scenarios]
    standard = (scenarios[0].get("standards") or {}).get("manageable_caseload") if scenarios else None
    if len(set(rules)) == 1 and standard is not None and rules[0][1] is not None:
        weeks = rules[0][1]
        return (f"at most {standard_text(standard)} cases per case-holding FTE in every team, counting unallocated "
                f"cases; a breach is {weeks} weeks running above it in any team, or open cases with nobody to hold "
                f"them")
    return "the scenarios' standards differ: see standards on the Assumptions sheet"


def _about_run(ws, row: int, manifest: dict, scenarios: list[dict], labels: dict[str, str]) -> None:
    """The Headline sheet's "About this run" from ``row`` down: dates, futures, seed, version, each scenario's
    description and the note that the bundled scenarios are illustrative."""
    _put(ws, row, 1, "About this run", font=HEADING_FONT)
    start_dates = list(dict.fromkeys(_as_date(s.get("start_date")) for s in scenarios if s.get("start_date")))
    about = [
        ("Start date", start_dates[0] if len(start_dates) == 1 else ", ".join(map(str, start_dates)) or None, DATE),
        ("Years simulated", manifest.get("years"), "0.0#"),
        ("Simulated futures (per scenario)", manifest.get("replications"), WHOLE),
        ("Random seed", manifest.get("seed"), PLAIN_WHOLE),
        ("workforce_sim version", manifest.get("workforce_sim_version"), None),
        ("Produced (run started)", _utc_datetime(manifest.get("started_utc")), DATE_TIME),
    ]
    for key, value, fmt in about:
        row += 1
        _put(ws, row, 1, key, font=BOLD)
        _put(ws, row, 2, value, fmt, alignment=LEFT)
    for s in scenarios:
        if s.get("description"):
            row += 1
            _put(ws, row, 1, labels.get(s.get("name", ""), s.get("name")), font=BOLD)
            _put(ws, row, 2, s["description"])
    row += 1
    _put(ws, row, 1, "Note", font=BOLD)
    _put(ws, row, 2, ILLUSTRATIVE)


BUDGET_HEADER = ["Scenario", "Financial year", "Covers"]


def _budget_sheet(ws, budget: pd.DataFrame, manifest: dict, labels: dict[str, str]) -> None:
    """Budget: cost by financial year and item, one table in cash and one in real terms, with totals."""
    ws.title = "Budget"
    prices = ", ".join(str(p) for p in dict.fromkeys(budget["prices"])) if "prices" in budget else "first-year prices"
    header_row = _title(ws, "Budget: cost by financial year (1 April to 31 March), £", [
        f"Mean over {manifest.get('replications', 'the')} simulated futures, with a 95% interval for the total. "
        f"Cash is in each year's own prices; real terms are in {prices}.",
        "A part year is a financial year the run covers only some days of; its cost is for those days only.",
    ])
    items = list(dict.fromkeys(budget["item"]))
    if "cost_total" in items:  # the total last
        items = [i for i in items if i != "cost_total"] + ["cost_total"]
    names = dict(zip(budget["item"], budget["what"])) if "what" in budget else {}
    _header(ws, header_row, BUDGET_HEADER + [names.get(i, i) for i in items] +
            ["Total: 95% interval low", "Total: 95% interval high"])
    row = header_row
    for basis, heading in (("cash", "Cash"), ("real_terms", f"Real terms ({prices})")):
        row += 1 if basis == "cash" else 2
        _put(ws, row, 1, heading, font=HEADING_FONT)
        for scenario in _scenario_order(budget):
            part = budget[budget["scenario"] == scenario]
            totals = dict.fromkeys(items, 0.0)
            label = labels.get(scenario, scenario)
            for fy in dict.fromkeys(part["financial_year"]):
                by_item = part[part["financial_year"] == fy].set_index("item")
                row += 1
                _put(ws, row, 1, label)
                _put(ws, row, 2, fy)
                _put(ws, row, 3, _covers(fy, by_item["days"].iloc[0]))
                for col, item in enumerate(items, start=len(BUDGET_HEADER) + 1):
                    amount = by_item[basis].get(item)
                    _put(ws, row, col, amount, MONEY)
                    if amount is not None and not pd.isna(amount):
                        totals[item] += float(amount)
                if "cost_total" in by_item.index:
                    low_col = len(BUDGET_HEADER) + len(items) + 1
                    _put(ws, row, low_col, by_item.loc["cost_total", f"{basis}_ci95_low"], MONEY)
                    _put(ws, row, low_col + 1, by_item.loc["cost_total", f"{basis}_ci95_high"], MONEY)
            row += 1
            _put(ws, row, 1, label, font=BOLD)
            _put(ws, row, 2, "All years", font=BOLD)
            for col, item in enumerate(items, start=len(BUDGET_HEADER) + 1):
                _put(ws, row, col, totals[item], MONEY, font=BOLD)
            for col in range(1, len(BUDGET_HEADER) + len(items) + 3):
                _touch(ws, row, col).border = RULE_ABOVE
    _fit_columns(ws, header_row, header_row)
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1)


# the Options compared sheet's columns: (heading, compare.csv column, number format, a difference from the first?);
# compare.csv holds more (differences in the chance, futures better or worse, staffing at the end)
COMPARE_COLUMNS = [
    ("Option", "label", None, False),
    (COST_A_YEAR, "cost_per_year", MONEY, False),
    ("Extra cost a year vs first", "cost_difference_per_year", MONEY_CHANGE, True),
    ("Net present cost (£)", "net_present_cost", MONEY, False),
    ("Net present cost vs first", "net_present_cost_difference", MONEY_CHANGE, True),
    ("Net present cost vs first: 95% low", "net_present_cost_difference_ci95_low", MONEY_CHANGE, True),
    ("Net present cost vs first: 95% high", "net_present_cost_difference_ci95_high", MONEY_CHANGE, True),
    (CHANCE, "p_sustained", SHARE, False),
    (CHANCE_LOW, "p_sustained_ci95_low", SHARE, False),
    (CHANCE_HIGH, "p_sustained_ci95_high", SHARE, False),
    ("Weeks in breach avoided vs first", "breach_weeks_avoided", ONE_DP_CHANGE, True),
    ("Weeks avoided: 95% low", "breach_weeks_avoided_ci95_low", ONE_DP_CHANGE, True),
    ("Weeks avoided: 95% high", "breach_weeks_avoided_ci95_high", ONE_DP_CHANGE, True),
    (FIRST_BREACH, "median_weeks_to_first_breach", PLAIN_WHOLE, False),
    (AT_END, "caseload_incl_unallocated_end", ONE_DP, False),
    ("Weeks in breach: vs first", "outcome_vs_first", None, False),
    ("Cost: vs first", "cost_vs_first", None, False),
]


def _compare_sheet(ws, compare: pd.DataFrame, manifest: dict, labels: dict[str, str]) -> None:
    """Options compared: one row per option, differences from the first with 95% intervals, and verdicts."""
    ws.title = "Options compared"
    costs = [s.get("costs") or {} for s in manifest.get("scenarios") or []]
    rates = [c.get("discount_rate") for c in costs if c.get("discount_rate") is not None]
    rate = _common(rates, lambda r: f"{100 * r:g}%") if rates else "3.5%"
    deflators = [c.get("deflator_per_year") for c in costs if c.get("deflator_per_year") is not None]
    first = compare.iloc[0]
    first_label = labels.get(first["scenario"], first.get("label", first["scenario"]))
    header_row = _title(ws, f"Options compared with the first: {first_label}", [
        "Every option ran on the same simulated futures, so differences from the first are taken future by future "
        "(95% intervals). Costs in £, cash; a negative extra cost is shown as a saving. Every measure of every "
        "option is in compare.csv.",
        f"Net present cost: real-terms costs discounted at {rate} a year (HM Treasury Green Book)"
        + (f"; real terms take off {_common(deflators, lambda d: f'{100 * d:g}%')} a year of inflation." if deflators
           else "."),
    ])
    columns = [c for c in COMPARE_COLUMNS if c[1] in compare.columns]
    _header(ws, header_row, [c[0] for c in columns])
    for i, (_, rec) in enumerate(compare.iterrows()):
        row = header_row + 1 + i
        for col, (_, key, fmt, is_difference) in enumerate(columns, start=1):
            value = rec[key]
            if key == "label":
                value = labels.get(rec["scenario"], value)
            elif key == "median_weeks_to_first_breach":
                value = _week_or_never(value)
            elif is_difference and i == 0:
                value = "reference"
            _put(ws, row, col, value, fmt)
    _fit_columns(ws, header_row, header_row)
    ws.freeze_panes = ws.cell(row=header_row + 1, column=2)


# the Payback sheet's columns after the option, its financial year and what of it the run covers: (heading,
# payback.csv column, number format)
PAYBACK_HEADER = ["Option", "Financial year", "Covers"]
PAYBACK_COLUMNS = [
    ("Extra cost in the year (cash)", "difference_cash", MONEY_CHANGE),
    ("In the year: 95% low", "difference_cash_ci95_low", MONEY_CHANGE),
    ("In the year: 95% high", "difference_cash_ci95_high", MONEY_CHANGE),
    ("Extra cost added up to the year's end (cash)", "cumulative_cash", MONEY_CHANGE),
    ("Added up: 95% low", "cumulative_cash_ci95_low", MONEY_CHANGE),
    ("Added up: 95% high", "cumulative_cash_ci95_high", MONEY_CHANGE),
    ("Extra cost in the year (real terms)", "difference_real_terms", MONEY_CHANGE),
    ("In the year, real terms: 95% low", "difference_real_terms_ci95_low", MONEY_CHANGE),
    ("In the year, real terms: 95% high", "difference_real_terms_ci95_high", MONEY_CHANGE),
    ("Extra cost added up to the year's end (real terms)", "cumulative_real_terms", MONEY_CHANGE),
    ("Added up, real terms: 95% low", "cumulative_real_terms_ci95_low", MONEY_CHANGE),
    ("Added up, real terms: 95% high", "cumulative_real_terms_ci95_high", MONEY_CHANGE),
    ("Futures paid back by the year's end", "paid_back_futures", WHOLE),
    ("Share of futures paid back", "paid_back_share", SHARE),
    ("Share paid back: 95% low", "paid_back_share_ci95_low", SHARE),
    ("Share paid back: 95% high", "paid_back_share_ci95_high", SHARE),
]


def _payback_sheet(ws, payback: pd.DataFrame, manifest: dict, labels: dict[str, str]) -> None:
    """Payback: each option's cost against the first by financial year, in the year and added up to the year's
    end, with 95% intervals, and after each option the year it pays back in words."""
    ws.title = "Payback"
    first = str(payback["against"].iloc[0])
    first_label = labels.get(first, first)
    prices = ", ".join(str(p) for p in dict.fromkeys(payback["prices"]))
    header_row = _title(ws, f"Cost against {first_label} by financial year (1 April to 31 March), £", [
        f"Each option's cost less {first_label}'s, future by future on the same {manifest.get('replications', '')} "
        f"simulated futures: the mean and its 95% interval. Cash is in each year's own prices; real terms are in "
        f"{prices}. A negative extra cost is shown as a saving.",
        f"An option pays back in the first financial year at whose end it has cost no more than {first_label} so "
        "far, on average, and does not cost more again before the run ends. A future has paid back by a year's end "
        "when in it the option has cost no more so far.",
        "A part year is a financial year the run covers only some days of; its costs are for those days only.",
    ])
    _header(ws, header_row, PAYBACK_HEADER + [c[0] for c in PAYBACK_COLUMNS])
    row = header_row
    for _, option in payback_by_option(payback).iterrows():
        label = labels.get(option["scenario"], option["scenario"])
        for _, rec in payback[payback["scenario"] == option["scenario"]].iterrows():
            row += 1
            _put(ws, row, 1, label)
            _put(ws, row, 2, str(rec["financial_year"]))
            _put(ws, row, 3, _covers(str(rec["financial_year"]), rec["days"]))
            for col, (_, key, fmt) in enumerate(PAYBACK_COLUMNS, start=len(PAYBACK_HEADER) + 1):
                _put(ws, row, col, rec[key], fmt)
        row += 1
        _put(ws, row, 1, label, font=BOLD)
        _put(ws, row, 2, "Pays back", font=BOLD)
        _put(ws, row, 3, payback_sentence(option, first_label, money, 1), font=BOLD)
        for col in range(1, len(PAYBACK_HEADER) + len(PAYBACK_COLUMNS) + 1):
            _touch(ws, row, col).border = RULE_ABOVE
    _fit_columns(ws, header_row, header_row)
    ws.freeze_panes = ws.cell(row=header_row + 1, column=2)


def flatten(settings, prefix: str = "") -> dict[str, object]:
    """A scenario's nested settings as {dotted path: value}; list entries numbered from 0 (``staff.0.count``).

    An empty list or table is "(none)"; a setting left unset (None) is "(not set)".
    """
    if isinstance(settings, dict):
        items = [(str(k), v) for k, v in settings.items()]
    elif isinstance(settings, (list, tuple)):
        items = [(str(i), v) for i, v in enumerate(settings)]
    else:
        return {prefix: "(not set)" if settings is None else settings}
    if not items:
        return {prefix: "(none)"}
    out: dict[str, object] = {}
    for key, value in items:
        out.update(flatten(value, f"{prefix}.{key}" if prefix else key))
    return out


def _merged_keys(flats: list[dict[str, object]]) -> list[str]:
    """Every key of ``flats`` once, each scenario's new keys placed after the key they follow in it."""
    keys: list[str] = []
    for flat in flats:
        at = 0
        for key in flat:
            if key in keys:
                at = keys.index(key) + 1
            else:
                while at < len(keys) and key.startswith(keys[at] + "."):  # after an empty "levers" of another
                    at += 1
                keys.insert(at, key)
                at += 1
    return keys


# the assumptions a finance officer reads first, in words: (the start of a setting's path, its name); each
# setting under that path gets a row ("Salary a year: social worker")
KEY_ASSUMPTIONS = [
    ("start_date", "Start date"),
    ("population.children", "Children in the area (under 18)"),
    ("demand.trend_per_year", "Growth in demand a year"),
    ("standards.manageable_caseload", "Manageable caseload (cases per case-holding FTE)"),
    ("costs.salary", "Salary a year"),
    ("costs.on_cost_share", "On-costs (pension and National Insurance), share of salary"),
    ("costs.agency_premium_per_year", "Agency premium a year per FTE, above a permanent worker (£)"),
    ("costs.pay_award_per_year", "Pay award each 1 April"),
    ("care.weekly_price", "Placement price a week"),
    ("care.price_growth_per_year", "Placement prices' growth each 1 April"),
    ("costs.deflator_per_year", "Inflation taken off for real terms, a year"),
    ("costs.discount_rate", "Discount rate for net present cost, a year"),
    ("levers", "Lever"),
]


def _key_rows(flats: list[dict[str, object]]) -> list[tuple[str, str]]:
    """The keys of KEY_ASSUMPTIONS present in any scenario, each with its name in words."""
    keys = _merged_keys(flats)
    out = []
    for prefix, name in KEY_ASSUMPTIONS:
        for key in keys:
            if key == prefix:
                out.append((key, name))
            elif key.startswith(prefix + ".") and (prefix != "levers" or key.endswith(".type")):
                part = key[len(prefix) + 1:].removesuffix(".type")
                part = "ASYE (newly qualified)" if part == "asye" else part.replace("_", " ")
                out.append((key, f"{name}: {part}" if prefix != "levers" else f"{name} {int(part) + 1}"))
    return out


def _setting_row(ws, row: int, values: list, missing: object) -> bool:
    """One setting's values across the scenarios from column 2; whether they differ."""
    for col, value in enumerate(values, start=2):
        if value is missing:
            continue
        fmt = DATE if isinstance(value, dt.date) else (
            WHOLE if isinstance(value, int) or (isinstance(value, float) and value.is_integer()) else SETTING)
        # descriptions: wrapped in their column
        _put(ws, row, col, value, fmt, alignment=WRAPPED if isinstance(value, str) and len(value) > 30 else None)
    return any(v is missing or v != values[0] for v in values)


def _assumptions_sheet(ws, manifest: dict, labels: dict[str, str]) -> None:
    """Assumptions: the key assumptions in words first, then every setting (dotted path), one column per
    scenario, differing rows marked."""
    ws.title = "Assumptions"
    scenarios = manifest.get("scenarios") or []
    top = _title(ws, "Assumptions: the key ones first, then every setting of every scenario", [
        "Units as in the scenario file: money in £, rates per year, shares as fractions (0.14 = 14%). Rows marked "
        "'differs' (shaded) are the settings that are not the same in every scenario.",
        "Every setting: one row per setting, named by its path in a scenario file (list entries numbered from 0, "
        "e.g. staff.0.count).",
    ])
    flats = [flatten(s) for s in scenarios]
    names = [labels.get(s.get("name"), s.get("name")) for s in scenarios]
    missing = object()
    _header(ws, top, ["Key assumption"] + names + ["Differs"])
    keyed = _key_rows(flats)
    for i, (key, words) in enumerate(keyed, start=1):
        _put(ws, top + i, 1, words)
        if _setting_row(ws, top + i, [_as_date(f.get(key, missing)) for f in flats], missing):
            _put(ws, top + i, len(scenarios) + 2, "differs")
    header_row = top + len(keyed) + 2
    _header(ws, header_row, ["Setting"] + names + ["Differs"])
    for i, key in enumerate(_merged_keys(flats)):
        row = header_row + 1 + i
        _put(ws, row, 1, key)
        if _setting_row(ws, row, [_as_date(f.get(key, missing)) for f in flats], missing):
            _put(ws, row, len(scenarios) + 2, "differs")
            for col in range(1, len(scenarios) + 3):
                _touch(ws, row, col).fill = DIFFERS_FILL
    _fit_columns(ws, top, top)
    ws.freeze_panes = ws.cell(row=top + 1, column=2)
    ws.auto_filter.ref = f"A{header_row}:{get_column_letter(len(scenarios) + 2)}{max(ws.max_row, header_row + 1)}"


SUMMARY_FORMATS = {"£": MONEY, "share": "0.0%"}
# the Summary sheet's headings for summary.csv's columns; the measure's code (its column in weekly.csv) goes last
SUMMARY_HEADINGS = {"scenario": "Scenario", "metric": "Code (weekly.csv)", "period": "Period",
                    "statistic": "Statistic", "unit": "Unit", "mean": "Mean", "ci95_low": "95% interval: low",
                    "ci95_high": "95% interval: high", "p10": "10th percentile", "p50": "Median",
                    "p90": "90th percentile", "replications": "Simulated futures"}
HEADLINE_MEANINGS = {
    "p_sustained": "share of simulated futures in which caseloads stay manageable",
    "weeks_to_first_breach": "weeks until caseloads first break the standard",
    "team_breaches": "share of futures in which the team's caseloads break the standard",
    "breaks_first": "share of futures in which caseloads break first in the team",
}


def measure_words(metric: str) -> str:
    """What a measure of summary.csv is, as a person reads it: "Re-referrals as a share of all referrals (DfE's
    rate)" for re_referral_pct."""
    try:
        text = HEADLINE_MEANINGS.get(metric) or describe(metric).meaning
    except KeyError:
        text = metric
    return text[:1].upper() + text[1:]


def _summary_sheet(ws, summary: pd.DataFrame) -> None:
    """Summary: summary.csv, every row, each measure in words first (its code last), with number formats by unit
    and a filter."""
    ws.title = "Summary"
    header_row = _title(ws, "Summary: every measure by scenario and period", [
        "Mean = the mean over simulated futures, with its 95% interval; the 10th, 50th (median) and 90th "
        "percentiles are over futures. Units in the Unit column. 'At the end': see the Statistic column "
        "(end of period = its last week; last 13 weeks = the run's last quarter, as the other sheets use).",
        "Weeks to first breach: 'never' where that share of futures had no breach.",
    ])
    columns = [c for c in summary.columns if c != "metric"] + ["metric"]
    _header(ws, header_row, ["Measure"] + [SUMMARY_HEADINGS.get(c, c) for c in columns])
    value_columns = {"mean", "ci95_low", "ci95_high", "p10", "p50", "p90"}
    data = {c: summary[c].tolist() for c in summary.columns}  # column by column: the values a row of it holds
    units = data.get("unit", [""] * len(summary))
    words: dict[str, str] = {}  # each measure's words, found once
    for i, metric in enumerate(data["metric"]):
        row = header_row + 1 + i
        fmt = SUMMARY_FORMATS.get(units[i], DETAIL)
        text = str(metric)
        if text not in words:
            words[text] = measure_words(text)
        _put(ws, row, 1, words[text])
        for col, key in enumerate(columns, start=2):
            value = data[key][i]
            if key in value_columns and isinstance(value, float) and math.isinf(value) \
                    and metric == "weeks_to_first_breach":
                value = "never"
            _put(ws, row, col, value, fmt if key in value_columns else WHOLE)
    _fit_columns(ws, header_row, header_row)
    ws.freeze_panes = ws.cell(row=header_row + 1, column=2)
    ws.auto_filter.ref = f"A{header_row}:{get_column_letter(len(columns) + 1)}{max(ws.max_row, header_row + 1)}"
