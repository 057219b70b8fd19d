"""The command line: a thin layer over the Python API."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import sys
import time
from functools import partial
from pathlib import Path
from typing import Iterator

import click
import pandas as pd

from .analysis.breaches import SERVICE, breach_rules, team_words
from .analysis.compare import compare_table
from .analysis.formats import money, money_difference
from .analysis.measures import MEASURES
from .analysis.money import money_settings
from .analysis.payback import payback_table
from .analysis.statistics import wilson
from .api import run as run_experiment, sensitivity
from .outputs.console import (
    PROGRESS_WIDTH,
    answer_so_far,
    answer_so_far_lines,
    compare_lines,
    fit_line,
    fit_lines,
    ranking_lines,
    summary_lines,
)
from .outputs.words import sensitivity_sentences
from .runs.backends import ClusterUnreachable, DaskMissing, Workers, available_cores
from .runs.experiment import RunningShare, check_run
from .runs.files import FolderError, FolderLock, atomic_write
from .runs.folder import (
    derived_folder,
    interrupted_runs,
    mark_latest,
    new_run_folder,
    recover_run_folder,
    resolve_run_folder,
    write_csv,
)
from .runs.store import PARTIAL, StoreMismatch
from .scenario import tomlout
from .scenario.calendar import start_day
from .scenario.loading import ScenarioError, bundled_names, bundled_path, load_scenario
from .scenario.schema import safe_name
from .studies.calibrate import DataError, backtest as bt, calibrate as fit, scenario_text
from .studies.exampledata import write_example
from .studies.goalseek import LEVELS, GoalSeekError, goal_seek, parse_target
from .studies.sensitivity import METHODS, design_size, estimated_seconds, is_sensitivity_folder, uncertain_keys
from .studies.settling import (
    REPS as CHECK_REPS,
    SEED as CHECK_SEED,
    SETTLE_REPS,
    SETTLE_YEARS,
    YEARS as CHECK_YEARS,
    settled_start_state,
    start_state_checks,
)
from .studies.tracing import child_story, most_moved_child, trace
from .version import __version__

SET_HELP = "Override a scenario value, e.g. --set demand.trend_per_year=0.05 (repeatable; VALUE is read as TOML)."


def _fail(err: ScenarioError) -> None:
    """Print a scenario's problems, one a line, and stop with exit code 2 (bad input)."""
    for line in err.lines:
        click.echo(line, err=True)
    sys.exit(2)


def _load(ref: str, sets: tuple[str, ...], start=None):
    try:
        return load_scenario(ref, list(sets), start=start)
    except ScenarioError as err:
        _fail(err)


class _Boundary(click.Group):
    """The top-level error boundary: no command ends in a traceback unless --debug asks for one.

    Bad input (a ScenarioError, a click usage error) exits 2 as before; Ctrl-C keeps its own
    handling; anything else is a plain one-line message and exit code 1.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """--debug may be given anywhere on the line (it belongs to the main group)."""
        head = args[: args.index("--")] if "--" in args else args
        if "--debug" in head[1:]:
            args = list(args)
            args.remove("--debug")
            args.insert(0, "--debug")
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ScenarioError as err:  # bad input reaching here without _load: still exit 2
            _fail(err)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:  # noqa: BLE001 - this is the boundary
            if ctx.params.get("debug"):
                raise
            text = " ".join(str(exc).split())[:300] or "no details"
            click.echo(f"workforce-sim stopped: {text} ({type(exc).__name__}). "
                       "Run again with --debug to see the details.", err=True)
            sys.exit(1)


@click.group(cls=_Boundary, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="workforce-sim")
@click.option("--debug", is_flag=True, help="Show the full error report (traceback) if something goes wrong.")
def main(debug: bool) -> None:
    """Workforce and caseload planning for children's social care.

    Simulates a council's front door, case flow and social work workforce, many
    times over (Monte Carlo), to show whether caseloads stay manageable and for
    how long. Start with:  workforce-sim run baseline
    """


class Progress:
    """Progress as simulated futures finish. On a terminal, one line that updates: a bar, how many are done, the time
    left and, for a run, the answer so far (:meth:`answer`); elsewhere (a log file), whole lines every tenth of the way.
    No line is longer than PROGRESS_WIDTH characters."""

    def __init__(self, interactive: bool):
        self.interactive = interactive
        self.t0 = time.perf_counter()
        self.last_tenth = (-1, -1)  # (total, tenth) of the last plain line: a run to a precision grows its total
        self.first: tuple[int, float] | None = None  # (done, time) at the first report
        self.shares: list[RunningShare] | None = None  # the answer so far, for a run
        self.shown = 0  # the length of the line on the terminal

    def answer(self, shares: list[RunningShare]) -> None:
        """Take the answer so far (a run calls this just before each progress report)."""
        self.shares = shares

    def __call__(self, done: int, total: int) -> None:
        now = time.perf_counter()
        if self.first is None:
            self.first = (done, now)  # replications found from an earlier, interrupted run do not count in the rate
        d0, t0 = self.first
        rate = (done - d0) / (now - t0) if now > t0 and done > d0 else 0.0
        left = (total - done) / rate if rate > 0 else None
        if self.interactive:
            self._bar(done, total, rate, left)
            return
        tenth = (total, 10 * done // total if total else 10)
        if tenth[0] != self.last_tenth[0] or tenth[1] > self.last_tenth[1]:
            self.last_tenth = tenth
            lines = (answer_so_far_lines(self.shares, done, total) if self.shares is not None
                     else [f"{done} of {total} replications done"])
            for line in lines:
                click.echo(line, err=True)

    def _bar(self, done: int, total: int, rate: float, left: float | None) -> None:
        if self.shares is None:
            width = 30
            fill = int(width * done / total) if total else width
            eta = "" if left is None else f", about {_duration(left)} left"
            text = f"[{'#' * fill}{'.' * (width - fill)}] {done}/{total} replications, {rate:.1f}/s{eta}"
        else:  # shorter, to leave room for the answer so far
            width = 12
            fill = int(width * done / total) if total else width
            so_far = answer_so_far(self.shares)
            eta = "" if left is None else f", {_duration(left)} left"
            bar = f"[{'#' * fill}{'.' * (width - fill)}] {done}/{total} futures"
            text = bar + eta + (f"; {so_far}" if so_far else "")
            if len(text) > PROGRESS_WIDTH:  # the answer matters more than the time left
                text = bar + f"; {so_far}"
        text = fit_line(text)
        click.echo("\r" + text + " " * max(0, self.shown - len(text)), err=True, nl=False)
        self.shown = len(text)
        if done >= total:
            click.echo("", err=True)
            self.shown = 0


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


class StartDate(click.ParamType):
    """--start: a date, 'today' or 'next-april' (scenario.calendar.start_day), as a date."""

    name = "date"

    def convert(self, value, param, ctx):
        if isinstance(value, dt.date):
            return value
        try:
            return start_day(str(value), dt.date.today())
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class FiniteFloatRange(click.FloatRange):
    """A FloatRange that also refuses nan (which every comparison lets through) and inf."""

    def convert(self, value, param, ctx):
        v = super().convert(value, param, ctx)
        if v != v or v in (float("inf"), float("-inf")):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return v


MAX_YEARS = 100
DEFAULT_YEARS = 5.0  # --years, when not given


def experiment_options(f=None, *, reps: int = 20,
                       reps_help: str = "Replications (simulated futures) of each scenario."):
    """Options shared by every command that runs replications (``reps``: the default of --reps)."""
    if f is None:
        return lambda g: experiment_options(g, reps=reps, reps_help=reps_help)
    opts = [
        click.option("--years", default=DEFAULT_YEARS, show_default=True,
                     type=FiniteFloatRange(min=0, min_open=True, max=MAX_YEARS), help="Years to simulate."),
        click.option("--reps", default=reps, show_default=True, type=click.IntRange(min=1), help=reps_help),
        click.option("--seed", default=42, show_default=True, type=click.IntRange(min=0), help="Master random seed."),
        click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help=SET_HELP),
        click.option("--start", type=StartDate(), default=None, metavar="DATE",
                     help="Start on DATE (e.g. 2027-04-01), 'today' or 'next-april' (the next 1 April), moving every "
                          "dated lever and the pay with the scenario [default: the scenario's start_date]."),
        click.option("--jobs", type=click.IntRange(min=1), default=None,
                     help="Worker processes on this machine [default: all cores]."),
        click.option("--cluster", default=None, metavar="ADDRESS",
                     help="Run on Dask: 'local' for a cluster on this machine, or a scheduler address such as "
                          "tcp://HOST:8786."),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def run_options(default_out: str):
    """Options of the commands that write a run's results (run, compare)."""
    def wrap(f):
        opts = [
            click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
                         help=f"Folder for the results [default: a new folder in {default_out}/, named by the date "
                              f"and time; {default_out}/latest points to the newest]."),
            click.option("--resume", is_flag=True,
                         help="Finish an interrupted run (in --out, or the newest unfinished one in the default "
                              "folder)."),
            click.option("--replace", is_flag=True,
                         help="Overwrite a finished run of other scenarios or settings in the --out folder (one of "
                              "the same scenarios and settings is replaced anyway)."),
            click.option("--precision", type=FiniteFloatRange(min=0, max=1, min_open=True, max_open=True),
                         default=None,
                         help="Add replications until each key measure's 95% confidence interval (the share of "
                              "futures staying manageable included: 0.05 is within 5 points) is within this fraction "
                              "of its scale (e.g. 0.05); judged as futures finish, it stops as soon as all are, but "
                              "never before 10 futures. --reps is then the first batch."),
            click.option("--max-reps", type=click.IntRange(min=1), default=1000, show_default=True,
                         help="Most replications --precision may use."),
            click.option("--no-start-check", is_flag=True,
                         help="Skip the start-state check: a short simulation, before the run, of whether the "
                              "scenario's staffing and open cases at the start are where it settles."),
            click.option("--uncertainty", is_flag=True,
                         help="Draw the scenarios' uncertain settings (those given a range in the scenario file) "
                              "afresh for each simulated future, so the results show what is not known as well as "
                              "chance. Without it they keep their central values."),
        ]
        for opt in reversed(opts):
            f = opt(f)
        return f
    return wrap


def _split_sets(refs: tuple[str, ...], sets: tuple[str, ...]) -> list[list[str]]:
    """Each scenario's --set values: KEY=VALUE applies to every scenario, SCENARIO:KEY=VALUE to one."""
    out: list[list[str]] = [[] for _ in refs]
    for text in sets:
        head = text.split("=", 1)[0]
        if ":" not in head:
            for mine in out:
                mine.append(text)
            continue
        who, rest = text.split(":", 1)
        hits = [i for i, r in enumerate(refs) if who in (r, Path(r).stem, Path(r).name)]
        if not hits:
            raise click.UsageError(f"--set {text}: '{who}' is not one of this command's scenarios "
                                   f"({', '.join(refs)})")
        for i in hits:
            out[i].append(rest)
    return out


def _load_all(refs: tuple[str, ...], sets: tuple[str, ...], start) -> list:
    """The command's scenarios with their --set values and --start applied."""
    return [_load(r, tuple(mine), start) for r, mine in zip(refs, _split_sets(refs, sets))]


def _output_folder(out: Path | None, default: Path, resume: bool) -> tuple[Path, bool]:
    """Where a run writes: ``out``, or a new dated folder in ``default`` (with --resume, the newest
    unfinished one there). Returns the folder and whether it is one of ours (a new default folder)."""
    if out is not None:
        return out, False
    if resume:
        unfinished = interrupted_runs(default)
        if not unfinished:
            raise click.UsageError(f"there is no interrupted run in {default}/ to resume; run without --resume, "
                                   "or give the run's folder with --out")
        return unfinished[-1], True
    return new_run_folder(default), True


class _Refused(click.ClickException):
    """A plain refusal that is not a mistake in how the command was typed (such as an --out folder holding another
    run): "Error: ..." without click's "Usage:" line, exit code 2 as for other bad input."""

    exit_code = 2


def _before_start(scns, out: Path | None, default: Path, *, resume: bool, **checks) -> tuple[Path, bool] | None:
    """Refuse now, before the start-state check (10 to 30 s), what the run would refuse after it: the arguments and
    the output folder (:func:`workforce_sim.runs.experiment.check_run`). Returns where the run writes and whether the
    folder is ours, or None for a new folder in ``default``, made when the run starts."""
    where = _output_folder(out, default, resume) if out is not None or resume else None
    try:
        check_run(scns, where[0] if where else None, resume=resume, **checks)
    except (FolderError, StoreMismatch) as exc:
        raise _Refused(str(exc)) from None
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    return where


def _finish_folder(out: Path, ours: bool, ok: bool) -> None:
    """After a run into a default folder: mark it the latest, or remove it if the run left nothing in it."""
    if not ours:
        return
    if ok:
        mark_latest(out)
    else:
        try:
            out.rmdir()  # only if empty: an interrupted run's saved replications stay for --resume
        except OSError:
            pass


@main.command()
@click.argument("scenarios", nargs=-1, required=True, metavar="SCENARIO...")
@experiment_options
@run_options("outputs/NAME")
def run(scenarios, years, reps, seed, out, sets, start, jobs, cluster, resume, replace, precision, max_reps,
        no_start_check, uncertainty):
    """Run SCENARIO (a file, or a bundled name such as baseline) and write results.

    Several scenarios run with common random numbers: replication r of each sees
    the same demand, so their differences come from the scenarios, not chance.
    --set SCENARIO:KEY=VALUE changes one of them only.

    First, each scenario's start state is checked: is it where the scenario settles with
    demand held steady and no levers? If not, part of the trend in the run's first years is
    the model settling, and the check says so (on the error stream; --no-start-check skips it).
    """
    scns = _load_all(scenarios, sets, start)
    result, out = _checked_run(scns, Path("outputs") / "-".join(s.name for s in scns), out, no_start_check,
                               years=years, reps=reps, seed=seed, jobs=jobs, cluster=cluster, resume=resume,
                               replace=replace, precision=precision, max_reps=max_reps, uncertainty=uncertainty)
    for line in summary_lines(result):
        click.echo(line)
    _print_written(result, out, precision, max_reps)


def _print_written(result, out: Path, precision, max_reps) -> None:
    names = ", ".join(result.tables) + ", " if result.tables else ""
    lines = ["", f"Wrote {names}weekly.csv, summary.csv, budget.csv, results.xlsx and manifest.json to {out}/ in "
                 f"{result.manifest['run_seconds']:.1f} s."]
    if precision is not None:
        p = result.manifest["precision"]
        lines.append(f"{p['replications_needed']} replications were needed for {precision:.0%} precision."
                     if p["met"] else f"{precision:.0%} precision was not reached within {max_reps} replications.")
    lines += [f"Charts: workforce-sim plot {out}", f"Report: workforce-sim report {out}"]
    for line in fit_lines(lines):
        click.echo(line)


def _print_start_checks(scns, seed, workers: Workers) -> None:
    for check in _start_checks(scns, seed=seed, workers=workers):
        click.echo("", err=True)
        for line in check.words(repeat=False):
            click.echo(line, err=True)
    click.echo("", err=True)


def _start_checks(scns, seed: int, workers: Workers):
    """The start-state check of each scenario (with the user's --set values), saying first that it runs; on
    ``workers``, the command's workers, which the run then uses too."""
    names = ", ".join(s.name for s in scns)
    click.echo(f"Checking the start state of {names} ({CHECK_REPS} simulated futures of {CHECK_YEARS} years)...",
               err=True)
    try:
        return start_state_checks(scns, seed=seed, jobs=workers.jobs, workers=workers)
    except KeyboardInterrupt:
        click.echo("\nInterrupted.", err=True)
        sys.exit(130)
    except (DaskMissing, ClusterUnreachable) as exc:
        raise click.UsageError(str(exc)) from None


def _checked_run(scns, default: Path, out, no_start_check: bool, **kw):
    """What run and compare share: refuse what needs no simulation first (arguments, the --out folder), then the
    start-state check and the run on one set of workers. Returns the result and the folder written."""
    where = _before_start(scns, out, default, reps=kw["reps"], years=kw["years"], precision=kw["precision"],
                          uncertainty=kw["uncertainty"], resume=kw["resume"], replace=kw["replace"])
    with Workers(kw["jobs"] or available_cores(), kw["cluster"]) as workers:  # one set for the check and the run
        if not no_start_check:
            _print_start_checks(scns, kw["seed"], workers)
        out, ours = where or (new_run_folder(default), True)
        workers.final = True  # the run is their last step: they stop once its futures are done
        return _experiment(scns, out=out, ours=ours, workers=workers, **kw), out


def _experiment(scns, out, jobs, cluster, ours=False, runner=None, **kw):
    """Run replications with a progress display; turn foreseeable failures into plain messages. ``runner``:
    :func:`workforce_sim.run` (the default) or another that takes its engine's arguments, such as
    :func:`workforce_sim.api.sensitivity`."""
    ok = False
    shown = Progress(sys.stderr.isatty())
    if runner is None:  # a run: the answer so far beside the progress
        kw["answer"] = shown.answer
    try:
        result = (runner or run_experiment)(scns, jobs=jobs, cluster=cluster, out=out, progress=shown,
                                            notify=lambda message: click.echo(message, err=True), **kw)
        ok = True
        return result
    except ScenarioError as err:
        _fail(err)
    except (StoreMismatch, FolderError) as exc:
        raise _Refused(str(exc)) from None
    except (ValueError, DaskMissing, ClusterUnreachable) as exc:
        raise click.UsageError(str(exc)) from None
    except OSError as exc:
        if cluster:
            raise click.ClickException(f"cannot reach the Dask cluster at {cluster}: {exc}") from None
        raise
    except KeyboardInterrupt:
        if out is None:
            click.echo("\nInterrupted.", err=True)
            sys.exit(130)
        saved = len(list((out / PARTIAL).glob("*.npz"))) if (out / PARTIAL).exists() else 0
        click.echo(f"\nInterrupted. Finished replications are kept in {out}/ ({saved} batch(es)); "
                   "run the same command with --resume to finish.", err=True)
        sys.exit(130)
    finally:
        if out is not None:
            _finish_folder(out, ours, ok)


@main.command()
@click.argument("scenarios", nargs=-1, required=True, metavar="SCENARIO...")
@experiment_options
@run_options("outputs/compare-FIRST")
def compare(scenarios, years, reps, seed, sets, start, jobs, cluster, out, resume, replace, precision, max_reps,
            no_start_check, uncertainty):
    """Compare options: what each costs, year by year, and what it buys.

    The first SCENARIO is the reference; every scenario runs on the same simulated
    futures, so differences come from the options. Each difference has a 95% interval, and
    an option whose interval includes no difference "cannot be told apart" from the first at
    this number of futures (add --reps). Then, for each option, its cost against the first by
    financial year, in the year and added up, and the year it pays back: the first year at whose end
    it has cost no more than the first, on average, and does not cost more again. Writes compare.csv,
    payback.csv and results.xlsx beside the usual results.
    """

    scns = _load_all(scenarios, sets, start)
    labels = {s.name: s.label for s in scns}
    result, out = _checked_run(scns, Path("outputs") / f"compare-{scns[0].name}", out, no_start_check,
                               years=years, reps=reps, seed=seed, jobs=jobs, cluster=cluster, resume=resume,
                               replace=replace, precision=precision, max_reps=max_reps, uncertainty=uncertainty,
                               extra=lambda r: {"compare.csv": compare_table(r.weekly, breach_rules(scns),
                                                                              money_settings(scns), labels),
                                                "payback.csv": payback_table(r.weekly, money_settings(scns))})
    for line in compare_lines(result, scns, years, uncertainty):
        click.echo(line)
    _print_written(result, out, precision, max_reps)


@main.command("goal-seek")
@click.argument("scenario")
@click.option("--lever", required=True, type=click.Choice(sorted(LEVELS)), help="The lever whose level is searched.")
@click.option("--target", required=True, metavar="EXPR",
              help='What must hold, e.g. "p_sustained>=0.9" or "caseload_mean<=17" (whole-run values); it is met '
                   "when the whole 95% confidence interval meets it, not only the average.")
@click.option("--max", "max_level", type=FiniteFloatRange(min=0, min_open=True), default=None,
              help="Largest level to try [default: depends on the lever].")
@experiment_options
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for goal_seek.csv [default: a new folder in outputs/goal-seek-NAME/].")
def goal_seek_cmd(scenario, lever, target, max_level, years, reps, seed, sets, start, jobs, cluster, out):
    """Find the smallest level of one lever that meets a target.

    Every level runs on the same simulated futures, so the search is stable. It tries none and
    the largest level, then halves the gap between them: for the smallest level that meets the
    target on average, and the smallest that meets it with its whole 95% confidence interval (for
    p_sustained>=0.9, the interval's lower end is at least 0.9). Each level is printed as it
    finishes. If SCENARIO has no lever of that kind, one is added from its start date (extra posts
    go to the team where caseloads most often break first with none, else the largest
    case-holding team). Writes every level tried to goal_seek.csv.

    Exit status: 0 when a level meets the target with its interval; 3 when levels meet it only on
    average (goal-seek says about how many futures, --reps, would settle it); 1 when not even the
    largest level meets it on average (goal-seek says why, when it can tell).
    """
    (scn,) = _load_all((scenario,), sets, start)
    try:
        tgt = parse_target(target)
    except GoalSeekError as exc:
        raise click.UsageError(str(exc)) from None
    field = LEVELS[lever][0]
    _enough_futures(tgt, reps)
    _say(f"Searching {lever}.{field} for {tgt} ({reps} simulated futures of {years:g} "
               f"year{'s' if years != 1 else ''} each, the same futures at every level)", err=True)

    def starting(level: float) -> Progress:
        click.echo(f"  trying {field} = {level:g} ...", err=True)
        return Progress(sys.stderr.isatty())

    try:
        res = goal_seek(scn, lever, tgt, max_level=max_level, progress=partial(_show_level, tgt, field),
                        run_progress=starting, years=years, reps=reps, seed=seed, jobs=jobs, cluster=cluster)
    except GoalSeekError as exc:
        raise click.UsageError(str(exc)) from None
    _say_where_added(res, lever)
    folder = out or new_run_folder(Path("outputs") / f"goal-seek-{scn.name}")
    folder.mkdir(parents=True, exist_ok=True)
    write_csv(res.table(), folder / "goal_seek.csv", plain=True)
    if out is None:
        mark_latest(folder)
    _levels_tried(res, field)
    if not res.found:
        _not_found(res, tgt, lever, field, folder)
    _found(res, tgt, lever, field, folder)


def _say(text: str, err: bool = False) -> None:
    """Print ``text`` within 100 columns, broken between words (goal-seek's sentences and lines)."""
    for part in text.split("\n"):
        for line in fit_lines([part]) or [""]:
            click.echo(line, err=err)


def _found(res, tgt, lever: str, field: str, folder: Path) -> None:
    """Say the smallest level that meets the target with its interval, and the smallest on average if smaller."""
    b = res.best
    _say(f"\nSmallest {lever}.{field} that meets {tgt} with its 95% confidence interval: {res.level:g}")
    _say(f"  {tgt.metric} = {b.value:.3g} (95% confidence interval {b.ci95_low:.3g} to {b.ci95_high:.3g})")
    _say(f"  cost per year {_cost_words(res, b, lever, tgt)}")
    if res.on_average is not None and res.on_average_level is not None and res.on_average_level < res.level:
        e = res.on_average
        _say(f"  On average it is met from {field} = {e.level:g} ({tgt.metric} = {e.value:.3g}, 95% CI "
                   f"{e.ci95_low:.3g} to {e.ci95_high:.3g}; cost per year {_cost_words(res, e, lever, tgt)}), "
                   f"but that level's interval does not rule out chance.")
    _say(f"Wrote {folder / 'goal_seek.csv'}")


def _verdict(e) -> str:
    return "meets with its interval" if e.met else ("meets on average only" if e.met_on_average else "misses")


def _show_level(tgt, field: str, e) -> None:
    """One level tried, as it finishes: the measure with its interval, whether it meets the target, the cost."""
    where = (f"; breaks first in {team_words(e.breaks_first)} in {e.breaks_first_share:.0%} of futures"
             if e.breaks_first else "")
    _say(f"  {field} = {e.level:g}: {tgt.metric} = {e.value:.3g} (95% CI {e.ci95_low:.3g} to "
               f"{e.ci95_high:.3g}), {_verdict(e)}; cost per year {money(e.cost_per_year, '£')}{where}", err=True)


def _levels_tried(res, field: str) -> None:
    """Every level tried, smallest first (they were tried in the search's order)."""
    _say(f"\nLevels tried ({len(res.tried)}), smallest first:")
    for e in sorted(res.tried, key=lambda e: e.level):
        _say(f"  {field} = {e.level:<6g} {res.target.metric} = {e.value:.3g} (95% CI {e.ci95_low:.3g} to "
                   f"{e.ci95_high:.3g})  {_verdict(e)}  {money(e.cost_per_year, '£')} a year")


def _cost_words(res, e, lever: str, tgt) -> str:
    """A level's cost per year and its difference from none."""
    extra = money_difference(e.cost_per_year - res.none.cost_per_year, partial(money, unit="£"), 1)
    return (f"{money(e.cost_per_year, '£')}: {extra} a year against no {lever} "
            f"(where {tgt.metric} = {res.none.value:.3g})")


def _say_where_added(res, lever: str) -> None:
    """Which team an extra-posts lever that goal-seek added went to, and why."""
    if res.team:
        where = ("where caseloads break first with none" if res.team == res.none.breaks_first
                 else "the largest case-holding team")
        _say(f"The added {lever} went to {team_words(res.team)}, {where}.", err=True)


def _enough_futures(tgt, reps: int) -> None:
    """Refuse a chance target that no level can meet with its interval at ``reps`` futures (even all of them)."""
    if tgt.metric == "p_sustained" and tgt.op in (">=", ">") and not tgt.surely_met(wilson(reps, reps)[0], 1.0):
        need = next(n for n in range(reps, 100_000) if tgt.surely_met(wilson(n, n)[0], 1.0))
        raise click.UsageError(
            f"with {reps} simulated futures, even {reps} of {reps} staying manageable gives a 95% confidence interval "
            f"from {wilson(reps, reps)[0]:.0%}, so no level can meet {tgt} with its interval; "
            f"use --reps {need} or more")


def _not_found(res, tgt, lever: str, field: str, folder: Path) -> None:
    """Say that no level met the target with its interval: met on average from some level (exit 3), or out of reach
    within the levels tried, and why (exit 1)."""
    top = max(res.tried, key=lambda e: e.level)
    e = res.on_average
    if e is not None:
        need = e.replications_needed(tgt)
        _say(f"\nNo level of {lever}.{field} up to {res.max_level:g} meets {tgt} with its 95% confidence "
                   f"interval with {e.replications} futures. On average it is met from {field} = {e.level:g}"
                   + (" already, with none" if e.level == 0 else "")
                   + f" ({tgt.metric} = {e.value:.3g}, 95% CI {e.ci95_low:.3g} to {e.ci95_high:.3g}; cost per year "
                   f"{_cost_words(res, e, lever, tgt)}).")
        if need:
            _say(f"To be sure (the whole interval), run with about {need} simulated futures: --reps {need}.")
        _say(f"Wrote {folder / 'goal_seek.csv'}")
        sys.exit(3)
    _say(f"\n{tgt} is out of reach with {lever}.{field} up to {res.max_level:g}: even at {top.level:g}, "
               f"{tgt.metric} = {top.value:.3g} (95% CI {top.ci95_low:.3g} to {top.ci95_high:.3g}), "
               f"against {res.none.value:.3g} with none.")
    if res.reason:
        _say(f"Why: {res.reason}.")
    hint = bool(res.team) and top.breaks_first not in ("", SERVICE) and top.breaks_first != res.team
    if hint:
        _say(f"To try posts in {team_words(top.breaks_first)}, give the scenario an {lever} lever with team = "
                   f'"{top.breaks_first}" (docs/levers.md) and goal-seek that.')
    _say(f"{'Or t' if hint else 'T'}ry another lever, or a combination of levers in a scenario file.")
    _say(f"Wrote {folder / 'goal_seek.csv'}")
    sys.exit(1)


@main.command("sensitivity")
@click.argument("scenario")
@click.option("--method", "methods", multiple=True, default=("tornado",), show_default=True,
              type=click.Choice(["tornado", "morris", "sobol", "all"]),
              help="tornado: each uncertain setting at its low and its high, the others central (quickest); "
                   "morris: screening across the whole space, interactions included; sobol: variance-based "
                   "indices (the most runs). Give it more than once, or 'all' for all three.")
@click.option("--setting", "settings", multiple=True, metavar="KEY",
              help="Analyse only this uncertain setting, e.g. workforce.turnover.pressure_effect (repeatable) "
                   "[default: every uncertain setting of the scenario].")
@click.option("--trajectories", default=8, show_default=True, type=click.IntRange(min=2),
              help="Morris trajectories: each runs (settings + 1) combinations, so 8 x 15 = 120 for the baseline.")
@click.option("--samples", default=32, show_default=True, type=click.IntRange(min=2),
              help="Sobol base samples, a power of 2: samples x (settings + 2) combinations are run.")
@experiment_options(reps=10, reps_help="Simulated futures at each design point (the same futures at every point).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the results [default: a new folder in outputs/sensitivity-NAME/, named by the date "
                   "and time; outputs/sensitivity-NAME/latest points to the newest].")
@click.option("--resume", is_flag=True, help="Finish an interrupted analysis (in --out, or the newest unfinished one "
              "in the default folder).")
@click.option("--replace", is_flag=True, help="Overwrite another run or analysis in the --out folder.")
def sensitivity_cmd(scenario, methods, settings, trajectories, samples, years, reps, seed, sets, start, jobs, cluster,
                    out, resume, replace):
    """Which assumptions decide the answer? Rank SCENARIO's uncertain settings by how much each moves it.

    A setting is uncertain when the scenario file gives it a range instead of one number, e.g.
    pressure_effect = { uncertain = "uniform", low = 0.5, high = 2.5 } (docs/sensitivity.md). Every
    combination of settings tried runs on the same simulated futures, so the differences come from the
    settings. Prints the ranking and the answer in words; writes sensitivity.csv (every method, measure and
    setting, ranked), points.csv (every combination tried and its results), tornado charts in plots/ and
    manifest.json. The measures: the chance caseloads stay manageable, the weeks until caseloads first become
    unmanageable, the caseload at the end and the cost a year.
    """

    (scn,) = _load_all((scenario,), sets, start)
    chosen = list(METHODS) if "all" in methods else [m for m in METHODS if m in methods]
    if "sobol" in chosen and samples & (samples - 1):
        raise click.UsageError(f"--samples must be a power of 2 (such as 16, 32 or 64); got {samples}")
    try:
        keys = uncertain_keys(scn, settings)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    _announce(scn, chosen, keys, reps, years, trajectories, samples, jobs)
    out, ours = _output_folder(out, Path("outputs") / f"sensitivity-{scn.name}", resume)
    result = _experiment(scn, out, jobs, cluster, ours, runner=sensitivity, methods=chosen, years=years, reps=reps,
                         seed=seed, settings=keys, trajectories=trajectories, samples=samples, resume=resume,
                         replace=replace)
    _print_sensitivity(result, out, chosen, reps)


def _announce(scn, chosen: list[str], keys: list[str], reps: int, years: float, trajectories: int, samples: int,
              jobs: int | None) -> None:
    """What a sensitivity analysis will run, and roughly how long it will take."""
    sizes = {m: design_size(m, len(keys), trajectories, samples) for m in chosen}
    width = jobs or available_cores()
    guess = estimated_seconds(scn, chosen, len(keys), reps, years, trajectories, samples, width)
    names = {"tornado": "one at a time", "morris": f"Morris screening ({trajectories} trajectories)",
             "sobol": f"Sobol indices ({samples} samples)"}
    click.echo(f"Sensitivity of {scn.label} to {len(keys)} uncertain setting{'s' if len(keys) != 1 else ''}: "
               + "; ".join(f"{names[m]}, {sizes[m]} combinations" for m in chosen)
               + f"; each with the same {reps} simulated futures of {years:g} year{'s' if years != 1 else ''} "
               f"({sum(sizes.values()) * reps:,} replications in all, roughly {_duration(guess)} on {width} "
               f"core{'s' if width != 1 else ''}).", err=True)


def _print_sensitivity(result, out: Path, chosen: list[str], reps: int) -> None:
    """The analysis's answer: the central values, each method's ranking, the answer in words, the files written."""
    central = result.manifest.get("central")
    if central:
        click.echo(f"\nWith every setting at its central value ({reps} simulated futures): "
                   + "; ".join(f"{m.label[0].lower()}{m.label[1:]} {m.show(central[m.name])}" for m in MEASURES) + ".")
    for method in result.methods:
        for line in ranking_lines(result, method):
            click.echo(line)
    click.echo("\nIn words: " + " ".join(sensitivity_sentences(result)))
    click.echo(f"\nWrote sensitivity.csv, points.csv, manifest.json{' and plots/' if 'tornado' in chosen else ''} to "
               f"{out}/ in {result.manifest['run_seconds']:.0f} s. Report: workforce-sim report {out}")


def _not_into_package(path: Path) -> None:
    """Refuse to write a scenario file into the installed package's bundled scenarios (the project's
    ``scenarios`` folder links there): it would be listed as bundled and lost on reinstalling."""
    bundled = bundled_path("baseline").resolve().parent
    if path.resolve().parent == bundled:
        raise click.UsageError(f"{path} is inside workforce_sim's bundled scenarios ({bundled}); write your own "
                               f"scenario elsewhere, e.g. --out {path.name}")


@contextlib.contextmanager
def _locked_run(path: Path, what: str) -> Iterator[Path]:
    """The finished run ``path`` names, its folder locked while ``what`` (report, plot) reads it and writes
    beside it (issue 26, item 6): a run that would replace the files meanwhile is refused, and this is refused while
    a run writes there. A folder this user cannot write to (another's run, read only) is read without the lock."""
    folder = resolve_run_folder(path)
    lock = FolderLock(folder, lambda message: click.echo(message, err=True), what=what)
    try:
        lock.acquire()
    except FolderError as exc:
        if os.access(folder, os.W_OK):
            raise _Refused(str(exc)) from None
    try:
        yield _run_dir(folder)
    finally:
        lock.release()  # (only if it is this process's)


def _run_dir(path: Path) -> Path:
    """The finished run ``path`` names (for a folder of runs such as outputs/baseline, its latest)."""

    path = resolve_run_folder(path)
    recover_run_folder(path)  # finish a run's write that was interrupted, so the folder holds one whole run
    if is_sensitivity_folder(path):
        return path
    if not (path / "weekly.csv").is_file() or not (path / "manifest.json").is_file():
        raise click.UsageError(f"{path} does not hold a finished run (weekly.csv and manifest.json); "
                               "make one with: workforce-sim run SCENARIO --out " + str(path))
    return path


@main.command()
@click.argument("run_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--metric", "metrics", multiple=True, metavar="NAME",
              help="Fan chart of this weekly.csv column, e.g. --metric caseload_mean (repeatable; every column is "
                   "listed in the README) [default: caseload counting unallocated cases, caseload_mean, "
                   "unallocated_cases, cp_unallocated, assessments_overdue, staff by contract, vacancies_fte]. "
                   "The chance of staying manageable, cost by financial year and (comparing) cost against outcome "
                   "are always drawn.")
@click.option("--format", "fmt", type=click.Choice(["png", "svg"]), default="png", show_default=True)
@click.option("--real-terms", is_flag=True, help="Cost by financial year in real terms (the prices of the run's "
              "first financial year) instead of cash.")
def plot(run_dir, metrics, fmt, real_terms):
    """Draw the charts of a finished run into RUN_DIR/plots/.

    Each file carries its title and a plain-word description of what it shows (for alt text) in its
    metadata.
    """
    import matplotlib

    matplotlib.use("Agg")  # files, not windows

    from .outputs.plots import charts_of_run, save_charts, sensitivity_charts  # matplotlib loads only to draw

    with _locked_run(run_dir, "plot") as run_dir:
        try:
            charts = (sensitivity_charts(run_dir) if is_sensitivity_folder(run_dir) else
                      charts_of_run(run_dir, list(metrics) or None, real_terms=real_terms))
        except KeyError as exc:
            raise click.UsageError(exc.args[0]) from None
        folder = derived_folder(run_dir, "plots")  # in the run's own folder, to be replaced with the run
        for path in save_charts(charts, folder, fmt):
            click.echo(str(path))


@main.command()
@click.argument("run_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the report [default: RUN_DIR/report.html].")
def report(run_dir, out):
    """Write one self-contained HTML report of a finished run, to open offline."""
    import matplotlib

    matplotlib.use("Agg")  # files, not windows
    from .outputs.report import write_report

    with _locked_run(run_dir, "report") as folder:
        path = write_report(folder, out)
    click.echo(f"Wrote {path}")


@main.command()
@click.argument("data_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Scenario file to write, e.g. my-council-fitted.toml.")
@click.option("--name", default=None, help="The scenario's name [default: the file's name].")
@click.option("--extends", "parent", default="baseline", show_default=True,
              help="Scenario the fitted one builds on, for everything the data does not cover.")
def calibrate(data_dir, out, name, parent):
    """Fit a scenario to a council's own data (formats in docs/data-formats.md).

    Reads contacts.csv, staff.csv and closed_cases.csv from DATA_DIR (aggregate or
    pseudonymised only), fits demand, leaving and case durations, and writes a scenario that
    extends the baseline, with standard errors as comments.
    """

    _not_into_package(out)
    try:
        cal = fit(data_dir)
        text = scenario_text(cal, name or out.stem, parent, out)
        for warning in cal.demand.warnings():
            click.echo(warning, err=True)
    except DataError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    atomic_write(out, lambda fh: fh.write(text))
    try:
        load_scenario(out)
    except ScenarioError as err:  # the fit gave values the schema refuses: say so, keep the file to inspect
        click.echo(f"Wrote {out}, but it does not validate:", err=True)
        _fail(err)
    d = cal.demand
    click.echo(f"Fitted {len(d.sources)} sources over {len(d.months)} months, leaving for "
               f"{len(cal.leaving)} grade and contract groups, and {len([k for k in cal.cases if k != 'assessment'])} "
               f"plan types.\nWrote {out}. Run it with: workforce-sim run {out}")


@main.command()
@click.argument("data_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--holdout-months", default=12, show_default=True, type=click.IntRange(min=1),
              help="Months at the end of the data to hold out and project.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for backtest.csv [default: a new folder in outputs/backtest-DATA_DIR/].")
def backtest(data_dir, holdout_months, out):
    """Fit on the earlier data, project the held-out months, and score the projection (backtest.csv)."""


    try:
        res = bt(data_dir, holdout_months)
    except DataError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    click.echo(f"Fitted on {res['fitted_months']} months; projected {holdout_months} held-out months.\n")
    click.echo(f"{'month':8} {'measure':10} {'actual':>8} {'median':>8} {'80% band':>17}  inside")
    for r in res["rows"]:
        click.echo(f"{r['month']:8} {r['measure']:10} {r['actual']:>8} {r['median']:>8.0f} "
                   f"{r['p10']:>8.0f}-{r['p90']:<8.0f}  {'yes' if r['inside'] else 'no'}")
    click.echo(f"\nMedian error of the median projection: {res['median_abs_pct_error']:.1f}%")
    click.echo(f"Held-out values inside the 80% band: {res['coverage_80']:.0%} (a well-calibrated model covers "
               "about 80%)")
    folder = out or new_run_folder(Path("outputs") / f"backtest-{data_dir.resolve().name}")
    folder.mkdir(parents=True, exist_ok=True)
    write_csv(pd.DataFrame(res["rows"]), folder / "backtest.csv", plain=True)
    if out is None:
        mark_latest(folder)
    click.echo(f"Wrote {folder / 'backtest.csv'}")


@main.command("example-data")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--seed", default=1, show_default=True, type=click.IntRange(min=0))
@click.option("--months", default=48, show_default=True, type=click.IntRange(min=13))
def example_data(folder, seed, months):
    """Write synthetic example data (made up, never real children's data) to try calibrate and backtest."""

    for p in write_example(folder, seed, months):
        click.echo(str(p))


@main.command("trace")
@click.argument("scenario")
@click.option("--child", "children", multiple=True, type=click.IntRange(min=0),
              help="Child number to follow (repeatable). Default: the child with the most changes of social worker.")
@click.option("--worker", "workers", multiple=True, type=click.IntRange(min=0),
              help="Worker number to follow (repeatable).")
@click.option("--team", default=None, metavar="TEAM",
              help="Follow a case-holding team instead: its workers, the children they hold, its caseload.")
@click.option("--years", default=5.0, show_default=True, type=FiniteFloatRange(min=0.02, max=30),
              help="Years to simulate (as for run: the length of the run is part of the simulated future).")
@click.option("--seed", default=42, show_default=True, type=click.IntRange(min=0), help="Master seed (as for run).")
@click.option("--replication", default=0, show_default=True, type=click.IntRange(min=0),
              help="Which simulated future (0 is run's first).")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help=SET_HELP)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the timeline as CSV to this file.")
def trace_cmd(scenario, children, workers, team, years, seed, replication, sets, out):
    """Follow a child (or a worker) through one simulated future: dates, events, who holds the case, waits.

    Tracing changes no result: it is the same future that `run` simulates with the same seed and
    --years (replication 0 is run's first). Child and worker numbers are those the trace prints.
    """
    (scn,) = _load_all((scenario,), sets, None)
    if team is not None:
        return _trace_team(scn, team, years, seed, replication, out)
    everyone = not children and not workers
    timeline = trace(scn, years, seed, replication, None if everyone else list(children),
                     None if everyone else list(workers))
    if everyone:
        pick = most_moved_child(timeline)
        if pick is None:
            raise click.ClickException("no child was referred in this run; try more --years")
        children = (pick,)
        click.echo(f"Following child {pick}, the child with the most changes of social worker "
                   f"(choose others with --child N, or a worker with --worker N).\n")
    shown = timeline[((timeline["who"] == "child") & timeline["id"].isin(children))
                     | ((timeline["who"] == "worker") & timeline["id"].isin(workers))]
    for _, r in shown.iterrows():
        held = f" [worker {r['worker']}]" if r["worker"] >= 0 and r["who"] == "child" else ""
        detail = f": {r['detail']}" if r["detail"] else ""
        click.echo(f"{r['date']:%a %d %b %Y}  {r['who']} {r['id']:<5} {r['event']}{held}{detail}")
    for c in children:
        click.echo("\n" + child_story(timeline, c))
    if out:
        write_csv(shown, out)
        click.echo(f"Wrote {out}")


def _trace_team(scn, team, years, seed, replication, out) -> None:
    """``trace --team``: one team's workers, the children they hold and its caseload every four weeks."""
    try:
        timeline = trace(scn, years, seed, replication, team=team)
    except ValueError as e:
        raise click.ClickException(str(e)) from None
    for _, r in timeline.iterrows():
        held = f" [worker {r['worker']}]" if r["worker"] >= 0 and r["who"] == "child" else ""
        detail = f": {r['detail']}" if r["detail"] else ""
        who = f"{r['who']} {r['id']:<5} " if r["who"] != "team" else f"team {team}: "
        click.echo(f"{r['date']:%a %d %b %Y}  {who}{r['event']}{held}{detail}")
    if out:
        write_csv(timeline, out)
        click.echo(f"Wrote {out}")


@main.command()
@click.argument("scenario")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help=SET_HELP)
@click.option("--settings", "show_settings", is_flag=True,
              help="Also print every resolved value (after extends and --set) on standard output, as a scenario "
                   "file you can load; the other messages then go to the error stream.")
@click.option("--quiet", "-q", is_flag=True, hidden=True)  # the default since --settings: kept for scripts
@click.option("--no-start-check", is_flag=True,
              help="Skip the start-state check (a short simulation of whether the start state is where the "
                   "scenario settles).")
def validate(scenario, sets, show_settings, quiet, no_start_check):
    """Check a scenario file (after extends and --set) and say what it describes in a few lines.

    Then check its start state: simulate it for 5 years, 8 times over, with demand held steady
    and no levers, and compare staff in post, vacancies and open cases at the start with where they
    settle. If they move by more than 10%, much of the first years' trend in a run is the model
    settling, not a change in the service. --settings also prints every resolved value on standard
    output (a loadable scenario file), the messages and the check then going to the error stream.
    """
    (scn,) = _load_all((scenario,), sets, None)
    listing = show_settings and not quiet
    if listing:
        click.echo(tomlout.dumps(scn.model_dump(mode="python")))
    for line in _validated_lines(scenario, scn, listing):
        click.echo(line, err=listing)
    if not no_start_check:
        with Workers(available_cores()) as workers:
            (check,) = _start_checks([scn], seed=CHECK_SEED, workers=workers)
        for line in ["", *check.words(), "", *check.table_lines()]:
            click.echo(line, err=listing)


def _count(n: int, thing: str) -> str:
    """'no levers', '1 lever', '4 teams'."""
    return f"no {thing}s" if n == 0 else f"{n:,} {thing}{'' if n == 1 else 's'}"


def _validated_lines(ref: str, scn, listing: bool) -> list[str]:
    """validate's confirmation: the scenario is valid, what it starts from, and how to see every setting."""
    day = scn.start_date
    staff = sum(g.count for g in scn.staff)
    cases = sum(g.count for g in scn.open_cases)
    changed = f" ({scn.label})" if scn.label != ref else ""  # the --set changes, where there are any
    lines = [f"OK: {ref} is a valid scenario{changed}.",
             f"  Starts on {day.day} {day:%B %Y}; a run lasts {DEFAULT_YEARS:g} years unless --years says otherwise.",
             f"  {_count(len(scn.teams), 'team')}, {staff:,} staff in post and {cases:,} open cases at the start, "
             f"{_count(len(scn.levers), 'lever')}, {_count(len(scn.uncertain), 'uncertain setting')}."]
    if not listing:
        lines.append(f"  Every resolved setting: workforce-sim validate {ref} --settings")
    return lines


@main.command()
def scenarios():
    """List the scenarios that come with workforce_sim."""
    names = bundled_names()
    width = max(len(n) for n in names)
    for name in names:
        click.echo(f"{name:{width}}  {load_scenario(name).description}")


@main.command()
@click.argument("scenario")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Scenario file to write: it extends SCENARIO and replaces its staff and open cases.")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help=SET_HELP)
@click.option("--years", default=SETTLE_YEARS, show_default=True, type=click.IntRange(4, 50),
              help="Years to simulate to find where the scenario settles.")
@click.option("--reps", default=SETTLE_REPS, show_default=True, type=click.IntRange(1, 1000),
              help="Simulated futures to average.")
@click.option("--seed", default=CHECK_SEED, show_default=True, type=int, help="Master random seed.")
@click.option("--jobs", default=None, type=click.IntRange(1, None), help="Worker processes (default: every core).")
@click.option("--force", is_flag=True, help="Overwrite --out if it exists.")
def settle(scenario, out, sets, years, reps, seed, jobs, force):
    """Write a start state (staff in post and open cases) where SCENARIO settles.

    The scenario is simulated with demand held steady and no levers; the staff and open cases at
    the end are averaged over the simulated futures and written to --out as a scenario that extends
    SCENARIO. Use it when your own start figures are incomplete, or to check them against where
    your rates would take the service; `validate` says how far any start state is from it.
    """
    if out.exists() and not force:
        raise click.UsageError(f"{out} exists already; choose another name or add --force")
    _not_into_package(out)
    (scn,) = _load_all((scenario,), sets, None)
    click.echo(f"Simulating {scn.name} for {years} years, {reps} times over, with demand held steady and no levers...",
               err=True)
    state = settled_start_state(scn, years=years, reps=reps, seed=seed, jobs=jobs or available_cores())
    base = scenario if scenario in bundled_names() else str(Path(scenario).resolve())
    header = [tomlout.comment(line) for line in (
        f"The start state where {scn.name} settles: staff in post and open cases after {years} years with demand",
        f"held steady and no levers, averaged over {reps} simulated futures (seed {seed}), written by",
        f"workforce-sim settle. Everything else is {scenario}'s." + (
            f" Made with --set {' '.join(sets)}; those settings are not written here." if sets else ""))]
    body = tomlout.dumps({"extends": base, "name": f"{scn.name}-settled",
                          "description": f"{scn.description} Start state: where it settles."[:300],
                          "staff": state["staff"], "open_cases": state["open_cases"]})
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(out, lambda fh: fh.write("\n".join(header) + "\n" + body))
    staff = sum(g["count"] * g["fte"] for g in state["staff"])
    cases = sum(g["count"] for g in state["open_cases"] if g["type"] != "early_help")
    click.echo(f"Wrote {out}: {staff:.0f} FTE in post and {cases:,} open statutory cases. "
               f"Check it with: workforce-sim validate {out}")


@main.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--from", "source", default="baseline", show_default=True, help="Bundled scenario to copy.")
@click.option("--force", is_flag=True, help="Overwrite PATH if it exists.")
def init(path, source, force):
    """Write an editable copy of a bundled scenario to PATH, to start your own."""
    if path.exists() and not force:
        raise click.UsageError(f"{path} exists already; choose another name or add --force")
    _not_into_package(path)
    if source not in bundled_names():
        raise click.UsageError(f"no bundled scenario '{source}'; choose from: {', '.join(bundled_names())}")
    path.parent.mkdir(parents=True, exist_ok=True)
    text = bundled_path(source).read_text(encoding="utf-8")
    name = path.stem
    try:
        safe_name(name)
    except ValueError:
        name = None  # a file name that is not a usable scenario name: keep the copied one
    if name is not None:  # the scenario is named after its file, so it can run beside the one it was copied from
        text = re.sub(r'(?m)^name = "[^"\n]*"$', lambda m: tomlout.dumps({"name": name}).strip(), text, count=1)
    atomic_write(path, lambda fh: fh.write(text))
    click.echo(f"Wrote {path}" + (f" (scenario name '{name}')" if name else "") +
               f". Edit it, check it with: workforce-sim validate {path}")



@main.command("app")
@click.argument("scenario", default="baseline")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to serve the page on. Only this computer can open it unless you give another "
                   "(a warning is printed then: the page has no password).")
@click.option("--port", default=0, type=click.IntRange(0, 65535), help="Port [default: a free one, printed].")
@click.option("--no-browser", is_flag=True, help="Do not open the page in a browser; just print its address.")
@click.option("--jobs", type=click.IntRange(min=1), default=None,
              help="Worker processes for each run [default: as run chooses].")
def app_cmd(scenario, host, port, no_browser, jobs):
    """A page where you move the levers: choose SCENARIO (a bundled name or your file), change its levers and
    main settings, press Run, and see the answer, the charts and the cost by financial year fill in.

    The page runs on this computer (it needs no network) and writes only under outputs/ and the scenario files
    you ask it to save. Ctrl-C stops it.
    """
    from .app.server import serve  # the web server loads only for this command

    _load(scenario, ())  # a scenario that does not load is said here, plainly, before any page is served
    try:
        serve(scenario, host=host, port=port, browser=not no_browser, say=lambda text: click.echo(text, err=True),
              jobs=jobs)
    except OSError as exc:
        raise click.ClickException(f"cannot serve the page on {host}:{port}: {exc.strerror or exc}") from None
    except KeyboardInterrupt:
        click.echo("Stopped.", err=True)

if __name__ == "__main__":  # pragma: no cover
    main()
