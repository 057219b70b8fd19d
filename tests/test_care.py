"""Children in care as the budget sees them: placements, the council's own places, proceedings, 18th birthdays,
care leavers and what each costs (model/care.py, model/costs.py).

Every child in care is somewhere: the placement counts add up to the children in care in every week. With no
in-house foster places every fostered child (not with family) is with an agency, and the cost rises by exactly the
price difference, week by week. The invest-to-save levers are checked on common random numbers, lever on against
off: the same children start care in both runs, so a difference is the lever's.
"""

from __future__ import annotations

import numpy as np
import pytest

from workforce_sim import load_scenario
from workforce_sim.model import simulate
from workforce_sim.model.care import YEAR_DAYS
from workforce_sim.model.costs import pay_factor
from workforce_sim.model.council import Replication, week_dates
from workforce_sim.scenario.schema import PLACEMENTS

WEEKS = 156


def _run(scn, seed=3, rep=0, weeks=WEEKS):
    return simulate(scn, seed, rep, weeks)


@pytest.mark.parametrize("name", ["baseline", "england-2019", "recovering-council"])
def test_every_child_in_care_is_somewhere_and_in_house_places_are_never_overfilled(name):
    out = _run(load_scenario(name))
    placed = sum(out[f"cla_{p}"] for p in PLACEMENTS)
    assert np.array_equal(placed, out["cla_open"])
    assert (out["cla_in_house_foster"] <= out["foster_places_in_house"]).all()
    assert out["cla_agency_foster"].min() > 0 and out["cla_in_house_foster"].min() > 0
    # every child who starts care is counted, and every one who leaves with a reason (stocks are read at a week's end)
    ceased = sum(out[f"cla_ceased_{r}"] for r in ("home", "adoption", "sgo", "aged_18", "other"))
    assert np.array_equal(np.diff(out["cla_open"]), (out["cla_started"] - ceased)[1:])


def test_with_no_in_house_foster_places_every_fostered_child_is_with_an_agency_at_exactly_the_price_difference(base):
    own = load_scenario(base)
    base["care"]["foster_places"] = {"places": 0}
    none = load_scenario(base)
    a, b = _run(own), _run(none)
    assert a["cla_in_house_foster"].sum() > 1000  # the council's carers hold children in every week of the first run
    assert not b["cla_in_house_foster"].any()
    assert np.array_equal(b["cla_agency_foster"], a["cla_agency_foster"] + a["cla_in_house_foster"])
    for p in set(PLACEMENTS) - {"in_house_foster", "agency_foster"}:
        assert np.array_equal(a[f"cla_{p}"], b[f"cla_{p}"]), p
    for k in ("cla_open", "caseload_mean", "cost_permanent", "cost_agency", "cost_legal", "cost_leaving_care"):
        assert np.array_equal(a[k], b[k], equal_nan=True), k  # placements alone change
    price = own.care.weekly_price
    growth = pay_factor(own.start_date, week_dates(own, WEEKS), own.care.price_growth_per_year)
    extra = a["cla_in_house_foster"] * (price["agency_foster"] - price["in_house_foster"]) * growth
    assert b["cost_placements"] - a["cost_placements"] == pytest.approx(extra, rel=1e-12, abs=1e-6)
    assert b["cost_total"] - a["cost_total"] == pytest.approx(extra, rel=1e-9, abs=1e-3)


def test_each_weeks_placement_cost_is_its_children_at_their_prices(baseline):
    out = _run(baseline, weeks=110)
    care, dates = baseline.care, week_dates(baseline, 110)
    growth = pay_factor(baseline.start_date, dates, care.price_growth_per_year)
    homes = growth * pay_factor(baseline.start_date, dates, care.residential_growth_per_year)
    assert growth[-1] > growth[0] and homes[-1] > growth[-1]  # prices rise each 1 April, children's homes faster
    want = sum(out[f"cla_{p}"] * care.weekly_price[p] * (homes if p.endswith("_home") else growth)
               for p in PLACEMENTS)
    assert out["cost_placements"] == pytest.approx(want, rel=1e-12)
    assert out["cost_legal"] == pytest.approx(out["proceedings_issued"] * care.proceedings.legal_cost * growth)
    assert out["cost_leaving_care"].sum() > 0 and out["cost_placements"].sum() > 2 * out["cost_permanent"].sum()


@pytest.mark.parametrize("reps", [4])
def test_the_foster_carer_lever_lowers_placement_cost_on_the_same_futures(reps):
    ref, opt = load_scenario("do-nothing"), load_scenario("foster-carers")
    saved = []
    for r in range(reps):
        a, b = _run(ref, 11, r), _run(opt, 11, r)
        assert np.array_equal(a["cla_open"], b["cla_open"])  # the same children in care: placements differ
        assert b["foster_places_in_house"][-1] >= a["foster_places_in_house"][-1] + 15  # 30 recruited, some lost
        assert b["cla_in_house_foster"][-52:].mean() > a["cla_in_house_foster"][-52:].mean() + 10
        saved.append(a["cost_placements"].sum() - b["cost_placements"].sum())
    assert min(saved) > 250_000, saved  # in every future, by the third year about 30 places at £400 a week


def test_edge_of_care_support_means_fewer_children_start_care_and_placements_cost_less():
    ref, opt = load_scenario("do-nothing"), load_scenario("edge-of-care")
    for r in range(3):
        a, b = _run(ref, 5, r), _run(opt, 5, r)
        assert a["care_entries_avoided"].sum() == 0 < b["care_entries_avoided"].sum()
        assert b["cla_started"].sum() < a["cla_started"].sum()
        assert b["cla_open"][-1] < a["cla_open"][-1]
        assert b["cost_placements"].sum() < a["cost_placements"].sum()


def _with_lever(base: dict, lever: dict):
    base["levers"] = [{"start": "2027-04-01", **lever}]
    return load_scenario(base)


def test_stepping_children_down_from_residential_care_moves_them_and_costs_less(base):
    ref = load_scenario(base)
    opt = _with_lever(base, {"type": "residential_step_down", "children_per_year": 6, "cost_per_child": 8000})
    a, b = _run(ref), _run(opt)
    assert np.array_equal(a["cla_open"], b["cla_open"])  # the same children in care, living elsewhere
    homes = ["cla_external_home", "cla_in_house_home"]
    assert sum(b[h][-1] for h in homes) < sum(a[h][-1] for h in homes)
    stepped = b["cost_interventions"].sum() / 8000  # each move costs £8,000
    assert stepped in (17, 18), stepped  # 6 a year for three years (whole children, the rest carried)
    assert b["placement_moves"].sum() - a["placement_moves"].sum() >= stepped - 3  # (others' moves may differ)
    assert b["cost_placements"].sum() < a["cost_placements"].sum() - 1e6


def test_reunification_support_brings_children_home_sooner(base):
    ref = load_scenario(base)
    opt = _with_lever(base, {"type": "reunification", "length_reduction": 0.5})
    a, b = _run(ref), _run(opt)
    # the same children start care (until children home sooner come back through the front door at other times)
    assert np.array_equal(a["cla_started"][:26], b["cla_started"][:26])
    assert b["cla_ceased_home"][:52].sum() > a["cla_ceased_home"][:52].sum()
    assert b["cla_open"][-52:].mean() < a["cla_open"][-52:].mean() - 5
    assert b["cost_placements"].sum() < a["cost_placements"].sum()


def _ran(scn, weeks=WEEKS, seed=9):
    rep = Replication(scn, seed, 0, weeks)
    rep.start()
    rep.run()
    return rep


def test_a_child_in_proceedings_weighs_more_and_nobody_stays_in_care_past_18(baseline):
    rep = _ran(baseline)
    care, t = rep.care, rep.env.now
    extra = baseline.care.proceedings.extra_points
    base = baseline.cases.workload_points.cla
    in_proceedings = 0
    for case in rep.workforce.held_cases():
        ep = care.episodes.get(case.id) if case.kind == "cla" else None
        if ep is None:
            continue
        assert (ep.end - ep.start) <= (18.0 - ep.age) * YEAR_DAYS + 1e-6  # care ends by the 18th birthday
        busy = ep.proceedings_end is not None and ep.proceedings_end > t
        in_proceedings += busy
        assert case.points == pytest.approx(base + extra if busy else base)
    assert in_proceedings > 10


def test_care_leavers_come_from_18th_birthdays_and_are_supported_to_21_or_25(base):
    base["care"]["leavers"]["at_start"] = 0
    out = _run(load_scenario(base), weeks=150)  # under three years: nobody's support has ended yet
    assert np.array_equal(out["care_leavers"], np.cumsum(out["cla_ceased_aged_18"]))
    assert out["care_leavers"][-1] > 20
    assert out["care_leavers_per_adviser"][-1] == pytest.approx(
        out["care_leavers"][-1] / base["care"]["leavers"]["personal_advisers_fte"])


def test_without_a_care_section_children_in_care_are_a_headcount_that_costs_nothing(base):
    del base["care"]
    out = _run(load_scenario(base), weeks=30)
    assert out["cla_open"].min() > 100
    for k in [f"cla_{p}" for p in PLACEMENTS] + ["cost_placements", "cost_legal", "cost_leaving_care"]:
        assert not out[k].any(), k
    assert out["cost_total"] == pytest.approx(out["cost_permanent"] + out["cost_agency"] + out["cost_recruitment"]
                                              + out["cost_interventions"])


def test_a_placement_lever_without_a_care_section_is_refused_by_name(base):
    from workforce_sim.scenario.loading import ScenarioError
    del base["care"]
    base["levers"] = [{"type": "foster_carers", "start": "2027-05-01"}]
    with pytest.raises(ScenarioError, match=r"levers\.0\.type.*needs a \[care\] section"):
        load_scenario(base)


def test_supported_accommodation_is_refused_for_under_16s(base):
    from workforce_sim.scenario.loading import ScenarioError
    base["care"]["needs"]["10_15"] = {"foster": 0.5, "supported": 0.5}
    with pytest.raises(ScenarioError, match=r"care\.needs\.10_15\.supported.*aged 16 and 17 only"):
        load_scenario(base)


class _Returns:
    """Follows, through the hooks, who left care for good (at 18, or adopted) and which children come back."""

    def __init__(self, ctx):
        self.settled: dict[int, float] = {}  # child -> when they left care for good
        self.left_care: dict[int, float] = {}  # child -> when they last left care
        self.returns: list[tuple[float, int]] = []  # (when the child comes back, child)
        ctx.hooks.plan_ended.append(self._ended)
        ctx.hooks.child_returns.append(lambda t, child: self.returns.append((t, child)))

    def _ended(self, case, kind, t, next_kind):
        if kind == "cla":
            self.left_care[case.child] = t
            if case.settled:  # set by the children in care model, which hears of the plan's end first
                self.settled[case.child] = t

    def back_after(self, left: dict[int, float]) -> set[int]:
        """Children of ``left`` who come back after they left."""
        return {child for t, child in self.returns if child in left and t > left[child]}


def test_young_people_leaving_care_at_18_and_adopted_children_do_not_come_back_as_children(baseline):
    rep = Replication(baseline, 4, 0, WEEKS, submodels=[_Returns])
    rep.start()
    rep.run()
    seen = rep.submodels[0]
    assert len(seen.settled) > 30
    assert seen.back_after(seen.left_care)  # others who left care may come back
    assert not seen.back_after(seen.settled)


def test_every_child_to_be_adopted_is_in_care_proceedings(baseline):
    rep = _ran(baseline)
    new = [ep for ep in rep.care.episodes.values() if ep.start > 0]  # started in the run (not the start state)
    adopted = [ep for ep in new if ep.reason == "adoption"]
    assert len(adopted) > 5
    assert all(ep.order == "care_order" for ep in adopted)  # with a placement order
    assert any(ep.order == "" for ep in new)  # others are accommodated under section 20


def test_care_leavers_on_the_start_date_include_those_supported_to_25(base):
    base["care"]["leavers"].update({"at_start": 200, "to_25_share": 0.5})
    rep = Replication(load_scenario(base), 1, 0, 10)
    rep.start()
    beyond_21 = [t for t in rep.care.leavers if t > 3 * YEAR_DAYS]
    assert 50 < len(beyond_21) < 150 and max(rep.care.leavers) <= 7 * YEAR_DAYS


def test_residential_step_down_moves_the_child_in_care_longest_first(base):
    rep = Replication(_with_lever(base, {"type": "residential_step_down"}), 2, 0, 10)
    rep.start()
    care = rep.care
    homes = [ep for ep in care.episodes.values() if ep.placement == "external_home"]
    longest = min(homes, key=lambda ep: ep.start)
    care._step_down(0, 0.0)
    assert longest.placement != "external_home"
    assert all(ep.placement == "external_home" for ep in homes if ep is not longest)


def test_a_start_states_survival_is_worked_out_once_per_time_in_care_and_is_the_distributions_own(baseline):
    """The survival of adoption and of other stays is kept by time in care: one entry per group of the start state's
    children in care, each the distributions' own survival at that time."""
    rep = Replication(baseline, 1, 0, 10)
    rep.start()
    care = rep.care
    groups = {g.weeks_open for g in baseline.open_cases if g.type == "cla" and g.weeks_open > 0}
    assert sorted(care._survival) == pytest.approx(sorted(groups))
    adoption = baseline.care.adoption_weeks.frozen().sf
    stay = baseline.cases.plans.cla.duration_weeks.frozen().sf
    for weeks, (a, s) in care._survival.items():
        assert a == float(adoption(weeks)) and s == float(stay(weeks))
