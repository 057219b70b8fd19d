"""Where a replication's time goes: the top functions by their own time, under cProfile.

    python benchmarks/profile_model.py                  # baseline, 5 simulated years, top 15
    python benchmarks/profile_model.py --top 25 --years 1
    python benchmarks/profile_model.py --national       # the England-sized year (several minutes)

cProfile slows Python code by about half again and numpy calls much less, so read the shares
as a ranking, not as timings; bench_model.py gives the timings.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
from pathlib import Path

from workforce_sim import load_scenario
from workforce_sim.model import simulate
from workforce_sim.scenario.calendar import weeks_for_years

sys.path.insert(0, str(Path(__file__).parent))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--years", type=float, default=5.0)
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--national", action="store_true", help="profile one England-sized year instead")
    a = ap.parse_args()
    if a.national:
        from bench_model import national_scenario
        scn, n_weeks = national_scenario(), weeks_for_years(1)
    else:
        scn, n_weeks = load_scenario("baseline"), weeks_for_years(a.years)
    simulate(scn, 1, 0, 10)  # imports and caches warm
    prof = cProfile.Profile()
    prof.enable()
    simulate(scn, 42, 0, n_weeks)
    prof.disable()
    st = pstats.Stats(prof)
    stats = st.stats  # type: ignore[attr-defined]  # (pstats' table: typeshed does not declare it)
    total = sum(v[2] for v in stats.values())
    rows = sorted(stats.items(), key=lambda kv: kv[1][2], reverse=True)[: a.top]
    print(f"{'own s':>8} {'share':>6} {'calls':>10}  function")
    for (file, line, name), (_, calls, own, _cum, _) in rows:
        where = f"{Path(file).parent.name}/{Path(file).name}:{line}" if file != "~" else "built-in"
        print(f"{own:8.3f} {own / total:6.1%} {calls:10,d}  {name} ({where})")
    print(f"{total:8.3f} total (under cProfile)")


if __name__ == "__main__":
    main()
