"""Reading a finished run's folder once, for every output (charts, report, web page): its tables, scenarios,
breach rules and labels (:class:`RunTables`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..analysis.breaches import BreachRule, breach_rules
from ..analysis.compare import compare_table
from ..analysis.money import money_settings
from ..analysis.payback import PAYBACK_COLUMNS, payback_table
from ..scenario.schema import Scenario
from .folder import read_run


def scenario_names(frame: pd.DataFrame) -> list[str]:
    """The scenarios of a table, in the run's order."""
    return list(dict.fromkeys(frame["scenario"]))


@dataclass
class RunTables:
    """What a finished run's folder holds, read once for its charts and its report.

    ``compare`` is compare.csv (a ``compare`` run), or worked out from weekly.csv for a run of several
    scenarios without one (or with one from an older workforce_sim); None for one scenario. ``budget``
    is budget.csv, never worked out again from weekly.csv's rounded pounds (None if the run has none).
    ``payback`` is payback.csv (a ``compare`` run), or worked out from weekly.csv like ``compare``; None for
    one scenario. Scenario names and labels in these tables are the manifest's (a CSV file may hold a name
    with a quote in front, written so that a spreadsheet does not run it as a formula).
    """

    folder: Path
    weekly: pd.DataFrame
    summary: pd.DataFrame
    manifest: dict
    scenarios: list
    rules: dict[str, BreachRule]
    labels: dict[str, str]
    budget: pd.DataFrame | None
    compare: pd.DataFrame | None
    payback: pd.DataFrame | None = None


BUDGET_NEEDS = {"scenario", "financial_year", "days", "item", "cash", "cash_ci95_low", "cash_ci95_high", "real_terms",
                "real_terms_ci95_low", "real_terms_ci95_high", "prices"}


COMPARE_NEEDS = {"scenario", "cost_per_year", "cost_difference_per_year", "p_sustained",
                 "p_sustained_difference_ci95_low", "net_present_cost_difference_ci95_high",
                 "breach_weeks_avoided_ci95_high", "outcome_vs_first",
                 "cost_vs_first", "agency_share_pct_end"}


def _named_as_manifest(table: pd.DataFrame, names: list[str], needs: set[str]) -> pd.DataFrame | None:
    """``table`` with its scenario column set to the manifest's names (matched by order), or None if its
    scenarios are not the run's or it lacks a column in ``needs`` (written by an older workforce_sim)."""
    if not needs <= set(table.columns):
        return None
    found = scenario_names(table)
    if len(found) != len(names):
        return None
    return table.assign(scenario=table["scenario"].map(dict(zip(found, names))))


def _payback(run_dir: Path, weekly: pd.DataFrame, scns: list[Scenario]) -> pd.DataFrame | None:
    """payback.csv with the manifest's names (its options matched by order, and the first), or worked out from
    weekly.csv when the run has none or one from an older workforce_sim; None for one scenario."""
    names = [s.name for s in scns]
    if len(names) < 2:
        return None
    if (run_dir / "payback.csv").is_file():
        table = pd.read_csv(run_dir / "payback.csv", dtype={"financial_year": str, "payback_year": str,
                                                            "payback_year_real_terms": str})
        if set(PAYBACK_COLUMNS) <= set(table.columns) and len(scenario_names(table)) == len(names) - 1:
            return table.assign(scenario=table["scenario"].map(dict(zip(scenario_names(table), names[1:]))),
                                against=names[0])
    return payback_table(weekly, money_settings(scns))


def run_tables(run_dir: Path) -> RunTables:
    """Read the finished run in ``run_dir`` (weekly.csv, summary.csv, budget.csv, compare.csv, payback.csv,
    manifest.json)."""

    run_dir = Path(run_dir)
    weekly, summary, manifest = read_run(run_dir)
    scns = [Scenario.model_validate(s) for s in manifest["scenarios"]]
    names = [s.name for s in scns]
    rules = breach_rules(scns)
    labels = {s.name: s.label for s in scns}
    budget = None
    if (run_dir / "budget.csv").is_file():
        budget = _named_as_manifest(pd.read_csv(run_dir / "budget.csv", dtype={"financial_year": str}), names,
                                    BUDGET_NEEDS)
    compare = None
    if len(scns) > 1:
        if (run_dir / "compare.csv").is_file():
            compare = _named_as_manifest(pd.read_csv(run_dir / "compare.csv"), names, COMPARE_NEEDS)
        if compare is None:
            compare = compare_table(weekly, rules, money_settings(scns), labels)
        compare = compare.assign(label=compare["scenario"].map(labels))
    return RunTables(run_dir, weekly, summary, manifest, scns, rules, labels, budget, compare,
                     _payback(run_dir, weekly, scns))
