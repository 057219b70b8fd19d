"""Following a child or a worker: the trace records what happened and changes no result."""

import numpy as np
import pandas as pd
from click.testing import CliRunner

from workforce_sim.cli import main
from workforce_sim.model import Replication, simulate
from workforce_sim.model.trace import Tracer
from workforce_sim.studies.tracing import child_story, most_moved_child, trace


def test_tracing_everyone_changes_no_result(baseline):
    plain = simulate(baseline, 4, 1, 60)
    tracer = Tracer()
    rep = Replication(baseline, 4, 1, 60, tracer=tracer)
    rep.start()
    rep.run()
    traced = rep.collect()
    assert len(tracer.rows) > 5000
    for k in plain:
        if k != "_events":
            np.testing.assert_array_equal(plain[k], traced[k], err_msg=k)


def test_a_childs_timeline_follows_the_case_in_order(baseline):
    tl = trace(baseline, years=1, seed=2)
    child = most_moved_child(tl)
    mine = tl[(tl["who"] == "child") & (tl["id"] == child)]
    assert mine["clock_days"].is_monotonic_increasing
    events = mine["event"].tolist()
    assert any(e.startswith("allocated") for e in events)
    held = mine[mine["event"].str.startswith("allocated")]["worker"]
    assert (held.to_numpy()[1:] != held.to_numpy()[:-1]).sum() >= 2  # the most-moved child did move
    # the workers named in the child's timeline are real workers of this replication
    workers = tl[tl["who"] == "worker"]["id"].unique()
    assert set(held) <= set(workers)


def test_child_story_counts_waits_and_workers():
    d = pd.Timestamp("2019-03-01").date()
    tl = pd.DataFrame([
        (d, 0.0, "child", 7, "referred", -1, ""),
        (d, 0.0, "child", 7, "waiting unallocated (assessment)", -1, ""),
        (pd.Timestamp("2019-04-01").date(), 20.0, "child", 7, "allocated (assessment)", 3,
         "after waiting 19 working days; x"),
        (pd.Timestamp("2019-06-01").date(), 60.0, "child", 7, "allocated (cp)", 5, "x"),
        (pd.Timestamp("2019-11-01").date(), 170.0, "child", 7, "allocated (cp)", 3, "x"),
    ], columns=["date", "clock_days", "who", "id", "event", "worker", "detail"])
    story = child_story(tl, 7)
    assert "waited 19 working days" in story and "2 social worker(s), 2 change(s), over 8 month(s)" in story


def test_trace_command_follows_a_child_and_a_worker(tmp_path):
    out = tmp_path / "trace.csv"
    res = CliRunner().invoke(main, ["trace", "baseline", "--years", "0.5", "--seed", "3", "--worker", "10",
                                    "--child", "5", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "child 5" in res.output and "worker 10" in res.output and "Child 5 was first seen" in res.output
    written = pd.read_csv(out)
    assert set(written["id"]) <= {5, 10} and {"child", "worker"} == set(written["who"])


def test_a_case_waits_only_when_it_was_waiting():
    """'after waiting N working days' is said only of an allocation that ends a wait: a case handed straight to
    a colleague when its worker leaves waited for nobody (the time of an earlier wait was carried over: a child
    reallocated on the day their worker left read 'after waiting 74 working days'), and the child's total is
    the sum of its waits."""
    from workforce_sim import load_scenario

    tl = trace(load_scenario("baseline"), years=2, seed=42)
    kids = tl[tl["who"] == "child"]
    checked = 0
    for _, mine in kids.groupby("id", sort=False):
        waiting = False
        for ev, detail, day in zip(mine["event"], mine["detail"].fillna(""), mine["clock_days"]):
            if ev.startswith("waiting unallocated"):
                waiting = True
            elif ev.startswith("allocated"):
                if "after waiting" in detail:
                    assert waiting, (mine["id"].iloc[0], day, detail)
                    checked += 1
                waiting = False
    assert checked >= 5
