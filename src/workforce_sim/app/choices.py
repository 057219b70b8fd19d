"""What the page lets a person choose, without the page: the controls of a scenario (its main settings and its
levers, in its own units), the choice made with them as a small scenario table that ``extends`` the scenario
chosen, and that choice loaded, saved and run.

Nothing here knows the model: a choice is loaded by the same loader and checked by the same schema as a file
(so the page shows the same plain messages), saved by the same TOML writer (:mod:`workforce_sim.scenario.tomlout`),
and run by :func:`workforce_sim.api.run`. The Shiny page (:mod:`workforce_sim.app.page`) only draws these.
"""

from __future__ import annotations

import datetime as dt
import math
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ..scenario import tomlout
from ..scenario.loading import ScenarioError, bundled_names, bundled_path, load_scenario, number_type, shown_as_percent
from ..scenario.schema import Lever, Money, PositiveMoney, Scenario, safe_name

# the main settings shown above the levers: (dotted key, plain label); a setting the scenario writes as a table
# (a manageable caseload by team) is left to the file
MAIN_SETTINGS = [
    ("demand.trend_per_year", "Growth in contacts a year"),
    ("standards.manageable_caseload", "Manageable caseload (cases per social worker)"),
    ("standards.breach_weeks", "Weeks above it in a row that count as unmanageable"),
    ("workforce.agency.max_share_of_posts", "Most agency staff, as a share of funded posts"),
]
LEVER_CLASSES: dict[str, type[BaseModel]] = {typing.get_args(c.model_fields["type"].annotation)[0]: c
                                  for c in typing.get_args(typing.get_args(Lever)[0])}
# the levers a director reaches for first, with a starting level each: ten more social workers, a retention
# payment, an agency cap, a foster carer campaign
NEW_LEVER_LEVELS: dict[str, dict[str, Any]] = {
    "extra_posts": {"posts": 10},
    "retention": {"leaving_reduction": 0.15, "payment_per_worker_per_year": 2000.0},
    "agency_cap": {"max_share_of_posts": 0.1},
    "foster_carers": {"places_per_year": 6.0},
}
FIRST_LEVERS = list(NEW_LEVER_LEVELS)
NOT_SHOWN = ("type", "grades")  # a lever's kind is its card's title; the grades a retention payment covers stay
SAVED_FOLDER = Path("outputs") / "scenarios"  # where the page offers to save a choice, under the working folder


LEVER_NAMES = {
    "extra_posts": "More social workers (extra posts)", "retention": "Retention payment", "agency_cap": "Agency cap",
    "foster_carers": "Foster carer campaign", "team_managers": "More team managers",
    "recruitment_campaign": "Recruitment campaign", "nqsw_academy": "Academy for newly qualified social workers",
    "early_help": "Early help investment", "threshold_training": "Threshold training for partner agencies",
    "edge_of_care": "Support on the edge of care", "residential_step_down": "Moves from children's homes to families",
    "reunification": "Support to return home",
}


def lever_name(kind: str) -> str:
    """A lever's kind in a few plain words ("Retention payment")."""
    return LEVER_NAMES.get(kind, kind.replace("_", " ").capitalize())


def lever_words(kind: str) -> str:
    """What a lever of ``kind`` does, in a sentence (its class's first, "Lever: " left out)."""
    doc = (LEVER_CLASSES[kind].__doc__ or "").strip().split("\n\n")[0]
    text = " ".join(doc.split()).removeprefix("Lever:").strip()
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class Control:
    """One control of the page: a setting at ``key``, shown with ``label`` in ``kind`` units ("percent", "money",
    "count", "number", "date", "team" or "text") at ``value`` (a percentage as a percentage: 4 for 0.04)."""

    key: str
    label: str
    kind: str
    value: Any
    choices: tuple[str, ...] = ()
    optional: bool = False


def _get(data: Any, key: str) -> Any:
    for part in key.split("."):
        data = data[int(part)] if isinstance(data, list) else data.get(part) if isinstance(data, dict) else None
    return data


def _shown(value: Any, kind: str) -> Any:
    """A scenario value as the page shows it."""
    if value is None or kind not in ("percent", "money", "number", "count"):
        return value
    shown = float(f"{100 * value:.10g}") if kind == "percent" else float(value)
    return int(shown) if kind == "count" or shown.is_integer() else shown  # 2, not 2.0


def _number_kind(key: str, data: dict, metadata: list) -> str | None:
    kind = number_type(key, data)
    if kind is None:
        return None
    if shown_as_percent(key, data):
        return "percent"
    money = set(Money.__metadata__) | set(PositiveMoney.__metadata__)  # type: ignore[attr-defined]
    if any(m in money for m in metadata):
        return "money"
    return "count" if kind is int else "number"


def main_controls(scn: Scenario) -> list[Control]:
    """The scenario's main settings as controls (those it gives as one number)."""
    data = scn.model_dump(mode="python")
    out = [Control("start_date", "Starts on", "date", scn.start_date)]
    for key, label in MAIN_SETTINGS:
        value = _get(data, key)
        kind = None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            kind = _number_kind(key, data, []) or "number"  # a number where a table may stand: the caseload
        if kind is not None:
            out.append(Control(key, label, kind, _shown(value, kind)))
    return out


def _field_label(name: str, info: Any) -> str:
    text = info.description or name.replace("_", " ")
    return text[0].upper() + text[1:]


def lever_controls(lever: dict, teams: list[str]) -> list[Control]:
    """The controls of one lever (a lever's table, as in a scenario file): its dates as dates, shares as
    percentages, money in pounds, its team from the scenario's case-holding teams."""
    cls = LEVER_CLASSES[lever["type"]]
    data = {"levers": [lever]}
    out = []
    for name, info in cls.model_fields.items():
        if name in NOT_SHOWN:
            continue
        value = lever.get(name)
        if name in ("start", "end"):
            label = "Starts on" if name == "start" else "Ends on (leave empty: to the end of the run)"
            out.append(Control(name, label, "date", value, optional=name == "end"))
        elif name == "team":
            out.append(Control(name, "Team", "team", value, tuple(teams), optional=not info.is_required()))
        elif name == "label":
            out.append(Control(name, "Name in the results", "text", value or ""))
        else:
            kind = _number_kind(f"levers.0.{name}", data, list(info.metadata))
            if kind is not None:
                out.append(Control(name, _field_label(name, info), kind, _shown(value, kind)))
    return out


def new_lever(kind: str, scn: Scenario) -> dict:
    """A lever of ``kind`` to add to ``scn``, from its start date, at a first level (see :data:`NEW_LEVER_LEVELS`),
    checked by the schema; a lever for one team goes to the largest case-holding team."""
    table: dict[str, Any] = {"type": kind, "label": lever_name(kind), "start": scn.start_date,
                             **NEW_LEVER_LEVELS.get(kind, {})}
    if "team" in LEVER_CLASSES[kind].model_fields:
        table["team"] = scn.largest_case_holding_team()
    dumped = LEVER_CLASSES[kind].model_validate(table).model_dump(mode="python")
    return {"type": kind, **{k: v for k, v in dumped.items() if k != "type"}}


class InputError(ValueError):
    """A value typed on the page that is not a value of its kind; ``lines`` says what, in plain words."""

    def __init__(self, lines: list[str]):
        self.lines = lines
        super().__init__("\n".join(lines))


def from_page(control: Control, value: Any) -> Any:
    """A control's value as the scenario writes it (a percentage as a share); raises :class:`InputError`."""
    if control.kind in ("percent", "money", "number", "count"):
        if value is None or value == "" or (isinstance(value, float) and not math.isfinite(value)):
            raise InputError([f"{control.label}: give a number"])
        if control.kind == "count":
            if float(value) != int(float(value)):
                raise InputError([f"{control.label}: give a whole number, not {value}"])
            return int(float(value))
        return float(value) / 100 if control.kind == "percent" else float(value)
    if control.kind == "date":
        if value in (None, ""):
            if control.optional:
                return None
            raise InputError([f"{control.label}: give a date"])
        return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    if control.kind in ("team", "text"):
        return None if value in (None, "") and control.optional else str(value or "")
    return value


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b


@dataclass
class Choice:
    """What a person chose on the page: the scenario it starts from (``base``: a bundled name or a file), a name,
    the main settings changed (dotted key: value) and the levers (None: the scenario's own, unchanged)."""

    base: str
    name: str
    settings: dict[str, Any] = field(default_factory=dict)
    levers: list[dict] | None = None

    def table(self) -> dict:
        """The choice as a scenario table that extends its base: what is loaded, run and saved."""
        out: dict[str, Any] = {"extends": self.base, "name": self.name}
        for key, value in self.settings.items():
            node = out
            *head, last = key.split(".")
            for part in head:
                node = node.setdefault(part, {})
            node[last] = value
        if self.levers is not None:
            out["levers"] = [{k: v for k, v in lever.items() if v is not None} for lever in self.levers]
        return out

    def scenario(self) -> Scenario:
        """The chosen scenario, loaded and checked as a file is (raises :class:`ScenarioError`)."""
        return load_scenario(self.table())


def base_ref(ref: str) -> str:
    """How a saved choice names the scenario it extends: a bundled name as it is, a file by its full path."""
    return ref if ref in bundled_names() and not Path(ref).is_file() else str(Path(ref).resolve())


def make_choice(ref: str, scn: Scenario, name: str, settings: dict[str, Any], levers: list[dict]) -> Choice:
    """The choice made on the page from scenario ``ref`` (loaded as ``scn``): only what differs from ``scn`` is
    kept, so a setting left alone keeps what the file says (an uncertain range included)."""
    data = scn.model_dump(mode="python")
    changed = {k: v for k, v in settings.items() if not _same(v, _get(data, k))}
    own = data["levers"]
    same = len(levers) == len(own) and all(
        set(a) <= set(b) and all(_same(a[k], b[k]) for k in a) for a, b in zip(levers, own))
    return Choice(base_ref(ref), name, changed, None if same else levers)


def check_name(name: str) -> str:
    """The choice's name, as a scenario name must be (raises :class:`InputError`)."""
    try:
        return safe_name(name.strip())
    except ValueError as exc:
        raise InputError([f"Name: {exc}"]) from None


def save_choice(choice: Choice, path: Path, workdir: Path) -> Path:
    """Write ``choice`` to ``path`` (relative to ``workdir``) as a scenario file, with the TOML writer; refuse
    a name that is not a .toml file and the installed package's own scenarios. Returns where it was written."""
    path = path if path.is_absolute() else workdir / path
    if path.suffix != ".toml":
        raise InputError([f"{path.name}: a scenario file's name ends in .toml"])
    bundled = bundled_path("baseline").resolve().parent
    if path.resolve().parent == bundled:
        raise InputError([f"{path} is inside workforce_sim's bundled scenarios; save your own elsewhere"])
    choice.scenario()  # only a choice that loads is saved
    header = [tomlout.comment(line) for line in (
        f"{choice.name}: chosen on the workforce-sim app page on {dt.date.today():%-d %B %Y}.",
        f"It extends {choice.base}; the settings below are those changed from it.")]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text("\n".join(header) + "\n" + tomlout.dumps(choice.table()), encoding="utf-8")
    tmp.replace(path)
    return path


def scenario_files(workdir: Path, extra: list[str] | None = None) -> dict[str, str]:
    """The scenarios to choose from, label by reference: the bundled ones, then the user's own files (given when
    the page started, in the working folder and in outputs/scenarios/)."""
    out = {name: f"{name} (comes with workforce_sim)" for name in bundled_names()}
    files = [Path(e) for e in extra or []]
    files += sorted(workdir.glob("*.toml")) + sorted((workdir / SAVED_FOLDER).glob("*.toml"))
    for f in files:
        if f.suffix == ".toml" and f.is_file():
            out[str(f.resolve())] = f"{f.name} (your file, in {f.resolve().parent})"
    return out


def open_scenario(ref: str) -> Scenario:
    """The scenario ``ref`` names, loaded (raises :class:`ScenarioError`)."""
    return load_scenario(ref)


__all__ = ["Choice", "Control", "InputError", "ScenarioError", "FIRST_LEVERS", "LEVER_CLASSES", "check_name",
           "lever_controls", "lever_name", "lever_words", "main_controls", "make_choice", "new_lever", "open_scenario",
           "save_choice", "scenario_files"]
