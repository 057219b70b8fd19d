"""Whole commands, as a user types them, timed side by side with an earlier commit.

    python benchmarks/bench_commands.py 5308294              # `run baseline` twice each, alternating
    python benchmarks/bench_commands.py 5308294 --compare    # also the README's six-option compare, 50 futures

The earlier commit's src/ is unpacked into a temporary folder (git archive) and run with that folder first on
the Python path; this tree runs as installed (with its compiled core, where one was built). Each round runs the
earlier version's command, then this tree's, so a busy moment hits both alike. `run baseline` is run twice in a
row for each version, and the second run is the one compared (this tree keeps the start-state check's
simulations in a cache, so a second run of the same scenario does not repeat them). Every output goes to a
temporary folder. Beside each time are the load average and the CPU seconds the machine spent meanwhile: compare
times only on an otherwise idle machine, and read more CPU seconds for the same command as a slower moment of a
shared machine, not a slower program.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare_revisions import unpack  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SIX = ["do-nothing", "retention", "nqsw-academy", "agency-reduction", "early-help", "combined-package"]


def busy_cpu_seconds() -> float:
    """CPU seconds this machine has spent busy since it started, all cores together (Linux's /proc/stat: user, nice,
    system, irq and softirq time); NaN where there is no /proc/stat."""
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            fields = fh.readline().split()
    except OSError:
        return math.nan
    user, nice, system, _idle, _iowait, irq, softirq = (int(x) for x in fields[1:8])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def timed(args: list[str], env: dict) -> tuple[float, float, float]:
    """Seconds a command took, the one-minute load average when it ended, and the CPU seconds the machine spent
    busy meanwhile (on an otherwise idle machine, the command's and its workers' own, however they end). The same
    work takes more CPU seconds when a shared host is slower: a time with more CPU than the other rounds' was taken
    at a slower moment of the machine, not by a slower program."""
    cpu = busy_cpu_seconds()
    t = time.perf_counter()
    subprocess.run(args, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t
    return wall, os.getloadavg()[0], busy_cpu_seconds() - cpu


def cli(src: Path | None, cache: Path, *args: str) -> tuple[list[str], dict]:
    env = dict(os.environ, XDG_CACHE_HOME=str(cache))
    if src is not None:
        env["PYTHONPATH"] = str(src)
    return [sys.executable, "-m", "workforce_sim.cli", *args], env


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("rev", help="the earlier commit (any git revision)")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--compare", action="store_true", help="also time the six-option compare with 50 futures")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        versions = {"earlier": unpack(a.rev, tmp_path / "old"), "this tree": None}
        runs: dict[str, list[tuple[float, float, float]]] = {k: [] for k in versions}
        compares: dict[str, list[tuple[float, float, float]]] = {k: [] for k in versions}
        for r in range(a.rounds):
            for name, src in versions.items():
                cache = tmp_path / f"cache-{name}-{r}"  # each round starts with an empty cache
                out = tmp_path / f"out-{name}"
                for _ in range(2):  # the second of two runs is the one compared
                    shutil.rmtree(out, ignore_errors=True)
                    secs = timed(*cli(src, cache, "run", "baseline", "--out", str(out)))
                runs[name].append(secs)
                if a.compare:
                    shutil.rmtree(out, ignore_errors=True)
                    compares[name].append(timed(*cli(src, cache, "compare", *SIX, "--reps", "50", "--out", str(out))))
        report("workforce-sim run baseline (20 futures), the second of two runs", a.rev, runs)
        if a.compare:
            report(f"workforce-sim compare {' '.join(SIX)} --reps 50", a.rev, compares)


def report(title: str, rev: str, times: dict[str, list[tuple[float, float, float]]]) -> None:
    print(title)
    for name, got in times.items():
        label = rev if name == "earlier" else "working tree"
        print(f"  {name:10s} ({label}): best {min(s for s, _, _ in got):.1f} s   rounds: "
              + ", ".join(f"{s:.1f} s (load {load:.2f}, CPU {cpu:.0f} s)" for s, load, cpu in got))
    best = {k: min(s for s, _, _ in v) for k, v in times.items()}
    print(f"  speed-up: {best['earlier'] / best['this tree']:.2f}x")


if __name__ == "__main__":
    main()
