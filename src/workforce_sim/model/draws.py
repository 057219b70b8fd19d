"""Random quantities handed out one at a time, drawn in blocks.

One buffer owns one random stream (:mod:`workforce_sim.scenario.streams`), so the values it hands out
depend only on how many were asked of it before: draws for one quantity never shift the draws for
another (common random numbers across scenarios). Each block is drawn by numpy in one call and kept
as Python floats, which the model's arithmetic uses without conversion.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class BufferedSampler:
    """Draws from one distribution (a scenario's ``dist`` setting) in blocks; scaling (e.g. weeks to working days)
    is applied here."""

    __slots__ = ("_dist", "_rng", "_scale", "_buf", "_i", "_n", "_block")

    def __init__(self, dist: Any, rng: np.random.Generator, scale: float = 1.0, block: int = 512):
        self._dist, self._rng, self._scale, self._block = dist, rng, scale, block
        self._buf: list[float] = []
        self._i = 0
        self._n = 0

    def draw(self) -> float:
        """The next value."""
        if self._i >= self._n:
            self._buf = (self._dist.sample(self._rng, self._block) * self._scale).tolist()
            self._i, self._n = 0, len(self._buf)
        v = self._buf[self._i]
        self._i += 1
        return v


class UniformBuffer:
    """Uniform(0, 1) numbers from one stream, drawn in blocks."""

    __slots__ = ("_rng", "_buf", "_i", "_n", "_block")

    def __init__(self, rng: np.random.Generator, block: int = 1024):
        self._rng, self._block = rng, block
        self._buf: list[float] = []
        self._i = 0
        self._n = 0

    def draw(self) -> float:
        """The next number."""
        if self._i >= self._n:
            self._buf = self._rng.random(self._block).tolist()
            self._i, self._n = 0, len(self._buf)
        v = self._buf[self._i]
        self._i += 1
        return v
