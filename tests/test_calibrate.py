"""Fitting a council's own data: known parameters come back, personal data is refused, errors are precise."""

import csv
import math
import tomllib

import numpy as np
import pytest
from click.testing import CliRunner

from workforce_sim import load_scenario
from workforce_sim import tomlout
from workforce_sim.calibrate import DataError, backtest, calibrate, read_table, scenario_text
from workforce_sim.cli import main
from workforce_sim.exampledata import TRUTH, write_example


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("data")
    write_example(folder, seed=11, months=48)
    return folder


@pytest.fixture(scope="module")
def fitted(data):
    return calibrate(data)


def within(estimate, se, truth, k=3.5):
    return abs(estimate - truth) <= k * se


def test_demand_comes_back_within_its_standard_errors(fitted):
    d = fitted.demand
    for s, src in enumerate(d.sources):
        per_year, trend, share = TRUTH["sources"][src]
        v, se = d.per_year(s, 0.0)  # at the first month, where the truth is stated
        assert within(v, se, per_year), (src, v, se, per_year)
        t, tse = d.trend(s)
        assert within(t, tse, trend), (src, t, tse, trend)
        p, pse = d.referral_share[src]
        assert within(p, pse, share), (src, p, pse, share)
    season, se = d.seasonality()
    truth = np.array(TRUTH["seasonality"]) / np.mean(TRUTH["seasonality"])
    assert np.all(np.abs(season - truth) <= 3.5 * np.maximum(se, 0.03)), (season, truth)


def test_leaving_comes_back_within_its_standard_errors(fitted):
    for key, truth in TRUTH["leaving"].items():
        p, se, leavers, years = fitted.leaving[key]
        assert leavers >= 1 and within(p, se, truth), (key, p, se, truth)


def test_plan_durations_and_endings_come_back(fitted):
    for kind, (mean, cv, ends) in TRUTH["plans"].items():
        got = fitted.cases[kind]
        assert within(got["mean"], got["mean_se"], mean), (kind, got["mean"], mean)
        assert abs(got["cv"] - cv) < 0.1 * cv
        for e, share in ends.items():
            n = got["n"]
            assert abs(got["ends"][e] - share) <= 3.5 * math.sqrt(share * (1 - share) / n) + 1e-9, (kind, e)
    shares = fitted.cases["assessment"]["shares"]
    for o, share in TRUTH["assessment_outcomes"].items():
        assert abs(shares[o] - share) < 0.04


def test_calibrate_writes_a_valid_scenario_with_standard_errors(data, tmp_path):
    out = tmp_path / "mine.toml"
    res = CliRunner().invoke(main, ["calibrate", str(data), "--out", str(out)])
    assert res.exit_code == 0, res.output
    text = out.read_text()
    assert 'extends = "baseline"' in text and "# se" in text
    scn = load_scenario(out)
    assert scn.name == "mine" and str(scn.start_date) == "2019-04-01"
    assert scn.demand.sources["police"].contacts_per_year > 2000
    base = load_scenario("baseline")
    assert scn.demand.sources["police"].early_help_share == base.demand.sources["police"].early_help_share


def test_sources_missing_from_the_data_are_switched_off(tmp_path):
    write_example(tmp_path, seed=2, months=24)
    lines = (tmp_path / "contacts.csv").read_text().splitlines()
    (tmp_path / "contacts.csv").write_text("\n".join(ln for ln in lines if ",police," not in ln) + "\n")
    out = tmp_path / "x.toml"
    assert CliRunner().invoke(main, ["calibrate", str(tmp_path), "--out", str(out)]).exit_code == 0
    assert load_scenario(out).demand.sources["police"].contacts_per_year == 0


ODD = 'A&E "x"\nnew'


@pytest.mark.parametrize("text", [ODD, "back\\slash", "tab\tbell\x07del\x7f", "naïve £ 東京", ""])
def test_any_string_is_written_as_toml_that_reads_back(text):
    assert tomllib.loads(f"{tomlout.key(text)} = {tomlout.value(text)}") == {text: text}


def test_a_fitted_scenario_with_odd_names_reads_back(data, tmp_path):
    with (data / "contacts.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        r["source"] = ODD if r["source"] == "other" else r["source"]
    with (tmp_path / "contacts.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    for name in ("staff.csv", "closed_cases.csv"):
        (tmp_path / name).write_bytes((data / name).read_bytes())
    back = tomllib.loads(scenario_text(calibrate(tmp_path), ODD))
    assert back["name"] == ODD
    assert back["demand"]["sources"][ODD]["contacts_per_year"] > 0
    assert back["demand"]["sources"]["other"]["contacts_per_year"] == 0  # a baseline source missing from the data


@pytest.mark.parametrize("column, what", [("surname", "a name"), ("Date of Birth", "a date of birth"),
                                          ("NHS_Number", "an NHS number"), ("postcode", "an address"),
                                          ("Child Name", "a name")])
def test_personal_identifier_columns_are_refused(tmp_path, column, what):
    p = tmp_path / "staff.csv"
    p.write_text(f"staff_id,grade,contract,fte,start_date,end_date,{column}\nS1,social_worker,permanent,1,2018-01-01,,x\n")
    with pytest.raises(DataError, match=f"column '{column}' looks like {what}"):
        read_table(p)


def test_nhs_number_values_are_refused(tmp_path):
    p = tmp_path / "closed_cases.csv"
    p.write_text("case_id,type,start_date,end_date,outcome\n943 476 5919,cin,2018-01-01,2018-05-01,close\n")
    with pytest.raises(DataError, match="line 2, column case_id: '943 476 5919' looks like an NHS number"):
        read_table(p)


@pytest.mark.parametrize("row, message", [
    ("2018-13,police,10,2", "line 3, column month = '2018-13': must be a month written YYYY-MM"),
    ("2018-05,police,ten,2", "line 3, column contacts = 'ten': must be a whole number"),
    ("2018-05,police,10,-2", "line 3, column referrals = '-2': must be a whole number"),
])
def test_malformed_rows_name_file_line_column_and_value(tmp_path, row, message):
    p = tmp_path / "contacts.csv"
    p.write_text(f"month,source,contacts,referrals\n2018-04,police,10,2\n{row}\n")
    with pytest.raises(DataError) as exc:
        read_table(p)
    assert str(exc.value) == f"{p}: {message}" or str(exc.value).startswith(f"{p}: {message}")


def test_cli_reports_data_errors_without_a_traceback(tmp_path):
    (tmp_path / "contacts.csv").write_text("month,source,contacts,referrals\n2018-04,police,10,x\n")
    res = CliRunner().invoke(main, ["calibrate", str(tmp_path), "--out", str(tmp_path / "m.toml")])
    assert res.exit_code == 2 and "line 2, column referrals" in res.output and "Traceback" not in res.output


def test_backtest_covers_about_eighty_percent(tmp_path):
    """Data drawn from the fitted kind of model: held-out months fall in the 80% band about 80% of the time."""
    inside = []
    for seed in range(4):
        folder = tmp_path / f"s{seed}"
        write_example(folder, seed=seed, months=48)
        res = backtest(folder, holdout_months=12, seed=seed)
        assert res["median_abs_pct_error"] < 10
        inside += [r["inside"] for r in res["rows"]]
    assert 0.65 <= np.mean(inside) <= 0.93, np.mean(inside)  # 96 values: 80% +/- about 3 standard errors
    res = CliRunner().invoke(main, ["backtest", str(tmp_path / "s0"), "--holdout-months", "6"])
    assert res.exit_code == 0 and "inside the 80% band" in res.output


def test_shipped_example_data_is_what_the_generator_makes(tmp_path):
    from pathlib import Path
    shipped = Path(__file__).parent.parent / "examples" / "council-data"
    write_example(tmp_path, seed=1, months=48)
    for name in ("contacts.csv", "staff.csv", "closed_cases.csv", "README.txt"):
        assert (shipped / name).read_bytes() == (tmp_path / name).read_bytes(), name
