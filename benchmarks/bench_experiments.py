"""Parallel speed-up and Dask overhead on the baseline, measured side by side in one run.

    python benchmarks/bench_experiments.py                 # 40 replications of 5 years
    python benchmarks/bench_experiments.py --reps 80
    python benchmarks/bench_experiments.py --memory-reps 1000   # also: peak memory of a 1,000-replication run

Prints seconds for --jobs 1, --jobs 2 and a 2-worker Dask LocalCluster on the same
replications, the speed-up of 2 processes over 1 (target: at least 1.8 on 2 cores for
40 or more replications), the Dask path's overhead over local processes, and checks
that all three give identical results. Start-up of worker processes and of the Dask
cluster is included: it is part of what a user waits for.

Shared virtual machines are noisy, so the backends are run in turn for --rounds rounds
and the best time of each is compared (as timeit does); every time is printed.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from typing import Any

import pandas as pd

from workforce_sim import run


def timed(**kw) -> tuple[float, pd.DataFrame]:
    t = time.perf_counter()
    res = run("baseline", **kw)
    return time.perf_counter() - t, res.weekly


def peak_memory_mb(reps: int, years: float, jobs: int) -> tuple[float, float]:
    """Peak resident memory of a separate process running the whole experiment (results held in memory)."""
    code = (f"from workforce_sim import run; import tempfile; "
            f"run('baseline', years={years}, reps={reps}, seed=1, jobs={jobs}, out=tempfile.mkdtemp())")
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    seconds = time.perf_counter() - t
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=40)
    ap.add_argument("--years", type=float, default=5.0)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--memory-reps", type=int, default=0, help="also measure peak memory of a run this large")
    a = ap.parse_args()
    kw: dict[str, Any] = dict(years=a.years, reps=a.reps, seed=2026)
    backends: dict[str, dict[str, Any]] = {"--jobs 1": dict(jobs=1), "--jobs 2": dict(jobs=2),
                                           "--cluster local (2)": dict(jobs=2, cluster="local")}
    times: dict[str, list[float]] = {k: [] for k in backends}
    results: dict[str, pd.DataFrame] = {}
    print(f"baseline, {a.reps} replications of {a.years:g} years, {a.rounds} rounds")
    for _ in range(a.rounds):
        for name, opts in list(backends.items()):
            try:
                t, w = timed(**kw, **opts)
            except RuntimeError as exc:
                print(f"  {name:22} skipped: {exc}")
                del backends[name], times[name]
                continue
            times[name].append(t)
            results[name] = w
    for name, ts in times.items():
        print(f"  {name:22} best {min(ts):6.1f} s   (all: {', '.join(f'{t:.1f}' for t in ts)})")
    best = {k: min(v) for k, v in times.items()}
    print(f"seconds per replication, one process: {best['--jobs 1'] / a.reps:.2f}")
    print(f"speed-up, 2 processes over 1:         {best['--jobs 1'] / best['--jobs 2']:.2f}x  (target >= 1.8x)")
    if "--cluster local (2)" in best:
        r = best["--cluster local (2)"] / best["--jobs 2"]
        print(f"Dask LocalCluster over 2 processes:   {r:.2f}x the time ({100 * (r - 1):+.0f}% overhead)")
    first = next(iter(results.values()))
    same = all(first.equals(w) for w in results.values())
    print(f"identical results on every backend:   {same}")
    if a.memory_reps:
        mb, secs = peak_memory_mb(a.memory_reps, a.years, 2)
        print(f"peak memory, {a.memory_reps} replications, --jobs 2: {mb:.0f} MB in {secs:.0f} s (target < 1024 MB)")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
