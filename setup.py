"""Build the model's compiled core where a C compiler is at hand; install pure Python where not.

Everything about the package is in pyproject.toml. This file only adds the optional compiled core:
the model's hot modules (CORE below) compiled by mypyc, which gives the same results as their Python
source, faster. Without a C compiler the build carries on without them, and the package runs on its
Python source alone. The build records a hash of each compiled module's source beside it
(``_core.json``); workforce_sim.model uses the compiled core only while every hash still matches, so
an edited source file is never shadowed by a stale build. ``WORKFORCE_SIM_PURE=1`` (at run time)
uses the Python source; ``WORKFORCE_SIM_BUILD_CORE=0`` (at install time) builds no core at all.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).resolve().parent
MODEL = Path("src", "workforce_sim", "model")
CORE = ("agency_market", "allocation", "care", "case", "cases", "clock", "council", "demand", "draws", "early_help",
        "levers", "monitoring", "recruitment", "workforce")
RECORD = "_core.json"
COMPILED: dict[str, str] = {}  # module -> sha256 of the source mypyc read (hashed before it reads them)


class BuildCore(build_ext):
    """build_ext that never fails the install, and records the source of what it compiled."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # no compiler, or one that fails: the Python source is used instead
            print(f"workforce_sim: compiled core not built ({exc}); the model runs on its Python source")
            return
        built = [m for m in CORE if Path(self.get_ext_fullpath(f"workforce_sim.model.{m}")).exists()]
        if len(built) != len(CORE):
            return  # a partial build is not used (workforce_sim.model checks the record)
        target = Path(self.get_ext_fullpath("workforce_sim.model.x")).parent / RECORD
        target.write_text(json.dumps(COMPILED, indent=1, sort_keys=True) + "\n")

    def build_extension(self, ext) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:
            print(f"workforce_sim: {ext.name} not compiled ({exc})")


def core_extensions() -> list:
    """The mypyc extensions of the model's core, or none (not wanted, or mypyc not available)."""
    if os.environ.get("WORKFORCE_SIM_BUILD_CORE", "1") == "0" or {"egg_info", "dist_info"} & set(sys.argv):
        # (pip asks for the package's metadata first: nothing is compiled for that)
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        return []
    COMPILED.update({m: hashlib.sha256((HERE / MODEL / f"{m}.py").read_bytes()).hexdigest() for m in CORE})
    try:
        return mypycify([str(MODEL / f"{m}.py") for m in CORE], opt_level="3", group_name="workforce_sim.model._core")
    except BaseException as exc:  # mypyc stops with SystemExit on a type error: install pure Python instead
        print(f"workforce_sim: compiled core not generated ({exc!r}); the model runs on its Python source")
        return []


setup(ext_modules=core_extensions(), cmdclass={"build_ext": BuildCore})
