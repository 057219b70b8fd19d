"""Simulated results kept on this computer, so that the same simulation is not run twice.

An entry is a few weekly columns, (replications x weeks) arrays, kept under a key that names everything they
depend on: what was simulated, the seed, the length and number of simulated futures, and the code that simulated
them (:func:`code_fingerprint`: the model's and the scenario layer's source, the package's version, and the
versions of Python, NumPy, SciPy and SimPy). Whatever is worked out from the columns is worked out afresh each
time, so a change to how that is done needs no clearing of the cache.

The cache lives in ``$XDG_CACHE_HOME/workforce_sim`` (``~/.cache/workforce_sim`` when that is not set), or in the
folder named by the environment variable ``WORKFORCE_SIM_CACHE``; ``WORKFORCE_SIM_CACHE=off`` turns it off.
Deleting the folder clears it. Entries are written whole or not at all (:func:`workforce_sim.runs.files.atomic_write`);
one that cannot be read, or does not match its key, is ignored (and replaced when the work is done again), never
an error.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
from pathlib import Path
from typing import Any

import numpy as np

from ..version import __version__
from .files import atomic_write

ENV = "WORKFORCE_SIM_CACHE"
OFF = {"off", "no", "none", "false", "0"}  # values of WORKFORCE_SIM_CACHE that turn the cache off
KEY = "__key__"  # the entry's key, kept inside it beside the columns
FORMAT = 1  # how entries are laid out: a change here makes every older entry a miss
SOURCES = ("model", "scenario")  # the package folders whose source decides what a simulation gives
LIBRARIES = ("numpy", "scipy", "simpy")


def cache_root() -> Path | None:
    """The cache's folder, or None when the cache is off."""
    given = os.environ.get(ENV, "").strip()
    if given:
        return None if given.lower() in OFF else Path(given).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "workforce_sim"


def source_hash(package: Path) -> str:
    """A hash of the path and bytes of every .py file in the :data:`SOURCES` folders of ``package``."""
    h = hashlib.sha256()
    for folder in SOURCES:
        for path in sorted((package / folder).rglob("*.py")):
            h.update(path.relative_to(package).as_posix().encode())
            h.update(b"\0")
            h.update(path.read_bytes())
            h.update(b"\0")
    return h.hexdigest()


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A hash of what decides a simulation's numbers besides its inputs: the source of the model and scenario
    layers (:func:`source_hash`), the package's version, and the versions of Python and the numerical libraries."""
    from importlib.metadata import PackageNotFoundError, version

    versions = {"source": source_hash(Path(__file__).resolve().parents[1]), "workforce_sim": __version__,
                "python": platform.python_version()}
    for lib in LIBRARIES:
        try:
            versions[lib] = version(lib)
        except PackageNotFoundError:
            versions[lib] = "none"
    return hashlib.sha256(json.dumps(versions, sort_keys=True).encode()).hexdigest()


def _key_text(key: dict) -> str:
    return json.dumps({**key, "format": FORMAT, "code": code_fingerprint()}, sort_keys=True, default=str)


def entry_path(kind: str, key: dict) -> Path | None:
    """Where the entry for ``key`` is kept among those of ``kind`` (a folder name, e.g. ``start-state``), or None
    when the cache is off."""
    root = cache_root()
    if root is None:
        return None
    return root / kind / f"{hashlib.sha256(_key_text(key).encode()).hexdigest()}.npz"


def load(kind: str, key: dict, columns: list[str], shape: tuple[int, int]) -> dict[str, np.ndarray] | None:
    """The kept ``columns`` for ``key``, each a float array of ``shape``; None when there is no usable entry."""
    path = entry_path(kind, key)
    if path is None or not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            if str(z[KEY]) != _key_text(key):
                return None
            arrays = {c: np.asarray(z[c], dtype=float) for c in columns}
    except Exception:  # noqa: BLE001 - a damaged or unreadable entry is a miss: the work is done again
        return None
    if any(a.shape != shape for a in arrays.values()):
        return None
    return arrays


def save(kind: str, key: dict, arrays: dict[str, np.ndarray]) -> Path | None:
    """Keep ``arrays`` for ``key``; returns where, or None when the cache is off or cannot be written (a cache
    that cannot be written only means the work is done again next time)."""
    path = entry_path(kind, key)
    if path is None:
        return None
    text = _key_text(key)
    try:
        contents: dict[str, Any] = {KEY: np.array(text), **arrays}
        atomic_write(path, lambda fh: np.savez_compressed(fh, **contents), binary=True)
    except OSError:
        return None
    return path
