"""Summaries of replications, and writing results to disk safely."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import re
import shutil
from functools import partial
from pathlib import Path
from typing import IO, Any, Callable

import numpy as np
import pandas as pd

from ..model.measures import COST_COLUMNS
from .files import FolderError, atomic_write, pid_alive, remove_stale_temporaries

# -- money ----------------------------------------------------------------------------------


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


def plain_number(x: float) -> str:
    """A number as a person writes it, never in scientific notation: 3131620, 15.6123, 0.000125, inf."""
    if not np.isfinite(x):
        return "" if np.isnan(x) else ("inf" if x > 0 else "-inf")
    if abs(x) >= 1e5:
        return f"{x:.0f}"
    return np.format_float_positional(x, precision=6, unique=True, fractional=False, trim="-")


def write_csv(df: pd.DataFrame, path: Path, plain: bool = False) -> None:
    """Write ``df`` to ``path`` as CSV, atomically (a reader never sees half a file).

    Numbers are written with 6 significant digits; with ``plain`` (for the small tables a person
    reads: summary, budget, compare), never in scientific notation (:func:`plain_number`).

    A text cell or column name beginning with =, +, -, @, a tab or a carriage return gets a
    single quote in front, so a spreadsheet shows it as text instead of running it as a formula
    (a scenario named ``=HYPERLINK(...)`` stays harmless). Numbers, including negative ones, are
    written as numbers.
    """
    safe = _inert_frame(df)
    # A carriage return inside a cell is not quoted by the csv module when lines end in \n, and a
    # reader would split the row there: quote every text cell in that (rare) case.
    quoting = csv.QUOTE_NONNUMERIC if _has_carriage_return(safe) else csv.QUOTE_MINIMAL
    if not plain and quoting == csv.QUOTE_MINIMAL:
        lines = csv_lines(safe, "%.6g")
        if lines is not None:  # the same bytes pandas writes, several times faster
            atomic_write(Path(path), lambda fh: fh.writelines(lines))
            return
    fmt = plain_number if plain else "%.6g"
    atomic_write(Path(path), lambda fh: safe.to_csv(fh, index=False, float_format=fmt, lineterminator="\n",
                                                    quoting=quoting))


def csv_lines(df: pd.DataFrame, fmt: str) -> list[str] | None:
    """The lines ``df.to_csv(index=False, float_format=fmt, lineterminator="\\n")`` writes, for a table whose
    float columns all follow two or more other columns (a run's weekly table); None for any other table, or one
    with a line break inside a text cell.

    pandas formats floats one number at a time through several Python calls (a weekly table of 300 futures:
    8 million numbers, about 9 s); here each float column is formatted in one pass with the same format (NaN
    as an empty cell, as pandas writes it) and the rows are joined as text (about 2 s). Formatted numbers
    hold no comma, quote or line break, so they need no quoting; the other columns and the header are
    written by pandas itself."""
    kinds = [col.dtype.kind for _, col in df.items()]
    k = next((i for i, kind in enumerate(kinds) if kind == "f"), len(kinds))
    if k < 2 or k == len(kinds) or len(df) == 0 or any(kind != "f" for kind in kinds[k:]):
        return None  # (one text column alone: csv writes an empty cell as "" where the row has no other)
    head = df.iloc[:, :k].to_csv(index=False, lineterminator="\n").split("\n")[:-1]
    if len(head) != len(df) + 1:
        return None  # a text cell held a line break: pandas quotes it across lines
    columns = []
    for i in range(k, len(kinds)):
        values = df.iloc[:, i].to_numpy()
        text = [fmt % v for v in values.tolist()]
        for j in np.flatnonzero(np.isnan(values)).tolist():
            text[j] = ""
        columns.append(text)
    header = df.iloc[:0].to_csv(index=False, lineterminator="\n")
    return [header] + [f"{a},{b}\n" for a, b in zip(head[1:], map(",".join, zip(*columns)))]


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
    def write(fh: IO) -> None:
        json.dump(obj, fh, indent=2, default=str)
        fh.write("\n")
    atomic_write(Path(path), write)


WORKBOOK = "results.xlsx"
RUN_FILES = ("weekly.csv", "summary.csv", "budget.csv", WORKBOOK, "manifest.json")
DERIVED = ("compare.csv", "payback.csv", "draws.csv", "report.html", "plots")  # made with or from a run's files
SENSITIVITY_FILES = ("sensitivity.csv", "points.csv")  # a sensitivity analysis's (with its manifest.json and plots/)
OUTPUTS = RUN_FILES + DERIVED + SENSITIVITY_FILES  # a new commit clears those of the old it does not write
JOURNAL = ".commit.json"
STAGING = ".staging-"


# more files to write with a result, chosen by the caller: given the result, each file's name and its writer (which is
# given the path to write); the Python API adds the workbook and charts this way (:mod:`workforce_sim.api`)
MoreFiles = Callable[[Any], dict[str, Callable[[Path], None]]]


def write_run(result, out_dir: Path, extra: dict[str, pd.DataFrame] | None = None,
              files: MoreFiles | None = None) -> list[Path]:
    """weekly.csv, summary.csv, budget.csv, manifest.json, any ``extra`` tables (e.g. compare.csv) and the
    files ``files(result)`` names (the Python API's add results.xlsx) into ``out_dir``, as one unit.

    The files are written into a staging folder inside ``out_dir``; then a small journal
    naming them is written (atomically: this is the moment the new run counts as written);
    then the previous run's derived files (compare.csv, report.html, plots/) are removed
    and the new files moved into place. If the process is killed before the journal
    exists, the folder keeps the previous run; after, :func:`recover_run_folder` (which
    every command reading or writing the folder calls first) finishes the move. Either
    way the folder holds one whole run, never parts of two.
    """
    weekly = result.weekly
    money = [c for c in COST_COLUMNS if c in weekly.columns]
    weekly = weekly.assign(**{c: weekly[c].round().astype("int64") for c in money})  # whole pounds: no 3.1e+06
    tables = {"weekly.csv": weekly, "summary.csv": result.summary, "budget.csv": result.budget}
    tables.update(extra or {})
    writers: dict[str, Callable[[Path], None]] = {
        name: partial(write_csv, df, plain=name != "weekly.csv") for name, df in tables.items()}
    writers.update(files(result) if files is not None else {})
    writers["manifest.json"] = lambda path: write_json(result.manifest, path)
    return commit_files(out_dir, writers)


def commit_files(out_dir: Path, writers: dict[str, Callable[[Path], None]]) -> list[Path]:
    """Write the files (or folders) ``writers`` name into ``out_dir`` as one unit; each writer is given the
    path to write. They are written into a staging folder, then a journal naming them is written (the
    moment they count as written), then the previous run's derived files are cleared and the new ones
    moved into place (see :func:`write_run`)."""
    out_dir = Path(out_dir)
    recover_run_folder(out_dir)
    staging = out_dir / f"{STAGING}{os.getpid()}"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    for name, write in writers.items():
        write(staging / name)
    names = list(writers)
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
    for name in OUTPUTS:
        if name not in names:
            target = out_dir / name
            if target.is_dir():
                shutil.rmtree(target, ignore_errors=True)
            else:
                target.unlink(missing_ok=True)
    for name in names:
        if (staging / name).is_dir() and (out_dir / name).is_dir():  # a folder (plots/) replaces the old one whole
            shutil.rmtree(out_dir / name, ignore_errors=True)
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
            if not (pid.isascii() and pid.isdigit() and pid_alive(int(pid))):
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
    weekly = pd.read_csv(out_dir / "weekly.csv", parse_dates=["date"]).copy()  # one block per type: quick to use
    summary = pd.read_csv(out_dir / "summary.csv")
    manifest = json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))
    return weekly, summary, manifest


# -- where runs are kept -------------------------------------------------------------------
LATEST = "latest"


def new_run_folder(parent: Path, now: dt.datetime | None = None) -> Path:
    """A new, empty folder for one run inside ``parent`` (e.g. ``outputs/baseline/2026-11-27_221530``).

    Named by the local date and time the run started; a second run in the same second gets
    ``-2``. The folder is created here (exclusively), so two runs never share one.
    """
    parent = Path(parent)
    parent.mkdir(parents=True, exist_ok=True)
    stamp = (now or dt.datetime.now()).strftime("%Y-%m-%d_%H%M%S")
    for i in range(1, 10_000):
        folder = parent / (stamp if i == 1 else f"{stamp}-{i}")
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            continue
    raise FolderError(f"{parent} has too many runs started at {stamp}")


def mark_latest(run_dir: Path) -> None:
    """Point ``latest`` in the run's parent folder at ``run_dir``: a link to open (where the system
    allows links) and ``latest.txt`` naming the folder (everywhere)."""
    run_dir = Path(run_dir)
    parent = run_dir.parent
    atomic_write(parent / f"{LATEST}.txt", lambda fh: fh.write(run_dir.name + "\n"))
    tmp = parent / f".{LATEST}-{os.getpid()}"
    try:
        tmp.unlink(missing_ok=True)
        os.symlink(run_dir.name, tmp, target_is_directory=True)
        os.replace(tmp, parent / LATEST)
    except OSError:  # no symbolic links here (e.g. Windows without developer mode): latest.txt says it
        tmp.unlink(missing_ok=True)


def resolve_run_folder(path: Path) -> Path:
    """The run folder ``path`` means: itself, or, for a folder of runs such as ``outputs/baseline``,
    the latest run in it."""
    path = Path(path)
    link = path / LATEST
    if link.is_dir() and (link / "manifest.json").is_file():
        return path / os.readlink(link) if link.is_symlink() else link
    note = path / f"{LATEST}.txt"
    if note.is_file():
        name = note.read_text(encoding="utf-8").strip()
        if name and "/" not in name and "\\" not in name and (path / name / "manifest.json").is_file():
            return path / name
    return path


def interrupted_runs(parent: Path) -> list[Path]:
    """Run folders in ``parent`` holding an unfinished run (one ``--resume`` can finish), newest last."""
    parent = Path(parent)
    if not parent.is_dir():
        return []
    def order(p: Path):  # "..._221037-10" after "..._221037-2"
        stamp, _, n = p.name.rpartition("-")
        return (stamp, int(n)) if n.isascii() and n.isdigit() and "_" in stamp else (p.name, 1)

    return sorted((p for p in parent.iterdir() if p.is_dir() and not p.is_symlink() and (p / ".partial").is_dir()),
                  key=order)
