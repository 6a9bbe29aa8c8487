"""The exposure worker of one camera: countdown, readout, image, upload.

One long-lived thread per connected camera owns the camera during an exposure.
The INDI handlers (reader thread) only start and abort; they never wait for the
camera. Abort is an Event that the countdown and the readout wait on, so an abort
ends the worker within one wait, without polling.

Order of what the client sees, as libindi does it: CCD_EXPOSURE Busy with the
seconds left (once per polling period), then the CCD1 BLOB, then CCD_EXPOSURE
Ok with value 0. Ekos waits for both before it starts the next frame.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable, Protocol

from ..camera.interface import CameraBackend, CameraError, CameraTimeout, ExposureAborted, Frame

log = logging.getLogger(__name__)

# Time allowed for readout after the exposure ends, at least: the camera says how long its
# frame may take over its link (``frame_wait_s``: a 16-bit Zeus frame over USB 2 at 35 %
# bandwidth needs about 9 s, allowed 24 s, twice); a frame that has not arrived by then is the
# known "never ready" field failure (indi-3rdparty issue #1165).
READOUT_TIMEOUT_S = 15.0


class ExposureSink(Protocol):
    """What the worker reports to (exposing.Exposure)."""

    def exposure_progress(self, seconds_left: float) -> None: ...
    def exposure_frame(self, frame: Frame, more_follow: bool, aborted: threading.Event) -> bool:
        """Turn the frame into an image and send it; False if that failed (the sink has
        then reported the failure itself). Called WITHOUT the guard held: the sink takes
        it only for its final updates, after checking `aborted`."""
    def exposure_done(self) -> None: ...
    def frame_buffer(self, seconds: float) -> memoryview | None:
        """Before the exposure starts: the buffer the camera should read the frame into (the
        image's own payload), or None."""
    def prepare_frame(self, seconds: float) -> None:
        """Called while the camera exposes: get ready for the frame (fault its pages in)."""
    def blink_before_exposure(self, abort: threading.Event) -> bool:
        """Before each exposure: take and drop the BLINK frames; False if aborted or failed
        (the sink has then reported the failure itself)."""
    def exposure_failed(self, message: str) -> None: ...
    def recover_camera(self, reason: str) -> str | None:
        """The camera stopped answering: bring it back (a USB reset). None when it answers
        again (the exposure is then taken once more), else words for the failure report."""
    def next_fast_frame(self) -> bool:
        """Fast exposure: True (and one frame counted off) if another frame follows this one."""


@dataclass
class _Request:
    seconds: float
    abort: threading.Event


class ExposureWorker:
    """Runs exposures of one camera, one at a time, on its own thread."""

    def __init__(self, camera: CameraBackend, sink: ExposureSink, guard: threading.RLock,
                 progress_period: Callable[[], float] = lambda: 1.0) -> None:
        """`guard` is the device's lock. Reports to the sink are made holding it and only
        while the request is not aborted, so an abort (which the device handles holding
        the same lock) is never followed by a stale Busy or Ok from this worker. Lock
        order is always guard -> the worker's own lock."""
        self._camera = camera
        self._guard = guard
        self._sink = sink
        self._progress_period = progress_period
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._pending: _Request | None = None
        self._current: _Request | None = None
        self._stopping = False
        self._thread = threading.Thread(target=self._loop, name=f"exposure-{camera.info.model}",
                                        daemon=True)
        self._thread.start()

    @property
    def busy(self) -> bool:
        with self._lock:
            return self._current is not None or self._pending is not None

    def start(self, seconds: float) -> None:
        """Queue an exposure; an exposure still running is aborted first."""
        request = _Request(seconds, threading.Event())
        with self._lock:
            self._abort_locked()
            self._pending = request
            self._wake.notify()

    def abort(self) -> bool:
        """Abort what is running or queued. True if there was something to abort."""
        with self._lock:
            had = self._current is not None or self._pending is not None
            self._abort_locked()
        return had

    def _abort_locked(self) -> None:
        if self._pending is not None:
            self._pending.abort.set()
            self._pending = None
        if self._current is not None:
            self._current.abort.set()
            try:
                self._camera.abort_exposure()
            except CameraError as exc:  # the worker reports the failure it sees
                log.debug("abort_exposure: %s", exc)

    def close(self, timeout: float = 5.0) -> None:
        with self._lock:
            self._stopping = True
            self._abort_locked()
            self._wake.notify()
        self._thread.join(timeout)

    # --- worker thread ----------------------------------------------------------------

    def _report(self, request: _Request, method: Callable[..., None], *args: object) -> bool:
        with self._guard:
            if request.abort.is_set():
                return False
            method(*args)
            return True

    def _loop(self) -> None:
        while True:
            with self._lock:
                while self._pending is None and not self._stopping:
                    self._wake.wait()
                if self._stopping:
                    return
                request, self._pending = self._pending, None
                self._current = request
            try:
                self._run(request)
            except Exception as exc:  # never let the worker die: the next exposure must work
                log.exception("exposure failed")
                self._report(request, self._sink.exposure_failed,
                             f"Exposure failed: internal error: {exc}")
            finally:
                with self._lock:
                    if self._current is request:
                        self._current = None

    def _run(self, request: _Request) -> None:
        while True:
            frame = self._expose_once(request)
            if frame is None:
                return
            with self._guard:
                more = not request.abort.is_set() and self._sink.next_fast_frame()
            try:
                delivered = self._sink.exposure_frame(frame, more, request.abort)
            finally:
                frame.release()
            if not delivered:
                return
            if not more:
                self._report(request, self._sink.exposure_done)
                return
            if request.abort.is_set():
                return

    def _expose_once(self, request: _Request, recovered: bool = False) -> Frame | None:
        seconds, abort = request.seconds, request.abort
        if not self._sink.blink_before_exposure(abort):  # BLINK (ccd/controls.py)
            return None
        try:
            into = self._sink.frame_buffer(seconds)
        except Exception:  # only an optimisation: the frame path allocates what it needs
            log.exception("allocating the image's buffer failed")
            into = None
        try:
            self._camera.start_exposure(seconds, into=into)
        except CameraTimeout as exc:  # the camera stopped answering
            return self._not_answering(request, recovered, f"Could not start the exposure: {exc}",
                                       str(exc))
        except CameraError as exc:
            self._report(request, self._sink.exposure_failed, f"Could not start the exposure: {exc}")
            return None
        end = time.monotonic() + seconds
        try:
            self._sink.prepare_frame(seconds)
        except Exception:  # only an optimisation: the frame path allocates what it needs
            log.exception("preparing for the frame failed")
        while True:
            left = end - time.monotonic()
            if left <= 0:
                break
            if not self._report(request, self._sink.exposure_progress, left):
                return None
            if abort.wait(min(left, max(0.05, self._progress_period()))):
                return None
        try:
            return self._camera.wait_frame(max(READOUT_TIMEOUT_S, self._camera.frame_wait_s()),
                                           abort)
        except ExposureAborted:
            return None
        except CameraTimeout as exc:
            try:
                self._camera.abort_exposure()
            except CameraError:
                pass
            return self._not_answering(
                request, recovered, f"The camera delivered no image ({exc}); the exposure was "
                "stopped. Check the USB cable and power.", str(exc))
        except CameraError as exc:
            self._report(request, self._sink.exposure_failed, f"Reading the image failed: {exc}")
            return None

    def _not_answering(self, request: _Request, recovered: bool, failure: str,
                       reason: str) -> Frame | None:
        """The camera gave no frame or stopped answering: once per exposure the sink may bring
        it back (a USB reset, ccd/recovery.py) and the exposure is taken again; otherwise, or
        the second time, the failure is reported."""
        if request.abort.is_set():
            return None
        if not recovered:
            extra = self._sink.recover_camera(reason)
            if extra is None:
                if request.abort.is_set():
                    return None
                return self._expose_once(request, recovered=True)
            failure = f"{failure} {extra}"
        else:
            failure = f"{failure} (again after a USB reset)"
        self._report(request, self._sink.exposure_failed, failure)
        return None
