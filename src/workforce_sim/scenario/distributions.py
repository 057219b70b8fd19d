"""Distributions that scenario files can name: durations, and settings that are not known.

Every distribution is written in a scenario as a small table, for example
``{ dist = "gamma", mean = 32, cv = 0.55 }``, and is given by its mean (and,
where it has one, its coefficient of variation) so that a planner can read it
without knowing the textbook parameters. Units come from the key that holds it
(``..._days`` are working days, ``..._weeks`` are weeks).

Each spec draws vectors from a ``numpy.random.Generator`` and can give its
mean, CDF and quantile function, which the model uses to start cases part way
through their duration (a residual draw) and the tests use to check theory.

An *uncertain setting* is different: it is one number whose true value nobody knows, written
in place of the number as ``{ uncertain = "uniform", low = 0.5, high = 2.5 }`` (also
``"triangular"`` and ``"normal"``). Ordinary runs use its ``central`` value; sensitivity
analysis and ``run --uncertainty`` use its range (see :mod:`workforce_sim.scenario.uncertainty`).
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Annotated, Any, Callable, Literal, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_serializer, model_validator
from scipy import special

# What a duration may be (issue 26, item 1): at most a century in weeks (5,218; a _days key allows as many working
# days, 20 years), and a coefficient of variation within what gamma and lognormal draws can take: 1 / cv**2 is a
# gamma's shape, which a cv of 1e-300 makes infinite and a cv of 1e200 zero.
DURATION_MAX = 5218.0
CV_MIN, CV_MAX = 0.01, 10.0
WEIGHT_MAX = 1e12
Duration = Annotated[float, Field(ge=0, le=DURATION_MAX)]
PositiveDuration = Annotated[float, Field(gt=0, le=DURATION_MAX)]
Cv = Annotated[float, Field(ge=CV_MIN, le=CV_MAX, description="coefficient of variation (standard deviation / mean)")]


class _Dist(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)  # nan and inf are refused

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:  # pragma: no cover - abstract
        """Draw ``n`` values using the random generator ``rng``."""
        raise NotImplementedError

    @property
    def mean_value(self) -> float:  # pragma: no cover - abstract
        """The distribution's mean, in the units of the key that holds it."""
        raise NotImplementedError

    def frozen(self):
        """The equivalent ``scipy.stats`` frozen distribution."""
        raise NotImplementedError  # pragma: no cover - abstract

    def law(self) -> Law | Any:
        """Its ``cdf``, ``sf`` and ``ppf``, as :meth:`frozen` computes them (a :class:`Law` where scipy.special
        suffices; the scipy.stats frozen distribution otherwise)."""
        return self.frozen()

    def sample_residual(self, rng: np.random.Generator, elapsed: np.ndarray) -> np.ndarray:
        """Remaining durations of items already ``elapsed`` into their duration.

        Draws D from the distribution conditioned on D > elapsed and returns
        D - elapsed (inverse CDF on the upper tail). Where the tail is empty
        (elapsed beyond the support) the item ends almost at once.
        """
        elapsed = np.asarray(elapsed, dtype=float)
        key = _key(self)
        d = law_of(self, key)
        u = rng.random(elapsed.shape)
        f0 = _cdf_of(key, d, elapsed)
        total = d.ppf(f0 + u * (1.0 - f0))
        rest = total - elapsed
        return np.where(np.isfinite(rest) & (rest > 0), rest, 1e-6)


_LAWS: dict[tuple[type, str], object] = {}
_CDF: dict[tuple[tuple[type, str], tuple[int, ...], bytes], np.ndarray] = {}  # (distribution, elapsed) -> its cdf


def _key(dist: _Dist | _Uncertain) -> tuple[type, str]:
    """What identifies a distribution for the caches below: its type and its settings."""
    return type(dist), dist.model_dump_json()


def _cdf_of(key: tuple[type, str], frozen, elapsed: np.ndarray) -> np.ndarray:
    """``frozen.cdf(elapsed)``, worked out once per distribution (``key``) and ``elapsed`` (a start state asks the
    same of every replication); the values are scipy's, read only."""
    ck = (key, elapsed.shape, elapsed.tobytes())
    got = _CDF.get(ck)
    if got is None:
        if len(_CDF) >= 4096:
            _CDF.clear()
        got = _CDF[ck] = np.asarray(frozen.cdf(elapsed), dtype=float)
        got.setflags(write=False)
    return got


def law_of(dist: _Dist | _Uncertain, key: tuple[type, str] | None = None) -> Law | Any:
    """``dist.law()``, made once per distinct distribution (scipy.stats takes about a millisecond to freeze one)."""
    key = _key(dist) if key is None else key
    got = _LAWS.get(key)
    if got is None:
        got = _LAWS[key] = dist.law()
    return got


def _stats():
    """scipy.stats, imported when first needed: it takes about half a second, and a run needs it only for a
    histogram's or an uncertain setting's quantiles (a :class:`Law` does the rest with scipy.special)."""
    from scipy import stats

    return stats


class Law:
    """A distribution's ``cdf``, ``sf`` and ``ppf`` as scipy.stats computes them for a frozen distribution, the
    same statements on the same numbers (so the same values, bit for bit: tests/test_distributions.py checks),
    with scipy.special alone. ``lo`` and ``hi`` bound the standard distribution's support, ``cdf``, ``sf`` and
    ``ppf`` are its functions (scipy's ``_cdf``, ``_sf``, ``_ppf``), ``loc`` and ``scale`` move and stretch it."""

    __slots__ = ("lo", "hi", "_cdf", "_sf", "_ppf", "loc", "scale")

    def __init__(self, lo: float, hi: float, cdf: Callable, sf: Callable, ppf: Callable, loc: float = 0.0,
                 scale: float = 1.0):
        self.lo, self.hi, self._cdf, self._sf, self._ppf = lo, hi, cdf, sf, ppf
        self.loc, self.scale = loc, scale

    def _standard(self, x) -> tuple[np.ndarray, np.ndarray]:
        x = np.asarray(x)
        z = np.asarray((x - self.loc) / self.scale, dtype=np.promote_types(x.dtype, np.float64))
        with np.errstate(invalid="ignore"):
            return z, (self.lo < z) & (z < self.hi)

    @staticmethod
    def _out(out: np.ndarray):
        return out[()] if out.ndim == 0 else out

    def cdf(self, x):
        """P(X <= x)."""
        z, inside = self._standard(x)
        out = np.zeros(z.shape, z.dtype)
        out[np.isnan(z)] = np.nan
        out[z >= self.hi] = 1.0
        if inside.any():
            out[inside] = self._cdf(z[inside])
        return self._out(out)

    def sf(self, x):
        """P(X > x)."""
        z, inside = self._standard(x)
        out = np.zeros(z.shape, z.dtype)
        out[np.isnan(z)] = np.nan
        out[z <= self.lo] = 1.0
        if inside.any():
            out[inside] = self._sf(z[inside])
        return self._out(out)

    def ppf(self, q):
        """The value below which a share ``q`` of the distribution lies."""
        q = np.asarray(q)
        out = np.full(q.shape, np.nan)
        out[q == 0] = self.lo * self.scale + self.loc
        out[q == 1] = self.hi * self.scale + self.loc
        inside = (0 < q) & (q < 1)
        if inside.any():
            out[inside] = self._ppf(q[inside]) * self.scale + self.loc
        return self._out(out)


def _uniform_law(loc: float, scale: float) -> Law:
    """scipy.stats.uniform(loc, scale) as a :class:`Law`."""
    same = np.positive  # (scipy's uniform: the standard cdf and ppf are the identity, the sf 1 - x)
    return Law(0.0, 1.0, same, lambda x: 1.0 - x, same, loc=loc, scale=scale)


class Exponential(_Dist):
    """A memoryless duration given by its mean (its standard deviation equals the mean)."""

    dist: Literal["exponential"]
    mean: PositiveDuration

    def sample(self, rng, n):
        """Draw ``n`` values from an exponential distribution with this mean."""
        return rng.exponential(self.mean, n)

    @property
    def mean_value(self):
        """The mean, as given."""
        return self.mean

    def frozen(self):
        """The matching ``scipy.stats`` exponential distribution."""
        return _stats().expon(scale=self.mean)

    def law(self):
        """scipy.stats.expon's functions, from scipy.special."""
        return Law(0.0, np.inf, lambda x: -special.expm1(-x), lambda x: np.exp(-x), lambda q: -special.log1p(-q),
                   scale=self.mean)


class Gamma(_Dist):
    """A duration given by its mean and coefficient of variation, drawn from a gamma distribution."""

    dist: Literal["gamma"]
    mean: PositiveDuration
    cv: Cv

    def sample(self, rng, n):
        """Draw ``n`` values from a gamma distribution with this mean and coefficient of variation."""
        k = 1.0 / self.cv**2
        return rng.gamma(k, self.mean / k, n)

    @property
    def mean_value(self):
        """The mean, as given."""
        return self.mean

    def frozen(self):
        """The matching ``scipy.stats`` gamma distribution."""
        k = 1.0 / self.cv**2
        return _stats().gamma(k, scale=self.mean / k)

    def law(self):
        """scipy.stats.gamma's functions, from scipy.special."""
        k = 1.0 / self.cv**2
        return Law(0.0, np.inf, partial(special.gammainc, k), partial(special.gammaincc, k),
                   partial(special.gammaincinv, k), scale=self.mean / k)


class LogNormal(_Dist):
    """A duration with a long right tail, given by its mean and coefficient of variation."""

    dist: Literal["lognormal"]
    mean: PositiveDuration
    cv: Cv

    def _params(self):
        s2 = np.log1p(self.cv**2)
        return np.log(self.mean) - s2 / 2.0, np.sqrt(s2)

    def sample(self, rng, n):
        """Draw ``n`` values from a lognormal distribution with this mean and coefficient of variation."""
        mu, s = self._params()
        return rng.lognormal(mu, s, n)

    @property
    def mean_value(self):
        """The mean, as given."""
        return self.mean

    def frozen(self):
        """The matching ``scipy.stats`` lognormal distribution."""
        mu, s = self._params()
        return _stats().lognorm(s, scale=np.exp(mu))

    def law(self):
        """scipy.stats.lognorm's functions, from scipy.special."""
        mu, s = self._params()
        return Law(0.0, np.inf, lambda x: special.ndtr(np.log(x) / s), lambda x: special.ndtr(-(np.log(x) / s)),
                   lambda q: np.exp(s * special.ndtri(q)), scale=np.exp(mu))


class Fixed(_Dist):
    """A duration that always takes the same value."""

    dist: Literal["fixed"]
    value: Duration

    def sample(self, rng, n):
        """Return ``n`` copies of the value (``rng`` is not used)."""
        return np.full(n, float(self.value))

    @property
    def mean_value(self):
        """The value itself."""
        return self.value

    def frozen(self):
        """A ``scipy.stats`` uniform distribution squeezed onto the value, so its CDF and quantiles work."""
        return _stats().uniform(loc=self.value, scale=1e-9)

    def law(self):
        """scipy.stats.uniform's functions, squeezed onto the value as :meth:`frozen` is."""
        return _uniform_law(self.value, 1e-9)


class Uniform(_Dist):
    """A duration spread evenly between ``low`` and ``high``."""

    dist: Literal["uniform"]
    low: Duration
    high: PositiveDuration

    @model_validator(mode="after")
    def _order(self):
        if self.high <= self.low:
            raise ValueError(f"high ({self.high}) must be greater than low ({self.low})")
        return self

    def sample(self, rng, n):
        """Draw ``n`` values evenly between ``low`` and ``high``."""
        return rng.uniform(self.low, self.high, n)

    @property
    def mean_value(self):
        """The midpoint of ``low`` and ``high``."""
        return (self.low + self.high) / 2.0

    def frozen(self):
        """The matching ``scipy.stats`` uniform distribution."""
        return _stats().uniform(loc=self.low, scale=self.high - self.low)

    def law(self):
        """scipy.stats.uniform's functions, from low to high."""
        return _uniform_law(self.low, self.high - self.low)


class Empirical(_Dist):
    """A histogram: ``edges`` are bin boundaries, ``weights`` the share (or count) in each bin.

    Values are uniform within a bin, so published tables such as DfE's
    "assessments by working days taken" can be used directly.
    """

    dist: Literal["empirical"]
    edges: list[Duration] = Field(min_length=2, max_length=1001)
    weights: list[Annotated[float, Field(ge=0, le=WEIGHT_MAX)]] = Field(min_length=1, max_length=1000)

    @model_validator(mode="after")
    def _shape(self):
        if len(self.weights) != len(self.edges) - 1:
            raise ValueError(
                f"needs one weight per bin: {len(self.edges)} edges make "
                f"{len(self.edges) - 1} bins but {len(self.weights)} weights were given"
            )
        if any(b <= a for a, b in zip(self.edges, self.edges[1:])):
            raise ValueError("edges must increase")
        if self.edges[0] < 0:
            raise ValueError("edges must not be negative")
        if any(w < 0 for w in self.weights) or sum(self.weights) <= 0:
            raise ValueError("weights must be non-negative and not all zero")
        return self

    def _probs(self):
        w = np.asarray(self.weights, dtype=float)
        return w / w.sum()

    def sample(self, rng, n):
        """Draw ``n`` values: a bin chosen by its weight, then a point uniformly within it."""
        e = np.asarray(self.edges, dtype=float)
        cum = np.concatenate([[0.0], np.cumsum(self._probs())])
        u = rng.random(n)
        return np.interp(u, cum, e)

    @property
    def mean_value(self):
        """The histogram's mean: each bin's midpoint weighted by its share."""
        e = np.asarray(self.edges, dtype=float)
        return float(np.sum(self._probs() * (e[:-1] + e[1:]) / 2.0))

    def frozen(self):
        """The matching ``scipy.stats`` histogram distribution."""
        e = np.asarray(self.edges, dtype=float)
        return _stats().rv_histogram((self._probs(), e), density=False)

    def law(self):
        """scipy.stats.rv_histogram's functions (``density=False``), built as it builds them, from numpy."""
        e = np.asarray(self.edges, dtype=float)
        widths = e[1:] - e[:-1]
        pdf = self._probs() / widths
        pdf = pdf / float(np.sum(pdf * widths))
        cdf = np.hstack([0.0, np.cumsum(pdf * widths)])
        return Law(e[0], e[-1], lambda x: np.interp(x, e, cdf), lambda x: 1.0 - np.interp(x, e, cdf),
                   lambda q: np.interp(q, cdf, e))


Distribution = Annotated[
    Union[Exponential, Gamma, LogNormal, Fixed, Uniform, Empirical],
    Field(discriminator="dist"),
]
"""Any one of the distributions above, chosen by its ``dist`` key."""


# -- settings that are not known ------------------------------------------------------------
class _Uncertain(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    label: str = Field("", max_length=120, description="the setting in a few plain words, for tables and reports")
    source: str = Field("", max_length=300, description="where the range comes from, in a few words")
    if TYPE_CHECKING:  # every kind has them, each in its own place among its fields
        low: float
        high: float

    @model_validator(mode="after")
    def _order(self):
        """low below high, and the central value (where one is given) from low to high."""
        if self.high <= self.low:
            raise ValueError(f"high ({self.high:g}) must be greater than low ({self.low:g})")
        central = getattr(self, "central", None)
        if central is not None and not self.low <= central <= self.high:
            raise ValueError(f"central ({central:g}) must be from low ({self.low:g}) to high ({self.high:g})")
        return self

    @model_serializer(mode="wrap")
    def _written(self, handler):
        """As a scenario file would say it: the kind first, and no empty label, source or central."""
        out = handler(self)
        tag = {"uncertain": out.pop("uncertain")}
        return tag | {k: v for k, v in out.items() if v not in ("", None)}

    @property
    def central_value(self) -> float:  # pragma: no cover - abstract
        """The value ordinary runs use."""
        raise NotImplementedError

    @property
    def range(self) -> tuple[float, float]:
        """The lowest and highest values the setting can take (a one-at-a-time analysis puts it at each)."""
        return float(self.low), float(self.high)

    def frozen(self):  # pragma: no cover - abstract
        """The equivalent ``scipy.stats`` frozen distribution."""
        raise NotImplementedError

    def law(self) -> Law | Any:
        """Its ``cdf``, ``sf`` and ``ppf``, as :meth:`frozen` computes them."""
        return self.frozen()

    def ppf(self, u) -> np.ndarray:
        """The values at quantiles ``u`` (0 to 1): the map from a unit-cube sample to the setting."""
        u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
        return np.clip(law_of(self).ppf(u), self.low, self.high)

    def describe(self, show: Callable[[float], str] | None = None) -> str:
        """The distribution in a few words: "uniform from 0.5 to 2.5" (``show`` writes each value; default as a
        scenario file would, e.g. 0.04, where tables may want 4%)."""
        raise NotImplementedError  # pragma: no cover - abstract


def _g(x: float) -> str:
    return f"{x:g}"


class UncertainUniform(_Uncertain):
    """Any value from ``low`` to ``high`` equally likely; ordinary runs use ``central`` (default: the midpoint)."""

    uncertain: Literal["uniform"]
    low: float
    high: float
    central: float | None = Field(None, description="the value ordinary runs use (default: halfway from low to high)")


    @property
    def central_value(self) -> float:
        """``central``, or the midpoint of the range."""
        return float(self.central) if self.central is not None else (self.low + self.high) / 2.0

    def frozen(self):
        """The matching ``scipy.stats`` uniform distribution."""
        return _stats().uniform(loc=self.low, scale=self.high - self.low)

    def law(self):
        """scipy.stats.uniform's functions, from low to high."""
        return _uniform_law(self.low, self.high - self.low)

    def describe(self, show: Callable[[float], str] | None = None) -> str:
        """The distribution in a few words."""
        g = show or _g
        return f"uniform from {g(self.low)} to {g(self.high)}"


class UncertainTriangular(_Uncertain):
    """A value from ``low`` to ``high``, ``central`` the most likely (a triangle peaking there)."""

    uncertain: Literal["triangular"]
    low: float
    central: float = Field(description="the most likely value, which ordinary runs use")
    high: float


    @property
    def central_value(self) -> float:
        """The most likely value."""
        return float(self.central)

    def frozen(self):
        """The matching ``scipy.stats`` triangular distribution."""
        width = self.high - self.low
        return _stats().triang((self.central - self.low) / width, loc=self.low, scale=width)

    def describe(self, show: Callable[[float], str] | None = None) -> str:
        """The distribution in a few words."""
        g = show or _g
        return f"triangular from {g(self.low)} to {g(self.high)}, most likely {g(self.central)}"


class UncertainNormal(_Uncertain):
    """A normal distribution around ``mean`` with standard deviation ``sd``, cut at ``low`` and ``high``
    (so that every value drawn is one the setting allows)."""

    uncertain: Literal["normal"]
    mean: float = Field(description="the most likely value, which ordinary runs use")
    sd: float = Field(gt=0, description="standard deviation")
    low: float = Field(description="no value below this is drawn")
    high: float = Field(description="no value above this is drawn")

    @model_validator(mode="after")
    def _mean_inside(self):
        if not self.low < self.mean < self.high:
            raise ValueError(f"mean ({self.mean:g}) must be between low ({self.low:g}) and high ({self.high:g})")
        return self

    @property
    def central_value(self) -> float:
        """The mean."""
        return float(self.mean)

    def frozen(self):
        """The matching ``scipy.stats`` truncated normal distribution."""
        return _stats().truncnorm((self.low - self.mean) / self.sd, (self.high - self.mean) / self.sd,
                               loc=self.mean, scale=self.sd)

    def describe(self, show: Callable[[float], str] | None = None) -> str:
        """The distribution in a few words."""
        g = show or _g
        return f"normal, mean {g(self.mean)}, sd {g(self.sd)}, cut at {g(self.low)} and {g(self.high)}"


UncertainSetting = Annotated[
    Union[UncertainUniform, UncertainTriangular, UncertainNormal],
    Field(discriminator="uncertain"),
]
"""A setting whose value is not known, chosen by its ``uncertain`` key."""
UNCERTAIN_KINDS = ("uniform", "triangular", "normal")
