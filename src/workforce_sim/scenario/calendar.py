"""Working days on a real calendar: weekends and England's bank holidays.

The simulation clock counts working days from the run's start date, so every
practice timescale (1 working day for a decision, 45 for an assessment, 15 for
an initial child protection conference) is a plain duration on the clock.
This module converts between the clock and real dates, and places the weekly
reporting boundaries (every 7 calendar days from the start date) on the clock.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Final

import holidays
import numpy as np

# Final: the model's compiled core takes them as constants, not a lookup in this module at every use
WORKING_DAYS_PER_WEEK: Final = 5.0
WEEKS_PER_YEAR: Final = 365.25 / 7.0


def next_month(d: dt.date) -> dt.date:
    """The first day of the calendar month after the one ``d`` falls in."""
    return dt.date(d.year + (d.month == 12), d.month % 12 + 1, 1)


def england_bank_holidays(first_year: int, last_year: int) -> list[dt.date]:
    """England and Wales bank holidays, including substitute and one-off days."""
    days = holidays.country_holidays("GB", subdiv="ENG", years=range(first_year, last_year + 1))
    return sorted(days.keys())


@dataclass(frozen=True)
class WorkingCalendar:
    """The reporting calendar of one run: start date and number of weeks."""

    start: dt.date
    n_weeks: int

    @cached_property
    def _busdaycal(self) -> np.busdaycalendar:
        hol = england_bank_holidays(self.start.year - 1, self.end.year + 2)
        return np.busdaycalendar(weekmask="1111100", holidays=np.array(hol, dtype="datetime64[D]"))

    @property
    def end(self) -> dt.date:
        """The day after the run's last reporting week."""
        return self.start + dt.timedelta(days=7 * self.n_weeks)

    @cached_property
    def week_dates(self) -> np.ndarray:
        """First calendar day of each reporting week (datetime64[D]; read only: a calendar may be shared)."""
        return _read_only(np.datetime64(self.start, "D") + 7 * np.arange(self.n_weeks))

    @cached_property
    def week_bounds(self) -> np.ndarray:
        """Clock time (working days) at the start of week 0..n_weeks (n_weeks + 1 values; read only)."""
        s = np.datetime64(self.start, "D")
        ends = s + 7 * np.arange(self.n_weeks + 1)
        return _read_only(np.busday_count(s, ends, busdaycal=self._busdaycal).astype(float))

    @property
    def horizon(self) -> float:
        """Clock time at the end of the run (working days)."""
        return float(self.week_bounds[-1])

    def date_of(self, t: float) -> dt.date:
        """The calendar date of clock time ``t`` (working days from the start; the working day it falls in)."""
        day = np.busday_offset(np.datetime64(self.start, "D"), int(np.floor(t)), roll="forward",
                               busdaycal=self._busdaycal)
        return day.astype(dt.date)

    def working_days_between(self, a: dt.date, b: dt.date) -> int:
        """Working days from ``a`` (counted) up to ``b`` (not counted)."""
        return int(np.busday_count(np.datetime64(a, "D"), np.datetime64(b, "D"), busdaycal=self._busdaycal))

    def month_bounds(self) -> tuple[tuple[int, int, float, float], ...]:
        """(year, month, clock start, clock end) for every calendar month the run touches (worked out once: the
        calendar is shared by the replications of a process, and each replication's front door asks)."""
        return self._month_bounds

    @cached_property
    def _month_bounds(self) -> tuple[tuple[int, int, float, float], ...]:
        out = []
        y, m = self.start.year, self.start.month
        while dt.date(y, m, 1) < self.end:
            first = dt.date(y, m, 1)
            nxt = next_month(first)
            a = max(first, self.start)
            b = min(nxt, self.end)
            out.append((y, m, float(self.working_days_between(self.start, a)),
                        float(self.working_days_between(self.start, b))))
            y, m = nxt.year, nxt.month
        return tuple(out)

    @cached_property
    def working_days_in_12_months(self) -> int:
        """Working days from the start date to the same date a year later (bank holidays counted):
        DfE's "within 12 months" on the model's clock."""
        try:
            a_year_on = self.start.replace(year=self.start.year + 1)
        except ValueError:  # 29 February
            a_year_on = self.start.replace(year=self.start.year + 1, day=28)
        return self.working_days_between(self.start, a_year_on)

    @cached_property
    def working_days_per_year(self) -> float:
        """Average working days in a year over the run (about 252)."""
        return self.horizon / (self.n_weeks / WEEKS_PER_YEAR)


@lru_cache(maxsize=16)
def working_calendar(start: dt.date, n_weeks: int) -> WorkingCalendar:
    """The calendar of a run from ``start`` for ``n_weeks``, made once per process and shared by its replications
    (working out bank holidays and week boundaries takes milliseconds a replication; the answers never change)."""
    return WorkingCalendar(start, n_weeks)


def _read_only(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


def start_day(text: str, today: dt.date) -> dt.date:
    """A start date as a user writes it: a date (2027-04-01), ``today``, or ``next-april``: the next 1 April,
    the first day of the financial year a council budgets for (today, on a 1 April)."""
    word = text.strip().lower()
    if word == "today":
        return today
    if word in ("next-april", "next april"):
        april = dt.date(today.year, 4, 1)
        return april if april >= today else dt.date(today.year + 1, 4, 1)
    try:
        return dt.date.fromisoformat(word)
    except ValueError:
        raise ValueError(f"'{text}' is not a date: write a date such as 2027-04-01, 'today' or 'next-april'") from None


def weeks_for_years(years: float) -> int:
    """Number of whole reporting weeks that covers ``years`` calendar years."""
    return max(1, int(round(years * WEEKS_PER_YEAR)))
