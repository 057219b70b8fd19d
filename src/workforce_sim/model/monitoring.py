"""Weekly measurement without per-entity wake-ups.

Flows (contacts, referrals, leavers, ...) are counted into the week in which
they happen, straight from their timestamps. A flow counted one event at a
time is only noted (its time and amount appended to two lists) while the model
runs, and binned into weeks in one vectorised pass when the results are read;
the sums are the same, added in the same order. Stocks (open cases, caseloads,
staff) are read once a week by the snapshot process from counters the other
modules keep up to date.
"""

from __future__ import annotations

import numpy as np


class Monitor:
    """Weekly flows and stocks of one replication, under names declared in :mod:`.measures`.

    Every declared flow and stock starts as a week-by-week array of zeros (a flow nothing
    happened to is truly zero); a name that is not declared raises ``KeyError`` the first
    time it is counted, set or read, so a misspelt key cannot become a silent column.
    """

    def __init__(self, week_bounds: np.ndarray, declared: set[str]):
        self.bounds = np.asarray(week_bounds, dtype=float)
        self.n_weeks = len(self.bounds) - 1
        self.declared = frozenset(declared)
        self._arrays: dict[str, np.ndarray] = {}
        self._noted: dict[str, tuple[list[float], list[float]]] = {}  # flow -> (times, amounts) not yet binned

    def _check(self, name: str) -> None:
        if name not in self.declared:
            raise KeyError(f"{name!r} is not a declared measure: declare it in workforce_sim/model/measures.py")

    def array(self, name: str, dtype=float) -> np.ndarray:
        """The weekly array of ``name`` (created at zero on first use)."""
        a = self._arrays.get(name)
        if a is None:
            self._check(name)
            a = self._arrays[name] = np.zeros(self.n_weeks, dtype=dtype)
        return a

    def count(self, name: str, t: float, k: float = 1.0) -> None:
        """Add ``k`` to flow ``name`` in the week of time ``t`` (ignored outside the run; binned by :meth:`results`)."""
        noted = self._noted.get(name)
        if noted is None:
            self._check(name)
            noted = self._noted[name] = ([], [])
        noted[0].append(t)
        noted[1].append(k)

    def count_many(self, name: str, times: np.ndarray, weights: np.ndarray | None = None) -> None:
        """:meth:`count` for many events at once (the same week rule: a time on a boundary is in the later week)."""
        self._bin(name, np.asarray(times, dtype=float), weights)

    def _bin(self, name: str, times: np.ndarray, weights) -> None:
        w = np.searchsorted(self.bounds, times, side="right") - 1
        keep = (times >= 0) & (w >= 0) & (w < self.n_weeks)
        self.array(name)[:] += np.bincount(w[keep], weights=None if weights is None else np.asarray(weights)[keep],
                                            minlength=self.n_weeks)[: self.n_weeks]

    def set(self, name: str, week: int, value: float | np.floating) -> None:
        """Set stock ``name`` for ``week``."""
        a = self._arrays.get(name)  # :meth:`array` inlined: many stocks are set every week
        if a is None:
            a = self.array(name)
        a[week] = value

    def results(self, names) -> dict[str, np.ndarray]:
        """The weekly arrays of ``names`` (flows noted one at a time are binned now; zeros where nothing happened)."""
        for name, (times, amounts) in self._noted.items():
            self._bin(name, np.array(times, dtype=float), np.array(amounts, dtype=float))
        self._noted.clear()
        return {k: self.array(k) for k in names}


def pct(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """100 * num / den, NaN where nothing was counted."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, 100.0 * num / np.where(den > 0, den, 1.0), np.nan)
