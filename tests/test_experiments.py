"""Experiments: identical results on every backend, resumable runs, the headline answer, precision."""

import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from workforce_sim import run
from workforce_sim.analysis.breaches import BreachRule, first_breach, weeks_in_breach
from workforce_sim.analysis.statistics import wilson
from workforce_sim.analysis.summary import headline
from workforce_sim.cli import main
from workforce_sim.runs.backends import DASK_HINT
from workforce_sim.runs.store import PARTIAL

RUN = dict(years=1.0, reps=6, seed=17)


def csv_bytes(folder: Path) -> dict[str, bytes]:
    return {f: (folder / f).read_bytes() for f in ("weekly.csv", "summary.csv")}


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    out = tmp_path_factory.mktemp("serial")
    run("baseline", **RUN, jobs=1, out=out)
    return csv_bytes(out)


def test_two_processes_give_byte_identical_results(serial, tmp_path):
    run("baseline", **RUN, jobs=2, out=tmp_path)
    assert csv_bytes(tmp_path) == serial


@pytest.mark.parametrize("method", ["fork", "forkserver"])
def test_workers_forked_or_from_a_forkserver_give_byte_identical_results(serial, tmp_path, monkeypatch, method):
    import workforce_sim.runs.backends as backends
    monkeypatch.setattr(backends, "start_method", lambda: method)
    run("baseline", **RUN, jobs=2, out=tmp_path)
    assert csv_bytes(tmp_path) == serial


def test_workers_fork_only_from_a_process_running_one_thread():
    """Forking a process that runs threads can copy a lock some thread holds (the page's server runs threads)."""
    code = ("import threading, workforce_sim.runs.backends as b\n"
            "print(b.start_method())\n"
            "stop = threading.Event(); t = threading.Thread(target=stop.wait); t.start()\n"
            "print(b.start_method()); stop.set(); t.join()\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == (["fork", "forkserver"] if sys.platform == "linux" else [out[0]] * 2)


def test_dask_local_cluster_gives_byte_identical_results(serial, tmp_path):
    pytest.importorskip("distributed", reason='Dask is part of the test extras: pip install -e ".[test]"')
    res = run("baseline", **RUN, jobs=2, cluster="local", out=tmp_path)
    assert res.manifest["backend"] == "local"
    assert csv_bytes(tmp_path) == serial


def test_without_dask_the_option_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if it were not installed
    res = CliRunner().invoke(main, ["run", "baseline", "--cluster", "local", "--reps", "1", "--years", "0.1",
                                    "--out", str(tmp_path / "o"), "--no-start-check"])
    assert res.exit_code == 2 and DASK_HINT in res.output and "Traceback" not in res.output


def _cli(*args) -> list[str]:
    return [sys.executable, "-m", "workforce_sim", *args]


def _wait_for_chunks(proc, out: Path, n: int = 1) -> int:
    """Replications kept so far, once ``n`` are or the run has ended (no time limit: a run ends on its own)."""
    while proc.poll() is None:
        kept = len(list((out / PARTIAL).glob("*.npz")))
        if kept >= n:
            return kept
        time.sleep(0.02)
    return len(list((out / PARTIAL).glob("*.npz")))


def test_a_killed_run_resumes_to_the_same_outputs(tmp_path):
    """Kill a real run part-way (SIGKILL), resume it, and get what an uninterrupted run gives."""
    args = ["run", "baseline", "--years", "1", "--reps", "30", "--seed", "17", "--jobs", "1", "--no-start-check"]
    whole = tmp_path / "whole"
    assert subprocess.run(_cli(*args, "--out", str(whole)), capture_output=True).returncode == 0
    out = tmp_path / "killed"
    proc = subprocess.Popen(_cli(*args, "--out", str(out)), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    kept = _wait_for_chunks(proc, out)
    proc.kill()
    proc.wait()
    assert kept >= 1 and not (out / "weekly.csv").exists(), "the run should have been killed part-way"
    done = subprocess.run(_cli(*args, "--out", str(out), "--resume"), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert csv_bytes(out) == csv_bytes(whole)
    assert not (out / PARTIAL).exists()


def test_ctrl_c_keeps_finished_replications_and_says_how_to_resume(tmp_path):
    out = tmp_path / "int"
    args = ["run", "baseline", "--years", "1", "--reps", "40", "--jobs", "2", "--out", str(out), "--no-start-check"]
    proc = subprocess.Popen(_cli(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert _wait_for_chunks(proc, out) >= 1
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate()
    assert proc.returncode == 130
    assert "--resume" in err and "Traceback" not in err
    assert list((out / PARTIAL).glob("*.npz")) and not (out / "weekly.csv").exists()


def test_resume_refuses_a_different_run(tmp_path):
    out = tmp_path / "o"
    from workforce_sim.runs.store import ReplicationStore
    ReplicationStore(out, {"seed": 1}).open(resume=False)
    res = CliRunner().invoke(main, ["run", "baseline", "--years", "0.2", "--reps", "2", "--jobs", "1",
                                    "--out", str(out), "--resume", "--no-start-check"])
    assert res.exit_code == 2 and "unfinished run with different" in res.output


def test_several_scenarios_share_demand_replication_by_replication(new_demand):
    from workforce_sim import load_scenario
    a = load_scenario("baseline")
    b = load_scenario("baseline", ["name=more_staff", "teams.long_term.posts.social_worker=30", "staff.8.count=20"])
    w = run([a, b], years=1, reps=3, seed=3, jobs=2).weekly
    x = w[w.scenario == "baseline"].reset_index(drop=True)
    y = w[w.scenario == "more_staff"].reset_index(drop=True)
    assert new_demand(x, y)
    assert not x["caseload_mean"].equals(y["caseload_mean"])


def test_duplicate_scenario_names_are_refused():
    with pytest.raises(ValueError, match="names must differ"):
        run(["baseline", "baseline"], years=0.1, reps=1)


# -- the headline answer ----------------------------------------------------------------------
def constructed(caseloads: list[list[float]]) -> pd.DataFrame:
    rows = [{"scenario": "s", "replication": r, "week": w, "caseload_incl_unallocated": c}
            for r, series in enumerate(caseloads) for w, c in enumerate(series)]
    return pd.DataFrame(rows)


def test_first_breach_needs_a_run_of_weeks_and_never_reads_missing_as_manageable():
    rule = BreachRule(18.0, 3)
    nan = float("nan")
    df = constructed([
        [10, 19, 10, 19, 19, 10, 10, 10],      # two short spells above: noise, not a breach
        [10, 10, 18, 18, 18, 18, 18, 18],      # at the threshold is still manageable
        [10, 19, 19, 19, 10, 10, 10, 10],      # three weeks running: a breach that begins in week 1
        [10, 10, nan, nan, nan, nan, 10, 10],  # open cases and nobody to hold them: a breach
        [10, 10, 10, 10, 10, 10, 19, 19],      # a spell still going at the end, too short to count yet
    ])
    assert list(first_breach(df, rule)) == [np.inf, np.inf, 1, 2, np.inf]
    assert list(first_breach(df, BreachRule(18.0, 1))) == [1, np.inf, 1, 2, 6]
    assert weeks_in_breach(np.array([19, 19, 19, 19, 10, 19, 19, 19]), rule) == 7
    assert weeks_in_breach(np.array([19, 19, 10, 19, 19, 10, 19, 19]), rule) == 0


def test_headline_counts_never_honestly():
    weeks = 120  # two reporting years and a bit
    series = [[17] * weeks, [17] * weeks, [17] * 30 + [19] * 90, [17] * 80 + [19] * 40, [19] * weeks]
    h = headline(constructed(series), {"s": BreachRule(18.0, 4)}).set_index(["metric", "period"])
    assert h.loc[("p_sustained", "year 1"), "mean"] == pytest.approx(3 / 5)   # weeks 0-51: breaches at 0 and 30
    assert h.loc[("p_sustained", "year 2"), "mean"] == pytest.approx(2 / 5)   # by week 103: also the one at 80
    assert h.loc[("p_sustained", "whole run"), "mean"] == pytest.approx(2 / 5)
    b = h.loc[("weeks_to_first_breach", "whole run")]
    assert b.p10 == 0 and b.p50 == 80 and b.p90 == np.inf  # 2 of 5 never breach
    lo, hi = h.loc[("p_sustained", "whole run"), ["ci95_low", "ci95_high"]]
    assert (lo, hi) == pytest.approx(wilson(2, 5))


def test_wilson_interval_known_values():
    lo, hi = wilson(0, 10)
    assert lo == 0 and hi == pytest.approx(0.2775, abs=1e-4)
    lo, hi = wilson(5, 10)
    assert (lo, hi) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    # none or all: the bound is exactly 0 or 1 (rounding once left 6.9e-18, printed as "0.00000000000000000693889")
    assert wilson(0, 50)[0] == 0.0 and wilson(50, 50)[1] == 1.0 and wilson(37, 50)[0] > 0


def test_headline_is_in_summary_and_printed(tmp_path):
    res = CliRunner().invoke(main, ["run", "baseline", "--no-start-check", "--years", "1", "--reps", "4", "--jobs", "1",
                                    "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    s = pd.read_csv(tmp_path / "summary.csv")
    assert {"p_sustained", "weeks_to_first_breach"} <= set(s.metric)
    assert "simulated futures" in res.output and "First breach begins" in res.output
    assert "unallocated" in res.output  # the sentence that says what the headline counts


# -- precision --------------------------------------------------------------------------------
def test_precision_adds_replications_until_met():
    loose = run("baseline", years=0.5, reps=12, seed=1, precision=0.5, jobs=1)
    assert loose.manifest["precision"]["met"] and loose.manifest["replications"] == 12  # --reps is the first batch
    tight = run("baseline", years=0.5, reps=4, seed=1, precision=0.01, max_reps=12, jobs=2)
    p = tight.manifest["precision"]
    assert tight.manifest["replications"] == 12 and p["replications_needed"] == 12 and not p["met"]
    assert tight.weekly["replication"].nunique() == 12
    medium = run("baseline", years=0.5, reps=4, seed=1, precision=0.05, max_reps=200, jobs=2)
    m = medium.manifest["precision"]
    assert m["met"] and 4 < medium.manifest["replications"] < 200
    assert all(r["relative_half_width"] <= 0.05 for r in m["measures"])


def test_parallel_chunks_cover_every_replication_once():
    from workforce_sim import load_scenario
    from workforce_sim.runs.experiment import _chunks, chunk_size
    scn = load_scenario("baseline")
    for n_weeks, width, n, k in ((261, 2, 40, 1), (52, 2, 1000, 1), (5, 8, 3, 1), (261, 2, 20, 6)):
        chunks = list(_chunks([scn] * k, [list(range(n))] * k, n_weeks, width))
        assert sorted((s, r) for s, c in chunks for r in c) == [(s, r) for s in range(k) for r in range(n)]
        assert len(chunks) >= min(n, width)  # every worker has something to do
        sizes = [len(c) for _, c in chunks]
        assert max(sizes) <= chunk_size(scn, n_weeks, n * k, width)
        # the last tasks are the shortest: no worker waits long on another's last task
        assert sizes[-min(len(sizes), width):] == [1] * min(len(sizes), width)


# -- serial runs (--jobs 1) -------------------------------------------------------------------
def test_a_serial_run_reports_a_simulation_error_as_itself(monkeypatch, tmp_path):
    """Issue 14.1: the real error, not an AttributeError from the except line for a pool that never existed."""
    import workforce_sim.runs.experiment as experiment

    def broken(*args, **kwargs):
        raise FloatingPointError("demand became NaN in week 3")

    monkeypatch.setattr(experiment, "simulate_chunk", broken)
    with pytest.raises(FloatingPointError, match="demand became NaN"):
        run("baseline", years=0.2, reps=2, jobs=1, out=tmp_path / "o")


def test_a_serial_run_keeps_each_batch_as_it_finishes_and_reports_progress(monkeypatch, tmp_path):
    """Issue 14.2: with --jobs 1, Ctrl-C during the fourth batch keeps the first three; progress moves batch by
    batch."""
    import workforce_sim.runs.experiment as experiment

    monkeypatch.setattr(experiment, "chunk_size", lambda *a: 1)  # one replication per batch
    out = tmp_path / "o"
    real, calls, seen = experiment.simulate_chunk, [], []

    def simulate(*args):
        calls.append(args[2])
        if len(calls) == 4:
            raise KeyboardInterrupt  # Ctrl-C while the fourth batch runs
        return real(*args)

    monkeypatch.setattr(experiment, "simulate_chunk", simulate)
    with pytest.raises(KeyboardInterrupt):
        run("baseline", years=0.2, reps=5, jobs=1, out=out,
            progress=lambda done, total: seen.append((done, total, len(list((out / PARTIAL).glob("*.npz"))))))
    assert seen == [(0, 5, 0), (1, 5, 1), (2, 5, 2), (3, 5, 3)]  # each batch saved, then reported
    assert len(list((out / PARTIAL).glob("*.npz"))) == 3


# -- --cluster pointed at something that is not a Dask scheduler ------------------------------
def _silent_server():
    """A TCP server that accepts connections and never says anything."""
    import socket
    import threading
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    held = []
    threading.Thread(target=lambda: [held.append(sock.accept()) for _ in range(8)], daemon=True).start()
    return sock, sock.getsockname()[1]


def _http_server():
    import http.server
    import threading
    srv = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, srv.server_address[1]


@pytest.mark.parametrize("server", [_silent_server, _http_server])
def test_a_cluster_address_that_is_no_dask_scheduler_fails_soon_and_plainly(monkeypatch, tmp_path, server):
    """Issue 14.11: a silent port, or a web server, answered within the connection time limit with a plain message."""
    pytest.importorskip("distributed", reason='Dask is part of the test extras: pip install -e ".[test]"')
    import workforce_sim.runs.backends as backends

    assert backends.CONNECT_SECONDS <= 30
    monkeypatch.setattr(backends, "CONNECT_SECONDS", 2)
    handle, port = server()
    address = f"tcp://127.0.0.1:{port}"
    # the silent server never answers: the command can only end, with exit code 2, by the connection time limit
    # (CONNECT_SECONDS = 2) giving up; without the limit it would wait forever
    res = CliRunner().invoke(main, ["run", "baseline", "--cluster", address, "--reps", "1", "--years", "0.1",
                                    "--out", str(tmp_path / "o"), "--no-start-check"])
    assert res.exit_code == 2, res.output
    assert address in res.output and "Dask scheduler" in res.output and "Traceback" not in res.output


def test_the_plain_answer_is_firm_only_when_its_interval_allows():
    from workforce_sim.outputs.words import answer_word
    assert answer_word(1.0, 0.83, 1.0) == "Yes, very likely."
    assert answer_word(1.0, 0.61, 1.0).startswith("Probably (too few")      # 6 of 6
    assert answer_word(0.75, 0.5, 0.9) == "Probably, but not certainly."
    assert answer_word(0.5, 0.3, 0.7).startswith("Perhaps")
    assert answer_word(0.2, 0.08, 0.4) == "Probably not."
    assert answer_word(0.0, 0.0, 0.16) == "No."
    assert answer_word(0.0, 0.0, 0.39).startswith("Probably not (too few")  # 0 of 6


def test_plain_headline_says_when_the_first_breach_comes():
    """A constructed run where every future breaches in week 40: the answer is no, in about 9 months."""
    from workforce_sim import load_scenario
    from workforce_sim.outputs.words import plain_headline
    weeks = 120
    series = [[17] * 40 + [19] * (weeks - 40)] * 20
    df = constructed(series)
    scn = load_scenario("baseline")
    part = headline(df, {"s": BreachRule(18.0, 4)})
    text = plain_headline(scn, part, 20, years=weeks / (365.25 / 7))
    assert text.startswith("No. In a typical future caseloads")
    assert "first go above 18 cases per social worker in about 9 months (by January 2028)" in text
    assert "by year 1 they have in every future" in text and "0% to 16%" in text


def test_the_python_default_uses_every_core_unless_the_run_is_tiny(monkeypatch):
    """run() without jobs= behaves as the command line (every core), but a run of under about
    SMALL_RUN_SECONDS of work stays in this process; the results are the same either way."""
    import workforce_sim.runs.experiment as experiment
    from workforce_sim.runs.backends import available_cores
    tiny = run("baseline", years=0.1, reps=2, seed=4)
    assert tiny.manifest["backend"] == "serial"
    monkeypatch.setattr(experiment, "SMALL_RUN_SECONDS", 0.0)
    pooled = run("baseline", years=0.1, reps=2, seed=4)
    cores = available_cores()
    assert pooled.manifest["backend"] == ("serial" if cores == 1 else f"processes x{cores}")
    pd.testing.assert_frame_equal(tiny.weekly, pooled.weekly)
