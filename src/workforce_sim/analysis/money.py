"""Money by financial year (April to March): cash and real terms with intervals (budget.csv), and net present
cost discounted as HM Treasury's Green Book asks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..model.measures import COST_COLUMNS, COST_ITEMS
from ..scenario.schema import Scenario
from .statistics import bounded_interval


def financial_year(dates: pd.Series) -> pd.Series:
    """English financial years, April to March: 2019-02-01 is in 2018-19."""
    d = pd.to_datetime(dates)
    start = d.dt.year - (d.dt.month < 4)
    return start.astype(str) + "-" + ((start + 1) % 100).astype(str).str.zfill(2)


def financial_year_days(fy: str) -> int:
    """The days in a financial year named like "2027-28" (366 when it holds a 29 February)."""
    start = int(str(fy)[:4])
    return (dt.date(start + 1, 4, 1) - dt.date(start, 4, 1)).days


def _days_counted(weekly: pd.DataFrame, d: pd.Series) -> np.ndarray:
    """The days each weekly row counts: 7, but a run of whole years ends on the day its last year ends (a run
    from 1 April ends on 31 March), so its last week counts the days up to then: fewer when the weeks run past
    it (261 weeks are 1,827 days, and five years from 1 April 2026 are 1,826), more when they stop short of it
    (52 weeks are 364 days), at the week's own daily cost. A run of no whole number of years counts 7."""
    days = np.full(len(weekly), 7, dtype=np.int64)
    for _, rows in d.groupby(weekly["scenario"].to_numpy(), sort=False):  # a scenario's futures share dates
        first, last = rows.min().date(), rows.max().date()
        span = (last - first).days + 7
        years = round(span / 365.25)
        if years < 1:
            continue
        end = _years_after(first, years)
        if abs((end - first).days - span) <= 7:
            days[rows.index[rows == rows.max()]] = (end - last).days  # rows are numbered 0, 1, ...
    return days


def _years_after(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def costs_by_financial_year(weekly: pd.DataFrame) -> pd.DataFrame:
    """Each replication's cost columns summed by financial year (April to March), with ``days``: the days of
    that year the run covers.

    A week that spans 31 March is shared between the two years by its days (a week starting on
    Tuesday 30 March puts 2/7 of its cost in the old year), so a whole financial year holds exactly
    365 or 366 days of cost; a run of whole years ends when its last year does (:func:`_days_counted`), so it
    covers whole financial years and no stray day of the next. Index: scenario, financial_year, replication.
    """
    d = pd.to_datetime(weekly["date"]).reset_index(drop=True)
    weekly = weekly.reset_index(drop=True)
    next_april = pd.to_datetime(pd.DataFrame({"year": d.dt.year + (d.dt.month >= 4), "month": 4, "day": 1}))
    counted = _days_counted(weekly, d)
    here = np.minimum((next_april - d).dt.days.to_numpy(), counted)  # days before 1 April
    there = counted - here
    cols = list(COST_COLUMNS)
    this = weekly[["scenario", "replication"] + cols].assign(financial_year=financial_year(d), days=here)
    this[cols] = this[cols].mul(here / 7.0, axis=0)
    spill = weekly.loc[there > 0, ["scenario", "replication"] + cols].assign(
        financial_year=financial_year(next_april[there > 0]), days=there[there > 0])
    spill[cols] = spill[cols].mul(there[there > 0] / 7.0, axis=0)
    both = pd.concat([this, spill], ignore_index=True)
    out = both.groupby(["scenario", "financial_year", "replication"], sort=False)[cols + ["days"]].sum()
    order = {s: i for i, s in enumerate(dict.fromkeys(weekly["scenario"]))}
    return out.sort_index(level=[1, 2]).sort_index(level=0, key=lambda x: x.map(order), sort_remaining=False)


BUDGET_COLUMNS = ["scenario", "financial_year", "days", "item", "what", "cash", "cash_ci95_low", "cash_ci95_high",
                  "real_terms", "real_terms_ci95_low", "real_terms_ci95_high", "prices"]


@dataclass(frozen=True)
class Money:
    """How a scenario's cash costs are shown in real terms and discounted (its ``costs`` settings)."""

    deflator_per_year: float = 0.02
    discount_rate: float = 0.035


def money_settings(scenarios: Iterable[Scenario]) -> dict[str, Money]:
    """Each scenario's :class:`Money`, keyed by name."""
    return {s.name: Money(s.costs.deflator_per_year, s.costs.discount_rate) for s in scenarios}


def years_from_first(fy: pd.Series | list[str]) -> np.ndarray:
    """Whole financial years from the first in ``fy`` ("2026-27" is 0, "2027-28" is 1, ...)."""
    start = np.array([int(str(x)[:4]) for x in fy])
    return start - start.min() if start.size else start


def budget_table(weekly: pd.DataFrame, money: dict[str, Money] | None = None) -> pd.DataFrame:
    """Cost per financial year (April to March), per scenario and item: the mean over replications with
    a 95% interval, in cash and in real terms (:func:`costs_by_financial_year` says how weeks are split).

    Real terms are cash divided by ``(1 + deflator_per_year)`` for each financial year after the
    first, so they are in the prices of the financial year the run starts in (``prices``).
    ``days`` shows part years (365 or 366 in a whole one). Money is in whole pounds.
    """
    money = money or {}
    per_rep = costs_by_financial_year(weekly)
    rows = []
    for scen, by_scen in per_rep.groupby(level=0, sort=False):
        m = money.get(scen, Money())
        fys = list(dict.fromkeys(by_scen.index.get_level_values(1)))
        base = fys[0]
        for fy, t in zip(fys, years_from_first(fys)):
            part = by_scen.xs(fy, level=1)
            cash = part[COST_COLUMNS].to_numpy(dtype=float)
            days = int(round(part["days"].iloc[0]))
            deflator = (1.0 + m.deflator_per_year) ** int(t)
            mean, lo, hi = bounded_interval(cash, [(0.0, np.inf)] * cash.shape[1])
            for j, item in enumerate(COST_COLUMNS):
                rows.append((scen, fy, days, item, COST_ITEMS[item], mean[j], lo[j], hi[j],
                             mean[j] / deflator, lo[j] / deflator, hi[j] / deflator, f"{base} prices"))
    out = pd.DataFrame(rows, columns=BUDGET_COLUMNS)
    pounds = [c for c in BUDGET_COLUMNS if c.startswith(("cash", "real_terms"))]
    out[pounds] = out[pounds].round(0)  # whole pounds: a simulation's pence mean nothing
    return out


def net_present_cost(per_rep_fy: pd.DataFrame, money: Money) -> pd.Series:
    """Per replication: the real-terms cost of each financial year discounted to the first, summed.

    ``per_rep_fy`` holds cash costs with replications as rows and financial years ("2026-27", ...) as
    columns. HM Treasury's Green Book discounts real-terms costs at 3.5% a year; a year ``t`` after
    the first counts ``1 / ((1 + deflator) * (1 + discount)) ** t`` of its cash.
    """
    t = years_from_first(list(per_rep_fy.columns))
    factor = 1.0 / ((1.0 + money.deflator_per_year) * (1.0 + money.discount_rate)) ** t
    return (per_rep_fy * factor).sum(axis=1)
