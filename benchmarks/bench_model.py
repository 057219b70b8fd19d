"""The full model against a bare SimPy reference, the 100-replication target, and a national-scale year.

    python benchmarks/bench_model.py                # model vs bare SimPy, then 100 x 5 years on 2 cores
    python benchmarks/bench_model.py --quick        # model vs bare SimPy and loading times only
    python benchmarks/bench_model.py --national     # also one year of England-sized demand and staff

(a) A bare SimPy reference runs the same number of timeout events as the model, one process
per entity (as many entities as the model has cases), doing nothing else; its event rate
counts every event SimPy processes for it (the timeouts and each process's start and end). (b) The full
baseline model runs 5 years. Both are timed in this process, best of three, side by side.
Printed: events simulated, events per second for each, their ratio, events per referral,
microseconds per referral and seconds per replication-year. Then 100 replications of 5 years
run for real on 2 worker processes, as `workforce-sim run baseline --reps 100 --jobs 2` would.
With --national, the baseline is scaled to England (about 650,000 referrals and 30,000 FTE a
year) and run for one year in a separate process, printing wall time and peak memory.
"""

from __future__ import annotations

import argparse
import copy
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import simpy

from workforce_sim import load_scenario
from workforce_sim.model import simulate
from workforce_sim.model.council import collector_paused
from workforce_sim.scenario.calendar import weeks_for_years

NATIONAL_FACTOR = 333  # England's ~12 million children / the baseline's 36,000


class CountingEnvironment(simpy.Environment):
    """Plain SimPy (its own step), counting the events it has processed as the model's clock does."""

    @property
    def processed(self) -> int:
        return next(copy.copy(self._eid)) - len(self._queue)


def bare_simpy(n_timeouts: int, n_entities: int, seed: int = 1) -> tuple[float, int]:
    """SimPy alone: ``n_timeouts`` timeouts spread over ``n_entities`` processes, doing nothing else.

    Returns the seconds taken (starting the processes included, as the model's time includes
    building it) and the events SimPy processed: the timeouts, plus each process's start and end.
    """
    per, extra = divmod(n_timeouts, n_entities)
    rng = np.random.default_rng(seed)
    delays = [rng.exponential(5.0, per + (i < extra)).tolist() for i in range(n_entities)]
    env = CountingEnvironment()

    def entity(ds):
        for d in ds:
            yield env.timeout(d)

    t = time.perf_counter()
    with collector_paused():  # as the model runs, so both are timed alike
        for ds in delays:
            env.process(entity(ds))
        env.run()
    return time.perf_counter() - t, env.processed


def national_scenario():
    base = load_scenario("baseline")
    d = base.model_dump(mode="python")
    f = NATIONAL_FACTOR
    for src in d["demand"]["sources"].values():
        src["contacts_per_year"] *= f
    for team in d["teams"].values():
        team["posts"] = {g: n * f for g, n in team["posts"].items()}
    for g in d["staff"]:
        g["count"] *= f
    for g in d["open_cases"]:
        g["count"] *= f
    d["re_referral"]["closed_before_start_per_year"] *= f
    d["workforce"]["recruitment"]["nqsw_cohort_size"] *= f
    d["name"] = "england-scale"
    return load_scenario(d)


def run_national() -> None:
    scn = national_scenario()
    t = time.perf_counter()
    out = simulate(scn, 1, 0, weeks_for_years(1))
    secs = time.perf_counter() - t
    refs = out["referrals"].sum()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  national year: {refs:,.0f} referrals, {out['staff_fte'].mean():,.0f} FTE, "
          f"{out['_events'][0]:,.0f} events, {secs:.1f} s simulating, peak memory {peak:,.0f} MB", flush=True)


def load_times() -> None:
    """Loading a scenario of 1,000 and of 8,000 demand sources, best of two each, alternated (tests check only that
    the work grows in proportion: tests/test_input_hardening.py)."""
    secs: dict[int, list[float]] = {1000: [], 8000: []}
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(2):
            for n in secs:  # a new file each time: the parsed-file cache must not answer
                lines = ['extends = "baseline"', f'name = "many{k}"', "[demand.sources]"]
                lines += [f"s{i} = {{ contacts_per_year = 1.5, referral_share = 0.2, early_help_share = 0.1 }}"
                          for i in range(n)]
                path = Path(tmp) / f"many{n}-{k}.toml"
                path.write_text("\n".join(lines) + "\n", encoding="utf-8")
                t = time.perf_counter()
                load_scenario(path)
                secs[n].append(time.perf_counter() - t)
    print(f"  loading a scenario of 1,000 demand sources: {min(secs[1000]):.2f} s; of 8,000: {min(secs[8000]):.2f} s "
          f"(best of 2; about 8 times is linear)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--years", type=float, default=5.0)
    ap.add_argument("--quick", action="store_true", help="skip the 100-replication run")
    ap.add_argument("--national", action="store_true")
    ap.add_argument("--national-only", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.national_only:
        run_national()
        return
    scn = load_scenario("baseline")
    n_weeks = weeks_for_years(a.years)
    simulate(scn, 1, 0, 10)  # warm up imports and caches
    model_secs: list[float] = []
    bare_secs: list[float] = []
    for _ in range(3):  # alternate the two, best of three each: a busy moment hits both alike
        t = time.perf_counter()
        out = simulate(scn, 42, 0, n_weeks)
        model_secs.append(time.perf_counter() - t)
        events = int(out["_events"][0])
        cases = int(out["_cases_created"][-1])
        secs, bare_events = bare_simpy(events, cases, len(bare_secs))
        bare_secs.append(secs)
    model_s, bare_s = min(model_secs), min(bare_secs)
    model_rate, bare_rate = events / model_s, bare_events / bare_s
    referrals = out["referrals"].sum()
    print(f"baseline, {a.years:g} simulated years, one replication (best of 3)")
    print(f"  events simulated (model):      {events:,}")
    print(f"  model:       {model_rate:12,.0f} events/s  ({model_s:.3f} s)")
    print(f"  bare SimPy:  {bare_rate:12,.0f} events/s  ({bare_s:.3f} s: {events:,} timeouts over {cases:,} "
          f"processes, {bare_events:,} events with their starts and ends)")
    print(f"  ratio, model / bare SimPy event rate: {model_rate / bare_rate:.0%}  (target >= 60%; "
          f"counting only the bare run's timeouts: {bare_s / model_s:.0%})")
    print(f"  events per referral:           {events / referrals:.2f}  (aim: 10 or fewer)")
    print(f"  time per referral (model):     {1e6 * model_s / referrals:.1f} us  "
          f"(bare SimPy, the same timeouts: {1e6 * bare_s / referrals:.1f} us)")
    print(f"  seconds per replication-year:  {model_s / a.years:.3f}")
    load_times()
    if not a.quick:
        from workforce_sim import run
        t = time.perf_counter()
        run(scn, years=5, reps=100, seed=42, jobs=2)
        secs = time.perf_counter() - t
        print(f"  100 replications of 5 years, 2 worker processes: {secs:.1f} s (target < 30 s)")
    if a.national:
        t = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--national-only"], check=True)
        secs = time.perf_counter() - t
        print(f"  national year: {secs:.0f} s wall with start-up (targets: under 180 s and 2,048 MB on one core)")


if __name__ == "__main__":
    main()
