"""The SimPy model of one council's children's social care service.

Each module owns one part: demand and the front door (:mod:`.demand`), early
help (:mod:`.early_help`), case flow (:mod:`.cases`), who holds each case
(:mod:`.allocation`), staff (:mod:`.workforce`), posts, recruitment and agency
cover (:mod:`.recruitment`), levers in time (:mod:`.levers`), money
(:mod:`.costs`), the declared measures (:mod:`.measures`) and their weekly
counting (:mod:`.monitoring`). :mod:`.council` wires them together and is the
only place that knows them all.
"""

from .core import CORE  # first: it decides whether the compiled core or the Python source is imported
from .council import Replication, simulate, week_dates
from .measures import COST_COLUMNS, ID_COLUMNS, MEASURES, WEEKLY_COLUMNS, weekly_columns

__all__ = ["CORE", "simulate", "Replication", "week_dates", "WEEKLY_COLUMNS", "ID_COLUMNS", "COST_COLUMNS", "MEASURES",
           "weekly_columns"]
