"""Time to a ranked answer: a one-at-a-time sensitivity analysis of the baseline's uncertain settings.

    python benchmarks/bench_sensitivity.py                 # 5 years, 10 futures a point, every core
    python benchmarks/bench_sensitivity.py --reps 5 10     # also how much the ranking moves with fewer futures
    python benchmarks/bench_sensitivity.py --years 2       # quicker

Measured side by side in one run:

1. the analysis (``workforce_sim.studies.sensitivity``, the tornado) at each ``--reps``: its wall time, and
   its ranking by the chance caseloads stay manageable (ties by the caseload at the end);
2. a plain ``run`` of the baseline with as many replications as the largest analysis ran, on the
   same cores: the ratio of the two says what the analysis costs beyond its replications (its
   design points are harder or easier to simulate than the baseline, and it reduces each
   replication to four numbers in the worker instead of writing weekly rows).

Prints the times and ratios; nothing is written.
"""

from __future__ import annotations

import argparse
import time

from workforce_sim import load_scenario, run
from workforce_sim.runs.backends import available_cores
from workforce_sim.studies.sensitivity import sensitivity


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--years", type=float, default=5.0)
    ap.add_argument("--reps", type=int, nargs="+", default=[10])
    ap.add_argument("--jobs", type=int, default=available_cores())
    a = ap.parse_args()
    scn = load_scenario("baseline")
    k = len(scn.uncertain)
    print(f"baseline: {k} uncertain settings, tornado of {2 * k + 1} points, {a.years:g} years, {a.jobs} processes",
          flush=True)
    rankings, times = {}, {}
    for reps in a.reps:
        t0 = time.perf_counter()
        res = sensitivity(scn, ["tornado"], years=a.years, reps=reps, seed=42, jobs=a.jobs)
        times[reps] = time.perf_counter() - t0
        rows = res.ranking("tornado", "p_sustained")
        rankings[reps] = list(rows["setting"])
        clear = [f"{r['label']} ({r['effect']:+.2f})" for _, r in rows[rows["clear"]].iterrows()]
        print(f"  --reps {reps:>3}: {times[reps]:6.1f} s for {(2 * k + 1) * reps} replications; ranked first: "
              f"{rows.iloc[0]['label']}; clear effects on the chance: {', '.join(clear) or 'none'}", flush=True)
    most = max(a.reps)
    t0 = time.perf_counter()
    run(scn, years=a.years, reps=(2 * k + 1) * most, seed=42, jobs=a.jobs)
    plain = time.perf_counter() - t0
    print(f"  plain run of {(2 * k + 1) * most} replications: {plain:6.1f} s")
    print(f"ratio, analysis / plain run of as many replications: {times[most] / plain:.2f}")
    for reps in a.reps:
        if reps != most:
            same = sum(x == y for x, y in zip(rankings[reps][:3], rankings[most][:3]))
            print(f"--reps {reps} takes {times[reps] / times[most]:.2f} of the time of --reps {most}; "
                  f"{same} of the top 3 in the same places")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
