"""What each week costs: permanent staff, agency staff, recruitment and interventions.

Staff costs are the FTE in post at the end of each week (by grade and contract)
times a week's share of the annual cost: salary plus employer on-costs, raised
by the pay award each 1 April; an agency FTE costs that plus the agency
premium. Recruitment costs are counted per round, per permanent hire and per
newly qualified starter. Interventions cost their running cost pro rata for
the days in force, their one-off cost in the week they start, and any cost per
worker or per starter. Money is in the currency of the scenario, in cash terms
(no discounting).
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from ..calendar import WEEKS_PER_YEAR
from ..schema import Scenario
from .workforce import GRADES

COST_COLUMNS = ["cost_permanent", "cost_agency", "cost_recruitment", "cost_interventions", "cost_total"]


def pay_factor(start: dt.date, week_dates: np.ndarray, award: float) -> np.ndarray:
    """(1 + award) to the number of 1 Aprils from the start date to each week's first day (inclusive)."""
    days = week_dates.astype("datetime64[D]").astype(object)
    n = np.array([sum(1 for y in range(start.year, d.year + 1) if start < dt.date(y, 4, 1) <= d) for d in days])
    return (1.0 + award) ** n


def weekly_costs(scn: Scenario, week_dates: np.ndarray, out: dict[str, np.ndarray], levers) -> dict[str, np.ndarray]:
    c = scn.costs
    n = len(week_dates)
    z = np.zeros(n)
    pay = pay_factor(scn.start_date, week_dates, c.pay_award_per_year)
    perm = z.copy()
    agency = z.copy()
    for g in GRADES:
        annual = c.salary[g] * (1.0 + c.on_cost_share)
        perm += out.get(f"_fte_permanent_{g}", z) * annual
        agency += out.get(f"_fte_agency_{g}", z) * (annual + c.agency_premium_per_year)
    perm *= pay / WEEKS_PER_YEAR
    agency *= pay / WEEKS_PER_YEAR
    recruit = (out.get("_recruitment_rounds", z) * c.cost_per_recruitment_round
               + out.get("_hires_permanent", z) * c.cost_per_hire
               + out.get("_asye_starters", z) * c.asye_support_per_starter)
    interventions = z.copy()
    for i, lv, a, b in levers.items:
        share = levers.week_shares(lv, week_dates)
        interventions += lv.cost_per_year * share / WEEKS_PER_YEAR
        first = np.flatnonzero(week_dates >= np.datetime64(lv.start, "D") - np.timedelta64(6, "D"))
        if lv.one_off_cost and first.size and lv.start < (scn.start_date + dt.timedelta(days=7 * n)):
            interventions[first[0]] += lv.one_off_cost
        if lv.type == "retention":
            interventions += out.get(f"_retention_fte_{i}", z) * lv.payment_per_worker_per_year * share / WEEKS_PER_YEAR
        if lv.type == "nqsw_academy":
            interventions += out.get(f"_academy_starters_{i}", z) * lv.cost_per_starter
    total = perm + agency + recruit + interventions
    return dict(zip(COST_COLUMNS, (perm, agency, recruit, interventions, total)))
