"""When does an option pay back? Each option's cost against the first scenario's, financial year by
financial year and added up to the end of each year (payback.csv), for invest-to-save comparisons.

Every scenario of a comparison runs on the same simulated futures, so the differences are taken future
by future (replication r of an option against replication r of the first), each year and added up.
An option *pays back* in the first financial year at whose end its cost so far, added up from the
start of the run, is on average no more than the first scenario's and stays so to the end of the run.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .money import Money, costs_by_financial_year, financial_year_days, years_from_first
from .statistics import mean_ci, wilson

NOT_WITHIN_RUN = "not within the run"

# payback.csv's columns in order: one row per option (every scenario after the first) and financial year
PAYBACK_COLUMNS = [
    "scenario", "against", "financial_year", "days", "part_year", "replications",
    "difference_cash", "difference_cash_ci95_low", "difference_cash_ci95_high",
    "cumulative_cash", "cumulative_cash_ci95_low", "cumulative_cash_ci95_high",
    "difference_real_terms", "difference_real_terms_ci95_low", "difference_real_terms_ci95_high",
    "cumulative_real_terms", "cumulative_real_terms_ci95_low", "cumulative_real_terms_ci95_high", "prices",
    "paid_back_futures", "paid_back_share", "paid_back_share_ci95_low", "paid_back_share_ci95_high",
    "payback_year", "payback_year_real_terms"]


def yearly_totals(weekly: pd.DataFrame, scenario: str) -> tuple[pd.DataFrame, pd.Series]:
    """One scenario's total cost (``cost_total``) by replication (rows) and financial year (columns), and the
    days of each financial year the run covers."""
    per_rep = costs_by_financial_year(weekly[weekly["scenario"] == scenario]).xs(scenario, level=0)
    cost = per_rep["cost_total"].unstack(level=0)
    days = per_rep["days"].groupby(level=0, sort=False).first()
    return cost[list(days.index)], days


def payback_year(cumulative: list[float] | np.ndarray, years: list[str]) -> str:
    """The first of ``years`` at whose end ``cumulative`` (the mean cost so far against the first) is at or below
    zero and stays so to the end, or :data:`NOT_WITHIN_RUN`."""
    found = NOT_WITHIN_RUN
    for fy, c in zip(reversed(years), reversed(list(cumulative))):
        if not c <= 0:  # NaN too
            break
        found = fy
    return found


def _intervals(values: np.ndarray) -> np.ndarray:
    """(mean, low, high) of each column of ``values`` (replications x years): the Student-t interval of the mean
    of paired differences, as compare.csv's differences have. Returns years x 3."""
    return np.array([mean_ci(values[:, j]) for j in range(values.shape[1])]).reshape(-1, 3)


def _option_rows(option: tuple[pd.DataFrame, pd.Series], first: tuple[pd.DataFrame, pd.Series],
                 money: tuple[Money, Money]) -> pd.DataFrame:
    """payback.csv's rows of one option: ``option`` and ``first`` are each scenario's :func:`yearly_totals`,
    ``money`` their :class:`Money` settings (option's first). Only the replications and years both have."""
    (cost, days), (ref_cost, ref_days) = option, first
    years = [fy for fy in ref_days.index if fy in days.index]
    reps = [r for r in ref_cost.index if r in cost.index]
    t = years_from_first(years)
    real = [(1.0 + m.deflator_per_year) ** t for m in money]
    opt, ref = cost.loc[reps, years].to_numpy(dtype=float), ref_cost.loc[reps, years].to_numpy(dtype=float)
    diff_cash = opt - ref
    diff_real = opt / real[0] - ref / real[1]
    out = pd.DataFrame({"financial_year": years,
                        "days": [int(round(min(days[fy], ref_days[fy]))) for fy in years],
                        "replications": len(reps)})
    out["part_year"] = [d < financial_year_days(fy) for fy, d in zip(years, out["days"])]
    for basis, diff in (("cash", diff_cash), ("real_terms", diff_real)):
        for name, values in ((f"difference_{basis}", diff), (f"cumulative_{basis}", np.cumsum(diff, axis=1))):
            values = np.round(values, 2)  # to the penny, so that a cost equal to the first's is no difference
            stats = np.round(_intervals(values), 0) + 0.0  # whole pounds (a simulation's pence mean nothing), no -0
            out[name], out[f"{name}_ci95_low"], out[f"{name}_ci95_high"] = stats[:, 0], stats[:, 1], stats[:, 2]
    paid = (np.round(np.cumsum(diff_cash, axis=1), 2) <= 0).sum(axis=0)
    out["paid_back_futures"] = paid
    out["paid_back_share"] = paid / len(reps) if reps else np.nan
    share_ci = np.array([wilson(int(k), len(reps)) for k in paid]).reshape(-1, 2)
    out["paid_back_share_ci95_low"], out["paid_back_share_ci95_high"] = share_ci[:, 0], share_ci[:, 1]
    out["prices"] = f"{years[0]} prices" if years else ""
    out["payback_year"] = payback_year(out["cumulative_cash"].to_numpy(), years)
    out["payback_year_real_terms"] = payback_year(out["cumulative_real_terms"].to_numpy(), years)
    return out


def payback_table(weekly: pd.DataFrame, money: dict[str, Money] | None = None) -> pd.DataFrame:
    """payback.csv: for every scenario after the first, by financial year (April to March), its total cost
    against the first scenario's, in the year and added up to the year's end, in cash and in real terms.

    Differences are the option's cost less the first's, future by future, with the mean over the futures and
    its 95% interval (Student's t); a saving is negative. Real terms divide each scenario's cash by
    ``(1 + deflator_per_year) ** t`` in the ``t``-th financial year after the first (as budget.csv), so they are
    in the run's first year's prices (``prices``). ``days`` is the days of the year the run covers;
    ``part_year`` is true when that is not the whole year. ``paid_back_futures`` and ``paid_back_share`` (with
    Wilson's 95% interval) count the futures in which the option's cost so far in cash, at the year's end, is
    no more than the first's: the last year's are the futures paid back by the end of the run.
    ``payback_year`` (cash) and ``payback_year_real_terms`` are the same on each of an option's rows: see
    :func:`payback_year`, from the mean cost so far. Money is in whole pounds.
    """
    names = list(dict.fromkeys(weekly["scenario"]))
    money = money or {}
    if len(names) < 2:
        return pd.DataFrame(columns=PAYBACK_COLUMNS)
    first = yearly_totals(weekly, names[0])
    parts = [_option_rows(yearly_totals(weekly, s), first, (money.get(s, Money()), money.get(names[0], Money())))
             .assign(scenario=s, against=names[0]) for s in names[1:]]
    return pd.concat(parts, ignore_index=True)[PAYBACK_COLUMNS]


def payback_by_option(table: pd.DataFrame) -> pd.DataFrame:
    """One row per option of a payback table (payback.csv): its payback year (cash), whether that year is a part
    year, and at the end of the run (its last year) the futures paid back, of how many, their share with its
    interval, and the mean cost so far against the first (cash); and its first and last years."""
    rows = []
    for scen, part in table.groupby("scenario", sort=False):
        last = part.iloc[-1]
        year = str(last["payback_year"])
        at = part[part["financial_year"].astype(str) == year]
        rows.append({"scenario": scen, "against": last["against"], "payback_year": year,
                     "payback_in_part_year": bool(at["part_year"].iloc[0]) if len(at) else False,
                     "payback_days": int(at["days"].iloc[0]) if len(at) else 0,
                     "first_year": str(part["financial_year"].iloc[0]), "last_year": str(last["financial_year"]),
                     "last_year_part": bool(last["part_year"]),
                     "replications": int(last["replications"]), "paid_back_futures": int(last["paid_back_futures"]),
                     "paid_back_share": float(last["paid_back_share"]),
                     "paid_back_share_ci95_low": float(last["paid_back_share_ci95_low"]),
                     "paid_back_share_ci95_high": float(last["paid_back_share_ci95_high"]),
                     "cumulative_cash_end": float(last["cumulative_cash"])})
    return pd.DataFrame(rows)
