"""A new part plugs into the model through its hooks, with no change to the parts it follows.

The children in care sub-model to come (placements, costs, proceedings) will follow care plans as they start and
end. A stand-in for it here follows them through the hooks alone (``plan_started``, ``plan_ended``,
``week_ending``), plugged in with one argument (``submodels``, as one line of ``council.SUBMODELS`` would): its
count of children in care must be the model's own ``cla_open`` in every week, which fails if any path that starts
or ends a plan skips its hook; and, as an observer, it must change nothing.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from workforce_sim import load_scenario
from workforce_sim.model import WEEKLY_COLUMNS
from workforce_sim.model.council import Replication
from workforce_sim.model.hooks import Hooks

MODEL = Path(__file__).resolve().parents[1] / "src" / "workforce_sim" / "model"


class CareEpisodes:
    """Children in care, followed only through the hooks: care plans started and ended, the number open each week."""

    def __init__(self, ctx):
        self.open = self.started = self.ended = 0
        self.by_week: list[int] = []
        self.next_after_care: dict[str, int] = {}
        ctx.hooks.plan_started.append(self._started)
        ctx.hooks.plan_ended.append(self._ended)
        ctx.hooks.week_ending.append(lambda week, t: self.by_week.append(self.open))

    def _started(self, case, kind, t, days):
        if kind == "cla":
            self.open += 1
            self.started += 1

    def _ended(self, case, kind, t, next_kind):
        if kind == "cla":
            self.open -= 1
            self.ended += 1
            self.next_after_care[next_kind] = self.next_after_care.get(next_kind, 0) + 1


def _run(scn, submodels=(), weeks=104, seed=7):
    rep = Replication(scn, seed, 0, weeks, submodels=submodels)
    rep.start()
    rep.run()
    return rep, rep.collect()


@pytest.mark.parametrize("name", ["baseline", "recovering-council"])
def test_a_sub_model_counts_children_in_care_through_the_hooks_alone(name):
    scn = load_scenario(name)
    rep, out = _run(scn, [CareEpisodes])
    care = rep.submodels[0]
    assert care.started > 50 and care.ended > 20, (care.started, care.ended)  # in the start state and after
    assert care.by_week == [int(v) for v in out["cla_open"]]
    assert sum(care.next_after_care.values()) == care.ended and "cla" not in care.next_after_care


def test_a_sub_model_that_only_follows_changes_nothing():
    scn = load_scenario("baseline")
    _, plain = _run(scn)
    _, followed = _run(scn, [CareEpisodes])
    changed = [k for k in WEEKLY_COLUMNS if not np.array_equal(plain[k], followed[k], equal_nan=True)]
    assert changed == []


def test_every_declared_hook_is_called_by_the_model_and_no_other():
    """A hook declared but never called would leave its subscribers waiting; one called but not declared fails at
    once (Hooks refuses unknown names). Read from the model's source: every call of ``hooks.NAME(...)``."""
    called, held = set(), {}
    for path in MODEL.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and isinstance(node.func.value, ast.Attribute) and node.func.value.attr == "hooks"):
                called.add(node.func.attr)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr.startswith(
                    "hook_"):  # a hook held in a part's field (self.hook_NAME = hooks.NAME), called from there
                called.add(node.func.attr.removeprefix("hook_"))
            if isinstance(node, ast.Assign):  # what each such field holds: NAME must be the hook NAME
                targets = node.targets[0].elts if isinstance(node.targets[0], ast.Tuple) else node.targets
                values = node.value.elts if isinstance(node.value, ast.Tuple) else [node.value]
                for target, value in zip(targets, values):
                    if isinstance(target, ast.Attribute) and target.attr.startswith("hook_"):
                        held[target.attr] = value.attr if isinstance(value, ast.Attribute) else None
    assert called == set(Hooks.DECLARED)
    assert held and all(field == f"hook_{name}" for field, name in held.items()), held
    with pytest.raises(AttributeError, match="no hook called"):
        Hooks().plan_startd  # noqa: B018
