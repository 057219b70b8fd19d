"""When caseloads stop being manageable: the breach rule (above a threshold for some weeks running, or cases
nobody holds), and when each simulated future first breaches it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

MANAGEABLE_MEASURE = "caseload_incl_unallocated"


MANAGEABLE_MEANING = ("caseloads count waiting (unallocated) children against the staff who would hold them, and a "
                      "breach is that caseload above the threshold for {weeks} weeks running, or open cases with "
                      "nobody to hold them")


@dataclass(frozen=True)
class BreachRule:
    """When caseloads stop being manageable: the manageable measure (allocated plus unallocated cases per
    case-holding FTE) above ``threshold``, or missing (open cases and no case-holding staff), for ``weeks``
    consecutive weeks."""

    threshold: float
    weeks: int = 4

    def describe(self) -> str:
        """The rule in one sentence for a reader."""
        return (f"Threshold: {self.threshold:g} cases per case-holding FTE, averaged over the service (individual "
                f"workers may be above it); " + MANAGEABLE_MEANING.format(weeks=self.weeks) + ".")


def breach_rules(scenarios) -> dict[str, BreachRule]:
    """Each scenario's breach rule, from its standards, keyed by scenario name."""
    return {s.name: BreachRule(s.standards.manageable_caseload, s.standards.breach_weeks) for s in scenarios}


def breach_starts(values: np.ndarray, rule: BreachRule) -> np.ndarray:
    """Weeks that begin a run of at least ``rule.weeks`` weeks above the threshold or missing (one series)."""
    over = ~(np.asarray(values, dtype=float) <= rule.threshold)  # NaN counts as over: never read as manageable
    k = rule.weeks
    if over.size < k:
        return np.zeros(over.size, bool)
    full = np.convolve(over.astype(int), np.ones(k, int), mode="valid") == k
    return np.concatenate([full, np.zeros(k - 1, bool)])


def weeks_in_breach(values: np.ndarray, rule: BreachRule) -> int:
    """How many weeks of one series lie in a breach (a run of at least ``rule.weeks`` weeks over)."""
    start = breach_starts(values, rule)
    covered = np.zeros(start.size + rule.weeks, int)
    for i in np.flatnonzero(start):
        covered[i:i + rule.weeks] = 1
    return int(covered.sum())


def first_breach(weekly: pd.DataFrame, rule: BreachRule) -> pd.Series:
    """Per replication: the week (0 = the first) in which the first breach begins; inf if none."""
    out = {}
    for rep, part in weekly.groupby("replication", sort=True):
        starts = np.flatnonzero(breach_starts(part[MANAGEABLE_MEASURE].to_numpy(), rule))
        out[rep] = float(part["week"].to_numpy()[starts[0]]) if starts.size else np.inf
    return pd.Series(out, dtype=float).rename_axis("replication")


