"""A newcomer following the README: every command it shows, in order, in an empty folder.

Runs are shortened (``--years 1 --reps 3``, no start-state check, which has its own tests) so
that the whole walk takes about a minute; everything else is the README's own command line.
Then what the README promises is checked on what the commands left behind: no run overwrote
another, the baseline's outputs are dated from 1 April 2027 (nothing from 2019), no interval lies
outside what its measure can be, and the workbook holds the budget of budget.csv.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from workforce_sim.analysis.money import financial_year_days
from workforce_sim.analysis.summary import HEADLINE_METRICS
from workforce_sim.cli import main
from workforce_sim.model.measures import describe
from workforce_sim.scenario.loading import bundled_path

README = Path(__file__).resolve().parent.parent / "README.md"
SHORT = ["--years", "1", "--reps", "3"]
# a 2019 date as outputs write one: ISO dates, months and years in words, financial years
DATE_2019 = re.compile(r"(?<![\d.])(2019-\d\d-\d\d|2018-19|2019-20|[A-Z][a-z]+ 2019\b|2019 \()")
RUNS = ("run", "compare", "goal-seek")  # commands that simulate: shortened
CHECKED = ("run", "compare", "validate")  # commands with a start-state check: skipped here


def readme_commands() -> list[list[str]]:
    """Every ``workforce-sim`` command in the README's bash blocks, in order, as argument lists."""
    blocks = re.findall(r"```bash\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    out = []
    for block in blocks:
        for line in block.splitlines():
            line = line.split("  #")[0].strip()
            if line.startswith("workforce-sim "):
                out.append(shlex.split(line)[1:])
            elif line.startswith("python -m workforce_sim ") and "pip install" not in line:
                out.append(shlex.split(line)[3:])
    return out


def shortened(args: list[str]) -> list[str]:
    """The command as the test runs it: simulations shortened, start checks skipped."""
    args = list(args)
    if args[0] in RUNS:
        args += SHORT
    if args[0] == "goal-seek":  # 36 futures: enough for an interval to reach 90% (35 of 35 gives 90.1%)
        args += ["--max", "4", "--years", "0.5", "--reps", "36"]
    if args[0] in CHECKED:
        args.append("--no-start-check")
    if args[0] == "settle":
        args += ["--years", "4", "--reps", "2"]
    if args[0] == "sensitivity":  # two of the baseline's settings: 5 points one at a time, 6 for Morris
        args += ["--years", "0.5", "--reps", "2", "--trajectories", "2", "--setting", "demand.trend_per_year",
                 "--setting", "cases.drift.effect"]
    return args


@pytest.fixture(scope="module")
def walked(tmp_path_factory):
    """An empty folder where every README command has run (with the project's `scenarios` link)."""
    home = tmp_path_factory.mktemp("newcomer")
    os.symlink(bundled_path("baseline").parent, home / "scenarios", target_is_directory=True)
    old = Path.cwd()
    os.chdir(home)
    try:
        # the first command of the README, as a newcomer types it (after the install)
        first = subprocess.run([sys.executable, "-m", "workforce_sim", "run", "baseline", *SHORT, "--no-start-check"],
                               capture_output=True, text=True)
        assert first.returncode == 0, first.stderr
        results = []
        for args in readme_commands():
            res = CliRunner().invoke(main, shortened(args), catch_exceptions=False)
            results.append((args, res))
            assert res.exit_code == 0, f"workforce-sim {' '.join(args)} failed:\n{res.output}"
        yield home, first, results
    finally:
        os.chdir(old)


def test_the_readme_says_how_to_open_the_notebook():
    """The notebook the README mentions can be opened by its own command: an extra that installs JupyterLab."""
    import tomllib

    text = README.read_text(encoding="utf-8")
    extras = re.findall(r'pip install -e "\.\[(\w+)\]" && python -m jupyter lab notebooks/(\S+\.ipynb)', text)
    assert extras, "the README gives no command that opens the notebook"
    defined = tomllib.loads((README.parent / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for extra, notebook in extras:
        assert any(d.startswith("jupyterlab") for d in defined[extra]) and (README.parent / "notebooks" / notebook)
        assert (README.parent / "notebooks" / notebook).is_file()


def test_the_readme_shows_the_main_commands():
    names = {args[0] for args in readme_commands()}
    assert {"run", "compare", "goal-seek", "plot", "report", "init", "validate", "settle", "calibrate", "backtest",
            "trace", "scenarios", "example-data", "sensitivity"} <= names


def test_no_run_overwrites_another(walked):
    home, first, _ = walked
    runs = sorted(p for p in (home / "outputs" / "baseline").iterdir() if p.is_dir() and not p.is_symlink())
    # the first command, the README's `run baseline --set ...` and `run baseline my-council.toml` go elsewhere
    assert len(runs) >= 2
    labels = [json.loads((r / "manifest.json").read_text())["labels"] for r in runs]
    assert ["baseline"] in labels and ["baseline, demand.trend_per_year=0.05"] in labels
    latest = (home / "outputs" / "baseline" / "latest.txt").read_text().strip()
    assert latest == runs[-1].name and (home / "outputs" / "baseline" / "latest" / "manifest.json").is_file()
    assert "outputs/baseline/" in first.stdout


def test_the_baseline_outputs_are_dated_from_april_2027(walked):
    home, first, results = walked
    for run_dir in (home / "outputs" / "baseline").iterdir():
        if not run_dir.is_dir() or run_dir.is_symlink():
            continue
        weekly = pd.read_csv(run_dir / "weekly.csv", usecols=["date"])
        assert weekly["date"].iloc[0] == "2027-04-01"
        for f in run_dir.iterdir():
            if f.suffix in (".csv", ".json", ".html"):
                assert not DATE_2019.search(f.read_text(encoding="utf-8")), f"{f} has a 2019 date"
    assert not DATE_2019.search(first.stdout)
    printed = [res.output for args, res in results if args[:2] == ["run", "baseline"]]
    assert printed and not any(DATE_2019.search(text) for text in printed)
    assert DATE_2019.search("2019-02-01") and DATE_2019.search("(Nov 2019)") and DATE_2019.search("2019-20")
    assert not DATE_2019.search("2.72019,2019.5")  # numbers that happen to hold the digits are not dates


def _runs(home: Path) -> list[Path]:
    """Every run folder the walk left (a folder with a manifest), each once."""
    return sorted({p.parent.resolve() for p in (home / "outputs").rglob("manifest.json")})


def test_no_run_starts_before_this_financial_year_and_whole_years_are_whole(walked):
    """A planner budgets for this financial year or the next: no run of the README starts before 1 April of
    the financial year we are in (the 2019 scenarios are the backtest's, started in 2019 on purpose), and a run
    of whole years from 1 April covers whole financial years, with no part-year row after them."""
    home, _, _ = walked
    today = dt.date.today()
    this_year = dt.date(today.year if today.month >= 4 else today.year - 1, 4, 1)
    checked = 0
    for run_dir in _runs(home):
        manifest = json.loads((run_dir / "manifest.json").read_text())
        if any("2019" in s["name"] for s in manifest["scenarios"]) or not (run_dir / "weekly.csv").is_file():
            continue
        start = dt.date.fromisoformat(pd.read_csv(run_dir / "weekly.csv", usecols=["date"], nrows=1)["date"][0])
        assert start >= this_year, f"{run_dir} starts on {start}, before this financial year ({this_year})"
        years = float(manifest["years"])
        if years.is_integer() and (start.month, start.day) == (4, 1):
            budget = pd.read_csv(run_dir / "budget.csv").drop_duplicates(["scenario", "financial_year"])
            assert len(budget["financial_year"].unique()) == years, run_dir
            assert all(budget["days"] == budget["financial_year"].map(financial_year_days)), run_dir
            checked += 1
    assert checked >= 3


def test_run_compare_and_goal_seek_print_no_line_wider_than_100_characters(walked):
    """What run, compare and goal-seek print fits a normal terminal: tables built within 100 columns, sentences
    broken between words (the full tables are in the files)."""
    _, first, results = walked
    printed = [first.stdout] + [res.output for args, res in results if args[0] in ("run", "compare", "goal-seek")]
    assert len(printed) >= 4 and any("Option" in text for text in printed)
    wide = [line for text in printed for line in text.splitlines() if len(line) > 100]
    assert wide == []


def test_no_interval_lies_outside_what_its_measure_can_be(walked):
    home, _, _ = walked
    summaries = list((home / "outputs").rglob("summary.csv"))
    assert len(summaries) >= 4
    for path in summaries:
        s = pd.read_csv(path)
        heads = s["metric"].isin(HEADLINE_METRICS)
        body = s[~heads]
        assert (body[["ci95_low", "mean"]].min(axis=1).dropna() >= 0).all(), path
        pct = body[body["unit"] == "%"]
        pct = pct[pct["metric"] != "supervision_load_pct"]
        assert (pct[["ci95_high", "mean", "p90"]].max(axis=1).dropna() <= 100 + 1e-9).all(), path
        ok = body.dropna(subset=["ci95_low"])
        assert (ok["ci95_low"] <= ok["mean"] + 1e-9).all() and (ok["mean"] <= ok["ci95_high"] + 1e-9).all()
        p = s[s["metric"] == "p_sustained"]
        assert ((p["ci95_low"] >= 0) & (p["ci95_high"] <= 1)).all()
        for m in body["metric"].unique():
            assert describe(m).unit in set(body.loc[body["metric"] == m, "unit"])  # every row says its unit


def test_the_workbook_holds_the_budget_of_budget_csv(walked):
    from openpyxl import load_workbook

    home, _, _ = walked
    for run_dir in [home / "outputs" / "baseline" / "latest", home / "outputs" / "compare-do-nothing" / "latest"]:
        budget = pd.read_csv(run_dir / "budget.csv")
        wb = load_workbook(run_dir / "results.xlsx", read_only=True, data_only=True)
        assert {"Headline", "Budget", "Assumptions", "Summary"} <= set(wb.sheetnames)
        rows = [r for r in wb["Budget"].iter_rows(values_only=True)]
        header = next(r for r in rows if r and "Total" in r and "Financial year" in r)
        i_year, i_total = header.index("Financial year"), header.index("Total")
        cash = [r for r in rows if r and len(r) > i_total and isinstance(r[i_total], (int, float))
                and str(r[i_year]).startswith("20")]
        totals = budget[budget["item"] == "cost_total"]
        expected = sorted(np.round(np.concatenate([totals["cash"], totals["real_terms"]]), 0))
        got = sorted(np.round([r[i_total] for r in cash], 0))
        assert got == expected
        if "compare" in str(run_dir):
            assert "Options compared" in wb.sheetnames


def test_the_workbook_gives_one_figure_per_measure(walked):
    """The README's comparison's workbook: a measure on both the Headline and Options compared sheets has the
    same value on both (they once gave do-nothing's caseload at the end as 18.99 and 18.64)."""
    from openpyxl import load_workbook

    from workforce_sim.outputs.workbook import AT_END, CHANCE, CHANCE_HIGH, CHANCE_LOW, COST_A_YEAR, FIRST_BREACH

    home, _, _ = walked
    wb = load_workbook(home / "outputs" / "compare-do-nothing" / "latest" / "results.xlsx", read_only=True)

    def table(ws, first):
        rows = list(ws.iter_rows(values_only=True))
        top = next(i for i, r in enumerate(rows) if r and r[0] == first)
        out = {}
        for r in rows[top + 1:]:
            if not r or r[0] is None:  # the table ends at the first empty row
                break
            out[r[0]] = dict(zip(rows[top], r))
        return out

    head, options = table(wb["Headline"], "Scenario"), table(wb["Options compared"], "Option")
    assert set(head) == set(options) and len(head) >= 2
    for name in head:
        for heading in (CHANCE, CHANCE_LOW, CHANCE_HIGH, FIRST_BREACH, AT_END, COST_A_YEAR):
            a, b = head[name][heading], options[name][heading]
            assert a == b or a == pytest.approx(b, rel=1e-9), (name, heading)


def test_scenario_files_are_not_written_into_the_package(walked):
    home, _, _ = walked
    bundled = set(p.name for p in bundled_path("baseline").parent.iterdir())
    assert not any(n.startswith(("my-council", "mine")) for n in bundled)
    res = CliRunner().invoke(main, ["calibrate", "data/example", "--out", "scenarios/mine.toml"])
    assert res.exit_code == 2 and "bundled scenarios" in res.output
    assert not (bundled_path("baseline").parent / "mine.toml").exists()


def test_goal_seek_and_backtest_write_their_results(walked):
    home, _, _ = walked
    seek = pd.read_csv(next((home / "outputs").glob("goal-seek-do-nothing/latest/goal_seek.csv")))
    assert {"level", "value", "ci95_low", "ci95_high", "meets_with_its_interval"} <= set(seek.columns)
    back = pd.read_csv(next((home / "outputs").glob("backtest-example/latest/backtest.csv")))
    assert len(back) > 0 and "actual" in back.columns
