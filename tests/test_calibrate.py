"""Fitting a council's own data: known parameters come back, personal data is refused, errors are precise."""

import csv
import math
import tomllib

import numpy as np
import pytest
from click.testing import CliRunner

from workforce_sim import load_scenario
from workforce_sim.cli import main
from workforce_sim.studies.calibrate import DataError, backtest, calibrate, read_table, scenario_text
from workforce_sim.studies.exampledata import TRUTH, write_example


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
HOSTILE = ["Health services", "A&E", "école", "two\nlines", '"]\n[[levers]]\ntype="extra_posts"',
           "bell\x07 esc\x1b del\x7f", ODD, "back\\slash", "[x]", "# hash"]


def _with_sources(data, folder, rename):
    """A copy of ``data`` in ``folder`` whose contacts.csv sources are renamed by ``rename``."""
    with (data / "contacts.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        r["source"] = rename.get(r["source"], r["source"])
    with (folder / "contacts.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    for name in ("staff.csv", "closed_cases.csv"):
        (folder / name).write_bytes((data / name).read_bytes())
    return folder


def test_a_fitted_scenario_with_odd_names_reads_back(data, tmp_path):
    _with_sources(data, tmp_path, {"other": ODD})
    back = tomllib.loads(scenario_text(calibrate(tmp_path), ODD))
    assert back["name"] == ODD
    assert back["demand"]["sources"][ODD]["contacts_per_year"] > 0
    assert back["demand"]["sources"]["other"]["contacts_per_year"] == 0  # a baseline source missing from the data


def test_hostile_source_names_round_trip_and_never_add_a_table(data, tmp_path):
    originals = list(TRUTH["sources"])
    rename = dict(zip(originals, HOSTILE))  # six of the sources get hostile names
    _with_sources(data, tmp_path, rename)
    text = scenario_text(calibrate(tmp_path), HOSTILE[4])
    back = tomllib.loads(text)
    assert set(back) == {"extends", "name", "description", "start_date", "demand", "workforce", "cases"}
    assert back["name"] == HOSTILE[4] and "levers" not in back
    fitted = {s: v for s, v in back["demand"]["sources"].items() if v["contacts_per_year"] > 0}
    assert set(fitted) == set(rename.values())
    for src, new in rename.items():
        assert fitted[new]["referral_share"] == pytest.approx(TRUTH["sources"][src][2], abs=0.05)
        assert set(fitted[new]) == {"contacts_per_year", "trend_per_year", "referral_share", "early_help_share"}
    assert "# se" in text or "se " in text


def test_a_hostile_scenario_name_from_the_cli_cannot_inject_toml(data, tmp_path):
    out = tmp_path / "mine.toml"
    res = CliRunner().invoke(main, ["calibrate", str(data), "--out", str(out), "--name", HOSTILE[4]])
    back = tomllib.loads(out.read_text(encoding="utf-8"))
    assert back["name"] == HOSTILE[4] and "levers" not in back, res.output


@pytest.mark.parametrize("column, what", [("surname", "a name"), ("Date of Birth", "a date of birth"),
                                          ("NHS_Number", "an NHS number"), ("postcode", "an address"),
                                          ("Child Name", "a name"), ("pupil_number", "a unique pupil number"),
                                          ("UPN", "a unique pupil number"), ("Former UPN", "a unique pupil number"),
                                          ("uln", "a unique learner number"),
                                          ("Unique Learner Number", "a unique learner number"),
                                          ("initials", "initials"), ("Child Initials", "initials"),
                                          ("Forename", "a name"), ("NI_No", "a National Insurance number"),
                                          ("email_address", "contact details"), ("mobile_no", "contact details")])
def test_personal_identifier_columns_are_refused(tmp_path, column, what):
    p = tmp_path / "staff.csv"
    p.write_text(f"staff_id,grade,contract,fte,start_date,end_date,{column}\nS1,social_worker,permanent,1,2018-01-01,,x\n")
    with pytest.raises(DataError, match=f"column '{column}' looks like {what}"):
        read_table(p)


# (value that must be refused, what it is, a look-alike that must pass)
IDENTIFIERS = [
    ("943 476 5919", "an NHS number", "943 476 5918"),  # the look-alike fails the modulus-11 check
    ("943-476-5919", "an NHS number", "123-456-7890"),
    ("9434765919", "an NHS number", "1234567890"),
    ("AB123456C", "a National Insurance number", "AB123456E"),  # suffix must be A-D
    ("ab 12 34 56 c", "a National Insurance number", "QQ123456C"),  # Q is never a first prefix letter
    ("SW1A 1AA", "a postcode", "SW1A 1CA"),  # C never appears in the last two letters
    ("m1 1ae", "a postcode", "M1"),
    ("jo.bloggs@example.org", "an e-mail address", "schools@"),
    ("020 7946 0958", "a phone number", "020 7946"),
    ("+44 7700 900123", "a phone number", "44 7700"),
    ("(01632) 960001", "a phone number", "1632 960001"),
    ("H801200001001", "a unique pupil number", "A801200001001"),  # the look-alike has the wrong check letter
    ("B201500012345", "a unique pupil number", "S201500012345"),
    ("1234567899", "a unique learner number", "1234567890"),  # ULN check digit
    ("John Smith", "a person's name", "Youth Offending Team"),
    ("Smith, John", "a person's name", "Health services"),
    ("J. Smith", "a person's name", "A&E"),
]


@pytest.mark.parametrize("value, what, lookalike", IDENTIFIERS)
def test_identifier_values_are_refused_without_being_printed(tmp_path, value, what, lookalike):
    p = tmp_path / "contacts.csv"
    p.write_text(f"month,source,contacts,referrals\n2018-04,police,10,2\n2018-04,{value!r},10,2\n".replace("'", '"'))
    with pytest.raises(DataError) as exc:
        read_table(p)
    msg = str(exc.value)
    assert msg.startswith(f"{p}: line 3, column source: this value looks like {what}"), msg
    assert value not in msg and value.lower() not in msg.lower()
    text = f"month,source,contacts,referrals\n2018-04,police,10,2\n2018-04,{lookalike!r},10,2\n"
    p.write_text(text.replace("'", '"'))
    assert read_table(p)[1]["source"] == lookalike


def test_identifiers_are_found_in_any_column_even_inside_text(tmp_path):
    p = tmp_path / "closed_cases.csv"
    p.write_text("case_id,type,start_date,end_date,outcome,notes\n"
                 "C1,cin,2018-01-01,2018-05-01,close,fine\n"
                 "C2,cin,2018-01-01,2018-05-01,close,call 07700 900123 after 5\n")
    with pytest.raises(DataError, match="line 3, column notes: this value looks like a phone number"):
        read_table(p)
    p.write_text("case_id,type,start_date,end_date,outcome\n943 476 5919,cin,2018-01-01,2018-05-01,close\n")
    with pytest.raises(DataError, match="line 2, column case_id: this value looks like an NHS number"):
        read_table(p)


def test_a_name_in_a_category_column_is_not_printed(tmp_path):
    p = tmp_path / "staff.csv"
    p.write_text("staff_id,grade,contract,fte,start_date,end_date\nS1,Sarah Jones,permanent,1,2018-01-01,\n")
    with pytest.raises(DataError) as exc:
        read_table(p)
    assert "line 2, column grade: this value looks like a person's name" in str(exc.value)
    assert "Sarah" not in str(exc.value)


def test_pseudonymous_codes_and_example_data_pass(tmp_path):
    write_example(tmp_path, seed=3, months=13)
    for name in ("contacts.csv", "staff.csv", "closed_cases.csv"):
        assert read_table(tmp_path / name)


# -- consistency, and files that are not what they should be ---------------------------------
def _contacts(tmp_path, body):
    p = tmp_path / "contacts.csv"
    p.write_text("month,source,contacts,referrals\n" + body)
    return p


def test_a_duplicate_month_and_source_row_is_refused(tmp_path):
    p = _contacts(tmp_path, "2018-04,police,10,2\n2018-05,police,10,2\n2018-04,police,11,3\n")
    with pytest.raises(DataError, match=r"line 4: month 2018-04 and source police appear twice \(also on line 2\)"):
        read_table(p)


def test_duplicate_rows_of_staff_and_cases_are_refused(tmp_path):
    p = tmp_path / "staff.csv"
    p.write_text("staff_id,grade,contract,fte,start_date,end_date\n"
                 "S1,social_worker,permanent,1,2018-01-01,\nS1,social_worker,permanent,1,2018-01-01,\n")
    with pytest.raises(DataError, match=r"line 3: staff_id S1 starting 2018-01-01 appears twice \(also on line 2\)"):
        read_table(p)
    p = tmp_path / "closed_cases.csv"
    p.write_text("case_id,type,start_date,end_date,outcome\n"
                 "C1,cin,2018-01-01,2018-05-01,close\nC1,cin,2018-01-01,2018-05-01,close\n")
    with pytest.raises(DataError, match=r"line 3: case_id C1 .*appears twice \(also on line 2\)"):
        read_table(p)


@pytest.mark.parametrize("name, header, row", [
    ("staff.csv", "staff_id,grade,contract,fte,start_date,end_date",
     "S1,social_worker,permanent,1,2018-05-01,2018-01-01"),
    ("closed_cases.csv", "case_id,type,start_date,end_date,outcome", "C1,cin,2018-05-01,2018-01-01,close"),
])
def test_an_end_date_before_its_start_date_is_refused(tmp_path, name, header, row):
    p = tmp_path / name
    p.write_text(f"{header}\n{row}\n")
    with pytest.raises(DataError, match=r"line 2: end_date 2018-01-01 is before start_date 2018-05-01"):
        read_table(p)


def test_too_many_sources_is_a_plain_error_not_a_memory_error(tmp_path):
    body = "".join(f"2018-{m:02d},src{s},10,2\n" for s in range(20834) for m in (4,))
    p = _contacts(tmp_path, body)
    with pytest.raises(DataError, match=r"line 202: a 201st source; at most 200 sources can be fitted"):
        read_table(p)
    res = CliRunner().invoke(main, ["calibrate", str(tmp_path), "--out", str(tmp_path / "m.toml")])
    assert res.exit_code == 2 and "at most 200 sources" in res.output and "Traceback" not in res.output


def test_a_row_with_an_extra_field_names_its_line(tmp_path):
    p = _contacts(tmp_path, "2018-04,police,10,2\n2018-05,police,1,000,2\n")
    with pytest.raises(DataError, match=r"line 3: 5 fields, but the header has 4 columns"):
        read_table(p)
    p = _contacts(tmp_path, "2018-04,police,10,2\n2018-05,police,10\n")
    with pytest.raises(DataError, match=r"line 3: 3 fields, but the header has 4 columns"):
        read_table(p)


def test_lines_are_counted_in_the_file_even_with_a_quoted_line_break(tmp_path):
    p = _contacts(tmp_path, '2018-04,"police\nservice",10,2\n2018-05,police,10,x\n')
    with pytest.raises(DataError, match=r"line 4, column referrals: the value holds letters"):
        read_table(p)


def test_a_file_that_is_not_utf8_names_its_line(tmp_path):
    p = tmp_path / "contacts.csv"
    p.write_bytes(b"month,source,contacts,referrals\n2018-04,police,10,2\n2018-05,\xe9cole,10,2\n")
    with pytest.raises(DataError, match=r"contacts.csv: line 3: not UTF-8 text"):
        read_table(p)
    p.write_bytes(b"month,source,contacts,referrals\n2018-04,pol\x00ice,10,2\n")
    with pytest.raises(DataError, match=r"contacts.csv: line 2"):
        read_table(p)


def test_cli_reports_reading_and_consistency_errors_with_exit_2(tmp_path):
    write_example(tmp_path, seed=2, months=13)
    with (tmp_path / "contacts.csv").open("ab") as fh:
        fh.write(b"2016-04,police,\xff10,2\n")
    res = CliRunner().invoke(main, ["calibrate", str(tmp_path), "--out", str(tmp_path / "m.toml")])
    assert res.exit_code == 2 and "not UTF-8" in res.output and "Traceback" not in res.output, res.output
    write_example(tmp_path, seed=2, months=13)
    lines = (tmp_path / "contacts.csv").read_text().splitlines()
    (tmp_path / "contacts.csv").write_text("\n".join(lines + [lines[1]]) + "\n")
    res = CliRunner().invoke(main, ["calibrate", str(tmp_path), "--out", str(tmp_path / "m.toml")])
    assert res.exit_code == 2 and "appear twice" in res.output and "Traceback" not in res.output, res.output


@pytest.mark.parametrize("row, message", [
    ("2018-13,police,10,2", "line 3, column month: the value is not of that form; it must be a month written YYYY-MM"),
    ("2018-05,police,ten,2", "line 3, column contacts: the value holds letters; it must be a whole number"),
    ("2018-05,police,10,-2", "line 3, column referrals: the value is negative; it must be a whole number"),
])
def test_malformed_rows_name_file_line_and_column_and_what_is_wrong(tmp_path, row, message):
    p = tmp_path / "contacts.csv"
    p.write_text(f"month,source,contacts,referrals\n2018-04,police,10,2\n{row}\n")
    with pytest.raises(DataError) as exc:
        read_table(p)
    assert str(exc.value).startswith(f"{p}: {message}"), str(exc.value)


@pytest.mark.parametrize("file, header, good, bad", [
    ("contacts.csv", "month,source,contacts,referrals", "2018-04,police,10,2", "2018-05,police,10,{}"),
    ("contacts.csv", "month,source,contacts,referrals", "2018-04,police,10,2", "{},police,10,2"),
    ("staff.csv", "staff_id,grade,contract,fte,start_date,end_date",
     "S1,social_worker,permanent,1,2018-01-01,", "S2,social_worker,permanent,{},2018-01-01,"),
    ("staff.csv", "staff_id,grade,contract,fte,start_date,end_date",
     "S1,social_worker,permanent,1,2018-01-01,", "S2,{},permanent,1,2018-01-01,"),
    ("staff.csv", "staff_id,grade,contract,fte,start_date,end_date",
     "S1,social_worker,permanent,1,2018-01-01,", "S2,social_worker,permanent,1,{},"),
])
@pytest.mark.parametrize("personal", ["John Smith", "12 High Street", "Jo Bloggs 07700"])
def test_a_value_in_the_wrong_column_is_never_echoed(tmp_path, file, header, good, bad, personal):
    """A name or an address typed into a count, month, FTE, category or date column stops the read, and the
    message names the line and column but never repeats the value (the documented promise: docs/data-formats.md)."""
    p = tmp_path / file
    p.write_text(f"{header}\n{good}\n{bad.format(personal)}\n")
    with pytest.raises(DataError) as exc:
        read_table(p)
    text = str(exc.value).replace(str(p), "FILE")  # the temporary folder's name may hold digits ("pytest-124")
    assert text.startswith("FILE: line 3, column"), text
    for word in personal.split():
        assert word not in text, text


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


def test_a_fitted_file_names_its_parent_by_the_path_from_where_it_is_written(tmp_path, monkeypatch):
    """`calibrate --extends my.toml --out sub/fit.toml` (issue 26, item 5) wrote extends = "my.toml", which the loader
    looks for beside fit.toml: it loaded only from the folder it was made in, or picked up a sub/my.toml instead.
    The parent is now written by its path from the output file's folder; a bundled parent keeps its name."""
    write_example(tmp_path / "data", seed=2, months=24)
    (tmp_path / "my.toml").write_text('extends = "baseline"\nname = "mine"\n[standards]\nmanageable_caseload = 17\n')
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "my.toml").write_text('extends = "baseline"\nname = "decoy"\n[standards]\n'
                                              'manageable_caseload = 25\n')
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(main, ["calibrate", "data", "--extends", "my.toml", "--out", "sub/fit.toml"])
    assert res.exit_code == 0, res.output
    assert tomllib.loads((tmp_path / "sub" / "fit.toml").read_text())["extends"] == "../my.toml"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # loads from anywhere, with my.toml's standard, not the decoy's
    assert load_scenario(tmp_path / "sub" / "fit.toml").standards.manageable_caseload == 17
    res = CliRunner().invoke(main, ["calibrate", str(tmp_path / "data"), "--out", str(tmp_path / "sub" / "b.toml")])
    assert res.exit_code == 0 and tomllib.loads((tmp_path / "sub" / "b.toml").read_text())["extends"] == "baseline"
