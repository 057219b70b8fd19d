"""What is not known: scenarios with chosen values of their uncertain settings, and draws of them.

A scenario file may give a number it does not know as a range or a distribution, in place of
the number: ``pressure_effect = { uncertain = "uniform", low = 0.5, high = 2.5 }``. Loading
puts the central value in its place, so ordinary runs are unchanged, and records the setting
in ``Scenario.uncertain`` by its key path. This module makes the scenarios that use other values:

- :func:`with_values` sets chosen values (a sensitivity analysis's design points);
- :func:`drawn` draws every uncertain setting once for one replication (``run --uncertainty``,
  a probabilistic sensitivity analysis). Each setting's quantile comes from a random stream of
  its own (:func:`stream_name`), named by its key path (a lever's by its type and label) and
  seeded by (seed, replication) like every stream of the model, so a draw never depends on the
  backend, and scenarios compared in one run that share a setting draw the same quantile of it
  in each replication (common random numbers).
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd
from pydantic import ValidationError

from .loading import ScenarioError, as_setting, key_path, load_scenario, number_type, shown_as_percent
from .schema import Scenario
from .streams import Streams

STREAM_PREFIX = "uncertain."  # a setting's stream is this and its key path, e.g. uncertain.demand.trend_per_year


def setting_value(scn: Scenario, key: str) -> float:
    """The value a scenario runs with at a dotted ``key`` (for an uncertain setting, its central value)."""
    node: Any = scn.model_dump(mode="python")
    for part in key_path(key):
        node = node[part]
    return float(node)


def in_percent(scn: Scenario, key: str) -> bool:
    """Whether tables show the setting at a dotted ``key`` as a percentage (a share, a chance, a rate a year)."""
    return shown_as_percent(key, scn.model_dump(mode="python"))


def applied(scn: Scenario, key: str, value: float) -> float:
    """``value`` as the setting ``key`` takes it: a whole number where the setting is one."""
    return float(as_setting(value, number_type(key, scn.model_dump(mode="python"))))


def with_values(scn: Scenario, values: Mapping[str, float]) -> Scenario:
    """``scn`` with each setting in ``values`` (dotted key -> value) set, rounded to a whole number where the
    setting is one, and validated. The result is a fixed scenario: it has no uncertain settings left.

    Raises :class:`ScenarioError` naming the values when together they are not a valid scenario.
    """
    data = scn.model_dump(mode="python")
    for key, v in values.items():
        kind = number_type(key, data)
        if kind is None:
            raise ScenarioError([f"{scn.name}: {key}: not a number setting of this scenario"])
        node = data
        path = key_path(key)
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = as_setting(v, kind)
    data["uncertain"] = {}
    try:  # the quick way (a design may have thousands of points); the loader below says what is wrong, if anything
        fixed = Scenario.model_validate(data)
        if not fixed.problems():
            return fixed
    except ValidationError:
        pass
    try:
        return load_scenario(data)
    except ScenarioError as err:
        shown = ", ".join(f"{k} = {v:g}" for k, v in values.items())
        raise ScenarioError([f"{scn.name} with {shown} is not a valid scenario:"] + [
            "  " + line.removeprefix("<scenario>: ") for line in err.lines]) from None


def stream_name(scn: Scenario, key: str) -> str:
    """The random stream a setting's draws come from: ``uncertain.`` and its key path, with a lever named by its
    type and label instead of its position (``uncertain.levers.early_help/Early help investment.step_up_reduction``),
    so that the same lever in two options compared draws the same value in each replication."""
    path = key_path(key)
    if len(path) > 2 and path[0] == "levers" and isinstance(path[1], int) and path[1] < len(scn.levers):
        lever = scn.levers[path[1]]
        key = ".".join(["levers", f"{lever.type}/{lever.label}", *map(str, path[2:])])
    return STREAM_PREFIX + key


def drawn_values(scn: Scenario, seed: int, replication: int) -> dict[str, float]:
    """One draw of every uncertain setting of ``scn`` for ``replication``: dotted key -> value (as applied)."""
    streams = Streams(seed, replication)
    out = {}
    for key, spec in scn.uncertain.items():
        u = streams(stream_name(scn, key)).random()
        out[key] = applied(scn, key, float(spec.ppf(u)))
    return out


def drawn(scn: Scenario, seed: int, replication: int) -> Scenario:
    """``scn`` with its uncertain settings drawn for ``replication`` (``scn`` itself when it has none)."""
    if not scn.uncertain:
        return scn
    return with_values(scn, drawn_values(scn, seed, replication))


def draws_table(scns: list[Scenario], seed: int, reps: int) -> pd.DataFrame:
    """draws.csv: the value of every uncertain setting in each replication of each scenario (one column a
    setting, by its key path; empty where a scenario does not have that setting)."""
    rows = []
    for scn in scns:
        for r in range(reps):
            rows.append({"scenario": scn.name, "replication": r} | drawn_values(scn, seed, r))
    return pd.DataFrame(rows)


def check_draws(scns: list[Scenario], seed: int, reps: int) -> None:
    """Raise :class:`ScenarioError` before a run starts if any replication's draw is not a valid scenario
    (each setting is checked at its low and high when loaded, but not every combination of them)."""
    for scn in scns:
        for r in range(reps):
            drawn(scn, seed, r)


def quantiles_to_values(scn: Scenario, keys: list[str], u: np.ndarray) -> np.ndarray:
    """A design in the unit cube (points x settings, quantiles 0 to 1) as setting values, through each
    setting's distribution, rounded where a setting is a whole number."""
    out = np.empty_like(np.asarray(u, dtype=float))
    for j, key in enumerate(keys):
        values = scn.uncertain[key].ppf(u[:, j])
        out[:, j] = np.round(values) if number_type(key, scn.model_dump(mode="python")) is int else values
    return out
