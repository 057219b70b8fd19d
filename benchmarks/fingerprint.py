"""A fingerprint of the model's seeded outputs, to show that a speed change moved no result.

    python benchmarks/fingerprint.py                 # every bundled scenario, seeds 1 and 2, 3 years
    python benchmarks/fingerprint.py --save a.json   # keep the fingerprints
    python benchmarks/fingerprint.py --check a.json  # compare with kept ones; exit 1 if any differ
    python benchmarks/fingerprint.py --check benchmarks/fingerprints.json   # against the ones kept here

Each line is one scenario and seed: a SHA-256 of every weekly column the model returns that is not
all zeros (names, dtypes and exact bytes; the event counter excluded, since a change may add or remove events
without moving a result). Run it before and after a change to the engine: identical lines mean
identical results.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys

import numpy as np

from workforce_sim import bundled_names, load_scenario
from workforce_sim.model import simulate

try:
    from workforce_sim.scenario.calendar import weeks_for_years
except ImportError:  # a revision before the scenario/ folder (issue 27)
    from workforce_sim.calendar import weeks_for_years  # type: ignore[no-redef]

IGNORED = {"_events"}


def fingerprint(out: dict[str, np.ndarray]) -> str:
    """SHA-256 of every measure that is not all zeros (a flow with nothing in it and one never counted
    are the same result), by name, dtype and exact bytes."""
    h = hashlib.sha256()
    for k in sorted(out):
        if k in IGNORED or not np.any(out[k]):
            continue
        a = np.ascontiguousarray(out[k])
        h.update(k.encode())
        h.update(str(a.dtype).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--years", type=float, default=3.0)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--save")
    ap.add_argument("--check")
    a = ap.parse_args()
    n_weeks = weeks_for_years(a.years)
    got = {}
    for name in bundled_names():
        scn = load_scenario(name)
        for seed in a.seeds:
            key = f"{name} seed {seed}"
            got[key] = fingerprint(simulate(scn, seed, 0, n_weeks))
            print(f"{key:32s} {got[key][:16]}", flush=True)
    if a.save:
        with open(a.save, "w") as f:
            json.dump({"years": a.years, "made_with": made_with(), "fingerprints": got}, f, indent=1)
            f.write("\n")
    if a.check:
        with open(a.check) as f:
            kept = json.load(f)
        if kept.get("years") != a.years:
            print(f"{a.check} was made with --years {kept.get('years')}; run with the same")
            return 1
        want = kept["fingerprints"]
        bad = [k for k in want if got.get(k) != want[k]]
        print("identical" if not bad else f"DIFFERENT: {', '.join(bad)}")
        if bad and kept.get("made_with") != made_with():
            print(f"(kept with {kept.get('made_with')}, now {made_with()}: a library's random numbers "
                  "or arithmetic may differ, not only the model)")
        return 1 if bad else 0
    return 0


def made_with() -> dict[str, str]:
    import platform

    import scipy
    return {"python": platform.python_version(), "numpy": np.__version__, "scipy": scipy.__version__,
            "machine": platform.machine()}


if __name__ == "__main__":
    sys.exit(main())
