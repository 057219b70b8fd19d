"""workforce_sim: workforce and caseload planning for children's social care.

The Python API that the command line and notebooks share::

    from workforce_sim import load_scenario, run
    scn = load_scenario("baseline", ["demand.trend_per_year=0.05"])
    result = run(scn, years=5, reps=20, seed=42)
    result.weekly      # pandas DataFrame, one row per replication and week
    result.summary     # mean, 95% CI and percentiles per metric and year
    from workforce_sim.sensitivity import sensitivity
    sa = sensitivity(scn, years=5, reps=10)   # which uncertain settings decide the answer
    sa.ranking("tornado", "p_sustained")  # sa.table is sensitivity.csv
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("workforce-sim")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0+unknown"

from .experiment import RunResult, run  # noqa: E402
from .loading import ScenarioError, bundled_names, load_scenario  # noqa: E402
from .results import read_run, summarise, write_run  # noqa: E402
from .schema import Scenario  # noqa: E402

__all__ = ["Scenario", "ScenarioError", "RunResult", "load_scenario", "run", "bundled_names",
           "summarise", "write_run", "read_run", "__version__"]
