"""The command line: a thin layer over the Python API."""

from __future__ import annotations

import datetime as dt
import shutil
import sys
import time
from pathlib import Path

import click
import numpy as np

from . import __version__
from . import tomlout
from .backends import DASK_HINT, available_cores
from .experiment import run as run_experiment
from .loading import ScenarioError, bundled_names, bundled_path, load_scenario, resolve_path
from .store import PARTIAL, StoreMismatch

SET_HELP = "Override a scenario value, e.g. --set demand.trend_per_year=0.05 (repeatable; VALUE is read as TOML)."
KEY_METRICS = [
    ("caseload_mean", "Caseload per case-holding FTE (mean)", "{:.1f}"),
    ("caseload_p90", "Caseload, 90th percentile worker", "{:.1f}"),
    ("workers_over_threshold_pct", "Workers over the threshold (%)", "{:.0f}"),
    ("unallocated_cases", "Unallocated cases", "{:.0f}"),
    ("assessments_in_timescale_pct", "Assessments within 45 days (%)", "{:.0f}"),
    ("re_referral_pct", "Re-referrals (% of referrals)", "{:.0f}"),
    ("front_door_backlog", "Contacts awaiting a decision", "{:.0f}"),
    ("staff_fte", "Staff in post (FTE)", "{:.1f}"),
    ("staff_fte_agency", "Agency staff (FTE)", "{:.1f}"),
    ("vacancies_fte", "Vacant posts (FTE)", "{:.1f}"),
]


def _fail(err: ScenarioError) -> None:
    for line in err.lines:
        click.echo(line, err=True)
    sys.exit(2)


def _load(ref: str, sets: tuple[str, ...]):
    try:
        return load_scenario(ref, list(sets))
    except ScenarioError as err:
        _fail(err)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="workforce-sim")
def main() -> None:
    """Workforce and caseload planning for children's social care.

    Simulates a council's front door, case flow and social work workforce, many
    times over (Monte Carlo), to show whether caseloads stay manageable and for
    how long. Start with:  workforce-sim run baseline
    """


class Progress:
    """A progress bar on a terminal (done, rate, time left); a plain line every 10% otherwise."""

    def __init__(self, interactive: bool):
        self.interactive = interactive
        self.t0 = time.perf_counter()
        self.last_decile = -1
        self.first = None

    def __call__(self, done: int, total: int) -> None:
        now = time.perf_counter()
        if self.first is None:
            self.first = (done, now)  # replications found from an earlier, interrupted run do not count in the rate
        d0, t0 = self.first
        rate = (done - d0) / (now - t0) if now > t0 and done > d0 else 0.0
        left = (total - done) / rate if rate > 0 else None
        if self.interactive:
            width = 30
            fill = int(width * done / total) if total else width
            eta = "" if left is None else f", about {_duration(left)} left"
            click.echo(f"\r[{'#' * fill}{'.' * (width - fill)}] {done}/{total} replications, "
                       f"{rate:.1f}/s{eta}   ", err=True, nl=False)
            if done >= total:
                click.echo("", err=True)
        else:
            decile = 10 * done // total if total else 10
            if decile > self.last_decile:
                self.last_decile = decile
                click.echo(f"{done} of {total} replications done", err=True)


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


@main.command()
@click.argument("scenarios", nargs=-1, required=True, metavar="SCENARIO...")
@click.option("--years", default=5.0, show_default=True, type=click.FloatRange(min=0, min_open=True), help="Years to simulate.")
@click.option("--reps", default=20, show_default=True, type=click.IntRange(min=1),
              help="Replications (simulated futures); with --precision, the first batch.")
@click.option("--seed", default=42, show_default=True, type=click.IntRange(min=0), help="Master random seed.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for weekly.csv, summary.csv and manifest.json [default: outputs/NAME].")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help=SET_HELP)
@click.option("--jobs", type=click.IntRange(min=1), default=None,
              help="Worker processes on this machine [default: all cores].")
@click.option("--cluster", default=None, metavar="ADDRESS",
              help="Run on Dask: 'local' for a cluster on this machine, or a scheduler address such as tcp://HOST:8786.")
@click.option("--resume", is_flag=True, help="Finish an interrupted run in the same --out folder.")
@click.option("--precision", type=click.FloatRange(min=0, max=1, min_open=True, max_open=True), default=None,
              help="Add replications until each key measure's 95% confidence interval is within this fraction "
                   "of its mean (e.g. 0.05).")
@click.option("--max-reps", type=click.IntRange(min=1), default=1000, show_default=True,
              help="Most replications --precision may use.")
def run(scenarios, years, reps, seed, out, sets, jobs, cluster, resume, precision, max_reps):
    """Run SCENARIO (a file, or a bundled name such as baseline) and write results.

    Several scenarios run with common random numbers: replication r of each sees
    the same demand, so their differences come from the scenarios, not chance.
    """
    scns = [_load(s, sets) for s in scenarios]
    out = out or Path("outputs") / "-".join(s.name for s in scns)
    jobs = jobs or available_cores()
    try:
        result = run_experiment(scns, years=years, reps=reps, seed=seed, jobs=jobs, cluster=cluster, out=out,
                                resume=resume, precision=precision, max_reps=max_reps,
                                progress=Progress(sys.stderr.isatty()))
    except (ValueError, StoreMismatch) as exc:
        raise click.UsageError(str(exc)) from None
    except RuntimeError as exc:
        if str(exc) == DASK_HINT:
            raise click.UsageError(str(exc)) from None
        raise
    except OSError as exc:
        if cluster:
            raise click.ClickException(f"cannot reach the Dask cluster at {cluster}: {exc}") from None
        raise
    except KeyboardInterrupt:
        saved = len(list((out / PARTIAL).glob("*.npz"))) if (out / PARTIAL).exists() else 0
        click.echo(f"\nInterrupted. Finished replications are kept in {out}/ ({saved} batch(es)); "
                   "run the same command with --resume to finish.", err=True)
        sys.exit(130)
    _print_summary(result)
    extra = ""
    if precision is not None:
        p = result.manifest["precision"]
        extra = (f" {p['replications_needed']} replications were needed for {precision:.0%} precision"
                 if p["met"] else f" {precision:.0%} precision was not reached within {max_reps} replications")
    click.echo(f"\nWrote weekly.csv, summary.csv and manifest.json to {out}/ in {result.manifest['run_seconds']:.1f} s."
               + (f"\n{extra.strip()}." if extra else ""))


def _print_summary(result) -> None:
    s = result.summary
    n = result.manifest["replications"]
    for scn in result.scenarios:
        part = s[s["scenario"] == scn.name]
        years = [p for p in part["period"].unique() if p != "whole run"]
        click.echo(f"\n{scn.name}: {n} replications from {scn.start_date}, mean over each year (95% confidence interval)")
        width = 38
        click.echo(f"{'':{width}}" + "".join(f"{y:>22}" for y in years))
        for metric, label, fmt in KEY_METRICS:
            cells = []
            for y in years:
                row = part[(part["metric"] == metric) & (part["period"] == y)].iloc[0]
                if np.isnan(row["mean"]):
                    cells.append(f"{'-':>22}")
                    continue
                ci = "" if np.isnan(row["ci95_low"]) else f" ({fmt.format(row['ci95_low'])} to {fmt.format(row['ci95_high'])})"
                cells.append(f"{fmt.format(row['mean']) + ci:>22}")
            click.echo(f"{label:{width}}" + "".join(cells))
        for line in headline_lines(scn, part, n):
            click.echo(line)


def headline_lines(scn, part, n: int) -> list[str]:
    """The headline answer in words: will caseloads stay manageable, and for how long?"""
    thr = scn.standards.manageable_caseload
    sus = part[part["metric"] == "p_sustained"].set_index("period")
    whole = sus.loc["whole run"]
    lines = [f"Mean caseload stayed at or below {thr:g} in every week of the run in "
             f"{round(whole['mean'] * n)} of {n} simulated futures: {whole['mean']:.0%} "
             f"(95% confidence interval {whole['ci95_low']:.0%} to {whole['ci95_high']:.0%})."]
    by_year = [f"{p}: {r['mean']:.0%}" for p, r in sus.iterrows() if p != "whole run"]
    lines.append("Still manageable at the end of " + ", ".join(by_year) + ".")
    b = part[part["metric"] == "weeks_to_first_breach"].iloc[0]

    def when(w):
        if not np.isfinite(w):
            return "never"
        d = scn.start_date + dt.timedelta(weeks=int(w))
        return f"week {int(w)} ({d:%b %Y})"

    lines.append(f"First week above {thr:g}: median {when(b['p50'])}; 10th percentile {when(b['p10'])}, "
                 f"90th percentile {when(b['p90'])}.")
    return lines


@main.command()
@click.argument("scenario")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help=SET_HELP)
@click.option("--quiet", "-q", is_flag=True, help="Only check; do not print the resolved values.")
def validate(scenario, sets, quiet):
    """Check a scenario file and print its resolved values (after extends and --set)."""
    scn = _load(scenario, sets)
    if not quiet:
        click.echo(tomlout.dumps(scn.model_dump(mode="python")))
    click.echo(f"OK: {scenario} is a valid scenario ({scn.name}).", err=quiet is False)


@main.command()
def scenarios():
    """List the scenarios that come with workforce_sim."""
    for name in bundled_names():
        scn = load_scenario(name)
        click.echo(f"{name:16} {scn.description}")


@main.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--from", "source", default="baseline", show_default=True, help="Bundled scenario to copy.")
@click.option("--force", is_flag=True, help="Overwrite PATH if it exists.")
def init(path, source, force):
    """Write an editable copy of a bundled scenario to PATH, to start your own."""
    if path.exists() and not force:
        raise click.UsageError(f"{path} exists already; choose another name or add --force")
    try:
        src = resolve_path(source) if source in bundled_names() else None
    except ScenarioError as err:
        _fail(err)
    if src is None:
        raise click.UsageError(f"no bundled scenario '{source}'; choose from: {', '.join(bundled_names())}")
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(bundled_path(source), path)
    click.echo(f"Wrote {path}. Edit it, check it with: workforce-sim validate {path}")


if __name__ == "__main__":  # pragma: no cover
    main()
