"""Reading scenario files: TOML, ``extends``, CSV start state, ``--set`` overrides.

Every problem becomes a :class:`ScenarioError` whose lines read like
``scenarios/x.toml: demand.sources.police.referral_share = 1.4: must be a probability (0 to 1)``:
the file that set the value, the key path, the value given and what was expected.
"""

from __future__ import annotations

import calendar
import copy
import csv
import datetime as dt
import difflib
import io
import re
import tomllib
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any, cast

from pydantic import BaseModel, TypeAdapter, ValidationError

from .distributions import UNCERTAIN_KINDS, UncertainSetting
from .schema import SHOWN_AS_PERCENT, CaseGroup, Scenario, StaffGroup

CSV_KEYS: dict[str, tuple[str, type[BaseModel]]] = {"staff_file": ("staff", StaffGroup),
                                                     "open_cases_file": ("open_cases", CaseGroup)}


class ScenarioError(Exception):
    """A scenario could not be loaded; ``lines`` says what is wrong, one problem a line."""

    def __init__(self, lines: list[str]):
        self.lines = lines
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class Override:
    """One ``--set KEY=VALUE``: a dotted key path and its value read as TOML."""

    key: str
    value: Any


def bundled_names() -> list[str]:
    """Names of the scenarios shipped inside the package."""
    root = resources.files("workforce_sim") / "scenarios"
    return sorted(p.name[:-5] for p in root.iterdir() if p.name.endswith(".toml"))


def bundled_path(name: str) -> Path:
    """The file of the bundled scenario called ``name``."""
    return Path(str(resources.files("workforce_sim") / "scenarios" / f"{name}.toml"))


def resolve_path(ref: str | Path, relative_to: Path | None = None) -> Path:
    """A scenario file from a path, a path relative to another file, or a bundled name."""
    p = Path(ref)
    if not str(ref).strip() or p.name in ("", ".", ".."):
        raise ScenarioError([f"{_fmt_value(str(ref))}: not a scenario file; give the name or path of one, e.g. "
                             "\"baseline\""])
    candidates = []
    if relative_to is not None and not p.is_absolute():
        candidates.append(relative_to.parent / p)
    candidates.append(p)
    if p.suffix == "":
        candidates.append(p.with_suffix(".toml"))
    for c in candidates:
        if c.is_file():
            return c
    stem = p.stem if p.suffix == ".toml" else p.name
    if stem in bundled_names() and (p.parent == Path(".") or relative_to is not None):
        return bundled_path(stem)
    known = ", ".join(bundled_names())
    raise ScenarioError([f"{ref}: no such scenario file (bundled scenarios: {known})"])


def _is_index(part: str) -> bool:
    """Whether a part of a key path is a list index: ASCII digits only ("²" and other Unicode digits are not)."""
    return part.isascii() and part.isdigit()


def parse_set(text: str) -> Override:
    """``KEY=VALUE`` from the command line; VALUE is read as a TOML value (never run as code)."""
    if "=" not in text:
        raise ScenarioError([f"--set {text}: expected KEY=VALUE, e.g. --set demand.trend_per_year=0.05"])
    key, raw = text.split("=", 1)
    key, raw = key.strip(), raw.strip()
    if not key or any(not part for part in key.split(".")):
        raise ScenarioError([f"--set {text}: the key must be a dotted path such as workforce.agency.cover_share"])
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw  # a bare word is taken as text
    except RecursionError:
        raise ScenarioError([f"--set {key}: the value is nested too deeply"]) from None
    return Override(key, value)


NOT_UTF8 = "not UTF-8 text; save the file with the encoding UTF-8 (in Excel: CSV UTF-8; in Notepad: UTF-8)"


def _line_of(raw: bytes, offset: int) -> int:
    """The line number (from 1) of byte ``offset`` in ``raw``."""
    return raw.count(b"\n", 0, offset) + 1


def _read_text(path: Path, encoding: str = "utf-8") -> str:
    """A file's text, or a plain error naming the file (and the line, for text that is not UTF-8)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ScenarioError([f"{path}: cannot be read: {exc.strerror}"]) from None
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        bom = 3 if encoding == "utf-8-sig" and raw.startswith(b"\xef\xbb\xbf") else 0
        raise ScenarioError([f"{path}: line {_line_of(raw, exc.start + bom)}: {NOT_UTF8}"]) from None


_PARSED: dict[str, dict] = {}  # a file's text -> its tables: the bundled baseline is read by most scenarios
_PARSED_MAX = 32


def _read_toml(path: Path) -> dict:
    """A TOML file's tables (a fresh copy: callers change them). Parsing a long file takes far longer than
    copying its tables, so the tables of the last few texts read are kept, by the text itself."""
    text = _read_text(path)
    got = _PARSED.get(text)
    if got is None:
        try:
            got = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ScenarioError([f"{path}: not valid TOML: {exc}"]) from None
        except RecursionError:
            raise ScenarioError([f"{path}: not valid TOML: values nested too deeply"]) from None
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.pop(next(iter(_PARSED)))
        _PARSED[text] = got
    return copy.deepcopy(got)


UNCERTAIN = "uncertain"  # the key that makes a table an uncertain setting, and the Scenario field recording them


def _is_whole(table: dict) -> bool:
    """Whether a table is one value that replaces its parent's whole: a distribution or an uncertain setting."""
    return "dist" in table or UNCERTAIN in table


def _merge(base: dict, over: dict, origin: _Origins, src: str, prefix: tuple = ()) -> dict:
    """Deep-merge ``over`` into a copy of ``base``.

    Tables merge key by key; a distribution (a table with a ``dist`` key), an
    uncertain setting (a table with an ``uncertain`` key), a list or a value
    replaces the parent's whole.
    """
    out = dict(base)
    for k, v in over.items():
        path = prefix + (k,)
        if isinstance(v, dict) and not _is_whole(v) and isinstance(out.get(k), dict) and not _is_whole(out[k]):
            out[k] = _merge(out[k], v, origin, src, path)
        else:
            out[k] = copy.deepcopy(v)
            _record(origin, path, v, src)
    return out


class _Origins:
    """Which source (file, CSV line or --set) set each key path, in the order they were applied.

    Kept as a tree of key paths, so that replacing a table (and forgetting who set each key
    inside it) and finding who set a key cost the depth of the path, not the number of keys.
    """

    __slots__ = ("seq", "root")

    def __init__(self) -> None:
        self.seq = 0
        self.root = _Node()

    def node(self, path: tuple) -> "_Node":
        """The node of ``path``, made if it is not there yet."""
        n = self.root
        for part in path:
            n = n.kids.setdefault(part, _Node())
        return n

    def mark(self, path: tuple, src: str) -> None:
        """Record that ``src`` set ``path``, after every source marked before."""
        self.seq += 1
        self.node(path).mark = (self.seq, src)

    def blame(self, loc: tuple) -> tuple[int, str] | None:
        """The latest mark on ``loc``, a table holding it, or anything inside it."""
        found = []
        n = self.root
        if n.mark:
            found.append(n.mark)
        for part in loc:
            kid = n.kids.get(part)
            if kid is None:
                return max(found) if found else None
            n = kid
            if n.mark:
                found.append(n.mark)
        stack = list(n.kids.values())
        while stack:  # everything inside loc
            m = stack.pop()
            if m.mark:
                found.append(m.mark)
            stack.extend(m.kids.values())
        return max(found) if found else None


class _Node:
    __slots__ = ("mark", "kids")

    def __init__(self) -> None:
        self.mark: tuple[int, str] | None = None
        self.kids: dict = {}


def _record(origin: _Origins, path: tuple, value: Any, src: str) -> None:
    """Remember that ``src`` set ``path`` (and everything under it), after all earlier sources."""
    node = origin.node(path)
    node.kids.clear()  # a value replacing a table replaces who set what inside it
    origin.seq += 1
    node.mark = (origin.seq, src)
    if isinstance(value, dict):
        for k, v in value.items():
            _record(origin, path + (k,), v, src)


def _read_csv(path: Path, model: type[BaseModel], origin: dict, key: str) -> list[dict]:
    fields = model.model_fields
    expected = ", ".join(fields)
    if not path.is_file():
        if path.exists():
            raise ScenarioError([f"{path}: not a file; expected a CSV file with columns from: {expected}"])
        raise ScenarioError([f"{path}: cannot be read: No such file or directory"])
    text = _read_text(path, "utf-8-sig")
    rows: list[dict] = []
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        cols = reader.fieldnames or []
        if len(cols) == 1 and (";" in cols[0] or "\t" in cols[0]):
            sep = "semicolons" if ";" in cols[0] else "tabs"
            raise ScenarioError([f"{path}: line 1: the columns seem to be separated by {sep}; the file should be "
                                 "comma-separated (in Excel: Save As, CSV UTF-8 (Comma delimited)), with columns "
                                 f"from: {expected}"])
        if cols and not any(c.strip() in fields for c in cols):  # not the kind of file meant: show none of its content
            raise ScenarioError([f"{path}: line 1: does not look like a {key} file: its first line should name "
                                 f"columns from: {expected}"])
        unknown = [c for c in cols if c not in fields]
        if unknown:
            raise ScenarioError([f"{path}: unknown column(s) {', '.join(_fmt_value(c)[1:-1] for c in unknown)}; "
                                 f"expected columns from: {expected}"])
        for row in reader:
            line_no = reader.line_num
            if None in row:  # more cells than the header has columns
                n = len(cols) + len(row[None])
                raise ScenarioError([f"{path}: line {line_no}: {n} values, but the header row has {len(cols)} columns "
                                     f"({', '.join(cols)}); a value holding a comma must be in double quotes"])
            clean = {}
            for c, v in row.items():
                if v is None or v.strip() == "":
                    continue
                v = v.strip()
                ann = fields[c].annotation
                base = typing.get_args(ann)[0] if typing.get_origin(ann) is typing.Annotated else ann
                if base in (int, float):
                    try:
                        v = base(float(v)) if base is int and float(v).is_integer() else base(v)
                    except (ValueError, OverflowError):
                        kind = "a whole number" if base is int else "a number"
                        raise ScenarioError([f"{path}: line {line_no}, column {c} = {_fmt_value(v)[1:-1]!r}: "
                                             f"must be {kind}"]) from None
                clean[c] = v
            origin[(key, len(rows))] = f"{path}: line {line_no}"
            rows.append(clean)
    except csv.Error as exc:
        raise ScenarioError([f"{path}: line {reader.line_num}: not a readable CSV file: {exc}"]) from None
    return rows


MAX_EXTENDS = 50  # files in one chain of extends


def _load_layers(path: Path, origin: _Origins, seen: tuple[Path, ...] = ()) -> dict:
    path = path.resolve()
    if path in seen:
        chain = " -> ".join(str(p) for p in seen + (path,))
        raise ScenarioError([f"{path}: extends itself in a loop ({chain})"])
    if len(seen) >= MAX_EXTENDS:
        raise ScenarioError([f"{seen[0]}: extends: a chain of more than {MAX_EXTENDS} scenario files, each extending "
                             f"the next (it reaches {path}); at most {MAX_EXTENDS} are allowed"])
    data = _read_toml(path)
    parent = data.pop("extends", None)
    base: dict = {}
    if parent is not None:
        if not isinstance(parent, str):
            raise ScenarioError([f"{path}: extends = {_fmt_value(parent)}: must be the name or path of another "
                                 "scenario file"])
        try:
            parent_path = resolve_path(parent, relative_to=path)
        except ScenarioError as exc:
            why = exc.lines[0].split(": ", 1)[-1]
            raise ScenarioError([f"{path}: extends = {_fmt_value(parent)}: {why}"]) from None
        base = _load_layers(parent_path, origin, seen + (path,))
    row_origins: dict = {}
    for file_key, (list_key, model) in CSV_KEYS.items():
        ref = data.pop(file_key, None)
        if ref is not None:
            if list_key in data:
                raise ScenarioError([f"{path}: give either {file_key} or [[{list_key}]] entries, not both"])
            if not isinstance(ref, str) or not ref.strip():
                raise ScenarioError([f"{path}: {file_key} = {_fmt_value(ref)}: must be the name of a CSV file next to "
                                     "the scenario"])
            data[list_key] = _read_csv(path.parent / ref, model, row_origins, list_key)
    merged = _merge(base, data, origin, str(path))
    for row_path, src in row_origins.items():  # rows read from CSV are blamed on their file and line
        origin.mark(row_path, src)
    return merged


def _apply_override(data: dict, ov: Override, origin: _Origins) -> None:
    parts = ov.key.split(".")
    node: Any = data
    for i, part in enumerate(parts[:-1]):
        if isinstance(node, list):
            if not _is_index(part) or int(part) >= len(node):
                raise ScenarioError([f"--set {ov.key}: {'.'.join(parts[:i])} has {len(node)} entries; '{part}' is not "
                                     "one of them"])
            if not isinstance(node[int(part)], (dict, list)):
                # a key inside a plain value: the value becomes a table (and the schema says what is wrong)
                node[int(part)] = {}
            node = node[int(part)]
        else:
            if part not in node or not isinstance(node[part], (dict, list)):
                node[part] = {}
            node = node[part]
    last = parts[-1]
    if isinstance(node, list):
        if not _is_index(last) or int(last) >= len(node):
            raise ScenarioError([f"--set {ov.key}: no entry '{last}' in that list"])
        node[int(last)] = ov.value
    else:
        node[last] = ov.value
    _record(origin, tuple(int(p) if _is_index(p) else p for p in parts), ov.value, f"--set {ov.key}")


def _blame(origin: _Origins, loc: tuple, default: str) -> str:
    """The source that last set ``loc``, a table holding it, or anything inside it."""
    found = origin.blame(tuple(loc))
    return found[1] if found else default


def _walk(data: Any, loc: tuple) -> tuple[list, Any, bool]:
    """Follow ``loc`` through the raw input, skipping the union tags pydantic adds."""
    path, node, found = [], data, True
    for part in loc:
        if isinstance(node, dict) and part in node:
            node = node[part]
            path.append(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
            path.append(part)
        elif isinstance(node, dict) and part in (node.get("dist"), node.get(UNCERTAIN), node.get("type")):
            continue  # discriminated-union tag
        else:
            found = False
            path.append(part)
    return path, node, found


def _fields_at(path: list, loc: tuple = ()) -> list[str] | None:
    """Allowed keys of the table at ``path`` in the schema, for 'unknown key' hints (``loc``: the error's
    location, whose tags say which kind of uncertain setting a table is)."""
    kind = next((part for part in loc if part in UNCERTAIN_KINDS), None)
    if kind is not None:
        member = next(m for m in typing.get_args(typing.get_args(UncertainSetting)[0])
                      if typing.get_args(m.model_fields[UNCERTAIN].annotation) == (kind,))
        return [k for k in member.model_fields if k != UNCERTAIN]
    ann: Any = Scenario
    for part in path:
        origin = typing.get_origin(ann)
        if origin is typing.Annotated:
            ann = typing.get_args(ann)[0]
            origin = typing.get_origin(ann)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            if part not in ann.model_fields:
                return None
            ann = ann.model_fields[part].annotation
        elif origin is dict:
            ann = typing.get_args(ann)[1]
        elif origin is list:
            ann = typing.get_args(ann)[0]
        else:
            return None
    if typing.get_origin(ann) is typing.Annotated:
        ann = typing.get_args(ann)[0]
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return [k for k in ann.model_fields if not (ann is Scenario and k in WRITTEN_BY_US)]
    return None


WRITTEN_BY_US = ("changes",)  # keys workforce_sim fills in itself: not offered to users as hints


SHOWN_CHARS = 60  # longer text values are cut short in messages


def _fmt_value(v: Any) -> str:
    if isinstance(v, str):
        shown = v if len(v) <= SHOWN_CHARS else v[:SHOWN_CHARS]
        shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in shown)  # a NUL or newline shows as \x00, \n
        more = f"... ({len(v):,} characters)" if len(v) > SHOWN_CHARS else ""
        return f'"{shown}{more}"'
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k} = {_fmt_value(x)}" for k, x in v.items()) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_fmt_value(x) for x in v) + "]"
    return str(v)


def _dotted(path: list) -> str:
    return ".".join(str(p) for p in path)


def _describe(err: Mapping[str, Any], data: dict, origin: _Origins, default_src: str) -> str:
    """One validation error as a line: the source that set the value, the key path, the value and what was expected."""
    src, text = _described(err, data, origin, default_src)
    return f"{src}: {text}"


def _described(err: Mapping[str, Any], data: dict, origin: _Origins, default_src: str) -> tuple[str, str]:
    """(the source that set the value, "key = value: what was expected") for one validation error."""
    err = {**err, "loc": _untagged(err["loc"])}
    path, value, found = _walk(data, err["loc"])
    src = _blame(origin, tuple(path), default_src)
    return src, _error_text(err, path, value, found)


_PERCENT = re.compile(r"\s*[-+]?\d+(\.\d+)?\s*%\s*")  # "5%": a share or a rate written as a percentage


def _as_decimal(ov: Override, data: dict) -> Override:
    """A setting shown as a percentage, given as one (--set demand.trend_per_year=5%): the decimal it means (0.05).
    Elsewhere a percentage is left to be refused with the decimal to write (see :func:`_error_text`)."""
    if isinstance(ov.value, str) and _PERCENT.fullmatch(ov.value) and shown_as_percent(ov.key, data):
        return Override(ov.key, float(Decimal(ov.value.strip()[:-1].strip()) / 100))
    return ov


def _untagged(loc) -> tuple:
    """An error's key path without the form a manageable caseload was read as (one number, or a table by team)."""
    return tuple(p for i, p in enumerate(loc)
                 if not (p in ("number", "table") and i > 0 and loc[i - 1] == "manageable_caseload"))


def _error_text(err: Mapping[str, Any], path: list, value: Any, found: bool) -> str:
    key = _dotted(path)
    kind = err["type"]
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    if kind == "extra_forbidden":
        allowed = _fields_at(path[:-1], err["loc"]) or []
        close = difflib.get_close_matches(str(path[-1]), allowed, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        exp = f"; expected one of: {', '.join(allowed)}" if allowed else ""
        return f"{key}: unknown key{hint}{exp}"
    if kind == "missing":
        return f"{key}: missing; required (or extend a scenario that has it, e.g. extends = \"baseline\")"
    if not found:
        return f"{key}: missing; {msg}"
    if kind in ("union_tag_invalid", "union_tag_not_found") and _in_uncertain(err["loc"]):
        msg = UNCERTAIN_FORMS
    elif kind == "union_tag_invalid":
        msg = "dist must be one of: exponential, gamma, lognormal, fixed, uniform, empirical"
    elif kind == "union_tag_not_found":
        msg = "a distribution needs a dist key, e.g. { dist = \"gamma\", mean = 20, cv = 0.5 }"
    else:
        msg = msg.replace("Input should be", "must be")
        if isinstance(value, str) and _PERCENT.fullmatch(value):
            pct = value.strip()
            msg = f"must be a number: write {float(pct[:-1].strip()) / 100:g} for {pct}"
        if isinstance(value, dict) and {"low", "high"} & set(value) and UNCERTAIN not in value:
            msg += ('; to give a range for a setting that is not known, say which kind, e.g. '
                    '{ uncertain = "uniform", low = ..., high = ... }')
    return f"{key} = {_fmt_value(value)}: {msg}"


UNCERTAIN_FORMS = (f"uncertain must be one of: {', '.join(UNCERTAIN_KINDS)}, e.g. "
                   "{ uncertain = \"uniform\", low = 0.5, high = 2.5 }, "
                   "{ uncertain = \"triangular\", low = 0.5, central = 1.5, high = 3 } or "
                   "{ uncertain = \"normal\", mean = 1.5, sd = 0.4, low = 0.5, high = 2.5 }")


def _in_uncertain(loc: tuple) -> bool:
    """Whether a validation error's location is inside an uncertain setting's table."""
    return bool(loc) and (loc[0] == UNCERTAIN or any(part in UNCERTAIN_KINDS for part in loc))


def shifted(day: dt.date, old_start: dt.date, new_start: dt.date) -> dt.date:
    """``day`` moved as a scenario's start moves from ``old_start`` to ``new_start``.

    When both starts fall on the same day of the month, the move is by whole months, so a lever
    dated 1 September stays on 1 September; otherwise it is by the same number of days.
    """
    if old_start.day == new_start.day:
        months = (new_start.year - old_start.year) * 12 + new_start.month - old_start.month
        m = day.month - 1 + months
        year, month = day.year + m // 12, m % 12 + 1
        return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
    return day + (new_start - old_start)


def pay_awards_between(old: dt.date, new: dt.date) -> int:
    """How many 1 Aprils (the day pay rises) a start moved from ``old`` to ``new`` passes: negative backwards."""
    first, last, sign = (old, new, 1) if new >= old else (new, old, -1)
    return sign * sum(1 for y in range(first.year, last.year + 1) if first < dt.date(y, 4, 1) <= last)


def _move_start(data: dict, start: dt.date, src: str) -> None:
    """Move the scenario's start_date to ``start``, every dated lever with it, and pay (salaries and the
    agency premium, which are "on the start date") by the pay awards of the 1 Aprils passed."""
    old = data.get("start_date")
    if not isinstance(old, dt.date):
        raise ScenarioError([f"{src}: start_date = {_fmt_value(old)}: must be a date such as 2026-04-01"])
    data["start_date"] = start
    costs = data.get("costs")
    awards = pay_awards_between(old, start)
    if awards and isinstance(costs, dict) and isinstance(costs.get("pay_award_per_year"), (int, float)):
        factor = (1.0 + costs["pay_award_per_year"]) ** awards
        if isinstance(costs.get("salary"), dict):
            costs["salary"] = {g: v * factor if isinstance(v, (int, float)) and not isinstance(v, bool) else v
                               for g, v in costs["salary"].items()}
        if isinstance(costs.get("agency_premium_per_year"), (int, float)):
            costs["agency_premium_per_year"] *= factor
    levers = data.get("levers")
    for lv in levers if isinstance(levers, list) else []:
        for key in ("start", "end"):
            if isinstance(lv, dict) and isinstance(lv.get(key), dt.date):
                lv[key] = shifted(lv[key], old, start)


def as_scenario(ref: Scenario | str | Path | dict, overrides: Sequence[str | Override] | None = None) -> Scenario:
    """``ref`` as a scenario: a :class:`Scenario` as it is (with ``overrides`` applied through the loader, so that
    they are checked and recorded as from a file), anything else loaded by :func:`load_scenario`."""
    if isinstance(ref, Scenario):
        return load_scenario(ref.model_dump(), overrides) if overrides else ref
    return load_scenario(ref, overrides)


def load_scenario(ref: str | Path | dict, overrides: Sequence[str | Override] | None = None,
                  start: dt.date | None = None) -> Scenario:
    """Load, merge, override and validate a scenario.

    ``ref`` is a file path, a bundled scenario name such as ``"baseline"``, or
    an already-read table (dict). ``overrides`` are ``KEY=VALUE`` strings (as
    ``--set`` takes them) or :class:`Override` objects. ``start`` moves the
    scenario's start date, every dated lever and its pay with it (``--start``). The
    overrides and the start are recorded in the scenario's ``changes`` (its
    label in outputs), except a new ``name``, which shows anyway.
    """
    origin = _Origins()
    if isinstance(ref, dict):
        data = copy.deepcopy(ref)  # overrides and --start change nested tables: never the caller's
        parent = data.pop("extends", None)
        src = "<scenario>"
        if parent is not None and not isinstance(parent, str):
            raise ScenarioError([f"{src}: extends = {_fmt_value(parent)}: must be the name or path of another "
                                 "scenario file"])
        if parent is not None:
            base = _load_layers(resolve_path(parent), origin)
            data = _merge(base, data, origin, src)
        else:
            _record(origin, (), data, src)
    else:
        path = resolve_path(ref)
        src = str(path)
        data = _load_layers(path, origin)
    changes = list(data.get("changes") or []) if isinstance(data.get("changes"), list) else []
    overridden = []
    for ov in overrides or []:
        ov = _as_decimal(parse_set(ov) if isinstance(ov, str) else ov, data)
        _apply_override(data, ov, origin)
        overridden.append(ov.key)
        if ov.key not in ("name", "changes"):
            changes.append(f"{ov.key}={_fmt_value(ov.value)}")
    _gather_uncertain(data, origin, src, overridden)
    if start is not None:
        _move_start(data, start, src)
        changes = [c for c in changes if not c.startswith("start=")] + [f"start={start.isoformat()}"]
    if changes:
        data["changes"] = changes
    scn, problems = _validated(data, origin, src)
    if problems:
        raise ScenarioError([f"{where}: {text}" for where, text in problems])
    assert scn is not None  # _validated gives the scenario whenever it finds no problems
    if scn.uncertain:
        _check_uncertain(scn, data, origin, src)
    return scn


def _validated(data: dict, origin: _Origins, src: str) -> tuple[Scenario | None, list[tuple[str, str]]]:
    """The scenario ``data`` describes, or its problems: (the source to blame, "key = value: what was expected")."""
    try:
        scn = Scenario.model_validate(data)
    except ValidationError as exc:
        return None, [_described(e, data, origin, src) for e in exc.errors()]
    except RecursionError:
        return None, [(src, "values nested too deeply to be a scenario")]
    out = []
    for key, value, expected in scn.problems():
        loc = tuple(int(p) if _is_index(p) else p for p in key.split("."))
        out.append((_blame(origin, loc, src), f"{key} = {_fmt_value(value)}: {expected}"))
    return (None if out else scn), out


# -- settings that are not known -----------------------------------------------------------
_SPEC: TypeAdapter[Any] = TypeAdapter(UncertainSetting)


def _specs_in(node: Any, path: tuple) -> list[tuple[tuple, dict]]:
    """Every uncertain setting's table (a table with an ``uncertain`` key) inside ``node``, with its key path."""
    if isinstance(node, dict):
        if UNCERTAIN in node and path and path[0] != UNCERTAIN:
            return [(path, node)]
        return [hit for k, v in node.items() if not (not path and k == UNCERTAIN) for hit in _specs_in(v, path + (k,))]
    if isinstance(node, list):
        return [hit for i, v in enumerate(node) for hit in _specs_in(v, path + (i,))]
    return []


def _set_at(data: dict, path: tuple, value: Any) -> None:
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


def _get_at(data: Any, path: tuple) -> tuple[bool, Any]:
    """(whether ``path`` is in ``data``, the value there)."""
    node = data
    for part in path:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            return False, None
    return True, node


def key_path(key: str) -> tuple:
    """A dotted key such as ``levers.0.leaving_reduction`` as a path (list positions as numbers)."""
    return tuple(int(p) if _is_index(p) else p for p in key.split("."))


def number_type(key: str, data: dict | None = None) -> type | None:
    """``int`` or ``float``: the kind of number the schema expects at a dotted ``key`` (None if it expects
    something else, or has no such key). ``data`` (the scenario's table) says which kind of lever or
    distribution a table is."""
    ann, _ = _annotation_at(key, data)
    return ann if ann in (int, float) else None


def shown_as_percent(key: str, data: dict | None = None) -> bool:
    """Whether the number setting at a dotted ``key`` is a share, a chance or a rate a year, which tables and
    words show as a percentage (0.04 as 4%)."""
    ann, metadata = _annotation_at(key, data)
    return ann in (int, float) and any(m is SHOWN_AS_PERCENT for m in metadata)


def _annotation_at(key: str, data: dict | None) -> tuple[Any, list]:
    """The schema's annotation at a dotted ``key`` (None if it has no such key), unwrapped, with the metadata
    (constraints and markers) of its last step."""
    ann: Any = Scenario
    node: Any = data
    metadata: list = []
    for part in key_path(key):
        ann, _ = _unwrap(ann)
        members = typing.get_args(ann) if typing.get_origin(ann) in (typing.Union, _UnionType) else ()
        if members:  # a union of tables: the table's tag (type, dist, uncertain) says which
            tag = next(((k, node[k]) for k in ("type", "dist", UNCERTAIN) if isinstance(node, dict) and k in node),
                       None)
            ann = next((m for m in members if isinstance(m, type) and issubclass(m, BaseModel) and tag
                        and tag[0] in m.model_fields
                        and typing.get_args(m.model_fields[tag[0]].annotation) == (tag[1],)),
                       None)
            if ann is None:
                return None, []
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            if not isinstance(part, str) or part not in ann.model_fields:
                return None, []
            field = ann.model_fields[part]
            ann, metadata = field.annotation, list(field.metadata)
        elif typing.get_origin(ann) is dict:
            ann, metadata = typing.get_args(ann)[1], []
        elif typing.get_origin(ann) is list:
            ann, metadata = typing.get_args(ann)[0], []
        else:
            return None, []
        found, node = _get_at(node, (part,)) if node is not None else (False, None)
        node = node if found else None
    ann, more = _unwrap(ann)
    return ann, metadata + more


_UnionType = type(int | None)


def _unwrap(ann: Any) -> tuple[Any, list]:
    """An annotation without its ``Annotated`` wrappers, and ``X | None`` as ``X``; and the wrappers' metadata."""
    metadata: list = []
    while True:
        if typing.get_origin(ann) is typing.Annotated:
            metadata += list(typing.get_args(ann)[1:])
            ann = typing.get_args(ann)[0]
            continue
        if typing.get_origin(ann) in (typing.Union, _UnionType):
            args = [a for a in typing.get_args(ann) if a is not type(None)]
            if len(args) == 1:
                ann = args[0]
                continue
        return ann, metadata


def as_setting(value: float, kind: type | None) -> float | int:
    """A value for a setting (drawn, or at a design point), rounded to a whole number when the setting is one."""
    return int(round(value)) if kind is int else float(value)


def _gather_uncertain(data: dict, origin: _Origins, src: str, overridden: list[str]) -> None:
    """Replace each uncertain setting's table (``{ uncertain = ... }``) by its central value, recording it in
    ``data["uncertain"]`` by key path; forget a recorded one that ``--set`` gave a plain value."""
    record = data.get(UNCERTAIN)
    record = dict(record) if isinstance(record, dict) else record
    for key in overridden:
        if isinstance(record, dict):
            for k in [k for k in record if k == key or k.startswith(key + ".")]:
                del record[k]
    lines = []
    for path, table in _specs_in(data, ()):
        key = _dotted(list(path))
        try:
            spec = _SPEC.validate_python(table)
        except ValidationError as exc:
            lines += [_spec_error(e, path, table, data, origin, src) for e in exc.errors()]
            continue
        except RecursionError:
            lines.append(f"{_blame(origin, path, src)}: {key}: values nested too deeply")
            continue
        kind = number_type(key, data)
        if kind is None:
            lines.append(f"{_blame(origin, path, src)}: {key} = {_fmt_value(table)}: only a number can be uncertain, "
                         f"and {key} is not a number setting of a scenario")
            continue
        if not isinstance(record, dict):
            record = {}
        record[key] = table
        _record(origin, (UNCERTAIN, key), table, _blame(origin, path, src))
        _set_at(data, path, as_setting(spec.central_value, kind))
    if lines:
        raise ScenarioError(lines)
    if isinstance(record, dict) and record:
        data[UNCERTAIN] = record
    elif isinstance(record, dict):
        data.pop(UNCERTAIN, None)
    elif record is not None:
        data[UNCERTAIN] = record  # not a table: the schema says what is wrong


def _spec_error(err: Mapping[str, Any], path: tuple, table: dict, data: dict, origin: _Origins, src: str) -> str:
    """One problem with an uncertain setting's table, as a line naming its key."""
    where, key = _blame(origin, path, src), _dotted(list(path))
    kind = table.get(UNCERTAIN)
    if err["type"] == "union_tag_invalid":
        return f"{where}: {key}.{UNCERTAIN} = {_fmt_value(kind)}: must be one of: {', '.join(UNCERTAIN_KINDS)}"
    if err["type"] == "missing":
        needs = {"uniform": "low and high (and may have central)", "triangular": "low, central and high",
                 "normal": "mean, sd, low and high"}[cast(str, kind)]  # a field is missing once the kind is known
        return f"{where}: {key}.{err['loc'][-1]}: missing; a {kind} uncertain setting needs {needs}"
    return _describe(dict(err, loc=path + tuple(err["loc"])), data, origin, src)


def _check_uncertain(scn: Scenario, data: dict, origin: _Origins, src: str) -> None:
    """Every uncertain setting names a number setting of the scenario, and the scenario is valid with
    each at its low and at its high (the others at their central values).

    Quickly first: when the scenario is valid with every setting at its low, and again at its high, each is
    valid at its ends (a check of each alone then follows only if one of those fails, to say which)."""
    lines, settings = [], []
    for key, spec in scn.uncertain.items():
        path = key_path(key)
        found, now = _get_at(data, path)
        kind = number_type(key, data)
        if not found or kind is None or isinstance(now, bool) or not isinstance(now, (int, float)):
            lines.append(f"{_blame(origin, (UNCERTAIN, key), src)}: {UNCERTAIN}.{key}: no number setting {key} in this "
                         "scenario; an uncertain setting names one by its key path, e.g. "
                         "workforce.turnover.pressure_effect or levers.0.leaving_reduction")
            continue
        settings.append((key, spec, path, kind, now))
    if lines:
        raise ScenarioError(lines)

    def valid_at(end: int, which) -> list[str]:
        for _, spec, path, kind, _ in which:
            _set_at(data, path, as_setting(spec.range[end], kind))
        _, problems = _validated(data, origin, src)
        for _, _, path, _, now in which:
            _set_at(data, path, now)
        return [text for _, text in problems]

    if not valid_at(0, settings) and not valid_at(1, settings):
        return
    for one in settings:
        key, spec, *_ = one
        for end, name in enumerate(("low", "high")):
            for text in valid_at(end, [one]):
                lines.append(f"{_blame(origin, (UNCERTAIN, key), src)}: {key} = "
                             f"{_fmt_value(spec.model_dump(exclude_defaults=True))}: its {name} ({spec.range[end]:g}) "
                             f"is not allowed: {text}")
    if lines:
        raise ScenarioError(lines)
