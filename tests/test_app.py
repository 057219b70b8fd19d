"""`workforce-sim app`: the page where a director moves the levers.

In a real browser (headless Chromium): load the page, add a lever and move it, run a short simulation, see the
answer and the charts, save the settings as a scenario file and load it back, with no request leaving the machine.
Without a browser: the answer the page gives is the answer `workforce-sim run` gives for the saved file; bad values
are refused in the schema's plain words; Cancel stops a run; the command serves on 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from app_browser import MISSING, browser_parts, chromium, off_machine, requested_urls, served, set_value, wait_for
from workforce_sim import api
from workforce_sim.app.choices import (
    InputError,
    ScenarioError,
    main_controls,
    make_choice,
    new_lever,
    open_scenario,
    save_choice,
)
from workforce_sim.app.running import Cancelled, RunState, run_choice
from workforce_sim.app.server import open_socket, warning_for
from workforce_sim.cli import main
from workforce_sim.outputs.console import summary_lines

ROOT = Path(__file__).resolve().parents[1]
YEARS, FUTURES, SEED = 1, 4, 42
# WORKFORCE_SIM_APP_SCREENSHOTS=docs (a folder) keeps the test's screenshots there: how docs/app*.png are made
SCREENSHOTS = os.environ.get("WORKFORCE_SIM_APP_SCREENSHOTS")


def _posts_option(tmp_path: Path, posts: int):
    """Baseline with an extra-posts lever of ``posts`` posts, as the page makes it, saved; and its answer."""
    scn = open_scenario("baseline")
    lever = {**new_lever("extra_posts", scn), "posts": posts}
    choice = make_choice("baseline", scn, "more-posts", {}, [lever])
    answer = run_choice(choice.scenario(), YEARS, FUTURES, SEED, RunState(), tmp_path, jobs=1)
    return choice, answer, save_choice(choice, Path("more-posts.toml"), tmp_path)


def test_the_answer_is_what_run_gives_for_the_saved_file(tmp_path):
    choice, answer, saved = _posts_option(tmp_path, 12)
    table = tomllib.loads(saved.read_text(encoding="utf-8"))
    assert table["extends"] == "baseline" and [lv["posts"] for lv in table["levers"]] == [12]
    run = api.run(saved, years=YEARS, reps=FUTURES, seed=SEED, jobs=1, notify=lambda m: None)
    assert run.scenarios[0].model_dump() == answer.option.model_dump()
    assert answer.summary == summary_lines(run)  # the page's words are the printed summary, line for line
    option = answer.result.summary[answer.result.summary["scenario"] == "more-posts"].reset_index(drop=True)
    assert option.drop(columns="scenario").equals(run.summary.drop(columns="scenario"))
    # the lever moved the answer: staff and vacancies (agency cover counts in both) well above doing nothing's
    weekly = answer.result.weekly.assign(posts=lambda w: w["staff_fte"] + w["vacancies_fte"])
    posts = weekly.groupby("scenario")["posts"].mean()
    assert posts["more-posts"] - posts["more-posts-do-nothing"] > 6
    assert any("more-posts-do-nothing" in line for line in answer.compare)
    assert {"caseloads_by_team", "cost_by_year", "cost_vs_outcome"} <= set(answer.charts)
    assert (answer.folder / "results.xlsx").is_file() and answer.folder.is_relative_to(tmp_path / "outputs")


def test_bad_values_are_refused_in_plain_words(tmp_path):
    scn = open_scenario("baseline")
    growth = next(c for c in main_controls(scn) if c.key == "demand.trend_per_year")
    assert growth.kind == "percent" and growth.value == 2.0  # 0.02 shown as 2%
    lever = {**new_lever("retention", scn), "leaving_reduction": 1.5}  # 150%
    with pytest.raises(ScenarioError) as err:
        make_choice("baseline", scn, "bad", {}, [lever]).scenario()
    assert any("levers.0.leaving_reduction" in line and "Traceback" not in line for line in err.value.lines)
    from workforce_sim.app.choices import from_page

    with pytest.raises(InputError, match="give a number"):
        from_page(growth, None)
    with pytest.raises(InputError, match="bundled scenarios"):
        save_choice(make_choice("baseline", scn, "x", {}, []), Path(api.__file__).parent / "scenarios" / "x.toml",
                    tmp_path)


def test_cancel_stops_a_run(tmp_path):
    scn = open_scenario("baseline")

    class CancelAtOnce(RunState):
        def answer(self, shares):
            super().answer(shares)
            if any(s.futures for s in shares):
                self.cancel.set()  # Cancel pressed as soon as the first futures finish

    state = CancelAtOnce()
    with pytest.raises(Cancelled):
        run_choice(scn, 5, 12, SEED, state, tmp_path, jobs=1)
    assert 0 < state.done < state.total
    assert not (tmp_path / "outputs").exists()  # a cancelled run writes nothing


def test_the_page_is_served_on_this_machine_only_unless_asked():
    sock = open_socket()
    try:
        assert sock.getsockname()[0] == "127.0.0.1"
    finally:
        sock.close()
    assert warning_for("127.0.0.1") is None
    assert "no password" in warning_for("0.0.0.0")
    out = CliRunner().invoke(main, ["app", "--help"])
    assert out.exit_code == 0 and "--no-browser" in out.output and "--host" in out.output


def test_the_command_serves_the_page_on_a_free_local_port(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen([sys.executable, "-m", "workforce_sim", "app", "--no-browser"], cwd=tmp_path, env=env,
                            stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline()  # the first thing it says: where the page is
        url = re.search(r"http://127\.0\.0\.1:\d+/", line)
        assert url, line
        page = urllib.request.urlopen(url.group(0), timeout=30).read().decode()
        assert "move the levers" in page and "https://" not in page.replace("https://www.w3.org", "")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _screenshot(browser, tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    browser.execute_script("document.activeElement.blur(); document.querySelectorAll('.datepicker-dropdown')"
                           ".forEach(d => d.remove()); window.scrollTo(0, 0);"
                           "document.querySelectorAll('.sidebar, .sidebar-content, main, .main')"
                           ".forEach(e => e.scrollTop = 0);")
    height = browser.execute_script("return Math.max(document.body.scrollHeight, ...Array.from("
                                    "document.querySelectorAll('main, .main')).map(m => m.scrollHeight))")
    browser.set_window_size(1400, min(max(1100, height + 100), 2600))
    browser.save_screenshot(str(path))
    browser.set_window_size(1400, 1100)
    if SCREENSHOTS:
        shutil.copy(path, Path(SCREENSHOTS) / name)
    return path


LEVER = "document.querySelector('.lever-card[data-kind=extra_posts]')"
POSTS = LEVER + " && " + LEVER + ".querySelector('input[id$=_posts]')"


def _move_a_lever(browser) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    wait_for(browser, "return document.getElementById('name') && document.getElementById('futures')", 60)
    Select(browser.find_element(By.ID, "new_kind")).select_by_value("extra_posts")
    browser.find_element(By.ID, "add_lever").click()
    posts = wait_for(browser, f"return {POSTS}", 30)
    set_value(browser, posts.get_attribute("id"), 12)
    set_value(browser, "name", "more-posts")
    set_value(browser, "years", YEARS)
    set_value(browser, "futures", FUTURES)


FETCH = ("const done = arguments[1]; fetch(document.getElementById(arguments[0]).href)"
         ".then(r => r.ok ? r.arrayBuffer() : null).then(b => done(b && Array.from(new Uint8Array(b.slice(0, 400)))"
         ".concat([b.byteLength]))).catch(e => done(null));")


def _downloads_work(browser) -> None:
    """The workbook and the report download from the page: a zip file (xlsx), and the report of this run."""
    browser.set_script_timeout(180)
    workbook = browser.execute_async_script(FETCH, "workbook")
    assert workbook and bytes(workbook[:2]) == b"PK" and workbook[-1] > 5000
    page = browser.execute_async_script(FETCH, "report_file")
    assert page and bytes(page[:-1]).lower().lstrip().startswith(b"<!doctype html>") and page[-1] > 50_000


def _refused_in_plain_words(browser) -> None:
    """A lever at -3 posts is refused in the schema's words, as a file with posts = -3 is; then put back."""
    from selenium.webdriver.common.by import By

    posts = browser.execute_script(f"return {POSTS}.id")
    set_value(browser, posts, -3)
    browser.find_element(By.ID, "run").click()
    refused = wait_for(browser, "return document.getElementById('error_lines')?.textContent", 30)
    assert ("levers.0.posts = -3: must be a whole number from 0 to 10,000 (the lever 'More social workers (extra "
            "posts)')") in refused
    assert "Traceback" not in refused
    set_value(browser, posts, 12)


def _cancel_a_long_run(browser) -> None:
    """Cancel stops a run of 200 futures of 5 years after its first batch, and the page says so."""
    from selenium.webdriver.common.by import By

    set_value(browser, "years", 5)
    set_value(browser, "futures", 200)
    browser.find_element(By.ID, "run").click()
    wait_for(browser, "return document.querySelector('#progress_box .progress-bar')", 60)
    browser.find_element(By.ID, "cancel").click()
    said = wait_for(browser, "return document.getElementById('progress_box')?.textContent.includes('Cancelled')"
                             " && document.getElementById('progress_box').textContent", 120)
    done, total = map(int, re.search(r"after (\d+) of (\d+) futures", said).groups())
    assert done < total == 400, said  # the option and doing nothing, 200 futures each


def _save_and_load_back(browser, tmp_path: Path) -> Path:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    set_value(browser, "save_path", "outputs/scenarios/more-posts.toml")
    browser.find_element(By.ID, "save").click()
    wait_for(browser, "return document.getElementById('saved_note')", 30)
    saved = tmp_path / "outputs" / "scenarios" / "more-posts.toml"
    assert saved.is_file()
    before = browser.execute_script(f"return {POSTS}.id")
    Select(browser.find_element(By.ID, "scenario")).select_by_value(str(saved.resolve()))
    # the page drew the saved file's own lever (a new card), at the level moved before saving
    assert wait_for(browser, f"const p = {POSTS}; return p && p.id !== '{before}' && p.value", 30) == "12"
    assert browser.find_element(By.ID, "name").get_attribute("value") == "more-posts"
    return saved


def test_a_director_moves_a_lever_in_a_real_browser(tmp_path):
    if not all(browser_parts()):
        pytest.skip(MISSING)
    from selenium.webdriver.common.by import By

    with served("baseline", tmp_path) as url, chromium() as browser:
        browser.get(url)
        _move_a_lever(browser)
        _screenshot(browser, tmp_path, "app.png")
        _refused_in_plain_words(browser)
        browser.find_element(By.ID, "run").click()
        browser.find_element(By.ID, "run").click()  # a second Run while the first goes on: refused, said so
        busy = "return document.querySelector('.shiny-notification-content')?.textContent"
        assert "already" in wait_for(browser, busy, 30)
        headline = wait_for(browser, "return document.getElementById('headline')?.textContent"
                                     " || document.querySelector('.shiny-output-error, #run_error')?.outerHTML", 180)
        assert headline.startswith("Will caseloads stay manageable? "), headline
        charts = wait_for(browser, "const c = Array.from(document.querySelectorAll('img.chart'));"
                                   "return c.length >= 3 && c.every(i => i.complete && i.naturalWidth > 0)"
                                   " && c.map(i => i.dataset.chart)", 30)
        assert "caseloads_by_team" in charts and "cost_by_year" in charts
        page_summary = browser.find_element(By.ID, "summary").get_attribute("textContent")
        _screenshot(browser, tmp_path, "app-answer.png")
        _downloads_work(browser)
        saved = _save_and_load_back(browser, tmp_path)
        _cancel_a_long_run(browser)
        urls = requested_urls(browser)
    assert any(u.startswith(url) for u in urls) and off_machine(urls) == []  # nothing asked of another machine
    run = api.run(saved, years=YEARS, reps=FUTURES, seed=SEED, jobs=1, notify=lambda m: None)
    assert page_summary == "\n".join(summary_lines(run)).strip("\n")  # the page's answer is run's
