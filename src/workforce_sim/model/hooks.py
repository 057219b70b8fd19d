"""The moments a part of the model tells the others about (a child referred, a plan started, a worker leaving),
declared in one place with the arguments their subscribers are given.

A part calls a hook; it never knows who listens. :mod:`.council` subscribes the parts that must react, and the
tracer (:mod:`.trace`) subscribes to write a child's or a worker's timeline, so no model logic carries text.
"""

from __future__ import annotations

from typing import Any


class Hook(list):
    """A moment that other parts may want to know about: a list of subscribers, called in the order they
    subscribed with the hook's arguments. Empty, it is false, so that a busy path can skip building the
    arguments (``if hooks.case_allocated: hooks.case_allocated(case, w, t)``)."""

    __slots__ = ("name", "arguments")

    def __init__(self, name: str, arguments: str):
        super().__init__()
        self.name, self.arguments = name, arguments

    def __call__(self, *args: Any) -> None:
        for subscriber in self:
            subscriber(*args)

    def __repr__(self) -> str:
        return f"Hook({self.name}({self.arguments}), {len(self)} subscriber(s))"


class Hooks:
    """Every moment the model declares, each with the arguments its subscribers are given (``t`` is clock time in
    working days; ``case`` a :class:`workforce_sim.model.cases.Case`; ``w`` a worker's index).

    Observers (the tracer) subscribe before the parts, so that they see the state as it was when the moment came.
    """

    DECLARED = {
        # a child's journey
        "known_child_contact": "child, t",  # a contact about a child the service knows, at the front door
        "child_referred": "case, t, returning",  # a referral opens an assessment
        "strategy_discussion": "case, t",  # the strategy discussion of a section 47 enquiry (duty)
        "assessment_completed": "case, t, days",  # days: working days from referral
        "icpc_held": "case, t",  # an initial child protection conference
        "plan_started": "case, kind, t, days",  # a plan (cin, cp or cla) starts; days: its length at normal pace
        "plan_ended": "case, kind, t, next_kind",  # a plan ends; next_kind: "close", "early_help" or a plan
        "case_closed": "case, t, stepped_down, return_delay",  # return_delay: working days, or None
        "child_returns": "t, child",  # a closed child comes back through the front door at clock time t
        # who holds a case
        "case_allocated": "case, w, t",
        "case_queued": "case, t",  # the case waits, unallocated
        "case_handed_back": "case, w, t",  # its worker leaves; the case is allocated again or waits
        # the workforce
        "worker_started": "w, t",  # in post (t = 0 at the start) or starting
        "worker_resigned": "w, t",  # hands in notice
        "worker_left": "w, t, released, returner",  # released: agency cover ended; returner: back as agency
        # the clock
        "week_ending": "week, t",  # just before a week ends, when the stocks are read (sub-models set theirs)
    }

    def __init__(self) -> None:
        for name, arguments in self.DECLARED.items():
            setattr(self, name, Hook(name, arguments))

    def __getattr__(self, name: str) -> Hook:  # only for names not declared
        raise AttributeError(f"no hook called {name!r}; declared: {', '.join(self.DECLARED)}")
