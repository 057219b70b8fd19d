"""The installed version of workforce_sim ("0+unknown" when run from a source tree without installing)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("workforce-sim")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0+unknown"
