"""A run started from the page: the chosen scenario set against doing nothing (the same settings with no levers)
on the same simulated futures, through :func:`workforce_sim.api.run`, with what the page shows while it runs (a
:class:`RunState`: futures done, the answer so far) and after (an :class:`Answer`: the printed summary's words, the
comparison, the charts of ``workforce-sim plot``, the run's folder for the workbook and the report).

Cancelling uses the hook every run already has: the progress callback, called after each batch of futures, raises
:class:`Cancelled` (as Ctrl-C stops a run on the command line); the runner then cancels the batches not begun and
lets the few running finish, keeping nothing.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..analysis.breaches import breach_rules
from ..analysis.compare import compare_table
from ..analysis.money import money_settings
from ..analysis.payback import payback_table
from ..api import run as run_experiment, write_run
from ..outputs.console import compare_lines, summary_lines
from ..outputs.words import plain_headline, where_line
from ..runs.experiment import RunningShare, RunResult
from ..scenario.loading import load_scenario
from ..scenario.schema import Scenario

RUNS_FOLDER = Path("outputs") / "app"  # every run the page makes is written here, under the working folder
MAX_FUTURES = 1000
MAX_YEARS = 30


class Cancelled(Exception):
    """The person pressed Cancel: raised from the run's progress callback, it stops the run."""


@dataclass
class RunState:
    """What the page reads while a run goes on (written by the run's thread, read by the page's)."""

    total: int = 0
    done: int = 0
    shares: list[RunningShare] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)
    first_answer: float | None = None  # seconds from the start to the first future's answer
    finished: float | None = None  # seconds from the start to the whole answer
    cancel: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def progress(self, done: int, total: int) -> None:
        """The run's progress callback: keep the count, then stop the run if Cancel was pressed."""
        with self.lock:
            self.done, self.total = done, total
        if self.cancel.is_set():
            raise Cancelled()

    def answer(self, shares: list[RunningShare]) -> None:
        """The run's answer-so-far callback (called just before each progress report)."""
        with self.lock:
            self.shares = list(shares)
            if self.first_answer is None and any(s.futures for s in shares):
                self.first_answer = time.perf_counter() - self.started

    def snapshot(self) -> tuple[int, int, list[RunningShare]]:
        with self.lock:
            return self.done, self.total, list(self.shares)


def reference(scn: Scenario) -> Scenario | None:
    """Doing nothing: ``scn`` with no levers, named "NAME-do-nothing" (None when ``scn`` has no lever: there is
    nothing to set against it)."""
    if not scn.levers:
        return None
    table = scn.model_dump(mode="python")
    table.update(levers=[], name=f"{scn.name}-do-nothing"[:64], changes=[])
    return load_scenario(table)


@dataclass
class Answer:
    """A finished run as the page shows it."""

    option: Scenario  # the choice made on the page
    scenarios: list[Scenario]  # those run: doing nothing first, when the choice has levers, then the choice
    result: RunResult
    folder: Path
    headline: str  # the answer in a sentence, as the summary gives it
    where: str  # where caseloads break first, as the summary gives it
    summary: list[str]  # the lines `workforce-sim run` prints for the option
    compare: list[str]  # the lines `workforce-sim compare` prints, option against doing nothing ([] with no lever)
    charts: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # stem: (title, alt text, PNG data URI)


def _compare_tables(scns: list[Scenario]):
    labels = {s.name: s.label for s in scns}
    return lambda r: {"compare.csv": compare_table(r.weekly, breach_rules(scns), money_settings(scns), labels),
                      "payback.csv": payback_table(r.weekly, money_settings(scns))}


def simulate(scn: Scenario, years: float, futures: int, seed: int, state: RunState,
             jobs: int | None = None) -> RunResult:
    """Run ``scn`` (and doing nothing, when it has levers) for ``years`` years, ``futures`` futures, on the same
    simulated futures, reporting to ``state``; raises :class:`Cancelled` when cancelled."""
    other = reference(scn)
    scns = [scn] if other is None else [other, scn]  # doing nothing first: the reference, as compare takes it
    return run_experiment(scns, years=years, reps=futures, seed=seed, jobs=jobs, progress=state.progress,
                   answer=state.answer, notify=lambda message: None,
                   extra=_compare_tables(scns) if other is not None else None)


def _folder(workdir: Path, name: str) -> Path:
    stamp = dt.datetime.now().strftime("%Y-%m-%d_%H%M%S_%f")
    return workdir / RUNS_FOLDER / name / stamp


def answer_of(result: RunResult, name: str, workdir: Path) -> Answer:
    """Write the run into outputs/app/NAME/DATE-TIME (its tables, workbook and manifest, as `run` writes them) and
    put its answer in words, its comparison and its charts as the page shows them (the answer of scenario ``name``,
    the choice; the other, if any, is doing nothing)."""
    scns = result.scenarios
    scn = next(s for s in scns if s.name == name)
    folder = _folder(workdir, scn.name)
    write_run(result, folder)
    s = result.summary
    part = s[s["scenario"] == scn.name]
    n = result.manifest["replications"]
    option = RunResult(weekly=result.weekly, summary=part, manifest=result.manifest, scenarios=[scn])
    return Answer(option=scn, scenarios=scns, result=result, folder=folder,
                  headline=plain_headline(scn, part, n, result.manifest.get("years")), where=where_line(scn, part, n),
                  summary=summary_lines(option),
                  compare=compare_lines(result, scns, result.manifest["years"], False) if len(scns) > 1 else [],
                  charts=charts(folder))


def charts(folder: Path) -> dict[str, tuple[str, str, str]]:
    """The charts of the run in ``folder`` (those `workforce-sim plot` draws), each as a PNG in a data URI."""
    import matplotlib

    matplotlib.use("Agg")  # pictures, never windows
    import matplotlib.pyplot as plt

    from ..outputs.plots import charts_of_run

    out = {}
    for stem, chart in charts_of_run(folder).items():
        buf = io.BytesIO()
        chart.figure.savefig(buf, format="png", dpi=90)
        plt.close(chart.figure)
        out[stem] = (chart.title, chart.alt, "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode())
    return out


def report(folder: Path) -> Path:
    """The run's report (report.html in its folder), written the first time it is asked for."""
    path = folder / "report.html"
    if not path.is_file():
        import matplotlib

        matplotlib.use("Agg")
        from ..outputs.report import write_report

        write_report(folder)
    return path


def run_choice(scn: Scenario, years: float, futures: int, seed: int, state: RunState, workdir: Path,
               jobs: int | None = None) -> Answer:
    """Simulate and put the answer as the page shows it (raises :class:`Cancelled` when cancelled)."""
    result = simulate(scn, years, futures, seed, state, jobs)
    answer = answer_of(result, scn.name, workdir)
    state.finished = time.perf_counter() - state.started
    return answer
