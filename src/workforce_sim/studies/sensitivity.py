"""Which assumptions decide the answer: sensitivity analysis of a scenario's uncertain settings.

A scenario's uncertain settings (``{ uncertain = ... }`` in its file; :mod:`workforce_sim.scenario.uncertainty`)
are varied by one of three methods, and the scenario is run at each resulting combination of
values (a *design point*):

- ``tornado`` (one at a time): each setting at its low and at its high, the others at their
  central values. Its *effect* is the change in a measure from the low to the high, with a
  paired 95% interval over the simulated futures.
- ``morris`` (elementary effects screening; Morris 1991, with Campolongo, Cariboni and Saltelli's
  mu*, 2007): trajectories through a grid of each setting's quantiles, moving one setting at a
  time. mu* (the mean absolute change over the setting's whole range) ranks the settings across
  the whole space, interactions included; sigma shows effects that depend on the other settings.
- ``sobol`` (variance-based; Saltelli and others 2010, Jansen 1999): the share of the measure's
  variance each setting explains alone (first order) and with its interactions (total), over the
  settings' distributions, with bootstrap 95% intervals. It needs the most runs.

The designs and the indices are SALib's. Every design point runs the same replications, with the
same seed: replication r of every point sees the same chance events (common random numbers), so
differences between points come from the settings, and a setting with no effect on a measure
gets an index of exactly zero. Each replication is reduced in its worker to the four measures in
:data:`MEASURES`, on the engine ``run`` uses (processes or a Dask cluster), saved as it finishes
so that an interrupted analysis resumes.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import pandas as pd

from ..analysis.breaches import breach_rule
from ..analysis.compare import per_replication
from ..analysis.formats import setting_text
from ..analysis.measures import MEASURES
from ..analysis.money import Money
from ..analysis.statistics import mean_ci
from ..runs.backends import open_executor
from ..runs.experiment import default_jobs, replications_in, seconds_per_replication, simulate_chunk, weekly_frame
from ..runs.files import FolderError
from ..runs.folder import MoreFiles, commit_files, previous_run, recover_run_folder, write_csv, write_json
from ..runs.store import PARTIAL
from ..scenario.calendar import weeks_for_years
from ..scenario.loading import ScenarioError, as_scenario, load_scenario
from ..scenario.schema import Scenario
from ..scenario.streams import stream_code
from ..scenario.uncertainty import applied, in_percent, quantiles_to_values, setting_value, with_values
from ..version import __version__

METHODS = ("tornado", "morris", "sobol")
MORRIS_LEVELS = 4  # grid levels of each setting's quantiles (0, 1/3, 2/3, 1)
RESAMPLES = 1000  # bootstrap resamples for the Morris and Sobol intervals
CONF_LEVEL = 0.95


# -- one replication, reduced ----------------------------------------------------------------
def replication_outcomes(scn: Scenario, reps: list[int], arrays: dict[str, np.ndarray], n_weeks: int) -> np.ndarray:
    """The measures of :data:`MEASURES` for each replication (replications x measures) from its weekly arrays:
    whether caseloads stayed manageable (1 or 0), the weeks before the first breach (``n_weeks`` if none),
    the caseload counting unallocated cases over the last 13 weeks, and the cost a year (cash)."""
    weekly = weekly_frame(scn, reps, arrays, n_weeks)
    rule = breach_rule(scn)
    per = per_replication(weekly, rule, Money(scn.costs.deflator_per_year, scn.costs.discount_rate))
    first = per["first_breach_week"].to_numpy(dtype=float)
    return np.column_stack([np.isinf(first).astype(float), np.minimum(first, n_weeks),
                            per["caseload_incl_unallocated_end"].to_numpy(dtype=float),
                            per["cost_per_year"].to_numpy(dtype=float)])


def outcomes_chunk(scn: Scenario, seed: int, reps: list[int], n_weeks: int) -> dict[str, np.ndarray]:
    """Several replications of one design point, each reduced to the measures (the unit of work sent to
    worker processes): ``{"outcomes": replications x measures}``."""
    return {"outcomes": replication_outcomes(scn, reps, simulate_chunk(scn, seed, reps, n_weeks), n_weeks)}


# -- designs ---------------------------------------------------------------------------------
@dataclass
class Design:
    """The design points of one method: each setting's value at each point (points x settings), and for
    Morris and Sobol the unit-cube sample (quantiles) that SALib analyses. ``roles`` names each tornado
    point: "central", or "low" / "high" and the setting."""

    method: str
    keys: list[str]
    values: np.ndarray
    quantiles: np.ndarray | None = None
    roles: list[tuple[str, str]] = field(default_factory=list)


def _problem(keys: list[str]) -> dict:
    """SALib's description of the settings: each a quantile from 0 to 1, mapped to its value afterwards."""
    return {"num_vars": len(keys), "names": list(keys), "bounds": [[0.0, 1.0]] * len(keys)}


def _rng(seed: int, name: str) -> np.random.Generator:
    """A generator for one named part of the analysis, from the master seed (as the model's streams are)."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(stream_code(name),)))


def _seed(seed: int, name: str) -> int:
    """An integer seed for one named part of the analysis, from the master seed (for SALib's analyses)."""
    return int(np.random.SeedSequence(seed, spawn_key=(stream_code(name),)).generate_state(1)[0]) or 1


def tornado_design(scn: Scenario, keys: list[str]) -> Design:
    """The central point, then each setting at its low and at its high with the others central."""
    central = np.array([setting_value(scn, k) for k in keys])
    rows, roles = [central], [("central", "")]
    for j, key in enumerate(keys):
        for end, v in zip(("low", "high"), scn.uncertain[key].range):
            row = central.copy()
            row[j] = v
            rows.append(row)
            roles.append((end, key))
    values = np.array(rows, dtype=float)
    for j, key in enumerate(keys):  # a whole-number setting at whole numbers
        values[:, j] = [applied(scn, key, v) for v in values[:, j]]
    return Design("tornado", list(keys), values, None, roles)


def morris_design(scn: Scenario, keys: list[str], trajectories: int, seed: int) -> Design:
    """Morris trajectories (SALib) through a grid of each setting's quantiles: ``trajectories`` x (settings + 1)
    points."""
    from SALib.sample import morris

    u = morris.sample(_problem(keys), trajectories, num_levels=MORRIS_LEVELS, seed=_rng(seed, "sensitivity.morris"))
    return Design("morris", list(keys), quantiles_to_values(scn, keys, u), u)


def sobol_design(scn: Scenario, keys: list[str], samples: int, seed: int) -> Design:
    """Saltelli's design for first-order and total Sobol indices (SALib, scrambled Sobol sequence):
    ``samples`` x (settings + 2) points; ``samples`` must be a power of 2."""
    from SALib.sample import sobol

    if samples < 2 or samples & (samples - 1):
        raise ValueError(f"samples for Sobol indices must be a power of 2 (such as 32, 64 or 128); got {samples}")
    u = sobol.sample(_problem(keys), samples, calc_second_order=False, scramble=True,
                     seed=_rng(seed, "sensitivity.sobol"))
    return Design("sobol", list(keys), quantiles_to_values(scn, keys, u), u)


def design_size(method: str, settings: int, trajectories: int, samples: int) -> int:
    """How many design points a method needs for this many settings."""
    return {"tornado": 2 * settings + 1, "morris": trajectories * (settings + 1),
            "sobol": samples * (settings + 2)}[method]


# -- analyses --------------------------------------------------------------------------------
def _setting_columns(scn: Scenario, keys: list[str]) -> dict[str, dict]:
    """The columns of sensitivity.csv that describe each setting (its label, range, how it is shown), by key."""
    out = {}
    for key in keys:
        spec = scn.uncertain[key]
        low, high = spec.range
        percent = in_percent(scn, key)
        out[key] = {"setting": key, "label": spec.label or key, "source": spec.source,
                    "distribution": spec.describe(partial(setting_text, percent=percent)), "low": low,
                    "central": setting_value(scn, key), "high": high, "percent": percent}
    return out


def _mean_ci(d: np.ndarray) -> tuple[float, float, float]:
    """Mean of paired differences with a Student-t 95% interval (exactly 0 to 0 when every difference is 0)."""

    d = np.asarray(d, dtype=float)
    if d.size and np.all(d == 0):
        return 0.0, 0.0, 0.0
    if d.size > 1 and np.all(d == d[0]):
        return float(d[0]), float(d[0]), float(d[0])
    return mean_ci(d)  # one future alone has no interval (NaN): nothing tells its change from chance


def tornado_table(scn: Scenario, design: Design, y: np.ndarray, n_weeks: int) -> pd.DataFrame:
    """Rows of sensitivity.csv for a tornado: ``y`` is points x replications x measures of runs of ``n_weeks``.
    A change's interval stays within what the measure can change by (a chance by at most 100 points, the
    weeks before the first breach by at most the run)."""
    rows, columns = [], _setting_columns(scn, design.keys)
    central = y[0].mean(axis=0)
    widest = {"share": 1.0, "weeks": float(n_weeks)}
    for j, key in enumerate(design.keys):
        lo_i = design.roles.index(("low", key))
        hi_i = design.roles.index(("high", key))
        for m, measure in enumerate(MEASURES):
            diff = y[hi_i, :, m] - y[lo_i, :, m]
            effect, elo, ehi = _mean_ci(diff)
            if measure.unit in widest:
                elo, ehi = max(elo, -widest[measure.unit]), min(ehi, widest[measure.unit])
            index = abs(effect)
            if not (np.isfinite(elo) and np.isfinite(ehi)):
                ilo = ihi = np.nan
            else:
                ilo, ihi = (0.0, max(abs(elo), abs(ehi))) if elo <= 0 <= ehi else sorted((abs(elo), abs(ehi)))
            rows.append(columns[key] | {
                "method": "tornado", "measure": measure.name, "index": index, "index_ci95_low": ilo,
                "index_ci95_high": ihi, "clear": bool(np.isfinite(elo) and np.isfinite(ehi) and not elo <= 0 <= ehi),
                "at_low": y[lo_i, :, m].mean(), "at_central": central[m], "at_high": y[hi_i, :, m].mean(),
                "effect": effect, "effect_ci95_low": elo, "effect_ci95_high": ehi})
    return pd.DataFrame(rows)


FLIPS = 2000  # sign flips in the test of whether a Morris mu* could be chance


def morris_steps(design: Design) -> list[tuple[int, int, int, float]]:
    """Each step of each Morris trajectory: (row before, row after, the setting moved, its move in quantiles)."""
    k = len(design.keys)
    u = design.quantiles
    assert u is not None, "a Morris design carries its quantiles"
    out = []
    for start in range(0, len(u), k + 1):
        for a in range(start, start + k):
            move = u[a + 1] - u[a]
            j = int(np.argmax(np.abs(move)))
            out.append((a, a + 1, j, float(move[j])))
    return out


def morris_chance(design: Design, y: np.ndarray, seed: int) -> np.ndarray:
    """For each setting and measure (settings x measures), how likely chance alone is to give effects as large as
    those seen: a sign-flip test over the futures. Under no effect, a future's change at each step of a
    trajectory is as likely to go either way (the two points share their chance events), so flipping the signs
    of the futures' changes shows what chance alone gives. Two statistics are tested, each at half the level
    (Bonferroni): mu* (the mean size of the trajectories' effects, which sees an effect that changes direction)
    and |mu| (the mean effect, which sees a small effect that always goes the same way, such as one future in
    five crossing the threshold at each step). With one future a point there is nothing to flip, and the
    chance is 1: nothing tells an effect from chance."""
    steps = morris_steps(design)
    k, n_measures, reps = len(design.keys), y.shape[2], y.shape[1]
    rng = _rng(seed, "sensitivity.morris.flips")
    out = np.ones((k, n_measures))
    for j in range(k):
        mine = [(a, b, move) for a, b, jj, move in steps if jj == j]
        d = np.stack([(y[b] - y[a]) / move for a, b, move in mine])  # trajectories x futures x measures
        mu_star = np.abs(d.mean(axis=1)).mean(axis=0)
        mu = np.abs(d.mean(axis=(0, 1)))
        signs = rng.choice([-1.0, 1.0], size=(FLIPS, d.shape[0], reps))
        for m in range(n_measures):
            if mu_star[m] == 0 or reps < 2:
                continue
            flipped = signs * d[None, :, :, m]
            p_star = (1 + np.sum(np.abs(flipped.mean(axis=2)).mean(axis=1) >= mu_star[m] * (1 - 1e-12))) / (FLIPS + 1)
            p_mu = (1 + np.sum(np.abs(flipped.mean(axis=(1, 2))) >= mu[m] * (1 - 1e-12))) / (FLIPS + 1)
            out[j, m] = min(1.0, 2 * min(p_star, p_mu))
    return out


def morris_table(scn: Scenario, design: Design, y: np.ndarray, seed: int) -> pd.DataFrame:
    """Rows of sensitivity.csv for Morris screening: ``y`` is points x replications x measures. mu* and its
    interval (a bootstrap over the trajectories) are SALib's, from the means over replications; ``clear`` is
    the sign-flip test of :func:`morris_chance` at 5%."""
    from SALib.analyze import morris

    rows, columns = [], _setting_columns(scn, design.keys)
    problem = _problem(design.keys)
    y_mean = y.mean(axis=1)
    chance = morris_chance(design, y, seed)
    for m, measure in enumerate(MEASURES):
        res = morris.analyze(problem, design.quantiles, y_mean[:, m], conf_level=CONF_LEVEL,
                             num_resamples=RESAMPLES, num_levels=MORRIS_LEVELS,
                             seed=_seed(seed, "sensitivity.morris.ci"))
        for j, key in enumerate(design.keys):
            mu_star, conf = float(res["mu_star"][j]), float(res["mu_star_conf"][j])
            conf = 0.0 if not np.isfinite(conf) else conf
            rows.append(columns[key] | {
                "method": "morris", "measure": measure.name, "index": mu_star,
                "index_ci95_low": max(0.0, mu_star - conf), "index_ci95_high": mu_star + conf,
                "clear": bool(chance[j, m] < 0.05), "p_chance": float(chance[j, m]),
                "mu": float(res["mu"][j]), "sigma": float(res["sigma"][j])})
    return pd.DataFrame(rows)


def sobol_table(scn: Scenario, design: Design, y_mean: np.ndarray, seed: int) -> pd.DataFrame:
    """Rows of sensitivity.csv for Sobol indices: ``y_mean`` is points x measures (means over replications)."""
    from SALib.analyze import sobol

    rows, columns = [], _setting_columns(scn, design.keys)
    problem = _problem(design.keys)
    for m, measure in enumerate(MEASURES):
        y = y_mean[:, m]
        if np.ptp(y) == 0:  # the measure never moved: no setting explains any of its (zero) variance
            res = {k: np.zeros(len(design.keys)) for k in ("S1", "S1_conf", "ST", "ST_conf")}
        else:
            with np.errstate(all="ignore"):
                res = sobol.analyze(problem, y, calc_second_order=False, num_resamples=RESAMPLES, conf_level=CONF_LEVEL,
                                    seed=_seed(seed, "sensitivity.sobol.ci"))
        for j, key in enumerate(design.keys):
            st, st_conf = float(res["ST"][j]), float(np.nan_to_num(res["ST_conf"][j]))
            s1, s1_conf = float(res["S1"][j]), float(np.nan_to_num(res["S1_conf"][j]))
            rows.append(columns[key] | {
                "method": "sobol", "measure": measure.name, "index": st,
                "index_ci95_low": st - st_conf, "index_ci95_high": st + st_conf, "clear": bool(st - st_conf > 0),
                "first_order": s1, "first_order_ci95_low": s1 - s1_conf, "first_order_ci95_high": s1 + s1_conf})
    return pd.DataFrame(rows)


TABLE_COLUMNS = ["method", "measure", "rank", "setting", "label", "source", "distribution", "low", "central", "high",
                 "percent", "index", "index_ci95_low", "index_ci95_high", "clear", "at_low", "at_central", "at_high",
                 "effect", "effect_ci95_low", "effect_ci95_high", "p_chance", "mu", "sigma", "first_order",
                 "first_order_ci95_low", "first_order_ci95_high"]


TIE_BREAK = ["caseload_end", "weeks_manageable", "p_sustained", "cost_per_year"]  # settings equal on a measure


def ranked(tables: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """sensitivity.csv: the rows of every method and measure, ranked within each by their index (largest first).

    Settings with equal indices (often none at all, when a chance did not move) are ranked by their index
    on the caseload at the end, then on the weeks manageable, the chance and the cost."""
    df = pd.concat(list(tables), ignore_index=True)
    index = df.pivot_table(index=["method", "setting"], columns="measure", values="index", aggfunc="first")
    for i, m in enumerate(TIE_BREAK):
        df[f"_t{i}"] = [index.loc[(a, k), m] for a, k in zip(df["method"], df["setting"])]
    ties = [f"_t{i}" for i in range(len(TIE_BREAK))]
    df = df.sort_values(["method", "measure", "index", *ties], ascending=[True, True] + [False] * (1 + len(ties)),
                        kind="stable").drop(columns=ties)
    df["rank"] = df.groupby(["method", "measure"]).cumcount() + 1
    order = {m: i for i, m in enumerate(METHODS)}
    morder = {m.name: i for i, m in enumerate(MEASURES)}
    df = df.assign(_a=df["method"].map(order), _b=df["measure"].map(morder))
    df = df.sort_values(["_a", "_b", "rank"], kind="stable").drop(columns=["_a", "_b"])
    for c in TABLE_COLUMNS:
        if c not in df:
            df[c] = np.nan
    return df[TABLE_COLUMNS].reset_index(drop=True)


# -- the analysis ------------------------------------------------------------------------------
@dataclass
class SensitivityResult:
    """What a sensitivity analysis produced: the ranked table (sensitivity.csv), every design point with its
    measures (points.csv), the manifest, and the scenario analysed."""

    scenario: Scenario
    table: pd.DataFrame
    points: pd.DataFrame
    manifest: dict

    @property
    def methods(self) -> list[str]:
        """The methods run, in the order of :data:`METHODS`."""
        return [m for m in METHODS if m in set(self.table["method"])]

    def main_method(self) -> str:
        """The most thorough method run (Sobol, then Morris, then the tornado), which the words follow."""
        return self.methods[-1]

    def ranking(self, method: str, measure: str) -> pd.DataFrame:
        """The rows of one method and measure, ranked."""
        t = self.table
        return t[(t["method"] == method) & (t["measure"] == measure)].sort_values("rank")


def uncertain_keys(scn: Scenario, only: Iterable[str] | None = None) -> list[str]:
    """The uncertain settings to analyse: every one of the scenario's, or those named in ``only``."""
    keys = list(scn.uncertain)
    if not keys:
        raise ValueError(f"{scn.name} has no uncertain settings to analyse; give a setting a range in the scenario "
                         "file, e.g. pressure_effect = { uncertain = \"uniform\", low = 0.5, high = 2.5 } "
                         "(see docs/sensitivity.md)")
    if only:
        missing = [k for k in only if k not in scn.uncertain]
        if missing:
            raise ValueError(f"{', '.join(missing)}: not an uncertain setting of {scn.name}; its uncertain "
                             f"settings are: {', '.join(keys)}")
        keys = [k for k in keys if k in set(only)]
    return keys


def _designs(scn: Scenario, keys: list[str], methods: list[str], trajectories: int, samples: int,
             seed: int) -> list[Design]:
    out = []
    for m in methods:
        if m == "tornado":
            out.append(tornado_design(scn, keys))
        elif m == "morris":
            out.append(morris_design(scn, keys, trajectories, seed))
        elif m == "sobol":
            out.append(sobol_design(scn, keys, samples, seed))
        else:
            raise ValueError(f"unknown method {m!r}; choose from: {', '.join(METHODS)}")
    return out


def _point_scenarios(scn: Scenario, keys: list[str], values: np.ndarray) -> list[Scenario]:
    """One fixed scenario per design point (each keeps the scenario's name: the points are not compared by name)."""
    out = []
    for row in values:
        try:
            out.append(with_values(scn, dict(zip(keys, row.tolist()))))
        except ScenarioError as err:
            raise ScenarioError(["A combination of the uncertain settings the analysis needs is not a valid scenario; "
                                 "narrow the ranges so that every combination is allowed."] + err.lines) from None
    return out


def _points_table(designs: list[Design], y_mean: list[np.ndarray], reps: int) -> pd.DataFrame:
    frames = []
    for d, ym in zip(designs, y_mean):
        df = pd.DataFrame(d.values, columns=d.keys)
        df.insert(0, "point", np.arange(len(df)))
        df.insert(0, "method", d.method)
        if d.roles:
            df.insert(2, "role", [f"{end} {key}".strip() for end, key in d.roles])
        for m, measure in enumerate(MEASURES):
            df[measure.name] = ym[:, m]
        df["replications"] = reps
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def _analyse(scn: Scenario, designs: list[Design], y_rows: np.ndarray, seed: int,
             n_weeks: int) -> tuple[pd.DataFrame, list]:
    """The ranked table of every design, and each design's means over the futures (points x measures), from
    the measures of every design row in order (rows x replications x measures)."""
    tables, y_means, start = [], [], 0
    for d in designs:
        y = y_rows[start:start + len(d.values)]
        start += len(d.values)
        y_means.append(y.mean(axis=1))
        if d.method == "tornado":
            tables.append(tornado_table(scn, d, y, n_weeks))
        elif d.method == "morris":
            tables.append(morris_table(scn, d, y, seed))
        else:
            tables.append(sobol_table(scn, d, y_means[-1], seed))
    return ranked(tables), y_means


def _check_folder(out: Path, scn: Scenario, replace: bool) -> None:
    """Refuse a folder holding another kind of run, or an analysis of another scenario, unless told to replace it."""
    old = previous_run(out)
    if old is None or replace:
        return
    names = [", ".join([str(s.get("name")), *map(str, s.get("changes") or [])]) for s in old["scenarios"]
             if isinstance(s, dict)]
    if old.get("kind") != "sensitivity" or names != [scn.label]:
        what = "a sensitivity analysis" if old.get("kind") == "sensitivity" else "the run"
        raise FolderError(f"{out} holds {what} of {'; '.join(names)} started "
                          f"{old.get('started_utc', 'earlier')} (UTC). Add --replace to overwrite it, or choose "
                          "another --out folder.")


def sensitivity(scenario: Scenario | str | Path, methods: Iterable[str] = ("tornado",), years: float = 5,
                reps: int = 10, seed: int = 42, settings: Iterable[str] | None = None, trajectories: int = 8,
                samples: int = 32, overrides: list[str] | None = None, *, jobs: int | None = None,
                cluster: str | None = None, out: str | Path | None = None, resume: bool = False, replace: bool = False,
                progress: Callable[[int, int], None] | None = None,
                notify: Callable[[str], None] | None = None, files: MoreFiles | None = None) -> SensitivityResult:
    """Which of ``scenario``'s uncertain settings decide the answer, by ``methods`` (see the module's notes).

    Every design point runs ``reps`` replications of ``years`` years with the same ``seed`` (common random
    numbers). ``settings`` limits the analysis to some uncertain settings (dotted keys). ``trajectories``
    sets the size of the Morris design, ``samples`` (a power of 2) that of the Sobol design. ``jobs``,
    ``cluster``, ``out``, ``resume``, ``replace``, ``progress`` and ``notify`` work as for
    :func:`workforce_sim.run`: with ``out``, finished replications are saved as they finish and the
    results (sensitivity.csv, points.csv, manifest.json, and the files ``files(result)`` names: the Python API's
    :func:`workforce_sim.api.sensitivity` adds plots/tornado-*.png) are written there as one unit.
    """
    scn = as_scenario(scenario, overrides)
    unknown = set(methods) - set(METHODS)
    methods = [m for m in METHODS if m in set(methods)] or ["tornado"]
    if unknown:
        raise ValueError(f"unknown method(s) {', '.join(sorted(unknown))}; choose from: {', '.join(METHODS)}")
    if reps < 1 or years <= 0 or trajectories < 2:
        raise ValueError("reps must be at least 1, years more than zero, and trajectories at least 2")
    keys = uncertain_keys(scn, settings)
    designs = _designs(scn, keys, methods, trajectories, samples, seed)
    values = np.vstack([d.values for d in designs])
    unique, inverse = np.unique(values, axis=0, return_inverse=True)  # a point shared by two designs runs once
    inverse = inverse.reshape(-1)
    points = _point_scenarios(scn, keys, unique)
    n_weeks = weeks_for_years(years)
    if jobs is None:
        jobs = default_jobs(len(points) * reps * seconds_per_replication(scn, n_weeks), cluster)
    identity = {"kind": "sensitivity", "workforce_sim_version": __version__, "seed": seed, "years": years,
                "weeks": n_weeks, "replications": reps, "methods": methods, "settings": keys,
                "trajectories": trajectories if "morris" in methods else None,
                "samples": samples if "sobol" in methods else None, "scenario": scn.model_dump(mode="json")}
    out = Path(out) if out is not None else None
    with replications_in(out, points, seed, n_weeks, identity=identity, resume=resume, progress=progress,
                         notify=notify or (lambda message: None),
                         check_folder=lambda folder: _check_folder(folder, scn, replace),
                         task=outcomes_chunk) as work:
        started = dt.datetime.now(dt.timezone.utc)
        t0 = time.perf_counter()
        with open_executor(jobs, cluster) as (ex, width):
            work.fill(ex, width, reps)
        run = {"started_utc": started.isoformat(timespec="seconds"), "run_seconds": round(time.perf_counter() - t0, 3),
               "backend": cluster or ("serial" if jobs <= 1 else f"processes x{jobs}")}
        y_all = np.stack([np.stack([work.done[(p, r)]["outcomes"] for r in range(reps)]) for p in range(len(points))])
        table, y_means = _analyse(scn, designs, y_all[inverse], seed, n_weeks)
        manifest = _manifest(scn, identity, designs, y_means, len(points), run)
        result = SensitivityResult(scn, table, _points_table(designs, y_means, reps), manifest)
        if out is not None:
            write_sensitivity(result, out, files, retire=out / PARTIAL)  # the stored batches go with the switch
    return result


def _manifest(scn: Scenario, identity: dict, designs: list[Design], y_means: list[np.ndarray], points: int,
              run: dict) -> dict:
    """manifest.json of a sensitivity analysis: what was asked (``identity``), what ran and how (``run``), and
    the measures with every setting central (when the tornado ran)."""
    reps = identity["replications"]
    return {"kind": "sensitivity", "workforce_sim_version": __version__, "seed": identity["seed"],
            "replications": reps, "years": identity["years"], "weeks": identity["weeks"],
            "methods": identity["methods"], "settings": identity["settings"],
            "trajectories": identity["trajectories"], "samples": identity["samples"],
            "design_points": {d.method: len(d.values) for d in designs}, "points_run": points,
            "replications_run": points * reps, **run, "labels": [scn.label], "scenarios": [scn.model_dump(mode="json")],
            "central": {m.name: float(y_means[0][0, i]) for i, m in enumerate(MEASURES)}
            if designs[0].method == "tornado" else None}


def write_sensitivity(result: SensitivityResult, out: Path, files: MoreFiles | None = None,
                      retire: Path | None = None) -> list[Path]:
    """sensitivity.csv, points.csv, manifest.json and the files ``files(result)`` names into ``out``, as one unit
    (with ``retire``, the stored batches, removed in the same step: :func:`workforce_sim.runs.folder.commit_files`)."""
    writers: dict[str, Callable[[Path], None]] = {
        "sensitivity.csv": lambda p: write_csv(result.table, p, plain=True),
        "points.csv": lambda p: write_csv(result.points, p, plain=True),
        "manifest.json": lambda p: write_json(result.manifest, p)}
    writers.update(files(result) if files is not None else {})
    return commit_files(Path(out), writers, retire)


def read_sensitivity(folder: Path) -> SensitivityResult:
    """Read back what :func:`write_sensitivity` wrote."""
    import json

    folder = Path(folder)
    recover_run_folder(folder)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    table = pd.read_csv(folder / "sensitivity.csv", dtype={"source": str, "label": str, "setting": str})
    table["source"] = table["source"].fillna("")
    table["percent"] = table["percent"].fillna(False).astype(bool) if "percent" in table else False  # older folders
    points = pd.read_csv(folder / "points.csv")
    scn = load_scenario(manifest["scenarios"][0])
    return SensitivityResult(scn, table, points, manifest)


def is_sensitivity_folder(folder: Path) -> bool:
    """Whether ``folder`` holds a finished sensitivity analysis."""
    return (Path(folder) / "sensitivity.csv").is_file() and (Path(folder) / "manifest.json").is_file()


def estimated_seconds(scn: Scenario, methods: list[str], settings: int, reps: int, years: float, trajectories: int,
                      samples: int, width: int) -> float:
    """A rough time for an analysis on ``width`` cores, from the model's cost per replication."""
    points = sum(design_size(m, settings, trajectories, samples) for m in methods)
    per = seconds_per_replication(scn, weeks_for_years(years))
    return points * reps * per * ESTIMATE_FACTOR / max(1, width)


# seconds_per_replication is a rough cost of the model in a service that copes; design points push services
# harder. Measured on the baseline, 2 cores, 2026-12-04: the tornado (290 replications) took 203 s and Morris
# screening (600) 432 s, against 151 s and 312 s estimated with a factor of 3.
ESTIMATE_FACTOR = 4.0
