"""What workforce_sim writes cannot attack the person who opens it: no spreadsheet formulas in CSV
cells (issue 14, item 3), no injected TOML in fitted scenarios (item 4)."""

import csv
import tomllib

import pandas as pd
import pytest
from click.testing import CliRunner

from workforce_sim.cli import main
from workforce_sim.runs.folder import write_csv
from workforce_sim.scenario import tomlout

FORMULAS = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1:A2)", "\t=1+1", "\r=1+1", "=", "-",
            "-cmd|' /C calc'!A0"]


def cells(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


@pytest.mark.parametrize("text", FORMULAS)
def test_a_text_cell_that_a_spreadsheet_would_run_is_neutralised(tmp_path, text):
    p = tmp_path / "x.csv"
    write_csv(pd.DataFrame({"scenario": [text, "baseline"], "mean": [-1.5, 2.0]}), p)
    rows = cells(p)
    assert rows[1][0] == "'" + text and rows[2][0] == "baseline"
    assert rows[1][1] == "-1.5"  # a negative number stays a number


def test_numbers_stay_numbers_and_plain_text_is_untouched(tmp_path):
    p = tmp_path / "x.csv"
    df = pd.DataFrame({"scenario": ["A&E", "école", "more-posts", "'quoted"],
                       "change": [-3, -0.25, 0, 4],  # numeric columns: never touched
                       "as_text": ["-3", "+4.5", "-1e-3", "-inf"],  # numbers held as text stay numbers
                       "date": pd.to_datetime(["2020-01-06"] * 4)})
    write_csv(df, p)
    rows = cells(p)
    assert rows[0] == ["scenario", "change", "as_text", "date"]
    assert [r[0] for r in rows[1:]] == ["A&E", "école", "more-posts", "'quoted"]
    assert [r[1] for r in rows[1:]] == ["-3", "-0.25", "0", "4"]
    assert [r[2] for r in rows[1:]] == ["-3", "+4.5", "-1e-3", "'-inf"]
    assert [r[3] for r in rows[1:]] == ["2020-01-06"] * 4


def test_column_names_and_categories_are_neutralised_too(tmp_path):
    p = tmp_path / "x.csv"
    df = pd.DataFrame({"=cmd": pd.Categorical(["@x", "fine", "@x"]), "n": [1, 2, 3]})
    write_csv(df, p)
    rows = cells(p)
    assert rows[0] == ["'=cmd", "n"] and [r[0] for r in rows[1:]] == ["'@x", "fine", "'@x"]


def test_write_csv_leaves_the_frame_it_was_given_alone(tmp_path):
    df = pd.DataFrame({"scenario": ["=1+1"], "x": [1.0]})
    write_csv(df, tmp_path / "x.csv")
    assert df["scenario"].tolist() == ["=1+1"]


def test_a_formula_scenario_name_never_reaches_a_csv(tmp_path):
    """The scenario name is the text a run copies into every CSV: a formula there is refused at the
    door (a name must be a plain folder name), before write_csv would neutralise it anyway."""
    out = tmp_path / "out"
    for name in ("@SUM(1+1)", "=HYPERLINK(x)", "+1", "-x"):
        res = CliRunner().invoke(main, ["run", "baseline", "--years", "0.1", "--reps", "1", "--jobs", "1",
                                        "--out", str(out), "--set", f"name={name!r}".replace("'", '"')])
        assert res.exit_code == 2 and "name" in res.output and "Traceback" not in res.output, res.output
        assert not out.exists() or not list(out.glob("*.csv"))


# -- TOML ---------------------------------------------------------------------------------------
HOSTILE = ["Health services", "A&E", "école", "two\nlines", '"]\n[[levers]]\ntype="extra_posts"',
           "bell\x07 nul\x00 del\x7f esc\x1b", "back\\slash", "quote \" and ' apostrophe", "[x]", "# not a comment"]


def test_tomlout_writes_through_a_toml_library():
    import tomli_w
    data = {"name": HOSTILE[4], "demand": {"sources": {s: {"contacts_per_year": 1.0} for s in HOSTILE}}}
    assert tomlout.dumps(data) == tomli_w.dumps(data)
    assert tomllib.loads(tomlout.dumps(data)) == data


def test_tomlout_leaves_out_none_values_at_any_depth():
    assert tomllib.loads(tomlout.dumps({"a": None, "b": {"c": None, "d": 1}, "e": [{"f": None, "g": 2}]})) == {
        "b": {"d": 1}, "e": [{"g": 2}]}


@pytest.mark.parametrize("text", HOSTILE + [""])
def test_a_comment_line_cannot_end_early(text):
    line = tomlout.comment(text)
    assert "\n" not in line and "\r" not in line and line.startswith("# ")
    assert tomllib.loads(line + "\nx = 1\n") == {"x": 1}


def test_table_writes_keys_and_values_by_the_library_with_notes_above():
    text = tomlout.table(("demand", "sources", HOSTILE[4]), {"contacts_per_year": 12.5, "trend_per_year": -0.01},
                         {"contacts_per_year": "se 1.0\n[[levers]]"})
    assert tomllib.loads(text) == {"demand": {"sources": {HOSTILE[4]: {"contacts_per_year": 12.5,
                                                                       "trend_per_year": -0.01}}}}
    lines = text.splitlines()
    i = lines.index("contacts_per_year = 12.5")
    assert lines[i - 1].startswith("# se 1.0")
