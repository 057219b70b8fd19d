"""Every contact, case and worker is accounted for at every weekly snapshot."""

import numpy as np
from hypothesis import HealthCheck, given, settings, strategies as st

from workforce_sim import load_scenario
from workforce_sim.model import simulate


def check_books(out: dict, scn) -> None:
    cum = np.cumsum
    # contacts: arrived = decided + awaiting a decision
    decided = cum(out["_contacts_decided"])
    assert np.array_equal(cum(out["contacts"]), decided + out["front_door_backlog"])
    # decisions: referral + early help + no further action
    assert np.all(cum(out["_contacts_referred"]) + cum(out.get("_contacts_to_early_help", 0 * decided)) <= decided)
    # cases: created = closed + open
    open_now = out["assessments_open"] + out["cin_open"] + out["cp_open"] + out["cla_open"]
    assert np.array_equal(out["_cases_created"], out["_cases_closed_total"] + open_now)
    assert np.array_equal(cum(out["cases_closed"]), out["_cases_closed_total"])
    # every open case is either held by a worker or waiting unallocated
    assert np.array_equal(out["_cases_held"] + out["unallocated_cases"], open_now)
    # workers: at the start + starters - leavers = in post
    assert np.array_equal(out["_workers_initial"] + cum(out["starters"]) - cum(out["leavers_incl_agency"]),
                          out["_workers_in_post"])
    assert np.array_equal(out["_workers_started"], cum(out["starters"]))
    # posts: every funded post is filled by a permanent worker or vacant
    posts = sum(sum(t.posts.values()) for t in scn.teams.values())
    assert np.all(out["vacancies_fte"] <= posts) and np.all(out["vacancies_fte"] >= 0)
    # stocks never negative
    for k in ("assessments_open", "cin_open", "cp_open", "cla_open", "early_help_open", "unallocated_cases"):
        assert np.all(out[k] >= 0), k


def test_books_balance_on_the_baseline(baseline):
    for r in range(2):
        check_books(simulate(baseline, 21, r, 156), baseline)


def test_books_balance_under_heavy_turnover_and_shortage():
    scn = load_scenario("baseline", [
        "workforce.turnover.permanent_per_year={asye=0.6, social_worker=0.6, senior_social_worker=0.6, "
        "team_manager=0.6}",
        "workforce.turnover.agency_per_year=0.9", "workforce.recruitment.round_failure_share=0.9",
        "demand.trend_per_year=0.3"])
    out = simulate(scn, 4, 0, 156)
    check_books(out, scn)
    assert out["leavers_incl_agency"].sum() > 50 and out["unallocated_cases"].max() > 50  # the stress really happened


def test_books_balance_in_a_short_agency_market():
    """A market that offers few agency workers, at a premium that moves, with project workers and leavers coming
    back as agency under the national rules: every worker is still accounted for, requests wait (never fewer
    than none, never more than were placed), and agency cover never exceeds the posts it covers."""
    scn = load_scenario("baseline", [
        "demand.trend_per_year=0.4", "workforce.capacity_points={asye=18, social_worker=18, senior_social_worker=16}",
        "workforce.agency.offers_per_year_per_post=0.15", "workforce.agency.max_share_of_posts=0.8",
        "workforce.agency.project_share_of_posts=0.3", "workforce.agency.project_share_of_posts_under_rules=0.2",
        "workforce.agency.leavers_return_share=1"])
    out = simulate(scn, 5, 0, 156)
    check_books(out, scn)
    waiting = out["agency_requests_waiting"]
    assert waiting.max() > 3 and out["staff_fte_agency_project"].max() > 0  # the shortage really happened
    assert np.all(waiting >= 0) and np.all(waiting <= np.cumsum(out["agency_requests"]))
    cover = out["staff_fte_agency"] - out["staff_fte_agency_project"]
    assert np.all(cover <= out["vacancies_fte"] + 1e-9)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(turnover=st.floats(0.0, 0.8), demand=st.floats(0.3, 2.0), absence=st.floats(0.0, 0.3),
       cover=st.floats(0.0, 1.0), seed=st.integers(0, 2**31))
def test_books_balance_whatever_the_parameters(turnover, demand, absence, cover, seed):
    scn = load_scenario("baseline", [
        f"workforce.turnover.permanent_per_year={{asye={turnover}, social_worker={turnover}, "
        f"senior_social_worker={turnover}, team_manager={turnover}}}",
        f"demand.sources.police.contacts_per_year={2300 * demand}",
        f"demand.sources.schools.contacts_per_year={1250 * demand}",
        f"workforce.absence.rate={absence}", f"workforce.agency.cover_share={cover}"])
    check_books(simulate(scn, seed, 0, 40), scn)
