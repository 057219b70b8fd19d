"""Charts are checked: never empty, bands present, one colour per scenario everywhere, readable."""

import itertools
import shutil
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from click.testing import CliRunner  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

from workforce_sim.analysis import compare_table  # noqa: E402
from workforce_sim.cli import main  # noqa: E402
from workforce_sim.plots import DEFAULT_METRICS, all_charts  # noqa: E402
from workforce_sim.results import breach_rules  # noqa: E402
from workforce_sim.schema import Scenario  # noqa: E402

ROOT = Path(__file__).parent.parent
SCENARIOS = ["do-nothing", "retention", "early-help"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    res = CliRunner().invoke(main, ["compare", *SCENARIOS, "--years", "1", "--reps", "4", "--jobs", "1",
                                    "--out", str(out)])
    assert res.exit_code == 0, res.output
    return out


@pytest.fixture
def charts(run_dir):
    from workforce_sim.results import read_run
    weekly, _, manifest = read_run(run_dir)
    rules = breach_rules(Scenario.model_validate(s) for s in manifest["scenarios"])
    made = all_charts(weekly, rules, compare=compare_table(weekly, rules))
    yield made
    plt.close("all")


def chart_problems(fig, scenarios, fan: bool) -> list[str]:
    """Everything wrong with one chart (empty list: fine)."""
    problems = []
    (ax,) = fig.axes
    if not any(ax.get_title(loc=where) for where in ("left", "center", "right")):
        problems.append("no title")
    if not ax.get_ylabel() or not ax.get_xlabel():
        problems.append("an axis has no label")
    lines = [ln for ln in ax.get_lines() if ln.get_label() and not ln.get_label().startswith("_")]
    data = [ln for ln in lines if len(ln.get_xdata()) >= 2 and np.isfinite(np.asarray(ln.get_ydata(), float)).any()]
    points = [c for c in ax.collections if len(getattr(c, "get_offsets", lambda: [])()) > 0]
    if not data and not points:
        problems.append("empty: nothing is drawn")
    if fan:
        for s in scenarios:
            bands = [c for c in ax.collections if isinstance(c, PolyCollection) and c.get_label().startswith(f"{s}:")]
            if len(bands) != 2:
                problems.append(f"{s}: {len(bands)} bands instead of 2 (50% and 90%)")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    labels = [t for t in ax.get_xticklabels() if t.get_text() and t.get_visible()]
    boxes = [t.get_window_extent(renderer) for t in labels]
    for a, b in itertools.combinations(boxes, 2):
        if a.overlaps(b):
            problems.append("x-axis labels overlap")
            break
    texts = [ax.title, ax._left_title, ax.xaxis.label, ax.yaxis.label, *labels, *ax.get_yticklabels()]
    if any(t.get_text() and t.get_fontsize() < 9 for t in texts):
        problems.append("text smaller than 9 points")
    return problems


def scenario_colour(fig, scenario) -> set[str]:
    ax = fig.axes[0]
    found = {to_hex(ln.get_color()) for ln in ax.get_lines() if ln.get_label().startswith(scenario)}
    for c in ax.containers:  # error bars
        if c.get_label() == scenario:
            found.add(to_hex(c.lines[0].get_color()))
    return found


def test_every_chart_passes_the_checks(charts):
    assert set(DEFAULT_METRICS) | {"p_sustained", "cost_vs_outcome"} == set(charts)
    for name, fig in charts.items():
        assert chart_problems(fig, SCENARIOS, fan=name in DEFAULT_METRICS) == [], name


def test_a_scenario_keeps_its_colour_on_every_chart(charts):
    for s in SCENARIOS:
        colours = set().union(*(scenario_colour(fig, s) for fig in charts.values()))
        assert len(colours) == 1, (s, colours)
    firsts = {next(iter(scenario_colour(charts["caseload_mean"], s))) for s in SCENARIOS}
    assert len(firsts) == len(SCENARIOS)  # and scenarios differ from each other


def test_the_checks_catch_a_broken_chart(charts):
    fig = charts["unallocated_cases"]
    ax = fig.axes[0]
    band = next(c for c in ax.collections if isinstance(c, PolyCollection))
    band.remove()
    assert any("bands instead of 2" in p for p in chart_problems(fig, SCENARIOS, fan=True))
    empty, ax = plt.subplots()
    ax.set_title("t")
    assert "empty: nothing is drawn" in chart_problems(empty, SCENARIOS, fan=False)
    crowded, ax = plt.subplots(figsize=(2, 2))
    ax.plot(range(30), range(30), label="x")
    ax.set_xticks(range(30), [f"label {i}" for i in range(30)])
    assert "x-axis labels overlap" in chart_problems(crowded, SCENARIOS, fan=False)
    plt.close(empty)
    plt.close(crowded)


def test_plot_command_writes_each_chart(run_dir):
    res = CliRunner().invoke(main, ["plot", str(run_dir), "--format", "svg"])
    assert res.exit_code == 0, res.output
    files = sorted(p.name for p in (run_dir / "plots").glob("*.svg"))
    assert "caseload_mean.svg" in files and "cost_vs_outcome.svg" in files and "p_sustained.svg" in files
    res = CliRunner().invoke(main, ["plot", str(run_dir), "--metric", "referrals"])
    assert res.exit_code == 0 and (run_dir / "plots" / "referrals.png").stat().st_size > 10_000
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


def test_report_is_self_contained_and_says_things_in_words(report):
    text = report.read_text()
    assert "http://" not in text and "https://" not in text and "<script" not in text
    assert text.count("<img") >= 10 and text.count("src='data:image/png;base64,") == text.count("<img")
    assert "simulated futures" in text and "Caseloads stayed manageable for the whole run in" in text
    assert "counting unallocated" in text  # the report says what the headline measure counts
    assert "<h2>Assumptions</h2>" in text and "Method and its limits" in text and "illustrative" in text
    assert "costs £" in text  # the options are costed against the first


def _browser():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    try:
        import selenium  # noqa: F401
    except ImportError:
        driver = None
    return chromium, driver


def test_report_renders_in_headless_chromium(report):
    chromium, driver = _browser()
    if not (chromium and driver):
        pytest.skip("needs Chromium and ChromeDriver: sudo apt-get install chromium chromium-driver "
                    "(.ci/run installs them, so CI runs this test)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service(driver), options=opts)
    try:
        browser.get(report.resolve().as_uri())
        assert browser.title.startswith("workforce_sim report")
        images = browser.execute_script(
            "return Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.alt]);")
        assert len(images) >= 10
        assert all(done and width > 0 for done, width, _ in images), images
        errors = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
        assert errors == []
    finally:
        browser.quit()


def test_notebook_runs_top_to_bottom(tmp_path):
    import nbclient
    import nbformat
    nb = nbformat.read(ROOT / "notebooks" / "01-planning-walkthrough.ipynb", as_version=4)
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    images = sum("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))
    assert images >= 3  # the fan chart, the chance chart and the cost chart are shown
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []
