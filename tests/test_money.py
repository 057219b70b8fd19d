"""Money and levers: costs add up, levers change what they should and nothing else, goal-seek finds known answers."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from workforce_sim import load_scenario, run
from workforce_sim.analysis.money import budget_table, financial_year, financial_year_days, money_settings
from workforce_sim.cli import main
from workforce_sim.model import simulate
from workforce_sim.model.costs import COST_COLUMNS, pay_factor
from workforce_sim.scenario.loading import ScenarioError, bundled_names
from workforce_sim.studies.goalseek import goal_seek, lever_with_level, parse_target

OPTIONS = ["retention", "nqsw-academy", "agency-reduction", "early-help", "extra-posts", "combined-package"]


def with_lever(lever: dict, name="lever", base="do-nothing"):
    return load_scenario({"extends": base, "name": name, "levers": [lever]})


# -- costs ------------------------------------------------------------------------------------
def test_pay_award_applies_each_first_of_april():
    weeks = np.array(["2019-03-25", "2019-04-01", "2019-08-05", "2020-03-30", "2020-04-06"], dtype="datetime64[D]")
    assert list(pay_factor(dt.date(2019, 2, 1), weeks, 0.1)) == pytest.approx([1.0, 1.1, 1.1, 1.1, 1.21])


def test_staff_costs_equal_fte_times_annual_cost():
    """Recompute from the public FTE columns with one salary for every grade."""
    s = load_scenario("baseline", ["costs.salary={asye=50000, social_worker=50000, senior_social_worker=50000, "
                                   "team_manager=50000}",
                                   "costs.pay_award_per_year=0.0", "costs.on_cost_share=0.3",
                                   "costs.agency_premium_per_year=10000"])
    o = simulate(s, 3, 0, 60)
    per_week = 50000 * 1.3 / (365.25 / 7)
    perm_fte = o["staff_fte"] - o["staff_fte_agency"]
    np.testing.assert_allclose(o["cost_permanent"], perm_fte * per_week)
    np.testing.assert_allclose(o["cost_agency"], o["staff_fte_agency"] * (per_week + 10000 / (365.25 / 7)))
    parts = sum(o[c] for c in COST_COLUMNS if c != "cost_total")
    np.testing.assert_allclose(o["cost_total"], parts)


def test_weekly_costs_add_up_to_the_financial_year_table():
    """Every week's cost lands in the financial year of its days: whole weeks by their first day, and a
    week spanning 31 March shared by its days; nothing is lost or counted twice. (A run of a year and a half,
    so its last week counts 7 days: whole-year runs are the next test's.)"""
    res = run(load_scenario("retention", start=dt.date(2026, 2, 2)), years=1.5, reps=3, seed=4)  # a Monday
    b = budget_table(res.weekly)
    w = res.weekly
    # recount by hand, day by day: each week's cost spread over its 7 days, each day in its own financial year
    days = w.loc[w.index.repeat(7)].copy()
    days["day"] = pd.to_datetime(days["date"]) + pd.to_timedelta(np.tile(np.arange(7), len(w)), unit="D")
    days["fy"] = financial_year(days["day"])
    days["cost"] = days["cost_total"] / 7
    by_hand = days.groupby(["fy", "replication"])["cost"].sum().groupby(level=0).mean()
    for fy, expected in by_hand.items():
        got = b[(b.financial_year == fy) & (b.item == "cost_total")]["cash"].iloc[0]
        assert got == pytest.approx(expected, abs=0.5)  # whole pounds
    assert list(b.financial_year.unique()) == ["2025-26", "2026-27", "2027-28"]
    days = b.drop_duplicates("financial_year").set_index("financial_year")["days"]
    assert days["2025-26"] == 58 and days["2026-27"] == 365 and days.sum() == 7 * res.weekly["week"].nunique()
    total = b[b.item == "cost_total"]["cash"].sum()
    assert total == pytest.approx(res.weekly.groupby("replication")["cost_total"].sum().mean(), abs=2)
    parts = b[b.item != "cost_total"].groupby("financial_year")["cash"].sum()
    np.testing.assert_allclose(parts, b[b.item == "cost_total"].set_index("financial_year")["cash"].loc[parts.index],
                               atol=3)  # each item rounded to the pound


def test_real_terms_deflate_each_year_after_the_first():
    res = run("baseline", years=2.5, reps=2, seed=4, overrides=["costs.deflator_per_year=0.1"])
    b = budget_table(res.weekly, money_settings(res.scenarios)).query("item == 'cost_total'")
    ratio = (b["cash"] / b["real_terms"]).to_numpy()
    np.testing.assert_allclose(ratio, [1.0, 1.1, 1.21], rtol=1e-6)  # whole pounds
    assert set(b["prices"]) == {"2027-28 prices"}


def test_run_writes_budget_csv(tmp_path):
    res = CliRunner().invoke(main, ["run", "early-help", "--years", "1", "--reps", "2", "--jobs", "1",
                                    "--out", str(tmp_path), "--no-start-check"])
    assert res.exit_code == 0, res.output
    b = pd.read_csv(tmp_path / "budget.csv")
    assert set(b.item) == set(COST_COLUMNS) and (b["cash"] >= 0).all()
    assert b[(b.item == "cost_interventions")]["cash"].sum() > 200000  # £250,000 a year, from April
    text = (tmp_path / "budget.csv").read_text()
    assert "e+" not in text and "e-" not in text  # plain numbers, as a finance officer types them


# -- levers -----------------------------------------------------------------------------------
OUTCOMES = ["contacts", "referrals", "re_referrals", "caseload_mean", "unallocated_cases", "staff_fte",
            "leavers_incl_agency", "assessments_completed", "early_help_open", "vacancies_fte"]

ZERO_EFFECT = [
    {"type": "retention", "start": dt.date(2027, 6, 1), "leaving_reduction": 0.0, "payment_per_worker_per_year": 2000},
    {"type": "early_help", "start": dt.date(2027, 6, 1), "engagement_increase": 0.0, "step_up_reduction": 0.0,
     "re_referral_reduction": 0.0, "cost_per_year": 250000},
    {"type": "threshold_training", "start": dt.date(2027, 6, 1), "contact_reduction": 0.0, "referral_reduction": 0.0,
     "cost_per_year": 30000, "one_off_cost": 10000},
    {"type": "recruitment_campaign", "start": dt.date(2027, 6, 1), "time_to_hire_factor": 1.0,
     "round_failure_reduction": 0.0, "cost_per_year": 40000},
    {"type": "nqsw_academy", "start": dt.date(2027, 6, 1), "extra_cohort": 0, "cost_per_year": 40000},
]


@pytest.fixture(scope="module")
def reference():
    scn = load_scenario("do-nothing")
    return [simulate(scn, 12, r, 80) for r in range(2)]


@pytest.mark.parametrize("lever", ZERO_EFFECT, ids=lambda lv: lv["type"])
def test_a_lever_with_zero_effect_changes_cost_but_not_outcomes(lever, reference):
    scn = with_lever(lever)
    for r, ref in enumerate(reference):
        got = simulate(scn, 12, r, 80)
        for k in OUTCOMES + ["cost_permanent", "cost_agency", "cost_recruitment"]:
            np.testing.assert_array_equal(got[k], ref[k], err_msg=k)
        assert got["cost_interventions"].sum() > 1000 and ref["cost_interventions"].sum() == 0


def paired(scn_a, scn_b, column, reps=3, weeks=156, agg=np.sum):
    a = np.array([agg(simulate(scn_a, 30, r, weeks)[column]) for r in range(reps)])
    b = np.array([agg(simulate(scn_b, 30, r, weeks)[column]) for r in range(reps)])
    return a, b


def test_retention_lowers_leaving():
    none, strong = paired(load_scenario("do-nothing"), with_lever(
        {"type": "retention", "start": dt.date(2027, 4, 1), "leaving_reduction": 0.6}), "leavers_permanent")
    assert strong.sum() < 0.75 * none.sum(), (strong, none)


def test_early_help_investment_lowers_step_ups_and_returns():
    lv = {"type": "early_help", "start": dt.date(2027, 4, 1), "engagement_increase": 0.2, "step_up_reduction": 0.5,
          "re_referral_reduction": 0.5}
    none, eh = paired(load_scenario("do-nothing"), with_lever(lv), "early_help_step_ups")
    assert eh.sum() < 0.7 * none.sum()
    none, eh = paired(load_scenario("do-nothing"), with_lever(lv), "returns_after_closure")
    assert eh.sum() < none.sum()
    none, eh = paired(load_scenario("do-nothing"), with_lever(lv), "early_help_open", agg=np.mean)
    assert eh.mean() > none.mean()
    # each effect on its own: fewer returns after step-down, with engagement and step-ups unchanged
    returns_only = lv | {"engagement_increase": 0.0, "step_up_reduction": 0.0, "re_referral_reduction": 0.9}
    none, eh = paired(load_scenario("do-nothing"), with_lever(returns_only), "returns_after_closure")
    assert eh.sum() < 0.93 * none.sum(), (eh.sum(), none.sum())


def test_threshold_training_lowers_partner_contacts_and_referrals():
    lv = {"type": "threshold_training", "start": dt.date(2027, 4, 1), "contact_reduction": 0.2,
          "referral_reduction": 0.3}
    base, trained = load_scenario("do-nothing"), with_lever(lv)
    a, b = simulate(base, 5, 0, 52), simulate(trained, 5, 0, 52)
    assert b["contacts_individuals"].sum() == a["contacts_individuals"].sum()  # not a partner agency
    assert 0.75 < b["contacts_police"].sum() / a["contacts_police"].sum() < 0.85
    assert b["referrals"].sum() < 0.75 * a["referrals"].sum()


def test_extra_posts_and_managers_add_capacity():
    posts = with_lever({"type": "extra_posts", "start": dt.date(2027, 4, 1), "team": "long_term", "posts": 8})
    none, more = paired(load_scenario("do-nothing"), posts, "caseload_mean", agg=np.mean)
    assert np.all(more < none)
    mgr = with_lever({"type": "team_managers", "start": dt.date(2027, 4, 1), "team": "long_term", "posts": 3})
    none, more = paired(load_scenario("do-nothing"), mgr, "supervision_load_pct", agg=np.mean, weeks=104)
    assert np.all(more < none)


def test_posts_close_when_funding_ends():
    lv = {"type": "extra_posts", "start": dt.date(2027, 4, 1), "end": dt.date(2028, 2, 28), "team": "long_term",
          "posts": 10}
    o = simulate(with_lever(lv), 2, 0, 150)
    ref = simulate(load_scenario("do-nothing"), 2, 0, 150)
    assert o["_posts_open"][0] == ref["_posts_open"][0] + 10
    assert o["_posts_open"][-1] < o["_posts_open"][0]  # vacant funded posts close after the end date
    assert o["vacancies_fte"][60:].max() <= ref["vacancies_fte"][60:].max() + 10


def test_academy_brings_more_newly_qualified_staff():
    acad = with_lever({"type": "nqsw_academy", "start": dt.date(2027, 4, 1), "extra_cohort": 8,
                       "cost_per_starter": 5000})
    none, more = paired(load_scenario("do-nothing"), acad, "staff_fte_asye", agg=np.mean, weeks=104)
    assert np.all(more > none + 3)
    o = simulate(acad, 30, 0, 104)
    assert o["cost_interventions"].sum() == pytest.approx(8 * 5000 * 2)  # two September cohorts


def test_agency_cap_releases_agency_staff_and_saves_money():
    cap = with_lever({"type": "agency_cap", "start": dt.date(2027, 4, 1), "max_share_of_posts": 0.0,
                      "release_over_weeks": 10})
    o = simulate(cap, 4, 0, 40)
    assert o["staff_fte_agency"][0] > 0 and o["staff_fte_agency"][15:].max() == 0
    ref = simulate(load_scenario("do-nothing"), 4, 0, 40)
    assert o["cost_agency"].sum() < 0.5 * ref["cost_agency"].sum()


def test_lever_errors_are_readable(tmp_path):
    p = tmp_path / "x.toml"
    p.write_text('extends = "baseline"\nname = "x"\n[[levers]]\ntype = "extra_posts"\nstart = 2028-03-01\n'
                 'end = 2027-03-01\nteam = "mars"\n', encoding="utf-8")
    with pytest.raises(ScenarioError) as exc:
        load_scenario(p)
    text = str(exc.value)
    assert "levers.0.end = \"2027-03-01\": on or after the lever's start (2028-03-01)" in text
    assert 'levers.0.team = "mars"' in text
    p.write_text('extends = "baseline"\nname = "x"\n[[levers]]\ntype = "bonus"\nstart = 2028-03-01\n', encoding="utf-8")
    with pytest.raises(ScenarioError, match="levers.0"):
        load_scenario(p)


# -- scenario library -------------------------------------------------------------------------
def test_scenario_library_has_the_options():
    names = bundled_names()
    assert {"baseline", "do-nothing", *OPTIONS} <= set(names)
    base = load_scenario("do-nothing")
    for name in OPTIONS:
        s = load_scenario(name)
        assert s.levers, name
        assert s.description and s.demand == base.demand  # options differ only in their levers
        from workforce_sim.scenario.loading import bundled_path
        text = bundled_path(name).read_text()
        assert "ILLUSTRATIVE" in text and text.count("#") > 4


# -- comparing and goal-seek ------------------------------------------------------------------
def test_compare_writes_a_table_with_costs_and_outcomes(tmp_path):
    res = CliRunner().invoke(main, ["compare", "do-nothing", "agency-reduction", "--years", "1", "--reps", "3",
                                    "--no-start-check", "--jobs", "1", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    c = pd.read_csv(tmp_path / "compare.csv")
    assert list(c.scenario) == ["do-nothing", "agency-reduction"]
    assert c.cost_difference[0] == 0 and c.cost_difference[1] < 0  # agency reduction saves money...
    assert c.agency_share_pct_end[1] < c.agency_share_pct_end[0]    # ...by having fewer agency staff
    for col in ("cost_per_year", "cost_year_1", "caseload_mean_end", "caseload_p90_end", "p_sustained",
                "median_weeks_to_first_breach", "unallocated_cases_end", "assessments_in_timescale_pct",
                "cost_per_breach_week_avoided"):
        assert col in c.columns
    assert "Cost a year" in res.output and "agency-reduction" in res.output
    assert "saves £" in res.output and "£-" not in res.output  # a saving is written as a saving


def constructed_for_goal_seek(base: dict) -> dict:
    """200 long cases, 10 workers, no demand or turnover: caseload is exactly 200 / (10 + extra posts)."""
    zero = {"asye": 0.0, "social_worker": 0.0, "senior_social_worker": 0.0, "team_manager": 0.0}
    base.update({
        "name": "known", "levers": [],
        "standards": {"manageable_caseload": 15},
        "demand": {"sources": {"none": {"contacts_per_year": 0, "referral_share": 0.1, "early_help_share": 0.0}}},
        "teams": {"front_door": {"handles": ["screening"], "posts": {"social_worker": 1}},
                  "care": {"handles": ["assessment", "cin", "cp", "cla"], "posts": {"social_worker": 10}}},
        "staff": [{"team": "front_door", "grade": "social_worker"},
                  {"team": "care", "grade": "social_worker", "count": 10}],
        "open_cases": [{"type": "cla", "count": 200, "weeks_open": 0}],
    })
    base["re_referral"]["closed_before_start_per_year"] = 0
    base["cases"]["plans"]["cla"]["duration_weeks"] = {"dist": "fixed", "value": 1000}
    del base["care"]  # children in care as a headcount: no 18th birthdays, orders or arrivals to end or add cases
    wf = base["workforce"]
    wf["capacity_points"] = {"asye": 1000, "social_worker": 1000, "senior_social_worker": 1000}
    wf["turnover"].update({"permanent_per_year": zero, "agency_per_year": 0.0})
    wf["absence"]["rate"] = 0.0
    wf["agency"]["cover_share"] = 0.0
    wf["recruitment"].update({"time_to_hire_weeks": {"dist": "fixed", "value": 0.2}, "round_failure_share": 0.0,
                              "nqsw_cohort_size": 0})
    return base


def test_goal_seek_finds_the_known_answer(base):
    scn = load_scenario(constructed_for_goal_seek(base))
    # 200 / (10 + k) <= 15 first holds at k = 4 (14.3); k = 3 gives 15.4
    res = goal_seek(scn, "extra_posts", "caseload_mean<=15", max_level=12, years=0.3, reps=2, seed=1)
    assert res.found and res.level == 4
    assert res.best.value == pytest.approx(200 / 14)
    # the target is met when the interval is: 2 of 2 futures manageable is a Wilson interval of 34% to 100%
    res = goal_seek(scn, "extra_posts", "p_sustained>=0.9", max_level=12, years=0.3, reps=2, seed=1)
    assert not res.found and res.on_average_level == 4 and res.on_average.replications_needed(res.target) == 35
    res = goal_seek(scn, "extra_posts", "p_sustained>=0.9", max_level=12, years=0.3, reps=35, seed=1)
    assert res.found and res.level == 4 and res.best.value == 1.0 and res.best.ci95_low >= 0.9
    assert res.best.cost_per_year > res.none.cost_per_year  # four more salaries


def test_goal_seek_says_when_no_level_is_enough(base):
    scn = load_scenario(constructed_for_goal_seek(base))
    res = goal_seek(scn, "extra_posts", "caseload_mean<=5", max_level=12, years=0.3, reps=2, seed=1)
    assert not res.found and res.level is None
    out = CliRunner().invoke(main, ["goal-seek", "baseline", "--lever", "extra_posts", "--target", "caseload_mean<=1",
                                    "--max", "2", "--years", "0.2", "--reps", "2", "--jobs", "1"])
    assert out.exit_code == 1 and "caseload_mean <= 1 is out of reach with extra_posts.posts up to 2" in out.output
    assert "Why: caseload_mean hardly moves with the lever" in out.output


def test_goal_seek_target_and_lever_checks():
    assert str(parse_target("p_sustained >= 0.9")) == "p_sustained >= 0.9"
    with pytest.raises(ValueError, match="should look like"):
        parse_target("p_sustained is high")
    s = lever_with_level(load_scenario("baseline"), "extra_posts", 3)
    assert s.levers[-1].posts == 3 and s.levers[-1].team == "long_term"
    out = CliRunner().invoke(main, ["goal-seek", "baseline", "--lever", "extra_posts", "--target", "nonsense<=1",
                                    "--max", "1", "--years", "0.1", "--reps", "1", "--jobs", "1"])
    assert out.exit_code == 2 and "no measure called nonsense" in out.output


def test_the_open_post_count_matches_the_posts(monkeypatch, on_python_source):
    """Posts opened by levers, closed when funding ends, and added for an academy: the kept count never drifts."""
    if on_python_source:
        return
    from workforce_sim.model.recruitment import Staffing
    original = Staffing.open_posts
    checks = []

    def checked(self):
        n = original(self)
        assert n == sum(1 for p in self.posts if not p.closed)
        checks.append(n)
        return n

    monkeypatch.setattr(Staffing, "open_posts", checked)
    scn = load_scenario({"extends": "do-nothing", "name": "x", "levers": [
        {"type": "extra_posts", "start": dt.date(2027, 4, 1), "end": dt.date(2028, 2, 28), "team": "long_term",
         "posts": 10},
        {"type": "nqsw_academy", "start": dt.date(2027, 4, 1), "extra_cohort": 30}]})
    o = simulate(scn, 3, 0, 150)
    assert len(checks) > 100 and min(checks) < max(checks)
    assert o["_posts_open"][-1] > o["_posts_open"][0]


def _synthetic(caseloads: dict[str, list[float]], weekly_cost: dict[str, float], reps=6, weeks=104,
               start="2026-04-01"):
    """A weekly table of scenarios with given caseload series (every replication alike but for a little
    noise in cost) and a constant weekly cost, from ``start``."""
    rows = []
    dates = pd.date_range(start, periods=weeks, freq="7D").date
    for name, series in caseloads.items():
        for r in range(reps):
            cost = weekly_cost[name] * (1 + 0.01 * (r - reps / 2) / reps)
            for w in range(weeks):
                c = series[w]
                rows.append({"scenario": name, "replication": r, "week": w, "date": dates[w], "cost_total": cost,
                             "cost_permanent": cost, "cost_agency": 0.0, "cost_recruitment": 0.0,
                             "cost_interventions": 0.0, "cost_placements": 0.0, "cost_legal": 0.0,
                             "cost_leaving_care": 0.0,
                             "caseload_mean": c, "caseload_p90": c, "caseload_incl_unallocated": c,
                             "unallocated_cases": 0.0, "assessments_in_timescale_pct": 85.0,
                             "staff_fte_agency": 10.0, "staff_fte": 90.0})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("start, weeks, years", [("2026-04-01", 261, 5), ("2027-04-01", 52, 1),
                                                 ("2027-04-01", 261, 5), ("2019-02-01", 157, 3)])
def test_a_run_of_whole_years_covers_whole_financial_years(start, weeks, years):
    """A run of whole years ends when its last year ends: no stray part year after it (261 weeks from 1 April
    2026 reached 1 April 2031, a '2031-32, part year: 1 day' row), none short of it (52 weeks are 364 days),
    and its cost is each day's once: the last week's daily cost counts to the end of the year."""
    w = _synthetic({"a": [17.0] * weeks}, {"a": 7_000.0}, reps=1, weeks=weeks, start=start)
    b = budget_table(w)
    days = b.drop_duplicates("financial_year").set_index("financial_year")["days"]
    first = dt.date.fromisoformat(start)
    end = first.replace(year=first.year + years)
    assert days.sum() == (end - first).days
    whole = [fy for fy in days.index if days[fy] == financial_year_days(fy)]
    assert len(whole) == (years if first.month == 4 and first.day == 1 else years - 1)
    per_day = w["cost_total"].iloc[0] / 7
    assert b[b.item == "cost_total"]["cash"].sum() == pytest.approx(per_day * days.sum(), abs=len(days))


def test_compare_verdicts_point_the_right_way_and_npc_follows_the_green_book():
    from workforce_sim.analysis.breaches import BreachRule
    from workforce_sim.analysis.compare import compare_table
    from workforce_sim.analysis.money import Money
    weeks = 104
    breaching = [17.0] * 40 + [19.0] * 64   # above 18 from week 40: 64 weeks in breach in every future
    fine = [17.0] * weeks
    w = _synthetic({"ref": breaching, "better": fine, "cheaper": breaching},
                   {"ref": 100_000.0, "better": 110_000.0, "cheaper": 90_000.0})
    rules = {s: BreachRule(18.0, 4) for s in ("ref", "better", "cheaper")}
    money = {s: Money(deflator_per_year=0.02, discount_rate=0.035) for s in rules}
    t = compare_table(w, rules, money).set_index("scenario")
    assert t.loc["better", "outcome_vs_first"] == "fewer weeks in breach"
    assert t.loc["better", "cost_vs_first"] == "costs more"
    assert t.loc["cheaper", "outcome_vs_first"] == "the same in every future"
    assert t.loc["cheaper", "cost_vs_first"] == "costs less"
    assert t.loc["better", "breach_weeks_avoided"] == pytest.approx(64)
    assert np.isnan(t.loc["cheaper", "cost_per_breach_week_avoided"])  # a saving has no price per week avoided
    # net present cost by hand: 104 weeks from 1 April 2026 are a run of two years, 365 days of 2026-27 and
    # all 366 of 2027-28 (the last week counted to 31 March 2028); the second year's cash is deflated by 1.02
    # and discounted by 1.035
    per_day = w[w.scenario == "ref"].groupby("replication")["cost_total"].first().mean() / 7
    expected = per_day * 365 + per_day * 366 / (1.02 * 1.035)
    assert t.loc["ref", "net_present_cost"] == pytest.approx(expected, rel=1e-9)
    assert t.loc["cheaper", "net_present_cost_difference"] < 0


def test_a_saving_prints_as_a_saving_with_its_interval_in_words():
    from workforce_sim.outputs.console import _cell, _diff_money, _interval_cell
    row = pd.Series({"net_present_cost_difference": -570_000.0, "net_present_cost_difference_ci95_low": -919_000.0,
                     "net_present_cost_difference_ci95_high": -221_000.0, "cost_difference": -1.0,
                     "breach_weeks_avoided": 3.0, "cost_per_breach_week_avoided": np.nan}, name=1)
    ci = ("net_present_cost_difference_ci95_low", "net_present_cost_difference_ci95_high")
    assert _cell(row, "net_present_cost_difference", _diff_money) == "saves £570k"
    assert _interval_cell(row, "net_present_cost_difference", ci) == "(saves £221k to £919k)"
    assert _cell(row, "cost_per_breach_week_avoided", _diff_money) == "saves money too"
    row2 = row.copy()
    row2[list(ci)] = [-30_000.0, 20_000.0]
    assert _interval_cell(row2, "net_present_cost_difference", ci) == "(from saving £30k to £20k more)"


def test_goal_seek_says_at_once_when_too_few_futures_can_meet_a_chance_with_its_interval():
    out = CliRunner().invoke(main, ["goal-seek", "baseline", "--lever", "extra_posts", "--target", "p_sustained>=0.9",
                                    "--reps", "20", "--years", "0.2", "--jobs", "1"])
    assert out.exit_code == 2 and "even 20 of 20" in out.output and "--reps 35" in out.output
    assert "Searching" not in out.output  # nothing was simulated


def test_compare_intervals_stay_within_what_each_measure_can_take():
    """Two futures that disagree completely give a t interval far wider than the run (issue 26, item 9: -75 to +64
    weeks in a 52-week run): each interval is cut to its measure's range (weeks avoided within the run, a chance
    within 100 points, a cost never below zero), and the mean stays as it is."""
    from workforce_sim.analysis.breaches import BreachRule
    from workforce_sim.analysis.compare import compare_table
    from workforce_sim.analysis.money import Money
    weeks, breaching, fine = 52, [19.0] * 52, [17.0] * 52
    w = _synthetic({"ref": fine, "option": fine}, {"ref": 1e5, "option": 1e5}, reps=2, weeks=weeks)
    # future 0: the reference breaches all year and the option does not; future 1 the other way round
    flip = (((w["scenario"] == "ref") & (w["replication"] == 0))
            | ((w["scenario"] == "option") & (w["replication"] == 1)))
    w.loc[flip, ["caseload_incl_unallocated", "caseload_mean", "caseload_p90"]] = breaching[0]
    rules = {s: BreachRule(18.0, 4) for s in ("ref", "option")}
    t = compare_table(w, rules, {s: Money() for s in rules}).set_index("scenario")
    row = t.loc["option"]
    assert row["breach_weeks_avoided"] == 0 and row["p_sustained_difference"] == 0
    assert row["breach_weeks_avoided_ci95_low"] == -weeks and row["breach_weeks_avoided_ci95_high"] == weeks
    assert row["p_sustained_difference_ci95_low"] == -1 and row["p_sustained_difference_ci95_high"] == 1
    assert row["cost_total_ci95_low"] >= 0 and row["net_present_cost_ci95_low"] >= 0
