"""Scenario files: every kind of bad input gets its documented, readable error."""

import re

import pytest
from click.testing import CliRunner

from workforce_sim.cli import main
from workforce_sim.scenario.loading import ScenarioError, bundled_names, bundled_path, load_scenario, parse_set


def load_err(ref, overrides=None) -> list[str]:
    with pytest.raises(ScenarioError) as exc:
        load_scenario(ref, overrides)
    return exc.value.lines


def child(tmp_path, body: str, name="x.toml"):
    p = tmp_path / name
    p.write_text('extends = "baseline"\nname = "x"\n' + body, encoding="utf-8")
    return p


def test_baseline_is_valid_and_bundled(baseline):
    assert "baseline" in bundled_names()
    assert baseline.name == "baseline"
    assert "ILLUSTRATIVE" in open(bundled_path("baseline")).read()


def test_probability_error_names_file_key_value_and_expectation(tmp_path):
    p = child(tmp_path, "[demand.sources.police]\nreferral_share = 1.4\n")
    assert load_err(p) == [f"{p.resolve()}: demand.sources.police.referral_share = 1.4: must be a probability (0 to 1)"]


def test_unknown_key_is_an_error_with_a_suggestion(tmp_path):
    p = child(tmp_path, "[workforce.turnover]\npresure_effect = 2\n")
    (line,) = load_err(p)
    assert "workforce.turnover.presure_effect: unknown key" in line
    assert "did you mean 'pressure_effect'" in line


BAD_FILES = {
    # kind of problem: (what the child scenario says, what the one error line must contain)
    "unknown top-level key": ("colour = 3\n", ["{p}: colour: unknown key"]),
    "wrong type": ('[demand]\ntrend_per_year = "fast"\n', ['demand.trend_per_year = "fast"', "number"]),
    "unknown distribution": ('[front_door]\nscreening_days = { dist = "normal", mean = 1 }\n',
                             ["front_door.screening_days", "exponential, gamma"]),
    "bad distribution parameter": ('[front_door]\nscreening_days = { dist = "gamma", mean = 1, cv = -2 }\n',
                                   ["front_door.screening_days.cv = -2"]),
    "shares not adding up": ("[cases.outcomes]\nnfa = 0.5\n", ["{p}: cases.outcomes = 1.082: shares must add up to 1"]),
    "unknown team": ('[[staff]]\nteam = "mars"\ngrade = "social_worker"\n',
                     ['staff.0.team = "mars"', "one of the teams"]),
    "screening team holding cases": ('[teams.front_door]\nhandles = ["screening", "cin"]\n',
                                     ["cannot also hold cases"]),
    "plan ending in its own type": ("[cases.plans.cp]\nends = { close = 0.5, cp = 0.5 }\n",
                                    ["cases.plans.cp.ends.cp = 0.5: a plan cannot end in a plan of its own type"]),
}


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_each_kind_of_bad_file_gets_its_error(tmp_path, kind):
    body, expected = BAD_FILES[kind]
    p = child(tmp_path, body)
    lines = load_err(p)
    assert any(all(e.format(p=p.resolve()) in line for e in expected) for line in lines), lines


def test_every_grade_needs_a_value():
    (line,) = load_err("baseline", ["costs.salary={asye=1, social_worker=2}"])
    assert line == ("--set costs.salary: costs.salary = {asye = 1, social_worker = 2}: needs a value for every grade; "
                    "missing: senior_social_worker, team_manager")


def test_staff_beyond_posts(tmp_path):
    p = child(tmp_path, "[teams.front_door]\nposts = { social_worker = 3, team_manager = 1 }\n")
    lines = load_err(p)
    assert any("staff.0.count = 4" in line and "at most 3 social_worker posts in team front_door" in line
               for line in lines)


def test_invalid_toml_names_file(tmp_path):
    p = tmp_path / "broken.toml"
    p.write_text("name = \n", encoding="utf-8")
    (line,) = load_err(p)
    assert line.startswith(f"{p.resolve()}: not valid TOML")


def test_missing_file_lists_bundled():
    (line,) = load_err("no-such-scenario.toml")
    assert "no such scenario file" in line and "baseline" in line


def test_extends_child_overrides_only_what_it_states(tmp_path):
    p = child(tmp_path, "[demand]\ntrend_per_year = 0.07\n")
    s = load_scenario(p)
    b = load_scenario("baseline")
    assert s.demand.trend_per_year == 0.07
    assert s.demand.sources == b.demand.sources and s.workforce == b.workforce


def test_extends_chain_and_blame_on_the_file_that_set_the_value(tmp_path):
    mid = child(tmp_path, "[workforce.agency]\ncover_share = 2.0\n", name="mid.toml")
    leaf = tmp_path / "leaf.toml"
    leaf.write_text('extends = "mid.toml"\nname = "leaf"\n', encoding="utf-8")
    (line,) = load_err(leaf)
    assert line.startswith(f"{mid.resolve()}: workforce.agency.cover_share = 2.0")


def test_extends_loop(tmp_path):
    (tmp_path / "a.toml").write_text('extends = "b.toml"\nname="a"\n')
    (tmp_path / "b.toml").write_text('extends = "a.toml"\nname="b"\n')
    (line,) = load_err(tmp_path / "a.toml")
    assert "extends itself in a loop" in line


def test_set_overrides_are_toml_values_not_code():
    assert parse_set("demand.trend_per_year=0.05").value == 0.05
    assert parse_set("name=mine").value == "mine"
    assert parse_set("demand.seasonality=[1,1,1,1,1,1,1,1,1,1,1,2]").value[-1] == 2
    assert parse_set("name=__import__('os').system('echo hi')").value == "__import__('os').system('echo hi')"
    s = load_scenario("baseline", ["demand.trend_per_year=0.05", "workforce.recruitment.nqsw_cohort_size=9"])
    assert s.demand.trend_per_year == 0.05 and s.workforce.recruitment.nqsw_cohort_size == 9


def test_set_errors_are_blamed_on_the_option():
    (line,) = load_err("baseline", ["workforce.absence.rate=3"])
    assert line == "--set workforce.absence.rate: workforce.absence.rate = 3: must be a probability (0 to 1)"
    (line,) = load_err("baseline", ["workforce.absense.rate=0.1"])
    assert "unknown key" in line and "did you mean 'absence'" in line
    with pytest.raises(ScenarioError, match="expected KEY=VALUE"):
        parse_set("no-equals-sign")


def test_csv_start_state(tmp_path):
    (tmp_path / "staff.csv").write_text(
        "team,grade,contract,fte,count,weeks_in_post\n"
        "front_door,social_worker,permanent,1,6,50\n"
        "assessment,social_worker,agency,0.5,3,\n"
        "long_term,senior_social_worker,permanent,1,8,200\n"
        "children_in_care,asye,permanent,1,2,10\n", encoding="utf-8")
    (tmp_path / "cases.csv").write_text("type,count,weeks_open\ncin,50,10\ncp,20,5\n", encoding="utf-8")
    p = child(tmp_path, 'staff_file = "staff.csv"\nopen_cases_file = "cases.csv"\n')
    s = load_scenario(p)
    assert [g.count for g in s.staff] == [6, 3, 8, 2]
    assert s.staff[1].fte == 0.5 and s.staff[1].contract == "agency" and s.staff[1].weeks_in_post == 104
    assert [(g.type, g.count) for g in s.open_cases] == [("cin", 50), ("cp", 20)]


def test_csv_errors_name_file_line_and_column(tmp_path):
    (tmp_path / "staff.csv").write_text(
        "team,grade,count\nfront_door,social_worker,2\nfront_door,wizard,1\n", encoding="utf-8")
    p = child(tmp_path, 'staff_file = "staff.csv"\n')
    (line,) = load_err(p)
    assert line.startswith(f"{tmp_path / 'staff.csv'}: line 3: staff.1.grade = \"wizard\"")
    (tmp_path / "staff.csv").write_text("team,grade,count\nfront_door,social_worker,two\n", encoding="utf-8")
    (line,) = load_err(p)
    assert line == f"{tmp_path / 'staff.csv'}: line 2, column count = 'two': must be a whole number"
    (tmp_path / "staff.csv").write_text("team,grade,nickname\n", encoding="utf-8")
    (line,) = load_err(p)
    assert "unknown column(s) nickname" in line


def test_cli_bad_file_exits_nonzero_without_traceback(tmp_path):
    p = child(tmp_path, "[demand.sources.police]\nreferral_share = 1.4\n")
    for args in (["validate", str(p)], ["run", str(p), "--reps", "1", "--years", "0.1", "--out", str(tmp_path / "o")]):
        res = CliRunner().invoke(main, args)
        assert res.exit_code == 2
        assert "Traceback" not in res.output
        assert re.search(r"referral_share = 1.4: must be a probability \(0 to 1\)", res.output)
    assert not (tmp_path / "o").exists()


def test_cli_validate_says_in_a_few_lines_that_the_scenario_is_valid():
    """By default validate confirms, in a few lines, and points to --settings, instead of 600 lines of settings
    before its "OK" (issue 30, item 5)."""
    res = CliRunner().invoke(main, ["validate", "baseline", "--set", "demand.trend_per_year=0.04", "--no-start-check"])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert len(lines) < 40 and lines[0] == "OK: baseline is a valid scenario (baseline, demand.trend_per_year=0.04)."
    assert "Starts on 1 April 2027; a run lasts 5 years" in res.stdout and "validate baseline --settings" in res.stdout
    assert "[workforce.turnover]" not in res.output
    plain = CliRunner().invoke(main, ["validate", "baseline", "--no-start-check"]).output.splitlines()
    assert plain[0] == "OK: baseline is a valid scenario."  # its name is not repeated where nothing was changed
    assert "4 teams," in plain[2] and "no levers," in plain[2] and "(s)" not in plain[2]


def test_cli_validate_settings_prints_resolved_values_and_set_applies():
    res = CliRunner().invoke(main, ["validate", "baseline", "--set", "demand.trend_per_year=0.04", "--no-start-check",
                                    "--settings"])
    assert res.exit_code == 0, res.output
    assert "trend_per_year = 0.04" in res.stdout and "[workforce.turnover]" in res.stdout
    assert "OK: baseline is a valid scenario" in res.stderr and "OK:" not in res.stdout


def test_validate_settings_output_is_itself_a_loadable_scenario(tmp_path):
    res = CliRunner().invoke(main, ["validate", "baseline", "--settings", "--no-start-check"])
    assert res.exit_code == 0
    p = tmp_path / "resolved.toml"
    p.write_text(res.stdout, encoding="utf-8")
    assert load_scenario(p) == load_scenario("baseline")


def test_cli_scenarios_and_init(tmp_path):
    res = CliRunner().invoke(main, ["scenarios"])
    assert res.exit_code == 0 and "baseline" in res.output
    target = tmp_path / "my-council.toml"
    res = CliRunner().invoke(main, ["init", str(target)])
    assert res.exit_code == 0 and target.exists()
    mine = load_scenario(target)
    assert mine.name == "my-council"  # named after its file, so it can run beside the baseline
    assert mine.model_copy(update={"name": "baseline"}) == load_scenario("baseline")
    assert "# Baseline: an ILLUSTRATIVE council" in target.read_text(encoding="utf-8")  # comments kept
    res = CliRunner().invoke(main, ["init", str(target)])
    assert res.exit_code != 0 and "exists already" in res.output
    odd = tmp_path / "!odd.toml"  # not a usable scenario name: the copied name is kept
    assert CliRunner().invoke(main, ["init", str(odd)]).exit_code == 0 and load_scenario(odd).name == "baseline"


def test_a_distribution_is_replaced_whole_not_merged(tmp_path):
    p = child(tmp_path, '[cases]\nassessment_days = { dist = "exponential", mean = 9 }\n')
    s = load_scenario(p)
    assert s.cases.assessment_days.dist == "exponential" and s.cases.assessment_days.mean == 9


def _leaf_keys(model, prefix=""):
    """Every leaf key path of the schema, descending into tables, dicts of tables and lists of tables."""
    import typing

    from pydantic import BaseModel

    def unwrap(ann):
        return typing.get_args(ann)[0] if typing.get_origin(ann) is typing.Annotated else ann

    out = []
    for name, f in model.model_fields.items():
        ann = unwrap(f.annotation)
        origin = typing.get_origin(ann)
        inner = unwrap(typing.get_args(ann)[-1]) if origin in (dict, list) else ann
        members = typing.get_args(inner) if typing.get_origin(inner) is typing.Union else ()
        if members and all(isinstance(m, type) and issubclass(m, BaseModel) and "type" in m.model_fields
                           for m in members):
            for member in members:  # the kinds of lever (distributions have their own table)
                out += _leaf_keys(member, f"{prefix}{name}.0.")
        elif isinstance(inner, type) and issubclass(inner, BaseModel):
            step = ".NAME." if origin is dict else ".0." if origin is list else "."
            out += _leaf_keys(inner, f"{prefix}{name}{step}")
        else:
            out.append(f"{prefix}{name}")
    return out


def test_every_scenario_key_is_documented():
    from pathlib import Path

    from workforce_sim.scenario.schema import Scenario
    doc = (Path(__file__).parent.parent / "docs" / "scenario-files.md").read_text()
    missing = [k for k in _leaf_keys(Scenario)
               if f"`{k.split('.')[-1]}`" not in doc and f".{k.split('.')[-1]}`" not in doc]
    assert not missing, f"keys missing from docs/scenario-files.md: {missing}"


def test_every_published_column_is_declared_and_documented_in_the_readme():
    """weekly.csv's columns come from the measure registry; the README's table lists each of them."""
    import re
    from pathlib import Path

    from workforce_sim.model.measures import MEASURES, WEEKLY_COLUMNS
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("| column | meaning |"):]
    rows = "\n".join(line.split("|")[1] for line in table.splitlines() if line.startswith("| `"))
    listed = set(re.findall(r"`([a-z0-9_]+)`", rows))
    assert set(WEEKLY_COLUMNS) == listed, (set(WEEKLY_COLUMNS) ^ listed)
    assert all(MEASURES[c].unit and MEASURES[c].meaning for c in WEEKLY_COLUMNS)


def test_an_undeclared_measure_is_refused():
    import numpy as np

    from workforce_sim.model.monitoring import Monitor
    m = Monitor(np.arange(4.0), {"referrals"})
    m.count("referrals", 1.0)
    for bad in (lambda: m.count("referals", 1.0), lambda: m.set("referals", 0, 1.0), lambda: m.results(["referals"])):
        with pytest.raises(KeyError, match="not a declared measure"):
            bad()


def test_start_moves_dated_levers_by_whole_months_and_pay_by_its_awards():
    import datetime as dt

    from workforce_sim.scenario.loading import shifted
    base = load_scenario("nqsw-academy")
    assert base.start_date == dt.date(2027, 4, 1) and base.levers[0].start == dt.date(2027, 9, 1)
    later = load_scenario("nqsw-academy", start=dt.date(2028, 4, 1))
    assert later.start_date == dt.date(2028, 4, 1) and later.levers[0].start == dt.date(2028, 9, 1)  # still September
    assert later.changes == ["start=2028-04-01"] and later.label == "nqsw-academy, start=2028-04-01"
    award = base.costs.pay_award_per_year
    assert later.costs.salary["social_worker"] == pytest.approx(base.costs.salary["social_worker"] * (1 + award))
    assert later.costs.agency_premium_per_year == pytest.approx(base.costs.agency_premium_per_year * (1 + award))
    # a start on another day of the month moves levers by the same number of days
    odd = load_scenario("nqsw-academy", start=dt.date(2027, 4, 15))
    assert odd.levers[0].start == dt.date(2027, 9, 15)
    assert odd.costs.salary == base.costs.salary  # no 1 April passed
    # month ends stay inside their month, in leap years too
    assert shifted(dt.date(2027, 1, 31), dt.date(2026, 4, 1), dt.date(2026, 5, 1)) == dt.date(2027, 2, 28)
    assert shifted(dt.date(2027, 1, 31), dt.date(2026, 4, 1), dt.date(2027, 5, 1)) == dt.date(2028, 2, 29)


def test_a_lever_before_the_start_is_an_error_that_names_start():
    import datetime as dt
    with pytest.raises(ScenarioError) as err:
        load_scenario("nqsw-academy", ["start_date=2028-04-01"])
    (line,) = err.value.lines
    assert "levers.0.start" in line and "2027-09-01" in line and "--start DATE" in line
    assert load_scenario("nqsw-academy", start=dt.date(2028, 4, 1)).levers[0].start == dt.date(2028, 9, 1)


def test_set_for_one_scenario_goes_to_that_one_only():
    from click.testing import CliRunner

    from workforce_sim.cli import _split_sets
    assert _split_sets(("do-nothing", "my/retention.toml"), ("a.b=1", "retention:c.d=2", "do-nothing:e=3")) == [
        ["a.b=1", "e=3"], ["a.b=1", "c.d=2"]]
    res = CliRunner().invoke(main, ["validate", "baseline", "--set", "nosuch:demand.trend_per_year=0.1",
                                    "--no-start-check", "-q"])
    assert res.exit_code == 2 and "'nosuch' is not one of this command's scenarios" in res.output
    res = CliRunner().invoke(main, ["validate", "baseline", "--set", "baseline:demand.trend_per_year=0.1",
                                    "--no-start-check"])
    assert res.exit_code == 0 and "(baseline, demand.trend_per_year=0.1)" in res.output


def test_a_bad_lever_value_names_its_key_and_who_set_it():
    """A lever's table carries its kind (type = "retention"), which the error's location holds as a tag: the
    message names the key as the file and --set write it, not 'levers.0.retention...: missing'."""
    from workforce_sim.scenario.loading import ScenarioError

    with pytest.raises(ScenarioError) as e:
        load_scenario("retention", ["levers.0.leaving_reduction=1.5"])
    assert e.value.lines == ["--set levers.0.leaving_reduction: levers.0.leaving_reduction = 1.5: must be a "
                             "probability (0 to 1)"]


def test_overrides_apply_to_a_scenario_already_loaded(baseline):
    """run() and sensitivity() take a loaded Scenario with --set overrides (loading.as_scenario): the overrides
    go through the loader, checked and recorded as from a file; without overrides the scenario is used as it is."""
    from workforce_sim import run
    from workforce_sim.scenario.loading import as_scenario

    got = as_scenario(baseline, ["demand.trend_per_year=0.07"])
    assert got.demand.trend_per_year == 0.07 != baseline.demand.trend_per_year
    assert "demand.trend_per_year=0.07" in got.changes
    assert as_scenario(baseline) is baseline
    with pytest.raises(ScenarioError, match="demand.trend_per_yer"):
        as_scenario(baseline, ["demand.trend_per_yer=0.07"])
    result = run(baseline, years=0.05, reps=1, seed=1, overrides=["demand.trend_per_year=0.07"], jobs=1)
    assert result.scenarios[0].demand.trend_per_year == 0.07


def test_start_takes_a_date_today_or_next_april():
    import datetime as dt

    from workforce_sim.scenario.calendar import start_day
    december = dt.date(2026, 12, 6)
    assert start_day("next-april", december) == dt.date(2027, 4, 1)
    assert start_day("next-april", dt.date(2027, 4, 1)) == dt.date(2027, 4, 1)  # on a 1 April: that day
    assert start_day("next-april", dt.date(2027, 4, 2)) == dt.date(2028, 4, 1)
    assert start_day(" Today ", december) == december
    assert start_day("2027-09-01", december) == dt.date(2027, 9, 1)
    with pytest.raises(ValueError, match="'tomorrow' is not a date: write a date such as 2027-04-01"):
        start_day("tomorrow", december)
    res = CliRunner().invoke(main, ["run", "baseline", "--start", "yesterday", "--years", "0.1", "--reps", "1"])
    assert res.exit_code == 2 and "'yesterday' is not a date" in res.output
