"""A run's folder is written partly beside the process (runs/beside.py): the weekly table in a forked copy of it,
where that is safe. Each check runs in a new Python process: pytest's own runs a second thread, where nothing forks.
"""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="forking a writer is done on Linux only")

WRITE = """
import os, sys, threading
from pathlib import Path
from workforce_sim.runs import folder

out = Path(sys.argv[1])
def pid_into(path):
    path.write_text(str(os.getpid()))
def full_disk(path):
    raise OSError(28, "No space left on device", str(path))
"""


def _python(code: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(WRITE) + textwrap.dedent(code), *args],
                          capture_output=True, text=True, timeout=300)


def test_the_weekly_table_is_written_by_a_forked_copy_while_the_process_writes_the_rest(tmp_path):
    done = _python("""
        folder._write_all(out, {"weekly.csv": pid_into, "summary.csv": pid_into})
        print(os.getpid(), (out / "weekly.csv").read_text(), (out / "summary.csv").read_text())
    """, str(tmp_path))
    assert done.returncode == 0, done.stderr
    me, weekly, summary = done.stdout.split()
    assert summary == me and weekly != me  # written beside, and waited for: the file is there when the call returns


def test_a_failure_beside_is_raised_in_the_process_with_its_own_words(tmp_path):
    done = _python("""
        try:
            folder._write_all(out, {"weekly.csv": full_disk, "summary.csv": pid_into})
        except OSError as exc:
            print("raised", exc.errno, exc.strerror)
    """, str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["raised", "28", "No", "space", "left", "on", "device"]


def test_a_process_running_threads_writes_everything_itself(tmp_path):
    done = _python("""
        stop = threading.Event(); t = threading.Thread(target=stop.wait); t.start()
        folder._write_all(out, {"weekly.csv": pid_into})
        stop.set(); t.join()
        print(os.getpid(), (out / "weekly.csv").read_text())
    """, str(tmp_path))
    assert done.returncode == 0, done.stderr
    me, weekly = done.stdout.split()
    assert weekly == me


def test_a_command_writes_the_same_files_with_its_writer_beside(tmp_path):
    """``run`` on two workers stops them before writing, so it writes beside; the files are those of a run written
    all in one process (the test's own, which runs threads)."""
    from workforce_sim import run
    args = ["--reps", "2", "--years", "0.5", "--no-start-check", "--jobs", "2"]
    done = _python(f"""
        from workforce_sim.runs import beside
        began = []
        original = beside.begin
        beside.begin = lambda work: began.append(original(work)) or began[-1]
        from workforce_sim.cli import main
        try:
            main(["run", "baseline", "--out", str(out), *{args!r}])
        except SystemExit as exc:
            assert not exc.code, exc.code
        print("forked:", bool(began) and all(b is not None for b in began))
    """, str(tmp_path / "beside"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-2:] == ["forked:", "True"]  # the workers were stopped before the writing: one thread
    run("baseline", reps=2, years=0.5, jobs=1, out=tmp_path / "here")
    for name in ("weekly.csv", "summary.csv", "budget.csv"):
        assert (tmp_path / "beside" / name).read_bytes() == (tmp_path / "here" / name).read_bytes(), name
    assert Path(tmp_path / "beside" / "results.xlsx").stat().st_size > 0


def test_a_writer_beside_dies_with_a_killed_run(tmp_path):
    """A run killed while its weekly table is written beside leaves no writer behind: the next command tidies the
    folder, and a writer still at work would race it."""
    done = _python("""
        import signal, time
        from workforce_sim.runs import beside
        def slow():
            time.sleep(2)
            (out / "written").write_text("late")
        run = os.fork()
        if run == 0:  # the run, to be killed while its writer works
            beside.begin(slow)
            time.sleep(30)
            os._exit(0)
        time.sleep(0.5)
        os.kill(run, signal.SIGKILL)
        os.waitpid(run, 0)
        time.sleep(3)
        print("left behind:", (out / "written").exists())
    """, str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["left", "behind:", "False"]


def test_a_failure_here_stops_the_writer_beside(tmp_path):
    """The process's own writer fails (or Ctrl-C comes) while the weekly table is written beside: the copy is
    stopped and waited for, not left to write into a folder that will be thrown away."""
    done = _python("""
        import time
        def slow(path):
            time.sleep(2)
            path.write_text("late")
        def broken(path):
            raise ValueError("the summary cannot be written")
        try:
            folder._write_all(out, {"weekly.csv": slow, "summary.csv": broken})
        except ValueError as exc:
            print("raised:", exc)
        time.sleep(3)  # longer than the copy would take to write: only its being stopped keeps the file away
        print("written beside:", (out / "weekly.csv").exists())
    """, str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["raised: the summary cannot be written", "written beside: False"]
