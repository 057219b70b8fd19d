"""A child's journey and a worker's story: the timeline of chosen children or workers in one replication.

The parts of the model call :class:`Tracer` at the moments that matter (referral, strategy
discussion, waiting, allocation, assessment, plans, closure, return; a worker starting, resigning,
leaving). Tracing only records: it draws no random number and schedules no event, so a traced
replication gives exactly the results of an untraced one.
"""

from __future__ import annotations


class Tracer:
    """Collects timeline rows (clock time, who, event, worker, detail) for the children and workers asked for.

    ``children`` / ``workers``: the ids to record, or None for all of them.
    """

    def __init__(self, children=None, workers=None):
        self.children = None if children is None else set(children)
        self.workers = None if workers is None else set(workers)
        self.rows: list[tuple] = []

    def child(self, child: int, t: float, event: str, worker: int = -1, detail: str = "") -> None:
        """Something happened to child ``child`` at clock time ``t``."""
        if self.children is None or child in self.children:
            self.rows.append((t, "child", child, event, worker, detail))

    def worker(self, w: int, t: float, event: str, detail: str = "") -> None:
        """Something happened to worker ``w`` at clock time ``t``."""
        if self.workers is None or w in self.workers:
            self.rows.append((t, "worker", w, event, w, detail))
