"""Follow one child or one worker through one replication: the Python API behind ``workforce-sim trace``.

A trace is how a developer sees a mechanism at work and how a planner explains one to a director
("this child waited 19 working days for a social worker and had 3 social workers in 8 months").
Tracing changes no result: the traced replication is the same one ``run`` would simulate with the
same seed, replication number and number of years (the run's length is part of its random draw).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..model.council import Replication, collector_paused
from ..model.trace import Tracer
from ..scenario.calendar import WorkingCalendar, weeks_for_years
from ..scenario.loading import load_scenario
from ..scenario.schema import Scenario

TRACE_COLUMNS = ["date", "clock_days", "who", "id", "event", "worker", "detail"]


def trace(scenario: Scenario | str | Path, years: float = 5.0, seed: int = 42, replication: int = 0,
          children: list[int] | None = None, workers: list[int] | None = None,
          overrides: list[str] | None = None, team: str | None = None) -> pd.DataFrame:
    """The timeline of ``children`` and ``workers`` (ids; None and None: everyone) in one replication; with
    ``team``, of that team instead: its workers, the children while its workers hold them, and the team's
    caseload every four weeks (who "team").

    Columns: date, clock_days (working days from the start), who ("child", "worker" or "team"), id,
    event, worker (the worker involved, -1 for none) and detail.
    """
    scn = scenario if isinstance(scenario, Scenario) and not overrides else load_scenario(
        scenario.model_dump() if isinstance(scenario, Scenario) else scenario, overrides)
    if team is not None and team not in scn.case_holding_teams():
        raise ValueError(f"no case-holding team {team!r} in {scn.name}; its teams are "
                         f"{', '.join(scn.case_holding_teams())}")
    everyone = (children is None and workers is None) or team is not None
    tracer = Tracer(children=None if everyone else (children or []), workers=None if everyone else (workers or []))
    n_weeks = weeks_for_years(years)
    with collector_paused():
        rep = Replication(scn, seed, replication, n_weeks, tracer=tracer)
        rep.start()
        rep.run()
    cal = WorkingCalendar(scn.start_date, n_weeks)
    rows = [r for r in tracer.rows if r[0] <= cal.horizon]
    if team is not None:
        rows = _team_rows(rep, team, rows, cal)
    rows.sort(key=lambda r: r[0])  # stable: same-time order kept
    df = pd.DataFrame(rows, columns=["clock_days", "who", "id", "event", "worker", "detail"])
    df.insert(0, "date", [cal.date_of(t) for t in df["clock_days"]])
    return df[TRACE_COLUMNS]


def _team_rows(rep: Replication, team: str, rows: list, cal: WorkingCalendar) -> list:
    """The rows of one team's workers and of children while they hold them, and a row on the team's caseload
    every four weeks."""
    wf = rep.workforce
    ti = wf.team_names.index(team)
    mine = {int(w) for w in range(wf.n) if wf.team[w] == ti}
    kept = [r for r in rows if (r[1] == "worker" and r[2] in mine) or (r[1] == "child" and r[4] in mine)]
    weekly = rep.monitor.results([f"caseload_incl_unallocated_{team}", f"caseload_{team}"])
    with_waiting, held = weekly[f"caseload_incl_unallocated_{team}"], weekly[f"caseload_{team}"]
    for week in range(0, len(held), 4):
        kept.append((float(cal.week_bounds[week + 1]) - 1e-6, "team", ti, "caseload",
                     -1, f"{held[week]:.1f} cases per FTE held, {with_waiting[week]:.1f} counting those waiting "
                         f"(standard {rep.scn.standard(team):g})"))
    return kept


def child_story(timeline: pd.DataFrame, child: int) -> str:
    """One sentence about a child's journey: when referred, how long they waited, how many social workers."""
    rows = timeline[(timeline["who"] == "child") & (timeline["id"] == child)]
    if rows.empty:
        return f"Child {child} does not appear in this replication."
    allocated = rows[rows["event"].str.startswith("allocated")]
    workers = allocated["worker"].tolist()
    changes = sum(1 for a, b in zip(workers, workers[1:]) if a != b)
    waited = rows[rows["event"].str.startswith("waiting")]
    wait_days = allocated["detail"].str.extract(r"after waiting (\d+) working days")[0].dropna().astype(int).sum()
    first, last = rows["date"].iloc[0], rows["date"].iloc[-1]
    months = max(0, (last.year - first.year) * 12 + last.month - first.month)
    parts = [f"Child {child} was first seen on {first:%-d %B %Y}"]
    if len(waited):
        parts.append(f"waited {wait_days} working days in all for a social worker ({len(waited)} time(s))")
    parts.append(f"and had {len(set(workers))} social worker(s), {changes} change(s), over {months} month(s)")
    return ", ".join(parts) + "."


def most_moved_child(timeline: pd.DataFrame) -> int | None:
    """The child with the most changes of social worker (then the longest wait): a journey worth reading."""
    kids = timeline[timeline["who"] == "child"]
    if kids.empty:
        return None
    alloc = kids[kids["event"].str.startswith("allocated")]
    moves = alloc.groupby("id")["worker"].apply(lambda w: int((w.to_numpy()[1:] != w.to_numpy()[:-1]).sum()))
    waits = kids[kids["event"].str.startswith("waiting")].groupby("id").size()
    score = pd.DataFrame({"moves": moves}).join(waits.rename("waits")).fillna(0)
    return int(score.sort_values(["moves", "waits"], ascending=False, kind="stable").index[0])
