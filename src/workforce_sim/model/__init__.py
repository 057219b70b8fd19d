"""The SimPy model of one council's children's social care service.

Each module owns one part: demand and the front door (:mod:`.demand`), case
flow (:mod:`.cases`), staff (:mod:`.workforce`), posts, recruitment and agency
cover (:mod:`.recruitment`), allocation (:mod:`.allocation`) and weekly
measurement (:mod:`.monitoring`). :mod:`.council` wires them together and is
the only place that knows them all.
"""

from .council import simulate, WEEKLY_COLUMNS

__all__ = ["simulate", "WEEKLY_COLUMNS"]
