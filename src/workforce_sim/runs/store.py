"""Finished replications on disk, so an interrupted run loses only what was in flight.

Each finished chunk of replications is written at once (atomically) into
``OUT/.partial/``, beside a description of the run it belongs to. ``--resume``
reads them back and runs only the replications that are missing; the final
outputs are assembled from the stored arrays, so they are identical to an
uninterrupted run's. When a run completes, the partial folder is removed.

A chunk's file name carries the SHA-256 checksum of its bytes. A chunk that
does not match it (cut short, emptied, edited) is reported, removed and
recomputed, so a damaged file can never change the results.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import sys
from pathlib import Path
from typing import Callable

import numpy as np

from .files import atomic_write

PARTIAL = ".partial"
# a sensitivity analysis may run thousands of points
CHUNK_NAME = re.compile(r"s(\d{3,})-r(\d{7,})-(\d{7,})-([0-9a-f]{64})\.npz")


def _to_stderr(message: str) -> None:
    print(message, file=sys.stderr)


class StoreMismatch(Exception):
    """The folder holds part of a different run."""


class ReplicationStore:
    """The finished replications of one run, kept in ``OUT/.partial/`` until the run completes."""

    def __init__(self, out_dir: Path, identity: dict, notify: Callable[[str], None] | None = None):
        self.dir = Path(out_dir) / PARTIAL
        self.identity = identity
        self.notify = notify or _to_stderr

    # -- lifecycle -----------------------------------------------------------------------
    def exists(self) -> bool:
        """Whether a run has been started in this folder."""
        return (self.dir / "run.json").is_file()

    def open(self, resume: bool) -> None:
        """Start afresh, or (with ``resume``) continue the run stored here."""
        if resume and self.exists():
            stored = self._stored_identity()
            if stored != json.loads(json.dumps(self.identity, default=str)):
                raise StoreMismatch(
                    f"{self.dir.parent} holds an unfinished run with different scenarios, seed or length; "
                    "run it again as it was, or choose another --out folder")
            return
        if self.dir.exists():
            if self.exists():
                saved = len(list(self.dir.glob("*.npz")))
                self.notify(f"Discarding the unfinished run kept in {self.dir.parent} ({saved} batch(es)) and "
                            "starting afresh; to continue it instead, run its command again with --resume.")
            shutil.rmtree(self.dir)
        self.dir.mkdir(parents=True)
        identity = json.dumps(self.identity, indent=1, default=str).encode()
        atomic_write(self.dir / "run.json", lambda fh: fh.write(identity), binary=True)

    def _stored_identity(self):
        path = self.dir / "run.json"
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise StoreMismatch(
                f"{path} is damaged (it is not the description of a run that workforce_sim wrote), so the "
                f"unfinished run in {self.dir.parent} cannot be resumed; run the same command without --resume "
                "to start it again") from None

    def finish(self) -> None:
        """Remove the partial folder once the run's outputs are written."""
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- chunks --------------------------------------------------------------------------
    def save(self, scenario: int, reps: list[int], arrays: dict[str, np.ndarray]) -> None:
        """Write one finished chunk of replications of one scenario (atomically), named with its checksum."""
        buf = io.BytesIO()
        # numpy's stub lets **arrays fill savez's allow_pickle: bool; the keys are measures, never allow_pickle
        np.savez(buf, _reps=np.asarray(reps), **arrays)  # type: ignore[arg-type]
        data = buf.getvalue()
        name = f"s{scenario:03d}-r{reps[0]:07d}-{reps[-1]:07d}-{hashlib.sha256(data).hexdigest()}.npz"
        atomic_write(self.dir / name, lambda fh: fh.write(data), binary=True)

    def load(self) -> dict[tuple[int, int], dict[str, np.ndarray]]:
        """Every stored replication: (scenario index, replication) -> column -> weekly array.

        A chunk that fails its checksum or cannot be read is reported, removed, and left to be run again.
        """
        out = {}
        for f in sorted(self.dir.glob("*.npz")):
            problem, cols = self._read_chunk(f)
            if problem:
                self.notify(f"Warning: {f} {problem}; its replications will be recomputed.")
                f.unlink(missing_ok=True)
                continue
            s, reps = cols.pop("_scenario"), cols.pop("_reps")
            for i, r in enumerate(reps):
                out[(s, int(r))] = {k: v[i] for k, v in cols.items()}
        return out

    @staticmethod
    def _read_chunk(f: Path) -> tuple[str | None, dict]:
        """(what is wrong with the stored chunk ``f`` or None, its arrays)."""
        m = CHUNK_NAME.fullmatch(f.name)
        if m is None:
            return "is not a batch this version of workforce_sim saved (it has no checksum)", {}
        data = f.read_bytes()
        if hashlib.sha256(data).hexdigest() != m.group(4):
            return f"is damaged ({'empty' if not data else 'its contents do not match its checksum'})", {}
        try:
            with np.load(io.BytesIO(data)) as z:
                cols = {k: z[k] for k in z.files}
        except Exception as exc:  # noqa: BLE001 - any unreadable chunk is recomputed, whatever the reason
            return f"cannot be read ({exc})", {}
        reps = cols.get("_reps")
        first, last = int(m.group(2)), int(m.group(3))
        if reps is None or reps.ndim != 1 or not reps.size or (int(reps[0]), int(reps[-1])) != (first, last) \
                or any(v.ndim != 2 or len(v) != reps.size for k, v in cols.items() if k != "_reps"):
            return "does not hold the replications its name says", {}
        cols["_scenario"] = int(m.group(1))
        return None, cols
