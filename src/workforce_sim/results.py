"""Summaries of replications, and writing results to disk safely."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from .calendar import WEEKS_PER_YEAR
from .files import FolderError, atomic_write, pid_alive, remove_stale_temporaries
from .model.measures import COST_COLUMNS, ID_COLUMNS, describe


def mean_ci(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t confidence interval of independent replication values."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return np.nan, np.nan, np.nan
    m = float(v.mean())
    if v.size < 2:
        return m, np.nan, np.nan
    half = float(stats.t.ppf(0.5 + level / 2, v.size - 1) * v.std(ddof=1) / np.sqrt(v.size))
    return m, m - half, m + half


def periods(n_weeks: int) -> list[tuple[str, int, int]]:
    """('year 1', first week, end week), ..., then ('whole run', 0, n_weeks)."""
    out = []
    per_year = int(round(WEEKS_PER_YEAR))
    start, y = 0, 1
    while start < n_weeks:
        end = min(n_weeks, start + per_year)
        if end - start >= per_year // 2 or start == 0:
            out.append((f"year {y}", start, end))
        start, y = end, y + 1
    out.append(("whole run", 0, n_weeks))
    return out


def summarise(weekly: pd.DataFrame, rules: dict[str, "BreachRule"] | None = None) -> pd.DataFrame:
    """Per scenario, metric and period: the weekly average in each replication, summarised over replications.

    Columns: scenario, metric, period, mean, ci95_low, ci95_high, p10, p50, p90, replications.
    For flows (contacts, leavers, ...) the value is the average per week; for
    stocks (open cases, staff) the average level; for percentages the average
    of the weeks that had something to measure. With ``rules`` (each scenario's
    :class:`BreachRule`), the headline rows of :func:`headline` are added.
    """
    metrics = [c for c in weekly.columns if c not in ID_COLUMNS and not c.startswith("_")]
    rows = []
    for scen, df in weekly.groupby("scenario", sort=False):
        n_weeks = int(df["week"].max()) + 1
        for label, a, b in periods(n_weeks):
            part = df[(df["week"] >= a) & (df["week"] < b)]
            per_rep = part.groupby("replication")[metrics].mean()
            for m in metrics:
                v = per_rep[m].to_numpy(dtype=float)
                mean, lo, hi = mean_ci(v)
                fin = v[np.isfinite(v)]
                q = np.percentile(fin, [10, 50, 90]) if fin.size else [np.nan] * 3
                rows.append((scen, m, label, mean, lo, hi, q[0], q[1], q[2], int(fin.size)))
    out = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    if rules:
        out = pd.concat([out, headline(weekly, rules)], ignore_index=True)
    return out


SUMMARY_COLUMNS = ["scenario", "metric", "period", "mean", "ci95_low", "ci95_high", "p10", "p50", "p90", "replications"]


# -- the headline answer ---------------------------------------------------------------------
def wilson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion k/n (sound near 0 and 1, unlike the normal interval)."""
    if n == 0:
        return np.nan, np.nan
    z = stats.norm.ppf(0.5 + level / 2)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


MANAGEABLE_MEASURE = "caseload_incl_unallocated"
MANAGEABLE_MEANING = ("caseloads count waiting (unallocated) children against the staff who would hold them, and a "
                      "breach is that caseload above the threshold for {weeks} weeks running, or open cases with "
                      "nobody to hold them")


@dataclass(frozen=True)
class BreachRule:
    """When caseloads stop being manageable: the manageable measure (allocated plus unallocated cases per
    case-holding FTE) above ``threshold``, or missing (open cases and no case-holding staff), for ``weeks``
    consecutive weeks."""

    threshold: float
    weeks: int = 4

    def describe(self) -> str:
        """The rule in one sentence for a reader."""
        return (f"Threshold: {self.threshold:g} cases per case-holding FTE, averaged over the service (individual "
                f"workers may be above it); " + MANAGEABLE_MEANING.format(weeks=self.weeks) + ".")


def breach_rules(scenarios) -> dict[str, BreachRule]:
    """Each scenario's breach rule, from its standards, keyed by scenario name."""
    return {s.name: BreachRule(s.standards.manageable_caseload, s.standards.breach_weeks) for s in scenarios}


def breach_starts(values: np.ndarray, rule: BreachRule) -> np.ndarray:
    """Weeks that begin a run of at least ``rule.weeks`` weeks above the threshold or missing (one series)."""
    over = ~(np.asarray(values, dtype=float) <= rule.threshold)  # NaN counts as over: never read as manageable
    k = rule.weeks
    if over.size < k:
        return np.zeros(over.size, bool)
    full = np.convolve(over.astype(int), np.ones(k, int), mode="valid") == k
    return np.concatenate([full, np.zeros(k - 1, bool)])


def weeks_in_breach(values: np.ndarray, rule: BreachRule) -> int:
    """How many weeks of one series lie in a breach (a run of at least ``rule.weeks`` weeks over)."""
    start = breach_starts(values, rule)
    covered = np.zeros(start.size + rule.weeks, int)
    for i in np.flatnonzero(start):
        covered[i:i + rule.weeks] = 1
    return int(covered.sum())


def first_breach(weekly: pd.DataFrame, rule: BreachRule) -> pd.Series:
    """Per replication: the week (0 = the first) in which the first breach begins; inf if none."""
    out = {}
    for rep, part in weekly.groupby("replication", sort=True):
        starts = np.flatnonzero(breach_starts(part[MANAGEABLE_MEASURE].to_numpy(), rule))
        out[rep] = float(part["week"].to_numpy()[starts[0]]) if starts.size else np.inf
    return pd.Series(out, dtype=float).rename_axis("replication")


def headline(weekly: pd.DataFrame, rules: dict[str, BreachRule]) -> pd.DataFrame:
    """Will caseloads stay manageable, and for how long?

    Rows (in the summary.csv layout), per scenario:

    - ``p_sustained``: the share of replications with no breach (see :class:`BreachRule`)
      beginning by the end of each year (period "year k") and of the whole run, with a
      Wilson 95% interval;
    - ``weeks_to_first_breach``: the 10th, 50th and 90th percentiles of the week the first
      breach begins. A replication with no breach counts as "never" (inf): it is not left
      out, so a percentile is inf when too few breached.
    """
    rows = []
    for scen, df in weekly.groupby("scenario", sort=False):
        breach = first_breach(df, rules[scen])
        n = len(breach)
        n_weeks = int(df["week"].max()) + 1
        for label, _, b in periods(n_weeks):
            k = int((breach >= b).sum())
            lo, hi = wilson(k, n)
            rows.append((scen, "p_sustained", label, k / n, lo, hi, np.nan, np.nan, np.nan, n))
        q = np.percentile(breach.to_numpy(), [10, 50, 90], method="inverted_cdf")
        rows.append((scen, "weeks_to_first_breach", "whole run", np.nan, np.nan, np.nan, q[0], q[1], q[2], n))
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


# -- money ----------------------------------------------------------------------------------



def financial_year(dates: pd.Series) -> pd.Series:
    """English financial years, April to March: 2019-02-01 is in 2018-19."""
    d = pd.to_datetime(dates)
    start = d.dt.year - (d.dt.month < 4)
    return start.astype(str) + "-" + ((start + 1) % 100).astype(str).str.zfill(2)


def budget_table(weekly: pd.DataFrame) -> pd.DataFrame:
    """Cost per financial year (a week counts in the year its first day falls in), per scenario and item:
    the mean over replications with a 95% confidence interval. ``weeks`` shows part years."""
    df = weekly.assign(financial_year=financial_year(weekly["date"]))
    per_rep = df.groupby(["scenario", "financial_year", "replication"], sort=False)[COST_COLUMNS].sum()
    weeks = df[df["replication"] == df["replication"].min()].groupby(["scenario", "financial_year"], sort=False).size()
    rows = []
    for (scen, fy), part in per_rep.groupby(level=[0, 1], sort=False):
        for item in COST_COLUMNS:
            mean, lo, hi = mean_ci(part[item].to_numpy())
            rows.append((scen, fy, int(weeks[(scen, fy)]), item, mean, lo, hi))
    return pd.DataFrame(rows, columns=["scenario", "financial_year", "weeks", "item", "mean", "ci95_low", "ci95_high"])


# -- how many replications are enough ------------------------------------------------------
PRECISION_MEASURES = ["caseload_mean", "caseload_p90", "workers_over_threshold_pct", "assessments_in_timescale_pct",
                      "staff_fte"]


def precision_report(weekly: pd.DataFrame, precision: float) -> pd.DataFrame:
    """For each scenario and key measure (whole-run average per replication): is the 95% CI
    half-width within ``precision`` times the mean, and about how many replications would make it so?

    A percentage is judged against its whole scale (100 points), not its mean: a share near zero (few
    workers over the threshold in a service that copes) would otherwise never be precise enough."""
    rows = []
    for scen, df in weekly.groupby("scenario", sort=False):
        per_rep = df.groupby("replication")[PRECISION_MEASURES].mean()
        n = len(per_rep)
        for m in PRECISION_MEASURES:
            mean, lo, hi = mean_ci(per_rep[m].to_numpy(dtype=float))
            half = (hi - lo) / 2 if np.isfinite(hi) else np.inf
            scale = 100.0 if describe(m).unit == "%" else abs(mean)
            rel = half / scale if scale else (0.0 if half == 0 else np.inf)
            need = n if rel <= precision else (int(np.ceil(n * (rel / precision) ** 2)) if np.isfinite(rel) else 2 * n)
            rows.append({"scenario": scen, "measure": m, "mean": mean, "half_width": half,
                         "relative_half_width": rel, "met": bool(rel <= precision), "replications_needed": need})
    return pd.DataFrame(rows)


# -- writing -------------------------------------------------------------------------------
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _inert(cell):
    """A text cell a spreadsheet would run as a formula, with a single quote before it; anything else as it is.

    Text that is just a number ("-3", "+4.5") is left alone: a spreadsheet reads it as a number.
    """
    if isinstance(cell, str) and cell.startswith(_FORMULA_START) and not _NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


def _inert_frame(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with every formula-like text cell and column name neutralised; numeric columns untouched.

    Returns ``df`` itself when nothing needs changing, so large results are not copied.
    """
    out = df
    for i, col in enumerate(df.columns):
        s = df.iloc[:, i]
        if isinstance(s.dtype, pd.CategoricalDtype):
            cats = s.cat.categories
            if any(_inert(c) is not c for c in cats):
                s = s.cat.rename_categories([_inert(c) for c in cats])
        elif s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
            changes = {v: _inert(v) for v in pd.unique(s) if _inert(v) is not v}
            if changes:
                s = s.map(lambda v: changes.get(v, v) if isinstance(v, str) else v)
        else:
            continue  # numbers, booleans and dates: nothing a spreadsheet would run
        if s is not df.iloc[:, i]:
            if out is df:
                out = df.copy()
            out.isetitem(i, s)
    names = [_inert(c) for c in df.columns]
    if any(n is not c for n, c in zip(names, df.columns)):
        out = out.copy() if out is df else out
        out.columns = names
    return out


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """Write ``df`` to ``path`` as CSV, atomically (a reader never sees half a file).

    A text cell or column name beginning with =, +, -, @, a tab or a carriage return gets a
    single quote in front, so a spreadsheet shows it as text instead of running it as a formula
    (a scenario named ``=HYPERLINK(...)`` stays harmless). Numbers, including negative ones, are
    written as numbers.
    """
    safe = _inert_frame(df)
    # A carriage return inside a cell is not quoted by the csv module when lines end in \n, and a
    # reader would split the row there: quote every text cell in that (rare) case.
    quoting = csv.QUOTE_NONNUMERIC if _has_carriage_return(safe) else csv.QUOTE_MINIMAL
    atomic_write(Path(path), lambda fh: safe.to_csv(fh, index=False, float_format="%.6g", lineterminator="\n",
                                                    quoting=quoting))


def _has_carriage_return(df: pd.DataFrame) -> bool:
    """Whether any column name or text cell of ``df`` holds a carriage return."""
    if any(isinstance(c, str) and "\r" in c for c in df.columns):
        return True
    for i in range(df.shape[1]):
        s = df.iloc[:, i]
        values = s.cat.categories if isinstance(s.dtype, pd.CategoricalDtype) else (
            pd.unique(s) if s.dtype == object or pd.api.types.is_string_dtype(s.dtype) else ())
        if any(isinstance(v, str) and "\r" in v for v in values):
            return True
    return False


def write_json(obj: dict, path: Path) -> None:
    """Write ``obj`` to ``path`` as indented JSON, atomically."""
    atomic_write(Path(path), lambda fh: (json.dump(obj, fh, indent=2, default=str), fh.write("\n")))


RUN_FILES = ("weekly.csv", "summary.csv", "budget.csv", "manifest.json")
DERIVED = ("compare.csv", "report.html", "plots")  # made from a run's files: cleared when a new run replaces it
JOURNAL = ".commit.json"
STAGING = ".staging-"


def write_run(result, out_dir: Path, extra: dict[str, pd.DataFrame] | None = None) -> list[Path]:
    """weekly.csv, summary.csv, budget.csv, manifest.json (and any ``extra`` tables, e.g. compare.csv) into
    ``out_dir``, as one unit.

    The files are written into a staging folder inside ``out_dir``; then a small journal
    naming them is written (atomically: this is the moment the new run counts as written);
    then the previous run's derived files (compare.csv, report.html, plots/) are removed
    and the new files moved into place. If the process is killed before the journal
    exists, the folder keeps the previous run; after, :func:`recover_run_folder` (which
    every command reading or writing the folder calls first) finishes the move. Either
    way the folder holds one whole run, never parts of two.
    """
    out_dir = Path(out_dir)
    recover_run_folder(out_dir)
    staging = out_dir / f"{STAGING}{os.getpid()}"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    tables = {"weekly.csv": result.weekly, "summary.csv": result.summary, "budget.csv": result.budget}
    tables.update(extra or {})
    for name, df in tables.items():
        write_csv(df, staging / name)
    write_json(result.manifest, staging / "manifest.json")
    names = list(tables) + ["manifest.json"]
    write_json({"staging": staging.name, "files": names}, out_dir / JOURNAL)
    _roll_forward(out_dir)
    return [out_dir / n for n in names]


def _roll_forward(out_dir: Path) -> None:
    """Finish the commit the journal describes: clear derived files, move the staged files in, tidy up.

    Each step can be repeated, so a commit interrupted at any point is finished by running this again.
    """
    journal = out_dir / JOURNAL
    try:
        plan = json.loads(journal.read_text(encoding="utf-8"))
        staging, names = out_dir / plan["staging"], list(plan["files"])
    except FileNotFoundError:
        return
    except (ValueError, KeyError, TypeError):  # not our journal: nothing can be finished from it
        journal.unlink(missing_ok=True)
        return
    for name in DERIVED:
        if name not in names:
            target = out_dir / name
            if target.is_dir():
                shutil.rmtree(target, ignore_errors=True)
            else:
                target.unlink(missing_ok=True)
    for name in names:
        try:
            os.replace(staging / name, out_dir / name)
        except FileNotFoundError:  # moved already (by an earlier attempt, or a reader finishing it)
            pass
    shutil.rmtree(staging, ignore_errors=True)
    journal.unlink(missing_ok=True)


def recover_run_folder(out_dir: Path) -> None:
    """Leave ``out_dir`` holding one whole run: finish a commit that was interrupted after its journal was
    written, and remove staging folders and temporary files left by writers that no longer run.

    Safe on a folder that needs nothing, and on one this process cannot write (it then does nothing).
    """
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        return
    try:
        _roll_forward(out_dir)
        for staging in out_dir.glob(STAGING + "*"):
            pid = staging.name[len(STAGING):]
            if not (pid.isdigit() and pid_alive(int(pid))):
                shutil.rmtree(staging, ignore_errors=True)
        for folder in (out_dir, out_dir / "plots", out_dir / ".partial"):
            if folder.is_dir():
                remove_stale_temporaries(folder)
    except OSError:
        pass


def previous_run(out_dir: Path) -> dict | None:
    """The manifest of the run ``out_dir`` holds, or None if it holds none.

    Raises :class:`FolderError` if it holds a run's files but no readable manifest.
    """
    out_dir = Path(out_dir)
    present = [n for n in RUN_FILES if (out_dir / n).exists()]
    if not present:
        return None
    try:
        manifest = json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))
        if isinstance(manifest, dict) and isinstance(manifest.get("scenarios"), list):
            return manifest
    except (OSError, ValueError):
        pass
    raise FolderError(f"{out_dir} holds {', '.join(present)} but not a complete workforce-sim run (no readable "
                      "manifest.json). Add --replace to overwrite them, or choose another --out folder.")


def read_run(out_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Read back what :func:`write_run` wrote (finishing first a write that was interrupted)."""
    out_dir = Path(out_dir)
    recover_run_folder(out_dir)
    weekly = pd.read_csv(out_dir / "weekly.csv", parse_dates=["date"])
    summary = pd.read_csv(out_dir / "summary.csv")
    manifest = json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))
    return weekly, summary, manifest
