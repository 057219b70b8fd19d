import copy
import os
import tomllib

import pytest
from hypothesis import settings

from workforce_sim.loading import bundled_path, load_scenario

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
