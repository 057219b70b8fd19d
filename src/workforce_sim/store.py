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
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

PARTIAL = ".partial"


class StoreMismatch(Exception):
    """The folder holds part of a different run."""


class ReplicationStore:
    def __init__(self, out_dir: Path, identity: dict):
        self.dir = Path(out_dir) / PARTIAL
        self.identity = identity

    # -- lifecycle -----------------------------------------------------------------------
    def exists(self) -> bool:
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
        self._write_bytes(self.dir / "run.json", json.dumps(self.identity, indent=1, default=str).encode())

    def finish(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- chunks --------------------------------------------------------------------------
    def save(self, scenario: int, reps: list[int], arrays: dict[str, np.ndarray]) -> None:
        buf = io.BytesIO()
        np.savez(buf, _reps=np.asarray(reps), **arrays)
        self._write_bytes(self.dir / f"s{scenario:03d}-r{reps[0]:07d}-{reps[-1]:07d}.npz", buf.getvalue())

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

    @staticmethod
    def _write_bytes(path: Path, data: bytes) -> None:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
