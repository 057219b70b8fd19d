"""Seeded outputs of every bundled scenario are exactly those kept in benchmarks/fingerprints.json.

This is a tripwire, not evidence that the model is right (the other tests are): any change that
moves a result, however slightly, fails it. A change that moves results by design regenerates the
fingerprints in the same commit (``python benchmarks/fingerprint.py --save benchmarks/fingerprints.json``)
and says why. Fingerprints depend on numpy's and scipy's random numbers and arithmetic, so the check
is skipped, with the reason, on versions other than the ones that made them.
"""

import importlib.util
import json
from pathlib import Path

import pytest

from workforce_sim import bundled_names, load_scenario
from workforce_sim.model import simulate
from workforce_sim.scenario.calendar import weeks_for_years

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def _fingerprint_module():
    spec = importlib.util.spec_from_file_location("fingerprint", BENCH / "fingerprint.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_bundled_scenarios_give_their_kept_fingerprints():
    fp = _fingerprint_module()
    kept = json.loads((BENCH / "fingerprints.json").read_text(encoding="utf-8"))
    made, now = kept["made_with"], fp.made_with()
    differ = {k: (made.get(k), now[k]) for k in ("numpy", "scipy") if made.get(k) != now[k]}
    if differ:
        pytest.skip(f"fingerprints were kept with other library versions {differ}; regenerate them to compare")
    assert sorted(k.rsplit(" seed ", 1)[0] for k in kept["fingerprints"]) == sorted(
        n for n in bundled_names() for _ in (1, 2)), "every bundled scenario, seeds 1 and 2, has a fingerprint"
    n_weeks = weeks_for_years(kept["years"])
    wrong = []
    for key, want in kept["fingerprints"].items():
        name, seed = key.rsplit(" seed ", 1)
        if fp.fingerprint(simulate(load_scenario(name), int(seed), 0, n_weeks)) != want:
            wrong.append(key)
    assert not wrong, f"results moved for {wrong}: if by design, regenerate benchmarks/fingerprints.json and say why"
