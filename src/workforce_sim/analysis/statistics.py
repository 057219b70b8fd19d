"""Intervals for what replications estimate: the t interval of a mean, the bias-corrected bootstrap,
Wilson's interval of a chance, and an interval kept within what a measure can take."""

from __future__ import annotations

from functools import lru_cache, partial

import numpy as np
from scipy import special

from ..scenario.distributions import Law

# the normal and Student's t distributions' functions as scipy.stats computes them, from scipy.special alone
# (scipy.stats takes half a second to import, in every command); tests/test_distributions.py checks them bit for bit
NORMAL = Law(-np.inf, np.inf, special.ndtr, lambda x: special.ndtr(-x), special.ndtri)


def student_t(df: float) -> Law:
    """Student's t distribution with ``df`` degrees of freedom."""
    return Law(-np.inf, np.inf, partial(special.stdtr, df), lambda x: special.stdtr(df, -x),
               partial(special.stdtrit, df))


def mean_ci(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t confidence interval of independent replication values."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return np.nan, np.nan, np.nan
    m = float(v.mean())
    if v.size < 2:
        return m, np.nan, np.nan
    half = float(student_t(v.size - 1).ppf(0.5 + level / 2) * v.std(ddof=1) / np.sqrt(v.size))
    return m, m - half, m + half


def bootstrap_interval(values: np.ndarray, level: float = 0.95, resamples: int = 2000, seed: int = 20261127,
                       expand: bool = True):
    """Means of the columns of ``values`` (replications x measures) with bootstrap 95% intervals, ignoring
    NaN. Returns (mean, low, high), each one value per column.

    A bootstrap interval is made of means of the data resampled, so it never leaves the range of the
    data: a count's interval stays at or above 0 and a percentage's within 0 to 100, where the
    Student-t interval (:func:`mean_ci`) runs below zero for small skewed counts. The interval is
    the bias-corrected and accelerated one (BCa; Efron 1987), which corrects for skew, with its
    levels *expanded* for small samples (Hesterberg 2015, "What teachers should know about the
    bootstrap"): the normal quantile is replaced by ``sqrt(n / (n - 1))`` times Student's t with
    n - 1 degrees of freedom, since a plain bootstrap interval is too narrow with few replications
    (about 85% coverage at 6, 92% at 20, against 95%). It is computed for every column at once as
    one matrix product of resampling weights (thousands of columns in milliseconds, where
    ``scipy.stats.bootstrap`` takes a tenth of a second per call); the resampling seed is fixed,
    so a summary is the same every time it is made. Tests check it against scipy's BCa interval
    and check its coverage. ``expand=False`` gives the plain BCa interval (as scipy's).
    """
    x = np.asarray(values, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    n, k = x.shape
    ok = np.isfinite(x)
    count = ok.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(ok, x, 0.0).sum(axis=0) / count
    low, high = np.full(k, np.nan), np.full(k, np.nan)
    complete = np.flatnonzero(count == n)
    if n >= 2 and complete.size:
        lo, hi = _bca(x[:, complete], level, resamples, seed, expand)
        low[complete], high[complete] = lo, hi
    for j in np.flatnonzero((count < n) & (count >= 2)):  # replications with nothing to measure are left out
        lo, hi = _bca(x[ok[:, j], j][:, None], level, resamples, seed, expand)
        low[j], high[j] = lo[0], hi[0]
    return mean, low, high


@lru_cache(maxsize=16)
def resampling_weights(n: int, resamples: int, seed: int) -> np.ndarray:
    """The bootstrap's resampling weights (resamples x n): how often each of ``n`` values is drawn in each resample,
    over n. Drawn from ``seed`` once for each size and kept (read only): a summary asks for the same ones for every
    period and statistic of every option, and drawing them took a third of each interval's time."""
    rng = np.random.default_rng(seed)
    weights = rng.multinomial(n, np.full(n, 1.0 / n), size=resamples) / n
    weights.setflags(write=False)
    return weights


def _bca(x: np.ndarray, level: float, resamples: int, seed: int, expand: bool) -> tuple[np.ndarray, np.ndarray]:
    """(Expanded) BCa interval of the mean of each column of ``x`` (n x k, no NaN, n >= 2)."""
    n, k = x.shape
    mean = x.mean(axis=0)
    boot = resampling_weights(n, resamples, seed) @ x
    jack = (x.sum(axis=0) - x) / (n - 1)  # the mean with each replication left out in turn
    alpha = (1 - level) / 2
    z = (np.sqrt(n / (n - 1)) * student_t(n - 1).ppf([alpha, 1 - alpha]) if expand
         else NORMAL.ppf([alpha, 1 - alpha]))
    # every step column by column as before, done for all columns at once where that gives the same bits: a column's
    # maximum, minimum, count below the mean and elementwise sums; its jackknife mean and sums of the deviations'
    # powers summed along a row of the transposed table (pairwise, as a column alone); the dot product and its power
    # one by one
    low, high = mean.copy(), mean.copy()  # a column whose resampled means are all the same: nothing uncertain
    varied = np.flatnonzero(boot.max(axis=0) - boot.min(axis=0) > 1e-12 * np.maximum(1.0, np.abs(mean)))
    if not varied.size:
        return low, high
    b, m = boot[:, varied], mean[varied]
    share_below = (b < m).mean(axis=0) + 0.5 * (b == m).mean(axis=0)
    # (scipy.special's ndtri and ndtr are what stats.norm.ppf and .cdf compute, the same numbers, without their
    # argument checks: 0.1 us a call instead of 67, for each of thousands of columns a summary has)
    z0 = special.ndtri(np.minimum(np.maximum(share_below, 0.5 / resamples), 1 - 0.5 / resamples))[:, None]
    rows = np.ascontiguousarray(jack[:, varied].T)  # a column's jackknife means as a row
    d = rows.mean(axis=1)[:, None] - rows
    denom = np.array([6.0 * (dj @ dj) ** 1.5 for dj in d])  # (a number's power, as before: numpy's own for arrays)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(denom > 0, (d ** 3).sum(axis=1) / denom, 0.0)[:, None]
    levels = special.ndtr(z0 + (z0 + z) / (1 - a * (z0 + z)))
    low[varied], high[varied] = column_quantiles(b, levels.T)
    return low, high


def column_quantiles(x: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``np.quantile(x[:, j], q[:, j])`` for every column j of ``x`` (no NaN), each its own levels ``q`` (levels x
    columns), in one sort: numpy's linear method step by step (``numpy.lib._function_base_impl._quantile``: the
    same virtual index, neighbours and interpolation), so the same numbers to the bit, without numpy's Python
    steps for each column (the bootstrap's thousands of columns). A level that is not a number (which numpy refuses),
    and a column holding -0.0 (which numpy's partial sort may place either side of a 0.0), are left to numpy."""
    n = x.shape[0]
    ordered = np.sort(x, axis=0)
    virtual = np.where(np.isnan(q), 0.0, (n - 1) * q)  # (a level not a number: numpy's, below)
    below = np.floor(virtual)
    above = below + 1
    below[virtual >= n - 1] = above[virtual >= n - 1] = -1
    below[virtual < 0] = above[virtual < 0] = 0
    below, above = below.astype(np.intp), above.astype(np.intp)
    gamma = virtual - below
    cols = np.arange(x.shape[1])
    a, b = ordered[below, cols], ordered[above, cols]
    diff = b - a
    out = a + diff * gamma
    np.subtract(b, diff * (1 - gamma), out=out, where=gamma >= 0.5)
    for j in np.flatnonzero(np.isnan(q).any(axis=0) | (np.signbit(ordered) & (ordered == 0)).any(axis=0)):
        out[:, j] = np.quantile(x[:, j], q[:, j])
    return out


FEW_FOR_BOOTSTRAP = 5  # below this many replications the bootstrap cannot reach beyond the data


def bounded_interval(x: np.ndarray, edges: list[tuple[float, float]]):
    """(mean, low, high) of each column of ``x`` (replications x measures) within each column's
    (lowest, highest) possible value: the bootstrap interval (:func:`bootstrap_interval`), or with fewer
    than :data:`FEW_FOR_BOOTSTRAP` replications the Student-t interval cut at the range."""
    if len(x) >= FEW_FOR_BOOTSTRAP:
        return bootstrap_interval(x)
    cols = [mean_ci_within(x[:, j], low, high) for j, (low, high) in enumerate(edges)]
    return tuple(np.array(c, dtype=float) for c in zip(*cols)) if cols else (np.empty(0),) * 3


def mean_ci_within(values: np.ndarray, low: float, high: float) -> tuple[float, float, float]:
    """:func:`mean_ci` with the interval cut at what the measure can take (``low`` to ``high``): a t interval of a
    few replications can reach past it (a chance below 0, more weeks than the run)."""
    m, lo, hi = mean_ci(values)
    return m, float(np.clip(lo, low, high)), float(np.clip(hi, low, high))


# -- the headline answer ---------------------------------------------------------------------
def wilson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion k/n (sound near 0 and 1, unlike the normal interval)."""
    if n == 0:
        return np.nan, np.nan
    z = NORMAL.ppf(0.5 + level / 2)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    # at k = 0 (or n) the bound is exactly 0 (or 1): rounding in the sums leaves about 1e-17, which outputs would print
    low = 0.0 if k == 0 else max(0.0, centre - half)
    high = 1.0 if k == n else min(1.0, centre + half)
    return low, high


def wilson_half_width(p: float, n: int) -> float:
    """Half the width of the Wilson 95% interval of a share ``p`` observed in ``n`` trials."""
    lo, hi = wilson(round(p * n), n)
    return (hi - lo) / 2
