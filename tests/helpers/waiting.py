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


def steady_period(stamps: list[float], seqs: list[int] | None = None) -> float:
    """Seconds per frame from arrival times: the median of the slopes between every pair of
    frames (Theil-Sen), each over its step in sequence numbers (``seqs``; default: one apart).

    An arrival is the camera's time plus a latency that a busy machine makes large for some
    frames: a late first frame shortens a first-to-last span (a 20 fps cap read 0.045 s over
    20 steps at a load average of 15), a backlog drained at once makes steps near 0. The
    median of the pairwise slopes ignores up to about three in ten such frames."""
    seqs = list(range(len(stamps))) if seqs is None else seqs
    slopes = [(stamps[j] - stamps[i]) / (seqs[j] - seqs[i])
              for i in range(len(stamps)) for j in range(i + 1, len(stamps))]
    return statistics.median(slopes)
