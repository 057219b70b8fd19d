"""Run folders are one unit: stored batches are checked, writes are staged, one run at a time (issue 14)."""

import io
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import workforce_sim.experiment as experiment
from workforce_sim import run
from workforce_sim.cli import main
from workforce_sim.store import PARTIAL

SMALL = dict(years=0.2, reps=4, seed=5, jobs=1)
RESULT_FILES = ("weekly.csv", "summary.csv", "budget.csv")


def result_bytes(folder: Path) -> dict[str, bytes]:
    return {f: (folder / f).read_bytes() for f in RESULT_FILES}


@pytest.fixture(scope="module")
def whole(tmp_path_factory) -> dict[str, bytes]:
    """The outputs of an uninterrupted SMALL run."""
    out = tmp_path_factory.mktemp("whole")
    run("baseline", **SMALL, out=out)
    return result_bytes(out)


def interrupted(monkeypatch, out: Path, batches: int) -> list[Path]:
    """Start a SMALL run into ``out`` with one replication per batch and stop it (as Ctrl-C) after ``batches``."""
    monkeypatch.setattr(experiment, "chunk_size", lambda *a: 1)
    real, calls = experiment.simulate_chunk, []

    def simulate(*args):
        calls.append(1)
        if len(calls) > batches:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(experiment, "simulate_chunk", simulate)
    with pytest.raises(KeyboardInterrupt):
        run("baseline", **SMALL, out=out)
    monkeypatch.undo()
    return sorted((out / PARTIAL).glob("*.npz"))


# -- 14.10: damaged stored batches ------------------------------------------------------------
def test_resume_recomputes_truncated_empty_and_edited_batches_with_a_warning(monkeypatch, tmp_path, whole):
    out = tmp_path / "o"
    kept = interrupted(monkeypatch, out, 3)
    assert len(kept) == 3
    truncated, empty, edited = kept
    truncated.write_bytes(truncated.read_bytes()[:200])
    empty.write_bytes(b"")
    with np.load(edited) as z:  # a well-formed file whose values were changed
        arrays = {k: z[k] for k in z.files}
    arrays["caseload_mean"] = arrays["caseload_mean"] * 0 + 1.0
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    edited.write_bytes(buf.getvalue())
    notes = []
    run("baseline", **SMALL, out=out, resume=True, notify=notes.append)
    for f in kept:
        assert any(f.name in n and "recomput" in n for n in notes), (f.name, notes)
    assert result_bytes(out) == whole


def test_resume_with_a_damaged_run_description_says_which_file(monkeypatch, tmp_path):
    out = tmp_path / "o"
    interrupted(monkeypatch, out, 1)
    for damage in (b"", b'{"seed": 5, "yea'):
        (out / PARTIAL / "run.json").write_bytes(damage)
        res = CliRunner().invoke(main, ["run", "baseline", "--years", "0.2", "--reps", "4", "--seed", "5",
                                        "--jobs", "1", "--out", str(out), "--resume"])
        assert res.exit_code == 2, res.output
        assert str(out / PARTIAL / "run.json") in res.output and "damaged" in res.output
        assert "Traceback" not in res.output and "JSONDecodeError" not in res.output
