"""results.xlsx: the workbook for a finance officer, read back with openpyxl and pandas."""

import datetime as dt
import math

import openpyxl
import pandas as pd
import pytest

from workforce_sim import run
from workforce_sim.analysis.breaches import breach_rules
from workforce_sim.analysis.compare import compare_table
from workforce_sim.analysis.money import money_settings
from workforce_sim.analysis.payback import payback_table
from workforce_sim.analysis.summary import LAST_WEEKS
from workforce_sim.outputs.workbook import (
    AT_END,
    CHANCE,
    CHANCE_HIGH,
    CHANCE_LOW,
    COST_A_YEAR,
    FIRST_BREACH,
    SUMMARY_HEADINGS,
    write_workbook,
)

ALL_SHEETS = ["Headline", "Budget", "Options compared", "Payback", "Assumptions", "Summary"]


def _inputs(res, compare=True) -> dict:
    """write_workbook's arguments from a run."""
    table = payback = None
    if compare:
        table = compare_table(res.weekly, breach_rules(res.scenarios), money_settings(res.scenarios),
                              {s.name: s.label for s in res.scenarios})
        payback = payback_table(res.weekly, money_settings(res.scenarios))
    return {"summary": res.summary, "budget": res.budget, "manifest": res.manifest, "compare": table,
            "payback": payback}


@pytest.fixture(scope="module")
def two(tmp_path_factory):
    """Two options compared: the inputs, the workbook's path and the workbook read back."""
    res = run(["do-nothing", "retention"], years=1.2, reps=3, seed=1, jobs=1)
    inputs = _inputs(res)
    path = tmp_path_factory.mktemp("two") / "results.xlsx"
    write_workbook(path, **inputs)
    return inputs, path, openpyxl.load_workbook(path)


@pytest.fixture(scope="module")
def one(tmp_path_factory):
    """One scenario with a low threshold, so that caseloads stop being manageable in some futures."""
    # a threshold below the baseline's caseload of about 15.1-15.4: breaches
    res = run(["baseline"], years=1.2, reps=3, seed=1, jobs=1, overrides=["standards.manageable_caseload=15"])
    inputs = _inputs(res, compare=False)
    path = tmp_path_factory.mktemp("one") / "results.xlsx"
    write_workbook(path, **inputs)
    return inputs, path, openpyxl.load_workbook(path)


def _header_row(ws, first: str) -> int:
    """The row whose first cell is ``first`` (a table's header)."""
    for row in ws.iter_rows(min_col=1, max_col=1):
        if row[0].value == first:
            return row[0].row
    raise AssertionError(f"no header starting {first!r} on {ws.title}")


def _records(ws, first: str) -> list[dict]:
    """The table under the header starting ``first``, as dicts, up to the first empty row."""
    top = _header_row(ws, first)
    names = [c.value for c in ws[top]]
    out = []
    for row in ws.iter_rows(min_row=top + 1, values_only=True):
        if row[0] is None:
            break
        out.append(dict(zip(names, row)))
    return out


def _labels(manifest) -> dict:
    return {s["name"]: label for s, label in zip(manifest["scenarios"], manifest["labels"])}


def test_sheets_in_order(two, one):
    assert two[2].sheetnames == ALL_SHEETS
    assert one[2].sheetnames == ["Headline", "Budget", "Assumptions", "Summary"]


def test_options_compared_only_with_two_options_or_more(two, tmp_path):
    inputs = dict(two[0], compare=two[0]["compare"].iloc[:1])
    write_workbook(tmp_path / "results.xlsx", **inputs)
    assert "Options compared" not in openpyxl.load_workbook(tmp_path / "results.xlsx").sheetnames


def _budget_sheet(ws) -> dict:
    """{(basis, scenario label, financial year): row} from the Budget sheet; basis "cash" or "real_terms"."""
    top = _header_row(ws, "Scenario")
    names = [c.value for c in ws[top]]
    out, basis = {}, None
    for row in ws.iter_rows(min_row=top + 1, values_only=True):
        if row[0] == "Cash":
            basis = "cash"
        elif isinstance(row[0], str) and row[0].startswith("Real terms"):
            basis = "real_terms"
        elif row[0] is not None and row[1] is not None:
            out[(basis, row[0], row[1])] = dict(zip(names, row))
    return out


@pytest.mark.parametrize("which", ["two", "one"])
def test_budget_is_budget_csv_to_the_pound(which, request):
    inputs, _, wb = request.getfixturevalue(which)
    budget, labels = inputs["budget"], _labels(inputs["manifest"])
    sheet = _budget_sheet(wb["Budget"])
    checked = 0
    for rec in budget.itertuples():
        for basis in ("cash", "real_terms"):
            row = sheet[(basis, labels[rec.scenario], rec.financial_year)]
            cell = row[rec.what]
            assert isinstance(cell, (int, float)), f"{rec.what} written as {type(cell).__name__}"
            assert cell == pytest.approx(getattr(rec, basis), abs=0.5)
            if rec.item == "cost_total":
                assert row["Total: 95% interval low"] == pytest.approx(getattr(rec, f"{basis}_ci95_low"), abs=0.5)
                assert row["Total: 95% interval high"] == pytest.approx(getattr(rec, f"{basis}_ci95_high"), abs=0.5)
            checked += 1
    assert checked == 2 * len(budget)
    # a total row per scenario: the sum of its financial years, item by item
    for scenario, part in budget.groupby("scenario"):
        for basis in ("cash", "real_terms"):
            totals = sheet[(basis, labels[scenario], "All years")]
            for what, amounts in part.groupby("what")[basis]:
                assert totals[what] == pytest.approx(amounts.sum(), abs=0.5)


def test_budget_marks_part_years(two):
    inputs, _, wb = two
    sheet = _budget_sheet(wb["Budget"])
    labels = _labels(inputs["manifest"])
    totals = inputs["budget"][inputs["budget"]["item"] == "cost_total"]
    assert (totals["days"] < 365).any()  # 1.2 years from April ends part-way through the second year
    for rec in totals.itertuples():
        covers = sheet[("cash", labels[rec.scenario], rec.financial_year)]["Covers"]
        if rec.days >= 365:
            assert covers == "whole year"
        else:
            assert covers.startswith("part year") and str(rec.days) in covers


@pytest.mark.parametrize("which", ["two", "one"])
def test_headline_holds_each_label_and_its_chance(which, request):
    inputs, _, wb = request.getfixturevalue(which)
    summary = inputs["summary"]
    rows = {r["Scenario"]: r for r in _records(wb["Headline"], "Scenario")}
    assert set(rows) == set(inputs["manifest"]["labels"])
    for name, label in _labels(inputs["manifest"]).items():
        mine = summary[summary["scenario"] == name].set_index(["metric", "period", "statistic"])
        row = rows[label]
        whole = mine.loc[("p_sustained", "whole run", "share of futures")]
        assert row[CHANCE] == pytest.approx(whole["mean"])
        assert row[CHANCE_LOW] == pytest.approx(whole["ci95_low"])
        assert row[CHANCE_HIGH] == pytest.approx(whole["ci95_high"])
        assert row["Stays manageable to the end of year 1"] == pytest.approx(
            mine.loc[("p_sustained", "year 1", "share of futures"), "mean"])
        week = mine.loc[("weeks_to_first_breach", "whole run", "percentiles"), "p50"]
        assert row["Median weeks until the first breach"] == ("never" if math.isinf(week) else pytest.approx(week))
        assert row["Cost a year (£, cash)"] == pytest.approx(mine.loc[("cost_total", "whole run", "total a year"),
                                                                      "mean"])


def test_headline_with_breaches_and_about_the_run(one):
    inputs, _, wb = one
    ws = wb["Headline"]
    row = _records(ws, "Scenario")[0]
    assert row[CHANCE] < 1  # the low threshold is breached in some futures
    assert isinstance(row["Median weeks until the first breach"], (int, float))
    about = {r[0]: r[1] for r in ws.iter_rows(min_row=_header_row(ws, "About this run") + 1, values_only=True)}
    assert about["Start date"].date() == dt.date.fromisoformat(inputs["manifest"]["scenarios"][0]["start_date"])
    assert about["Simulated futures (per scenario)"] == 3
    assert about["Random seed"] == 1
    assert "illustrative" in about["Note"]


def test_options_compared(two):
    inputs, _, wb = two
    compare, ws = inputs["compare"], wb["Options compared"]
    rows = _records(ws, "Option")
    assert [r["Option"] for r in rows] == list(compare["label"])
    for row, rec in zip(rows, compare.itertuples()):
        assert row[COST_A_YEAR] == pytest.approx(rec.cost_per_year)
        assert row["Net present cost (£)"] == pytest.approx(rec.net_present_cost)
        assert row[CHANCE] == pytest.approx(rec.p_sustained)
        assert row["Cost: vs first"] == rec.cost_vs_first
        assert row["Weeks in breach: vs first"] == rec.outcome_vs_first
    assert rows[0]["Extra cost a year vs first"] == "reference"
    assert rows[1]["Extra cost a year vs first"] == pytest.approx(compare["cost_difference_per_year"].iloc[1])
    assert rows[1]["Net present cost vs first: 95% low"] == pytest.approx(
        compare["net_present_cost_difference_ci95_low"].iloc[1])
    extra = ws.cell(row=_header_row(ws, "Option") + 2, column=3)
    assert ws.cell(row=_header_row(ws, "Option"), column=3).value == "Extra cost a year vs first"
    assert ws.max_column <= 17  # the measures a reader compares; compare.csv holds the rest (it was 31 wide)
    assert "saves" in extra.number_format  # a negative extra cost reads as a saving
    notes = [c.value for c in ws["A"][:5] if isinstance(c.value, str)]
    assert any("Net present cost: real-terms costs discounted at 3.5% a year (HM Treasury Green Book)" in n
               for n in notes)


def test_assumptions_hold_every_scenario(two):
    inputs, _, wb = two
    manifest = inputs["manifest"]
    rows = {r["Setting"]: r for r in _records(wb["Assumptions"], "Setting")}
    labels = manifest["labels"]
    for scenario, label in zip(manifest["scenarios"], labels):
        assert rows["start_date"][label].date() == dt.date.fromisoformat(scenario["start_date"])
        assert rows["workforce.turnover.permanent_per_year.social_worker"][label] == pytest.approx(
            scenario["workforce"]["turnover"]["permanent_per_year"]["social_worker"])
        assert rows["staff.0.count"][label] == scenario["staff"][0]["count"]
        assert rows["name"][label] == scenario["name"]
    assert rows["levers.0.type"][labels[1]] == "retention"  # the retention package is only in the second
    assert rows["levers.0.type"]["Differs"] == "differs"
    assert rows["start_date"]["Differs"] is None


def test_summary_sheet_is_the_summary_table(two):
    """Every row of summary.csv, each measure in words first (re_referral_pct reads as re-referrals as a share
    of referrals), its code last, the numbers unchanged."""
    inputs, path, wb = two
    summary = inputs["summary"]
    ws = wb["Summary"]
    top = _header_row(ws, "Measure")
    assert ws.auto_filter.ref.startswith(f"A{top}")
    back = pd.read_excel(path, sheet_name="Summary", header=top - 1, engine="openpyxl")
    assert list(back.columns) == ["Measure"] + [SUMMARY_HEADINGS[c] for c in summary.columns if c != "metric"] + [
        "Code (weekly.csv)"]
    assert len(back) == len(summary)
    assert list(back["Code (weekly.csv)"]) == list(summary["metric"])
    assert back["Mean"].to_numpy(dtype=float) == pytest.approx(summary["mean"].to_numpy(dtype=float), nan_ok=True)
    words = dict(zip(back["Code (weekly.csv)"], back["Measure"]))
    assert words["re_referral_pct"].startswith("Re-referrals as a share of all referrals")
    assert all(" " in w and w.lower() != code for code, w in words.items())  # words, never the code itself
    never = back[back["Code (weekly.csv)"] == "weeks_to_first_breach"]
    assert set(never["Median"]) <= {"never"} | set(summary["p50"].dropna())


def test_each_measure_is_one_figure_on_every_sheet(two):
    """A measure shown on the Headline and on Options compared has one heading and one value: the chance and
    its interval, the median weeks to the first breach, the caseload at the end (the last 13 weeks on both;
    the Headline once showed the last week, 18.99 against 18.64) and the cost a year."""
    inputs, _, wb = two
    head = {r["Scenario"]: r for r in _records(wb["Headline"], "Scenario")}
    options = {r["Option"]: r for r in _records(wb["Options compared"], "Option")}
    assert set(head) == set(options)
    shared = (CHANCE, CHANCE_LOW, CHANCE_HIGH, FIRST_BREACH, AT_END, COST_A_YEAR)
    for name in head:
        for heading in shared:
            a, b = head[name][heading], options[name][heading]
            assert a == b or a == pytest.approx(b, rel=1e-9), (name, heading, a, b)
    summary, compare = inputs["summary"], inputs["compare"].set_index("scenario")
    end = summary[(summary["metric"] == "caseload_incl_unallocated") & (summary["statistic"] == LAST_WEEKS)]
    for _, row in end.iterrows():
        assert row["mean"] == pytest.approx(compare.loc[row["scenario"], "caseload_incl_unallocated_end"])


def test_key_assumptions_come_first_in_words(two):
    inputs, _, wb = two
    ws = wb["Assumptions"]
    assert _header_row(ws, "Key assumption") < _header_row(ws, "Setting")
    keyed = {r["Key assumption"]: r for r in _records(ws, "Key assumption")}
    scenario, label = inputs["manifest"]["scenarios"][0], inputs["manifest"]["labels"][0]
    assert keyed["Salary a year: social worker"][label] == pytest.approx(scenario["costs"]["salary"]["social_worker"])
    assert keyed["Discount rate for net present cost, a year"][label] == pytest.approx(0.035)
    assert keyed["Lever 1"][inputs["manifest"]["labels"][1]] == "retention"
    assert keyed["Lever 1"]["Differs"] == "differs"
    assert keyed["Start date"][label].date() == dt.date.fromisoformat(scenario["start_date"])


def test_numbers_have_formats_and_headers_are_frozen(two):
    _, _, wb = two
    for ws in wb:
        assert ws.freeze_panes is not None, ws.title
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate)  # values only, no formulas
                if isinstance(cell.value, float):
                    assert math.isfinite(cell.value)
                    assert cell.number_format != "General" and "E" not in cell.number_format, (ws.title, cell)
    money = wb["Budget"].cell(row=_header_row(wb["Budget"], "Scenario") + 2, column=8)
    assert money.number_format == "£#,##0"
    assert wb["Headline"].cell(row=_header_row(wb["Headline"], "Scenario"), column=1).font.b


def test_text_that_looks_like_a_formula_stays_text(two, tmp_path):
    inputs = two[0]
    rename = {"do-nothing": "=1+1", "retention": "@SUM(A1)"}
    manifest = dict(inputs["manifest"], labels=["=1+1", "+cmd|' /C calc'!A0"],
                    scenarios=[dict(s, name=rename[s["name"]]) for s in inputs["manifest"]["scenarios"]])
    tables = {k: inputs[k].assign(scenario=inputs[k]["scenario"].map(rename))
              for k in ("summary", "budget", "compare", "payback")}
    tables["payback"]["against"] = tables["payback"]["against"].map(rename)
    tables["compare"]["label"] = ["=1+1", "+cmd|' /C calc'!A0"]
    path = tmp_path / "results.xlsx"
    write_workbook(path, manifest=manifest, **tables)
    wb = openpyxl.load_workbook(path)
    seen = {}
    for ws in wb:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if cell.value in ("=1+1", "@SUM(A1)", "+cmd|' /C calc'!A0"):
                    seen.setdefault(ws.title, set()).add(cell.value)
    assert seen["Headline"] == seen["Budget"] == seen["Options compared"] == {"=1+1", "+cmd|' /C calc'!A0"}
    assert seen["Payback"] == {"+cmd|' /C calc'!A0"}  # the options (the first is named in the title)
    assert {"=1+1", "@SUM(A1)"} <= seen["Assumptions"]  # the names, in the "name" row
    assert seen["Summary"] == {"=1+1", "@SUM(A1)"}
    headline = pd.read_excel(path, sheet_name="Headline", header=_header_row(wb["Headline"], "Scenario") - 1,
                             engine="openpyxl")
    assert headline["Scenario"].iloc[0] == "=1+1"
    # labels given explicitly win over the manifest's
    write_workbook(path, manifest=manifest, labels={"=1+1": "-reference", "@SUM(A1)": "option"}, **tables)
    rows = _records(openpyxl.load_workbook(path)["Headline"], "Scenario")
    assert [r["Scenario"] for r in rows] == ["-reference", "option"]


def test_written_atomically_with_the_run_time(two):
    inputs, path, wb = two
    assert [p.name for p in path.parent.iterdir()] == ["results.xlsx"]  # no temporary file left behind
    started = dt.datetime.fromisoformat(inputs["manifest"]["started_utc"]).replace(tzinfo=None)
    assert wb.properties.created == started
