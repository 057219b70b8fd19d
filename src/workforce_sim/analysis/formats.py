"""How numbers read in words, wherever they are shown: an amount of money, a setting's value, a difference in
money, a list."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np

MoneyUnit = Literal["£", "k", "m", "auto"]


def money(x: float, unit: MoneyUnit = "auto") -> str:
    """An amount of money as a reader sees it, "-" when unknown (not finite). ``unit``:

    - ``"£"``: whole pounds, "£168,432";
    - ``"k"``: thousands of pounds, "£5,904k";
    - ``"m"``: millions of pounds to two places, "£5.84m";
    - ``"auto"``, for words: "£5.84m" from a million, else to the thousand from £10,000 ("£168,000": a
      simulation's pounds are not exact), else whole pounds ("£9,876").

    Money is never shown as a negative number: a negative amount shows its size, and which way a difference
    goes is said in words by :func:`money_difference` ("saves £12k", "£12k more")."""
    if not np.isfinite(x):
        return "-"
    a = abs(float(x))
    if unit == "m" or (unit == "auto" and a >= 1e6):
        return f"£{a / 1e6:,.2f}m"
    if unit == "k":
        return f"£{a / 1e3:,.0f}k"
    if unit == "auto" and a >= 10_000:
        return f"£{round(a, -3):,.0f}"
    if unit in ("£", "auto"):
        return f"£{a:,.0f}"
    raise ValueError(f"unknown unit of money {unit!r}: use '£', 'k', 'm' or 'auto'")


def money_difference(d: float, fmt: Callable[[float], str], smallest: float) -> str:
    """A difference in cost as words, never a negative amount: "saves £0.11m", "£0.17m more", "no
    difference", or "less than £0.01m more" when ``fmt`` (which shows an amount) rounds it to nothing;
    ``smallest`` is the least amount ``fmt`` shows."""
    if not np.isfinite(d):
        return "-"
    if d == 0:
        return "no difference"
    shown = fmt(abs(d))
    if shown == fmt(0.0):
        shown = "less than " + fmt(smallest)
    return f"saves {shown}" if d < 0 else f"{shown} more"


def money_difference_range(low: float, high: float, fmt: Callable[[float], str]) -> str:
    """The 95% interval of a difference in cost as words: "saves £0.06m to £0.59m", "£0.41m to £0.55m more",
    or "from saving £0.20m to £0.10m more" ("" when unknown)."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return ""
    if high <= 0:
        return f"saves {fmt(-high)} to {fmt(-low)}"
    if low >= 0:
        return f"{fmt(low)} to {fmt(high)} more"
    return f"from saving {fmt(-low)} to {fmt(high)} more"


def setting_text(value: float, percent: bool = False) -> str:
    """A setting's value as a reader sees it: a share, a chance or a rate a year as a percentage ("4%",
    "2.5%"), any other number as it is ("14", "0.5")."""
    return f"{round(100 * value, 6):g}%" if percent else f"{value:g}"


def and_list(items: list[str]) -> str:
    """"a", "a and b", "a, b and c"."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def standard_text(standard) -> str:
    """A manageable caseload as set in a scenario: "18", or by team "assessment 18, long term 17, children in care
    15"."""
    if isinstance(standard, dict):
        return ", ".join(f"{team.replace('_', ' ')} {float(v):g}" for team, v in standard.items())
    return f"{float(standard):g}"
