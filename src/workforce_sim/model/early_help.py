"""Early help: families supported outside statutory social care.

Families reach early help three ways: sent by the front door, stepped down when
their social care case closes, and already there at the start of the run.
Early help has no capacity limit in the model: a family engages or not, stays
for a drawn time, and may be stepped up to social care as a new referral. This
module owns all of that; the front door and the case flow ask it what happens.
"""

from __future__ import annotations

import numpy as np

from ..scenario.calendar import WORKING_DAYS_PER_WEEK as WD
from .context import Context
from .draws import BufferedSampler, UniformBuffer


class FrontDoorEarlyHelp:
    """What early help will do for each contact, drawn up front (whether or not the front door sends it there)."""

    __slots__ = ("engaged", "days", "step_up", "step_up_days")

    def __init__(self, engaged: np.ndarray, days: np.ndarray, step_up: np.ndarray, step_up_days: np.ndarray):
        self.engaged, self.days, self.step_up, self.step_up_days = engaged, days, step_up, step_up_days


class EarlyHelp:
    """Families entering and leaving early help, counted as flows; the number open is worked out at the end.

    Every draw comes from early help's own streams, so how many families it sees never
    shifts the draws of any other part of the model.
    """

    def __init__(self, ctx: Context):
        streams = ctx.streams
        self.settings = ctx.scn.early_help
        self.monitor, self.levers, self.streams = ctx.monitor, ctx.levers, streams
        self.step_down_u = UniformBuffer(streams("cases.step_down.engagement"))
        self.step_down_days = BufferedSampler(self.settings.duration_weeks, streams("cases.step_down.duration"), WD)
        self.open_at_start = 0

    def start_state(self, groups) -> None:
        """Families in early help at time 0: each ends after the rest of its (drawn) time."""
        rng = self.streams("initial.early_help")
        for g in groups:
            if g.type != "early_help":
                continue
            self.open_at_start += g.count
            rest = self.settings.duration_weeks.sample_residual(rng, np.full(g.count, g.weeks_open)) * WD
            for r in rest:
                self.monitor.count("_early_help_ended", float(r))

    def for_contacts(self, arrival: np.ndarray) -> FrontDoorEarlyHelp:
        """Draw, for every contact, whether the family would engage, for how long, and whether and when it steps up."""
        eh = self.settings
        rng = self.streams("early_help.front_door")
        n = arrival.size
        engaged = rng.random(n) < self.levers.engagement_share(eh.engagement_share, arrival)
        days = eh.duration_weeks.sample(rng, n) * WD
        p_up = np.where(engaged, eh.step_up_share_engaged, eh.step_up_share_not_engaged)
        step_up = rng.random(n) < p_up * self.levers.step_up_factor(arrival)
        step_up_days = eh.step_up_delay_weeks.sample(rng, n) * WD
        return FrontDoorEarlyHelp(engaged, days, step_up, step_up_days)

    def count_from_front_door(self, decided: np.ndarray, draws: FrontDoorEarlyHelp, sent: np.ndarray) -> None:
        """Families the front door sent (``sent``, at their decision times ``decided``) who engage start now."""
        k = decided.size
        engaged = sent & draws.engaged[:k]
        self.monitor.count_many("_early_help_started", decided[engaged])
        self.monitor.count_many("_early_help_ended", decided[engaged] + draws.days[:k][engaged])

    def step_down(self, t: float) -> bool:
        """A closing case is stepped down to early help at ``t``; returns whether the family engages."""
        share = self.levers.step_down_engagement(self.settings.engagement_share, t)
        engaged = self.step_down_u.draw() < share
        d = self.step_down_days.draw()
        if engaged:
            self.monitor.count("_early_help_started", t)
            self.monitor.count("_early_help_ended", t + d)
        return engaged

    def open_by_week(self, started: np.ndarray, ended: np.ndarray) -> np.ndarray:
        """Families in early help at the end of each week, from the weekly flows."""
        return self.open_at_start + np.cumsum(started) - np.cumsum(ended)
