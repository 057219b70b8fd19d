"""Running replications of one or more scenarios.

Replication ``r`` of every scenario draws from streams keyed by (seed, r,
name) alone, so results depend only on the seed and the replication index, and
scenarios compared in one experiment share their random numbers.
"""

from __future__ import annotations

import datetime as dt
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import pandas as pd

from . import __version__
from .calendar import weeks_for_years
from .loading import load_scenario
from .model import simulate
from .model.council import ID_COLUMNS, WEEKLY_COLUMNS, week_dates
from .results import summarise
from .schema import Scenario


def replication_frame(scn: Scenario, seed: int, replication: int, n_weeks: int, accounting: bool = False) -> pd.DataFrame:
    """One replication as a weekly table (with the ``_`` accounting columns if asked)."""
    out = simulate(scn, seed, replication, n_weeks)
    cols = WEEKLY_COLUMNS + (sorted(k for k in out if k.startswith("_")) if accounting else [])
    df = pd.DataFrame({k: out[k] for k in cols})
    df.insert(0, "date", pd.to_datetime(week_dates(scn, n_weeks)).date)
    df.insert(0, "week", np.arange(n_weeks))
    df.insert(0, "replication", replication)
    df.insert(0, "scenario", scn.name)
    return df


@dataclass
class RunResult:
    """What a run produced: weekly rows, the summary table and the manifest."""

    weekly: pd.DataFrame
    summary: pd.DataFrame
    manifest: dict = field(default_factory=dict)
    scenarios: list[Scenario] = field(default_factory=list)


def _as_scenario(s: Scenario | str | Path, overrides) -> Scenario:
    return s if isinstance(s, Scenario) and not overrides else load_scenario(
        s.model_dump() if isinstance(s, Scenario) else s, overrides)


def run(scenarios: Scenario | str | Path | Iterable[Scenario | str | Path], years: float = 5, reps: int = 20,
        seed: int = 42, overrides: list[str] | None = None,
        progress: Callable[[str, int, int], None] | None = None) -> RunResult:
    """Run ``reps`` replications of each scenario for ``years`` years.

    ``scenarios`` are loaded scenarios, file paths or bundled names;
    ``overrides`` are ``KEY=VALUE`` strings applied to each (as ``--set``).
    ``progress(scenario_name, done, total)`` is called after each replication.
    """
    if isinstance(scenarios, (Scenario, str, Path)):
        scenarios = [scenarios]
    scns = [_as_scenario(s, overrides) for s in scenarios]
    names = [s.name for s in scns]
    if len(set(names)) != len(names):
        raise ValueError(f"scenario names must differ within one run; got {names}")
    if reps < 1:
        raise ValueError("reps must be at least 1")
    if years <= 0:
        raise ValueError("years must be more than zero")
    n_weeks = weeks_for_years(years)
    started = dt.datetime.now(dt.timezone.utc)
    t0 = time.perf_counter()
    frames = []
    for scn in scns:
        for r in range(reps):
            frames.append(replication_frame(scn, seed, r, n_weeks))
            if progress:
                progress(scn.name, r + 1, reps)
    weekly = pd.concat(frames, ignore_index=True)
    seconds = time.perf_counter() - t0
    summary = summarise(weekly, [s.standards.manageable_caseload for s in scns])
    manifest = {
        "workforce_sim_version": __version__,
        "seed": seed,
        "replications": reps,
        "years": years,
        "weeks": n_weeks,
        "started_utc": started.isoformat(timespec="seconds"),
        "run_seconds": round(seconds, 3),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "overrides": list(overrides or []),
        "columns": ID_COLUMNS + WEEKLY_COLUMNS,
        "scenarios": [s.model_dump(mode="json") for s in scns],
    }
    return RunResult(weekly=weekly, summary=summary, manifest=manifest, scenarios=scns)
