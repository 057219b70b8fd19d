"""What each week costs: permanent staff, agency staff, recruitment, interventions, and children in care
(placements, care proceedings, care leavers).

Staff costs are the FTE in post at the end of each week (by grade and contract)
times a week's share of the annual cost: salary plus employer on-costs, raised
by the pay award each 1 April; an agency FTE costs that plus the agency
premium of the week (``agency_premium_per_year``: the premium in costs, moved
by the agency market, see :mod:`.agency_market`). Recruitment costs are counted per round, per permanent hire and per
newly qualified starter. Interventions cost their running cost pro rata for
the days in force, their one-off cost in the week they start, and any cost per
worker or per starter. Money is in the currency of the scenario, in cash terms
(no discounting).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import numpy as np

from ..scenario.calendar import WEEKS_PER_YEAR
from ..scenario.schema import GRADES, PLACEMENTS, Scenario
from .levers import LEVERS
from .measures import COST_COLUMNS


def pay_factor(start: dt.date, week_dates: np.ndarray, award: float) -> np.ndarray:
    """(1 + award) to the number of 1 Aprils from the start date to each week's first day (inclusive)."""
    return (1.0 + award) ** _aprils(start, np.asarray(week_dates, dtype="datetime64[D]").tobytes())


@lru_cache(maxsize=64)
def _aprils(start: dt.date, days_bytes: bytes) -> np.ndarray:
    """How many 1 Aprils fall after ``start`` and on or before each day (the days as datetime64[D] bytes); the same
    for every replication of a run, so counted once (read only)."""
    days = np.frombuffer(days_bytes, dtype="datetime64[D]").astype(object)
    n = np.array([sum(1 for y in range(start.year, d.year + 1) if start < dt.date(y, 4, 1) <= d) for d in days])
    n.setflags(write=False)
    return n


def weekly_costs(scn: Scenario, week_dates: np.ndarray, out: dict[str, np.ndarray], levers) -> dict[str, np.ndarray]:
    """The cost columns (:data:`COST_COLUMNS`) of one replication from its weekly measures ``out``."""
    c = scn.costs
    n = len(week_dates)
    z = np.zeros(n)
    pay = pay_factor(scn.start_date, week_dates, c.pay_award_per_year)
    perm = z.copy()
    agency = z.copy()
    for g in GRADES:
        annual = c.salary[g] * (1.0 + c.on_cost_share)
        perm += out[f"_fte_permanent_{g}"] * annual
        agency += out[f"_fte_agency_{g}"] * (annual + out["agency_premium_per_year"])
    perm *= pay / WEEKS_PER_YEAR
    agency *= pay / WEEKS_PER_YEAR
    recruit = (out["_recruitment_rounds"] * c.cost_per_recruitment_round
               + out["_hires_permanent"] * c.cost_per_hire
               + out["_asye_starters"] * c.asye_support_per_starter)
    interventions = z.copy()
    for i, lv, a, b in levers.items:
        share = levers.week_shares(lv, week_dates)
        interventions += lv.cost_per_year * share / WEEKS_PER_YEAR
        first = np.flatnonzero(week_dates >= np.datetime64(lv.start, "D") - np.timedelta64(6, "D"))
        if lv.one_off_cost and first.size and lv.start < (scn.start_date + dt.timedelta(days=7 * n)):
            interventions[first[0]] += lv.one_off_cost
        kind = LEVERS[lv.type]
        if kind.measure and kind.unit_cost:
            units = out[kind.measure.format(lever=i)] * getattr(lv, kind.unit_cost)
            interventions += units * share / WEEKS_PER_YEAR if kind.per_year else units
    items = {"cost_permanent": perm, "cost_agency": agency, "cost_recruitment": recruit,
             "cost_interventions": interventions, **care_costs(scn, week_dates, out)}
    items["cost_total"] = np.sum(list(items.values()), axis=0)
    if not np.isfinite(items["cost_total"]).all():  # every amount is bounded; this guards the sums of them
        raise ValueError("the costs grew too large to count (above any council's budget): check the [costs] and "
                         "[care] amounts and the number of posts")
    if list(items) != COST_COLUMNS:  # every declared cost item is worked out here, and only those
        raise KeyError(f"cost items worked out {list(items)} differ from those declared {COST_COLUMNS}")
    return items


def care_costs(scn: Scenario, week_dates: np.ndarray, out: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Placements (each week's children in each placement type at its weekly price), the legal cost of proceedings
    issued and the support of care leavers, each price rising every 1 April (children's homes by more). Zero
    without a [care] section."""
    z = np.zeros(len(week_dates))
    care = scn.care
    if care is None:
        return {"cost_placements": z, "cost_legal": z.copy(), "cost_leaving_care": z.copy()}
    growth = pay_factor(scn.start_date, week_dates, care.price_growth_per_year)
    homes = growth * pay_factor(scn.start_date, week_dates, care.residential_growth_per_year)
    placements = z.copy()
    for p in PLACEMENTS:
        placements += out[f"cla_{p}"] * care.weekly_price[p] * (homes if p.endswith("_home") else growth)
    return {"cost_placements": placements,
            "cost_legal": out["proceedings_issued"] * care.proceedings.legal_cost * growth,
            "cost_leaving_care": out["care_leavers"] * care.leavers.cost_per_year / WEEKS_PER_YEAR * growth}
