"""The answer team by team: each case-holding team's caseload, a breach in any team is a breach, and capacity,
pressure and the manageable standard on one scale (issue 23, items 1 and 2)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from workforce_sim import load_scenario
from workforce_sim.analysis.breaches import SERVICE, BreachRule, breach_rule, first_breach
from workforce_sim.analysis.summary import headline
from workforce_sim.cli import main
from workforce_sim.model import Replication, simulate
from workforce_sim.outputs.words import plain_headline
from workforce_sim.scenario.loading import ScenarioError

TEAMS = ("assessment", "long_term", "children_in_care")


def team_frame(service: list[list[float]], teams: dict[str, list[list[float]]]) -> pd.DataFrame:
    """A weekly table of replications with a service-wide caseload and each team's."""
    rows = []
    for r, series in enumerate(service):
        for w, c in enumerate(series):
            row = {"scenario": "s", "replication": r, "week": w, "caseload_incl_unallocated": c}
            row |= {f"caseload_incl_unallocated_{t}": v[r][w] for t, v in teams.items()}
            rows.append(row)
    return pd.DataFrame(rows)


RULE = BreachRule(18.0, 4, (("assessment", 18.0), ("children_in_care", 15.0)))


def test_a_breach_in_one_team_is_a_breach_even_when_the_service_is_within_its_standard():
    weeks = 60
    service = [[16.0] * weeks] * 3
    teams = {"assessment": [[17.0] * weeks, [17.0] * 30 + [19.0] * 30, [17.0] * weeks],
             "children_in_care": [[14.0] * 10 + [15.5] * 50, [14.0] * weeks, [14.0] * 58 + [16.0] * 2]}
    df = team_frame(service, teams)
    assert list(first_breach(df, RULE)) == [10, 30, np.inf]  # the team's own standard (15), not the service's
    h = headline(df, {"s": RULE})
    whole = h[(h["metric"] == "p_sustained") & (h["period"] == "whole run")].iloc[0]
    assert whole["mean"] == pytest.approx(1 / 3)
    first = h[h["metric"] == "breaks_first"].set_index("statistic")["mean"]
    ever = h[h["metric"] == "team_breaches"].set_index("statistic")
    assert first["children_in_care"] == pytest.approx(1 / 3) and first["assessment"] == pytest.approx(1 / 3)
    assert first[SERVICE] == 0 and ever.loc[SERVICE, "mean"] == 0
    assert ever.loc["children_in_care", "p50"] == np.inf and ever.loc["children_in_care", "p10"] == 10


def test_an_older_run_without_team_columns_is_judged_on_the_service_alone():
    df = team_frame([[19.0] * 8, [17.0] * 8], {})
    assert list(first_breach(df, RULE)) == [0, np.inf]


def test_the_printed_answer_names_the_team_that_breaks_first():
    scn = load_scenario("baseline")
    weeks = 60
    df = team_frame([[16.0] * weeks] * 4, {
        "assessment": [[17.0] * weeks] * 3 + [[19.0] * weeks],
        "long_term": [[17.0] * weeks] * 4,
        "children_in_care": [[17.0] * 5 + [19.0] * 55] * 3 + [[17.0] * weeks]})
    part = headline(df, {"s": breach_rule(scn)})
    text = plain_headline(scn, part, 4)
    assert "break first in the children in care team (3 of 4 futures" in text
    assert "the assessment team goes over in 1 of 4" in text
    assert "Averaged over the whole service, caseloads breach in 0 of 4" in text


# -- the measures ------------------------------------------------------------------------------------
def test_team_caseloads_make_up_the_service_caseload_and_the_worst_is_their_largest():
    scn = load_scenario("baseline", ["demand.trend_per_year=0.5"])  # waiting cases too, by the second year
    out = simulate(scn, 5, 0, 104)
    teams = np.vstack([out[f"caseload_incl_unallocated_{t}"] for t in TEAMS])
    service = out["caseload_incl_unallocated"]
    # the service's caseload is the FTE-weighted mean of its teams' (waiting cases shared among them)
    assert np.all(teams.min(axis=0) <= service + 1e-9) and np.all(service <= teams.max(axis=0) + 1e-9)
    assert np.allclose(out["caseload_worst_team"], teams.max(axis=0))
    held = np.vstack([out[f"caseload_{t}"] for t in TEAMS])
    assert np.all(held <= teams + 1e-9)
    assert out["unallocated_cases"].max() > 0 and np.any(held < teams - 1e-9)


# -- one scale ---------------------------------------------------------------------------------------
def test_a_worker_at_capacity_holds_no_more_than_the_team_standard():
    """With managers allocating only up to capacity, no worker holds more cases than their team's standard, under
    heavy demand; the children in care team's lower standard holds for its workers."""
    scn = load_scenario("baseline", [
        "standards.manageable_caseload={assessment=18, long_term=17, children_in_care=14}",
        "workforce.allocation.ceiling_share=1.0", "demand.trend_per_year=0.6"])
    r = Replication(scn, 3, 0, 78)
    r.start()
    r.run()
    wf = r.workforce
    standard = np.array([scn.standard(t) if t in TEAMS else np.inf for t in wf.team_names])
    team, fte = wf.array("team"), wf.array("fte")
    holding = wf.array("active") & wf.array("holds_cases")
    assert np.all(wf.cases[holding] <= standard[team[holding]] * fte[holding] + 1e-9)
    cic = holding & (team == wf.team_names.index("children_in_care"))
    assert wf.cases[cic].max() >= 13  # they are full: the limit was reached, not avoided
    assert r.flow.waiting > 0


def test_pressure_is_measured_against_the_standard_not_the_capacity():
    """Capacity set far above the standard lets managers fill workers to 30 points; leaving answers to the
    standard: the same futures with a standard of 18 lose more permanent staff than with a standard of 30.

    At the baseline's leaving rates (about 13 permanent leavers a future in year 2) and central pressure effect
    the difference was about 12% (1.10 to 1.14 over 4 and 10 futures) against a threshold of 10%: a test decided
    by a leaver or two. A higher leaving rate (0.4 a year) gives three times the leavers and the top of the
    pressure effect's range (2.5) a clearer answer: about 1.4 to 1.5 (4 and 8 futures); with no pressure effect the
    two are the same futures exactly."""
    base = ["workforce.capacity_points={asye=30, social_worker=30, senior_social_worker=30}",
            "demand.trend_per_year=0.8", "workforce.turnover.pressure_effect=2.5",
            "workforce.turnover.permanent_per_year={asye=0.4, social_worker=0.4, senior_social_worker=0.4, "
            "team_manager=0.4}"]
    leavers = {}
    for std in (18, 30):
        total = 0.0
        for rep in range(4):
            out = simulate(load_scenario("baseline", base + [f"standards.manageable_caseload={std}"]), 11, rep, 104)
            total += out["leavers_permanent"][52:].sum()
        leavers[std] = total
    assert leavers[18] > 1.1 * leavers[30], leavers


# -- settings and commands -----------------------------------------------------------------------------
def test_a_table_of_standards_must_name_every_case_holding_team_and_only_those():
    with pytest.raises(ScenarioError, match="missing: children_in_care"):
        load_scenario("baseline", ["standards.manageable_caseload={assessment=18, long_term=17}"])
    with pytest.raises(ScenarioError, match="front_door"):
        load_scenario("baseline", ["standards.manageable_caseload={assessment=18, long_term=17, "
                                   "children_in_care=15, front_door=10}"])
    table = "standards.manageable_caseload={assessment=20, long_term=17, children_in_care=15}"
    scn = load_scenario("baseline", [table])
    rule = breach_rule(scn)
    assert dict(rule.teams) == {"assessment": 20, "long_term": 17, "children_in_care": 15}
    assert 15 < rule.threshold < 20  # the service's: the teams' weighted by their case-holding posts


def test_trace_follows_a_team():
    res = CliRunner().invoke(main, ["trace", "baseline", "--team", "children_in_care", "--years", "0.2"])
    assert res.exit_code == 0, res.output
    assert "team children_in_care: caseload:" in res.output and "(standard 18)" in res.output
    assert "team assessment" not in res.output
    bad = CliRunner().invoke(main, ["trace", "baseline", "--team", "front_door", "--years", "0.1"])
    assert bad.exit_code != 0 and "its teams are assessment, long_term, children_in_care" in bad.output


def test_a_table_of_standards_reads_in_the_answer_and_watches_the_teams_not_an_average():
    table = "standards.manageable_caseload={assessment=20, long_term=17, children_in_care=15}"
    scn = load_scenario("baseline", [table])
    rule = breach_rule(scn)
    assert rule.threshold == pytest.approx(round((20 * 20 + 49 * 17 + 15 * 15) / 84, 1))  # posts-weighted, a guide
    assert [name for name, _, _ in rule.series()] == list(TEAMS)  # the service's average is not judged
    weeks = 60
    df = team_frame([[16.0] * weeks] * 2, {"assessment": [[19.0] * weeks] * 2, "long_term": [[16.0] * weeks] * 2,
                                           "children_in_care": [[16.0] * 5 + [14.0] * 55, [14.0] * weeks]})
    part = headline(df, {"s": rule})
    text = plain_headline(scn, part, 2)
    assert ("first go above their team's standard (assessment 20, long term 17, children in care 15 cases per "
            "social worker) within the first month") in text
    assert "break first in the children in care team (1 of 2 futures" in text


def test_a_run_folder_from_before_teams_and_population_is_still_read(tmp_path):
    """A folder written before this version (no population in its manifest, no team columns) still gives its
    tables and charts, judged on the service as it was."""
    import json

    from workforce_sim import run
    from workforce_sim.outputs.plots import charts_of_run
    from workforce_sim.runs.folder import write_run
    from workforce_sim.runs.reading import run_tables
    out = tmp_path / "old"
    write_run(run("baseline", years=0.3, reps=2, seed=1), out)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    for s in manifest["scenarios"]:
        s.pop("population", None)
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    weekly = pd.read_csv(out / "weekly.csv")
    weekly.drop(columns=[c for c in weekly.columns if any(c.endswith("_" + t) for t in TEAMS)]).to_csv(
        out / "weekly.csv", index=False)
    tables = run_tables(out)
    assert tables.scenarios[0].population is None
    assert "caseloads_by_team" not in charts_of_run(tables)


def test_work_of_a_type_two_teams_hold_is_shared_by_their_weight():
    """Waiting work of a case type held by several teams is shared in proportion to their weight (FTE for the
    caseload columns, capacity at the standard for pressure), equally when none has any; other teams get none."""
    from workforce_sim.model.workforce import share_among_teams
    handles = {"cin": np.array([False, True, True]), "cla": np.array([False, False, True])}
    got = share_among_teams({"cin": 8, "cla": 2}, handles, np.array([5.0, 3.0, 1.0]))
    assert got == pytest.approx([0.0, 6.0, 2.0 + 2.0])
    assert share_among_teams({"cin": 8}, handles, np.zeros(3)) == pytest.approx([0.0, 4.0, 4.0])


def test_goal_seek_adds_posts_where_caseloads_break_first():
    """With no extra-posts lever in the scenario, goal-seek adds one to the team that breaks first with none (here
    the children in care team, held to a standard of 14), not to the largest team, and says so."""
    from workforce_sim.studies.goalseek import goal_seek
    table = "standards.manageable_caseload={assessment=18, long_term=18, children_in_care=14}"
    scn = load_scenario("baseline", [table])
    res = goal_seek(scn, "extra_posts", "p_sustained>=0.5", max_level=2, years=0.3, reps=3, seed=4, jobs=1)
    assert res.none.breaks_first == "children_in_care" and res.team == "children_in_care"
    assert scn.largest_case_holding_team() != "children_in_care"
