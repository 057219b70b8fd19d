"""A child's journey and a worker's story: the timeline of chosen children or workers in one replication.

The parts of the model call :class:`Tracer` at the moments that matter (referral, strategy
discussion, waiting, allocation, assessment, plans, closure, return; a worker starting, resigning,
leaving). Tracing only records: it draws no random number and schedules no event, so a traced
replication gives exactly the results of an untraced one.
"""

from __future__ import annotations

from ..scenario.calendar import WORKING_DAYS_PER_WEEK as WD
from ..scenario.schema import GRADES
from .hooks import Hooks
from .workforce import Workforce

PLAN_NAMES = {"cin": "child in need plan", "cp": "child protection plan", "cla": "care (looked after)"}


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


def _weeks(n: float) -> str:
    """A number of weeks in words, for traces: "1 week", "12 weeks"."""
    return f"{n:.0f} week" + ("" if round(n) == 1 else "s")


def follow(tracer: Tracer, hooks: Hooks, wf: Workforce) -> None:
    """Subscribe ``tracer`` to the moments of a child's journey and a worker's story, with the words of each.
    Subscribe it before the parts of the model, so that it reads the state as it was at the moment (a leaver's
    cases before they are handed over)."""

    def allocated(case, w: int, t: float) -> None:
        waited = (f"after waiting {t - case.queued_t:.0f} working days; "
                  if case.queued_t is not None and t > case.queued_t else "")
        tracer.child(case.child, t, f"allocated ({case.kind})", w,
                     f"{waited}worker now at {wf.load_ratio(w):.0%} of capacity")

    def plan_ended(case, kind: str, t: float, next_kind: str) -> None:
        late = max(0.0, t - case.plan_due) / WD
        tracer.child(case.child, t, f"{PLAN_NAMES[kind]} ends", case.worker,
                     f"after {_weeks((t - case.plan_start) / WD)}"
                     + (f", {_weeks(late)} late (drift)" if late >= 1 else ""))

    def started(w: int, t: float) -> None:
        tracer.worker(w, t, "in post at the start" if t == 0 else "starts",
                      f"{GRADES[wf.grade[w]]}, {'agency' if wf.agency[w] else 'permanent'}, "
                      f"team {wf.team_names[wf.team[w]]}, {wf.fte[w]:g} FTE")

    hooks.known_child_contact.append(
        lambda child, t: tracer.child(child, t, "contact about the child (known to the service)"))
    hooks.child_referred.append(lambda case, t, returning: tracer.child(
        case.child, t, "re-referred" if returning else "referred", detail="section 47 enquiry" if case.s47 else ""))
    hooks.strategy_discussion.append(lambda case, t: tracer.child(case.child, t, "strategy discussion (duty)"))
    hooks.assessment_completed.append(lambda case, t, days: tracer.child(
        case.child, t, "assessment completed", case.worker,
        f"{days} working days from referral" + (" (late)" if case.late else "")))
    hooks.icpc_held.append(lambda case, t: tracer.child(
        case.child, t, "initial child protection conference", case.worker,
        f"{t - case.strategy_t:.0f} working days after the strategy discussion"))
    hooks.plan_started.append(lambda case, kind, t, days: tracer.child(
        case.child, t, f"{PLAN_NAMES[kind]} starts", case.worker, f"{_weeks(days / WD)} at normal pace"))
    hooks.plan_ended.append(plan_ended)
    hooks.case_closed.append(lambda case, t, stepped_down, delay: tracer.child(
        case.child, t, "stepped down to early help" if stepped_down else "case closed",
        detail=f"comes back after {_weeks(delay / WD)}" if delay is not None else ""))
    hooks.case_allocated.append(allocated)
    hooks.case_queued.append(lambda case, t: tracer.child(
        case.child, t, f"waiting unallocated ({case.kind})",
        detail="nobody eligible has room under the ceiling, or higher-risk cases wait first"))
    hooks.case_handed_back.append(lambda case, w, t: tracer.child(case.child, t, "social worker leaves", w))
    hooks.worker_started.append(started)
    hooks.worker_resigned.append(lambda w, t: tracer.worker(
        w, t, "resigns", f"{wf.cases[w]} cases, pressure {wf.pressure[w]:.2f}"))
    hooks.worker_left.append(lambda w, t, released, returner: tracer.worker(
        w, t, "released" if released else "leaves",
        f"hands over {wf.cases[w]} cases" + ("; comes back as agency" if returner else "")))
