"""INDI driver for Player One Astronomy cooled cameras."""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("indi-playerone")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
