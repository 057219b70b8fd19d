"""Finished replications on disk, so an interrupted run loses only what was in flight.

Each finished chunk of replications is written at once (atomically) into
``OUT/.partial/``, beside a description of the run it belongs to. ``--resume``
reads them back and runs only the replications that are missing; the final
outputs are assembled from the stored arrays, so they are identical to an
uninterrupted run's. When a run completes, the partial folder is removed.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import numpy as np

from .files import atomic_write

PARTIAL = ".partial"


class StoreMismatch(Exception):
    """The folder holds part of a different run."""


class ReplicationStore:
    """The finished replications of one run, kept in ``OUT/.partial/`` until the run completes."""

    def __init__(self, out_dir: Path, identity: dict):
        self.dir = Path(out_dir) / PARTIAL
        self.identity = identity

    # -- lifecycle -----------------------------------------------------------------------
    def exists(self) -> bool:
        """Whether a run has been started in this folder."""
        return (self.dir / "run.json").is_file()

    def open(self, resume: bool) -> None:
        """Start afresh, or (with ``resume``) continue the run stored here."""
        if resume and self.exists():
            stored = json.loads((self.dir / "run.json").read_text(encoding="utf-8"))
            if stored != json.loads(json.dumps(self.identity, default=str)):
                raise StoreMismatch(
                    f"{self.dir.parent} holds an unfinished run with different scenarios, seed or length; "
                    "run it again as it was, or choose another --out folder")
            return
        if self.dir.exists():
            shutil.rmtree(self.dir)
        self.dir.mkdir(parents=True)
        atomic_write(self.dir / "run.json", lambda fh: fh.write(json.dumps(self.identity, indent=1, default=str).encode()), binary=True)

    def finish(self) -> None:
        """Remove the partial folder once the run's outputs are written."""
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- chunks --------------------------------------------------------------------------
    def save(self, scenario: int, reps: list[int], arrays: dict[str, np.ndarray]) -> None:
        """Write one finished chunk of replications of one scenario (atomically)."""
        buf = io.BytesIO()
        np.savez(buf, _reps=np.asarray(reps), **arrays)
        atomic_write(self.dir / f"s{scenario:03d}-r{reps[0]:07d}-{reps[-1]:07d}.npz", lambda fh: fh.write(buf.getvalue()), binary=True)

    def load(self) -> dict[tuple[int, int], dict[str, np.ndarray]]:
        """Every stored replication: (scenario index, replication) -> column -> weekly array."""
        out = {}
        for f in sorted(self.dir.glob("s*-r*.npz")):
            s = int(f.name[1:4])
            with np.load(f) as z:
                reps = z["_reps"]
                cols = {k: z[k] for k in z.files if k != "_reps"}
            for i, r in enumerate(reps):
                out[(s, int(r))] = {k: v[i] for k, v in cols.items()}
        return out
