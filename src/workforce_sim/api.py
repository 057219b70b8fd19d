"""The Python API that the command line and notebooks share: the runs and studies, each writing with its own
tables the files people read (the workbook of a run, the charts of a sensitivity analysis).

The engines (:func:`workforce_sim.runs.experiment.run`, :func:`workforce_sim.studies.sensitivity.sensitivity`)
write only what they compute; the files for readers are added here, where every layer may be seen.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Callable

from .runs import experiment
from .runs.folder import WORKBOOK
from .studies import sensitivity as _sensitivity

Writers = dict[str, Callable[[Path], None]]


def run_files(result: experiment.RunResult) -> Writers:
    """The files for readers that a run writes beside its tables: the workbook (results.xlsx)."""

    def workbook(path: Path) -> None:
        from .outputs.workbook import write_workbook  # openpyxl loads only when a run is written

        write_workbook(path, result.summary, result.budget, result.manifest, compare=result.tables.get("compare.csv"),
                       labels={s.name: s.label for s in result.scenarios})

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
