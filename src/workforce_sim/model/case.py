"""One child's current episode: the record the case flow, the allocator and the workforce all hold.

Kept in a module of its own, which imports nothing of the model, so that each part that holds cases can
name their type (and the compiled core read their fields directly) without importing the case flow.
"""

from __future__ import annotations


class Case:
    """One child's current episode with children's social care: an assessment, then perhaps plans.

    ``kind`` is what the case is now ("assessment", "cin", "cp", "cla" or "closed");
    ``worker`` who holds it (-1: nobody); ``token`` is raised to cancel an event in flight.
    """

    __slots__ = ("id", "child", "kind", "points", "worker", "last_worker", "queued", "queued_t", "referral_t",
                 "s47", "icpc", "cp", "outcome_u", "base_days", "icpc_days", "strategy_t", "end",
                 "remaining", "token", "late", "pressured", "returning",
                 "plan_start", "plan_due", "work_left", "mark", "drift_years", "step_up", "enquiry", "settled")

    def __init__(self, cid: int, child: int, kind: str, points: float, referral_t: float):
        self.id, self.child, self.kind, self.points, self.referral_t = cid, child, kind, points, referral_t
        self.worker = self.last_worker = -1
        self.queued = False
        self.queued_t: float | None = None  # when it last started waiting
        self.strategy_t: float | None = None  # the strategy discussion of a section 47 enquiry
        self.plan_start = self.plan_due = self.work_left = self.mark = 0.0
        self.drift_years = 0.0
        self.s47 = self.icpc = self.cp = False
        self.outcome_u = 0.0
        self.base_days = self.icpc_days = 0.0
        self.end: float | None = None  # when the assessment's work ends (None: not under way)
        self.remaining: float | None = None  # work left when it stopped for want of a worker
        self.token = 0
        self.late = self.pressured = self.returning = False
        self.step_up = False  # referred by early help (a step-up): its own outcome mix, if the scenario gives one
        self.enquiry = False  # a child in need plan under a section 47 enquiry, awaiting its initial conference
        self.settled = False  # left care at 18 or adopted (the children in care model says): does not come back
