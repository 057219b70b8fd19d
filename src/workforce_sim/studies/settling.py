"""The start-state check: is a scenario's start state where the model settles?

A scenario starts from the service as it is: staff in post by contract, vacancies, open cases
by type. If the model, left alone, would hold the service somewhere else, every run of the
scenario first moves from the start state towards that level, and the early years' trend is
partly the model settling rather than a change in the service. This check measures that: it
simulates the scenario with demand held steady and no levers, and compares each measure in the
first week with its average once settled (the last three years of the check).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from ..analysis.summary import periods
from ..model.council import Replication, collector_paused
from ..model.measures import MEASURES
from ..runs import cache
from ..runs.backends import Workers, open_executor
from ..runs.experiment import Replications, simulate_chunk
from ..scenario.calendar import weeks_for_years
from ..scenario.loading import load_scenario
from ..scenario.schema import Scenario

YEARS = 5  # years simulated by the check
REPS = 8  # simulated futures
SEED = 42  # as run's default
SETTLED_YEARS = 3  # "settled" is the average over the check's last this many years
TOLERANCE = 0.10  # a measure whose settled value is more than this share from its start has not settled
MIN_CHANGE = 1.0  # ...and by at least one FTE, post or case: smaller moves are noise, whatever the share
NOISE = 2.0  # ...and by more than this many standard errors of the change (chance, not settling)
NAMED = 3  # measures named in words, the largest moves first

PERMANENT = "staff_fte_permanent"  # staff_fte - staff_fte_agency, worked out here
CHECKED = [PERMANENT, "staff_fte_agency", "vacancies_fte", "assessments_open", "cin_open", "cp_open", "cla_open",
           "early_help_open"]
WEEKLY = ["staff_fte", *CHECKED[1:]]  # the weekly.csv columns the check reads (and keeps in its cache)
CACHE_KIND = "start-state"  # the cache's folder for the check's simulations (see workforce_sim.runs.cache)


def _label_unit(name: str) -> tuple[str, str]:
    if name == PERMANENT:
        return "Permanent staff in post", "FTE"
    m = MEASURES[name]
    return m.label, m.unit


def steady(scn: Scenario) -> Scenario:
    """``scn`` with demand growth removed (the demand-wide trend and every source's own) and no levers; its
    uncertain settings keep their central values and are no longer marked uncertain (the check is of the
    scenario as ordinary runs see it, and options differing only in their levers share one check)."""
    sources = {name: src.model_copy(update={"trend_per_year": 0.0}) if src.trend_per_year is not None else src
               for name, src in scn.demand.sources.items()}
    demand = scn.demand.model_copy(update={"trend_per_year": 0.0, "sources": sources})
    return scn.model_copy(update={"demand": demand, "levers": [], "uncertain": {}})


def simulated_as(scn: Scenario) -> dict:
    """What the check simulates of ``scn``, as plain values: the scenario held steady (:func:`steady`), less its name,
    description and record of changes, which the simulation never reads."""
    return steady(scn).model_dump(mode="json", exclude={"name", "description", "changes"})


def _has_growth(scn: Scenario) -> bool:
    return scn.demand.trend_per_year != 0 or any(s.trend_per_year for s in scn.demand.sources.values())


def _checked_values(weekly: pd.DataFrame) -> pd.DataFrame:
    """The checked measures by replication and week (permanent staff worked out from all staff less agency)."""
    out = weekly[["replication", "week"]].copy()
    out[PERMANENT] = weekly["staff_fte"] - weekly["staff_fte_agency"]
    for name in CHECKED[1:]:
        out[name] = weekly[name]
    return out


def _change_pct(start: float, settled: float) -> float:
    if start != 0:
        return 100.0 * (settled - start) / abs(start)
    return 0.0 if settled == 0 else float(np.sign(settled)) * np.inf


def _moves(start: float, settled: float, se: float = 0.0) -> bool:
    diff = abs(settled - start)
    return bool(diff > TOLERANCE * abs(start) and diff >= MIN_CHANGE and diff > NOISE * se)


def _number(value: float, unit: str) -> str:
    return f"{value:,.1f}" if unit in ("FTE", "posts") else f"{value:,.0f}"


def _pct(value: float) -> str:
    return "from none" if not np.isfinite(value) else f"{value:+.0f}%"


def _lower(label: str) -> str:
    return label[:1].lower() + label[1:]


@dataclass
class StartStateCheck:
    """Where a scenario settles with demand held steady and no levers, against its start state.

    ``table`` has one row per measure: ``measure`` (the weekly.csv column; ``staff_fte_permanent``
    is ``staff_fte - staff_fte_agency``), ``label``, ``unit``, ``start`` (week 0, mean over the
    simulated futures), ``settled`` (mean over weeks ``settled_from_week`` onwards), ``settled_se``
    (the standard error of settled minus start, over the simulated futures), ``change_pct`` (settled
    against start, in %),
    ``moves`` (more than TOLERANCE, MIN_CHANGE and NOISE standard errors from the start),
    and the mean of each year of the check (``year 1``, ``year 2``, ...).
    """

    scenario: str
    years: int
    reps: int
    seed: int
    settled_from_week: int
    settled_period: tuple[int, int]  # first and last year averaged as "settled", e.g. (3, 5)
    growth_removed: bool  # the scenario had demand growth, removed for the check
    levers_removed: int  # how many levers the scenario had, removed for the check
    table: pd.DataFrame
    same_as: str | None = None  # the scenario whose simulation this check shares (see start_state_checks)

    @property
    def settled(self) -> bool:
        """True when every measure settles within TOLERANCE of its start (or moves by less than MIN_CHANGE)."""
        return not self.table["moves"].any()

    def _by_size(self, rows: pd.DataFrame) -> pd.DataFrame:
        """``rows``, the largest change first: relative to the start, or to MIN_CHANGE for a start below it."""
        size = (rows["settled"] - rows["start"]).abs() / np.maximum(rows["start"].abs(), MIN_CHANGE)
        return rows.iloc[np.argsort(-size.to_numpy(), kind="stable")]

    def moving(self) -> pd.DataFrame:
        """The rows that move, the largest change first."""
        return self._by_size(self.table[self.table["moves"]])

    def _what(self) -> str:
        removed = []
        if self.growth_removed:
            removed.append("its growth in demand")
        if self.levers_removed:
            removed.append(f"its {self.levers_removed} lever{'s' if self.levers_removed != 1 else ''}")
        note = f" ({' and '.join(removed)} removed for the check)" if removed else ""
        first, last = self.settled_period
        return (f"Start-state check for {self.scenario}: simulated for {self.years} years, {self.reps} times over, "
                f"with demand held steady and no levers{note}, comparing staffing and open cases in the first "
                f"week with where they settle (the average of years {first} to {last}).")

    @staticmethod
    def _move(row) -> str:
        verb = "rise" if row["settled"] > row["start"] else "fall"
        unit = " FTE" if row["unit"] == "FTE" else ""
        pct = f" ({_pct(row['change_pct'])})" if row["start"] != 0 else ""
        return (f"{_lower(row['label'])} {verb} from {_number(row['start'], row['unit'])} to "
                f"{_number(row['settled'], row['unit'])}{unit}{pct}")

    def words(self, repeat: bool = True) -> list[str]:
        """The check in plain English, one paragraph a line.

        With ``repeat=False``, a check that shares another scenario's simulation (``same_as``) is one
        line referring to that scenario's, for when both are printed together.
        """
        if self.same_as is not None and not repeat:
            return [f"Start-state check for {self.scenario}: as for {self.same_as}, which is the same scenario "
                    "once demand growth and levers are removed."]
        lines = [self._what()]
        limit = f"{TOLERANCE:.0%}"
        if self.settled:
            t = self.table
            big = self._by_size(t).iloc[0]
            small = (" or moves by less than one, or by less than chance alone gives over this many simulated futures"
                     if (t["change_pct"].abs() > 100 * TOLERANCE).any() else "")
            lines.append(f"The start state is close to where this scenario settles: with demand held steady and no "
                         f"levers, every measure checked stays within {limit} of its start{small} (the largest "
                         f"change: {self._move(big)}). Trends in a run of this scenario come mostly from its "
                         f"demand, levers and chance, not from the model settling.")
            return lines
        moving = self.moving()
        named = [self._move(r) for _, r in moving.head(NAMED).iterrows()]
        text = ", ".join(named[:-1]) + (" and " if len(named) > 1 else "") + named[-1]
        rest = [f"{_lower(r['label'])} ({_pct(r['change_pct'])})"
                for _, r in moving.iloc[NAMED:].iterrows()]
        if rest:
            text += f"; also more than {limit} from the start: " + ", ".join(rest)
        lines.append(f"The start state is not where this scenario settles: with demand held steady and no levers, "
                     f"{text}.")
        lines.append("Much of the first years' trend in a run of this scenario will be the model settling, not a "
                     "change in the service. If the start state is your council's own figures, check the "
                     "scenario's rates, case durations and staffing against them: either the service really is "
                     "changing this way, or they do not match.")
        return lines

    def table_lines(self) -> list[str]:
        """A small aligned table: measure, start, settled and change; a * marks a measure that has not settled."""
        labels = [f"{r['label']} (FTE)" if r["unit"] == "FTE" else r["label"] for _, r in self.table.iterrows()]
        width = max(len(s) for s in labels + ["measure"]) + 2
        out = [f"{'measure':{width}}{'start':>10}{'settled':>10}{'change':>11}"]
        for label, (_, r) in zip(labels, self.table.iterrows()):
            change = _pct(r["change_pct"])
            out.append(f"{label:{width}}{_number(r['start'], r['unit']):>10}{_number(r['settled'], r['unit']):>10}"
                       f"{change:>11}{'  *' if r['moves'] else ''}")
        if not self.settled:
            out.append(f"* settles more than {TOLERANCE:.0%} away from its start")
        return out


def check_chunk(scn: Scenario, seed: int, reps: list[int], n_weeks: int) -> dict[str, np.ndarray]:
    """Replications ``reps`` of ``scn``: only the weekly columns the check reads (:data:`WEEKLY`), (replications x
    weeks) each. The unit of work the check sends to worker processes."""
    arrays = simulate_chunk(scn, seed, reps, n_weeks)
    return {k: arrays[k] for k in WEEKLY}


def _simulated(still: Scenario, seed: int, reps: int, n_weeks: int, jobs: int,
               progress: Callable[[int, int], None] | None, workers: Workers | None) -> dict[str, np.ndarray]:
    """The weekly columns the check reads, (replications x weeks) each: simulated, and nothing more made of them."""
    work = Replications([still], seed, n_weeks, None, progress, task=check_chunk)
    pool = workers.executor(min(jobs, reps)) if workers is not None else open_executor(min(jobs, reps))
    with pool as (ex, width):
        work.fill(ex, width, reps)
    return {k: np.stack([work.done[(0, r)][k] for r in range(reps)]) for k in WEEKLY}


def _weekly(arrays: dict[str, np.ndarray]) -> pd.DataFrame:
    """The check's weekly table (replication, week and :data:`WEEKLY`) from its (replications x weeks) arrays."""
    reps, n_weeks = arrays[WEEKLY[0]].shape
    head = {"replication": np.repeat(np.arange(reps), n_weeks), "week": np.tile(np.arange(n_weeks), reps)}
    return pd.DataFrame({**head, **{k: np.asarray(arrays[k], dtype=float).reshape(-1) for k in WEEKLY}})


def start_state_check(scn: Scenario | str | Path, years: int = YEARS, reps: int = REPS, seed: int = SEED,
                      jobs: int = 1, progress: Callable[[int, int], None] | None = None,
                      workers: Workers | None = None) -> StartStateCheck:
    """Simulate ``scn`` with demand held steady and no levers, and compare its start state with where it settles.

    ``scn`` is a loaded scenario (with any ``--set`` overrides already applied), a file path or a
    bundled name. Nothing is written. ``years`` must cover more than the last SETTLED_YEARS years.
    ``workers``: worker processes opened for the whole command (shared with the run that follows).

    The simulated weekly columns are kept in the cache (:mod:`workforce_sim.runs.cache`), under everything they
    depend on: the scenario as simulated (:func:`simulated_as`), the seed, the weeks, the number of simulated
    futures and the model's code. A second check of the same reads them instead of simulating again; the verdict
    is worked out from them each time.
    """
    if not isinstance(scn, Scenario):
        scn = load_scenario(scn)
    n_weeks = weeks_for_years(years)
    year_periods = [p for p in periods(n_weeks) if p[0] != "whole run"]
    if len(year_periods) <= SETTLED_YEARS:
        raise ValueError(f"the start-state check needs at least {SETTLED_YEARS + 1} years, to leave the last "
                         f"{SETTLED_YEARS} for where the scenario settles; got {years}")
    key = {"what": "start-state check", "scenario": simulated_as(scn), "seed": seed, "years": years,
           "weeks": n_weeks, "reps": reps}
    arrays = cache.load(CACHE_KIND, key, WEEKLY, (reps, n_weeks))
    if arrays is None:
        arrays = _simulated(steady(scn), seed, reps, n_weeks, jobs, progress, workers)
        cache.save(CACHE_KIND, key, arrays)
    return _verdict(scn, _weekly(arrays), years, reps, seed, year_periods)


def _verdict(scn: Scenario, weekly: pd.DataFrame, years: int, reps: int, seed: int,
             year_periods: list[tuple[str, int, int]]) -> StartStateCheck:
    """The check of ``scn`` from its simulated weekly table: where each measure starts and where it settles."""
    values = _checked_values(weekly)
    by_week = values.groupby("week")[CHECKED].mean()
    settled_from = year_periods[-SETTLED_YEARS][1]
    start = by_week.loc[0]
    settled = by_week.loc[settled_from:].mean()
    # the standard error of the change from start to settled, from each simulated future's own change
    # (the first week is as noisy as the settled average, so both count)
    per_future = values[values["week"] >= settled_from].groupby("replication")[CHECKED].mean()
    change = per_future - values[values["week"] == 0].set_index("replication")[CHECKED]
    se = change.std(ddof=1) / np.sqrt(len(change)) if len(change) > 1 else change.iloc[0] * 0.0
    rows = []
    for name in CHECKED:
        label, unit = _label_unit(name)
        row = {"measure": name, "label": label, "unit": unit, "start": float(start[name]),
               "settled": float(settled[name]), "settled_se": float(se[name]),
               "change_pct": _change_pct(start[name], settled[name]),
               "moves": _moves(start[name], settled[name], float(se[name]))}
        for period, a, b in year_periods:
            row[period] = float(by_week[name].iloc[a:b].mean())
        rows.append(row)
    return StartStateCheck(scenario=scn.name, years=years, reps=reps, seed=seed, settled_from_week=settled_from,
                           settled_period=(len(year_periods) - SETTLED_YEARS + 1, len(year_periods)),
                           growth_removed=_has_growth(scn), levers_removed=len(scn.levers), table=pd.DataFrame(rows))


def start_state_checks(scns: list[Scenario], **kw) -> list[StartStateCheck]:
    """The check for each scenario; scenarios that differ only in name, demand growth and levers share one
    simulation."""
    done: list[tuple[dict, StartStateCheck]] = []
    out = []
    for scn in scns:
        key = simulated_as(scn)
        same = next((c for k, c in done if k == key), None)
        if same is None:
            check = start_state_check(scn, **kw)
            done.append((key, check))
        else:
            check = dataclasses.replace(same, scenario=scn.name, growth_removed=_has_growth(scn),
                                        levers_removed=len(scn.levers), table=same.table.copy(),
                                        same_as=same.scenario)
        out.append(check)
    return out


# -- a start state where the scenario settles --------------------------------------------------------
SETTLE_YEARS = 8  # years simulated to find where a scenario settles
SETTLE_REPS = 16  # simulated futures averaged
AGE_GROUPS = 4  # open cases of each type are written in this many groups by how long they have been open
EARLY_HELP_WEEKS = (3, 8, 15, 28)  # weeks open of the early help groups (its families are counted, not followed)


def _state_of(scn: Scenario, seed: int, replication: int, n_weeks: int) -> dict:
    with collector_paused():
        rep = Replication(scn, seed, replication, n_weeks)
        rep.start()
        rep.run()
        return rep.state()


def settled_start_state(scn: Scenario | str | Path, years: int = SETTLE_YEARS, reps: int = SETTLE_REPS,
                        seed: int = SEED, jobs: int = 1) -> dict:
    """Staff in post and open cases where ``scn`` settles, as a scenario file's ``staff`` and ``open_cases``.

    The scenario, with demand growth removed and no levers, is simulated ``years`` years ``reps``
    times; the state at the end of each is read (staff by team, grade, contract and FTE with their
    weeks in post; open cases by type with how long they have been open) and averaged. Staff keep
    the scenario's own groups where it has them (a group the scenario does not have joins its group
    of the same team, contract and post grade), are rounded, and are trimmed to the funded posts;
    open cases of each type are written in AGE_GROUPS groups by age. Returns ``{"staff": [...],
    "open_cases": [...]}`` of plain tables, ready for :func:`workforce_sim.scenario.tomlout.dumps`.
    """
    if not isinstance(scn, Scenario):
        scn = load_scenario(scn)
    still = steady(scn)
    n_weeks = weeks_for_years(years)
    with open_executor(jobs) as (ex, _):
        states = list(ex.map(_state_of, [still] * reps, [seed] * reps, range(reps), [n_weeks] * reps))
    return {"staff": _staff_groups(scn, states), "open_cases": _case_groups(states)}


def _post_grade(grade: str) -> str:
    return "social_worker" if grade == "asye" else grade


def _staff_groups(scn: Scenario, states: list[dict]) -> list[dict]:
    reps = len(states)
    groups = list(dict.fromkeys((g.team, g.grade, g.contract, g.fte) for g in scn.staff))
    count: dict = {g: 0.0 for g in groups}
    weeks: dict = {g: [] for g in groups}
    for state in states:
        for team, grade, contract, fte, wk in state["staff"]:
            key = (team, grade, contract, fte)
            if key not in count:
                near = [g for g in groups
                        if g[0] == team and g[2] == contract and _post_grade(g[1]) == _post_grade(grade)]
                key = near[0] if near else key
            if key not in count:
                groups.append(key)
                count[key], weeks[key] = 0.0, []
            count[key] += 1.0 / reps
            weeks[key].append(wk)
    rounded = {g: int(round(count[g])) for g in groups}
    for team, t in scn.teams.items():  # rounding must not put more staff in post than there are posts
        for grade, posts in t.posts.items():
            mine = [g for g in groups if g[0] == team and _post_grade(g[1]) == grade]
            over = sum(rounded[g] for g in mine) - posts
            for g in sorted(mine, key=lambda g: (g[2] == "permanent", count[g] - rounded[g])):  # agency first
                cut = min(max(over, 0), rounded[g])
                rounded[g] -= cut
                over -= cut
    out = []
    for g in groups:
        if rounded[g] >= 1:
            team, grade, contract, fte = g
            out.append({"team": team, "grade": grade, "contract": contract, "fte": fte, "count": rounded[g],
                        "weeks_in_post": round(float(np.median(weeks[g])), 1)})
    return out


def _case_groups(states: list[dict]) -> list[dict]:
    reps = len(states)
    out = []
    for kind in ("assessment", "cin", "cp", "cla"):
        ages = np.sort([age for state in states for k, age in state["cases"] if k == kind])
        if ages.size == 0:
            continue
        for part in np.array_split(ages, AGE_GROUPS):
            n = int(round(part.size / reps))
            if n >= 1:
                out.append({"type": kind, "count": n, "weeks_open": round(float(part.mean()), 1)})
    families = np.mean([state["early_help"] for state in states])
    for wk in EARLY_HELP_WEEKS:
        n = int(round(families / len(EARLY_HELP_WEEKS)))
        if n >= 1:
            out.append({"type": "early_help", "count": n, "weeks_open": wk})
    return out
