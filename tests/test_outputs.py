"""What a run writes and how it is counted: the weekly contract, summaries, files, the engine."""

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings, strategies as st

from workforce_sim import load_scenario, read_run, run
from workforce_sim.analysis.statistics import mean_ci
from workforce_sim.cli import main
from workforce_sim.model.council import ID_COLUMNS, WEEKLY_COLUMNS
from workforce_sim.model.measures import weekly_columns

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
    res = CliRunner().invoke(main, ["run", "baseline", "--years", "0.5", "--reps", "3", "--seed", "5",
                                    "--out", str(out), "--no-start-check"])
    assert res.exit_code == 0, res.output
    assert "Caseload per case-holding FTE" in res.output and "simulated futures" in res.output
    weekly, summary, manifest = read_run(out)
    teams = ["assessment", "long_term", "children_in_care"]  # the baseline's case-holding teams, in file order
    assert list(weekly.columns) == ID_COLUMNS + weekly_columns(teams) and set(CONTRACT) <= set(weekly.columns)
    assert set(weekly_columns(teams)) - set(WEEKLY_COLUMNS) == {
        f"caseload{kind}_{t}" for kind in ("", "_incl_unallocated") for t in teams}
    assert len(weekly) == 3 * 26 and weekly["date"].iloc[0] == pd.Timestamp("2027-04-01")
    assert list(summary.columns) == ["scenario", "metric", "period", "statistic", "unit", "mean", "ci95_low",
                                     "ci95_high", "p10", "p50", "p90", "replications"]
    row = summary[(summary.metric == "contacts") & (summary.period == "whole run")].iloc[0]
    assert row.ci95_low <= row["mean"] <= row.ci95_high and row.replications == 3
    assert row.statistic == "total a year" and row.unit == "contacts"
    assert manifest["seed"] == 5 and manifest["replications"] == 3 and manifest["scenarios"][0]["name"] == "baseline"
    assert manifest["workforce_sim_version"] and manifest["run_seconds"] > 0
    assert not list(out.glob(".*tmp"))  # no temporary files left behind


def test_summary_per_replication_values():
    """Flows are totals (a year's; over the whole run, a year's on average), stocks averages and end values."""
    res = run("baseline", years=1.5, reps=4, seed=2)
    s, w = res.summary, res.weekly
    year1 = w[w.week < 52].groupby("replication")
    row = s[(s.metric == "referrals") & (s.period == "year 1")].iloc[0]
    assert row.statistic == "total" and row["mean"] == pytest.approx(year1["referrals"].sum().mean())
    assert row.p50 == pytest.approx(np.percentile(year1["referrals"].sum(), 50))
    whole = s[(s.metric == "referrals") & (s.period == "whole run")].iloc[0]
    per_year = w.groupby("replication")["referrals"].sum() / (w.week.nunique() / (365.25 / 7))
    assert whole["mean"] == pytest.approx(per_year.mean())
    rows = s[(s.metric == "unallocated_cases") & (s.period == "year 1")].set_index("statistic")
    assert rows.loc["average", "mean"] == pytest.approx(year1["unallocated_cases"].mean().mean())
    assert rows.loc["end of period", "mean"] == pytest.approx(w[w.week == 51]["unallocated_cases"].mean())
    assert set(s[s.metric == "caseload_mean"].statistic) == {"average", "end of period", "last 13 weeks"}
    assert set(s[s.statistic == "last 13 weeks"].period) == {"whole run"}  # the run's end: its last quarter
    last = s[(s.metric == "caseload_mean") & (s.statistic == "last 13 weeks")].iloc[0]
    n = w.week.nunique()
    assert last["mean"] == pytest.approx(w[w.week >= n - 13].groupby("replication")["caseload_mean"].mean().mean())


def test_intervals_stay_within_what_a_measure_can_be():
    """Small skewed counts and shares near the edge: the Student-t interval leaves the range, the summary's does not."""
    from workforce_sim.analysis.statistics import bootstrap_interval
    counts = np.array([0, 0, 0, 0, 0, 0, 0, 12.0])  # a backlog that built up in one future of eight
    assert mean_ci(counts)[1] < 0
    m, lo, hi = bootstrap_interval(counts)
    assert m[0] == pytest.approx(1.5) and 0 <= lo[0] < m[0] < hi[0] <= 12
    shares = np.array([100, 100, 100, 100, 100, 100, 100, 40.0])
    assert mean_ci(shares)[2] > 100
    m, lo, hi = bootstrap_interval(shares)
    assert 40 <= lo[0] < m[0] < hi[0] <= 100
    same = bootstrap_interval(np.full(5, 7.0))
    assert same[1][0] == same[2][0] == 7.0  # every future the same: nothing to be uncertain about
    with_gaps = bootstrap_interval(np.array([[1.0, np.nan], [2.0, 3.0], [3.0, 5.0], [4.0, np.nan]]))
    assert with_gaps[0][1] == pytest.approx(4.0) and with_gaps[1][1] >= 3.0  # NaN (nothing measured) left out


def test_bootstrap_interval_agrees_with_scipy_and_covers_the_mean():
    """The matrix-product BCa interval against scipy.stats.bootstrap's (BCa, same data); the expanded one
    (the summaries') is wider and covers close to 95% even with 6 replications."""
    from scipy import stats

    from workforce_sim.analysis.statistics import bootstrap_interval
    rng = np.random.default_rng(7)
    x = rng.gamma(0.8, 10.0, size=(20, 6))  # skewed, like backlogs
    ref = stats.bootstrap((x,), np.mean, axis=0, vectorized=True, n_resamples=20000, method="BCa",
                          random_state=np.random.default_rng(1)).confidence_interval
    _, lo, hi = bootstrap_interval(x, resamples=20000, expand=False)  # plain BCa, as scipy's
    width = hi - lo
    assert np.all(np.abs(lo - ref.low) < 0.05 * width) and np.all(np.abs(hi - ref.high) < 0.05 * width)
    _, wlo, whi = bootstrap_interval(x, resamples=20000)
    assert np.all(wlo < lo) and np.all(whi > hi)  # expanded for 20 replications: wider
    for n, band in ((6, (0.86, 0.95)), (20, (0.915, 0.97))):  # gamma(2, 1) samples: true mean 2
        hits = 0
        for i in range(500):
            _, lo, hi = bootstrap_interval(rng.gamma(2.0, 1.0, size=(n, 1)), resamples=1000, seed=i)
            hits += lo[0] <= 2.0 <= hi[0]
        assert band[0] < hits / 500 < band[1], (n, hits / 500)  # plain BCa: about 0.85 at 6


def test_several_scenarios_in_one_run_share_demand(new_demand):
    a = load_scenario("baseline")
    b = load_scenario("baseline", ["name=more_posts", "teams.long_term.posts.social_worker=45"])
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
    from workforce_sim.runs.files import atomic_write
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


@settings(max_examples=300, deadline=None)
@given(steps=st.lists(st.tuples(st.sampled_from([0.0, 0.3, 1.0, 5.0, 9.0, 30.0, -4.0, -40.0]), st.booleans()),
                      min_size=1, max_size=60), start=st.sampled_from([-3.0, 0.0, 2.5, 5.0, 61.0]))
def test_counting_one_at_a_time_finds_each_week_as_counting_many(steps, start):
    """Counted one at a time, mostly moving on with the clock (a week or a few ahead, on a boundary), sometimes back
    or past the end, every amount lands in the week counting them all at once finds (a boundary in the later week)."""
    from workforce_sim.model.monitoring import Monitor
    bounds = np.array([0.0, 5.0, 9.0, 14.0, 19.0, 24.0, 29.0, 33.0, 38.0, 43.0, 48.0, 52.0, 57.0])
    t, times = start, []
    for step, on_bound in steps:
        t += step
        times.append(float(bounds[np.argmin(np.abs(bounds - t))]) if on_bound else t)
    one, many = Monitor(bounds, {"x"}), Monitor(bounds, {"x"})
    weights = np.arange(1.0, len(times) + 1.0)
    for when, w in zip(times, weights):
        one.count("x", when, w)
    many.count_many("x", np.array(times), weights)
    np.testing.assert_array_equal(one.results(["x"])["x"], many.results(["x"])["x"])


def test_end_of_period_values_are_the_last_week_of_each_period():
    res = run("baseline", years=2, reps=5, seed=3)
    s, w = res.summary, res.weekly
    for period, last in (("year 1", 51), ("year 2", 103), ("whole run", w.week.max())):
        row = s[(s.metric == "caseload_mean") & (s.period == period) & (s.statistic == "end of period")].iloc[0]
        assert row["mean"] == pytest.approx(w[w.week == last]["caseload_mean"].mean())
    assert set(s.period) == {"year 1", "year 2", "whole run"}  # 2 years are 104 weeks: no part year as a year


def test_a_part_year_is_not_reported_as_a_year():
    res = run("baseline", years=2.5, reps=2, seed=3)
    assert [p for p in dict.fromkeys(res.summary.period)] == ["year 1", "year 2", "whole run"]
    short = run("baseline", years=0.5, reps=2, seed=3).summary
    assert set(short.period) == {"whole run"}


def test_bootstrap_leaves_out_what_was_not_measured():
    """A replication with nothing to measure (NaN) is left out of the resampling, not counted as zero."""
    from workforce_sim.analysis.statistics import bootstrap_interval
    x = np.array([1.0, 2.0, np.nan, 4.0, 5.0, 6.0, np.nan, 3.0])
    m, lo, hi = bootstrap_interval(x)
    m2, lo2, hi2 = bootstrap_interval(x[np.isfinite(x)])
    assert m[0] == pytest.approx(3.5) and (lo[0], hi[0]) == pytest.approx((lo2[0], hi2[0]))
    assert lo[0] < 3.5 < hi[0]


def test_quantiles_of_many_columns_are_numpys_to_the_bit():
    """The bootstrap's quantiles, every column at once, are np.quantile's column by column, bit for bit: levels at
    the ends, ties and signed zeros included."""
    from workforce_sim.analysis.statistics import column_quantiles
    rng = np.random.default_rng(3)
    for n, k in [(2, 3), (7, 5), (2000, 40), (333, 9)]:
        x = rng.standard_normal((n, k)) * 1e4
        x[:, 1] = np.round(x[:, 1] / 1e4)  # ties, and -0.0 beside 0.0
        q = rng.uniform(0, 1, (2, k))
        q[:, 2 % k] = [0.0, 1.0]
        want = np.array([np.quantile(x[:, j], q[:, j]) for j in range(k)]).T
        assert np.array_equal(column_quantiles(x, q).view(np.int64), want.view(np.int64))


def _bca_column_by_column(x, level=0.95, resamples=2000, seed=20261127):
    """The expanded BCa interval as it was computed, one column at a time (the reference for the one below)."""
    from scipy import special, stats
    n, k = x.shape
    x = x[:, np.arange(k)]  # the complete columns, taken as bootstrap_interval takes them (their layout: BLAS's sums)
    mean = x.mean(axis=0)
    weights = np.random.default_rng(seed).multinomial(n, np.full(n, 1.0 / n), size=resamples) / n
    boot = weights @ x
    jack = (x.sum(axis=0) - x) / (n - 1)
    z = np.sqrt(n / (n - 1)) * stats.t.ppf([(1 - level) / 2, 1 - (1 - level) / 2], n - 1)
    low, high = np.empty(k), np.empty(k)
    for j in range(k):
        b = boot[:, j]
        if b.max() - b.min() <= 1e-12 * max(1.0, abs(mean[j])):
            low[j] = high[j] = mean[j]
            continue
        z0 = special.ndtri(min(max((b < mean[j]).mean() + 0.5 * (b == mean[j]).mean(), 0.5 / resamples),
                               1 - 0.5 / resamples))
        d = jack[:, j].mean() - jack[:, j]
        denom = 6.0 * (d @ d) ** 1.5
        a = float((d ** 3).sum() / denom) if denom > 0 else 0.0
        low[j], high[j] = np.quantile(b, special.ndtr(z0 + (z0 + z) / (1 - a * (z0 + z))))
    return low, high


def test_the_bootstrap_for_all_columns_at_once_is_the_column_by_column_one_to_the_bit():
    from workforce_sim.analysis.statistics import bootstrap_interval
    rng = np.random.default_rng(5)
    for n in (5, 8, 20, 129):
        x = rng.gamma(0.7, 100.0, (n, 30))
        x[:, 3] = 2.0  # every replication the same
        x[:, 4] = np.round(x[:, 4] / 100)  # ties
        _, low, high = bootstrap_interval(x)
        want_low, want_high = _bca_column_by_column(x)
        assert np.array_equal(low.view(np.int64), want_low.view(np.int64))
        assert np.array_equal(high.view(np.int64), want_high.view(np.int64))


def test_percentiles_of_a_summary_are_nanpercentiles_to_the_bit():
    from workforce_sim.analysis.summary import _percentiles
    rng = np.random.default_rng(4)
    x = rng.standard_normal((30, 12))
    x[rng.random(x.shape) < 0.1] = np.nan
    x[:, 3] = np.nan
    x[0, 5] = np.inf
    with np.errstate(invalid="ignore"), pytest.warns(RuntimeWarning):
        want = np.nanpercentile(x, [10, 50, 90], axis=0)
    assert np.array_equal(_percentiles(x).view(np.int64), want.view(np.int64))
    assert _percentiles(np.empty((0, 2))).shape == (3, 2)


def test_with_few_replications_the_interval_is_students_cut_at_the_range():
    """Below 5 replications a bootstrap cannot reach beyond the data: the t interval is used, cut at 0 and 100."""
    from workforce_sim.analysis.statistics import FEW_FOR_BOOTSTRAP, bounded_interval
    x = np.array([[0.0, 100.0], [0.0, 100.0], [9.0, 60.0]])
    assert len(x) < FEW_FOR_BOOTSTRAP
    m, lo, hi = bounded_interval(x, [(0.0, np.inf), (0.0, 100.0)])
    t = [mean_ci(x[:, j]) for j in range(2)]
    assert t[0][1] < 0 and t[1][2] > 100  # what the t interval alone would say
    assert lo[0] == 0 and hi[0] == pytest.approx(t[0][2]) and lo[1] == pytest.approx(t[1][1]) and hi[1] == 100
    assert m == pytest.approx([3.0, 260 / 3])


def test_money_reads_the_same_wherever_it_is_shown():
    """One formatter for money: whole pounds, thousands, millions and, in words, whichever reads best."""
    from functools import partial

    from workforce_sim.analysis.formats import money, money_difference
    from workforce_sim.analysis.measures import MEASURE
    assert money(168_432.4, "£") == "£168,432" and money(5_904_321, "k") == "£5,904k"
    assert money(5_838_000, "m") == "£5.84m" and money(40_000, "m") == "£0.04m"
    # in words: millions from a million, thousands from £10,000 (a simulation's pounds are not exact)
    assert money(1_000_000) == "£1.00m" and money(999_400) == "£999,000"
    assert money(12_499) == "£12,000" and money(10_000) == "£10,000" and money(9_999.4) == "£9,999"
    # never a negative amount (a difference says which way in words), never a zero with a sign
    assert money(-4_000, "m") == "£0.00m" and money(-12_000, "k") == "£12k" and money(-250_000) == "£250,000"
    assert money_difference(-4_000, partial(money, unit="m"), 0.01e6) == "saves less than £0.01m"
    assert money_difference(170_000, partial(money, unit="m"), 0.01e6) == "£0.17m more"
    assert money(float("nan")) == "-" and money(float("inf"), "k") == "-" and money(-np.inf, "£") == "-"
    cost = MEASURE["cost_per_year"]
    assert cost.show(6_090_000) == "£6.09m" and cost.show(np.nan) == "-"
    assert cost.change(-210_000) == "-£0.21m" and cost.change(31_000) == "+£31k" and cost.change(400) == "+<£1k"
    with pytest.raises(ValueError):
        money(1.0, "bn")  # type: ignore[arg-type]


def _options(rows):
    """compare.csv rows for the recommendation: (name, cost a year, futures manageable of n)."""
    from workforce_sim.analysis.statistics import wilson
    out = []
    for name, cost, k, n in rows:
        lo, hi = wilson(k, n)
        out.append({"scenario": name, "label": name, "replications": n, "cost_per_year": cost,
                    "p_sustained": k / n, "p_sustained_ci95_low": lo, "p_sustained_ci95_high": hi})
    return pd.DataFrame(out)


def test_a_recommendation_is_only_as_firm_as_its_interval():
    """18 of 20 futures (70% to 97%) do not show 90%: the option is named with what would settle it; 200 of 200
    do; the cheapest that surely reaches it is named, a cheaper one that may is named as possibly chance."""
    from workforce_sim.outputs.words import futures_to_settle, recommendation
    labels = {}
    maybe = recommendation(_options([("do-nothing", 6e6, 10, 20), ("early-help", 6.2e6, 18, 20)]), labels)
    assert maybe.startswith("early-help (£6.20m a year) stays manageable in 18 of 20 futures (90%; 95% interval")
    assert "could be chance" in maybe and "no option surely" in maybe and "--precision 0.05" in maybe
    sure = recommendation(_options([("a", 6e6, 150, 200), ("b", 7e6, 200, 200), ("c", 8e6, 200, 200)]), labels)
    assert sure.startswith("The cheapest option that keeps caseloads manageable in at least 90% of futures is b")
    both = recommendation(_options([("a", 6e6, 183, 200), ("b", 7e6, 200, 200)]), labels)
    assert "is b" in both and "a costs less and stays manageable in 183 of 200" in both
    could = recommendation(_options([("a", 6e6, 17, 20)]), labels)
    assert could.startswith("No option keeps caseloads manageable") and "could still reach 90%" in could
    none = recommendation(_options([("a", 6e6, 1, 200)]), labels)
    assert none.startswith("No option compared keeps caseloads manageable") and "1 of 200" in none
    from workforce_sim.analysis.statistics import wilson
    m = futures_to_settle(0.95, 0.9)
    assert wilson(round(0.95 * m), m)[0] >= 0.9 > wilson(round(0.95 * (m - 1)), m - 1)[0]
    assert futures_to_settle(0.9, 0.9) is None


def test_printed_lines_fit_and_keep_their_words():
    from workforce_sim.outputs.console import fit_lines
    text = "word " * 60 + "/a/very/long/folder/" + "x" * 120
    lines = fit_lines(["  " + text.strip(), "short"], 100)
    assert all(len(line) <= 100 for line in lines if "/a/very" not in line)
    assert " ".join(" ".join(lines).split()) == " ".join((text + " short").split())  # nothing lost or added
    assert all(line.startswith("  ") for line in lines[:-1])  # the indent kept


def test_the_printed_year_table_fits_100_columns_whatever_the_years():
    """A year's mean with its interval while the years fit (one year), the means alone for more (the title says
    where the intervals are), in blocks of years when even those do not fit: never a line over 100 characters."""
    from workforce_sim.outputs.console import summary_lines
    one = summary_lines(run("baseline", years=1, reps=2, seed=3, jobs=1))
    assert "(95% confidence interval)" in " ".join(one) and any(" to " in line for line in one if "Contacts" in line)
    for years in (3, 12):
        lines = summary_lines(run("baseline", years=years, reps=2, seed=3, jobs=1))
        assert max(map(len, lines)) <= 100
        assert "intervals are in summary.csv" in " ".join(lines)
        # every year's contacts on the rows that start with the label (a row broken by wrapping would lose some)
        rows = [line[len("Contacts (in the year)"):].split() for line in lines
                if line.startswith("Contacts (in the year)")]
        assert sum(len(r) for r in rows) == years and len(rows) == (1 if years <= 5 else 3)


def test_a_summary_row_is_the_first_of_its_measure_and_period_unless_a_statistic_is_named():
    from workforce_sim.analysis.summary import value
    table = pd.DataFrame({"metric": ["a", "b", "b", "b"], "period": ["whole run", "year 1", "whole run", "whole run"],
                          "statistic": ["average", "total", "total", "average"], "mean": [1.0, 2.0, 3.0, 4.0]})
    assert value(table, "b")["mean"] == 3.0 and value(table, "b").name == 2
    assert value(table, "b", statistic="average")["mean"] == 4.0
    assert value(table, "b", "year 1")["mean"] == 2.0
    with pytest.raises(KeyError, match="no summary row for b, year 1, average"):
        value(table, "b", "year 1", "average")
