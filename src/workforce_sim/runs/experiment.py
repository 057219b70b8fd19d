"""Running replications of one or more scenarios.

Replication ``r`` of every scenario draws from streams keyed by (seed, r,
name) alone, so results depend only on the seed and the replication index:
not on the backend, the number of workers or the order tasks finish in; and
scenarios compared in one experiment share their random numbers.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import datetime as dt
import itertools
import math
import platform
import sys
import time
import warnings
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np
import pandas as pd

from ..analysis.breaches import BreachRule, breach_rules, stays_manageable
from ..analysis.money import budget_table, money_settings
from ..analysis.statistics import wilson
from ..analysis.summary import PRECISION_MEASURES, precision_rows, summarise
from ..model import CORE, ID_COLUMNS, simulate, week_dates, weekly_columns
from ..scenario.calendar import weeks_for_years
from ..scenario.loading import as_scenario
from ..scenario.schema import CONTACTS_MAX, Scenario
from ..scenario.uncertainty import check_draws, drawn, draws_table
from ..version import __version__
from .backends import Workers, available_cores, open_executor
from .files import FolderError, FolderLock
from .folder import JOURNAL, MoreFiles, previous_run, recover_run_folder, write_run
from .store import PARTIAL, ReplicationStore

TASK_SECONDS = 1.0  # aim for tasks of about this length: long enough to hide the cost of sending them
SECONDS_PER_WEEK_PER_1000_CONTACTS = 0.0002  # rough cost of the model, measured on the baseline (2026-11-27)
MAX_CHUNK = 25  # keeps resumable progress fine-grained on very large runs
SMALL_RUN_SECONDS = 2.0  # by default, a run with less work than this runs in this process (no worker start-up)
MIN_PRECISE_FUTURES = 10  # --precision never stops before this many futures (nor past --max-reps): a handful of
# futures that happen to agree, or that all stay manageable, looks precise by chance


def replication_frame(scn: Scenario, seed: int, replication: int, n_weeks: int, accounting: bool = False,
                      uncertainty: bool = False) -> pd.DataFrame:
    """One replication as a weekly table (with the ``_`` accounting columns if asked; with ``uncertainty``,
    the scenario's uncertain settings drawn for this replication, as ``run --uncertainty`` does)."""
    out = simulate(drawn(scn, seed, replication) if uncertainty else scn, seed, replication, n_weeks)
    extra = sorted(k for k in out if k.startswith("_")) if accounting else []
    cols = weekly_columns(scn.case_holding_teams()) + extra
    head = {"scenario": np.full(n_weeks, scn.name, dtype=object), "replication": np.full(n_weeks, replication),
            "week": np.arange(n_weeks), "date": pd.to_datetime(week_dates(scn, n_weeks)).date}
    return _frame(head, {k: out[k] for k in cols})


def _frame(head: dict, measures: dict[str, np.ndarray]) -> pd.DataFrame:
    """The identifying columns, then the measures as one block of numbers (a frame of over a hundred separate
    columns is slow to work with, and pandas warns)."""
    values = pd.DataFrame(np.column_stack(list(measures.values())) if measures else None, columns=list(measures))
    return pd.concat([pd.DataFrame(head), values], axis=1)


def simulate_chunk(scn: Scenario, seed: int, reps: list[int], n_weeks: int,
                   uncertainty: bool = False) -> dict[str, np.ndarray]:
    """Several replications of one scenario: each published column as a (replications x weeks) array.
    With ``uncertainty``, each replication first draws the scenario's uncertain settings
    (:func:`workforce_sim.scenario.uncertainty.drawn`): what is not known varies between futures as chance does.

    This is the unit of work sent to worker processes and Dask workers.
    """
    outs = [simulate(drawn(scn, seed, r) if uncertainty else scn, seed, r, n_weeks) for r in reps]
    return {k: np.stack([o[k] for o in outs]) for k in weekly_columns(scn.case_holding_teams())}


@dataclass
class RunResult:
    """What a run produced: weekly rows, the summary table and the manifest."""

    weekly: pd.DataFrame
    summary: pd.DataFrame
    manifest: dict = field(default_factory=dict)
    scenarios: list[Scenario] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # extra tables written beside the run's

    @cached_property
    def budget(self) -> pd.DataFrame:
        """Cost per financial year (April to March), per scenario and item, with 95% intervals."""
        return budget_table(self.weekly, money_settings(self.scenarios))


def seconds_per_replication(scn: Scenario, n_weeks: int) -> float:
    """A rough estimate of one replication's run time, from the scenario's contacts and length."""
    contacts = sum(s.contacts_per_year for s in scn.demand.sources.values())
    return max(1e-3, n_weeks * contacts / 1000 * SECONDS_PER_WEEK_PER_1000_CONTACTS)


def chunk_size(scn: Scenario, n_weeks: int, n_missing: int, width: int) -> int:
    """Replications per task: about TASK_SECONDS of work, yet enough tasks to keep every worker busy."""
    per_rep = seconds_per_replication(scn, n_weeks)
    size = max(1, math.ceil(TASK_SECONDS / per_rep))
    if width > 1:
        size = min(size, max(1, math.ceil(n_missing / (2 * width))))
    return min(size, MAX_CHUNK)


def _chunks(scns: list[Scenario], missing: list[list[int]], n_weeks: int,
            width: int) -> Iterator[tuple[int, list[int]]]:
    """(scenario index, replications) of each task, for the replications ``missing`` of each scenario: each task's
    size is :func:`chunk_size` of the replications not yet handed out, so tasks shrink towards the end (guided
    self-scheduling) and the workers finish together, none waiting long on another's last task."""
    left = sum(len(m) for m in missing)
    for s, reps in enumerate(missing):
        i = 0
        while i < len(reps):
            chunk = reps[i:i + chunk_size(scns[s], n_weeks, left, width)]
            yield s, chunk
            i += len(chunk)
            left -= len(chunk)


def weekly_frame(scn: Scenario, reps: list[int], arrays: dict[str, np.ndarray], n_weeks: int) -> pd.DataFrame:
    """Replications ``reps`` of one scenario as weekly rows, from their (replications x weeks) ``arrays``."""
    cols = {k: np.asarray(arrays[k]).reshape(-1) for k in weekly_columns(scn.case_holding_teams())}
    dates = pd.to_datetime(week_dates(scn, n_weeks)).date
    head = {"scenario": np.full(len(reps) * n_weeks, scn.name, dtype=object),
            "replication": np.repeat(reps, n_weeks), "week": np.tile(np.arange(n_weeks), len(reps)),
            "date": np.tile(dates, len(reps))}
    return _frame(head, cols)


def _assemble(scns: list[Scenario], done: dict, n_reps: dict[int, int], n_weeks: int) -> pd.DataFrame:
    frames = []
    for s, scn in enumerate(scns):
        reps = list(range(n_reps[s]))
        arrays = {k: np.stack([done[(s, r)][k] for r in reps]) for k in weekly_columns(scn.case_holding_teams())}
        frames.append(weekly_frame(scn, reps, arrays, n_weeks))
    return pd.concat(frames, ignore_index=True)


def _load_all(scenarios, overrides) -> list[Scenario]:
    """The run's scenarios, loaded and with ``overrides`` applied; their names must differ."""
    if isinstance(scenarios, (Scenario, str, Path)):
        scenarios = [scenarios]
    scns = [as_scenario(s, overrides) for s in scenarios]
    names = [s.name for s in scns]
    if len(set(names)) != len(names):
        raise ValueError(f"scenario names must differ within one run; got {', '.join(names)} "
                         "(give one a new name, e.g. --set name=other)")
    return scns


def _check_arguments(reps: int, years: float, precision: float | None) -> None:
    """Refuse run lengths, replication counts and precisions that make no sense."""
    if reps < 1:
        raise ValueError("reps must be at least 1")
    if years <= 0:
        raise ValueError("years must be more than zero")
    if precision is not None and not 0 < precision < 1:
        raise ValueError("precision must be a fraction between 0 and 1, e.g. 0.05 for 5%")


@dataclass(frozen=True)
class RunningShare:
    """The answer so far for one scenario: how many of its finished futures stay manageable for the whole run (the
    headline's rule, as in summary.csv's ``p_sustained``), of how many finished."""

    scenario: str
    manageable: int
    futures: int

    @property
    def share(self) -> float:
        """The share that stay manageable (NaN before any future has finished)."""
        return self.manageable / self.futures if self.futures else float("nan")

    def interval(self) -> tuple[float, float]:
        """The share's Wilson 95% interval, as the final answer gives it."""
        return wilson(self.manageable, self.futures)


@dataclass
class Replications:
    """The replications of one run: those done so far, where they are kept, and how to make the rest.

    ``task(scenario, seed, replications, n_weeks, *task_args)`` makes one chunk of replications of one
    scenario: a dict of arrays with one row per replication (by default :func:`simulate_chunk`, whose
    arrays are the weekly columns; a sensitivity analysis keeps only a few numbers a replication).
    ``answer(shares)``, if given, is called with the answer so far (a :class:`RunningShare` a scenario) each time
    replications finish, just before ``progress``; it needs the weekly columns.
    """

    scns: list[Scenario]
    seed: int
    n_weeks: int
    store: ReplicationStore | None
    progress: Callable[[int, int], None] | None
    done: dict[tuple[int, int], dict[str, np.ndarray]] = field(default_factory=dict)
    task: Callable[..., dict[str, np.ndarray]] | None = None  # None: simulate_chunk
    task_args: tuple = ()
    answer: Callable[[list[RunningShare]], None] | None = None
    verdicts: dict[tuple[int, int], tuple[bool, np.ndarray]] = field(default_factory=dict)  # see verdict()

    @cached_property
    def rules(self) -> dict[str, BreachRule]:
        """Each scenario's breach rule."""
        return breach_rules(self.scns)

    def verdict(self, s: int, r: int) -> tuple[bool, np.ndarray]:
        """What replication ``r`` of scenario ``s`` says, worked out once: whether it stays manageable for the whole
        run (the headline's rule), and its whole-run average of each of :data:`PRECISION_MEASURES`."""
        if (s, r) not in self.verdicts:
            arrays = self.done[(s, r)]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # a measure with nothing to measure all run: NaN
                means = np.array([np.nanmean(arrays[m]) for m in PRECISION_MEASURES])
            self.verdicts[(s, r)] = (stays_manageable(arrays, self.rules[self.scns[s].name]), means)
        return self.verdicts[(s, r)]

    def shares(self, target: int) -> list[RunningShare]:
        """The answer so far: of each scenario's replications 0 to ``target - 1`` that have finished, how many stay
        manageable."""
        out = []
        for s, scn in enumerate(self.scns):
            finished = [r for r in range(target) if (s, r) in self.done]
            out.append(RunningShare(scn.name, sum(self.verdict(s, r)[0] for r in finished), len(finished)))
        return out

    def complete(self) -> int:
        """How many replications, counted from the first, have finished for every scenario."""
        n = 0
        while all((s, n) in self.done for s in range(len(self.scns))):
            n += 1
        return n

    def _report(self, target: int) -> None:
        if self.answer:
            self.answer(self.shares(target))
        if self.progress:
            self.progress(sum(1 for (_, r) in self.done if r < target), len(self.scns) * target)

    def _tasks(self, width: int, target: int) -> Iterator[tuple[int, list[int]]]:
        """(scenario index, replications) of every chunk still to run."""
        missing = [[r for r in range(target) if (s, r) not in self.done] for s in range(len(self.scns))]
        yield from _chunks(self.scns, missing, self.n_weeks, width)

    def _keep(self, s: int, chunk: list[int], arrays: dict[str, np.ndarray], target: int) -> None:
        if self.store is not None:
            self.store.save(s, chunk, arrays)
        for i, r in enumerate(chunk):
            self.done[(s, r)] = {k: v[i] for k, v in arrays.items()}
        self._report(target)

    def fill(self, ex: cf.Executor, width: int, target: int, stop: Callable[[], bool] | None = None) -> None:
        """Run replications 0 to ``target - 1`` of every scenario that are not done, keeping each as it finishes.

        Tasks are handed out a few at a time (twice as many as run at once), not all at the start; the
        serial executor (width 1) runs a task as it is submitted, so it gets one at a time, and each chunk
        is saved and reported before the next begins: Ctrl-C keeps everything finished so far. With ``stop``,
        asked after each chunk is kept, it returns as soon as ``stop()`` is true, cancelling the tasks not begun
        (those running finish in the background, and are not kept).
        """
        self._report(target)
        tasks = self._tasks(width, target)
        in_flight = 2 * width if width > 1 else 1
        futures: dict[cf.Future, tuple[int, list[int]]] = {}
        try:
            while True:
                for s, chunk in itertools.islice(tasks, max(0, in_flight - len(futures))):
                    task = self.task or simulate_chunk
                    futures[ex.submit(task, self.scns[s], self.seed, chunk, self.n_weeks, *self.task_args)] = (s, chunk)
                if not futures:
                    return
                finished, _ = cf.wait(futures, return_when=cf.FIRST_COMPLETED)
                for fut in finished:
                    s, chunk = futures.pop(fut)
                    self._keep(s, chunk, fut.result(), target)
                    if stop is not None and stop():
                        for other in futures:
                            other.cancel()
                        return
        except BrokenProcessPool:
            raise RuntimeError(
                "worker processes stopped unexpectedly. If you called run(..., jobs=N) from a Python script, "
                "put the call under  if __name__ == \"__main__\":  (Python needs it to start workers), "
                "or use jobs=1.") from None
        except BaseException:
            for fut in futures:
                fut.cancel()
            raise

    def weekly(self, target: int) -> pd.DataFrame:
        """Replications 0 to ``target - 1`` of every scenario as one weekly table."""
        return _assemble(self.scns, self.done, {s: target for s in range(len(self.scns))}, self.n_weeks)


def default_jobs(work_seconds: float, cluster: str | None, precision: float | None = None) -> int:
    """Worker processes when none were asked for: every core, except for work so small (under
    :data:`SMALL_RUN_SECONDS`) that starting processes would cost more than it saves."""
    small = cluster is None and precision is None and work_seconds < SMALL_RUN_SECONDS
    return 1 if small else available_cores()


@contextlib.contextmanager
def replications_in(out: Path | None, scns: list[Scenario], seed: int, n_weeks: int, *, identity: dict,
                    resume: bool, progress: Callable[[int, int], None] | None, notify: Callable[[str], None],
                    check_folder: Callable[[Path], None], task: Callable[..., dict[str, np.ndarray]] | None = None,
                    task_args: tuple = (), answer: Callable[[list[RunningShare]], None] | None = None,
                    ) -> Iterator[Replications]:
    """The replications of a run or a study, ready to fill: the one orchestration that :func:`run` and
    :func:`workforce_sim.studies.sensitivity.sensitivity` share.

    With ``out``, the folder is locked (one writer at a time) and recovered, the replications stored there for
    ``identity`` are loaded and new ones stored as they finish; a new run (not ``resume``) first calls
    ``check_folder(out)``, which refuses a folder holding another's results. The caller writes its files inside the
    block; the stored batches are cleared when it leaves without an error.
    """
    with contextlib.ExitStack() as stack:
        store = None
        if out is not None:
            stack.enter_context(FolderLock(out, notify))
            recover_run_folder(out)
            store = ReplicationStore(out, identity, notify)
            if not (resume and store.exists()):  # a resumed run was checked when it started
                check_folder(out)
            store.open(resume)
        work = Replications(scns, seed, n_weeks, store, progress, task=task, task_args=task_args, answer=answer)
        if store is not None:
            work.done.update(store.load())
        yield work
        if store is not None:
            store.finish()


def _replicate(work: Replications, ex: cf.Executor, width: int, reps: int, precision: float | None,
               max_reps: int, before: Callable[[int], None] | None = None) -> tuple[int, pd.DataFrame | None]:
    """Run replications until there are ``reps``, or with ``precision``, until it is met or ``max_reps`` reached.
    ``before(target)`` is called before each batch is run.

    Returns the number of replications of each scenario and, with ``precision``, the last precision report.
    """
    if precision is None:
        if before is not None:
            before(reps)
        work.fill(ex, width, reps)
        return reps, None
    rule = _Sequential(work, precision, first=min(max_reps, max(reps, MIN_PRECISE_FUTURES)), max_reps=max_reps)
    target = rule.first
    while True:
        if before is not None:
            before(target)
        work.fill(ex, width, target, stop=rule)
        rule()  # asked again: replications kept from an interrupted run finish no task, so fill never asks
        if rule.stop_at is not None:
            n = rule.stop_at
            work._report(n)  # the answer of exactly the replications kept
            return n, rule.report
        assert rule.report is not None  # every replication up to target judged, not yet precise enough
        need = int(np.nanmax(rule.report["replications_needed"].to_numpy(dtype=float)))
        target = min(max_reps, max(target + width, min(2 * target, need)))


@dataclass
class _Sequential:
    """The --precision stopping rule: judged on the first n replications of every scenario, for n = ``first``,
    ``first`` + 1, ... in turn as they finish, it stops at the first n at which every key measure and the headline
    (the share of futures that stay manageable) are precise enough (:func:`precision_rows`), or at ``max_reps``.

    Judging every n in order, and only whole runs of replications from the first, makes where it stops the same
    whatever the backend, the number of workers, the order replications finish in, or an interruption.
    """

    work: Replications
    precision: float
    first: int
    max_reps: int
    judged: int = 0  # the largest n judged so far
    stop_at: int | None = None
    report: pd.DataFrame | None = None  # the precision report at ``judged``

    def __call__(self) -> bool:
        """Judge every n not yet judged whose replications have all finished; True once it should stop."""
        if self.stop_at is None:
            for n in range(max(self.first, self.judged + 1), min(self.work.complete(), self.max_reps) + 1):
                self.judged, self.report = n, self.judge(n)
                if self.report["met"].all() or n >= self.max_reps:
                    self.stop_at = n
                    break
        return self.stop_at is not None

    def judge(self, n: int) -> pd.DataFrame:
        """The precision report of replications 0 to ``n - 1`` of every scenario."""
        rows = []
        for s, scn in enumerate(self.work.scns):
            verdicts = [self.work.verdict(s, r) for r in range(n)]
            rows += precision_rows(scn.name, np.array([means for _, means in verdicts]),
                                   np.array([ok for ok, _ in verdicts]), self.precision)
        return pd.DataFrame(rows)


def _manifest(identity: dict, columns: list[str], replications: int, started: dt.datetime, seconds: float, backend: str,
              overrides: list[str] | None) -> dict:
    """What the run was and how it ran, for manifest.json."""
    return {
        "workforce_sim_version": __version__,
        "seed": identity["seed"],
        "replications": replications,
        "years": identity["years"],
        "weeks": identity["weeks"],
        "started_utc": started.isoformat(timespec="seconds"),
        "run_seconds": round(seconds, 3),
        "backend": backend,
        "model_core": CORE,  # the compiled core or the Python source (the same results either way)
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "overrides": list(dict.fromkeys(c for s in identity["scenarios"] for c in s.get("changes") or [])),
        "labels": [", ".join([s["name"], *(s.get("changes") or [])]) for s in identity["scenarios"]],
        "columns": ID_COLUMNS + columns,
        "scenarios": identity["scenarios"],
    }


def uncertainty_note(scns: list[Scenario], drawn_per_replication: bool) -> dict:
    """The manifest's account of what is not known: whether the uncertain settings were drawn for each
    replication (else they kept their central values), and each scenario's uncertain settings in words."""
    return {"drawn": bool(drawn_per_replication),
            "settings": {s.name: {k: v.describe() for k, v in s.uncertain.items()} for s in scns}}


def _precision_note(precision: float, max_reps: int, replications: int, report: pd.DataFrame | None) -> dict:
    """The manifest's account of a run to a precision: the target, whether it was met, and each measure's state."""
    return {"target": precision, "max_replications": max_reps, "replications_needed": replications,
            "met": bool(report["met"].all()) if report is not None else None,
            "measures": report.to_dict(orient="records") if report is not None else []}


def _to_stderr(message: str) -> None:
    print(message, file=sys.stderr)


def _check_folder(out: Path, scns: list[Scenario], replace: bool, notify: Callable[[str], None]) -> None:
    """Refuse an ``out`` folder holding a finished run of other scenarios, unless told to replace it."""
    try:
        old = previous_run(out)
    except FolderError:
        if not replace:
            raise
        notify(f"Replacing the files in {out} when this run finishes.")
        return
    if old is None:
        return
    names = [", ".join([str(s.get("name")), *map(str, s.get("changes") or [])]) for s in old["scenarios"]
             if isinstance(s, dict)]
    what = f"the run of {'; '.join(names)} started {old.get('started_utc', 'earlier')} (UTC)"
    if names != [s.label for s in scns] and not replace:
        raise FolderError(f"{out} holds {what}. Add --replace to overwrite it, or choose another --out folder.")
    notify(f"{out} holds {what}; it stays there until this run finishes, then this run replaces it "
           "(with its compare.csv, report.html and plots/, if any).")


def _check_growth(scns: list[Scenario], years: float) -> None:
    """Refuse a run whose demand, grown by its trend, would pass any council's (issue 26, item 1): each setting is
    bounded, but growth compounds over the run's years, and a run of a billion contacts a year never ends."""
    for scn in scns:
        most = scn.contacts_at_most(years)
        if most > CONTACTS_MAX:
            raise ValueError(
                f"{scn.name}: its demand, grown by its trend (demand.trend_per_year, or a source's) for {years:g} "
                f"years, would reach about {most:,.0f} contacts a year, beyond any council's; at most "
                f"{CONTACTS_MAX:,} a year can be simulated. Choose a lower trend or a shorter run (--years)")


def _check_uncertainty(scns: list[Scenario], uncertainty: bool) -> None:
    """Refuse --uncertainty for scenarios that have no uncertain setting to draw."""
    if uncertainty and not any(s.uncertain for s in scns):
        raise ValueError(f"--uncertainty draws a scenario's uncertain settings, but {', '.join(s.name for s in scns)} "
                         "has none; give a setting a range in the scenario file, e.g. pressure_effect = "
                         "{ uncertain = \"uniform\", low = 0.5, high = 2.5 } (see docs/sensitivity.md)")


def check_run(scns: list[Scenario], out: Path | None, *, reps: int, years: float, precision: float | None = None,
              uncertainty: bool = False, resume: bool = False, replace: bool = False) -> None:
    """What :func:`run` would refuse before simulating anything, checked now, so that a command can refuse it before
    a slow first step (the start-state check): its arguments (``ValueError``) and, for a new run, an ``out`` folder
    holding another run (:class:`FolderError`). :func:`run` checks all of it again, the folder under its lock; a
    folder whose last write was interrupted is left to that check, which finishes the write first."""
    _check_arguments(reps, years, precision)
    _check_growth(scns, years)
    _check_uncertainty(scns, uncertainty)
    if out is not None and not resume and not (Path(out) / JOURNAL).exists():
        _check_folder(Path(out), scns, replace, notify=lambda message: None)


def run(scenarios: Scenario | str | Path | Iterable[Scenario | str | Path], years: float = 5, reps: int = 20,
        seed: int = 42, overrides: list[str] | None = None, *, jobs: int | None = None, cluster: str | None = None,
        out: str | Path | None = None, resume: bool = False, precision: float | None = None,
        max_reps: int = 1000, progress: Callable[[int, int], None] | None = None,
        notify: Callable[[str], None] | None = None, replace: bool = False,
        extra: Callable[[RunResult], dict[str, pd.DataFrame]] | None = None, uncertainty: bool = False,
        files: MoreFiles | None = None, workers: Workers | None = None,
        answer: Callable[[list[RunningShare]], None] | None = None) -> RunResult:
    """Run replications of each scenario for ``years`` years.

    - ``scenarios``: loaded scenarios, file paths or bundled names; ``overrides``
      are ``KEY=VALUE`` strings applied to each (as ``--set``).
    - ``jobs``: worker processes on this machine (1 runs here); by default every
      core, as on the command line, except for a run so small (under about
      :data:`SMALL_RUN_SECONDS` of work) that starting processes would cost more
      than it saves. The results are the same either way. ``cluster``:
      ``"local"`` for a Dask LocalCluster or a scheduler address.
    - ``out``: folder for results; finished replications are saved there as they
      finish, and ``resume=True`` continues an interrupted run. The folder is
      locked while the run writes there, and its files are replaced as one unit
      (see :func:`workforce_sim.runs.folder.write_run`). A folder holding a finished
      run of other scenarios is refused (:class:`workforce_sim.runs.files.FolderError`)
      unless ``replace=True``; one holding a run of the same scenarios is replaced.
    - ``precision``: add replications (from ``reps``, up to ``max_reps``) until the 95% interval of each key measure
      is within this fraction of its mean, and the share staying manageable within this (0.05: 5 points); judged
      as they finish, never before :data:`MIN_PRECISE_FUTURES` (see :class:`_Sequential`, :func:`precision_rows`).
    - ``progress(done, total)`` is called as replications finish, ``answer(shares)`` just before it with the answer
      so far (a :class:`RunningShare` a scenario; at the end, the headline's); ``notify(message)``
      with anything the user should know, such as a damaged stored batch being
      recomputed (default: printed to standard error).
    - ``extra(result)`` returns more tables, by file name, to write with the run's
      (``compare`` adds compare.csv); they are also in ``result.tables``. ``files(result)`` names more files
      to write with the run, each with its writer (:func:`workforce_sim.run` adds the workbook, results.xlsx).
    - ``uncertainty``: draw each scenario's uncertain settings afresh for every replication
      (a probabilistic sensitivity analysis; :mod:`workforce_sim.scenario.uncertainty`), so the results show
      what is not known as well as chance. The values drawn are in ``result.tables["draws.csv"]``.
      Without it, uncertain settings keep their central values.
    - ``workers``: the command's worker processes (:class:`workforce_sim.runs.backends.Workers`), used in place of
      starting new ones; ``jobs`` still decides whether the run needs them.
    """
    scns = _load_all(scenarios, overrides)
    _check_arguments(reps, years, precision)
    _check_growth(scns, years)
    _check_uncertainty(scns, uncertainty)
    plan = _Plan(years=years, reps=reps, seed=seed, overrides=overrides, jobs=jobs, cluster=cluster,
                 out=Path(out) if out is not None else None, resume=resume, precision=precision,
                 max_reps=max(max_reps, reps), progress=progress, notify=notify or _to_stderr, replace=replace,
                 extra=extra, files=files, uncertainty=uncertainty, workers=workers, answer=answer)
    n_weeks = weeks_for_years(plan.years)
    identity = _identity(scns, plan, n_weeks)
    with replications_in(plan.out, scns, seed, n_weeks, identity=identity, resume=resume, progress=progress,
                         notify=plan.notify,
                         check_folder=lambda folder: _check_folder(folder, scns, replace, plan.notify),
                         task_args=(uncertainty,), answer=answer) as work:
        result = _replicated(work, scns, plan, identity)
        if plan.out is not None:
            write_run(result, plan.out, result.tables, plan.files, retire=plan.out / PARTIAL)
    return result


@dataclass(frozen=True)
class _Plan:
    """What :func:`run` was asked to do, checked (its arguments, as one value for the steps that follow)."""

    years: float
    reps: int
    seed: int
    overrides: list[str] | None
    jobs: int | None
    cluster: str | None
    out: Path | None
    resume: bool
    precision: float | None
    max_reps: int
    progress: Callable[[int, int], None] | None
    notify: Callable[[str], None]
    replace: bool
    extra: Callable[[RunResult], dict[str, pd.DataFrame]] | None
    files: MoreFiles | None
    uncertainty: bool
    workers: Workers | None = None
    answer: Callable[[list[RunningShare]], None] | None = None


def _identity(scns: list[Scenario], plan: _Plan, n_weeks: int) -> dict:
    """What makes two runs the same run (kept with stored replications, so that --resume continues only its own)."""
    identity = {"workforce_sim_version": __version__, "seed": plan.seed, "years": plan.years, "weeks": n_weeks,
                "precision": plan.precision, "scenarios": [s.model_dump(mode="json") for s in scns]}
    if plan.precision is None:
        identity["replications"] = plan.reps
    if plan.uncertainty:
        identity["uncertainty"] = True
    return identity


def _replicated(work: Replications, scns: list[Scenario], plan: _Plan, identity: dict) -> RunResult:
    """Fill ``work`` (to ``plan.reps`` replications, or until precise enough) and summarise it."""
    jobs = plan.jobs
    if jobs is None:
        jobs = default_jobs(sum(plan.reps * seconds_per_replication(s, work.n_weeks) for s in scns), plan.cluster,
                            plan.precision)
    started = dt.datetime.now(dt.timezone.utc)
    t0 = time.perf_counter()
    check = (lambda target: check_draws(scns, plan.seed, target)) if plan.uncertainty else None
    pool = plan.workers.executor(jobs) if plan.workers is not None else open_executor(jobs, plan.cluster)
    with pool as (ex, width):
        target, report = _replicate(work, ex, width, plan.reps, plan.precision, plan.max_reps, before=check)
    weekly = work.weekly(target)
    seconds = time.perf_counter() - t0
    summary = summarise(weekly, breach_rules(scns))
    backend = plan.cluster or ("serial" if jobs <= 1 else f"processes x{jobs}")
    columns = [c for c in weekly.columns if c not in ID_COLUMNS]
    manifest = _manifest(identity, columns, target, started, seconds, backend, plan.overrides)
    if plan.precision is not None:
        manifest["precision"] = _precision_note(plan.precision, plan.max_reps, target, report)
    manifest["uncertainty"] = uncertainty_note(scns, plan.uncertainty)
    result = RunResult(weekly=weekly, summary=summary, manifest=manifest, scenarios=scns)
    if plan.extra is not None:
        result.tables = dict(plan.extra(result))
    if plan.uncertainty:
        result.tables["draws.csv"] = draws_table(scns, plan.seed, target)
    return result
