"""Weekly measurement without per-entity wake-ups.

Flows (contacts, referrals, leavers, ...) are counted into the week in which
they happen, straight from their timestamps. A flow counted one event at a
time is added into its own list of weekly sums while the model runs (one
lookup of the week, one addition), and those sums into its weekly array when
the results are read; many events at once are binned in one vectorised pass.
Either way each week's amounts are added in the order they came. Stocks (open cases, caseloads,
staff) are read once a week by the weekly step from counters the other
modules keep up to date.
"""

from __future__ import annotations

from bisect import bisect_right

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
        self._bounds: list[float] = self.bounds.tolist()
        self._lo, self._hi, self._week = 0.0, 0.0, -1  # the week a count last fell in: [_lo, _hi) (none yet)
        # flow -> its week-by-week sums of what was counted one at a time, not yet added to its array: each week's
        # amounts added in the order they came, from 0.0, as np.bincount adds them
        self._noted: dict[str, list[float]] = {}

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
        sums = self._noted.get(name)
        if sums is None:
            self._check(name)
            sums = self._noted[name] = [0.0] * self.n_weeks
        if self._lo <= t < self._hi:  # the week last looked up (most counts are of now)
            w = self._week
        else:
            w = self._week_of(t)
            if 0 <= w < self.n_weeks:
                self._lo, self._hi, self._week = self._bounds[w], self._bounds[w + 1], w
        if t >= 0 and 0 <= w < self.n_weeks:
            sums[w] = sums[w] + k  # not +=: compiled, this adds two floats, not two Python objects

    def _week_of(self, t: float) -> int:
        """The week ``w`` with bounds[w] <= t < bounds[w + 1], as :meth:`_bin` finds it (``bisect_right(bounds, t) -
        1``: -1 before the run, n_weeks after it). Counts move on with the clock, so the few weeks after the one last
        found are tried first."""
        bounds, w = self._bounds, self._week
        if w >= 0 and t >= self._hi:  # bounds[w + 1] <= t: a later week
            stop = min(w + 4, self.n_weeks)
            w += 1
            while w < stop:
                if t < bounds[w + 1]:
                    return w
                w += 1
        return bisect_right(bounds, t) - 1

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
        for name, sums in self._noted.items():
            self.array(name)[:] += np.array(sums, dtype=float)
        self._noted.clear()
        return {k: self.array(k) for k in names}


def pct(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """100 * num / den, NaN where nothing was counted."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, 100.0 * num / np.where(den > 0, den, 1.0), np.nan)
