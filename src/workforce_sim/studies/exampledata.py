"""Synthetic data for trying ``calibrate`` and ``backtest``: made up, never real children's data.

The data are drawn from known parameters (returned alongside), so a test can check that
calibration recovers them.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import TypedDict

import numpy as np

from ..runs.files import atomic_write
from ..scenario.calendar import next_month
from .calibrate import _month_days


class Truth(TypedDict):
    """The known parameters the example data are drawn from."""

    sources: dict[str, tuple[float, float, float]]
    seasonality: list[float]
    leaving: dict[tuple[str, str], float]  # (grade, contract) -> share leaving a year
    staff: dict[tuple[str, str], int]  # (grade, contract) -> posts
    plans: dict[str, tuple[float, float, dict[str, float]]]  # mean weeks, cv, how plans end
    plans_per_year: dict[str, int]
    assessment_outcomes: dict[str, float]
    assessments_per_year: int


TRUTH: Truth = {
    "sources": {  # contacts a year at the first month, yearly trend, referral share
        "police": (2300.0, 0.04, 0.12), "schools": (1250.0, 0.02, 0.24), "health": (1050.0, 0.0, 0.22),
        "la_services": (900.0, -0.02, 0.25), "individuals": (700.0, 0.03, 0.22), "other": (1000.0, 0.01, 0.20)},
    "seasonality": [1.05, 1.05, 1.05, 0.95, 1.05, 1.05, 1.0, 0.8, 1.0, 1.1, 1.1, 0.8],
    "leaving": {("social_worker", "permanent"): 0.16, ("senior_social_worker", "permanent"): 0.12,
                ("team_manager", "permanent"): 0.12, ("social_worker", "agency"): 0.45},
    "staff": {("social_worker", "permanent"): 60, ("senior_social_worker", "permanent"): 20,
              ("team_manager", "permanent"): 10, ("social_worker", "agency"): 12},
    "plans": {"cin": (20.0, 0.8, {"close": 0.6, "early_help": 0.25, "cp": 0.1, "cla": 0.05}),
              "cp": (40.0, 0.7, {"close": 0.25, "cin": 0.6, "cla": 0.15}),
              "cla": (100.0, 1.0, {"close": 1.0})},
    "plans_per_year": {"cin": 900, "cp": 300, "cla": 120},
    "assessment_outcomes": {"nfa": 0.42, "early_help": 0.18, "cin": 0.36, "cla": 0.04},
    "assessments_per_year": 2000,
}


def generate(seed: int = 1, months: int = 48, first: dt.date = dt.date(2015, 4, 1)) -> dict[str, list[dict]]:
    """Rows of the three data files, drawn from ``TRUTH`` for ``months`` months from ``first``."""
    rng = np.random.default_rng(seed)
    ms = []
    m = first
    for _ in range(months):
        ms.append(m)
        m = next_month(m)
    days = _month_days(ms)
    season = np.array(TRUTH["seasonality"]) / np.mean(TRUTH["seasonality"])
    dpy = days.sum() / (months / 12)
    contacts = []
    for src, (per_year, trend, share) in TRUTH["sources"].items():
        for i, mo in enumerate(ms):
            lam = per_year / dpy * (1 + trend) ** ((i + 0.5) / 12) * season[mo.month - 1] * days[i]
            n = int(rng.poisson(lam))
            contacts.append({"month": mo.strftime("%Y-%m"), "source": src, "contacts": n,
                             "referrals": int(rng.binomial(n, share))})
    end = next_month(ms[-1])
    span = (end - first).days
    staff, sid = [], 0
    for (grade, contract), posts in TRUTH["staff"].items():
        h = -np.log1p(-TRUTH["leaving"][(grade, contract)])
        for _ in range(posts):
            t = first - dt.timedelta(days=int(rng.integers(0, 2000)))
            while t < end:
                stay = rng.exponential(365.25 / h)
                leave = t + dt.timedelta(days=max(1, int(stay)))
                sid += 1
                staff.append({"staff_id": f"S{sid:05d}", "grade": grade, "contract": contract, "fte": 1.0,
                              "start_date": t.isoformat(), "end_date": leave.isoformat() if leave < end else ""})
                t = leave + dt.timedelta(days=int(rng.integers(14, 120)))
    cases, cid = [], 0
    for kind, (mean, cv, ends) in TRUTH["plans"].items():
        k = 1 / cv ** 2
        for _ in range(int(TRUTH["plans_per_year"][kind] * months / 12)):
            weeks = rng.gamma(k, mean / k)
            close = first + dt.timedelta(days=int(rng.integers(0, span)))
            cid += 1
            cases.append({"case_id": f"C{cid:06d}", "type": kind,
                          "start_date": (close - dt.timedelta(days=max(1, int(round(weeks * 7))))).isoformat(),
                          "end_date": close.isoformat(),
                          "outcome": str(rng.choice(list(ends), p=list(ends.values())))})
    outs = TRUTH["assessment_outcomes"]
    for _ in range(int(TRUTH["assessments_per_year"] * months / 12)):
        close = first + dt.timedelta(days=int(rng.integers(0, span)))
        cid += 1
        cases.append({"case_id": f"C{cid:06d}", "type": "assessment",
                      "start_date": (close - dt.timedelta(days=int(rng.integers(1, 63)))).isoformat(),
                      "end_date": close.isoformat(), "outcome": str(rng.choice(list(outs), p=list(outs.values())))})
    return {"contacts.csv": contacts, "staff.csv": staff, "closed_cases.csv": cases}


def write_example(folder: Path, seed: int = 1, months: int = 48) -> list[Path]:
    """Write the generated data files and a README saying they are made up; return their paths."""
    folder = Path(folder)
    paths = []
    for name, rows in generate(seed, months).items():
        path = folder / name

        def write(fh, rows=rows):
            """Write the header and the rows as CSV to the open file ``fh``."""
            w = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
            w.writeheader()
            w.writerows(rows)

        atomic_write(path, write)
        paths.append(path)
    note = folder / "README.txt"
    atomic_write(note, lambda fh: fh.write(
        "Synthetic example data made by workforce-sim example-data. It is made up: it describes no real\n"
        "children, families or staff. See docs/data-formats.md for the formats.\n"))
    return paths + [note]
