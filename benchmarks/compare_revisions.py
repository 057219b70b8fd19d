"""This tree against an earlier commit: replication time side by side, and whether results moved.

    python benchmarks/compare_revisions.py 98203bd            # baseline, 5 years, 3 rounds
    python benchmarks/compare_revisions.py HEAD~3 --rounds 5 --years 1
    python benchmarks/compare_revisions.py 5308294 --pure     # this tree on its Python source, not compiled

The earlier commit's src/ is unpacked into a temporary folder (git archive); each round times
one replication in a fresh process for each version in turn, so a busy moment hits both alike.
The best time of each is compared. Each process also fingerprints its outputs for seeds 1 and
2 (benchmarks/fingerprint.py), so the last line says whether the two give identical results.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

CHILD = """
import json, sys, time
from workforce_sim import load_scenario  # first, as the command line imports it (it may set up numpy)
sys.path.insert(0, {bench!r})
from fingerprint import fingerprint
try:
    from workforce_sim.scenario.calendar import weeks_for_years
except ImportError:  # a revision before the scenario/ folder (issue 27)
    from workforce_sim.calendar import weeks_for_years
from workforce_sim.model import simulate
try:
    from workforce_sim.model import CORE
except ImportError:  # a revision before the compiled core (issue 28)
    CORE = "Python source"
scn = load_scenario("baseline")
n = weeks_for_years({years})
simulate(scn, 1, 0, 10)
t = time.perf_counter()
out = simulate(scn, 42, 0, n)
secs = time.perf_counter() - t
refs = float(out["referrals"].sum())
prints = [fingerprint(simulate(scn, s, 0, weeks_for_years(1))) for s in (1, 2)] if {check} else []
print(json.dumps({{"secs": secs, "referrals": refs, "events": float(out["_events"][0]), "prints": prints,
                  "core": CORE}}))
"""


def unpack(rev: str, into: Path) -> Path:
    data = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "src"], check=True, capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(data)) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def measure(src: Path, years: float, check: bool, pure: bool = False) -> dict:
    code = CHILD.format(bench=str(HERE), years=years, check=check)
    env = {"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin"} | ({"WORKFORCE_SIM_PURE": "1"} if pure else {})
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("rev", help="the earlier commit (any git revision)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--years", type=float, default=5.0)
    ap.add_argument("--pure", action="store_true", help="run this tree on its Python source (not its compiled core)")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        old_src = unpack(a.rev, Path(tmp))
        new_src = ROOT / "src"
        times: dict[str, list[float]] = {"earlier": [], "this tree": []}
        prints, refs, events, cores = {}, {}, {}, {}
        for r in range(a.rounds):
            for name, src in (("earlier", old_src), ("this tree", new_src)):
                got = measure(src, a.years, check=(r == 0), pure=a.pure and name == "this tree")
                times[name].append(got["secs"])
                refs[name], events[name], cores[name] = got["referrals"], got["events"], got["core"]
                if r == 0:
                    prints[name] = got["prints"]
        best = {k: min(v) for k, v in times.items()}
        print(f"baseline, {a.years:g} simulated years, one replication, best of {a.rounds} (fresh process each)")
        for name, v in times.items():
            print(f"  {name:10s} ({a.rev if name == 'earlier' else 'working tree'}, {cores[name]}): {best[name]:.3f} s"
                  f"   rounds: {', '.join(f'{x:.3f}' for x in v)}")
        print(f"  speed-up: {best['earlier'] / best['this tree']:.2f}x")
        per = {k: 1e6 * best[k] / refs[k] for k in best}
        for name in per:
            print(f"  {name:10s}: {refs[name]:,.0f} referrals, {events[name]:,.0f} events "
                  f"({events[name] / refs[name]:.2f} per referral), {per[name]:.1f} us per referral")
        print(f"  time per referral, this tree / earlier: {per['this tree'] / per['earlier']:.2f}")
        same = prints["earlier"] == prints["this tree"]
        print(f"  results for seeds 1 and 2 (1 year): {'identical' if same else 'DIFFERENT'}")


if __name__ == "__main__":
    main()
