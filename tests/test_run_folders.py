"""Run folders are one unit: stored batches are checked, writes are staged, one run at a time (issue 14)."""

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings, strategies as st

import workforce_sim.cli as command_line
import workforce_sim.runs.experiment as experiment
from workforce_sim import run
from workforce_sim.cli import main
from workforce_sim.runs.store import PARTIAL

SMALL = dict(years=0.2, reps=4, seed=5, jobs=1)
RESULT_FILES = ("weekly.csv", "summary.csv", "budget.csv")


def result_bytes(folder: Path) -> dict[str, bytes]:
    return {f: (folder / f).read_bytes() for f in RESULT_FILES}


@pytest.fixture(scope="module")
def whole(tmp_path_factory) -> dict[str, bytes]:
    """The outputs of an uninterrupted SMALL run."""
    out = tmp_path_factory.mktemp("whole")
    run("baseline", **SMALL, out=out)
    return result_bytes(out)


def interrupted(monkeypatch, out: Path, batches: int) -> list[Path]:
    """Start a SMALL run into ``out`` with one replication per batch and stop it (as Ctrl-C) after ``batches``."""
    monkeypatch.setattr(experiment, "chunk_size", lambda *a: 1)
    real, calls = experiment.simulate_chunk, []

    def simulate(*args):
        calls.append(1)
        if len(calls) > batches:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(experiment, "simulate_chunk", simulate)
    with pytest.raises(KeyboardInterrupt):
        run("baseline", **SMALL, out=out)
    monkeypatch.undo()
    return sorted((out / PARTIAL).glob("*.npz"))


# -- 14.10: damaged stored batches ------------------------------------------------------------
def test_resume_recomputes_truncated_empty_and_edited_batches_with_a_warning(monkeypatch, tmp_path, whole):
    out = tmp_path / "o"
    kept = interrupted(monkeypatch, out, 3)
    assert len(kept) == 3
    truncated, empty, edited = kept
    truncated.write_bytes(truncated.read_bytes()[:200])
    empty.write_bytes(b"")
    with np.load(edited) as z:  # a well-formed file whose values were changed
        arrays = {k: z[k] for k in z.files}
    arrays["caseload_mean"] = arrays["caseload_mean"] * 0 + 1.0
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    edited.write_bytes(buf.getvalue())
    notes = []
    run("baseline", **SMALL, out=out, resume=True, notify=notes.append)
    for f in kept:
        assert any(f.name in n and "recomput" in n for n in notes), (f.name, notes)
    assert result_bytes(out) == whole


def test_resume_with_a_damaged_run_description_says_which_file(monkeypatch, tmp_path):
    out = tmp_path / "o"
    interrupted(monkeypatch, out, 1)
    for damage in (b"", b'{"seed": 5, "yea'):
        (out / PARTIAL / "run.json").write_bytes(damage)
        res = CliRunner().invoke(main, ["run", "baseline", "--years", "0.2", "--reps", "4", "--seed", "5",
                                        "--jobs", "1", "--out", str(out), "--resume", "--no-start-check"])
        assert res.exit_code == 2, res.output
        assert str(out / PARTIAL / "run.json") in res.output and "damaged" in res.output
        assert "Traceback" not in res.output and "JSONDecodeError" not in res.output


# -- 14.7: one run at a time, written as a unit -----------------------------------------------
def cli(*args):
    return CliRunner().invoke(main, [*args])


SMALL_ARGS = ["--years", "0.2", "--reps", "2", "--jobs", "1"]


def test_a_new_run_clears_the_previous_runs_derived_and_temporary_files(tmp_path):
    out = tmp_path / "o"
    assert cli("compare", "baseline", "retention", "--no-start-check", *SMALL_ARGS, "--out", str(out)).exit_code == 0
    assert (out / "compare.csv").is_file()
    (out / "report.html").write_text("old report")
    (out / "plots").mkdir()
    (out / "plots" / "caseload.png").write_bytes(b"old chart")
    (out / ".weekly.csv.p999999999.abc123.tmp").write_text("left by a killed writer")
    res = cli("compare", "baseline", "retention", "--no-start-check", *SMALL_ARGS, "--seed", "8", "--out", str(out))
    assert res.exit_code == 0, res.output
    assert "replaces it" in res.output  # a run of the same scenarios is replaced, and says so
    assert (out / "compare.csv").is_file() and not (out / "report.html").exists() and not (out / "plots").exists()
    assert not list(out.glob(".*.tmp")) and not list(out.glob(".staging-*"))
    res = cli("run", "baseline", "--no-start-check", *SMALL_ARGS, "--out", str(out), "--replace")
    assert res.exit_code == 0, res.output
    assert not (out / "compare.csv").exists()  # compare.csv described the comparison this run replaced
    assert json.loads((out / "manifest.json").read_text())["scenarios"][0]["name"] == "baseline"


def test_a_folder_holding_a_run_of_other_scenarios_is_refused_unless_replace(tmp_path):
    out = tmp_path / "o"
    assert cli("run", "baseline", "--no-start-check", *SMALL_ARGS, "--out", str(out)).exit_code == 0
    before = (out / "weekly.csv").read_bytes()
    res = cli("run", "retention", "--no-start-check", *SMALL_ARGS, "--out", str(out))
    assert res.exit_code == 2 and str(out) in res.output and "--replace" in res.output and "baseline" in res.output
    assert (out / "weekly.csv").read_bytes() == before and not (out / PARTIAL).exists()
    res = cli("run", "retention", "--no-start-check", *SMALL_ARGS, "--out", str(out), "--replace")
    assert res.exit_code == 0, res.output
    assert json.loads((out / "manifest.json").read_text())["scenarios"][0]["name"] == "retention"


@pytest.mark.parametrize("command", [["run", "retention"], ["compare", "retention", "baseline"]])
def test_a_folder_holding_another_run_is_refused_before_the_start_state_check(tmp_path, monkeypatch, command):
    """Refused at once, not after the start-state check's 10 to 30 s, and as a plain error: the folder is not a
    mistake in how the command was typed, so there is no "Usage:" line (issue 30, item 6)."""
    out = tmp_path / "o"
    assert cli("run", "baseline", "--no-start-check", *SMALL_ARGS, "--out", str(out)).exit_code == 0
    checks: list = []
    monkeypatch.setattr(command_line, "start_state_checks", lambda *a, **k: checks.append(a) or [])
    res = cli(*command, *SMALL_ARGS, "--out", str(out))
    assert res.exit_code == 2 and f"Error: {out} holds the run of baseline" in res.output, res.output
    assert "Usage" not in res.output and checks == []
    monkeypatch.chdir(tmp_path)  # outputs/ here holds no interrupted run: --resume is refused at once too
    res = cli(*command, *SMALL_ARGS, "--resume")
    assert res.exit_code == 2 and "no interrupted run" in res.output and checks == [], res.output


def test_files_that_are_not_a_run_are_not_overwritten_without_replace(tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    (out / "weekly.csv").write_text("a planner's own spreadsheet\n")
    res = cli("run", "baseline", "--no-start-check", *SMALL_ARGS, "--out", str(out))
    assert res.exit_code == 2 and "--replace" in res.output and "weekly.csv" in res.output
    assert (out / "weekly.csv").read_text() == "a planner's own spreadsheet\n"


def test_default_folders_keep_every_run_and_point_to_the_latest(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli("compare", "baseline", "retention", "--no-start-check", *SMALL_ARGS).exit_code == 0
    res = cli("compare", "baseline", "early-help", "--no-start-check", "--set", "early-help:demand.trend_per_year=0.05",
              *SMALL_ARGS)
    assert res.exit_code == 0, res.output
    runs = sorted(p for p in Path("outputs/compare-baseline").iterdir() if p.is_dir() and not p.is_symlink())
    assert len(runs) == 2  # the first comparison is kept
    first, second = (json.loads((r / "manifest.json").read_text()) for r in runs)
    assert [s["name"] for s in first["scenarios"]] == ["baseline", "retention"]
    assert second["labels"] == ["baseline", "early-help, demand.trend_per_year=0.05"]  # --set recorded where it went
    assert second["overrides"] == ["demand.trend_per_year=0.05"]
    assert Path("outputs/compare-baseline/latest.txt").read_text().strip() == runs[1].name
    assert json.loads(Path("outputs/compare-baseline/latest/manifest.json").read_text()) == second
    assert str(runs[1]) in res.output
    # a report of the folder of runs is the report of its latest run
    assert cli("report", "outputs/compare-baseline").exit_code == 0
    assert (runs[1] / "report.html").is_file() and not (runs[0] / "report.html").exists()


def test_resume_without_out_finishes_the_newest_interrupted_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = cli("run", "baseline", "--resume", "--no-start-check", *SMALL_ARGS)
    assert res.exit_code == 2 and "no interrupted run" in res.output
    folder = Path("outputs/baseline/2026-01-01_000000")
    (folder / PARTIAL).mkdir(parents=True)  # as an interrupted run leaves it (nothing finished yet)
    res = cli("run", "baseline", "--resume", "--no-start-check", *SMALL_ARGS)
    assert res.exit_code == 0, res.output
    assert (folder / "weekly.csv").is_file() and not (folder / PARTIAL).exists()
    assert Path("outputs/baseline/latest.txt").read_text().strip() == folder.name


def test_a_folder_holding_other_settings_is_refused_without_replace(tmp_path):
    out = tmp_path / "o"
    assert cli("run", "baseline", "--no-start-check", *SMALL_ARGS, "--out", str(out)).exit_code == 0
    res = cli("run", "baseline", "--set", "demand.trend_per_year=0.05", "--no-start-check", *SMALL_ARGS,
              "--out", str(out))
    assert res.exit_code == 2 and "--replace" in res.output
    assert json.loads((out / "manifest.json").read_text())["labels"] == ["baseline"]


def test_two_runs_into_one_folder_cannot_both_proceed(tmp_path):
    from workforce_sim.runs.files import FolderLock
    out = tmp_path / "o"
    with FolderLock(out):  # a run in progress (this process holds the lock)
        res = cli("run", "baseline", "--no-start-check", *SMALL_ARGS, "--out", str(out))
        assert res.exit_code == 2 and "another run" in res.output and str(out) in res.output
        assert not (out / PARTIAL).exists()
    assert not (out / ".lock").exists()
    assert cli("run", "baseline", "--no-start-check", *SMALL_ARGS, "--out", str(out)).exit_code == 0


def test_a_lock_left_by_a_killed_run_is_taken_over_with_a_message(tmp_path):
    import socket
    import subprocess
    import sys
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    out = tmp_path / "o"
    out.mkdir()
    (out / ".lock").write_text(json.dumps({"pid": gone.pid, "host": socket.gethostname(), "since": "earlier"}))
    res = cli("run", "baseline", "--no-start-check", *SMALL_ARGS, "--out", str(out))
    assert res.exit_code == 0, res.output
    assert "Taking over" in res.output and str(gone.pid) in res.output
    assert not (out / ".lock").exists()


# -- 14.13: an unwritable --out ---------------------------------------------------------------
def test_an_unwritable_out_folder_is_a_plain_message(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    res = cli("run", "baseline", "--no-start-check", *SMALL_ARGS, "--out", str(blocker / "results"))
    assert res.exit_code == 2, res.output
    assert str(blocker / "results") in res.output and "cannot write" in res.output and "Traceback" not in res.output


# -- Must show: SIGKILL during the final writes -----------------------------------------------
def _hold_final_writes(steps: int, go: int) -> None:
    """In a process about to run: once its final writes begin, before each rename and removal it makes, write a byte
    to the pipe ``steps`` and wait for one from ``go``, so that a test can kill it before any chosen step. Only the
    process that runs the command is held (a copy forked to write beside it goes on as usual)."""
    import os

    import workforce_sim.runs.folder as results

    held = {"pid": -1}
    real_write_run = experiment.write_run

    def holding(fn):
        def step(*args, **kwargs):
            if held["pid"] == os.getpid():
                os.write(steps, b"S")
                if os.read(go, 1) != b"G":
                    os._exit(3)  # the test has gone: stop here
            return fn(*args, **kwargs)
        return step

    def write_run(*args, **kwargs):
        held["pid"] = os.getpid()
        return real_write_run(*args, **kwargs)

    experiment.write_run = write_run
    os.replace, os.unlink = holding(os.replace), holding(os.unlink)
    results.shutil.rmtree = holding(results.shutil.rmtree)


class Held:
    """A run started by a launcher below, held before each step of its final writes."""

    def __init__(self, pid: int, steps: int, go: int, wait):
        self.pid, self._steps, self._go, self.wait = pid, steps, go, wait

    def next_step(self) -> bool:
        """Wait until the run is held before its next step (True), or has finished with no step left (False)."""
        import os
        return os.read(self._steps, 1) == b"S"

    def go(self) -> None:
        import os
        os.write(self._go, b"G")

    def close(self) -> None:
        import os
        os.close(self._steps)
        os.close(self._go)


def _launch_in_subprocess(tmp_path, argv):
    import os
    import subprocess
    import sys
    steps_r, steps_w = os.pipe()
    go_r, go_w = os.pipe()
    script = tmp_path / "killable.py"
    script.write_text("import os, sys\nsys.path.insert(0, os.environ['TESTS'])\n"
                      "from test_run_folders import _hold_final_writes\n"
                      "_hold_final_writes(int(os.environ['STEPS']), int(os.environ['GO']))\n"
                      "from workforce_sim.cli import main\nmain()\n")
    proc = subprocess.Popen([sys.executable, str(script), *argv], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, pass_fds=(steps_w, go_r),
                            env={**os.environ, "STEPS": str(steps_w), "GO": str(go_r),
                                 "TESTS": str(Path(__file__).parent)})
    os.close(steps_w)
    os.close(go_r)
    return Held(proc.pid, steps_r, go_w, proc.wait)


def _launch_forked(tmp_path, argv):
    """The same run in a forked copy of this process: no start-up cost (POSIX only)."""
    import os
    steps_r, steps_w = os.pipe()
    go_r, go_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: run, and never return into pytest
        try:
            os.close(steps_r)
            os.close(go_w)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            _hold_final_writes(steps_w, go_r)
            main(argv, standalone_mode=False)
        finally:
            os._exit(0)
    os.close(steps_w)
    os.close(go_r)
    return Held(pid, steps_r, go_w, lambda: os.waitpid(pid, 0))


def kill_at_each_step(tmp_path, launch, report_each: bool) -> list[str]:
    """Kill a compare run before each step of its final writes in turn (every rename and removal it makes), and
    once it has made them all; check the folder after each. Returns what each kill left: "old" or "new".

    No clock: the run is held before each step until the test lets it go, so each kill lands exactly where it is
    aimed on a machine of any speed."""
    import os
    import signal

    args = ["compare", "baseline", "retention", "--years", "0.2", "--reps", "2", "--jobs", "1", "--no-start-check"]
    refs = {}
    for seed in (2, 1):  # what a whole run of each seed writes; the seed-1 run stays, to be replaced
        out = tmp_path / "o"
        assert cli(*args, "--seed", str(seed), "--out", str(out), "--replace").exit_code == 0
        refs[seed] = {f: (out / f).read_bytes() for f in RESULT_FILES + ("compare.csv",)}
    outcomes: list[str] = []
    finished = False
    k = 0  # the step to kill before; the first run to make every step is let finish
    while not finished:
        from workforce_sim.runs.folder import derived_folder  # where plot draws: in the run's own folder
        (derived_folder(out, "plots") / "chart.png").write_bytes(b"a chart of the run in the folder")
        current = json.loads((out / "manifest.json").read_text())["seed"]
        new = 3 - current
        run_ = launch(tmp_path, [*args, "--seed", str(new), "--out", str(out)])
        made, held = 0, run_.next_step()
        while held and made < k:
            run_.go()
            made, held = made + 1, run_.next_step()
        if held:  # held before step k: killed there
            os.kill(run_.pid, signal.SIGKILL)
        finished = not held
        run_.wait()
        run_.close()
        if report_each:
            res = cli("report", str(out))  # finishes a move that was cut short, as every command does
            assert res.exit_code == 0, res.output
        else:
            from workforce_sim.runs.folder import read_run
            read_run(out)  # what report and plot read through
        seed = json.loads((out / "manifest.json").read_text())["seed"]
        assert seed in (current, new)
        assert {f: (out / f).read_bytes() for f in refs[seed]} == refs[seed], f"kill before step {k}: two runs' files"
        # the old run keeps its charts; the new one has cleared them
        assert (out / "plots" / "chart.png").exists() == (seed == current)
        assert not list(out.glob(".staging-*")) and not (out / ".commit.json").exists()
        assert not list(out.glob(".*.tmp"))
        outcomes.append("old" if seed == current else "new")
        k += 1
    return outcomes


def assert_one_commit_point(outcomes: list[str]) -> None:
    """Kills before the commit leave the old run, kills after it the new one, and there is one step where it
    changes: the old run before it, the new after (never old again), and the finished run is the new one."""
    assert "new" in outcomes, outcomes
    first_new = outcomes.index("new")
    assert first_new > 0 and outcomes == ["old"] * first_new + ["new"] * (len(outcomes) - first_new), outcomes


def test_sigkill_during_the_final_writes_leaves_the_old_run_or_the_new(tmp_path):
    """A SIGKILL before each step of the final writes in turn: the folder always holds one whole run, the old
    one until the commit and the new one after it (checked through read_run, which report and plot read with;
    the slow variant runs report itself)."""
    import os
    if not hasattr(os, "fork"):
        pytest.skip("needs fork; the slow variant below starts the run as its own process")
    outcomes = kill_at_each_step(tmp_path, _launch_forked, report_each=False)
    assert_one_commit_point(outcomes)


@pytest.mark.slow
def test_sigkill_of_a_real_run_during_its_final_writes_then_report(tmp_path):
    """Issue 14, Must show: SIGKILL a run (its own process) during its final writes, here before each of their
    steps in turn; the folder is always the old complete run or the new one, and report works on it each time."""
    outcomes = kill_at_each_step(tmp_path, _launch_in_subprocess, report_each=True)
    assert_one_commit_point(outcomes)


def test_a_new_run_folder_is_never_one_that_exists(tmp_path):
    import datetime as dt

    from workforce_sim.runs.folder import interrupted_runs, new_run_folder
    when = dt.datetime(2026, 11, 27, 22, 10, 37)
    a, b, c = (new_run_folder(tmp_path / "baseline", when) for _ in range(3))
    assert [p.name for p in (a, b, c)] == ["2026-11-27_221037", "2026-11-27_221037-2", "2026-11-27_221037-3"]
    (a / PARTIAL).mkdir()
    (c / PARTIAL).mkdir()
    assert interrupted_runs(tmp_path / "baseline") == [a, c]  # --resume takes the last: the newest


_TEXT = st.text(alphabet=st.sampled_from(list("ab ,\"'=+-1.é\t;")), max_size=6)
_NUMBER = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0.0, -0.0, 1e-300, 1e20]))


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(st.tuples(st.one_of(_TEXT, st.none()), st.integers(-10**12, 10**12), _NUMBER,
                               st.integers(-10**15, 10**15), _NUMBER), min_size=1, max_size=12))
def test_the_quick_csv_writer_writes_what_pandas_writes(rows):
    """csv_lines gives pandas' to_csv bytes exactly: text needing quotes, missing values, every kind of float, and
    whole numbers among the floats (a weekly table's pounds)."""
    from workforce_sim.runs.folder import csv_lines
    df = pd.DataFrame(rows, columns=["scenario, name", "week", "x", "pounds", 'y "quoted"'])
    df[["x", 'y "quoted"']] = df[["x", 'y "quoted"']].astype(float)
    df["pounds"] = df["pounds"].astype("int64")
    lines = csv_lines(df, "%.6g")
    assert lines is not None
    assert "".join(lines) == df.to_csv(index=False, float_format="%.6g", lineterminator="\n")


def test_the_quick_csv_writer_leaves_other_tables_to_pandas():
    from workforce_sim.runs.folder import csv_lines
    floats_first = pd.DataFrame({"x": [1.5], "name": ["a"], "week": [1]})
    one_text_column = pd.DataFrame({"name": [""], "x": [1.0]})
    line_break = pd.DataFrame({"name": ["a\nb"], "week": [1], "x": [1.0]})
    missing_whole = pd.DataFrame({"name": ["a"], "week": [1], "x": [1.0], "n": pd.array([None], dtype="Int64")})
    assert csv_lines(floats_first, "%.6g") is None and csv_lines(one_text_column, "%.6g") is None
    assert csv_lines(line_break, "%.6g") is None and csv_lines(missing_whole, "%.6g") is None
