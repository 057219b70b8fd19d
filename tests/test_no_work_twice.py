"""No work twice (issue 28.2): the start-state check's simulation is kept in a cache and read back for the same
scenario, seed, length, number of futures and code; and a command starts its worker processes once, for the check
and the run together."""

import concurrent.futures as cf
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import workforce_sim.cli as cli_mod
from workforce_sim import load_scenario, run
from workforce_sim.cli import main
from workforce_sim.runs import cache
from workforce_sim.studies import settling
from workforce_sim.studies.settling import start_state_check

SRC = Path(__file__).resolve().parents[1] / "src" / "workforce_sim"


def _counted(monkeypatch, fake=True):
    """Count the check's simulations; with ``fake``, simulate nothing: arrays drawn from the seed, quick to make."""
    calls = []
    real = settling._simulated

    def simulated(still, seed, reps, n_weeks, *rest):
        calls.append((seed, reps, n_weeks))
        if not fake:
            return real(still, seed, reps, n_weeks, *rest)
        rng = np.random.default_rng(seed)
        return {k: 100 + rng.normal(size=(reps, n_weeks)) for k in settling.WEEKLY}
    monkeypatch.setattr(settling, "_simulated", simulated)
    return calls


def test_the_tests_never_use_the_users_cache():
    assert cache.cache_root() is None  # conftest turns the cache off for the whole session


def test_where_the_cache_lives(monkeypatch, tmp_path):
    monkeypatch.delenv("WORKFORCE_SIM_CACHE")
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache.cache_root() == tmp_path / "home" / ".cache" / "workforce_sim"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.cache_root() == tmp_path / "xdg" / "workforce_sim"
    monkeypatch.setenv("WORKFORCE_SIM_CACHE", str(tmp_path / "mine"))
    assert cache.cache_root() == tmp_path / "mine"
    for off in ("off", "OFF", "none", "0"):
        monkeypatch.setenv("WORKFORCE_SIM_CACHE", off)
        assert cache.cache_root() is None and cache.entry_path("start-state", {}) is None


def test_a_second_check_of_the_same_scenario_does_not_simulate_and_gives_the_same_verdict(cache_dir, monkeypatch):
    calls = _counted(monkeypatch, fake=False)
    scn = load_scenario("baseline", ["open_cases.0.count=3"])  # a start state far from settled: a verdict to keep
    fresh = start_state_check(scn, years=4, reps=2, seed=5, jobs=1)
    assert len(calls) == 1
    assert len(list((cache_dir / settling.CACHE_KIND).glob("*.npz"))) == 1
    again = start_state_check(scn, years=4, reps=2, seed=5, jobs=1)
    assert len(calls) == 1  # read back, not simulated
    pd.testing.assert_frame_equal(again.table, fresh.table)
    assert again.words() == fresh.words() and again.settled == fresh.settled


def test_a_change_in_anything_the_simulation_depends_on_misses_the_cache(cache_dir, monkeypatch):
    calls = _counted(monkeypatch)
    scn = load_scenario("baseline")
    start_state_check(scn, years=4, reps=2, seed=1)
    start_state_check(scn, years=4, reps=2, seed=1)
    assert len(calls) == 1
    # what the check does not simulate shares the entry: another name, its levers and its demand growth
    start_state_check(load_scenario("extra-posts", ["name=other", "demand.trend_per_year=0.3"]), years=4, reps=2,
                      seed=1)
    assert len(calls) == 1
    start_state_check(load_scenario("baseline", ["workforce.turnover.pressure_effect=0.5"]), years=4, reps=2, seed=1)
    start_state_check(scn, years=4, reps=2, seed=2)
    start_state_check(scn, years=5, reps=2, seed=1)
    start_state_check(scn, years=4, reps=3, seed=1)
    assert len(calls) == 5
    monkeypatch.setattr(cache, "code_fingerprint", lambda: "another model")
    start_state_check(scn, years=4, reps=2, seed=1)
    assert len(calls) == 6
    assert len(list((cache_dir / settling.CACHE_KIND).glob("*.npz"))) == 6


def test_a_change_to_the_models_source_changes_the_fingerprint(tmp_path):
    copy = tmp_path / "pkg"
    for folder in cache.SOURCES:
        shutil.copytree(SRC / folder, copy / folder, ignore=shutil.ignore_patterns("__pycache__"))
    before = cache.source_hash(copy)
    assert before == cache.source_hash(SRC)
    (copy / "model" / "notes.txt").write_text("not code")
    assert cache.source_hash(copy) == before
    path = copy / "model" / "council.py"
    path.write_text(path.read_text() + "\n# one more line\n")
    assert cache.source_hash(copy) != before
    path = copy / "scenario" / "schema.py"
    path.write_text(path.read_text() + "\n")
    assert len({before, cache.source_hash(copy)}) == 2


@pytest.mark.parametrize("damage", ["garbage", "cut", "empty", "another key"])
def test_a_damaged_entry_is_simulated_again_and_replaced(cache_dir, monkeypatch, damage):
    calls = _counted(monkeypatch)
    scn = load_scenario("baseline")
    first = start_state_check(scn, years=4, reps=2, seed=1)
    (entry,) = (cache_dir / settling.CACHE_KIND).glob("*.npz")
    data = entry.read_bytes()
    if damage == "garbage":
        entry.write_bytes(b"not a cache entry" * 10)
    elif damage == "cut":
        entry.write_bytes(data[: len(data) // 2])
    elif damage == "empty":
        entry.write_bytes(b"")
    else:  # a whole entry, but another's (seed 2's) under this one's name
        start_state_check(scn, years=4, reps=2, seed=2)
        other = next(p for p in (cache_dir / settling.CACHE_KIND).glob("*.npz") if p != entry)
        entry.write_bytes(other.read_bytes())
    n = len(calls)
    second = start_state_check(scn, years=4, reps=2, seed=1)
    assert len(calls) == n + 1  # simulated again, no error
    pd.testing.assert_frame_equal(second.table, first.table)
    start_state_check(scn, years=4, reps=2, seed=1)
    assert len(calls) == n + 1  # and the entry was written anew


def test_the_cache_off_or_unwritable_means_simulating_each_time(cache_dir, monkeypatch):
    calls = _counted(monkeypatch)
    scn = load_scenario("baseline")
    monkeypatch.setenv("WORKFORCE_SIM_CACHE", "off")
    start_state_check(scn, years=4, reps=2, seed=1)
    start_state_check(scn, years=4, reps=2, seed=1)
    assert len(calls) == 2 and not cache_dir.exists()
    cache_dir.write_text("a file where the cache's folder should be")
    monkeypatch.setenv("WORKFORCE_SIM_CACHE", str(cache_dir))
    start_state_check(scn, years=4, reps=2, seed=1)
    assert len(calls) == 3


def test_a_second_run_command_reads_the_check_from_the_cache(cache_dir, monkeypatch, tmp_path):
    calls = _counted(monkeypatch, fake=False)
    real = cli_mod.start_state_checks
    monkeypatch.setattr(cli_mod, "start_state_checks", lambda scns, **kw: real(scns, **{**kw, "reps": 1}))
    args = ["run", "baseline", "--years", "0.1", "--reps", "1", "--jobs", "1"]
    first = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "a")])
    second = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "b")])
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    assert len(calls) == 1
    words = [[ln for ln in r.stderr.splitlines() if ln.startswith(("Start-state", "The start state"))]
             for r in (first, second)]
    assert words[0] == words[1] and len(words[0]) == 2


# -- one set of workers a command ---------------------------------------------------------------------------
def test_a_command_starts_its_worker_processes_once_for_the_check_and_the_run(monkeypatch, tmp_path):
    real_pool, pools = cf.ProcessPoolExecutor, []

    def pool(*a, **k):
        pools.append(1)
        return real_pool(*a, **k)
    monkeypatch.setattr(cf, "ProcessPoolExecutor", pool)
    real = cli_mod.start_state_checks
    monkeypatch.setattr(cli_mod, "start_state_checks", lambda scns, **kw: real(scns, **{**kw, "reps": 2}))
    res = CliRunner().invoke(main, ["run", "baseline", "--years", "0.2", "--reps", "2", "--jobs", "2",
                                    "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    assert "Start-state check for baseline" in res.stderr
    assert len(pools) == 1
    same = run("baseline", years=0.2, reps=2, jobs=1)  # the shared workers change nothing
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "o" / "weekly.csv"),
                                  pd.read_csv(_written(same, tmp_path / "serial") / "weekly.csv"))


def _written(result, folder: Path) -> Path:
    from workforce_sim import write_run
    write_run(result, folder)
    return folder


def test_the_check_makes_no_summary_of_its_simulation(monkeypatch):
    """The check reads a few weekly columns; it used to run them through run(), which also summarised every
    measure (bootstrap intervals and all) and built a manifest, for nothing."""
    import workforce_sim.runs.experiment as experiment

    def never(*a, **k):
        raise AssertionError("the check summarised its simulation")
    monkeypatch.setattr(experiment, "summarise", never)
    monkeypatch.setattr(experiment, "_manifest", never)
    check = start_state_check("baseline", years=4, reps=1, seed=3, jobs=1)
    assert list(check.table["measure"]) == settling.CHECKED
