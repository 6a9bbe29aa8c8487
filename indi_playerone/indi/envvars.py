"""Numbers the drivers read from their environment (periods, timeouts and the tests' seams)."""
from __future__ import annotations

import os

__all__ = ["float_from_env"]


def float_from_env(name: str, default: float) -> float:
    """The number in the environment variable ``name``; ``default`` when it is unset, blank or
    not a number (a typo must not stop a driver from starting). Its range is the caller's to check."""
    text = os.environ.get(name, "").strip()
    try:
        return float(text) if text else default
    except ValueError:
        return default
