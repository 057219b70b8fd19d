"""What a run writes and how it is counted: the weekly contract, summaries, files, the engine."""

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from workforce_sim import load_scenario, read_run, run
from workforce_sim.cli import main
from workforce_sim.model.council import ID_COLUMNS, WEEKLY_COLUMNS
from workforce_sim.results import mean_ci


CONTRACT = ["scenario", "replication", "week", "date", "contacts", "referrals", "assessments_open",
            "assessments_overdue", "assessments_completed", "assessments_in_timescale_pct", "unallocated_cases",
            "cin_open", "cp_open", "cla_open", "early_help_open", "caseload_mean", "caseload_p90", "caseload_max",
            "workers_over_threshold_pct", "staff_fte", "staff_fte_agency", "staff_fte_asye", "vacancies_fte",
            "leavers_incl_agency", "starters", "re_referrals", "social_worker_changes"]


def test_weekly_columns_keep_the_contract():
    assert set(CONTRACT) <= set(ID_COLUMNS + WEEKLY_COLUMNS)
    assert len(set(WEEKLY_COLUMNS)) == len(WEEKLY_COLUMNS)


def test_mean_ci_covers_the_true_mean_95_percent():
    rng = np.random.default_rng(4)
    hits = sum(lo <= 3.0 <= hi for _, lo, hi in (mean_ci(rng.normal(3.0, 2.0, 8)) for _ in range(4000)))
    assert 0.935 < hits / 4000 < 0.965  # 95% within 3 binomial standard errors (0.34% each)


def test_run_command_writes_the_three_files(tmp_path):
    out = tmp_path / "run"
    res = CliRunner().invoke(main, ["run", "baseline", "--years", "0.5", "--reps", "3", "--seed", "5", "--out", str(out),
                                    "--no-start-check"])
    assert res.exit_code == 0, res.output
    assert "Caseload per case-holding FTE" in res.output and "simulated futures" in res.output
    weekly, summary, manifest = read_run(out)
    assert list(weekly.columns) == ID_COLUMNS + WEEKLY_COLUMNS and set(CONTRACT) <= set(weekly.columns)
    assert len(weekly) == 3 * 26 and weekly["date"].iloc[0] == pd.Timestamp("2019-02-01")
    assert set(summary.columns) == {"scenario", "metric", "period", "mean", "ci95_low", "ci95_high", "p10", "p50", "p90", "replications"}
    row = summary[(summary.metric == "contacts") & (summary.period == "whole run")].iloc[0]
    assert row.ci95_low <= row["mean"] <= row.ci95_high and row.replications == 3
    assert manifest["seed"] == 5 and manifest["replications"] == 3 and manifest["scenarios"][0]["name"] == "baseline"
    assert manifest["workforce_sim_version"] and manifest["run_seconds"] > 0
    assert not list(out.glob(".*tmp"))  # no temporary files left behind


def test_summary_per_replication_values(tmp_path):
    res = run("baseline", years=0.5, reps=4, seed=2)
    s = res.summary
    per_rep = res.weekly.groupby("replication")["referrals"].mean()
    row = s[(s.metric == "referrals") & (s.period == "whole run")].iloc[0]
    assert row["mean"] == pytest.approx(per_rep.mean())
    assert row.p50 == pytest.approx(np.percentile(per_rep, 50))


def test_several_scenarios_in_one_run_share_demand(new_demand):
    a = load_scenario("baseline")
    b = load_scenario("baseline", ["name=more_posts", "teams.long_term.posts.social_worker=30"])
    w = run([a, b], years=0.5, reps=2, seed=3).weekly
    x, y = w[w.scenario == "baseline"].reset_index(drop=True), w[w.scenario == "more_posts"].reset_index(drop=True)
    assert new_demand(x, y)


def test_python_m_entry_point():
    import subprocess
    import sys
    r = subprocess.run([sys.executable, "-m", "workforce_sim", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "Usage" in r.stdout and "run" in r.stdout


def test_garbage_collector_is_paused_only_while_a_replication_runs(baseline):
    import gc
    import threading
    from workforce_sim.model import simulate
    from workforce_sim.model.council import collector_paused
    seen = []
    with collector_paused():
        seen.append(gc.isenabled())
        with collector_paused():
            seen.append(gc.isenabled())
        seen.append(gc.isenabled())
    assert seen == [False, False, False] and gc.isenabled()
    gc.disable()
    try:
        simulate(baseline, 1, 0, 2)
        assert not gc.isenabled()  # a caller's choice is kept
    finally:
        gc.enable()
    outs = []
    threads = [threading.Thread(target=lambda r=r: outs.append(simulate(baseline, 1, r, 4))) for r in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(outs) == 3 and gc.isenabled()  # all three ran, and the last to finish restored the collector


def test_atomic_write_never_leaves_half_a_file(tmp_path):
    from workforce_sim.files import atomic_write
    target = tmp_path / "weekly.csv"
    target.write_text("old complete contents\n")

    def crash(fh):
        fh.write("half of the new")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, crash)
    assert target.read_text() == "old complete contents\n"
    assert [p.name for p in tmp_path.iterdir()] == ["weekly.csv"]  # no temporary file left behind
    atomic_write(target, lambda fh: fh.write("new\n"))
    assert target.read_text() == "new\n" and oct(target.stat().st_mode & 0o777) != "0o600"


def test_counting_many_events_bins_them_as_counting_one_at_a_time():
    from workforce_sim.model.monitoring import Monitor
    bounds = np.array([0.0, 5.0, 9.0, 14.0])
    times = np.array([-1.0, 0.0, 4.999, 5.0, 8.5, 9.0, 13.9, 14.0, 20.0])  # boundaries, before and after the run
    weights = np.arange(1.0, 10.0)
    one, many = Monitor(bounds, {"x"}), Monitor(bounds, {"x"})
    for t, w in zip(times, weights):
        one.count("x", t, w)
    many.count_many("x", times, weights)
    np.testing.assert_array_equal(one.results(["x"])["x"], many.results(["x"])["x"])
    np.testing.assert_array_equal(many.results(["x"])["x"], [2 + 3, 4 + 5, 6 + 7])
    outside = Monitor(bounds, {"y"})
    outside.count("y", -1.0)
    outside.count("y", 14.0)
    np.testing.assert_array_equal(outside.results(["y"])["y"], [0, 0, 0])  # counted only outside the run
