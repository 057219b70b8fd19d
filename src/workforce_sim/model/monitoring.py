"""Weekly measurement without per-entity wake-ups.

Flows (contacts, referrals, leavers, ...) are counted into the week in which
they happen, straight from their timestamps. Stocks (open cases, caseloads,
staff) are read once a week by the snapshot process from counters the other
modules keep up to date.
"""

from __future__ import annotations

from bisect import bisect_right

import numpy as np


class Monitor:
    def __init__(self, week_bounds: np.ndarray):
        self.bounds = [float(b) for b in week_bounds]
        self.n_weeks = len(self.bounds) - 1
        self.horizon = self.bounds[-1]
        self._arrays: dict[str, np.ndarray] = {}

    def array(self, name: str, dtype=float) -> np.ndarray:
        a = self._arrays.get(name)
        if a is None:
            a = self._arrays[name] = np.zeros(self.n_weeks, dtype=dtype)
        return a

    def week_of(self, t: float) -> int:
        """Index of the reporting week holding clock time ``t`` (-1 before, n_weeks after)."""
        if t < 0:
            return -1
        return bisect_right(self.bounds, t) - 1

    def count(self, name: str, t: float, k: float = 1.0) -> None:
        """Add ``k`` to flow ``name`` in the week of time ``t`` (ignored outside the run)."""
        w = self.week_of(t)
        if 0 <= w < self.n_weeks:
            self.array(name)[w] += k

    def count_many(self, name: str, times: np.ndarray, weights: np.ndarray | None = None) -> None:
        """:meth:`count` for many events at once (the same week rule: a time on a boundary is in the later week)."""
        w = np.searchsorted(self.bounds, times, side="right") - 1
        keep = (times >= 0) & (w >= 0) & (w < self.n_weeks)
        self.array(name)[:] += np.bincount(w[keep], weights=None if weights is None else weights[keep],
                                            minlength=self.n_weeks)[: self.n_weeks]

    def set(self, name: str, week: int, value: float) -> None:
        self.array(name)[week] = value

    def results(self) -> dict[str, np.ndarray]:
        return dict(self._arrays)


def pct(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """100 * num / den, NaN where nothing was counted."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, 100.0 * num / np.where(den > 0, den, 1.0), np.nan)
