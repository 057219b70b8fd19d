"""Issue 14: no input gives a traceback; every bad input gets a plain error naming the key (exit 2).

Covers the scenario name as a folder name (item 5), NaN, infinities and dates (6), loading many keys
and deep extends chains (12), other tracebacks on loading (13), leaks and hints (14), the top-level
error boundary with --debug, and a property-based test that throws random scenario files and
--set values at validate and run.
"""

from __future__ import annotations

import copy as _copy
import datetime as _dt
import sys
import tomllib as _tomllib
from pathlib import Path

import pytest
import tomli_w
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings, strategies as st

from workforce_sim.cli import main
from workforce_sim.scenario.loading import ScenarioError, bundled_path, load_scenario


def load_err(ref, overrides=None) -> list[str]:
    with pytest.raises(ScenarioError) as exc:
        load_scenario(ref, overrides)
    return exc.value.lines


def child(tmp_path, body: str, name="x.toml", scenario_name="x"):
    p = tmp_path / name
    p.write_text(f'extends = "baseline"\nname = "{scenario_name}"\n' + body, encoding="utf-8")
    return p


def cli(*args):
    return CliRunner().invoke(main, list(args))


# -- item 5: the scenario name picks the output folder ---------------------------------------
@pytest.mark.parametrize("value", ['"/tmp/x/escaped"', '"../.."', '""', '"a/b"', '"a\\\\b"', '".hidden"',
                                   '"-rf"', '"x\\u0000y"', '"x\\ny"',
                                   pytest.param('"' + "n" * 10_000 + '"', id="10,000 characters"), '"con:1"'])
def test_unsafe_scenario_names_are_refused(value):
    (line,) = load_err("baseline", [f"name={value}"])
    assert line.startswith("--set name: name = ")
    assert "folder name" in line
    assert len(line) < 400  # a 10,000-character name is not echoed whole


@pytest.mark.parametrize("name", ["baseline", "Extra posts 2025", "option_b.v2", "a", "x" * 80, "Option-3 (draft)"[:8]])
def test_ordinary_scenario_names_pass(name):
    assert load_scenario("baseline", [f'name="{name}"']).name == name


def test_unsafe_name_in_a_file_names_file_and_key(tmp_path):
    p = child(tmp_path, "", scenario_name="../../escaped")
    (line,) = load_err(p)
    assert line.startswith(f'{p.resolve()}: name = "../../escaped": ')


def test_run_with_an_unsafe_name_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = cli("run", "baseline", "--set", f"name={tmp_path / 'escaped'}", "--years", "0.1", "--reps", "1",
              "--jobs", "1")
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output and "--set name" in res.output
    assert not (tmp_path / "escaped").exists() and not (tmp_path / "outputs").exists()


def test_bundled_scenarios_all_load():
    from workforce_sim.scenario.loading import bundled_names
    for name in bundled_names():
        assert load_scenario(name).name


# -- item 6: NaN, infinities and dates --------------------------------------------------------
@pytest.mark.parametrize("key,value", [
    ("demand.sources.police.contacts_per_year", "nan"),
    ("standards.manageable_caseload", "nan"),
    ("standards.manageable_caseload", "inf"),
    ("demand.trend_per_year", "inf"),
    ("demand.trend_per_year", "nan"),
    ("costs.pay_award_per_year", "nan"),
    ("costs.salary.asye", "inf"),
    ("workforce.turnover.permanent_per_year.asye", "nan"),
    ("demand.seasonality", "[1,1,1,1,1,1,1,1,1,1,1,nan]"),
    ("workforce.absence.mean_spell_weeks", "inf"),
    ("workforce.allocation.ceiling_share", "+inf"),
    ("cases.pressure_slowdown", "-nan"),
])
def test_nan_and_inf_are_refused(key, value):
    (line,) = load_err("baseline", [f"{key}={value}"])
    assert line.startswith(f"--set {key}: {key}")
    assert "finite" in line


@pytest.mark.parametrize("dist", [
    '{dist = "gamma", mean = inf, cv = 0.5}', '{dist = "gamma", mean = 3, cv = nan}',
    '{dist = "exponential", mean = inf}', '{dist = "lognormal", mean = nan, cv = 1}',
    '{dist = "fixed", value = inf}', '{dist = "uniform", low = 0, high = inf}',
    '{dist = "empirical", edges = [0, inf], weights = [1]}', '{dist = "empirical", edges = [0, 1], weights = [nan]}',
])
def test_distributions_refuse_nan_and_inf(dist):
    (line,) = load_err("baseline", [f"cases.plans.cp.duration_weeks={dist}"])
    assert line.startswith("--set cases.plans.cp.duration_weeks: cases.plans.cp.duration_weeks.")
    assert "finite" in line


@pytest.mark.parametrize("value", ["9999-12-31", "1900-01-01", "0001-01-01", "2101-01-01", "1989-12-31"])
def test_start_date_out_of_range_is_refused(value):
    (line,) = load_err("baseline", [f"start_date={value}"])
    assert line.startswith(f"--set start_date: start_date = {value}: ")
    assert "1990-01-01" in line and "2100-12-31" in line


@pytest.mark.parametrize("value", ["1990-01-01", "2100-12-31"])
def test_start_date_at_the_ends_of_the_range_passes(value):
    assert str(load_scenario("baseline", [f"start_date={value}"]).start_date) == value


@pytest.mark.parametrize("years", ["inf", "nan", "-inf", "1e308", "101"])
def test_years_must_be_finite_and_bounded(years, tmp_path):
    res = cli("run", "baseline", "--years", years, "--reps", "1", "--jobs", "1", "--out", str(tmp_path / "o"))
    assert res.exit_code == 2, res.output
    assert "--years" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "o").exists()


# -- item 12: many keys, deep extends chains --------------------------------------------------
def _lines_run_loading(path: Path) -> tuple[int, int]:
    """The lines of Python run while ``path`` loads (the loader, tomllib, copying, pydantic's Python parts), and the
    sources loaded: a count of the work done, the same on a fast machine and a busy one."""
    count = 0

    def line(frame, event, arg):
        nonlocal count
        count += event == "line"
        return line

    before = sys.gettrace()
    sys.settrace(lambda frame, event, arg: line)
    try:
        scn = load_scenario(path)
    finally:
        sys.settrace(before)
    return count, len(scn.demand.sources)


def test_loading_grows_in_proportion_to_the_sources(tmp_path):
    """8,000 sources cost about 8 times the work of 1,000 (linear; a loader that compared every key with every
    other would cost 64 times). Work is counted as lines of Python run, not timed, so a busy machine cannot fail
    it (the time is printed by benchmarks/bench_model.py)."""
    def many(n: int) -> Path:  # a new text each time: the parsed-file cache must not answer
        lines = ['extends = "baseline"', f'name = "many{n}"', "[demand.sources]"]
        lines += [f"s{i} = {{ contacts_per_year = 1.5, referral_share = 0.2, early_help_share = 0.1 }}"
                  for i in range(n)]
        p = tmp_path / f"many{n}.toml"
        p.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return p

    load_scenario(many(10))  # the bundled baseline read and cached, imports done: both counts start alike
    (small, n_small), (large, n_large) = _lines_run_loading(many(1000)), _lines_run_loading(many(8000))
    assert n_small > 1000 and n_large > 8000  # the sources were all loaded (beside the baseline's own)
    assert large <= 10 * small, f"1,000 sources ran {small:,} lines, 8,000 sources {large:,} ({large / small:.1f}x)"


def test_blame_stays_right_after_the_speed_up(tmp_path):
    mid = child(tmp_path, "[demand.sources.police]\nreferral_share = 1.4\n", name="mid.toml")
    leaf = tmp_path / "leaf.toml"
    leaf.write_text('extends = "mid.toml"\nname = "leaf"\n[demand.sources.police]\ncontacts_per_year = 5\n',
                    encoding="utf-8")
    (line,) = load_err(leaf)
    assert line.startswith(f"{mid.resolve()}: demand.sources.police.referral_share = 1.4")
    # a later file replacing the whole table takes the blame for everything in it
    leaf.write_text('extends = "mid.toml"\nname = "leaf"\n[demand.sources]\n'
                    "police = { contacts_per_year = 5, referral_share = 2.0, early_help_share = 0.1 }\n",
                    encoding="utf-8")
    (line,) = load_err(leaf)
    assert line.startswith(f"{leaf.resolve()}: demand.sources.police.referral_share = 2.0")
    (line,) = load_err(leaf, ["demand.sources.police.referral_share=3"])
    assert line.startswith("--set demand.sources.police.referral_share: ")


def test_a_very_deep_extends_chain_is_a_plain_error(tmp_path):
    (tmp_path / "c0.toml").write_text('extends = "baseline"\nname = "c0"\n', encoding="utf-8")
    for i in range(1, 1500):
        (tmp_path / f"c{i}.toml").write_text(f'extends = "c{i - 1}.toml"\nname = "c{i}"\n', encoding="utf-8")
    (line,) = load_err(tmp_path / "c1499.toml")
    assert "extends" in line and "50" in line and "c1499.toml" in line


def test_an_extends_chain_of_ordinary_depth_loads(tmp_path):
    (tmp_path / "c0.toml").write_text('extends = "baseline"\nname = "c0"\n', encoding="utf-8")
    for i in range(1, 20):
        (tmp_path / f"c{i}.toml").write_text(f'extends = "c{i - 1}.toml"\nname = "c{i}"\n', encoding="utf-8")
    assert load_scenario(tmp_path / "c19.toml").name == "c19"


# -- item 13: other tracebacks -----------------------------------------------------------------
@pytest.mark.parametrize("parent", ['""', '"."', '".."', '"/"', '"  "'])
def test_empty_or_folder_extends_is_a_plain_error(tmp_path, parent):
    p = tmp_path / "x.toml"
    p.write_text(f'extends = {parent}\nname = "x"\n', encoding="utf-8")
    (line,) = load_err(p)
    assert line.startswith(f"{p.resolve()}: extends = {parent}: ")
    res = cli("validate", str(p))
    assert res.exit_code == 2 and "Traceback" not in res.output


def test_csv_row_with_an_extra_field_names_file_and_line(tmp_path):
    (tmp_path / "staff.csv").write_text("team,grade,count\nfront_door,social_worker,2\nfront_door,social_worker,1,9\n",
                                        encoding="utf-8")
    p = child(tmp_path, 'staff_file = "staff.csv"\n')
    (line,) = load_err(p)
    assert line.startswith(f"{tmp_path / 'staff.csv'}: line 3: ")
    assert "3 columns" in line and "4" in line


def test_non_utf8_csv_names_file_and_line(tmp_path):
    (tmp_path / "staff.csv").write_bytes(b"team,grade,count\nfront_door,social_worker,2\n"
                                         b"fr\xe9nt_door,social_worker,1\n")
    p = child(tmp_path, 'staff_file = "staff.csv"\n')
    (line,) = load_err(p)
    assert line.startswith(f"{tmp_path / 'staff.csv'}: line 3: ")
    assert "UTF-8" in line


def test_non_utf8_scenario_file_is_a_plain_error(tmp_path):
    p = tmp_path / "x.toml"
    p.write_bytes(b'extends = "baseline"\nname = "caf\xe9"\n')
    (line,) = load_err(p)
    assert line.startswith(f"{p}") and "UTF-8" in line


def test_csv_with_an_over_long_cell_or_nul_is_a_plain_error(tmp_path):
    (tmp_path / "staff.csv").write_bytes(b"team,grade,count\nfront_door,social_worker,\x002\n")
    p = child(tmp_path, 'staff_file = "staff.csv"\n')
    res = cli("validate", str(p))
    assert res.exit_code == 2 and "Traceback" not in res.output and "staff.csv" in res.output
    (tmp_path / "staff.csv").write_text("team,grade,count\n\"" + "x" * 200_000 + "\",social_worker,2\n",
                                        encoding="utf-8")
    res = cli("validate", str(p))
    assert res.exit_code == 2 and "Traceback" not in res.output and "staff.csv" in res.output


def test_dollar_signs_in_a_name_do_not_break_the_charts(tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    import numpy as np
    import pandas as pd

    from workforce_sim.analysis.breaches import BreachRule
    from workforce_sim.outputs.plots import cost_outcome_chart, fan_chart, sustained_chart

    name = "cost $x^{$ plan $\\frac$"
    weeks = np.arange(10)
    weekly = pd.DataFrame({"scenario": name, "replication": 0, "week": weeks,
                           "date": pd.date_range("2024-01-01", periods=10, freq="W-MON"),
                           "caseload_incl_unallocated": np.linspace(10, 20, 10), "staff_fte": 5.0,
                           "staff_fte_agency": 1.0})
    compare = pd.DataFrame({"scenario": [name, name + "2"], "cost_per_year": [1e6, 2e6], "p_sustained": [0.5, 0.95],
                            "p_sustained_ci95_low": [0.4, 0.9], "p_sustained_ci95_high": [0.6, 1.0]})
    import inspect
    defaults = {"threshold": 18.0, "weeks": 4, "teams": (), "service": True}
    rule_args = {p: defaults[p] for p in inspect.signature(BreachRule).parameters}
    figs = [fan_chart(weekly, "caseload_incl_unallocated", 18.0),
            sustained_chart(weekly, {name: BreachRule(**rule_args)}), cost_outcome_chart(compare)]
    for fig in figs:
        fig.savefig(tmp_path / "c.png")  # mathtext would raise ValueError here
        labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
        assert any("\\$" in t for t in labels)


# -- item 14: leaks and hints ------------------------------------------------------------------
def test_a_system_file_as_staff_file_does_not_leak_its_content(tmp_path):
    secret = "root:x:0:0:root:/root:/bin/bash"
    (tmp_path / "passwd").write_text(secret + "\nuser:x:1000:1000::/home/user:/bin/sh\n", encoding="utf-8")
    for ref in (str(tmp_path / "passwd"), "/etc/passwd"):
        p = child(tmp_path, f'staff_file = "{ref}"\n')
        res = cli("validate", str(p))
        assert res.exit_code == 2 and "Traceback" not in res.output
        assert "x:0:0" not in res.output and "/bin/" not in res.output and "root:" not in res.output, res.output
        assert "team, grade" in res.output  # says what was expected


def test_a_missing_extends_target_names_the_file_that_asked_for_it(tmp_path):
    p = tmp_path / "x.toml"
    p.write_text('extends = "nowhere.toml"\nname = "x"\n', encoding="utf-8")
    (line,) = load_err(p)
    assert line.startswith(f'{p.resolve()}: extends = "nowhere.toml": no such scenario file')


def test_a_semicolon_csv_gets_a_hint(tmp_path):
    (tmp_path / "staff.csv").write_text("team;grade;count\nfront_door;social_worker;2\n", encoding="utf-8")
    p = child(tmp_path, 'staff_file = "staff.csv"\n')
    (line,) = load_err(p)
    assert line.startswith(f"{tmp_path / 'staff.csv'}: ")
    assert "comma-separated" in line and "semicolon" in line


# -- the top-level error boundary -----------------------------------------------------------------
def _boom(*a, **k):
    raise ZeroDivisionError("float division by zero")


def test_an_unexpected_error_is_a_plain_message_and_exit_1(monkeypatch):
    import workforce_sim.cli as cli_mod
    monkeypatch.setattr(cli_mod.tomlout, "dumps", _boom)
    res = cli("validate", "baseline", "--settings")
    assert res.exit_code == 1
    assert "Traceback" not in res.output
    assert "workforce-sim stopped: float division by zero" in res.output
    assert "Run again with --debug to see the details." in res.output
    assert isinstance(res.exception, SystemExit)


def test_debug_shows_the_traceback(monkeypatch):
    import workforce_sim.cli as cli_mod
    monkeypatch.setattr(cli_mod.tomlout, "dumps", _boom)
    res = cli("--debug", "validate", "baseline", "--settings")
    assert isinstance(res.exception, ZeroDivisionError)
    assert res.exit_code == 1
    res = cli("validate", "baseline", "--settings", "--debug")  # where a planner adds it, at the end
    assert isinstance(res.exception, ZeroDivisionError)


def test_the_boundary_keeps_bad_input_at_exit_2_and_interrupts_as_they_were(monkeypatch):
    import workforce_sim.cli as cli_mod
    res = cli("validate", "baseline", "--set", "workforce.absence.rate=3")
    assert res.exit_code == 2 and "stopped" not in res.output
    res = cli("run", "baseline", "--reps", "0")
    assert res.exit_code == 2

    def interrupt(*a, **k):
        raise KeyboardInterrupt
    monkeypatch.setattr(cli_mod.tomlout, "dumps", interrupt)
    res = cli("validate", "baseline", "--settings")
    assert res.exit_code == 1 and "stopped" not in res.output  # click's own "Aborted!", as before
    assert "Aborted" in res.output


def test_scenario_errors_outside_load_still_exit_2(monkeypatch):
    import workforce_sim.cli as cli_mod

    def bad(*a, **k):
        raise ScenarioError(["x.toml: name: something plain"])
    monkeypatch.setattr(cli_mod, "load_scenario", bad)
    res = cli("scenarios")
    assert res.exit_code == 2 and "x.toml: name: something plain" in res.output and "stopped" not in res.output


# -- property-based: random scenario files and --set values through validate and run ----------
with bundled_path("baseline").open("rb") as _fh:
    BASELINE = _tomllib.load(_fh)


def _paths(node, prefix=()):
    """Every key path of the baseline: tables, lists and their entries, and leaves."""
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node[:2]):
            out += _paths(v, prefix + (i,))
    return out


PATHS = _paths(BASELINE)
NAMES = ["name", "start_date", "extends", "staff_file", "open_cases_file", "colour", "mean", "dist", "cv", "x y", "",
         "0"]

_scalar = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([float("nan"), float("inf"), -float("inf"), 1e308, -1e308, 5e-324, 0.0, -0.0, -1.0, 0.5, 1.0, 2.0]),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.sampled_from([0, 1, -1, 52, 10**18]),
    st.text(max_size=30),
    st.sampled_from(["", "..", "/tmp/x", "baseline", "gamma", "social_worker", "front_door", "cin", "$x^{$", "nan"]),
    st.booleans(),
    st.dates(min_value=_dt.date(1, 1, 1), max_value=_dt.date(9999, 12, 31)),
)
_value = st.recursive(
    _scalar,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.sampled_from(NAMES), inner, max_size=3)),
    max_leaves=6,
)
_dist = st.fixed_dictionaries(
    {"dist": st.sampled_from(["gamma", "exponential", "lognormal", "fixed", "uniform", "empirical", "normal"])},
    optional={"mean": _scalar, "cv": _scalar, "value": _scalar, "low": _scalar, "high": _scalar,
              "edges": st.lists(_scalar, max_size=4), "weights": st.lists(_scalar, max_size=4)})
MISSING = object()  # delete the key
_change = st.tuples(st.sampled_from(PATHS), st.one_of(_value, _dist, st.just(MISSING),
                                                      st.tuples(st.just("unknown"), st.sampled_from(NAMES), _scalar)))


def _apply(data: dict, path: tuple, value) -> tuple:
    """Make one change to ``data`` at ``path``; the key path the change is about."""
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if isinstance(parent, dict) != isinstance(last, str):  # an earlier change turned a list into a table or back
        raise TypeError(path)
    if value is MISSING:
        if isinstance(parent, list):
            parent.pop(last)
        else:
            parent.pop(last, None)
        return path
    if isinstance(value, tuple) and value[0] == "scale":  # a plausible change: the value made larger or smaller
        old = parent[last]
        if isinstance(old, (int, float)) and not isinstance(old, bool):
            parent[last] = type(old)(old * value[1]) if isinstance(old, float) else round(old * value[1])
        return path
    if isinstance(value, tuple):  # an unknown (or misplaced) key inside the table at path
        _, key, v = value
        target = parent[last]
        if isinstance(target, dict):
            target[key] = v
            return path + (key,)
        parent[last] = {key: v}
        return path
    parent[last] = value
    return path


def _inline(v) -> str:
    """A value as TOML text for --set KEY=VALUE (tables inline)."""
    if isinstance(v, dict):
        return "{" + ", ".join(f"{tomli_w.dumps({k: 0}).split(' = ')[0]} = {_inline(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(_inline(x) for x in v) + "]"
    return tomli_w.dumps({"v": v})[len("v = "):].rstrip("\n")


def _check(res, keys: list[tuple]):
    from hypothesis import event
    event(f"exit {res.exit_code}")
    out = res.output
    assert "Traceback" not in out
    assert res.exit_code in (0, 2), (res.exit_code, out, res.exception)
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    if res.exit_code == 2:
        # the message names the key (or the table holding it, or the cross-checked key it upset)
        named = {str(k[0]) for k in keys} | {"extends", "name", "staff", "teams"}
        assert any(n in out for n in named), (keys, out)


def _scenario_file(tmp_dir, changes) -> tuple:
    data = _copy.deepcopy(BASELINE)
    keys = []
    for path, value in changes:
        try:
            keys.append(_apply(data, path, value))
        except (KeyError, IndexError, TypeError, AttributeError):  # an earlier change removed or replaced this path
            continue
    p = tmp_dir / "scenario.toml"
    p.write_text(tomli_w.dumps(data), encoding="utf-8")
    return p, keys


@settings(max_examples=1000, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(changes=st.lists(_change, min_size=1, max_size=3), sets=st.lists(_change, max_size=2), listing=st.booleans())
def test_random_scenario_files_and_sets_through_validate(tmp_path, changes, sets, listing):
    p, keys = _scenario_file(tmp_path, changes)
    _check(cli("validate", str(p), "--no-start-check", *(["--settings"] if listing else [])), keys)
    args = []
    for path, value in sets:
        if value is MISSING:
            value = ""
        if isinstance(value, tuple):
            path, value = path + (value[1],), value[2]
        args += ["--set", ".".join(str(x) for x in path) + "=" + _inline(value)]
    _check(cli("validate", "baseline", "-q", "--no-start-check", *args), [path for path, _ in sets] + [("--set",)])


_mild = st.one_of(
    st.floats(min_value=-2, max_value=60, allow_nan=False),
    st.sampled_from([float("nan"), float("inf"), 0.0, 0.5, 1.0, 3.0]),
    st.integers(min_value=-3, max_value=30),
    st.sampled_from(["", "x", "baseline", "gamma", "../x"]),
    st.booleans(),
    st.dates(min_value=_dt.date(1980, 1, 1), max_value=_dt.date(2110, 1, 1)),
)


_scale = st.tuples(st.just("scale"), st.floats(min_value=0.5, max_value=1.5))


@settings(max_examples=50, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(changes=st.one_of(
    st.lists(st.tuples(st.sampled_from(PATHS), st.one_of(_mild, st.just(MISSING), _scale)), min_size=1, max_size=3),
    st.lists(st.tuples(st.sampled_from(PATHS), _scale), min_size=1, max_size=3)))  # plausible changes, so runs run
def test_random_scenario_files_through_a_short_run(tmp_path, changes):
    p, keys = _scenario_file(tmp_path, changes)
    import uuid
    out = tmp_path / uuid.uuid4().hex  # a new folder each time
    _check(cli("run", str(p), "--years", "0.1", "--reps", "1", "--jobs", "1", "--out", str(out), "--no-start-check"),
           keys)


def test_set_into_a_plain_value_or_too_deep_is_a_plain_error(tmp_path):
    (line,) = load_err("baseline", ["demand.seasonality.0.x=1"])
    assert line.startswith("--set demand.seasonality.0.x: demand.seasonality.0 = {x = 1}: ")
    (line,) = load_err("baseline", ["demand.trend_per_year=" + "[" * 3000 + "]" * 3000])
    assert line == "--set demand.trend_per_year: the value is nested too deeply"
    p = tmp_path / "deep.toml"
    p.write_text('extends = "baseline"\nname = "x"\nz = ' + "[" * 3000 + "]" * 3000 + "\n", encoding="utf-8")
    (line,) = load_err(p)
    assert line.startswith(f"{p}: not valid TOML")


def test_a_folder_as_staff_file_is_a_plain_error(tmp_path):
    (tmp_path / "staff").mkdir()
    p = child(tmp_path, 'staff_file = "staff"\n')
    (line,) = load_err(p)
    assert line.startswith(f"{tmp_path / 'staff'}: not a file")


@pytest.mark.parametrize("args", [["run", "baseline", "--precision", "nan"], ["trace", "baseline", "--years", "inf"],
                                  ["goal-seek", "do-nothing", "--lever", "extra_posts", "--target", "p_sustained>=0.9",
                                   "--max", "nan"]])
def test_other_number_options_refuse_nan_and_inf(args):
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 2 and ("not a finite number" in res.output or "not in the range" in res.output), res.output


@pytest.mark.parametrize("key", ["staff.².count=1", "staff.٣.count=1", "open_cases.¹=1", "levers.²=[]"])
def test_unicode_digits_in_a_key_are_a_plain_error(key):
    """'²' and other Unicode digits pass str.isdigit() but not int(): a key holding one is a plain error that names
    the key, never an internal error (issue 26, item 8)."""
    with pytest.raises(ScenarioError, match="--set"):
        load_scenario("baseline", [key])
    r = CliRunner().invoke(main, ["validate", "baseline", "--set", key])
    assert r.exit_code == 2 and "stopped" not in r.output and "Traceback" not in r.output, r.output


def test_folders_named_with_unicode_digits_do_not_stop_recovery_or_resume(tmp_path):
    """A staging folder or a run folder whose number is a Unicode digit is someone else's: left alone, no crash."""
    from workforce_sim.runs.folder import interrupted_runs, recover_run_folder

    (tmp_path / ".staging-²").mkdir()
    recover_run_folder(tmp_path)  # a pid that is no ASCII number is not ours to judge: removed as stale
    for name in ("2026-12-06_010101-²", "2026-12-06_010101-2"):
        (tmp_path / name / ".partial").mkdir(parents=True)
    assert [p.name for p in interrupted_runs(tmp_path)] == ["2026-12-06_010101-2", "2026-12-06_010101-²"]


@pytest.mark.parametrize("value, decimal", [("5%", 0.05), ("12.5 %", 0.125), ("-2%", -0.02), ("1.1%", 0.011)])
def test_a_percentage_is_taken_where_the_setting_is_shown_as_one(value, decimal):
    """A growth rate or a share, which outputs show as a percentage, may be written as one: 5% is 0.05 (issue 30,
    item 6), exactly as if 0.05 had been written, in the value and in the run's label."""
    scn = load_scenario("baseline", [f"demand.trend_per_year={value}", "workforce.agency.cover_share=40%"])
    assert scn.demand.trend_per_year == decimal and scn.workforce.agency.cover_share == 0.4
    assert scn == load_scenario("baseline", [f"demand.trend_per_year={decimal}", "workforce.agency.cover_share=0.4"])


@pytest.mark.parametrize("value, decimal", [("5%", "0.05"), ("12.5 %", "0.125"), ("-2%", "-0.02")])
def test_a_percentage_elsewhere_is_answered_with_the_decimal_to_write(value, decimal):
    """Elsewhere a percentage is refused, with the decimal to write, not only "not a number"."""
    (line,) = load_err("baseline", [f"demand.sources.police.contacts_per_year={value}"])
    assert line.endswith(f"must be a number: write {decimal} for {value.strip()}"), line
    (line,) = load_err("baseline", ["demand.trend_per_year=five"])
    assert "write" not in line and "must be a valid number" in line


def test_a_scenario_without_its_child_population_is_refused_with_what_to_add(tmp_path):
    from workforce_sim.scenario.loading import bundled_path
    data = _tomllib.loads(bundled_path("baseline").read_text(encoding="utf-8"))
    del data["population"]
    data["name"] = "own"
    p = tmp_path / "own.toml"
    p.write_text(tomli_w.dumps(data), encoding="utf-8")
    lines = load_err(str(p))
    assert any("population.children" in line and "[population] children = 36000" in line for line in lines), lines


# -- issue 26, item 2: money never overflows ---------------------------------------------------
@pytest.mark.parametrize("key", ["costs.salary.social_worker", "costs.agency_premium_per_year",
                                 "care.weekly_price.external_home", "care.proceedings.legal_cost",
                                 "care.leavers.cost_per_year", "levers.0.cost_per_year"])
def test_an_amount_of_money_beyond_any_budget_is_refused_by_its_key(key):
    over = ["levers=[{type='retention', start=2027-05-01}]"] if key.startswith("levers") else []
    (line,) = load_err("baseline", over + [f"{key}=1e20"])
    assert line.startswith(f"--set {key}: {key} = 1e+20: must be an amount of money from 0 to 1,000,000,000"), line
    load_scenario("baseline", over + [f"{key}=1e9"])  # the largest amount is accepted


def test_costs_that_would_not_be_finite_stop_the_run_with_a_plain_message(baseline):
    """Each amount is bounded, but their sums are checked too: a week's cost is never written as inf or nan."""
    import numpy as np

    from workforce_sim.model import simulate
    from workforce_sim.model.costs import weekly_costs
    from workforce_sim.model.council import Replication, week_dates
    rep = Replication(baseline, 1, 0, 3)
    rep.start()
    rep.run()
    out = rep.monitor.results(sorted(rep.monitor.declared))
    assert np.isfinite(simulate(baseline, 1, 0, 3)["cost_total"]).all()
    out["_fte_permanent_social_worker"] = out["_fte_permanent_social_worker"] * np.inf
    with pytest.raises(ValueError, match="costs grew too large to count"):
        weekly_costs(baseline, week_dates(baseline, 3), out, rep.levers)
