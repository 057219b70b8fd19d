"""England's case mix: every child protection plan starts at a conference after a section 47 enquiry, step-ups
from early help have their own outcomes, and rates are per 10,000 children (population.children).

Each mechanism is checked directly (what every simulated child goes through) or on common random numbers
(the same futures with a setting on and off), so removing it from the code fails a test here.
"""

import numpy as np
import pytest

from workforce_sim import load_scenario
from workforce_sim.analysis.summary import RATIO, summarise
from workforce_sim.model import simulate
from workforce_sim.model.council import Replication
from workforce_sim.scenario.loading import ScenarioError


class ChildProtectionPath:
    """Follows, through the hooks alone, each case's strategy discussions, conferences and plans started."""

    def __init__(self, ctx):
        self.escalations = 0  # strategy discussions about a child on a child in need plan
        self.icpc: dict[int, list[tuple[float, float | None]]] = {}  # case -> (conference, its strategy discussion)
        self.plans: list[tuple[int, float]] = []
        ctx.hooks.strategy_discussion.append(self._strategy)
        ctx.hooks.icpc_held.append(lambda case, t: self.icpc.setdefault(case.id, []).append((t, case.strategy_t)))
        ctx.hooks.plan_started.append(self._plan)

    def _strategy(self, case, t):
        self.escalations += case.kind == "cin"

    def _plan(self, case, kind, t, days):
        if kind == "cp" and t > 0:  # plans open at the start were not started in the run
            self.plans.append((case.id, t))


def test_every_child_protection_plan_starts_at_a_conference_after_an_enquiry():
    """Each plan started in the run starts at an initial conference of its case, held after a strategy
    discussion of the same case; plans started per conference is the conference's chance."""
    scn = load_scenario("baseline", ["demand.trend_per_year=0"])
    rep = Replication(scn, 3, 0, 104, submodels=[ChildProtectionPath])
    rep.start()
    rep.run()
    path = rep.submodels[0]
    for cid, t in path.plans:
        at = [s for c, s in path.icpc.get(cid, []) if abs(t - c) < 1e-9]
        assert at, f"case {cid}: a plan at {t:.1f} with no conference"
        assert at[0] is not None and at[0] < t, f"case {cid}: a conference with no section 47 enquiry before it"
    assert path.escalations > 20, path.escalations
    out = rep.collect()
    ratio = out["cp_plans_started"].sum() / out["icpcs"].sum()
    assert abs(ratio - scn.cases.cp_plan_share_of_icpc) < 0.05, ratio
    assert len(path.plans) > 200


def test_an_escalating_child_in_need_plan_becomes_a_plan_only_at_a_conference():
    """With no conference ever deciding on a plan, no plan starts, though child in need plans still escalate:
    each escalation is a section 47 enquiry and a conference, and the child stays in need."""
    no = ["cases.cp_plan_share_of_icpc=0"]
    out = simulate(load_scenario("baseline", no), 5, 0, 52)
    assert out["cp_plans_started"].sum() == 0
    on = simulate(load_scenario("baseline", no), 5, 0, 52)["s47_enquiries"].sum()
    ends = "cases.plans.cin.ends={close=0.71, early_help=0.265, cp=0.0, cla=0.025}"  # no escalation
    off = simulate(load_scenario("baseline", no + [ends]), 5, 0, 52)["s47_enquiries"].sum()
    assert on > off + 10, (on, off)


def test_step_ups_from_early_help_have_their_own_outcomes():
    """On the same futures, step-ups that all become child in need plans hold more plans open than step-ups
    that all close; step-ups that all start a section 47 enquiry make more enquiries."""
    def run(extra, col, weeks=78):
        return float(simulate(load_scenario("baseline", extra), 9, 0, weeks)[col][26:].sum())

    cin = run(["early_help.step_up_outcomes={nfa=0, early_help=0, cin=1, cla=0}"], "cin_open")
    nfa = run(["early_help.step_up_outcomes={nfa=1, early_help=0, cin=0, cla=0}"], "cin_open")
    assert cin > 1.05 * nfa, (cin, nfa)
    all_s47 = run(["early_help.step_up_s47_share=1"], "s47_enquiries")
    none = run(["early_help.step_up_s47_share=0"], "s47_enquiries")
    assert all_s47 > none + 20, (all_s47, none)


def test_rates_are_per_10000_children_of_the_population():
    out = simulate(load_scenario("baseline"), 1, 0, 20)
    half = simulate(load_scenario("baseline", ["population.children=18000"]), 1, 0, 20)
    k = 1e4 / 36000
    np.testing.assert_allclose(out["s47_enquiries_per_10k"], out["s47_enquiries"] * k)
    np.testing.assert_allclose(out["cla_open_per_10k"], out["cla_open"] * k)
    np.testing.assert_allclose(out["children_in_need_per_10k"], (out["assessments_open"] + out["cin_open"]
                                                                 + out["cp_open"] + out["cla_open"]) * k)
    np.testing.assert_allclose(half["cp_open_per_10k"], 2 * out["cp_open_per_10k"])
    assert out["cla_started"].sum() > 0


def test_the_summary_gives_plans_per_conference_as_a_ratio_of_totals():
    import pandas as pd

    from workforce_sim.model.council import ID_COLUMNS, WEEKLY_COLUMNS
    out = simulate(load_scenario("baseline"), 2, 0, 52)
    weekly = pd.DataFrame({"scenario": "baseline", "replication": 0, "week": np.arange(52), "date": "",
                           **{c: out[c] for c in WEEKLY_COLUMNS}})[ID_COLUMNS + WEEKLY_COLUMNS]
    s = summarise(weekly)
    row = s[(s.metric == "cp_plans_per_icpc") & (s.period == "year 1") & (s.statistic == RATIO)].iloc[0]
    assert row["mean"] == pytest.approx(out["cp_plans_started"].sum() / out["icpcs"].sum())
    end = s[(s.metric == "cla_open_per_10k") & (s.period == "year 1") & (s.statistic == "end of period")].iloc[0]
    assert end["mean"] == pytest.approx(out["cla_open_per_10k"][51])


@pytest.mark.parametrize("bad", ["0", "-5", "2.5", '"many"', "3000000"])
def test_a_bad_population_is_refused_with_what_is_expected(bad):
    with pytest.raises(ScenarioError, match="population.children"):
        load_scenario("baseline", [f"population.children={bad}"])


def test_a_council_can_reach_a_month_with_a_third_of_referrals_re_referred():
    """The reference letter's council: re-referrals were nearly a third of assessments in one month. A council
    where more closed cases come back (38% before the factors, against the baseline's 30%) and half of families
    take up early help (against three quarters) has a month above 30% in the second year of each future, while its
    yearly rate stays below a third."""
    scn = load_scenario("baseline", ["demand.trend_per_year=0", "re_referral.probability=0.38",
                                     "early_help.engagement_share=0.5"])
    for r in range(2):
        out = simulate(scn, 4, r, 104)
        month = out["re_referrals"][52:104].reshape(13, 4).sum(1) / out["referrals"][52:104].reshape(13, 4).sum(1)
        year = out["re_referrals"][52:].sum() / out["referrals"][52:].sum()
        assert month.max() > 0.30 and year < 0.33, (month.max(), year)
