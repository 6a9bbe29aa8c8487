"""Polling with a deadline, for tests that wait on a camera's own threads (every wait ends)."""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    """True as soon as ``predicate()`` is; its last value once ``timeout`` seconds have passed."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def wait_for(predicate: Callable[[], bool], timeout: float = 5.0, what: str = "condition") -> None:
    """Return as soon as ``predicate()`` is true; AssertionError naming ``what`` once
    ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def steady_period(steps: list[float]) -> float:
    """The mean step between frame arrivals after the first steady one: frames the camera had
    buffered before the window opened arrive at once (steps near 0) and say nothing of its
    rate. A stall later in the window needs no such care: its long step and the burst after it
    add up to the camera's time, so the mean of the rest stays right."""
    floor = 0.5 * statistics.median(steps)
    first = next(i for i, s in enumerate(steps) if s >= floor)
    rest = steps[first:]
    return sum(rest) / len(rest)
