"""Watching a wheel turn: one thread per connected wheel, so no move ever blocks the driver.

The SDK tells the end of a move only by answering ``POAGetCurrentPosition`` again instead of
``PW_ERROR_IS_MOVING``, so the watcher asks, every ``interval()`` seconds, while a job runs: a
move, a calibration (``POAResetPW``), the self-check a wheel does when first detected, or the
reset the driver runs to recover a wheel after a firmware error or a move that never ended. The
handler's step that started the job returned at once; the watcher reports the job's end through
callbacks (``arrived``, ``failed``, ``timed_out``) and the component turns them into INDI states.
Waiting is ``threading.Event.wait``: a new job or ``close`` wakes the thread at once.

A few ``PW_ERROR_OPERATION_FAILED`` in a row are tolerated (the header: "usually, this is caused
by sending commands too often"); more, or a wheel that is gone, fail the job.
"""
from __future__ import annotations

import enum
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from ..camera.wheel_backend import PhoenixWheel
from ..camera.wheel_binding import PwError, WheelError

log = logging.getLogger(__name__)

__all__ = ["Kind", "Job", "MoveWatcher", "MAX_INTERVAL_S", "FAILURES_TOLERATED"]

MAX_INTERVAL_S = 0.1
FAILURES_TOLERATED = 3


class Kind(enum.Enum):
    MOVE = "moving to slot"
    CALIBRATE = "calibrating"
    SELF_CHECK = "doing its self-check"
    RECOVER = "being reset"


@dataclass
class Job:
    kind: Kind
    target: int | None  # 1-based slot of a MOVE
    timeout_s: float
    reason: str = ""  # RECOVER: what went wrong, for the final Alert
    started: float = field(default_factory=time.monotonic)

    def describe(self) -> str:
        return f"{self.kind.value} {self.target}" if self.kind is Kind.MOVE else self.kind.value


class MoveWatcher:
    """Runs at most one job at a time for one wheel. Callbacks run on the watcher's thread,
    holding ``outer`` (the device's lock): ``arrived(job, position)`` (0-based),
    ``failed(job, error)``, ``timed_out(job)``. The job ends under that lock too, so a handler
    (which holds it) sees either the job running or its end reported, never the moment between."""

    def __init__(self, wheel: PhoenixWheel, interval: Callable[[], float],
                 arrived: Callable[[Job, int], None], failed: Callable[[Job, WheelError], None],
                 timed_out: Callable[[Job], None], name: str, outer: threading.RLock) -> None:
        self._wheel, self._interval, self._outer = wheel, interval, outer
        self._arrived, self._failed, self._timed_out = arrived, failed, timed_out
        self._lock = threading.Lock()
        self._job: Job | None = None
        self._wake = threading.Event()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=f"wheel-{name}", daemon=True)
        self._thread.start()

    @property
    def job(self) -> Job | None:
        with self._lock:
            return self._job

    def watch(self, job: Job) -> None:
        """Follow ``job`` (replacing any other: the caller checked there was none)."""
        with self._lock:
            self._job = job
        self._wake.set()

    def cancel(self) -> None:
        with self._lock:
            self._job = None

    def close(self, wait_s: float = 0.0) -> None:
        """End the job and the thread. Not joined by default: the caller usually holds the
        device's lock, which a report in progress waits for; that report then finds no job
        and the thread ends on its own."""
        with self._lock:
            self._closed, self._job = True, None
        self._wake.set()
        if wait_s > 0 and self._thread is not threading.current_thread():
            self._thread.join(wait_s)

    def _run(self) -> None:
        failures = 0
        while True:
            with self._lock:
                job, closed = self._job, self._closed
            if closed:
                return
            if job is None:
                self._wake.wait()
                self._wake.clear()
                failures = 0
                continue
            self._wake.wait(min(self._interval(), MAX_INTERVAL_S))
            self._wake.clear()
            with self._lock:
                if self._job is not job:  # replaced or cancelled meanwhile
                    failures = 0
                    continue
            try:
                position = self._wheel.position()
            except WheelError as exc:
                failures += 1
                if exc.code == PwError.OPERATION_FAILED and failures < FAILURES_TOLERATED:
                    continue
                self._finish(job, lambda: self._failed(job, exc))
                failures = 0
                continue
            failures = 0
            if position is not None:
                self._finish(job, lambda: self._arrived(job, position))
            elif time.monotonic() - job.started > job.timeout_s:
                self._finish(job, lambda: self._timed_out(job))

    def _finish(self, job: Job, report: Callable[[], None]) -> None:
        with self._outer:
            with self._lock:
                if self._job is not job:
                    return
                self._job = None
            try:
                report()
            except Exception:  # a reporting bug must not end the watcher
                log.exception("reporting the end of %s failed", job.describe())
