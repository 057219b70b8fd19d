"""When does an option pay back? payback.csv's differences by financial year, the payback year and the futures
paid back, on weekly tables built so that every answer is known; then what compare writes and prints."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from workforce_sim.analysis.money import Money
from workforce_sim.analysis.payback import NOT_WITHIN_RUN, PAYBACK_COLUMNS, payback_by_option, payback_table
from workforce_sim.analysis.statistics import wilson
from workforce_sim.model.measures import COST_COLUMNS

# 313 weeks from 1 April 2028 are exactly six financial years (2028-29 to 2033-34, one 29 February): no part year
START, WEEKS = dt.date(2028, 4, 1), 313
YEARS = ["2028-29", "2029-30", "2030-31", "2031-32", "2032-33", "2033-34"]


def synthetic(extra: dict[str, list[list[float]]], weeks: int = WEEKS, start: dt.date = START) -> pd.DataFrame:
    """A weekly table: a reference costing £10,000 a week (more in some futures than others) and options costing
    the same but for ``extra[option][r][y]`` in one week of each financial year y (the week starting in October,
    wholly inside the year) in future r. Every cost item is a column, all in ``cost_total``."""
    dates = [start + dt.timedelta(days=7 * w) for w in range(weeks)]
    october = {}  # financial year's index -> its week starting in October
    for w, d in enumerate(dates):
        y = (d.year - start.year) - (d.month < 4)
        if d.month == 10 and y not in october:
            october[y] = w
    reps = len(next(iter(extra.values())))
    rows = []
    for name, by_rep in [("ref", [[0.0] * len(october)] * reps)] + list(extra.items()):
        for r in range(reps):
            cost = np.full(weeks, 10_000.0 + 1_000.0 * r)  # futures differ: only paired differences are exact
            for y, w in october.items():
                cost[w] += by_rep[r][y] if y < len(by_rep[r]) else 0.0
            rows.append(pd.DataFrame({"scenario": name, "replication": r, "week": range(weeks), "date": dates,
                                      **{c: 0.0 for c in COST_COLUMNS}, "cost_total": cost}))
    return pd.concat(rows, ignore_index=True)


def _rows(table: pd.DataFrame, option: str) -> pd.DataFrame:
    return table[table["scenario"] == option].set_index("financial_year")


def test_an_option_pays_back_when_its_cost_so_far_is_no_more_than_the_first():
    """+100 in its first year, then 60 a year saved: £100, £40 and then -£20 so far, so it pays back in its third
    year (a year with a saving is not yet a year it has paid back in)."""
    t = payback_table(synthetic({"invest": [[100.0] + [-60.0] * 5] * 4}))
    assert list(t.columns) == PAYBACK_COLUMNS
    rows = _rows(t, "invest")
    assert list(rows.index) == YEARS and (rows["against"] == "ref").all()
    assert list(rows["difference_cash"]) == [100, -60, -60, -60, -60, -60]
    assert list(rows["cumulative_cash"]) == [100, 40, -20, -80, -140, -200]
    # the futures differ, but each future's difference is the same: paired, the interval has no width
    assert (rows["difference_cash_ci95_low"] == rows["difference_cash"]).all()
    assert (rows["cumulative_cash_ci95_high"] == rows["cumulative_cash"]).all()
    assert set(rows["payback_year"]) == {"2030-31"} and set(rows["payback_year_real_terms"]) == {"2030-31"}
    assert list(rows["paid_back_futures"]) == [0, 0, 4, 4, 4, 4] and (rows["replications"] == 4).all()
    assert not rows["part_year"].any() and list(rows["days"]) == [365, 365, 365, 366, 365, 365]


def test_futures_paid_back_are_counted_with_wilsons_interval():
    """Four futures save 60 a year and one only 10: on average £100, £50, £0 so far (at zero counts), so it pays
    back in 2030-31; by the end of the run four of the five futures have paid back."""
    t = payback_table(synthetic({"invest": [[100.0] + [-60.0] * 5] * 4 + [[100.0] + [-10.0] * 5]}))
    rows = _rows(t, "invest")
    assert list(rows["cumulative_cash"]) == [100, 50, 0, -50, -100, -150]
    assert set(rows["payback_year"]) == {"2030-31"}
    last = rows.iloc[-1]
    assert last["paid_back_futures"] == 4 and last["paid_back_share"] == pytest.approx(0.8)
    assert (last["paid_back_share_ci95_low"], last["paid_back_share_ci95_high"]) == pytest.approx(wilson(4, 5))
    # the differences vary between futures now: an interval with width, around the mean
    assert last["cumulative_cash_ci95_low"] < -150 < last["cumulative_cash_ci95_high"]
    option = payback_by_option(t).iloc[0]
    assert (option["payback_year"], option["paid_back_futures"], option["replications"]) == ("2030-31", 4, 5)


def test_payback_needs_the_cost_so_far_to_stay_at_or_below_the_first():
    """£100, -£50, £50, -£50 so far: below the first in its second year but above again in its third, so it pays
    back in its fourth."""
    t = payback_table(synthetic({"swings": [[100.0, -150.0, 100.0, -100.0, 0.0, 0.0]] * 3}))
    rows = _rows(t, "swings")
    assert list(rows["cumulative_cash"]) == [100, -50, 50, -50, -50, -50]
    assert set(rows["payback_year"]) == {"2031-32"}


def test_cheaper_from_the_start_pays_back_in_its_first_year_and_dearer_never():
    t = payback_table(synthetic({"cheaper": [[-10.0] * 6] * 3, "dearer": [[10.0] * 6] * 3, "same": [[0.0] * 6] * 3}))
    assert set(_rows(t, "cheaper")["payback_year"]) == {"2028-29"}
    assert set(_rows(t, "dearer")["payback_year"]) == {NOT_WITHIN_RUN}
    assert list(_rows(t, "dearer")["paid_back_futures"]) == [0] * 6
    assert set(_rows(t, "same")["payback_year"]) == {"2028-29"}  # no more than the first: at zero
    by = payback_by_option(t).set_index("scenario")
    assert by.loc["dearer", "cumulative_cash_end"] == 60 and by.loc["cheaper", "paid_back_share"] == 1.0
    assert list(by.index) == ["cheaper", "dearer", "same"]


def test_part_years_are_marked():
    """60 weeks from 1 April 2026: all of 2026-27 (the week spanning 31 March shared by its days) and 55 days of
    2027-28."""
    t = payback_table(synthetic({"invest": [[100.0, -60.0]] * 2}, weeks=60, start=dt.date(2026, 4, 1)))
    rows = _rows(t, "invest")
    assert list(rows["days"]) == [365, 55] and list(rows["part_year"]) == [False, True]
    assert set(rows["payback_year"]) == {NOT_WITHIN_RUN}  # £40 more by the end of the run
    by = payback_by_option(t).iloc[0]
    assert by["last_year"] == "2027-28" and by["last_year_part"]


def test_real_terms_divide_each_year_by_the_deflator():
    """With 10% a year: the second year's -60 is -60 / 1.1 in the first year's prices, the third's -60 / 1.21."""
    t = payback_table(synthetic({"invest": [[100.0] + [-60.0] * 5] * 3}),
                      {"ref": Money(deflator_per_year=0.1), "invest": Money(deflator_per_year=0.1)})
    rows = _rows(t, "invest")
    expected = [100 / 1.1 ** k if k == 0 else -60 / 1.1 ** k for k in range(6)]
    np.testing.assert_allclose(rows["difference_real_terms"], np.round(expected), atol=0)
    np.testing.assert_allclose(rows["cumulative_real_terms"], np.round(np.cumsum(expected)), atol=1)
    assert list(rows["difference_cash"]) == [100, -60, -60, -60, -60, -60]  # cash is not deflated
    assert set(rows["prices"]) == {"2028-29 prices"}
    # each scenario is deflated by its own rate: here only the option's cost (£11,000 a week on average, as the
    # first's) is deflated, so in its second year it is 1/11 less than the first's in real terms
    t = payback_table(synthetic({"invest": [[0.0] * 6] * 3}), {"invest": Money(deflator_per_year=0.1),
                                                                "ref": Money(deflator_per_year=0.0)})
    assert _rows(t, "invest")["difference_real_terms"].iloc[1] == pytest.approx(11_000 * 365 / 7 * (1 / 1.1 - 1),
                                                                                abs=0.5)


def test_one_scenario_has_no_options():
    w = synthetic({"invest": [[0.0] * 6]})
    t = payback_table(w[w["scenario"] == "ref"])
    assert t.empty and list(t.columns) == PAYBACK_COLUMNS


# -- what compare writes and prints -------------------------------------------------------------
@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    """``compare do-nothing extra-posts``, small: 1.5 years from April (a whole financial year and a part year),
    2 futures. Returns the folder and what the command printed."""
    from click.testing import CliRunner

    from workforce_sim.cli import main
    out = tmp_path_factory.mktemp("compare")
    res = CliRunner().invoke(main, ["compare", "do-nothing", "extra-posts", "--years", "1.5", "--reps", "2",
                                    "--jobs", "1", "--no-start-check", "--out", str(out)])
    assert res.exit_code == 0, res.output
    return out, res.output


def test_compare_writes_payback_csv_whose_differences_are_budget_csvs(compared):
    out, printed = compared
    payback = pd.read_csv(out / "payback.csv", dtype={"financial_year": str})
    budget = pd.read_csv(out / "budget.csv", dtype={"financial_year": str})
    assert list(payback.columns) == PAYBACK_COLUMNS and set(payback["scenario"]) == {"extra-posts"}
    totals = budget[budget["item"] == "cost_total"].pivot(index="financial_year", columns="scenario", values="cash")
    rows = payback.set_index("financial_year")
    assert list(rows.index) == list(totals.index) == ["2027-28", "2028-29"]
    # the mean of the futures' differences is the difference of the means; each rounded to the pound
    np.testing.assert_allclose(rows["difference_cash"], totals["extra-posts"] - totals["do-nothing"], atol=1)
    np.testing.assert_allclose(rows["cumulative_cash"], (totals["extra-posts"] - totals["do-nothing"]).cumsum(),
                               atol=2)
    assert list(rows["part_year"]) == [False, True]
    assert (rows["difference_cash"] > 0).all() and set(rows["payback_year"]) == {NOT_WITHIN_RUN}  # posts cost
    # printed after the options side by side: each year, and the answer in words, no line over 110 characters
    block = printed[printed.index("extra-posts against do-nothing, by financial year"):printed.index("\nWrote ")]
    assert "2028-29 (part year: " in block and "Does not pay back within the run: £" in block
    assert ("more than do-nothing in all by the end of 2028-29 (part year); paid back in 0 of 2 futures"
            in " ".join(block.split()))  # its lines wrapped
    assert max(len(line) for line in block.splitlines()) <= 110 and "£-" not in block


def test_the_workbook_holds_budget_csv_and_payback_csv(compared):
    """Read back from results.xlsx: each financial year's total on the Budget sheet is budget.csv's, and the
    Payback sheet is payback.csv's, to the pound."""
    import openpyxl
    out, _ = compared
    wb = openpyxl.load_workbook(out / "results.xlsx")
    budget = pd.read_csv(out / "budget.csv", dtype={"financial_year": str})
    payback = pd.read_csv(out / "payback.csv", dtype={"financial_year": str})
    ws = wb["Budget"]
    top = next(c.row for c in ws["A"] if c.value == "Scenario")
    total_col = [c.value for c in ws[top]].index("Total")
    basis, seen = None, 0
    for row in ws.iter_rows(min_row=top + 1, values_only=True):
        if row[0] in ("Cash",) or (isinstance(row[0], str) and row[0].startswith("Real terms")):
            basis = "cash" if row[0] == "Cash" else "real_terms"
            continue
        if row[0] is None or row[1] == "All years":
            continue
        want = budget[(budget["scenario"] == row[0]) & (budget["financial_year"] == row[1])
                      & (budget["item"] == "cost_total")][basis].iloc[0]
        assert row[total_col] == pytest.approx(want, abs=0.5)
        seen += 1
    assert seen == 2 * 2 * 2  # two scenarios, two years, cash and real terms
    ws = wb["Payback"]
    top = next(c.row for c in ws["A"] if c.value == "Option")
    names = [c.value for c in ws[top]]
    rows = [dict(zip(names, r)) for r in ws.iter_rows(min_row=top + 1, values_only=True) if r[0] is not None]
    years = [r for r in rows if r["Financial year"] != "Pays back"]
    assert [r["Financial year"] for r in years] == list(payback["financial_year"])
    for r, (_, rec) in zip(years, payback.iterrows()):
        assert r["Extra cost in the year (cash)"] == rec["difference_cash"]
        assert r["Extra cost added up to the year's end (real terms)"] == rec["cumulative_real_terms"]
        assert r["Futures paid back by the year's end"] == rec["paid_back_futures"]
    assert years[-1]["Covers"].startswith("part year")
    assert rows[-1]["Covers"].startswith("Does not pay back within the run")


def test_the_report_shows_the_cost_against_the_first_and_when_it_pays_back(compared):
    from workforce_sim.outputs.report import build_report
    out, _ = compared
    page = build_report(out)
    table = page[page.index("<table class='payback'>"):]
    payback = pd.read_csv(out / "payback.csv", dtype={"financial_year": str})
    assert "<h3>Cost against do-nothing by financial year</h3>" in page
    for _, rec in payback.iterrows():
        for kind in ("difference_cash", "cumulative_cash"):
            cell = table.split(f"data-year='{rec['financial_year']}'")[1].split(f"data-kind='{kind}'>")[1]
            assert cell.startswith(f"£{rec[kind] / 1e6:,.2f}m more"), cell[:40]
    assert "part year: " in page and "Does not pay back within the run" in page


def test_printed_words_say_when_it_pays_back_and_savings_as_savings():
    from workforce_sim.outputs.console import payback_lines
    t = payback_table(synthetic({"invest": [[100_000.0] + [-60_000.0] * 5] * 3,
                                 "cheaper": [[-10_000.0] * 6] * 3}))
    lines = payback_lines(t, {"ref": "Do nothing", "invest": "Foster carers"})
    text = "\n".join(lines)
    assert "Foster carers against Do nothing, by financial year" in text
    assert "  2029-30" in text and "saves £60k" in text and "£40k more" in text and "£-" not in text
    assert "Pays back in 2030-31 (in 3 of 3 futures by the end of the run)." in text
    assert "Pays back in 2028-29, the run's first year (in 3 of 3 futures by the end of the run)." in text
    assert not any("(" in line for line in lines[2:9])  # every future alike: no interval to show
    assert max(len(line) for line in lines) <= 110


def test_a_part_year_reads_the_same_everywhere_and_one_day_is_one_day():
    """The printed table, the payback sentence, the report's headings and the chart's ticks say a part year with one
    helper: "part year: 1 day", never "1 days"."""
    import pandas as pd

    from workforce_sim.outputs.words import part_year_words, payback_sentence
    assert part_year_words(1) == "part year: 1 day" and part_year_words(59) == "part year: 59 days"
    option = pd.Series({"payback_year": "2018-19", "payback_in_part_year": True, "payback_days": 1,
                        "first_year": "2018-19", "last_year": "2023-24", "last_year_part": True, "replications": 4,
                        "paid_back_futures": 4, "paid_back_share": 1.0, "paid_back_share_ci95_low": 0.51,
                        "paid_back_share_ci95_high": 1.0, "cumulative_cash_end": -5000.0})
    sentence = payback_sentence(option, "do-nothing", str, 1000)
    assert "Pays back in 2018-19 (part year: 1 day), the run's first year" in sentence, sentence
