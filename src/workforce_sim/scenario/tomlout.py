"""Writing values out as TOML, for people to read: resolved scenarios and fitted ones.

Every key, value and table header is written by tomli-w, a TOML library, so no string (a
source name, a cell of a council's CSV, a scenario name) can end a value early and inject TOML.
The only text written here is comment lines, and :func:`comment` keeps each on one line.
"""

from __future__ import annotations

import math
import re
import tomllib
from typing import Any, Iterable, Mapping

import tomli_w

_NOT_IN_COMMENT = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # TOML comments may hold tabs but no other control character


def _without_none(v: Any) -> Any:
    """``v`` with None values left out of every table, at any depth (TOML has no null)."""
    if isinstance(v, Mapping):
        return {k: _without_none(x) for k, x in v.items() if x is not None}
    if isinstance(v, (list, tuple)):
        return [_without_none(x) for x in v]
    return v


def dumps(data: Mapping) -> str:
    """TOML text for nested tables, lists and scalars (None values are left out)."""
    return tomli_w.dumps(_without_none(data))


def comment(text: str) -> str:
    """``text`` as one TOML comment line: control characters, line breaks among them, become spaces."""
    return "# " + _NOT_IN_COMMENT.sub(" ", text)


def _nested(path: Iterable[str], values: Mapping) -> dict:
    out: dict = dict(values)
    for k in reversed(tuple(path)):
        out = {k: out}
    return out


def table(path: tuple[str, ...], values: Mapping, notes: Mapping[str, str] | None = None,
          heading: Iterable[str] = ()) -> str:
    """The table at ``path`` holding ``values`` (scalars or lists), written by tomli-w.

    ``notes`` maps a key to a comment placed on the line above that key's value; ``heading``
    gives comment lines placed above the table's header. The text read back is exactly
    ``path`` -> ``values``: that is checked.
    """
    notes = notes or {}
    values = _without_none(values)
    if any(isinstance(v, Mapping) for v in values.values()):
        raise TypeError("table() takes scalars and lists; write a nested table with its own table() call")
    header = tomli_w.dumps(_nested(path, {})) if path else ""
    lines = [comment(h) for h in heading] + ([header.rstrip("\n")] if header else [])
    for k, v in values.items():
        if k in notes:
            lines.append(comment(notes[k]))
        lines.append(tomli_w.dumps({k: v}).rstrip("\n"))
    text = "\n".join(lines) + "\n"
    if not _same(tomllib.loads(text), _nested(path, values) if path else dict(values)):
        raise AssertionError(f"TOML for table {path!r} did not read back as written")
    return text


def _same(a: Any, b: Any) -> bool:
    """Equal as TOML values (a NaN equals a NaN; a tuple equals a list)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b
