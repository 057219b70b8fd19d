"""Writing values out as TOML, for people to read: resolved scenarios and fitted ones."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def string(s: str) -> str:
    """``s`` as a TOML basic string: quoted, with backslashes, quotes and control characters escaped."""
    out = []
    for ch in s:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)  # any other character, non-ASCII included, may stand as it is
    return '"' + "".join(out) + '"'


def key(k: str) -> str:
    """``k`` as a TOML key: bare when it can be, quoted otherwise."""
    return k if _BARE_KEY.fullmatch(k) else string(k)


def value(v: Any) -> str:
    """One value as TOML text: booleans, numbers, dates, strings, lists and inline tables."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    if isinstance(v, str):
        return string(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{key(k)} = {value(x)}" for k, x in v.items() if x is not None) + " }"
    raise TypeError(f"cannot write {type(v).__name__} as TOML")


def _is_table(v: Any) -> bool:
    """Whether a dict is written as a [table] of its own rather than inline."""
    return isinstance(v, dict) and "dist" not in v and any(isinstance(x, (dict, list)) for x in v.values()) or (
        isinstance(v, dict) and "dist" not in v and len(v) > 6)


def dumps(data: dict, prefix: str = "") -> str:
    """TOML text for nested dicts, lists of dicts and scalars (None values are left out)."""
    lines, tables, arrays = [], [], []
    for k, v in data.items():
        if v is None:
            continue
        if isinstance(v, dict) and _is_table(v):
            tables.append((k, v))
        elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            arrays.append((k, v))
        else:
            lines.append(f"{key(k)} = {value(v)}")
    out = "\n".join(lines) + ("\n" if lines else "")
    for k, v in tables:
        name = f"{prefix}{key(k)}"
        body = dumps(v, name + ".")
        out += f"\n[{name}]\n{body}"
    for k, items in arrays:
        for item in items:
            out += f"\n[[{prefix}{key(k)}]]\n" + dumps(item, f"{prefix}{key(k)}.")
    return out
