"""An answer before the end (issue 28.3): the share of futures staying manageable so far, with its 95% interval, as
futures finish; and --precision that stops as soon as that share, and the key measures, are precise enough."""

import re

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import workforce_sim.runs.experiment as experiment
from workforce_sim import load_scenario, run
from workforce_sim.analysis.breaches import breach_rules
from workforce_sim.analysis.statistics import wilson_half_width
from workforce_sim.analysis.summary import precision_report
from workforce_sim.cli import Progress, main
from workforce_sim.outputs.console import PROGRESS_WIDTH
from workforce_sim.runs.backends import SerialExecutor
from workforce_sim.runs.experiment import MIN_PRECISE_FUTURES, RunningShare


def _headline(result, name):
    s = result.summary
    return s[(s["scenario"] == name) & (s["metric"] == "p_sustained") & (s["period"] == "whole run")].iloc[0]


def test_the_answer_so_far_ends_as_the_final_answer(monkeypatch):
    monkeypatch.setattr(experiment, "chunk_size", lambda *a: 1)  # an answer after every future
    seen = []
    result = run(["baseline", load_scenario("baseline", ["name=strict", "standards.manageable_caseload=16"])],
                 years=0.5, reps=4, seed=3, jobs=1, answer=seen.append)
    assert len(seen) == 9  # before any future, then after each of 8
    assert [sum(s.futures for s in shares) for shares in seen] == list(range(9))
    for i, name in enumerate(["baseline", "strict"]):
        last, row = seen[-1][i], _headline(result, name)
        assert last.scenario == name and last.futures == row["replications"] == 4
        assert last.share == pytest.approx(row["mean"])
        assert last.interval() == pytest.approx((row["ci95_low"], row["ci95_high"]))
    assert seen[-1][0].manageable > seen[-1][1].manageable  # a lower standard: fewer futures manageable


def test_run_prints_the_answer_so_far_and_it_ends_as_the_printed_answer(tmp_path):
    res = CliRunner().invoke(main, ["run", "baseline", "--years", "0.5", "--reps", "4", "--jobs", "1",
                                    "--set", "standards.manageable_caseload=17", "--no-start-check",
                                    "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    assert all(len(line) <= PROGRESS_WIDTH for line in res.stderr.splitlines())
    last = [ln for ln in res.stderr.splitlines() if "stay manageable" in ln][-1]
    k, n, lo, hi = re.search(r"so far (\d+) of (\d+) stay manageable: \d+% \(95% interval (\d+)% to (\d+)%\)",
                             last).groups()
    said = " ".join(res.stdout.split())  # the printed answer's sentences are broken across lines at 100 columns
    assert f"from {n} simulated futures" in said and n == "4"
    assert f"for the share of futures that stay manageable: {lo}% to {hi}%" in said
    assert f"in {k} of {n} futures" in res.stdout or f"In {k} of {n} simulated futures" in res.stdout


def test_the_progress_line_on_a_terminal_carries_the_answer_and_fits(capsys):
    shown = Progress(interactive=True)
    shown.answer([RunningShare("baseline", 7, 12)])
    shown(12, 20)
    shown.answer([RunningShare("a-scenario-with-a-long-name-" + str(i), i, 12) for i in range(4)])
    shown(13, 20)
    shown(20, 20)
    parts = capsys.readouterr().err.split("\r")
    assert "12/20 futures" in parts[1] and "so far 58% stay manageable (95% interval 32% to 81%)" in parts[1]
    assert all(len(p.rstrip("\n")) <= PROGRESS_WIDTH for p in parts)
    assert parts[-1].endswith("\n")  # a finished bar ends its line


def test_a_log_gets_whole_lines_even_as_a_precise_run_grows(capsys):
    shown = Progress(interactive=False)
    shown.answer([RunningShare("baseline", 1, 2)])
    for done in range(11):
        shown(done, 10)
    for done in range(10, 21):  # --precision asked for more: the total grows
        shown(done, 20)
    err = capsys.readouterr().err
    assert "\r" not in err
    assert "10 of 10 simulated futures done" in err and "20 of 20 simulated futures done" in err


# -- --precision ------------------------------------------------------------------------------------------
PRECISION = 0.2  # a share near one half needs about 22 futures for +-0.2; one near none or all, ten


def _precise(standard: float, jobs: int = 1, **kw):
    return run(load_scenario("baseline", [f"standards.manageable_caseload={standard}"]), years=0.5, reps=2, seed=4,
               precision=PRECISION, max_reps=60, jobs=jobs, **kw)


@pytest.fixture(scope="module")
def near_half():
    seen = []
    return _precise(17, answer=seen.append), seen


def test_precision_stops_sooner_near_none_or_all_than_near_half(near_half):
    mid, seen = near_half
    n_mid = mid.manifest["replications"]
    p = _headline(mid, "baseline")["mean"]
    assert 0.25 < p < 0.75
    assert mid.manifest["precision"]["met"]
    assert wilson_half_width(p, n_mid) <= PRECISION  # the share's interval is as narrow as asked
    for extreme in (12, 40):  # every future breaches; none does
        end = _precise(extreme)
        assert _headline(end, "baseline")["mean"] in (0.0, 1.0)
        assert end.manifest["replications"] == MIN_PRECISE_FUTURES < n_mid
    assert seen[-1][0].futures == n_mid  # the answer so far ends as the final answer
    assert seen[-1][0].share == pytest.approx(p)


def test_precision_stops_at_the_first_number_of_futures_precise_enough(near_half):
    mid, _ = near_half
    n = mid.manifest["replications"]
    rules = breach_rules(mid.scenarios)
    full = mid.weekly
    before = precision_report(full[full["replication"] < n - 1], PRECISION, rules)
    assert n - 1 < MIN_PRECISE_FUTURES or not before["met"].all()
    at = precision_report(full, PRECISION, rules)
    assert at["met"].all()
    assert list(at["measure"]) == [*experiment.PRECISION_MEASURES, "p_sustained"]


def test_where_precision_stops_does_not_depend_on_the_workers(near_half):
    mid, _ = near_half
    parallel = _precise(17, jobs=2)
    assert parallel.manifest["replications"] == mid.manifest["replications"]
    pd.testing.assert_frame_equal(parallel.weekly, mid.weekly)


def test_precision_never_stops_before_the_minimum_number_of_futures():
    loose = run("baseline", years=0.2, reps=2, seed=1, precision=0.9, jobs=1)
    assert loose.manifest["replications"] == MIN_PRECISE_FUTURES and loose.manifest["precision"]["met"]
    few = run("baseline", years=0.2, reps=2, seed=1, precision=0.9, max_reps=4, jobs=1)
    assert few.manifest["replications"] == 4  # --max-reps is the most, even below the minimum
    assert np.array_equal(few.weekly["replication"].unique(), np.arange(4))


def _futures_that_breach_from(first_breach: int):
    """A stand-in for the model: every measure the same in every future, and caseloads over the standard in every
    future from replication ``first_breach`` on (those before stay manageable)."""
    from workforce_sim.analysis.breaches import breach_rule

    def task(scn, seed, reps, n_weeks):
        columns = [*experiment.PRECISION_MEASURES, *(col for _, col, _ in breach_rule(scn).series())]
        out = {c: np.full((len(reps), n_weeks), 10.0) for c in columns}
        for i, r in enumerate(reps):
            if r >= first_breach:
                out["caseload_incl_unallocated"][i] = 100.0
        return out
    return task


@pytest.mark.parametrize("chunk", [1, 3, 25])
def test_precision_stops_as_soon_as_the_share_is_precise_enough(monkeypatch, baseline, chunk):
    """Five futures manageable, then every one breaching: the share's interval is first within 0.2 at 17 futures
    (5 of 17). Judged only at the end of each batch, it stopped at 20, the batch it predicted; and had it not
    judged the share, at 10, the least (every other measure is the same in every future)."""
    monkeypatch.setattr(experiment, "chunk_size", lambda *a: chunk)
    assert wilson_half_width(5 / 16, 16) > 0.2 >= wilson_half_width(5 / 17, 17)
    work = experiment.Replications([baseline], 1, 8, None, None, task=_futures_that_breach_from(5))
    n, report = experiment._replicate(work, SerialExecutor(), 1, 2, 0.2, 100)
    assert n == 17
    row = report.set_index("measure").loc["p_sustained"]
    assert row["met"] and row["mean"] == pytest.approx(5 / 17)


def test_a_precise_run_interrupted_and_resumed_stops_where_it_would_have(near_half, monkeypatch, tmp_path):
    mid, _ = near_half
    real, calls = experiment.simulate_chunk, []

    def interrupted(*args):
        calls.append(1)
        if len(calls) == 5:
            raise KeyboardInterrupt  # Ctrl-C in the fifth batch of three futures: the first batch of 10 is done
        return real(*args)
    monkeypatch.setattr(experiment, "chunk_size", lambda *a: 3)
    monkeypatch.setattr(experiment, "simulate_chunk", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _precise(17, out=tmp_path / "o")
    monkeypatch.setattr(experiment, "simulate_chunk", real)
    resumed = _precise(17, out=tmp_path / "o", resume=True)
    assert resumed.manifest["replications"] == mid.manifest["replications"]
    pd.testing.assert_frame_equal(resumed.weekly, mid.weekly)
