"""Every lever type is handled everywhere: the schema, the registry, costs, goal-seek, the docs."""

from pathlib import Path

import pytest

from workforce_sim import load_scenario
from workforce_sim.model import simulate
from workforce_sim.model.levers import LEVERS, lever_types
from workforce_sim.model.measures import MEASURES
from workforce_sim.studies.goalseek import LEVELS

DOCS = Path(__file__).resolve().parents[1] / "docs" / "levers.md"
EXAMPLE = {"extra_posts": {"team": "long_term", "posts": 2}, "team_managers": {"team": "long_term"},
           "retention": {}, "recruitment_campaign": {}, "nqsw_academy": {}, "agency_cap": {"max_share_of_posts": 0.1},
           "early_help": {}, "threshold_training": {}, "foster_carers": {}, "edge_of_care": {},
           "residential_step_down": {}, "reunification": {}}


def test_every_schema_lever_type_is_in_the_registry_and_documented():
    assert set(lever_types()) == set(LEVERS)
    text = DOCS.read_text(encoding="utf-8")
    for kind in LEVERS.values():
        assert f"`{kind.type}`" in text, f"{kind.type} is not documented in docs/levers.md"
        if kind.measure:
            assert kind.measure in MEASURES, kind.measure
        if kind.level is not None:
            assert LEVELS[kind.type][0] == kind.level


@pytest.mark.parametrize("kind", sorted(EXAMPLE))
def test_every_lever_type_runs_and_is_costed(base, kind):
    assert set(EXAMPLE) == set(LEVERS)
    base["levers"] = [{"type": kind, "start": "2027-05-01", "cost_per_year": 52000.0} | EXAMPLE[kind]]
    out = simulate(load_scenario(base), 1, 0, 40)  # to November: an academy's September cohort is in
    running = 52000.0 * 30 * 7 / 365.25  # thirty whole weeks of the running cost
    got = out["cost_interventions"][10:].sum()
    if LEVERS[kind].measure:  # a cost per eligible worker or starter comes on top
        assert got > running * 1.001
    else:
        assert got == pytest.approx(running, rel=1e-9)
