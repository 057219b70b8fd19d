"""The compiled core (setup.py, mypyc) gives exactly the results of the model's Python source, and is never used
when it no longer matches that source.

The comparison runs each version in its own process (the choice is made once per process, when the model is
first imported). Where no compiled core was built (no C compiler when the package was installed) the comparison
has nothing to compare and says so; the Python source is then what every other test runs.
"""

import hashlib
import importlib.machinery
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from workforce_sim.model import core

CHILD = """
import hashlib, json
import numpy as np
import workforce_sim.model as model
import workforce_sim.model.cases as cases
from workforce_sim import load_scenario
from workforce_sim.scenario.calendar import weeks_for_years
digests = {}
for name in ("baseline", "herefordshire-2019", "england-2019"):
    for seed in (1, 2):
        out = model.simulate(load_scenario(name), seed, 0, weeks_for_years(1))
        h = hashlib.sha256()
        for key in sorted(k for k in out if k != "_events"):
            h.update(key.encode()); h.update(np.ascontiguousarray(out[key], dtype=float).tobytes())
        digests[f"{name} {seed}"] = h.hexdigest()
print(json.dumps({"core": model.CORE, "file": cases.__file__, "digests": digests}))
"""


def _run(pure: bool) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "WORKFORCE_SIM_PURE"}
    if pure:
        env["WORKFORCE_SIM_PURE"] = "1"
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_compiled_core_and_the_python_source_give_identical_results():
    if core.why_source(environ={}) is not None:
        pytest.skip(f"no compiled core to compare with: {core.why_source(environ={})}")
    compiled, source = _run(pure=False), _run(pure=True)
    assert compiled["core"] == "compiled (mypyc)" and not compiled["file"].endswith(".py")
    assert source["core"].startswith("Python source") and source["file"].endswith("cases.py")
    assert compiled["digests"] == source["digests"]


def test_a_fresh_install_builds_a_core_that_gives_the_same_results(tmp_path):
    """The README's first command on a machine with only Python: pip builds the package, and its compiled core, in an
    isolated environment holding only pyproject.toml's build requirements, before it installs SimPy. A core built
    without SimPy in view made the clock a class of its own that SimPy's constructor could not fill, and every run
    stopped; the shared test environment, where SimPy is always installed, could not show it. About a minute and
    a half (a new virtual environment, its downloads, pip's cache permitting, and the build)."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / ("Scripts" if sys.platform == "win32" else "bin") / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", str(Path(__file__).resolve().parents[1])], check=True,
                   capture_output=True)
    runs = []
    for pure in (False, True):
        env = {k: v for k, v in os.environ.items() if k not in ("WORKFORCE_SIM_PURE", "PYTHONPATH")}
        if pure:
            env["WORKFORCE_SIM_PURE"] = "1"
        out = subprocess.run([str(python), "-c", CHILD], capture_output=True, text=True, env=env, check=True,
                             cwd=tmp_path)
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    compiled, source = runs
    assert compiled["core"] == "compiled (mypyc)" and compiled["file"].startswith(str(venv))
    assert source["core"].startswith("Python source")
    assert compiled["digests"] == source["digests"]


def _run_command(folder: Path, pure: bool) -> dict[str, bytes]:
    env = {k: v for k, v in os.environ.items() if k != "WORKFORCE_SIM_PURE"}
    if pure:
        env["WORKFORCE_SIM_PURE"] = "1"
    subprocess.run([sys.executable, "-m", "workforce_sim.cli", "run", "baseline", "edge-of-care", "--years", "1",
                    "--reps", "3", "--jobs", "2", "--no-start-check", "--out", str(folder)],
                   env=env, check=True, capture_output=True)
    return {name: (folder / name).read_bytes() for name in ("weekly.csv", "summary.csv", "budget.csv")}


def test_a_run_gives_the_same_files_byte_for_byte_compiled_or_not(tmp_path):
    if core.why_source(environ={}) is not None:
        pytest.skip(f"no compiled core to compare with: {core.why_source(environ={})}")
    compiled = _run_command(tmp_path / "compiled", pure=False)
    source = _run_command(tmp_path / "source", pure=True)
    assert compiled == source
    manifests = [json.loads((tmp_path / f / "manifest.json").read_text()) for f in ("compiled", "source")]
    assert [m["model_core"][:8] for m in manifests] == ["compiled", "Python s"]


def _fake_core(folder: Path) -> None:
    """A folder that looks like a built core: two sources, a 'compiled' file beside each and their record."""
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    record = {}
    for name in ("alpha", "beta"):
        (folder / f"{name}.py").write_text(f"X = '{name}'\n")
        (folder / f"{name}{suffix}").write_bytes(b"")
        record[name] = hashlib.sha256((folder / f"{name}.py").read_bytes()).hexdigest()
    (folder / core.RECORD).write_text(json.dumps(record))


def test_the_compiled_core_is_used_only_while_it_matches_its_source(tmp_path):
    _fake_core(tmp_path)
    assert core.why_source(tmp_path, environ={}) is None
    assert core.why_source(tmp_path, environ={"WORKFORCE_SIM_PURE": "1"}) == "WORKFORCE_SIM_PURE is set"
    (tmp_path / "beta.py").write_text("X = 'edited'\n")
    assert "beta.py changed" in core.why_source(tmp_path, environ={})


def test_a_core_missing_a_module_or_its_record_is_not_used(tmp_path):
    _fake_core(tmp_path)
    (tmp_path / f"alpha{importlib.machinery.EXTENSION_SUFFIXES[0]}").unlink()
    assert core.why_source(tmp_path, environ={}) == "alpha was not compiled"
    (tmp_path / core.RECORD).write_text("not json")
    assert core.why_source(tmp_path, environ={}) == "no compiled core was built"
    (tmp_path / core.RECORD).unlink()
    assert core.why_source(tmp_path, environ={}) == "no compiled core was built"


def test_numpys_blas_threads_are_one_unless_the_user_chose():
    code = "import os, workforce_sim; print(os.environ['OPENBLAS_NUM_THREADS'])"
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    assert subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True).stdout.strip() == "1"
    env["OPENBLAS_NUM_THREADS"] = "3"
    assert subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True).stdout.strip() == "3"


def test_the_python_source_is_imported_when_asked_even_beside_a_compiled_core():
    got = _run(pure=True)
    assert got["core"] == "Python source (WORKFORCE_SIM_PURE is set)"
    assert got["file"].endswith("cases.py")
