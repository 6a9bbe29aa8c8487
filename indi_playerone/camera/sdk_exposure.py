"""Single-frame exposures of an SDK camera: a part of :class:`~.sdk_camera.SdkCamera` over its
:class:`~.sdk_session.CameraSession`.

The frame is read by a C thread that sleeps through the exposure, then calls
``POAGetImageData`` straight into a slot of the camera's frame ring (or into the caller's buffer,
``start_exposure``'s ``into``), with the SDK's recommended timeout, exposure + 500 ms, counted
from the exposure's start, plus the frame's transfer time over this camera's link at its
bandwidth limit, with margin (:func:`.sdk_link.readout_allowance_s`). Python waits on a
condition in C, without the camera's Python lock: nobody polls ``POAImageReady``.

Behaviour taken from the SDK's documented hazards and the field reports
(``docs/upstream-facts.md`` sections 3 and 7), each with its reason:

* the first frame after a bin change is thrown away by a short flush exposure (INDI issue
  #774: that frame can be garbage), so the user's exposure is never the bad one;
* a frame that does not come within the allowance (INDI issues #1165 and #1328: the C++ driver
  hangs for ever) is tried once more, then :class:`CameraTimeout`; a snap-mode frame that never
  came switches the camera to single frames in continuous (video) mode for the rest of the
  session (the Saturn-C report, indi-3rdparty #824, and INDIGO's fix for it), and the second
  attempt is already taken that way (:meth:`SingleFrames.wait_frame`);
* ``POAStartExposure`` answering ``POA_ERROR_EXPOSING`` just after a frame (sub-second loops,
  a Ceres-M on a Pi 5) is asked again for up to :data:`START_BUSY_S`.
"""
from __future__ import annotations

import contextlib
import logging
import threading
import time
import weakref
from datetime import datetime, timezone
from typing import Any, NamedTuple

import numpy as np

from ..native import FrameRing, NativeError
from .interface import CameraError, CameraTimeout, ExposureAborted, Frame
from .sdk_binding import SdkCameraHandle
from .sdk_recovery import not_answering_said_plainly
from .sdk_session import CameraSession, SingleExposure, unplug_said_plainly
from .sdk_status import CameraStatus
from .sdk_types import Err, ImgFormat, ReadoutResult, ReadoutState, SdkError

__all__ = ["SingleFrames", "VIDEO_SINGLE_FRAME_MODELS", "FRAME_RETRIES", "START_BUSY_S"]

log = logging.getLogger(__name__)

#: Models whose snap mode misbehaves: single frames are taken in video mode (start continuous,
#: read the first frame, stop), as INDIGO does. On the Saturn-C, ``POAImageReady`` never becomes
#: TRUE on every second snap frame (indi-3rdparty issue #824; INDIGO: "Single exposure mode does
#: not work for Saturn-C, due to a bug in the POAImageReady() function"). Names are
#: ``cameraModelName`` without a custom id. Any other camera switches to video mode the first
#: time a snap frame never comes (``docs/upstream-facts.md`` section 3, row 3.18).
VIDEO_SINGLE_FRAME_MODELS: frozenset[str] = frozenset({"Saturn-C"})

#: A frame that did not come within the allowance is tried this many more times, then the
#: exposure fails with CameraTimeout (the driver may then reset the camera's USB device).
FRAME_RETRIES = 1
#: ``POAStartExposure`` answering POA_ERROR_EXPOSING although nothing of ours runs (the camera
#: finishing the last frame: sub-second loops on a Pi 5) is asked again for this long.
START_BUSY_S = 2.0
START_BUSY_TICK_S = 0.05
#: Python's own wait for a frame ends this long after the C reader's allowance would have: the
#: reader is the watchdog, this is only the backstop should it never report.
WAIT_BACKSTOP_S = 5.0
#: A caller's cancel Event is checked at this tick while waiting in C (a sleep, not a spin).
CANCEL_TICK_S = 0.02
#: The flush exposure after a bin change: short, and waited for at most this long.
FLUSH_EXPOSURE_S = 0.001
FLUSH_WAIT_S = 10.0
#: What ``POAGetImageData`` answers for a frame that has not come: a timeout, or (SDK 3.10.1)
#: POA_ERROR_OPERATION_FAILED for a wait that ended while the camera was still exposing.
NOT_YET = frozenset({Err.TIMEOUT, Err.OPERATION_FAILED})


class Prepared(NamedTuple):
    """What :meth:`SingleFrames.prepare_locked` found for the exposure about to start."""

    exposure_s: float  # what the camera took
    readout_s: float  # how long after the exposure its frame may take (the link's allowance)
    temperature_c: float
    gain: int
    offset: int


class SingleFrames:
    """Start, wait for, retry and abort single exposures. ``snap``: single frames in snap mode
    (else one frame of continuous mode each); turns False for good when a snap frame never came."""

    def __init__(self, session: CameraSession, status: CameraStatus, snap: bool) -> None:
        self._s, self._status = session, status
        self.snap = snap

    # -- starting ------------------------------------------------------------------------------
    def start_locked(self, h: SdkCameraHandle, seconds: float, into: memoryview | None) -> None:
        """The exposure of ``start_exposure``, once the camera is known idle (lock held)."""
        s = self._s
        p = self.prepare_locked(h, seconds, need_free_slot=True)
        exp = SingleExposure(s.next_seq(), p.exposure_s, s.roi, s.bits(), p.gain, p.offset,
                             p.temperature_c, p.readout_s)
        if (into is not None and s.format in (ImgFormat.RAW8, ImgFormat.RAW16)
                and not into.readonly and into.nbytes == s.frame_bytes()):
            exp.into = into  # the driver's image payload: the frame's only buffer
        self._start_when_free(h, exp)
        s.exposure = exp

    def prepare_locked(self, h: SdkCameraHandle, seconds: float,
                       need_free_slot: bool) -> Prepared:
        """What a single exposure and a video run both do first (lock held): drop a frame read
        out earlier but never collected, forget the last single exposure, take the flush frame
        after a bin change, set the exposure time. ``need_free_slot``: CameraError when every
        slot of the camera's ring is held (the reader would wait for one until the readout timed
        out); a video run reads into a ring of its own.

        The readout allowance (an SDK call for the bandwidth limit) is worked out here once for
        the exposure: its start, its busy retries, its second attempt and the flush frame use
        it (a bandwidth limit set during the exposure applies from the next one)."""
        s = self._s
        assert s.ring is not None
        s.ring.flush()
        s.exposure = None
        if need_free_slot:
            held = s.ring.counters()
            if held.free_slots == 0:
                raise CameraError(f"all {held.nslots} frame buffers are held: frames were not "
                                  "released")
        readout_s = s.link_allowance_s(h, s.frame_bytes())
        self._flush_after_bin_change(h, readout_s)
        actual = s.set_exposure(h, seconds)
        temp, gain, offset = self._status.frame_meta(h)
        return Prepared(actual, readout_s, temp, gain, offset)

    def _start_when_free(self, h: SdkCameraHandle, exp: SingleExposure) -> None:
        """Start the exposure; a camera answering POA_ERROR_EXPOSING although nothing of ours
        runs is stopped and asked again until it takes the start or START_BUSY_S passed. Two
        causes are known: the camera still finishing the frame just read (sub-second loops on
        a Ceres-M on a Pi 5; the simulated SDK's ``busy_after_frame``), and an abort whose
        POAStopExposure failed (the C reader cannot report it; with ``fail_call`` the next start
        answered POA_ERROR_EXPOSING). The C++ driver tries three times, 100 ms apart. Lock held."""
        deadline = time.monotonic() + START_BUSY_S
        tries = 0
        while True:
            try:
                self._expose(h, exp)
            except SdkError as exc:
                if exc.code != Err.EXPOSING or time.monotonic() >= deadline:
                    if tries:
                        raise CameraError(
                            f"the camera stayed busy with its last frame for {START_BUSY_S:g} s "
                            f"(POAStartExposure: {exc.text}); try the exposure again") from exc
                    raise
                tries += 1
                if tries == 1:
                    h.stop_exposure()
                else:
                    time.sleep(START_BUSY_TICK_S)
                continue
            if tries:
                log.debug("%s: the camera took the exposure after %d busy answers",
                          self._s.info.model, tries)
            return

    def _expose(self, h: SdkCameraHandle, exp: SingleExposure) -> None:
        """Hand the exposure to the C reader, with the readout allowance worked out when it was
        prepared. Its own watchdog is not used (``restarts`` 0): :meth:`wait_frame` decides
        about a second attempt, and how to take it."""
        s = self._s
        hold = h.expose(exp.exposure_s, single=self.snap, restarts=0,
                        readout_ms=round(exp.readout_s * 1000), seq=exp.seq, width=exp.roi.width,
                        height=exp.roi.height, pixfmt=int(s.format), into=exp.into)
        # The C reader was idle before it took this exposure: the previous buffer is free.
        s.reader_buffer = hold
        exp.attempts += 1

    def _flush_after_bin_change(self, h: SdkCameraHandle, readout_s: float) -> None:
        """The flush frame, when the bin changed since the last frame (lock held)."""
        if self._s.flush_pending:  # the first frame after a bin change may be garbage
            self._s.flush_pending = False
            self._flush_frame(h, readout_s)

    def _flush_frame(self, h: SdkCameraHandle, readout_s: float) -> None:
        """One short exposure whose frame is dropped: the first frame after a bin change may be
        garbage (INDI issue #774). Failures are only logged: the real exposure reports its own."""
        s = self._s
        assert s.ring is not None
        try:
            lo = s.info.exposure_range_s[0]
            exp = SingleExposure(s.next_seq(), s.set_exposure(h, max(lo, FLUSH_EXPOSURE_S)),
                                 s.roi, 0, 0, 0, 0.0, readout_s)
            self._expose(h, exp)
            res = h.wait(int(FLUSH_WAIT_S * 1000))
            if res.state in (ReadoutState.EXPOSING, ReadoutState.READING):
                h.abort()
                h.wait(-1)
            s.ring.flush()
            if res.state != ReadoutState.READY:
                log.debug("%s: flush frame after the bin change: %s", s.info.model, res)
        except (CameraError, NativeError) as exc:
            log.debug("%s: flush frame after the bin change failed: %s", s.info.model, exc)

    # -- how long a frame may take -------------------------------------------------------------
    def readout_allowance_s(self) -> float:
        """How long after its exposure a frame of the current settings may take to arrive."""
        with self._s.lock:
            h = self._s.need_open()
            return self._s.link_allowance_s(h, self._s.frame_bytes())

    def frame_wait_s(self) -> float:
        """How long after the end of the exposure started last its frame may take, a second
        attempt included, before the camera counts as not answering (plus a backstop)."""
        with self._s.lock:
            exp = self._s.exposure
            if exp is None:
                return WAIT_BACKSTOP_S
            return ((1 + FRAME_RETRIES) * exp.readout_s + FRAME_RETRIES * exp.exposure_s
                    + WAIT_BACKSTOP_S)

    # -- waiting ---------------------------------------------------------------------------
    def wait_frame(self, timeout: float, cancel: threading.Event | None = None) -> Frame:
        """The frame of the exposure started last, or CameraTimeout after ``timeout`` seconds
        (the exposure goes on). The C reader's allowance for the frame is the watchdog: a frame
        that did not come within it is tried again once (:meth:`_try_again`, whose time is
        added to ``timeout``), then CameraTimeout. :meth:`frame_wait_s` says how long a caller
        must be prepared to wait for all that."""
        s = self._s
        with s.lock:
            h = s.need_open()
            exp, ring = s.exposure, s.ring
            if exp is None:
                raise CameraError("no exposure was started")
        end = time.monotonic() + timeout
        while True:
            if exp.aborted:
                raise ExposureAborted("exposure aborted")
            if cancel is not None and cancel.is_set():
                self.abort_exposure()
                raise ExposureAborted("exposure aborted")
            left = max(0.0, end - time.monotonic())
            step = left if cancel is None else min(left, CANCEL_TICK_S)
            try:
                res = h.wait(int(step * 1000))
            except CameraError:  # the handle was destroyed: the camera was closed meanwhile
                raise ExposureAborted("the camera was closed") from None
            if res.seq != exp.seq:
                raise ExposureAborted("another exposure was started")
            if res.state == ReadoutState.READY:
                assert ring is not None
                return self._collect(exp, res, ring)
            if res.state in (ReadoutState.ABORTED, ReadoutState.IDLE):
                raise ExposureAborted("exposure aborted")
            not_yet = res.state == ReadoutState.TIMED_OUT or (
                res.state == ReadoutState.FAILED and res.func == "POAGetImageData"
                and res.code in NOT_YET)
            if not_yet:
                if exp.attempts <= FRAME_RETRIES:
                    self._try_again(exp, res)
                    end += exp.exposure_s + exp.readout_s
                    continue
                exp.done = True
                raise CameraTimeout(
                    f"{s.info.model}: no image from the camera {exp.readout_s:.1f} s after "
                    f"the {exp.exposure_s:g} s exposure, {exp.attempts} times ({res.func}: "
                    f"{s.sdk.error_text(res.code)}). This is the known 'frame never ready' "
                    "failure: check the USB cable and the camera's power, then try again.")
            if res.state == ReadoutState.FAILED:
                exp.done = True
                if res.func.startswith("POA"):
                    with unplug_said_plainly():
                        raise SdkError(res.func, res.code, s.sdk.error_text(res.code))
                raise CameraError(f"readout failed: {res.func}: {s.sdk.error_text(res.code)}")
            if time.monotonic() >= end:
                raise CameraTimeout(f"no frame within {timeout:g} s")

    def _try_again(self, exp: SingleExposure, res: ReadoutResult) -> None:
        """Start the exposure again after its frame did not come (the reader has stopped it). A
        snap-mode frame that never came switches the camera to single frames in continuous mode
        for the rest of the session, starting with this attempt: the Saturn-C's snap mode loses
        every second frame (indi-3rdparty #824) and INDIGO takes its single frames that way."""
        s = self._s
        with s.lock, unplug_said_plainly(), not_answering_said_plainly(s.info.model):
            h = s.need_open()
            if exp.aborted or s.exposure is not exp:
                raise ExposureAborted("exposure aborted")
            why = f"{res.func}: {s.sdk.error_text(res.code)}" if res.func else "no answer"
            if self.snap:
                self.snap = False
                log.warning("%s: no image %.1f s after the %g s exposure ended (%s); taking it "
                            "again, and single frames from now on in continuous mode (the known "
                            "snap-mode failure; INDIGO's fix)", s.info.model, exp.readout_s,
                            exp.exposure_s, why)
            else:
                log.warning("%s: no image %.1f s after the %g s exposure ended (%s); taking it "
                            "again", s.info.model, exp.readout_s, exp.exposure_s, why)
            assert s.ring is not None
            s.ring.flush()
            self._start_when_free(h, exp)

    def _collect(self, exp: SingleExposure, res: ReadoutResult, ring: FrameRing) -> Frame:
        s = self._s
        with s.lock:
            if exp.aborted or exp.done or s.exposure is not exp:
                raise ExposureAborted("exposure aborted")
            if exp.into is not None:  # read straight into the caller's buffer; the reader is done
                exp.done = True
                s.reader_buffer = None
                return self._direct_frame(exp, res)
            try:
                nf = ring.acquire(timeout=1.0)
            except NativeError as exc:
                raise ExposureAborted(f"the frame was dropped ({exc})") from None
            exp.done = True
            if nf.seq != exp.seq:  # cannot happen: the ring is flushed at every start
                _release(nf)
                raise CameraError(f"frame {nf.seq} arrived for exposure {exp.seq}")
        start = datetime.fromtimestamp(res.start_unix_ns / 1e9, tz=timezone.utc)
        data = nf.array()
        # The slot goes back on release(), or once the array and every view of it are gone (a
        # dropped frame must not pin a slot): numpy views point at the first array of the chain,
        # which keeps the buffer object at its root alive, so the finalizer sits on that root.
        # The ring outlives close() while a frame is held.
        root: Any = data
        while isinstance(root, np.ndarray) and root.base is not None:
            root = root.base
        done = weakref.finalize(root, _release, nf)
        done.atexit = False
        return Frame(data, exp.roi, exp.bits, exp.exposure_s, start, exp.seq, exp.gain,
                     exp.offset, exp.temperature_c, timestamp_ns=res.start_unix_ns,
                     _on_release=lambda _data: done())

    def _direct_frame(self, exp: SingleExposure, res: ReadoutResult) -> Frame:
        """The frame the reader put into ``exp.into``: a view of that buffer (the caller's)."""
        into, exp.into = exp.into, None  # the frame's array keeps the buffer; nothing else here
        assert into is not None
        dtype = np.uint16 if self._s.format == ImgFormat.RAW16 else np.uint8
        data = np.frombuffer(into, dtype=dtype).reshape(exp.roi.height, exp.roi.width)
        start = datetime.fromtimestamp(res.start_unix_ns / 1e9, tz=timezone.utc)
        return Frame(data, exp.roi, exp.bits, exp.exposure_s, start, exp.seq, exp.gain,
                     exp.offset, exp.temperature_c, timestamp_ns=res.start_unix_ns)

    # -- aborting ----------------------------------------------------------------------------
    def abort_exposure(self) -> None:
        s = self._s
        with s.lock:
            h, exp = s.handle, s.exposure
            if h is None or exp is None:
                return
            exp.aborted = True
            h.abort()  # the C reader stops the exposure; the result turns ABORTED at once
            if s.ring is not None:
                s.ring.flush()

    def is_exposing(self) -> bool:
        with self._s.lock:
            return self._s.running()


def _release(nf: Any) -> None:
    """Give a ring slot back; a ring closed meanwhile (camera closed) has freed it already."""
    with contextlib.suppress(NativeError):
        nf.release()
