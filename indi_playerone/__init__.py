"""INDI drivers for Player One Astronomy cooled cameras and Phoenix filter wheels."""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("indi-playerone")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"


def driver_version() -> str:
    """DRIVER_VERSION as libindi shows it: major.minor of the package version (both drivers)."""
    parts = __version__.split(".")
    return ".".join(parts[:2]) if len(parts) >= 2 else __version__
