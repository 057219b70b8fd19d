"""The measures an answer is given in (the chance caseloads stay manageable, the weeks before the first breach,
the caseload at the end, the cost a year), and how a value or a change of each reads."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .formats import money


@dataclass(frozen=True)
class Measure:
    """One outcome a sensitivity analysis ranks the settings on."""

    name: str
    label: str
    unit: str
    short: str = ""  # a column heading

    def show(self, v: float) -> str:
        """A value of the measure as a reader writes it: "90%", "248 weeks", "16.7", "£6.09m"."""
        if not np.isfinite(v):
            return "-"
        if self.unit == "share":
            return f"{100 * v:.0f}%"
        if self.unit == "weeks":
            return f"{v:.0f} weeks"
        if self.unit == "£":
            return money(v, "m")
        return f"{v:.1f}"

    def change(self, d: float) -> str:
        """A change in the measure: "-40 points", "+12 weeks", "+1.3", "+£0.21m", "+£31k"; a change too small
        to show at that precision as "+<1 point", "-<0.01" and so on, never as a zero with a sign."""
        if not np.isfinite(d):
            return "-"
        sign, a = ("-" if d < 0 else "+"), abs(d)
        if self.unit == "share":
            if not round(100 * a):
                return f"{sign}<1 point"
            return f"{sign}{100 * a:.0f} point{'s' if round(100 * a) != 1 else ''}"
        if self.unit == "weeks":
            return f"{sign}{a:.0f} week{'s' if round(a) != 1 else ''}" if round(a) else f"{sign}<1 week"
        if self.unit == "£":
            if a >= 1e5:
                return sign + money(a, "m")
            return sign + money(a, "k") if round(a / 1e3) else f"{sign}<£1k"
        if a >= 0.05:
            return f"{sign}{a:.1f}"
        return f"{sign}{a:.2f}" if round(a, 2) else f"{sign}<0.01"


MEASURES = [
    Measure("p_sustained", "Chance caseloads stay manageable for the whole run", "share",
            "Chance caseloads stay manageable"),
    Measure("weeks_manageable", "Weeks before caseloads first become unmanageable (the whole run if they never do)",
            "weeks", "Weeks before the first breach"),
    Measure("caseload_end", "Caseload counting unallocated cases, last 13 weeks (per FTE)", "cases per FTE",
            "Caseload at the end"),
    Measure("cost_per_year", "Cost a year (cash, average over the run)", "£", "Cost a year"),
]


MEASURE = {m.name: m for m in MEASURES}


HEADLINE = "p_sustained"
