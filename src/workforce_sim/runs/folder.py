"""Summaries of replications, and writing results to disk safely."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import re
import secrets
import shutil
from functools import partial
from pathlib import Path
from typing import IO, Any, Callable

import numpy as np
import pandas as pd

from ..model.measures import COST_COLUMNS
from . import beside
from .files import LOCK, FolderError, atomic_write, clear_stale_lock, pid_alive, remove_stale_temporaries

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
    number columns (floats, and integers among them, such as a run's whole pounds) all follow two or more other
    columns, the first of them a float (a run's weekly table); None for any other table, or one with a line
    break inside a text cell.

    pandas formats floats one number at a time through several Python calls (a weekly table of 300 futures:
    8 million numbers, about 9 s); here each float column is formatted in one pass with the same format (NaN
    as an empty cell, as pandas writes it), each integer column as its digits (as pandas writes it), and the
    rows are joined as text (about 2 s). Formatted numbers hold no comma, quote or line break, so they need no
    quoting; the other columns and the header are written by pandas itself."""
    kinds = [col.dtype.kind if isinstance(col.dtype, np.dtype) else "O" for _, col in df.items()]  # (Int64: pandas')
    k = next((i for i, kind in enumerate(kinds) if kind == "f"), len(kinds))
    if k < 2 or k == len(kinds) or len(df) == 0 or any(kind not in "fiu" for kind in kinds[k:]):
        return None  # (one text column alone: csv writes an empty cell as "" where the row has no other)
    head = df.iloc[:, :k].to_csv(index=False, lineterminator="\n").split("\n")[:-1]
    if len(head) != len(df) + 1:
        return None  # a text cell held a line break: pandas quotes it across lines
    columns = []
    for i in range(k, len(kinds)):
        values = df.iloc[:, i].to_numpy()
        if kinds[i] != "f":  # whole numbers (no missing value in an integer column): their digits
            columns.append(list(map(str, values.tolist())))
            continue
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
BESIDE = ("weekly.csv",)  # written beside the other files, where a forked process may (the largest)
JOURNAL = ".commit.json"
STAGING = ".staging-"


# more files to write with a result, chosen by the caller: given the result, each file's name and its writer (which is
# given the path to write); the Python API adds the workbook and charts this way (:mod:`workforce_sim.api`)
MoreFiles = Callable[[Any], dict[str, Callable[[Path], None]]]


def write_run(result, out_dir: Path, extra: dict[str, pd.DataFrame] | None = None,
              files: MoreFiles | None = None, retire: Path | None = None) -> list[Path]:
    """weekly.csv, summary.csv, budget.csv, manifest.json, any ``extra`` tables (e.g. compare.csv) and the
    files ``files(result)`` names (the Python API's add results.xlsx) into ``out_dir``, as one unit, with
    ``retire`` (the run's stored batches, ``.partial``) removed in the same step (:func:`commit_files`).
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
    return commit_files(out_dir, writers, retire)


def commit_files(out_dir: Path, writers: dict[str, Callable[[Path], None]], retire: Path | None = None) -> list[Path]:
    """Write the files (or folders) ``writers`` name into ``out_dir`` as one unit; each writer is given the
    path to write. What a reader sees switches from the old run to the new in one rename (issue 26, item 7).

    ``out_dir/NAME`` is a symbolic link to ``.current/NAME``, and ``.current`` a link to the hidden folder
    (``.gen-PID-RANDOM``) holding one run's files. A commit writes the new files into a new such folder, makes
    a link for each new name (one the old run lacks points at nothing until the switch: absent, as it was),
    moves ``retire`` (the run's stored batches) into the new folder, then replaces ``.current`` with a link
    to the new folder by one ``os.replace``: before it, every name shows the old run; after, the new (names
    only the old run had point at nothing). The old folder and links to nothing are removed after; if the
    process is killed, :func:`recover_run_folder` (which every command reading or writing the folder calls
    first) removes them, and puts back the stored batches of a commit killed before its switch, for
    ``--resume``. Files written beside the links (a report.html) or by an older version are moved into the
    current run's folder first, each by a link and one rename (a folder, such as an older version's plots/,
    is briefly absent while it moves: once per folder).

    Where symbolic links cannot be made (Windows without developer mode), the older way is kept
    (:func:`_commit_by_journal`): a kill part-way leaves a mix until the next command finishes the move.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    recover_run_folder(out_dir)
    if not _links_work(out_dir):
        names = _commit_by_journal(out_dir, writers)
        if retire is not None:
            shutil.rmtree(retire, ignore_errors=True)
        return names
    gen = out_dir / f"{GENERATION}{os.getpid()}-{secrets.token_hex(4)}"
    gen.mkdir()
    _write_all(gen, writers)
    _adopt_loose(out_dir)
    for name in writers:
        if not (out_dir / name).is_symlink():
            _link(out_dir, name, f"{CURRENT}/{name}")
    if retire is not None and retire.exists():
        os.replace(retire, gen / retire.name)
    _link(out_dir, CURRENT, gen.name)  # the switch: one rename
    _tidy(out_dir)
    return [out_dir / n for n in writers]


def _write_all(folder: Path, writers: dict[str, Callable[[Path], None]]) -> None:
    """Run the writers into ``folder``; those named in BESIDE in a forked copy of this process where that is safe
    (:mod:`.beside`), at the same time as the others."""
    side = {name: beside.begin(partial(writers[name], folder / name)) for name in BESIDE if name in writers}
    try:
        for name, write in writers.items():
            if side.get(name) is None:
                write(folder / name)
        for work in side.values():
            if work is not None:
                work.wait()
    except BaseException:  # (Ctrl-C too) a writer beside is stopped, not left behind
        for work in side.values():
            if work is not None:
                work.abandon()
        raise


def _commit_by_journal(out_dir: Path, writers: dict[str, Callable[[Path], None]]) -> list[Path]:
    """Where symbolic links cannot be made: the files are written into a staging folder, then a journal naming
    them is written (the moment they count as written), then the previous run's derived files are cleared and the
    new ones moved into place; a commit killed after its journal is finished by the next command."""
    staging = out_dir / f"{STAGING}{os.getpid()}"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    _write_all(staging, writers)
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


GENERATION = ".gen-"  # a hidden folder holding one run's files: .gen-PID-RANDOM
CURRENT = ".current"  # the link to the generation the folder shows


def _links_work(out_dir: Path) -> bool:
    """Whether symbolic links can be made in ``out_dir`` (not on Windows without developer mode, nor on some
    network drives)."""
    probe = out_dir / f".link-probe-{os.getpid()}"
    try:
        probe.unlink(missing_ok=True)
        os.symlink(CURRENT, probe)
        probe.unlink()
        return True
    except (OSError, NotImplementedError):
        return False


def _link(out_dir: Path, name: str, target: str) -> None:
    """Make ``out_dir/name`` a symbolic link to ``target`` by one rename (a new link made beside it first)."""
    tmp = out_dir / f".link-{os.getpid()}-{secrets.token_hex(4)}"
    os.symlink(target, tmp)
    try:
        os.replace(tmp, out_dir / name)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _current(out_dir: Path) -> Path | None:
    """The generation folder ``out_dir`` shows, or None if it shows none (an empty folder, or an older version's)."""
    link = out_dir / CURRENT
    if not link.is_symlink():
        return None
    return out_dir / os.readlink(link)


def _adopt_loose(out_dir: Path) -> None:
    """Move the outputs lying in ``out_dir`` itself (a report written beside the links, an older version's run)
    into the generation it shows, each replaced by its link; what a reader sees does not change (a file moves
    by a hard link and one rename; a folder is briefly absent)."""
    loose = [n for n in OUTPUTS if (out_dir / n).exists() and not (out_dir / n).is_symlink()]
    if not loose:
        return
    gen = _current(out_dir)
    if gen is None or not gen.is_dir():
        gen = out_dir / f"{GENERATION}{os.getpid()}-{secrets.token_hex(4)}"
        gen.mkdir()
        _link(out_dir, CURRENT, gen.name)  # no name links there yet: nothing a reader sees changes
    for name in loose:
        here, there = out_dir / name, gen / name
        if there.is_dir():
            shutil.rmtree(there)
        elif there.exists():
            there.unlink()
        if here.is_dir():
            os.rename(here, there)
        else:
            try:
                os.link(here, there)
            except OSError:
                shutil.copy2(here, there)
        _link(out_dir, name, f"{CURRENT}/{name}")


def _tidy(out_dir: Path) -> None:
    """Remove what a finished or killed commit leaves: generations not shown whose writer no longer runs (a
    commit killed before its switch gives its stored batches back to ``out_dir``), the stored batches of a
    committed run, links to nothing, and unused temporary links. Nothing a reader sees changes."""
    gen = _current(out_dir)
    for old in out_dir.glob(GENERATION + "*"):
        pid = old.name[len(GENERATION):].split("-")[0]
        if old == gen or (pid.isascii() and pid.isdigit() and int(pid) != os.getpid() and pid_alive(int(pid))):
            continue
        batches = old / ".partial"
        if batches.is_dir() and not (out_dir / ".partial").exists():
            os.replace(batches, out_dir / ".partial")  # a commit killed before its switch: the run can resume
        shutil.rmtree(old, ignore_errors=True)
    if gen is not None:
        shutil.rmtree(gen / ".partial", ignore_errors=True)
    if _writer_active(out_dir):
        return  # a writer's links made for its switch may point at nothing yet
    for link in out_dir.glob(".link-*"):
        link.unlink(missing_ok=True)
    for name in os.listdir(out_dir):
        path = out_dir / name
        if path.is_symlink() and not path.exists() and os.readlink(path).startswith(CURRENT + "/"):
            path.unlink(missing_ok=True)


def _writer_active(out_dir: Path) -> bool:
    """Whether another process, still running, holds ``out_dir``'s lock."""
    try:
        info = json.loads((out_dir / LOCK).read_text(encoding="utf-8"))
        pid = int(info["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return pid != os.getpid() and pid_alive(pid)


def derived_folder(run_dir: Path, name: str) -> Path:
    """``run_dir/name`` (e.g. plots), a folder ready to write a run's derived files into: where the run's files are
    links into their generation, the folder is made there and linked, so that the next commit replaces it with the
    rest of the run (:func:`commit_files`)."""
    run_dir = Path(run_dir)
    path = run_dir / name
    gen = _current(run_dir)
    if gen is not None and gen.is_dir() and not (path.exists() and not path.is_symlink()):
        (gen / name).mkdir(exist_ok=True)
        if not path.is_symlink():
            _link(run_dir, name, f"{CURRENT}/{name}")
        return path
    path.mkdir(exist_ok=True)
    return path


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
        clear_stale_lock(out_dir)
        _tidy(out_dir)
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
    for attempt in (1, 2):  # the three files from one generation (a commit meanwhile removes the old: read again)
        folder = _current(out_dir) or out_dir
        try:
            weekly = pd.read_csv(folder / "weekly.csv", parse_dates=["date"]).copy()  # one block per type: quick
            summary = pd.read_csv(folder / "summary.csv")
            manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
            return weekly, summary, manifest
        except FileNotFoundError:
            if attempt == 2 or folder == out_dir:
                raise
    raise AssertionError("unreachable")


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
