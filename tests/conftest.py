import copy
import os
import subprocess
import sys
import tomllib

import pytest
from hypothesis import settings

from workforce_sim.scenario.loading import bundled_path, load_scenario

# The tests never read or write the user's cache (~/.cache/workforce_sim): it is off for the whole session, and
# for the commands tests start, which inherit this; a test of the cache points it at a folder of its own
# (the fixture `cache_dir`).
os.environ["WORKFORCE_SIM_CACHE"] = "off"

# In CI (which sets CI=true) property-based tests draw the same examples every run, so a red build
# is never luck; a failure prints the blob that reproduces it. Locally they keep exploring.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(scope="session")
def baseline_dict() -> dict:
    """The bundled baseline as a plain table, to copy and change in tests."""
    with bundled_path("baseline").open("rb") as fh:
        return tomllib.load(fh)


@pytest.fixture
def base(baseline_dict) -> dict:
    """A fresh copy of the baseline table, free to change."""
    return copy.deepcopy(baseline_dict)


@pytest.fixture(scope="session")
def baseline():
    """The bundled baseline scenario, loaded once for the session."""
    return load_scenario("baseline")


def write_toml(path, text: str):
    """Write ``text`` to ``path`` as UTF-8 and return the path."""
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def new_demand():
    """Whether two runs saw the same new demand, which no scenario's staffing can change: contacts less
    those about children coming back after closure, week by week; referrals less returns, within a few
    of each other in total by every week (a returning child screened ahead of a new contact can push
    its decision over a week boundary, or past the end of the run; and with a finite agency market, which
    every team draws on, the front door's agency cover can arrive in another week, so its screening runs
    a little ahead or behind: the totals still meet)."""
    def same(a, b) -> bool:
        contacts = [(f["contacts"] - f["contacts_returning"]).reset_index(drop=True) for f in (a, b)]
        referrals = [(f["referrals"] - f["returns_after_closure"]).cumsum().to_numpy() for f in (a, b)]
        return contacts[0].equals(contacts[1]) and abs(referrals[0] - referrals[1]).max() <= 8
    return same


@pytest.fixture
def on_python_source(request):
    """For a test that patches the model's internals, which a compiled class does not allow.

    Returns True when the test has already run, and passed, in a child process on the model's Python source
    (where the compiled core is in use here): the test then returns at once. Returns False where this process
    runs the Python source itself: the test runs here. Either way the test's assertions are checked."""
    from workforce_sim.model import CORE
    if CORE.startswith("Python source"):
        return False
    env = dict(os.environ, WORKFORCE_SIM_PURE="1")
    root = request.config.rootpath
    args = [sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider", request.node.nodeid]
    done = subprocess.run(args, cwd=root, env=env, capture_output=True, text=True)
    assert done.returncode == 0 and "1 passed" in done.stdout, done.stdout[-4000:] + done.stderr[-2000:]
    return True


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    """The cache of simulated results (workforce_sim.runs.cache), on for this test, in a folder of its own."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("WORKFORCE_SIM_CACHE", str(folder))
    return folder
