"""A distribution's cdf, sf and ppf without scipy.stats (scenario/distributions.py's ``Law``) are scipy.stats' own
numbers, bit for bit: the model and the summaries use them so that no command imports scipy.stats (half a second
in every command and worker), and a start state's residual durations, care's survival and every interval must not
move by one bit for it."""

import subprocess
import sys

import numpy as np
from hypothesis import given, settings, strategies as st
from scipy import stats

from workforce_sim.analysis.statistics import NORMAL, student_t
from workforce_sim.scenario.distributions import (
    Empirical,
    Exponential,
    Fixed,
    Gamma,
    LogNormal,
    UncertainNormal,
    UncertainTriangular,
    UncertainUniform,
    Uniform,
)

means = st.floats(0.05, 500.0)
cvs = st.floats(0.05, 5.0)


def _points(spec, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Values around and beyond the distribution's support, and quantiles with 0, 1 and the edges of the unit."""
    rng = np.random.default_rng(seed)
    frozen = spec.frozen()
    inner = frozen.ppf(rng.random(200))
    x = np.concatenate([inner, inner * 3, [-1.0, 0.0, 1e-300, np.inf, -np.inf, np.nan], rng.normal(0, 50, 50)])
    q = np.concatenate([rng.random(200), [0.0, 1.0, 1e-300, 1 - 1e-16, -0.1, 1.1, np.nan]])
    return x, q


def _same_bits(a, b) -> None:
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    assert a.tobytes() == b.tobytes(), np.flatnonzero(a.view(np.uint8) != b.view(np.uint8))[:5]


def _check(spec, seed: int) -> None:
    law, frozen = spec.law(), spec.frozen()
    assert not isinstance(law, type(frozen))  # the check compares two computations, not one with itself
    x, q = _points(spec, seed)
    for name, args in (("cdf", x), ("sf", x), ("ppf", q)):
        with np.errstate(all="ignore"):
            _same_bits(getattr(law, name)(args), getattr(frozen, name)(args))
            for one in args[:3].tolist() + [int(abs(np.nan_to_num(args[0]))), 0]:  # scalars, floats and ints
                _same_bits(getattr(law, name)(one), getattr(frozen, name)(one))


@settings(max_examples=40, deadline=None)
@given(means, cvs, st.integers(0, 2**32))
def test_gamma_and_lognormal_are_scipys_bit_for_bit(mean, cv, seed):
    _check(Gamma(dist="gamma", mean=mean, cv=cv), seed)
    _check(LogNormal(dist="lognormal", mean=mean, cv=cv), seed)


@settings(max_examples=30, deadline=None)
@given(means, st.floats(-100, 100), st.floats(0.01, 100), st.integers(0, 2**32))
def test_exponential_uniform_and_fixed_are_scipys_bit_for_bit(mean, low, width, seed):
    _check(Exponential(dist="exponential", mean=mean), seed)
    _check(Uniform(dist="uniform", low=abs(low), high=abs(low) + width), seed)
    _check(Fixed(dist="fixed", value=mean), seed)
    _check(UncertainUniform(uncertain="uniform", low=low, high=low + width), seed)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(0.0, 50.0), min_size=1, max_size=8), st.floats(0.1, 20.0), st.integers(0, 2**32))
def test_a_histogram_is_scipys_rv_histogram_bit_for_bit(weights, step, seed):
    if sum(weights) <= 0:
        weights[0] = 1.0
    edges = [i * step for i in range(len(weights) + 1)]
    _check(Empirical(dist="empirical", edges=edges, weights=weights), seed)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 400), st.integers(0, 2**32))
def test_normal_and_student_t_are_scipys_bit_for_bit(df, seed):
    q = np.concatenate([np.random.default_rng(seed).random(50), [0.0, 1.0, 0.5, 0.975, 0.025, -1.0, np.nan]])
    for law, frozen in ((NORMAL, stats.norm()), (student_t(df), stats.t(df))):
        with np.errstate(all="ignore"):
            _same_bits(law.ppf(q), frozen.ppf(q))
            _same_bits(law.ppf(0.975), frozen.ppf(0.975))
            _same_bits(law.cdf(q * 10 - 5), frozen.cdf(q * 10 - 5))
            _same_bits(law.sf(q * 10 - 5), frozen.sf(q * 10 - 5))


def test_triangular_and_truncated_normal_settings_still_use_scipy():
    """The uncommon kinds keep scipy.stats' own functions (imported when first needed)."""
    tri = UncertainTriangular(uncertain="triangular", low=0.0, central=1.0, high=3.0)
    cut = UncertainNormal(uncertain="normal", mean=1.0, sd=0.5, low=0.0, high=2.0)
    u = np.linspace(0, 1, 11)
    assert np.array_equal(tri.ppf(u), stats.triang(1 / 3, loc=0.0, scale=3.0).ppf(u))
    assert np.array_equal(cut.ppf(u), np.clip(cut.frozen().ppf(u), 0.0, 2.0))


def test_a_command_and_a_replication_do_without_scipy_stats():
    """What the laws are for: the command line and a replication of each kind of bundled council never import it."""
    code = ("import sys, workforce_sim.cli\n"
            "from workforce_sim import load_scenario\n"
            "from workforce_sim.model import simulate\n"
            "for name in ('baseline', 'herefordshire-2019', 'combined-package'):\n"
            "    simulate(load_scenario(name), 1, 0, 26)\n"
            "print('scipy.stats' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
