"""The command line: a thin layer over the Python API."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import click
import numpy as np

from . import __version__
from .experiment import run as run_experiment
from .loading import ScenarioError, bundled_names, bundled_path, load_scenario, resolve_path
from .results import sustained_share, write_run
from . import tomlout

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


@main.command()
@click.argument("scenarios", nargs=-1, required=True, metavar="SCENARIO...")
@click.option("--years", default=5.0, show_default=True, type=click.FloatRange(min=0, min_open=True), help="Years to simulate.")
@click.option("--reps", default=20, show_default=True, type=click.IntRange(min=1), help="Replications (simulated futures).")
@click.option("--seed", default=42, show_default=True, type=click.IntRange(min=0), help="Master random seed.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for weekly.csv, summary.csv and manifest.json [default: outputs/NAME].")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help=SET_HELP)
def run(scenarios, years, reps, seed, out, sets):
    """Run SCENARIO (a file, or a bundled name such as baseline) and write results.

    Several scenarios run with common random numbers, so their differences
    come from the scenarios, not from chance.
    """
    scns = [_load(s, sets) for s in scenarios]
    out = out or Path("outputs") / "-".join(s.name for s in scns)
    interactive = sys.stderr.isatty()

    def progress(name, done, total):
        if interactive:
            click.echo(f"\r{name}: replication {done}/{total}", err=True, nl=done == total)

    try:
        result = run_experiment(scns, years=years, reps=reps, seed=seed, progress=progress)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    except KeyboardInterrupt:
        click.echo("\nInterrupted: no results were written.", err=True)
        sys.exit(130)
    paths = write_run(result, out)
    _print_summary(result)
    click.echo(f"\nWrote {', '.join(p.name for p in paths)} to {out}/ in {result.manifest['run_seconds']:.1f} s.")


def _print_summary(result) -> None:
    s = result.summary
    for scn in result.scenarios:
        part = s[s["scenario"] == scn.name]
        years = [p for p in part["period"].unique() if p != "whole run"]
        click.echo(f"\n{scn.name}: {result.manifest['replications']} replications from {scn.start_date}, "
                   f"mean over each year (95% confidence interval)")
        width = 38
        header = "".join(f"{y:>22}" for y in years)
        click.echo(f"{'':{width}}{header}")
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
        thr = scn.standards.manageable_caseload
        share = sustained_share(result.weekly[result.weekly["scenario"] == scn.name], thr).iloc[0]
        n = result.manifest["replications"]
        click.echo(f"Mean caseload stayed at or below {thr:g} in every week in {round(share * n)} of {n} simulated futures.")


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
