"""The page where a director moves the levers: a Shiny for Python app over :mod:`workforce_sim.app.choices` (what
can be chosen, in the scenario's units) and :mod:`workforce_sim.app.running` (a run through the Python API).

Shiny serves its own scripts and style sheets from the installed package, and this page asks for nothing else: no
font, script or picture comes from another machine, so it works with the network off. One run at a time: Run is
refused while a run goes on, and Cancel stops it.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from pathlib import Path
from typing import Any

from shiny import App, Inputs, Outputs, Session, reactive, render, ui

from .choices import (
    FIRST_LEVERS,
    LEVER_CLASSES,
    SAVED_FOLDER,
    Control,
    InputError,
    ScenarioError,
    check_name,
    from_page,
    lever_controls,
    lever_name,
    lever_words,
    main_controls,
    make_choice,
    new_lever,
    open_scenario,
    save_choice,
    scenario_files,
)
from .running import MAX_FUTURES, MAX_YEARS, Answer, Cancelled, RunState, report, run_choice

TITLE = "workforce_sim: move the levers"
ONE_AT_A_TIME = ("One run at a time: while a run goes on, Run is refused; Cancel stops it (futures finished so far "
                 "are not kept).")
BUSY = "A run is going on already. Wait for it to finish, or press Cancel first."
CHART_ORDER = ["caseloads_by_team", "cost_by_year", "p_sustained", "cost_vs_outcome"]  # shown with the answer
STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
pre.words { white-space: pre-wrap; font-size: 0.8rem; background: #f7f7f7; padding: 0.6rem; }
.headline { font-size: 1.15rem; font-weight: 600; }
.errors { color: #a4000f; }
.lever-words { font-size: 0.85rem; color: #555; }
img.chart { max-width: 100%; height: auto; margin-bottom: 1rem; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 0.5rem; }
.lever-card { width: 340px; }
"""
LEVER_ORDER = FIRST_LEVERS + [k for k in LEVER_CLASSES if k not in FIRST_LEVERS]  # the four a director asks for first
_ids = itertools.count(1)  # every lever card shown gets a number of its own, never used again


def _id(key: str) -> str:
    return "set_" + key.replace(".", "__")


def control_ui(input_id: str, c: Control, value: Any | None = None) -> Any:
    """One control, in the setting's units: percentages as percentages, money in pounds, dates as dates."""
    v = c.value if value is None else value
    if c.kind == "percent":
        return ui.input_numeric(input_id, f"{c.label} (%)", v, step=0.5)
    if c.kind == "money":
        return ui.input_numeric(input_id, f"{c.label} (£)", v, min=0, step=1000)
    if c.kind == "count":
        return ui.input_numeric(input_id, c.label, v, min=0, step=1)
    if c.kind == "number":
        return ui.input_numeric(input_id, c.label, v, step=0.5)
    if c.kind == "date" and not c.optional:
        return ui.input_date(input_id, c.label, value=v, format="d MM yyyy")
    if c.kind == "date":
        return ui.input_text(input_id, c.label, "" if v is None else str(v), placeholder="e.g. 2029-03-31")
    if c.kind == "team":
        return ui.input_select(input_id, c.label, {t: t.replace("_", " ") for t in c.choices}, selected=v)
    return ui.input_text(input_id, c.label, v or "")


def page_ui(first: str, files: dict[str, str]) -> Any:
    """The page: the scenario and its main settings on the left; the levers, Run and the answer on the right."""
    sidebar = ui.sidebar(
        ui.input_select("scenario", "Scenario", files, selected=first),
        ui.input_text("open_path", "Or open your own scenario file", placeholder="path/to/my-council.toml"),
        ui.input_action_button("open", "Open file", class_="btn-sm btn-outline-secondary"),
        ui.output_ui("settings"),
        width=380, open="always")
    main = [
        ui.h5("Levers"),
        ui.output_ui("levers"),
        ui.div(ui.input_select("new_kind", None, {k: lever_name(k) for k in LEVER_ORDER}, width="340px"),
               ui.input_action_button("add_lever", "Add this lever", class_="btn-outline-primary ms-2"),
               class_="d-flex align-items-start mb-3"),
        ui.div(ui.input_action_button("run", "Run", class_="btn-primary btn-lg"),
               ui.input_action_button("cancel", "Cancel", class_="btn-outline-danger ms-2"),
               ui.span(ONE_AT_A_TIME, class_="ms-3 text-muted small"), class_="d-flex align-items-center mb-3"),
        ui.output_ui("errors"), ui.output_ui("progress"), ui.output_ui("answer"),
        ui.card(ui.card_header("Save these settings as a scenario file"),
                ui.output_ui("save_path_ui"),
                ui.input_action_button("save", "Save scenario", class_="btn-sm btn-outline-primary"),
                ui.output_ui("saved")),
    ]
    return ui.page_sidebar(sidebar, *main, ui.tags.style(STYLE), title=TITLE, lang="en", fillable=False)


def _pct(x: float) -> str:
    return f"{x:.0%}"


def progress_ui(done: int, total: int, shares, running: bool) -> Any:
    """The progress bar and the answer so far: the share of the futures finished that stay manageable, with its
    95% interval, for each scenario of the run."""
    width = int(100 * done / total) if total else 0
    bar = ui.div(ui.div(f"{done} of {total} futures", class_="progress-bar", role="progressbar",
                        style=f"width: {width}%;", **{"aria-valuenow": str(width), "aria-valuemin": "0",
                                                      "aria-valuemax": "100"}),
                 class_="progress mb-2", style="height: 1.4rem;")
    lines = []
    for s in shares:
        if s.futures:
            lo, hi = s.interval()
            lines.append(f"{s.scenario}: {'so far ' if running else ''}{s.manageable} of {s.futures} finished futures "
                         f"stay manageable, "
                         f"{_pct(s.share)} (95% interval {_pct(lo)} to {_pct(hi)})")
    head = "Running…" if running else "Finished."
    return ui.div(ui.p(head), bar, *[ui.p(line, class_="so-far mb-1") for line in lines], id="progress_box")


def _image(a: Answer, stem: str) -> Any:
    title, alt, uri = a.charts[stem]
    return ui.tags.img(src=uri, alt=alt, title=title, class_="chart", **{"data-chart": stem})


def answer_ui(a: Answer) -> Any:
    """The answer: in words as `workforce-sim run` prints it, the charts by team and of cost by financial year, the
    option against doing nothing, the run's workbook and report to download, then every other chart."""
    first = [_image(a, stem) for stem in CHART_ORDER if stem in a.charts]
    more = [_image(a, stem) for stem in a.charts if stem not in CHART_ORDER]
    parts: list[Any] = [
        ui.card_header(f"The answer for {a.option.name}"),
        ui.p("Will caseloads stay manageable? " + a.headline, class_="headline", id="headline"),
        ui.p(a.where if a.where and a.where not in a.headline else "", id="where"),
        ui.div(ui.download_button("workbook", "Download the workbook (results.xlsx)", class_="btn-sm"),
               ui.download_button("report_file", "Download the report (report.html)", class_="btn-sm ms-2"),
               ui.span(f"The run is kept in {a.folder}", class_="ms-2 small text-muted"), class_="mb-3"),
        ui.div(*first, class_="charts")]
    if a.compare:
        parts += [ui.h6("Against doing nothing (the same settings with no levers, on the same simulated futures)"),
                  ui.tags.pre("\n".join(a.compare).strip("\n"), class_="words", id="compare")]
    else:
        parts.append(ui.p("This choice has no lever, so there is nothing to set against doing nothing: add a lever."))
    parts += [ui.h6("The summary, as workforce-sim run prints it"),
              ui.tags.pre("\n".join(a.summary).strip("\n"), class_="words", id="summary"),
              ui.h6("More charts"), ui.div(*more, class_="charts")]
    return ui.card(*parts, id="answer_card")


def _lines(exc: Exception) -> list[str]:
    lines = getattr(exc, "lines", None) or [str(exc)]
    return [line.removeprefix("<scenario>: ") for line in lines]


def _named(line: str, levers: list[dict] | None) -> str:
    """A problem with a lever (levers.0.posts = ...) followed by the lever's name, as the page shows it."""
    m = re.match(r"levers\.(\d+)\.", line)
    if m is None or levers is None or int(m.group(1)) >= len(levers):
        return line
    return f"{line} (the lever '{lever_name(levers[int(m.group(1))]['type'])}')"


class _Page:
    """One visitor's page: what they chose and the run they started."""

    def __init__(self, input: Inputs, workdir: Path, first: str, extra: list[str], jobs: int | None):
        self.input, self.workdir, self.extra, self.jobs = input, workdir, extra, jobs
        self.loaded: reactive.Value[tuple[str, Any] | None] = reactive.value(None)
        self.levers: reactive.Value[list[tuple[int, dict]]] = reactive.value([])
        self.errors: reactive.Value[list[str]] = reactive.value([])
        self.saved: reactive.Value[str] = reactive.value("")
        self.state: reactive.Value[RunState | None] = reactive.value(None)
        self.open(first)

    def open(self, ref: str) -> bool:
        """Load scenario ``ref`` into the page (its settings and levers), or say why it cannot be."""
        try:
            scn = open_scenario(ref)
        except ScenarioError as exc:
            self.errors.set(_lines(exc))
            return False
        self.errors.set([])
        self.loaded.set((ref, scn))
        self.levers.set([(next(_ids), lever) for lever in scn.model_dump(mode="python")["levers"]])
        return True

    def value(self, input_id: str, default: Any = None) -> Any:
        """The value of a control on the page (``default`` if it is not there yet)."""
        with reactive.isolate():
            try:
                return self.input[input_id]()
            except Exception:  # noqa: BLE001 - not drawn yet
                return default

    def lever_card(self, uid: int, lever: dict, teams: list[str]) -> Any:
        controls = [control_ui(f"lever{uid}_{c.key}", c, self.value(f"lever{uid}_{c.key}"))
                    for c in lever_controls(lever, teams)]
        on = self.value(f"lever{uid}_on", True)
        return ui.card(ui.card_header(ui.input_checkbox(f"lever{uid}_on", ui.strong(lever_name(lever["type"])), on)),
                       ui.p(lever_words(lever["type"]), class_="lever-words"), *controls,
                       class_="lever-card", **{"data-kind": lever["type"]})

    def choice(self):
        """What the page's controls say, as a choice (raises InputError or ScenarioError, in plain words)."""
        loaded = self.loaded.get()
        if loaded is None:
            raise InputError(["Choose a scenario first."])
        ref, scn = loaded
        name = check_name(self.value("name") or "")
        settings = {c.key: from_page_or_raise(c, self.value(_id(c.key)), "") for c in main_controls(scn)}
        levers = []
        for uid, lever in self.levers.get():
            if not self.value(f"lever{uid}_on", True):
                continue
            table = dict(lever)
            for c in lever_controls(lever, scn.case_holding_teams()):
                table[c.key] = from_page_or_raise(c, self.value(f"lever{uid}_{c.key}"), lever_name(lever["type"]))
            levers.append(table)
        return make_choice(ref, scn, name, settings, levers)

    def checked(self) -> tuple[Any, Any]:
        """The choice and the scenario it makes; a problem with a lever says which lever (raises InputError)."""
        choice = self.choice()
        try:
            return choice, choice.scenario()
        except ScenarioError as exc:
            raise InputError([_named(line, choice.levers) for line in _lines(exc)]) from None

    def run_settings(self) -> tuple[float, int, int]:
        """Years, futures and seed from the page (raises InputError)."""
        years, futures, seed = self.value("years"), self.value("futures"), self.value("seed")
        problems = []
        if not isinstance(years, (int, float)) or not 0 < years <= MAX_YEARS:
            problems.append(f"Years to simulate: give a number more than 0 and at most {MAX_YEARS}")
        if not isinstance(futures, (int, float)) or futures != int(futures) or not 1 <= futures <= MAX_FUTURES:
            problems.append(f"Simulated futures: give a whole number from 1 to {MAX_FUTURES}")
        if not isinstance(seed, (int, float)) or seed != int(seed) or seed < 0:
            problems.append("Random seed: give a whole number, 0 or more")
        if problems:
            raise InputError(problems)
        return float(years), int(futures), int(seed)


def from_page_or_raise(c: Control, value: Any, where: str) -> Any:
    """A control's value as the scenario writes it; a problem is said with ``where`` it is (a lever's name)."""
    try:
        return from_page(c, value)
    except InputError as exc:
        raise InputError([f"{where}: {line}" if where else line for line in exc.lines]) from None


def _settings_ui(page: _Page) -> Any:
    loaded = page.loaded.get()
    if loaded is None:
        return None
    _, scn = loaded
    return ui.TagList(
        ui.p(scn.description, class_="small text-muted"),
        ui.input_text("name", "Name of this option", scn.name),
        ui.h5("Main settings"),
        *[control_ui(_id(c.key), c) for c in main_controls(scn)],
        ui.input_numeric("years", "Years to simulate", 5, min=0.5, max=MAX_YEARS, step=0.5),
        ui.input_numeric("futures", "Simulated futures (more: surer, slower)", 20, min=1, max=MAX_FUTURES, step=1),
        ui.input_numeric("seed", "Random seed (the same seed: the same futures)", 42, min=0, step=1))


def server_for(workdir: Path, first: str, extra: list[str], jobs: int | None):
    """The page's server function, for files under ``workdir``."""
    def server(input: Inputs, output: Outputs, session: Session) -> None:
        page = _Page(input, workdir, first, extra, jobs)
        _choosing(page)
        _running(page, workdir, jobs)
        _saving(page)
    return server


def _choosing(page: _Page) -> None:
    input = page.input

    @reactive.effect
    @reactive.event(input.scenario, ignore_init=True)
    def _scenario() -> None:
        page.open(input.scenario())

    @reactive.effect
    @reactive.event(input.open)
    def _open() -> None:
        path = (input.open_path() or "").strip()
        if path and page.open(path):
            files = scenario_files(page.workdir, page.extra + [path])
            ref = str(Path(path).resolve()) if Path(path).is_file() else path
            ui.update_select("scenario", choices=files, selected=ref if ref in files else None)

    @reactive.effect
    @reactive.event(input.add_lever)
    def _add() -> None:
        loaded = page.loaded.get()
        if loaded is not None:
            page.levers.set(page.levers.get() + [(next(_ids), new_lever(input.new_kind(), loaded[1]))])

    @render.ui
    def settings() -> Any:
        return _settings_ui(page)

    @render.ui
    def levers() -> Any:
        loaded = page.loaded.get()
        if loaded is None:
            return None
        teams = loaded[1].case_holding_teams()
        cards = [page.lever_card(uid, lever, teams) for uid, lever in page.levers.get()]
        if not cards:
            return ui.p("No levers yet: add one below, then press Run.", class_="text-muted")
        return ui.div(*cards, class_="d-flex flex-wrap gap-3 mb-2")

    @render.ui
    def errors() -> Any:
        lines = page.errors.get()
        return ui.div(*[ui.p(line, class_="mb-1") for line in lines], class_="errors alert alert-danger",
                      id="error_lines") if lines else None


def _running(page: _Page, workdir: Path, jobs: int | None) -> None:
    input = page.input

    @reactive.extended_task
    async def task(scn, years: float, futures: int, seed: int, state: RunState) -> Answer | None:
        try:
            return await asyncio.to_thread(run_choice, scn, years, futures, seed, state, workdir, jobs)
        except Cancelled:
            return None

    @reactive.effect
    @reactive.event(input.run)
    def _run() -> None:
        if task.status() == "running":
            ui.notification_show(BUSY, type="warning", duration=6)
            return
        try:
            _, scn = page.checked()
            years, futures, seed = page.run_settings()
        except (InputError, ScenarioError) as exc:
            page.errors.set(_lines(exc))
            return
        page.errors.set([])
        state = RunState()
        page.state.set(state)
        task.invoke(scn, years, futures, seed, state)

    @reactive.effect
    @reactive.event(input.cancel)
    def _cancel() -> None:
        state = page.state.get()
        if state is not None and task.status() == "running":
            state.cancel.set()

    @render.ui
    def progress() -> Any:
        state = page.state.get()
        if state is None:
            return None
        running = task.status() == "running"
        if running:
            reactive.invalidate_later(0.4)
        done, total, shares = state.snapshot()
        if not running and state.cancel.is_set():
            return ui.div(ui.p(f"Cancelled after {done} of {total} futures."), id="progress_box")
        return progress_ui(done, total, shares, running)

    @render.ui
    def answer() -> Any:
        status = task.status()
        if status == "error":
            return ui.div(f"The run stopped: {_plain(task)}", class_="errors alert alert-danger", id="run_error")
        result = task.result() if status == "success" else None
        return None if result is None else answer_ui(result)

    _downloads(task)


def _downloads(task) -> None:
    """The run's workbook and report (written when first asked for), to download."""

    @render.download_button(filename="results.xlsx")
    def workbook():
        return str(task.result().folder / "results.xlsx")

    @render.download_button(filename="report.html")
    def report_file():
        return str(report(task.result().folder))


def _plain(task) -> str:
    try:
        task.result()
    except Exception as exc:  # noqa: BLE001 - shown in plain words, never as a traceback
        return " ".join(str(exc).split())[:300] or type(exc).__name__
    return ""


def _saving(page: _Page) -> None:
    input = page.input

    @render.ui
    def save_path_ui() -> Any:
        try:
            name = input.name() or "my-option"
        except Exception:  # noqa: BLE001 - the name box is not drawn yet
            name = "my-option"
        return ui.input_text("save_path", "File to write (a .toml file)", str(SAVED_FOLDER / f"{name}.toml"),
                             width="100%")

    @reactive.effect
    @reactive.event(input.save)
    def _save() -> None:
        try:
            path = save_choice(page.checked()[0], Path((input.save_path() or "").strip()), page.workdir)
        except (InputError, ScenarioError) as exc:
            page.errors.set(_lines(exc))
            page.saved.set("")
            return
        page.errors.set([])
        page.saved.set(f"Saved to {path}. It is now in the list of scenarios; run it with: workforce-sim run {path}")
        with reactive.isolate():
            current = input.scenario()
        ui.update_select("scenario", choices=scenario_files(page.workdir, page.extra + [str(path)]), selected=current)

    @render.ui
    def saved() -> Any:
        text = page.saved.get()
        return ui.p(text, class_="small mt-2", id="saved_note") if text else None


def make_app(scenario: str = "baseline", workdir: Path | None = None, jobs: int | None = None) -> App:
    """The page as a Shiny app: ``scenario`` chosen first (a bundled name or a file), files read and written under
    ``workdir`` (default: the current folder), runs on ``jobs`` worker processes (default: as `run` chooses)."""
    workdir = Path(workdir or Path.cwd()).resolve()
    extra = [scenario] if Path(scenario).is_file() else []
    first = str(Path(scenario).resolve()) if extra else scenario
    return App(page_ui(first, scenario_files(workdir, extra)), server_for(workdir, first, extra, jobs))
