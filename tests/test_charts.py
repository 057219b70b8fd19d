"""Charts and the report are checked: never empty, readable, one colour per scenario everywhere, small
multiples with each scenario's own threshold, costs by financial year equal to budget.csv, plain-word
titles and alt texts, the headline first, and money never printed as a negative number."""

import html
import itertools
import re
from html.parser import HTMLParser
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

plt.rcParams["figure.max_open_warning"] = 0  # the module's charts stay open until its fixtures end
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from click.testing import CliRunner  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.container import BarContainer  # noqa: E402

from workforce_sim import load_scenario, run  # noqa: E402
from workforce_sim.analysis.breaches import breach_rules  # noqa: E402
from workforce_sim.analysis.compare import compare_table  # noqa: E402
from workforce_sim.analysis.money import money_settings  # noqa: E402
from workforce_sim.cli import main  # noqa: E402
from workforce_sim.outputs.plots import (  # noqa: E402
    BY_TEAM,
    COST_BY_YEAR,
    COST_VS_OUTCOME,
    DEFAULT_METRICS,
    PLACEMENTS_CHART,
    SUSTAINED,
    budget_chart,
    charts_of_run,
    fan_chart,
    fan_quantiles,
)
from workforce_sim.outputs.report import _difference, _difference_interval, unclear_sentence  # noqa: E402
from workforce_sim.outputs.words import plain_headline  # noqa: E402
from workforce_sim.runs.reading import run_tables  # noqa: E402

ROOT = Path(__file__).parent.parent
THRESHOLDS = {"do-nothing": 18.0, "b": 15.0, "early-help": 18.0}  # b: the baseline with a tighter threshold
SCENARIOS = list(THRESHOLDS)
YEARS, REPS = 1.5, 3  # 1.5 years from April: one whole financial year and a part year


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A comparison of three scenarios, one with its own threshold, written as ``compare`` writes it."""
    out = tmp_path_factory.mktemp("compare")
    scns = [load_scenario("do-nothing"), load_scenario("baseline", ["name=b", "standards.manageable_caseload=15"]),
            load_scenario("early-help")]
    labels = {s.name: s.label for s in scns}
    run(scns, years=YEARS, reps=REPS, jobs=1, out=out,
        extra=lambda r: {"compare.csv": compare_table(r.weekly, breach_rules(scns), money_settings(scns), labels)})
    return out


@pytest.fixture(scope="module")
def single_dir(tmp_path_factory):
    """A run of one scenario."""
    out = tmp_path_factory.mktemp("single")
    run("baseline", years=YEARS, reps=REPS, jobs=1, out=out)
    return out


@pytest.fixture(scope="module")
def charts(run_dir):
    made = charts_of_run(run_dir)
    yield made
    plt.close("all")


@pytest.fixture(scope="module")
def single_charts(single_dir):
    made = charts_of_run(single_dir)
    yield made
    plt.close("all")


@pytest.fixture(scope="module")
def budget(run_dir):
    return pd.read_csv(run_dir / "budget.csv", dtype={"financial_year": str})


LABELS = {"do-nothing": "do-nothing", "b": "b, standards.manageable_caseload=15", "early-help": "early-help"}


def chart_problems(fig, labels, fan: bool) -> list[str]:
    """Everything wrong with one chart, on one axes or in panels (empty list: fine)."""
    problems = []
    sup = fig._suptitle.get_text() if fig._suptitle is not None else ""
    if not sup and not any(ax.get_title(loc=w) for ax in fig.axes for w in ("left", "center", "right")):
        problems.append("no title")
    figs = (fig, *fig.subfigs)  # small multiples label their axes once, for the whole figure
    has_x = any(ax.get_xlabel() for ax in fig.axes) or any(f._supxlabel and f._supxlabel.get_text() for f in figs)
    has_y = any(ax.get_ylabel() for ax in fig.axes) or any(f._supylabel and f._supylabel.get_text() for f in figs)
    if not (has_x and has_y):
        problems.append("an axis has no label")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        lines = [ln for ln in ax.get_lines() if ln.get_label() and not ln.get_label().startswith("_")]
        data = [ln for ln in lines if len(ln.get_xdata()) >= 2 and np.isfinite(np.asarray(ln.get_ydata(), float)).any()]
        points = [c for c in ax.collections if len(getattr(c, "get_offsets", lambda: [])()) > 0
                  or isinstance(c, PolyCollection) and any(len(path.vertices) > 2 for path in c.get_paths())]
        bars = [p for c in ax.containers if isinstance(c, BarContainer) for p in c.patches if p.get_height() > 0]
        if not data and not points and not bars:
            problems.append("empty: nothing is drawn")
        ticks = [t for t in ax.get_xticklabels() if t.get_text() and t.get_visible()]
        boxes = [t.get_window_extent(renderer) for t in ticks]
        if any(a.overlaps(b) for a, b in itertools.combinations(boxes, 2)):
            problems.append("x-axis labels overlap")
        texts = [ax.title, ax._left_title, ax.xaxis.label, ax.yaxis.label, *ticks, *ax.get_yticklabels()]
        if any(t.get_text() and t.get_fontsize() < 9 for t in texts):
            problems.append("text smaller than 9 points")
    if fan:
        for s in labels:
            bands = [c for ax in fig.axes for c in ax.collections
                     if isinstance(c, PolyCollection) and c.get_label().startswith(f"{s}:")]
            if len(bands) != 2:
                problems.append(f"{s}: {len(bands)} bands instead of 2 (50% and 90%)")
    return problems


def scenario_colour(fig, label) -> set[str]:
    """The colours a scenario is drawn in on a chart: its lines, error bars and bars."""
    found = set()
    for ax in fig.axes:
        found |= {to_hex(ln.get_color()) for ln in ax.get_lines() if ln.get_label().startswith(label)}
        for c in ax.containers:
            if c.get_label() != label:
                continue
            if isinstance(c, BarContainer):
                found |= {to_hex(p.get_facecolor()) for p in c.patches}
            else:  # error bars
                found.add(to_hex(c.lines[0].get_color()))
    return found


def _threshold_lines(ax) -> list[float]:
    return [float(ln.get_ydata()[0]) for ln in ax.get_lines() if ln.get_label().startswith("manageable threshold")]


# -- the charts -------------------------------------------------------------------------------
def test_every_chart_passes_the_checks(charts, single_charts):
    assert set(DEFAULT_METRICS) | {SUSTAINED, BY_TEAM, COST_BY_YEAR, COST_VS_OUTCOME, PLACEMENTS_CHART} == set(charts)
    assert "cost_total" not in charts  # the annualised weekly cost is gone: cost is by financial year
    for name, chart in charts.items():
        assert chart_problems(chart.figure, LABELS.values(), fan=name in DEFAULT_METRICS) == [], name
    assert set(single_charts) == set(DEFAULT_METRICS) | {SUSTAINED, BY_TEAM, COST_BY_YEAR, PLACEMENTS_CHART}  # one
    for name, chart in single_charts.items():
        assert chart_problems(chart.figure, ["baseline"], fan=name in DEFAULT_METRICS) == [], name


def test_more_than_two_scenarios_get_one_panel_each_on_shared_axes(charts, single_charts):
    for name in [*DEFAULT_METRICS, SUSTAINED]:
        axes = charts[name].figure.axes
        assert len(axes) == len(SCENARIOS), name
        titles = [ax.get_title(loc="left").replace("\n", " ") for ax in axes]
        assert all(t.startswith(lab) for t, lab in zip(titles, LABELS.values())), (name, titles)
        for ax in axes[1:]:
            assert ax.get_shared_x_axes().joined(axes[0], ax) and ax.get_shared_y_axes().joined(axes[0], ax), name
        legends = [lg for f in (charts[name].figure, *charts[name].figure.subfigs) for lg in f.legends]
        assert len(legends) == 1 and len(legends[0].get_texts()) <= 5, name  # one small legend, not 3 per scenario
        assert all(ax.get_legend() is None for ax in axes)
    for name in [*DEFAULT_METRICS, SUSTAINED]:
        assert len(single_charts[name].figure.axes) == 1


def test_two_scenarios_share_one_axes_with_a_line_for_each_threshold(run_dir):
    t = run_tables(run_dir)
    two = t.weekly[t.weekly["scenario"].isin(["do-nothing", "b"])]
    fig = fan_chart(two, "caseload_incl_unallocated", t.rules, labels=t.labels)
    (ax,) = fig.axes
    assert sorted(_threshold_lines(ax)) == [15.0, 18.0]
    texts = [x.get_text().replace("\n", " ") for x in ax.get_legend().get_texts()]
    assert any("(15) of b, standards.manageable_caseload=15" in x for x in texts), texts
    plt.close(fig)


def test_each_panel_has_its_own_threshold_and_the_first_scenarios_median(charts, run_dir):
    t = run_tables(run_dir)
    fans = fan_quantiles(t.weekly, "caseload_incl_unallocated")
    for name in ("caseload_incl_unallocated", "caseload_mean"):
        axes = charts[name].figure.axes
        assert [_threshold_lines(ax) for ax in axes] == [[THRESHOLDS[s]] for s in SCENARIOS], name
    axes = charts["caseload_incl_unallocated"].figure.axes
    ref_median = fans["do-nothing"][1][2]
    greys = [[ln for ln in ax.get_lines() if ln.get_label() == "first scenario's median"] for ax in axes]
    assert [len(g) for g in greys] == [0, 1, 1]  # not in the first scenario's own panel
    for (line,) in greys[1:]:
        assert np.allclose(np.asarray(line.get_ydata(), float), ref_median, equal_nan=True)
    assert _threshold_lines(charts["unallocated_cases"].figure.axes[1]) == []  # a threshold only on caseloads


def test_the_cost_bars_are_budget_csvs_totals(charts, budget, run_dir):
    total = budget[budget["item"] == "cost_total"]
    fig = charts[COST_BY_YEAR].figure
    (ax,) = fig.axes
    bars = {c.get_label().replace("\n", " "): c for c in ax.containers if isinstance(c, BarContainer)}
    assert list(bars) == list(LABELS.values())
    shown = [fy for fy, d in total.groupby("financial_year", sort=False)["days"].max().items() if d >= 28]
    for s, label in LABELS.items():
        cash = total[total["scenario"] == s].set_index("financial_year").loc[shown, "cash"].to_numpy()
        heights = np.array([p.get_height() for p in bars[label].patches]) * 1e6
        assert np.allclose(heights, cash, rtol=1e-9), s
    ticks = [x.get_text() for x in ax.get_xticklabels()]
    assert ticks[0] == "2027-28" and "part year" in ticks[-1]  # 1.5 years from April 2027: 2028-29 in part
    assert "cash" in ax.get_title(loc="left") and ax.get_ylabel() == "£ million"
    real = budget_chart(budget, real_terms=True)
    (rax,) = real.axes
    first = next(c for c in rax.containers if isinstance(c, BarContainer))
    expect = total[total["scenario"] == "do-nothing"].set_index("financial_year").loc[shown, "real_terms"].to_numpy()
    assert np.allclose([p.get_height() * 1e6 for p in first.patches], expect, rtol=1e-9)
    assert "real terms (2027-28 prices)" in rax.get_title(loc="left")
    plt.close(real)


def test_a_scenario_keeps_its_colour_on_every_chart(charts):
    for label in LABELS.values():
        colours = set().union(*(scenario_colour(c.figure, label) for c in charts.values()))
        assert len(colours) == 1, (label, colours)
    firsts = {next(iter(scenario_colour(charts["caseload_mean"].figure, lab))) for lab in LABELS.values()}
    assert len(firsts) == len(SCENARIOS)  # and scenarios differ from each other


def test_alt_texts_are_sentences_that_say_what_the_chart_shows(charts):
    for name, chart in charts.items():
        assert chart.alt.endswith(".") and len(chart.alt) > 80 and "_chart" not in chart.alt, name
        sup = chart.figure._suptitle.get_text() if chart.figure._suptitle is not None else ""
        assert chart.alt[0].isupper() and chart.title in (sup, chart.figure.axes[0].get_title(loc="left")), name
    alt = charts["caseload_incl_unallocated"].alt
    assert alt.startswith("Fan chart: caseload counting unallocated cases") and "from April 2027 to" in alt
    assert "15 for b, standards.manageable_caseload=15" in alt and "18 for do-nothing" in alt  # each one's threshold
    assert "staff in post" in charts["staff_fte_permanent"].alt.lower()
    assert "stayed manageable" in charts[SUSTAINED].alt and "financial year" in charts[COST_BY_YEAR].alt
    assert "in cash" in charts[COST_BY_YEAR].alt and "part year" in charts[COST_BY_YEAR].alt
    assert "chance" in charts[COST_VS_OUTCOME].title.lower() and "£" in charts[COST_VS_OUTCOME].alt
    alt = charts[PLACEMENTS_CHART].alt  # where children in care live, in the last week, adding up to them all
    assert alt.startswith("Stacked areas") and "agency foster carers" in alt and "the council's own foster" in alt


def test_the_checks_catch_a_broken_chart(run_dir):
    t = run_tables(run_dir)
    fig = fan_chart(t.weekly, "unallocated_cases", t.rules, labels=t.labels)
    assert chart_problems(fig, LABELS.values(), fan=True) == []
    band = next(c for c in fig.axes[1].collections if isinstance(c, PolyCollection))
    band.remove()
    assert any("bands instead of 2" in p for p in chart_problems(fig, LABELS.values(), fan=True))
    empty, ax = plt.subplots()
    ax.set_title("t")
    assert "empty: nothing is drawn" in chart_problems(empty, [], fan=False)
    crowded, ax = plt.subplots(figsize=(2, 2))
    ax.plot(range(30), range(30), label="x")
    ax.set_xticks(range(30), [f"label {i}" for i in range(30)])
    assert "x-axis labels overlap" in chart_problems(crowded, [], fan=False)
    for f in (fig, empty, crowded):
        plt.close(f)


def test_plot_command_writes_each_chart_with_its_description(run_dir, charts):
    from PIL import Image

    res = CliRunner().invoke(main, ["plot", str(run_dir), "--format", "svg"])
    assert res.exit_code == 0, res.output
    files = sorted(p.name for p in (run_dir / "plots").glob("*.svg"))
    assert {"caseload_mean.svg", "cost_vs_outcome.svg", "p_sustained.svg", "cost_by_year.svg"} <= set(files)
    svg = (run_dir / "plots" / "caseload_mean.svg").read_text()
    assert html.escape(charts["caseload_mean"].alt, quote=False) in svg
    res = CliRunner().invoke(main, ["plot", str(run_dir), "--metric", "referrals", "--real-terms"])
    assert res.exit_code == 0, res.output
    assert (run_dir / "plots" / "referrals.png").stat().st_size > 10_000
    with Image.open(run_dir / "plots" / "cost_by_year.png") as im:
        assert "real terms" in im.text["Title"] and im.text["Description"].startswith("Bar chart:")
    res = CliRunner().invoke(main, ["plot", str(run_dir), "--metric", "happiness"])
    assert res.exit_code == 2 and "no column happiness" in res.output


def test_plot_explains_a_folder_without_a_run(tmp_path):
    res = CliRunner().invoke(main, ["plot", str(tmp_path)])
    assert res.exit_code == 2 and "does not hold a finished run" in res.output


# -- the report -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def report(run_dir):
    res = CliRunner().invoke(main, ["report", str(run_dir)])
    assert res.exit_code == 0, res.output
    return run_dir / "report.html"


@pytest.fixture(scope="module")
def single_report(single_dir):
    res = CliRunner().invoke(main, ["report", str(single_dir)])
    assert res.exit_code == 0, res.output
    return single_dir / "report.html"


class _Page(HTMLParser):
    """The parts of a report a test reads: img alts, and money table cells by (scenario, year, item)."""

    def __init__(self):
        super().__init__()
        self.alts, self.money, self._at, self._scenario, self._year, self._item = [], {}, None, None, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.alts.append(a.get("alt", ""))
        elif tag == "table" and a.get("class") == "money":
            self._scenario = a["data-scenario"]
        elif tag == "tr":
            self._year = a.get("data-year")
        elif tag == "td" and self._scenario and self._year and "data-item" in a:
            self._at = (self._scenario, self._year, a["data-item"])
            self.money[self._at] = ""

    def handle_endtag(self, tag):
        if tag == "td":
            self._at = None
        elif tag == "table":
            self._scenario = None

    def handle_data(self, data):
        if self._at is not None:
            self.money[self._at] += data


def _page(path) -> _Page:
    page = _Page()
    page.feed(path.read_text())
    return page


def _check_money_table(page: _Page, budget: pd.DataFrame, scenarios) -> None:
    """Every year's cash items, total and real-terms total in the report are budget.csv's, in £m."""
    checked = 0
    for _, row in budget.iterrows():
        if row["scenario"] not in scenarios:
            continue
        items = {"cost_total": ["cost_total", "real_terms"]}.get(row["item"], [row["item"]])
        for cell in items:
            value = row["real_terms"] if cell == "real_terms" else row["cash"]
            text = page.money[(row["scenario"], row["financial_year"], cell)]
            assert re.match(r"£[\d,]+\.\d\dm", text).group(0) == f"£{value / 1e6:,.2f}m", (row.to_dict(), cell)
            checked += 1
    assert checked >= 6 * len(scenarios)


def test_report_puts_the_plain_headline_first(report, run_dir):
    text = report.read_text()
    t = run_tables(run_dir)
    first = text.index("<h2>")
    for s in t.scenarios:
        words = html.escape(plain_headline(s, t.summary[t.summary["scenario"] == s.name], REPS,
                                           t.manifest["years"]), quote=True)
        where = text.index(words)
        assert first < where < text.index("Key findings") < text.index("<h2>Charts")
    assert text.index("Options compared") < first  # the line naming the scenarios comes before it
    assert "b, standards.manageable_caseload=15" in text[:first]


def test_report_money_table_is_budget_csv(report, budget, single_report, single_dir):
    page = _page(report)
    _check_money_table(page, budget, SCENARIOS)
    text = report.read_text()
    assert "<h2>Money: cost by financial year</h2>" in text and "2027-28 prices, deflated by 2% a year" in text
    assert "part year" in text
    single_budget = pd.read_csv(single_dir / "budget.csv", dtype={"financial_year": str})
    _check_money_table(_page(single_report), single_budget, ["baseline"])
    single = single_report.read_text()
    assert "<h2>Money: cost by financial year</h2>" in single and "Bar chart: the cost of the service" in single


def test_report_never_prints_negative_money_and_states_the_discounting(report, single_report):
    for path in (report, single_report):
        text = path.read_text()
        assert not re.search(r"£\s*-|-\s*£|−\s*£|£\s*−", text), re.search(r".{40}£\s*-.{40}", text)
    text = report.read_text()
    assert "Net present cost" in text and "3.5%" in text and "HM Treasury Green Book" in text
    assert _difference(-512_345) == "saves £0.51m" and _difference(2_000_000) == "£2.00m more"
    assert _difference_interval(-200_000, 100_000) == "from saving £0.20m to £0.10m more"
    assert _difference_interval(-300_000, -100_000) == "saves £0.10m to £0.30m"


def test_report_says_when_options_cannot_be_told_apart(report, run_dir):
    t = run_tables(run_dir)
    text = html.unescape(report.read_text())
    for _, row in t.compare.iloc[1:].iterrows():  # each option's verdict in words is in the options table
        assert row["outcome_vs_first"] in text and row["cost_vs_first"] in text
    sentence = unclear_sentence(t.compare, REPS)
    verdicts = t.compare.iloc[1:][["outcome_vs_first", "cost_vs_first"]]
    unclear = verdicts.apply(lambda c: c.str.startswith("cannot")).any().any()
    assert (sentence is not None) == bool(unclear)
    if sentence:
        assert sentence in text
    made_up = pd.DataFrame({"scenario": ["a", "b", "c"], "label": ["a", "b, x=1", "c"],
                            "outcome_vs_first": ["reference", "cannot be told apart with 3 futures",
                                                 "fewer weeks in breach"],
                            "cost_vs_first": ["reference", "costs more", "cannot be told apart with 3 futures"]})
    words = unclear_sentence(made_up, 3)
    assert "on weeks in breach: b, x=1" in words and "on cost: c" in words and "--reps" in words
    assert unclear_sentence(made_up.assign(outcome_vs_first="costs less", cost_vs_first="costs less"), 3) is None


def test_report_is_self_contained_and_says_things_in_words(report, charts):
    text = report.read_text()
    assert "http://" not in text and "https://" not in text and "<script" not in text
    assert text.count("<img") >= 10 and text.count('src="data:image/png;base64,') == text.count("<img")
    assert "simulated futures" in text and "Caseloads stayed manageable for the whole run in" in text
    assert "counting unallocated" in text  # the report says what the headline measure counts
    assert "<h2>Assumptions</h2>" in text and "Method and its limits" in text and "illustrative" in text
    assert "costs £" in text  # the options are costed against the first
    # what the bands hold: chance alone, the scenarios' uncertain settings at their central values
    assert "not uncertainty about the assumptions themselves" in text and "uncertain settings" in text
    assert "Spread between futures: chance alone" in text  # under each week-by-week chart (its alt text)
    assert "Front door: 7 posts" in text and "front_door" not in text
    assert "Changed for this run" in text and "standards.manageable_caseload=15" in text
    alts = _page(report).alts
    assert sorted(alts) == sorted(c.alt for c in charts.values())  # each image says what it shows
    assert not any(a.endswith("chart") for a in alts)


@pytest.mark.parametrize("which", ["report", "single_report"])
def test_report_renders_in_headless_chromium(which, request):
    from app_browser import MISSING, browser_parts, chromium

    report = request.getfixturevalue(which)
    if not all(browser_parts()):
        pytest.skip(MISSING)
    with chromium() as browser:
        browser.get(report.resolve().as_uri())
        assert browser.title.startswith("workforce_sim report")
        images = browser.execute_script(
            "return Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.alt]);")
        assert len(images) >= 10
        assert all(done and width > 0 and len(alt) > 80 for done, width, alt in images), images
        errors = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
        assert errors == []


def test_notebook_runs_top_to_bottom(tmp_path):
    import nbclient
    import nbformat
    nb = nbformat.read(ROOT / "notebooks" / "01-planning-walkthrough.ipynb", as_version=4)
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    images = sum("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))
    assert images >= 3  # the fan chart, the chance chart and the cost chart are shown
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []
