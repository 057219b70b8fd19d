"""Uncertain settings in scenario files: how they are written, checked and drawn (issue 16)."""

import numpy as np
import pytest
from scipy import stats

from conftest import write_toml
from workforce_sim import load_scenario
from workforce_sim.scenario.loading import ScenarioError, bundled_names
from workforce_sim.scenario.uncertainty import (
    drawn,
    drawn_values,
    draws_table,
    quantiles_to_values,
    stream_name,
    with_values,
)

PRESSURE = "workforce.turnover.pressure_effect"


def _errors(ref, sets=()):
    with pytest.raises(ScenarioError) as e:
        load_scenario(ref, list(sets))
    return "\n".join(e.value.lines)


def test_a_range_in_place_of_a_number_runs_at_its_central_value_and_is_recorded():
    s = load_scenario("baseline", [f'{PRESSURE}={{uncertain="uniform", low=0.5, high=3.5}}',
                                   'demand.trend_per_year={uncertain="triangular", low=0, central=0.01, high=0.05}',
                                   'workforce.absence.rate={uncertain="normal", mean=0.04, sd=0.01, low=0.01, '
                                   'high=0.07}'])
    assert s.workforce.turnover.pressure_effect == 2.0  # the midpoint of a uniform range
    assert s.demand.trend_per_year == 0.01  # a triangle's peak
    assert s.workforce.absence.rate == 0.04  # a normal's mean
    assert s.uncertain[PRESSURE].range == (0.5, 3.5)
    again = load_scenario(s.model_dump())  # a scenario passed on (to workers, goal-seek, --set) keeps them
    assert again.uncertain == s.uncertain and again == s


def test_bad_ranges_name_the_file_the_key_and_what_was_expected(tmp_path):
    base = 'extends = "baseline"\nname = "x"\n[workforce.turnover]\npressure_effect = '
    cases = {
        '{ uncertain = "uniform", low = 3, high = 1 }': "workforce.turnover.pressure_effect = {uncertain = "
                                                        "\"uniform\", "
                                                        "low = 3, high = 1}: high (1) must be greater than low (3)",
        '{ uncertain = "uniform", low = -1, high = 1 }': "its low (-1) is not allowed: "
                                                         "workforce.turnover.pressure_effect "
                                                         "= -1.0: must be a number from 0 to 100",
        '{ uncertain = "wide", low = 0, high = 1 }': "pressure_effect.uncertain = \"wide\": must be one of: uniform, "
                                                     "triangular, normal",
        '{ uncertain = "triangular", low = 0, high = 1 }': "pressure_effect.central: missing; a triangular uncertain "
                                                           "setting needs low, central and high",
        '{ uncertain = "uniform", lo = 0, high = 1 }': "pressure_effect.lo: unknown key (did you mean 'low'?)",
        '{ uncertain = "normal", mean = 1, sd = 0.5, low = 1.5, high = 2 }': "mean (1) must be between low "
                                                                             "(1.5) and high",
    }
    for spec, expected in cases.items():
        f = write_toml(tmp_path / "x.toml", base + spec + "\n")
        text = _errors(f)
        assert text.startswith(str(f)) and expected in text, (spec, text)


def test_a_range_without_its_kind_says_how_to_write_one():
    text = _errors("baseline", [f"{PRESSURE}={{low=0.5, high=2}}"])
    assert "must be a valid number; to give a range for a setting that is not known" in text
    assert '{ uncertain = "uniform", low = ..., high = ... }' in text


def test_only_a_number_setting_can_be_uncertain_and_the_record_must_name_one():
    assert "only a number can be uncertain" in _errors("baseline", ['name={uncertain="uniform", low=1, high=2}'])
    text = _errors("baseline", ['uncertain={"workforce.turnover.pressure_efect"={uncertain="uniform", low=1, high=2}}'])
    assert text.startswith("--set uncertain: uncertain.workforce.turnover.pressure_efect: no number setting"), text


def test_a_combination_the_schema_refuses_at_either_end_is_an_error():
    # the shares must add up to 1: nfa alone cannot move without the others
    text = _errors("baseline", ['cases.outcomes.nfa={uncertain="uniform", low=0.40, high=0.50, central=0.418}'])
    assert "its low (0.4) is not allowed" in text and "shares must add up to 1" in text
    # a high end alone out of range, among the baseline's own uncertain settings (all valid at their lows)
    text = _errors("baseline", ['workforce.absence.rate={uncertain="uniform", low=0.01, high=1.5, central=0.03}'])
    assert "its high (1.5) is not allowed" in text and "its low" not in text


def test_set_fixes_an_uncertain_setting_and_a_file_can_fix_its_parents(tmp_path):
    assert PRESSURE in load_scenario("baseline").uncertain
    fixed = load_scenario("baseline", [f"{PRESSURE}=2.0"])
    assert PRESSURE not in fixed.uncertain and fixed.workforce.turnover.pressure_effect == 2.0
    f = write_toml(tmp_path / "x.toml", 'extends = "baseline"\nname = "x"\n[workforce.turnover]\npressure_effect = 2\n')
    assert PRESSURE not in load_scenario(f).uncertain
    # --set of a whole table, on a scenario passed on as a table, fixes every uncertain setting inside it
    passed = load_scenario("baseline").model_dump()
    turnover = dict(passed["workforce"]["turnover"], pressure_effect=2.0)
    from workforce_sim.scenario.loading import Override
    fixed = load_scenario(passed, [Override("workforce.turnover", turnover)])
    assert PRESSURE not in fixed.uncertain and "workforce.turnover.supervision_effect" not in fixed.uncertain
    assert "cases.drift.effect" in fixed.uncertain
    # a range replaces the parent's range whole, as a distribution does (no key is kept from the parent's)
    f = write_toml(tmp_path / "y.toml", 'extends = "baseline"\nname = "y"\n[cases.drift]\n'
                                        'effect = { uncertain = "uniform", low = 0.2, high = 0.4 }\n')
    spec = load_scenario(f).uncertain["cases.drift.effect"]
    assert spec.range == (0.2, 0.4) and spec.label == ""


def test_whole_number_settings_take_whole_numbers():
    key = "workforce.recruitment.nqsw_cohort_size"
    s = load_scenario("baseline", [f'{key}={{uncertain="uniform", low=0, high=7}}'])
    assert s.workforce.recruitment.nqsw_cohort_size == 4  # 3.5, rounded
    values = {drawn_values(s, 1, r)[key] for r in range(40)}
    assert values <= set(range(8)) and len(values) > 3
    # a design's quantiles become whole numbers too (2.1 and 3.85 rounded)
    assert quantiles_to_values(s, [key], np.array([[0.3], [0.55]])).tolist() == [[2.0], [4.0]]


def test_draws_follow_each_settings_distribution():
    s = load_scenario("baseline", [f'{PRESSURE}={{uncertain="uniform", low=0.5, high=2.5}}',
                                   'demand.trend_per_year={uncertain="triangular", low=0, central=0.01, high=0.05}',
                                   'workforce.absence.rate={uncertain="normal", mean=0.04, sd=0.02, low=0.01, '
                                   'high=0.07}'])
    d = draws_table([s], seed=7, reps=600)
    assert stats.kstest(d[PRESSURE], stats.uniform(0.5, 2.0).cdf).pvalue > 0.001
    assert stats.kstest(d["demand.trend_per_year"], stats.triang(0.2, loc=0, scale=0.05).cdf).pvalue > 0.001
    # the normal is cut at its low and high (truncated, not clipped: no value piles up on an end)
    absence = d["workforce.absence.rate"]
    assert absence.between(0.01, 0.07, inclusive="neither").all()
    assert stats.kstest(absence, stats.truncnorm(-1.5, 1.5, loc=0.04, scale=0.02).cdf).pvalue > 0.001
    # a design's quantiles go through the same distribution
    u = np.array([[0.2], [0.5], [0.9]])
    assert np.allclose(quantiles_to_values(s, ["demand.trend_per_year"], u)[:, 0],
                       stats.triang(0.2, loc=0, scale=0.05).ppf(u[:, 0]), rtol=1e-12)
    # independent streams: one setting's draws say nothing about another's
    assert abs(np.corrcoef(d[PRESSURE], d["demand.trend_per_year"])[0, 1]) < 0.15


def test_the_same_lever_in_two_options_draws_the_same_value():
    early, combined = load_scenario("early-help"), load_scenario("combined-package")
    assert stream_name(early, "levers.0.step_up_reduction") == stream_name(combined, "levers.2.step_up_reduction")
    for r in range(5):
        a, b = drawn_values(early, 3, r), drawn_values(combined, 3, r)
        assert a["levers.0.step_up_reduction"] == b["levers.2.step_up_reduction"]
        assert a[PRESSURE] == b[PRESSURE]


def test_a_draw_is_a_fixed_valid_scenario():
    s = load_scenario("retention")
    one = drawn(s, 5, 2)
    assert not one.uncertain and one.levers[0].leaving_reduction == drawn_values(s, 5, 2)["levers.0.leaving_reduction"]
    with pytest.raises(ScenarioError, match="is not a valid scenario"):
        with_values(s, {"workforce.turnover.pressure_effect": -1.0})


def test_every_bundled_uncertain_setting_says_what_it_is_and_why():
    for name in bundled_names():
        s = load_scenario(name)
        for key, spec in s.uncertain.items():
            assert spec.label and spec.source, (name, key)
            low, high = spec.range
            assert low <= spec.central_value <= high


def test_shares_chances_and_rates_a_year_are_shown_as_percentages():
    """Tables and words show 0.04 growth as 4% and 0.78 of rounds failing as 78%, but 14 weeks as 14 and a
    multiplier of 1.5 as 1.5: the schema marks which settings are percentages."""
    from workforce_sim.analysis.formats import setting_text
    from workforce_sim.scenario.uncertainty import in_percent

    base, combined = load_scenario("baseline"), load_scenario("combined-package")
    shown = {k: in_percent(base, k) for k in base.uncertain}
    assert {k for k, v in shown.items() if v} == {
        "demand.trend_per_year", "early_help.step_up_share_not_engaged", "workforce.recruitment.round_failure_share",
        "workforce.agency.leavers_return_share"}
    for key in ["demand.sources.police.trend_per_year", "costs.discount_rate", "costs.pay_award_per_year",
                "workforce.turnover.permanent_per_year.asye"]:
        assert in_percent(base, key), key
    for key in ["costs.salary.asye", "workforce.allocation.ceiling_share", "cases.plans.cin.duration_weeks.mean"]:
        assert not in_percent(base, key), key
    assert all(in_percent(combined, k) for k in combined.uncertain if k.startswith("levers."))  # a lever's by its type
    assert [setting_text(v, True) for v in (0.04, 0.07, 0.025, 0.85, -0.01)] == ["4%", "7%", "2.5%", "85%", "-1%"]
    assert [setting_text(v) for v in (14, 0.5, 1.3)] == ["14", "0.5", "1.3"]
    assert base.uncertain["demand.trend_per_year"].describe(lambda v: setting_text(v, True)) == \
        "triangular from 0% to 4%, most likely 2%"
