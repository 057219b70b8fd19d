"""What every part of a replication needs, in one value: the scenario, the working calendar, the SimPy
environment, the random streams, the monitor that counts the declared measures, the levers in time, and the
hooks through which parts tell others what happened (:class:`Hooks`).

A part takes a :class:`Context` and the other parts it works with; it tells the rest of the model what happened
only by calling a hook. :mod:`.council` makes the context, builds the parts and subscribes each to the hooks it
needs: that is the model's wiring, in one place. A new sub-model (children in care, say) is a module whose
class takes the context, subscribes to the hooks it needs (``plan_started``, ``plan_ended``, ...) and counts its
own declared measures; adding it is one line in the council.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..scenario.calendar import WorkingCalendar
from ..scenario.schema import Scenario
from ..scenario.streams import Streams
from .clock import Clock
from .hooks import Hooks
from .levers import LeverSchedule
from .monitoring import Monitor


@dataclass
class Context:
    """What every part of one replication shares."""

    scn: Scenario
    calendar: WorkingCalendar
    env: Clock
    streams: Streams
    monitor: Monitor
    levers: LeverSchedule
    hooks: Hooks = field(default_factory=Hooks)
