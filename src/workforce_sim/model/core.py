"""Which code runs the model: its compiled core, or its Python source.

Where a C compiler was at hand when the package was installed, setup.py compiled the model's hot modules
with mypyc (the same code, typed, as a C extension: the same results, faster) and recorded a hash of each
module's source beside them (``_core.json``). The compiled core is used only while every hash still
matches the source, so an edited module is never shadowed by a stale build; otherwise, or where
``WORKFORCE_SIM_PURE=1`` is set, the Python source is imported instead (a finder put first in line for
just these modules). The choice is made once, when :mod:`workforce_sim.model` is first imported, for
all of the core together: compiled modules call each other directly, so they cannot be mixed.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PACKAGE = __name__.rpartition(".")[0]
RECORD = "_core.json"  # beside the modules, written by setup.py after a complete build: module -> sha256 of its source


def why_source(folder: Path = HERE, environ=os.environ) -> str | None:
    """Why the Python source must run (None: the compiled core in ``folder`` is built and matches its source)."""
    if environ.get("WORKFORCE_SIM_PURE", "") not in ("", "0"):
        return "WORKFORCE_SIM_PURE is set"
    try:
        record = json.loads((folder / RECORD).read_text())
    except (OSError, ValueError):
        return "no compiled core was built"
    if not isinstance(record, dict) or not record:
        return "no compiled core was built"
    for name, digest in sorted(record.items()):
        source = folder / f"{name}.py"
        if not source.exists() or hashlib.sha256(source.read_bytes()).hexdigest() != digest:
            return f"{name}.py changed since the core was built (reinstall to rebuild it)"
        if not any((folder / f"{name}{suffix}").exists() for suffix in importlib.machinery.EXTENSION_SUFFIXES):
            return f"{name} was not compiled"
    return None


class _SourceFinder(importlib.abc.MetaPathFinder):
    """Imports the named modules of the model from their Python source, even where a compiled one sits beside it."""

    def __init__(self, names: set[str]):
        self.names = names

    def find_spec(self, fullname, path=None, target=None):
        package, _, name = fullname.rpartition(".")
        if package == PACKAGE and name in self.names:
            return importlib.util.spec_from_file_location(fullname, HERE / f"{name}.py")
        return None


def _choose() -> str:
    why = why_source()
    if why is None:
        return "compiled (mypyc)"
    compiled = {p.name.split(".")[0] for s in importlib.machinery.EXTENSION_SUFFIXES for p in HERE.glob(f"*{s}")
                if (HERE / f"{p.name.split('.')[0]}.py").exists()}
    if compiled:
        sys.meta_path.insert(0, _SourceFinder(compiled))
    return f"Python source ({why})"


CORE = _choose()  # what runs the model in this process, in words (written to each run's manifest)
