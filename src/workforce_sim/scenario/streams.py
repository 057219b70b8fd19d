"""Named, independent random streams.

Every random quantity in the model has a name ("arrivals.police",
"assessment_days", "turnover", ...). Its generator is seeded from the master
seed, the replication index and a stable code of the name alone, through
``numpy.random.SeedSequence``'s spawn key. So:

* the same (seed, replication, name) always gives the same numbers, whatever
  ran before, in whatever process or machine (serial, parallel, distributed);
* adding, removing or re-parameterising one part of the model never shifts the
  numbers another part draws, which gives common random numbers across
  scenarios for free.
"""

from __future__ import annotations

import zlib

import numpy as np


def stream_code(name: str) -> int:
    """A stable 32-bit code for a stream name (CRC-32 of its UTF-8 bytes)."""
    return zlib.crc32(name.encode("utf-8"))


class Streams:
    """Hands out one ``numpy.random.Generator`` per name for one replication."""

    def __init__(self, seed: int, replication: int):
        if seed < 0 or replication < 0:
            raise ValueError("seed and replication must be non-negative integers")
        self.seed = int(seed)
        self.replication = int(replication)
        self._made: dict[str, np.random.Generator] = {}

    def __call__(self, name: str) -> np.random.Generator:
        rng = self._made.get(name)
        if rng is None:
            ss = np.random.SeedSequence(self.seed, spawn_key=(self.replication, stream_code(name)))
            rng = np.random.Generator(np.random.PCG64(ss))
            self._made[name] = rng
        return rng
