"""The Python API that the command line and notebooks share: the runs and studies, each writing with its own
tables the files people read (the workbook of a run, the charts of a sensitivity analysis).

The engines (:func:`workforce_sim.runs.experiment.run`, :func:`workforce_sim.studies.sensitivity.sensitivity`)
write only what they compute; the files for readers are added here, where every layer may be seen.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Callable

from .runs import experiment, folder
from .runs.folder import WORKBOOK
from .studies import sensitivity as _sensitivity

Writers = dict[str, Callable[[Path], None]]


def run_files(result: experiment.RunResult) -> Writers:
    """The files for readers that a run writes beside its tables: the workbook (results.xlsx)."""

    def workbook(path: Path) -> None:
        from .outputs.workbook import write_workbook  # openpyxl loads only when a run is written

        write_workbook(path, result.summary, result.budget, result.manifest, compare=result.tables.get("compare.csv"),
                       labels={s.name: s.label for s in result.scenarios}, payback=result.tables.get("payback.csv"))

    return {WORKBOOK: workbook}


def sensitivity_files(result: _sensitivity.SensitivityResult) -> Writers:
    """The files for readers that a sensitivity analysis writes beside its tables: plots/, a tornado chart of
    each measure (when the tornado was run)."""
    if "tornado" not in result.methods:
        return {}

    def charts(folder: Path) -> None:
        from .outputs.plots import save_charts, sensitivity_charts  # matplotlib loads only when charts are drawn

        folder.mkdir()
        save_charts(sensitivity_charts(result), folder)

    return {"plots": charts}


@functools.wraps(experiment.run)
def run(*args: Any, **kwargs: Any) -> experiment.RunResult:
    kwargs.setdefault("files", run_files)
    return experiment.run(*args, **kwargs)


@functools.wraps(_sensitivity.sensitivity)
def sensitivity(*args: Any, **kwargs: Any) -> _sensitivity.SensitivityResult:
    kwargs.setdefault("files", sensitivity_files)
    return _sensitivity.sensitivity(*args, **kwargs)


def write_run(result: experiment.RunResult, out_dir: str | Path, extra: dict[str, Any] | None = None) -> list[Path]:
    """Write ``result`` into ``out_dir`` as one unit: weekly.csv, summary.csv, budget.csv, any ``extra`` tables,
    results.xlsx and manifest.json (see :func:`workforce_sim.runs.folder.write_run`)."""
    return folder.write_run(result, Path(out_dir), extra if extra is not None else result.tables, run_files)
