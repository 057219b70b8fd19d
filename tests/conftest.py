import copy
import tomllib

import pytest

from workforce_sim.loading import bundled_path, load_scenario


@pytest.fixture(scope="session")
def baseline_dict() -> dict:
    """The bundled baseline as a plain table, to copy and change in tests."""
    with bundled_path("baseline").open("rb") as fh:
        return tomllib.load(fh)


@pytest.fixture
def base(baseline_dict) -> dict:
    return copy.deepcopy(baseline_dict)


@pytest.fixture(scope="session")
def baseline():
    return load_scenario("baseline")


def write_toml(path, text: str):
    path.write_text(text, encoding="utf-8")
    return path
