"""workforce_sim: workforce and caseload planning for children's social care.

The Python API that the command line and notebooks share::

    from workforce_sim import load_scenario, run, sensitivity
    scn = load_scenario("baseline", ["demand.trend_per_year=0.05"])
    result = run(scn, years=5, reps=20, seed=42)
    result.weekly      # pandas DataFrame, one row per replication and week
    result.summary     # mean, 95% CI and percentiles per metric and year
    sa = sensitivity(scn, years=5, reps=10)   # which uncertain settings decide the answer
    sa.ranking("tornado", "p_sustained")  # sa.table is sensitivity.csv

The package's folders are its layers, each importing only from those before it: ``scenario`` (what a council
looks like: the schema, loading, calendar and random streams), ``model`` (one simulated future), ``analysis``
(statistics, breach rules, money, comparisons), ``runs`` (replications, backends and run folders), ``studies``
(sensitivity, settling, goal-seek, calibration, tracing), ``outputs`` (words, charts, the report and the
workbook); :mod:`workforce_sim.api` and the command line sit on top.
"""

import os

# One replication runs in one process, and runs use one process per core: numpy's and scipy's BLAS threads
# would only spin beside the model, taking a core from the next replication (measured: a 5-year baseline
# replication 0.53 s with them, 0.46 s without; results identical). Set before numpy is first imported; a
# value the user set is kept.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from .analysis.summary import summarise  # noqa: E402
from .api import run, sensitivity, write_run  # noqa: E402
from .runs.experiment import RunResult  # noqa: E402
from .runs.folder import read_run  # noqa: E402
from .scenario.loading import ScenarioError, bundled_names, load_scenario  # noqa: E402
from .scenario.schema import Scenario  # noqa: E402
from .version import __version__

__all__ = ["Scenario", "ScenarioError", "RunResult", "load_scenario", "run", "sensitivity", "bundled_names",
           "summarise", "write_run", "read_run", "__version__"]
