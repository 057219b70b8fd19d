"""Writing resolved scenario values back out as TOML, for people to read."""

from __future__ import annotations

import datetime as dt
from typing import Any


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_value(x)}" for k, x in v.items() if x is not None) + " }"
    raise TypeError(f"cannot write {type(v).__name__} as TOML")


def _is_table(v: Any) -> bool:
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
            lines.append(f"{k} = {_value(v)}")
    out = "\n".join(lines) + ("\n" if lines else "")
    for k, v in tables:
        name = f"{prefix}{k}"
        body = dumps(v, name + ".")
        out += f"\n[{name}]\n{body}"
    for k, items in arrays:
        for item in items:
            out += f"\n[[{prefix}{k}]]\n" + dumps(item, f"{prefix}{k}.")
    return out
