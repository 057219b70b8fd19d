"""The reference council: Herefordshire as of 1 February 2019 (scenarios/herefordshire-2019.toml).

The scenario starts from the council's figures published before Ofsted's letter of 14 February 2019 (national-series.md,
"Herefordshire Council, up to February 2019"): 300 children looked after and 200 child protection plans at 31 March
2018, about 36,000 children (300 looked after were 84 per 10,000 in 2017), agency workers 11% of social workers in
2017. The tolerances: the published counts are whole numbers for a date ten months before the start, so the start
may differ by a few per cent; the agency share is a 2017 figure, so a wider range. Each option adds one lever.
"""

from __future__ import annotations

import datetime as dt
import tomllib

import pytest

from workforce_sim import bundled_names, load_scenario
from workforce_sim.model import simulate
from workforce_sim.scenario.loading import bundled_path

OPTIONS = sorted(n for n in bundled_names() if n.startswith("herefordshire-2019-"))


@pytest.fixture(scope="module")
def scn():
    return load_scenario("herefordshire-2019")


def test_it_starts_on_1_february_2019_with_the_councils_published_population_and_stocks(scn):
    assert scn.start_date == dt.date(2019, 2, 1)
    assert scn.population.children == pytest.approx(35_700, rel=0.02)  # 300 at 84 per 10,000 in 2017 [derived]
    open_cases = {}
    for g in scn.open_cases:
        open_cases[g.type] = open_cases.get(g.type, 0) + g.count
    assert open_cases["cla"] == pytest.approx(300, rel=0.03)  # looked after at 31 March 2018
    assert open_cases["cp"] == pytest.approx(200, rel=0.03)  # child protection plans at 31 March 2018


def test_its_first_weeks_hold_the_published_figures(scn):
    """Stocks read at the end of the first week (before the model has moved far): children in care and on plans as
    published for March 2018, children in care per 10,000 near the 83 published, agency about the 2017 share."""
    out = simulate(scn, 2019, 0, 4)
    assert out["cla_open"][0] == pytest.approx(300, rel=0.05)
    assert out["cp_open"][0] == pytest.approx(200, rel=0.05)
    assert out["cla_open_per_10k"][0] == pytest.approx(83, abs=4)
    agency = out["staff_fte_agency"][:4].mean() / out["staff_fte"][:4].mean()
    assert 0.08 <= agency <= 0.15, agency  # 11% in 2017


def test_nothing_in_it_is_dated_after_the_letter():
    """The scenario and its options start on 1 February 2019 and the options' levers from April 2019, the financial
    year a council could still plan for in February 2019; the council's own file cites no figure from 2020 on."""
    for name in ["herefordshire-2019", *OPTIONS]:
        s = load_scenario(name)
        assert s.start_date == dt.date(2019, 2, 1)
        assert all(lv.start <= dt.date(2019, 4, 1) for lv in s.levers), name
        text = bundled_path(name).read_text(encoding="utf-8")
        later = [y for y in range(2020, 2027) if f" {y}" in text and name == "herefordshire-2019"]
        assert later == [], f"{name} mentions {later}: only figures known by February 2019 may set it"


@pytest.mark.parametrize("name", OPTIONS)
def test_each_option_is_the_council_with_one_lever(name):
    with bundled_path(name).open("rb") as fh:
        raw = tomllib.load(fh)
    assert raw["extends"] == "herefordshire-2019.toml" and len(raw["levers"]) == 1
    assert set(raw) <= {"extends", "name", "description", "levers"}, set(raw)
    assert len(OPTIONS) >= 4
