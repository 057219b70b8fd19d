"""The agency market a council draws on: a finite supply of workers and a premium that moves with demand.

The market can offer the council ``offers_per_year_per_post`` agency workers a year for each funded post
it had at the start. Offers come in evenly, week by week; offers the council does not take wait for it up to
a quarter's worth (13 weeks of offers, at least one), beyond which they go to other councils: a burst of
requests is met from them, a sustained excess waits. A request for a worker is met at once
while an offer is in hand; otherwise it waits, its post vacant, and waiting requests are met oldest first
as offers come in. A request is counted once, when the council places it; the wait costs no events (the
queue is read once a week).

The premium moves with the council's demand on the market: over the last 52 weeks, requests placed over
offers a year is the ask ratio; while it is at most 1 the premium is the one in costs; above 1 it rises by
``premium_rise`` times the excess (an ask ratio of 1.2 with a rise of 1 gives a premium 20% higher). Every
agency worker in post is paid the premium of the week (agency rates follow the market, and agency workers
move on within a year or so). Under the national rules of 2024 the premium stops at the price cap.
"""

from __future__ import annotations

from typing import Any, Callable, Final

import numpy as np

from ..scenario.calendar import WEEKS_PER_YEAR

OFFERS_KEPT_WEEKS: Final = 13.0  # illustrative: an offer not taken within a quarter goes to another council
# DfE agency rules (2024): a four-week notice period, or the council's own if shorter
RULES_AGENCY_NOTICE_WEEKS: Final = 4.0


class AgencyMarket:
    """Offers in hand, requests waiting for one, and the premium of the week."""

    def __init__(self, scn, funded_posts: int):
        a = scn.workforce.agency
        self.limited = a.offers_per_year_per_post is not None
        self.per_year = (a.offers_per_year_per_post or 0.0) * funded_posts
        self.per_week = self.per_year / WEEKS_PER_YEAR
        self.most_in_hand = max(1.0, self.per_week * OFFERS_KEPT_WEEKS)
        self.in_hand = self.most_in_hand  # offers the council can take now
        self.waiting: dict[int, Any] = {}  # post id -> post, oldest first (dicts keep insertion order)
        self.rise = a.premium_rise
        self.base = scn.costs.agency_premium_per_year
        cap = a.price_cap_premium_per_year
        self.cap = (self.base if cap is None else cap) if a.national_rules_2024 else float("inf")
        self.requests = np.zeros(int(round(WEEKS_PER_YEAR)))  # requests placed, by week, over the last year
        self.week = 0
        self.premium = min(self.base, self.cap)

    def ask(self, post) -> bool:
        """The council asks for a worker for ``post``: True if an offer is in hand (taken), else the request waits
        (its post vacant) and False."""
        self.requests[self.week % len(self.requests)] += 1
        if self._use_offer():
            return True
        self.waiting[post.id] = post
        return False

    def _use_offer(self) -> bool:
        if not self.limited:
            return True
        if self.in_hand >= 1.0 - 1e-9:
            self.in_hand -= 1.0
            return True
        return False

    @property
    def n_waiting(self) -> int:
        """Requests waiting for an offer."""
        return len(self.waiting)

    def is_waiting(self, post_id: int) -> bool:
        """Whether a request for this post waits for an offer."""
        return post_id in self.waiting

    def withdraw(self, post_id: int) -> None:
        """The post no longer needs a worker from the market (filled, closed or no longer covered)."""
        self.waiting.pop(post_id, None)

    def meet_waiting(self, still_wanted: Callable[[Any], bool]) -> list:
        """Waiting requests met by the offers in hand, oldest first; a request whose post no longer wants a worker
        is dropped without using an offer."""
        met = []
        while self.waiting and self.in_hand >= 1.0 - 1e-9:
            post = self.waiting.pop(next(iter(self.waiting)))
            if still_wanted(post):
                self.in_hand -= 1.0
                met.append(post)
        return met

    def new_week(self) -> None:
        """A week's offers come in and the premium moves."""
        if self.limited:
            self.in_hand = min(self.most_in_hand, self.in_hand + self.per_week)
            ask = self.requests.sum() / max(self.per_year, 1.0)
            premium = self.base * (1.0 + self.rise * max(0.0, ask - 1.0)) if self.rise > 0 else self.base
            self.premium = min(premium, self.cap)
        self.week += 1
        self.requests[self.week % len(self.requests)] = 0.0
