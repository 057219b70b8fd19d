"""Issue 26, "Hardening, second round": values that validate but break the run (item 1), calibrate on thin data
(item 4), readers of a run folder under its lock (item 6) and a commit that switches in one rename (item 7)."""

from __future__ import annotations

import math
import multiprocessing
import os
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings, strategies as st

from workforce_sim.cli import main
from workforce_sim.scenario.loading import ScenarioError, load_scenario


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


# -- item 1: every setting has a plausible range ----------------------------------------------
PROBES = [  # the probes: each ran for minutes, exhausted the memory or stopped with an internal error
    "teams.assessment.posts.social_worker=100000000",
    "teams.assessment.posts.team_manager=100000000",
    "levers=[{type='nqsw_academy', start=2026-05-01, extra_cohort=1000000}]",
    "demand.trend_per_year=40000",
    "open_cases.2.count=1000000000",
    "workforce.recruitment.time_to_hire_weeks.cv=1e-300",
    "workforce.agency.time_to_start_weeks.cv=1e200",
    "open_cases.2.weeks_open=1e308",
    "demand.sources.police.contacts_per_year=9223372036854775807",
]


@pytest.mark.parametrize("probe", PROBES)
def test_a_value_beyond_any_council_is_refused_by_its_key_before_anything_runs(probe):
    key = probe.split("=")[0]
    with pytest.raises(ScenarioError) as exc:
        load_scenario("baseline", [probe])
    (line,) = exc.value.lines
    assert line.startswith(f"--set {key}: ") and "must be" in line, line


def test_the_probes_stop_with_a_plain_error_on_the_command_line(tmp_path):
    res = cli("run", "baseline", "--years", "1", "--reps", "2", "--jobs", "1", "--no-start-check",
              "--out", tmp_path / "o", "--set", "workforce.recruitment.time_to_hire_weeks.cv=1e-300")
    assert res.exit_code == 2 and "must be" in res.output and "Error" not in res.output.split(":")[0], res.output
    assert "Traceback" not in res.output and "ZeroDivision" not in res.output and not (tmp_path / "o").exists()


def test_the_bounds_are_plausible_values_themselves():
    """The largest value of each kind is accepted (the bounds refuse slips, not large councils)."""
    load_scenario("baseline", ["teams.assessment.posts.social_worker=10000", "open_cases.2.count=100000",
                               "demand.sources.police.contacts_per_year=1000000",
                               "workforce.recruitment.time_to_hire_weeks.cv=10", "open_cases.2.weeks_open=5218",
                               "demand.trend_per_year=1.0"])


@pytest.mark.parametrize("sets, key", [
    (["open_cases=[{type='cin', count=100000}, {type='cp', count=100000}, {type='cla', count=1}]"], "open_cases"),
    ([f"teams.{t}.posts={{social_worker=10000, senior_social_worker=10000, team_manager=10000}}"
      for t in ("long_term", "assessment")], "teams"),
], ids=["open cases", "posts"])
def test_totals_beyond_any_council_are_refused_though_each_group_is_within_its_range(sets, key):
    with pytest.raises(ScenarioError) as exc:
        load_scenario("baseline", sets)
    assert any(f": {key} = " in line and "at most" in line for line in exc.value.lines), exc.value.lines


def test_growth_that_compounds_beyond_any_council_over_the_run_is_refused(tmp_path):
    """A trend of 100% a year is allowed, but not over 15 years: 200 million contacts a year exhausted the memory
    (run in a child process, its memory limited, so that the old code fails the test instead of the machine)."""
    code, output = run_one("demand.trend_per_year=1.0", tmp_path / "o", timeout=120.0, years=15)
    assert code == 2 and "contacts a year" in output and "--years" in output, output
    assert not (tmp_path / "o").exists()


# -- item 1, Must show: any value of any setting either is refused plainly or runs, finite and in time --------
def _numeric_settings() -> list[tuple[str, int | float]]:
    """Every number in the baseline scenario, by key, with its value."""
    def walk(x, path):
        if isinstance(x, dict):
            for k, v in x.items():
                yield from walk(v, [*path, str(k)])
        elif isinstance(x, list):
            for i, v in enumerate(x):
                yield from walk(v, [*path, str(i)])
        elif isinstance(x, (int, float)) and not isinstance(x, bool):
            yield ".".join(path), x
    data = load_scenario("baseline").model_dump()
    data.pop("uncertain")
    return list(walk(data, []))


SETTINGS = _numeric_settings()
LEVERS = {  # each lever's numbers, set on a lever of that type (a lever holds no number in the baseline)
    "extra_posts": ("team='assessment', posts", int), "team_managers": ("team='assessment', posts", int),
    "nqsw_academy": ("extra_cohort", int), "agency_cap": ("max_share_of_posts=0.1, release_over_weeks", float),
    "foster_carers": ("places_per_year", float), "residential_step_down": ("children_per_year", float),
    "retention": ("payment_per_worker_per_year", float), "recruitment_campaign": ("time_to_hire_factor", float),
}
_EXTREMES = [0, 1, -1, 2, 10_000, 10_001, 100_000, 1_000_000, 10**9, 2**31, 2**63 - 1, -2**63]
_FLOATS = st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.floats(0.0, 20.0), st.floats(0.0, 1.0),
                    st.sampled_from([0.0, 5e-324, 1e-300, 1e-9, 0.01, 0.5, 1.0, 5218.0, 5219.0, 1e6, 1e200, 1e308,
                                     -1e-300, float("nan"), float("inf")]))
_INTS = st.one_of(st.sampled_from(_EXTREMES), st.integers(0, 50), st.integers(-2**63, 2**63 - 1))


def _toml(v) -> str:
    if isinstance(v, float) and not math.isfinite(v):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    return repr(v)


@st.composite
def a_setting(draw) -> str:
    """One --set: a number of the baseline, or of a lever, given any value of its type (extremes included)."""
    if draw(st.integers(0, 4)) == 0:
        kind, (field, typ) = draw(st.sampled_from(sorted(LEVERS.items())))
        value = draw(_INTS if typ is int else _FLOATS)
        return f"levers=[{{type='{kind}', start=2026-05-01, {field}={_toml(value)}}}]"
    key, now = draw(st.sampled_from(SETTINGS))
    near = st.sampled_from([0.0, 0.1, 0.5, 2.0, 10.0, 100.0]).map(lambda f: type(now)(now * f))  # from the one given
    return f"{key}={_toml(draw(st.one_of(near, _INTS if isinstance(now, int) else _FLOATS)))}"


def _run_in_child(argv: list[str], conn) -> None:
    """Run the command line in this (forked) process, its memory limited, and send back its exit code and words."""
    import resource

    if hasattr(resource, "RLIMIT_AS"):  # a value that made the run grow without end stops here, not the machine
        resource.setrlimit(resource.RLIMIT_AS, (3 * 1024**3, 3 * 1024**3))
    res = CliRunner().invoke(main, argv)
    conn.send((res.exit_code, res.output))


def run_one(setting: str, out: Path, timeout: float = 300.0, years: int = 1) -> tuple[int | None, str]:
    """The command line's exit code and output for a 1-year, 2-replication run with ``setting``; None if it was still
    running after ``timeout`` seconds (a liveness bound far above the few seconds any such run takes)."""
    argv = ["run", "baseline", "--years", str(years), "--reps", "2", "--jobs", "1", "--seed", "3", "--no-start-check",
            "--out", str(out), "--set", setting]
    ctx = multiprocessing.get_context("fork" if sys.platform != "win32" else "spawn")
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_run_in_child, args=(argv, send))
    child.start()
    send.close()
    got = receive.poll(timeout)
    result = receive.recv() if got else (None, "")
    child.join(10)
    if child.is_alive():
        child.kill()
        child.join()
    return result


def _check_any_value(setting: str, out: Path, timeout: float) -> None:
    try:
        load_scenario("baseline", [setting])
    except ScenarioError as err:  # refused, plainly: by its key, or by a cross-check naming the keys it compares
        assert err.lines and all(": " in line and "Traceback" not in line for line in err.lines), err.lines
        return
    code, output = run_one(setting, out, timeout)
    assert code is not None, f"{setting}: still running after {timeout:.0f} s"
    assert "Traceback" not in output and "Warning" not in output and not re.search(r"\.py:\d", output), output
    assert code in (0, 2), f"{setting}: exit {code}: {output}"
    if code == 0:
        weekly = pd.read_csv(out / "weekly.csv")
        numbers = weekly.select_dtypes("number").to_numpy(dtype=float)
        assert np.isfinite(numbers[~np.isnan(numbers)]).all(), f"{setting}: an output is not finite"
    else:  # refused by a check that needs the run's length (growth over the run): plainly
        assert "must be" in output or "at most" in output, output


@pytest.mark.skipif(sys.platform == "win32", reason="forks a run a value (the slow variant runs the same check)")
@settings(max_examples=20, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(setting=a_setting())
def test_any_value_of_any_setting_is_refused_plainly_or_runs_finite_and_in_time(setting, tmp_path_factory):
    _check_any_value(setting, tmp_path_factory.mktemp("any") / "o", timeout=300.0)


@pytest.mark.slow
@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(setting=a_setting())
def test_any_value_of_any_setting_many_examples(setting, tmp_path_factory):
    _check_any_value(setting, tmp_path_factory.mktemp("any") / "o", timeout=300.0)


# -- item 4: calibrate on thin data --------------------------------------------------------------
def _data_with(tmp_path, extra_rows: list[str], months: int = 24) -> Path:
    from workforce_sim.studies.exampledata import write_example
    folder = tmp_path / "data"
    write_example(folder, seed=2, months=months)
    with (folder / "contacts.csv").open("a", encoding="utf-8") as fh:
        fh.writelines(row + "\n" for row in extra_rows)
    return folder


@pytest.mark.parametrize("rows", [
    ["2015-04,youth_club,3,1"],  # contacts in one month: the fit's matrix was singular (LinAlgError)
    ["2015-04,youth_club,0,0"],  # seen in one month, no contacts: the scenario was written full of nan
    ["2015-04,youth_club,0,0", "2015-05,youth_club,0,0"],  # numpy's warnings, then LinAlgError
    ["2016-12,youth_club,9,0"],  # the last month only
], ids=["one month", "one month of none", "two months of none", "the last month"])
def test_calibrate_with_a_source_seen_in_one_month_warns_by_name_and_writes_finite_values(tmp_path, rows):
    import tomllib

    data = _data_with(tmp_path, rows)
    out = tmp_path / "fitted.toml"
    res = CliRunner().invoke(main, ["calibrate", str(data), "--out", str(out)])
    assert res.exit_code == 0, res.output + res.stderr
    assert "youth_club" in res.stderr and "Warning" in res.stderr, res.stderr
    assert "RuntimeWarning" not in res.stderr + res.output and "LinAlgError" not in res.stderr + res.output
    fitted = tomllib.loads(out.read_text(encoding="utf-8"))
    assert "nan" not in out.read_text(encoding="utf-8").replace("nan ", "")
    assert fitted["demand"]["sources"]["youth_club"]["trend_per_year"] == 0.0
    assert all(math.isfinite(x) for x in fitted["demand"]["seasonality"])
    load_scenario(out)


def test_calibrate_with_no_source_seen_long_enough_is_a_plain_error(tmp_path):
    from workforce_sim.studies.calibrate import DataError, calibrate
    data = _data_with(tmp_path, [])
    # 13 months of data, each from a different source: no source has the 13 months its own fit needs
    rows = [f"{2015 + (3 + i) // 12}-{(3 + i) % 12 + 1:02d},source_{i},{20 + i},2" for i in range(13)]
    (data / "contacts.csv").write_text("month,source,contacts,referrals\n" + "\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match="no source has contacts in at least 13 months"):
        calibrate(data)


def test_a_fit_that_is_not_finite_is_never_written(tmp_path, monkeypatch):
    """Whatever goes wrong in a fit, a scenario holding nan or inf is refused before it is written."""
    import workforce_sim.studies.calibrate as calibration
    data = _data_with(tmp_path, [])
    cal = calibration.calibrate(data)
    cal.cases["cin"]["cv"] = float("nan")
    with pytest.raises(calibration.DataError, match="cases.plans.cin.duration_weeks.cv"):
        calibration.scenario_text(cal, "fitted")


# -- item 6: report and plot read a run folder under its lock ------------------------------------
RUN_ARGS = ["--years", "0.2", "--reps", "2", "--jobs", "1", "--no-start-check"]


@pytest.fixture
def finished(tmp_path) -> Path:
    out = tmp_path / "o"
    res = cli("run", "baseline", *RUN_ARGS, "--seed", "11", "--out", out)
    assert res.exit_code == 0, res.output
    return out


@pytest.mark.parametrize("command", ["report", "plot"])
def test_report_and_plot_are_refused_while_a_run_writes_the_folder(finished, command):
    from workforce_sim.runs.files import FolderLock
    with FolderLock(finished):  # as a run holds it while it writes
        res = cli(command, finished)
    assert res.exit_code == 2 and "is writing to" in res.output and str(finished) in res.output, res.output
    assert "Traceback" not in res.output
    assert not (finished / "report.html").exists() and not (finished / "plots").exists()
    assert cli(command, finished).exit_code == 0  # and once the run has finished, they work


def test_a_run_cannot_replace_the_files_a_report_is_reading(finished, monkeypatch):
    """The issue's race: a report of the run with seed 11 written after a new run (seed 12) replaced the CSVs. The
    new run, started while the report reads, is now refused, so the report and the folder describe one run."""
    import json

    import workforce_sim.outputs.report as report
    from workforce_sim import run
    from workforce_sim.runs.files import FolderError

    real, refused = report.write_report, []

    def write_report(run_dir, out=None):
        try:  # a run into the same folder, started while the report reads it
            run("baseline", years=0.2, reps=2, seed=12, jobs=1, out=finished)
        except FolderError as exc:
            refused.append(str(exc))
        return real(run_dir, out)

    monkeypatch.setattr(report, "write_report", write_report)
    res = cli("report", finished)
    assert res.exit_code == 0, res.output
    assert refused and "another report" in refused[0] and "reading" in refused[0], refused
    assert json.loads((finished / "manifest.json").read_text())["seed"] == 11


# -- item 7: a commit switches what a reader sees in one rename ----------------------------------
RUN_NAMES = ("weekly.csv", "summary.csv", "budget.csv", "results.xlsx", "manifest.json")


def _writers(seed: int, with_compare: bool) -> dict:
    """A run's files, each saying which run (seed) it belongs to; the new run also has compare.csv."""
    import json

    def text(name):
        return lambda path: Path(path).write_text(f"{name} of the run with seed {seed}\n", encoding="utf-8")

    writers = {name: text(name) for name in RUN_NAMES if name != "manifest.json"}
    if with_compare:
        writers["compare.csv"] = text("compare.csv")
    writers["manifest.json"] = lambda path: Path(path).write_text(json.dumps({"seed": seed, "scenarios": []}))
    return writers


def _seen(out: Path) -> tuple[int | None, dict[str, str]]:
    """What a reader sees in ``out`` (by the names a user opens, recovering nothing): the manifest's seed and each
    file's words."""
    import json
    manifest = out / "manifest.json"
    seed = json.loads(manifest.read_text())["seed"] if manifest.exists() else None
    files = {n: (out / n).read_text() for n in (*RUN_NAMES, "compare.csv", "report.html") if (out / n).is_file()}
    files.update({f"plots/{p.name}": p.read_text() for p in sorted((out / "plots").glob("*"))} if (
        out / "plots").is_dir() else {})
    return seed, files


def _one_run(seed: int | None, files: dict[str, str]) -> bool:
    """Whether ``files`` are all of the run with ``seed``: every file of it, none of another's."""
    if seed is None:
        return False
    expected = {n for n in RUN_NAMES if n != "manifest.json"} | ({"compare.csv"} if seed == 2 else set())
    shown = {n for n in files if n != "manifest.json"}
    derived = {"report.html", "plots/chart.png"} if seed == 1 else set()  # the old run's report and chart
    return shown == expected | derived and all(f"seed {seed}\n" in files[n] for n in shown)


def _old_run(out: Path) -> None:
    """``out`` holding the run with seed 1, its report and chart (as report and plot write them), and the stored
    batches of the run with seed 2 about to be committed."""
    import shutil

    from workforce_sim.runs.files import atomic_write
    from workforce_sim.runs.folder import commit_files, derived_folder
    if out.exists():
        shutil.rmtree(out)
    commit_files(out, _writers(1, with_compare=False))
    atomic_write(out / "report.html", lambda fh: fh.write("report.html of the run with seed 1\n"))
    (derived_folder(out, "plots") / "chart.png").write_text("chart of the run with seed 1\n")
    (out / ".partial").mkdir()
    (out / ".partial" / "run.json").write_text("{}")


def _commit_killed_at(out: Path, step: int) -> bool:
    """Commit the run with seed 2 into ``out`` in a forked process holding the folder's lock, as a run does, killed
    (SIGKILL) just before its ``step``-th rename or removal. Whether it was killed (False: it finished first)."""
    import shutil
    import signal

    from workforce_sim.runs.files import FolderLock
    from workforce_sim.runs.folder import commit_files
    pid = os.fork()
    if pid == 0:  # the writer: never returns into pytest
        try:
            count = [0]

            def counted(fn):
                def step_then(*args, **kwargs):
                    count[0] += 1
                    if count[0] == step:
                        os.kill(os.getpid(), signal.SIGKILL)
                    return fn(*args, **kwargs)
                return step_then
            os.replace, os.rename, os.unlink = counted(os.replace), counted(os.rename), counted(os.unlink)
            shutil.rmtree = counted(shutil.rmtree)
            with FolderLock(out):
                commit_files(out, _writers(2, with_compare=True), retire=out / ".partial")
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    return os.WIFSIGNALED(status)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="kills a forked writer")
def test_sigkill_at_every_rename_of_a_commit_never_shows_a_mix_and_recovery_leaves_nothing_behind(tmp_path):
    """Issue 26, item 7, Must show: a commit killed before each of its renames and removals in turn. Each time a
    reader, recovering nothing, sees every file of one run (the old with its report and chart, or the new with its
    compare.csv), never some of each; the next command's recovery changes nothing a reader sees and leaves no
    generation, temporary link, lock or stored batches behind (the old run's batches are kept for --resume)."""
    from workforce_sim.runs.folder import recover_run_folder
    out = tmp_path / "o"
    outcomes = []
    for step in range(1, 200):
        _old_run(out)
        killed = _commit_killed_at(out, step)
        seed, files = _seen(out)
        assert _one_run(seed, files), (step, seed, files)
        recover_run_folder(out)  # as the next command does first
        assert _seen(out) == (seed, files), step  # recovery changes nothing a reader sees
        shown = os.readlink(out / ".current") if (out / ".current").is_symlink() else None
        leftovers = {p.name for p in out.iterdir() if p.name.startswith(".")} - {".current", shown}
        assert leftovers == ({".partial"} if seed == 1 else set()), (step, leftovers)
        assert all(p.exists() for p in out.iterdir()), step  # no link to nothing
        outcomes.append(seed)
        if not killed:
            break
    assert not killed, "the commit never finished"
    assert set(outcomes) == {1, 2} and outcomes[-1] == 2, outcomes
    assert outcomes == sorted(outcomes), outcomes  # the old run until one step, the new from it on


def test_where_links_cannot_be_made_a_commit_still_replaces_the_run(tmp_path, monkeypatch):
    """The fallback (Windows without developer mode): the journal's moves, with the stated limitation."""
    from workforce_sim.runs.folder import commit_files, recover_run_folder

    def no_links(*args, **kwargs):
        raise OSError("symbolic links are not allowed here")

    monkeypatch.setattr(os, "symlink", no_links)
    out = tmp_path / "o"
    commit_files(out, _writers(1, with_compare=False))
    (out / "report.html").write_text("report.html of the run with seed 1\n")
    commit_files(out, _writers(2, with_compare=True))
    recover_run_folder(out)
    seed, files = _seen(out)
    assert seed == 2 and _one_run(seed, files) and not any(p.is_symlink() for p in out.iterdir())
    assert sorted(p.name for p in out.iterdir()) == sorted([*RUN_NAMES, "compare.csv"])
