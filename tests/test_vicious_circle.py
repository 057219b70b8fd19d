"""The vicious circle turns: with pressure measured against the manageable standard and a finite agency market,
demand that outgrows the service drives permanent staff out, and their leaving drives caseloads up (issue 23,
item 4). Paired runs on common random numbers: the same futures with the pressure effect on leaving as bundled and
with it off."""

from __future__ import annotations

import numpy as np
import pytest

from workforce_sim import load_scenario
from workforce_sim.model import simulate

YEARS = 3
FUTURES = 10
SURGE = ["demand.trend_per_year=0.3"]  # demand +30% a year


@pytest.fixture(scope="module")
def paired():
    """Per future: permanent leavers in years 2-3, and the largest team caseload over its standard, with the
    bundled pressure effect on leaving and with it set to 0."""
    on = load_scenario("baseline", SURGE)
    off = load_scenario("baseline", SURGE + ["workforce.turnover.pressure_effect=0"])
    weeks = int(round(YEARS * 365.25 / 7))
    out = {"on": [], "off": [], "over": []}
    for rep in range(FUTURES):
        a, b = simulate(on, 23, rep, weeks), simulate(off, 23, rep, weeks)
        out["on"].append(a["leavers_permanent"][52:].sum())
        out["off"].append(b["leavers_permanent"][52:].sum())
        out["over"].append(max(np.nanmax(a[f"caseload_incl_unallocated_{t}"] / on.standard(t))
                               for t in on.case_holding_teams()))
    return {k: np.array(v) for k, v in out.items()}


def test_pressure_drives_permanent_staff_out_when_demand_outgrows_the_service(paired):
    on, off = paired["on"].sum(), paired["off"].sum()
    assert on >= 1.15 * off, f"permanent leavers in years 2-3: {on} with the pressure effect, {off} without"


def test_some_team_rises_above_its_standard(paired):
    assert np.all(paired["over"] > 1.0), paired["over"]


def test_work_waiting_for_a_team_weighs_on_its_staff():
    """The same futures with the team's waiting work felt (waiting_pressure_share 1) and not (0): more permanent
    staff leave when children wait unallocated for their team."""
    weeks = int(round(YEARS * 365.25 / 7))
    leavers = {}
    for share in (0.0, 1.0):
        scn = load_scenario("baseline", SURGE + [f"workforce.turnover.waiting_pressure_share={share}"])
        leavers[share] = sum(simulate(scn, 23, rep, weeks)["leavers_permanent"][52:].sum() for rep in range(6))
    assert leavers[1.0] >= 1.05 * leavers[0.0], leavers
