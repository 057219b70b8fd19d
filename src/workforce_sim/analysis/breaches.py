"""When caseloads stop being manageable: the breach rule (above a standard for some weeks running, or cases
nobody holds), applied to every case-holding team and to the service as a whole, and when each simulated future
first breaches it, and where."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd

MANAGEABLE_MEASURE = "caseload_incl_unallocated"
TEAM_MEASURE = MANAGEABLE_MEASURE + "_{team}"
SERVICE = "service"  # the name the service as a whole goes by, beside its teams


MANAGEABLE_MEANING = ("caseloads count waiting (unallocated) children against the staff who would hold them, and a "
                      "breach is that caseload above the standard for {weeks} weeks running, or open cases with "
                      "nobody to hold them")


@dataclass(frozen=True)
class BreachRule:
    """When caseloads stop being manageable: the manageable measure (allocated plus unallocated cases per
    case-holding FTE) above its standard, or missing (open cases and no case-holding staff), for ``weeks``
    consecutive weeks, in any case-holding team (``teams``: each team's name and standard) or, with ``service``, in
    the service as a whole (``threshold``). With a table of standards the service is not watched: its average
    caseload and an average of the standards weigh the teams differently (staff in post against posts), so it could
    breach with no team over; the teams' own series catch open cases with nobody to hold them."""

    threshold: float
    weeks: int = 4
    teams: tuple[tuple[str, float], ...] = ()
    service: bool = True

    def series(self) -> list[tuple[str, str, float]]:
        """(name, weekly.csv column, standard) of every series the rule watches: each team, then the service."""
        return [(t, TEAM_MEASURE.format(team=t), s) for t, s in self.teams] + (
            [(SERVICE, MANAGEABLE_MEASURE, self.threshold)] if self.service or not self.teams else [])

    def describe(self) -> str:
        """The rule in one sentence for a reader."""
        stds = {s for _, s in self.teams} | {self.threshold}
        if not self.teams:
            where = f"{self.threshold:g} cases per case-holding FTE, averaged over the service (teams and workers " \
                    f"may be above it)"
        elif len(stds) == 1:
            where = f"{self.threshold:g} cases per case-holding FTE, in every team ({_names(self.teams)}) and over " \
                    f"the service as a whole"
        else:
            where = ("cases per case-holding FTE by team (" + ", ".join(f"{_team_words(t)} {s:g}"
                                                                     for t, s in self.teams) + ")")
        return (f"Threshold: {where}; " + MANAGEABLE_MEANING.format(weeks=self.weeks)
                + ("; a breach in any one team counts." if self.teams else "."))


def _names(teams) -> str:
    return ", ".join(_team_words(t) for t, _ in teams)


def _team_words(team: str) -> str:
    """A team's name as words: "children in care", "the service as a whole"."""
    return "the service as a whole" if team == SERVICE else team.replace("_", " ")


def team_words(team: str) -> str:
    """How a reader names where a breach happened: "the children in care team", "the service as a whole"."""
    words = _team_words(team)
    return words if team == SERVICE or words.endswith(" team") else f"the {words} team"


def breach_rule(scn) -> BreachRule:
    """A scenario's breach rule, from its standards and its case-holding teams."""
    table = isinstance(scn.standards.manageable_caseload, dict)
    return BreachRule(round(scn.service_standard(), 1), scn.standards.breach_weeks,
                      tuple((t, scn.standard(t)) for t in scn.case_holding_teams()), service=not table)


def breach_rules(scenarios) -> dict[str, BreachRule]:
    """Each scenario's breach rule, keyed by scenario name."""
    return {s.name: breach_rule(s) for s in scenarios}


def _starts(values: np.ndarray, threshold: float, k: int) -> np.ndarray:
    over = ~(np.asarray(values, dtype=float) <= threshold)  # NaN counts as over: never read as manageable
    if over.size < k:
        return np.zeros(over.size, bool)
    full = np.convolve(over.astype(int), np.ones(k, int), mode="valid") == k
    return np.concatenate([full, np.zeros(k - 1, bool)])


def breach_starts(values: np.ndarray, rule: BreachRule) -> np.ndarray:
    """Weeks that begin a run of at least ``rule.weeks`` weeks above the service-wide threshold or missing (one
    series)."""
    return _starts(values, rule.threshold, rule.weeks)


def _covered(start: np.ndarray, k: int) -> np.ndarray:
    covered = np.zeros(start.size + k, bool)
    for i in np.flatnonzero(start):
        covered[i:i + k] = True
    return covered[:start.size]


def weeks_in_breach(values: np.ndarray, rule: BreachRule) -> int:
    """How many weeks of one series lie in a breach (a run of at least ``rule.weeks`` weeks over the service-wide
    threshold)."""
    return int(_covered(breach_starts(values, rule), rule.weeks).sum())


def _watched(part: pd.DataFrame, rule: BreachRule) -> list[tuple[str, np.ndarray, float]]:
    """The series of one replication the rule watches that the table has (older runs have no team columns)."""
    return [(name, part[col].to_numpy(), std) for name, col, std in rule.series() if col in part.columns]


def breach_weeks_any(part: pd.DataFrame, rule: BreachRule) -> int:
    """How many weeks of one replication some team (or the service) is in a breach."""
    covered = np.zeros(len(part), bool)
    for _, values, std in _watched(part, rule):
        covered |= _covered(_starts(values, std, rule.weeks), rule.weeks)
    return int(covered.sum())


def breaches_by_team(weekly: pd.DataFrame, rule: BreachRule) -> pd.DataFrame:
    """Per replication (rows) and watched series (columns: each team, then ``service``): the week its first breach
    begins, inf if none."""
    out = {}
    for rep, part in weekly.groupby("replication", sort=True):
        weeks = part["week"].to_numpy()
        row = {}
        for name, values, std in _watched(part, rule):
            starts = np.flatnonzero(_starts(values, std, rule.weeks))
            row[name] = float(weeks[starts[0]]) if starts.size else np.inf
        out[rep] = row
    return pd.DataFrame.from_dict(out, orient="index").rename_axis("replication")


def stays_manageable(columns: Mapping[str, np.ndarray], rule: BreachRule) -> bool:
    """Whether one replication, given as its weekly columns, has no breach in the whole run, in any team or the
    service: the headline's "stays manageable" (:func:`first_breach` is inf), read from its arrays as the replication
    finishes."""
    return not any(_starts(columns[col], std, rule.weeks).any() for _, col, std in rule.series() if col in columns)


def first_breach(weekly: pd.DataFrame, rule: BreachRule) -> pd.Series:
    """Per replication: the week (0 = the first) in which the first breach anywhere begins (in any team or the
    service as a whole); inf if none."""
    return breaches_by_team(weekly, rule).min(axis=1).rename(None)


def first_team(by_team: pd.DataFrame) -> pd.Series:
    """Per replication: where the first breach began (a team's name, or ``service``; the first in the rule's order
    on a tie), or "" when there was none."""
    first = by_team.idxmin(axis=1)
    return first.where(np.isfinite(by_team.min(axis=1)), "")
