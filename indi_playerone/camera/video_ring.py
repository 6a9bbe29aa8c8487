"""The host buffer of one video run of the SDK backend's video mode.

Video frames go into a :class:`~indi_playerone.native.FrameRing` of their own:
slots of the video frame's size (not the sensor's 16-bit maximum), as many as ``buffer_bytes``
holds (at least :data:`MIN_SLOTS`), in drop-oldest mode, so a consumer that falls behind loses
the oldest unread frame (counted by the ring as ``dropped``: frames lost *in the host buffer*)
while the camera keeps being read. Here: allocating the ring, the consumer's wait (in slices, so a cancel Event, a stop and a failure are seen
promptly), handing a frame out as a zero-copy view whose release gives the slot back, the
ring's counters, and the ending: ``end()`` refuses further input and wakes the consumer, and
the ring is freed only once no frame is held (a frame still in the driver's hands must stay
valid after video stops).
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone

import numpy as np

from indi_playerone.native import Frame as RingFrame, FrameRing, NativeError, RingClosed, RingTimeout

from .interface import CameraError, CameraTimeout, ExposureAborted, Frame, Roi

__all__ = ["VideoRing", "VIDEO_BUFFER_BYTES", "MIN_SLOTS", "WAIT_SLICE_S", "frame_bytes"]

#: The host buffer for video frames (libindi's LIMITS_BUFFER_MAX default is 512 MB; half of it
#: holds 4 full Zeus 8-bit frames and 140 Apollo-M MAX ones). Allocated once per run, touched
#: only as frames arrive.
VIDEO_BUFFER_BYTES = 256 << 20
#: Fewer slots than this and a consumer holding one frame while taking the next would starve
#: the producer at once.
MIN_SLOTS = 3
#: The consumer waits in slices this long, so a cancel Event, a stop and a failure are seen.
WAIT_SLICE_S = 0.05

#: Names of the ring's counters in the backends' ``counters()`` dicts.
HOST_COUNTERS = ("received", "delivered", "host_dropped", "corrupt")


def frame_bytes(roi: Roi, bits: int) -> int:
    """Bytes of one frame of ``roi`` at ``bits`` per pixel (8 or 16)."""
    return roi.width * roi.height * (2 if bits == 16 else 1)


class VideoRing:
    """The ring of one video run, its counters and its two-step ending (stop, then free).

    Threads: one producer (the C reader) pushes; any one consumer
    calls :meth:`acquire`; frames are released from any thread; :meth:`end` from any thread.
    """

    def __init__(self, roi: Roi, bits: int, buffer_bytes: int = VIDEO_BUFFER_BYTES) -> None:
        self.roi, self.bits = roi, bits
        self.frame_bytes = frame_bytes(roi, bits)
        slot = (self.frame_bytes + 63) & ~63
        try:
            self.ring = FrameRing(self.frame_bytes, max(buffer_bytes, MIN_SLOTS * slot),
                                  mode="drop_oldest")
        except NativeError as err:
            raise CameraError(f"cannot allocate the video buffers: {err}") from err
        self._lock = threading.Lock()
        self._stopped = False
        self._closed = False
        self._final: dict[str, int] = {}  # the run's counters when it ended

    # -- consumer ------------------------------------------------------------------------------
    def acquire(self, timeout: float, cancel: threading.Event | None,
                on_idle: Callable[[], None] | None = None,
                closed_error: Callable[[], str] | None = None) -> RingFrame:
        """The next frame. ``on_idle`` runs after each empty wait slice (it may raise: the
        SDK's failed readout); when the ring was ended,
        ``closed_error()`` names why (a :class:`CameraError`) or "" for a plain stop
        (:class:`ExposureAborted`)."""
        end = time.monotonic() + timeout
        while True:
            if cancel is not None and cancel.is_set():
                raise ExposureAborted("video capture cancelled")
            left = end - time.monotonic()
            if left <= 0:
                raise CameraTimeout(f"no video frame within {timeout:g} s")
            try:
                return self.ring.acquire(min(left, WAIT_SLICE_S))
            except RingTimeout:
                pass
            except RingClosed:
                error = closed_error() if closed_error is not None else ""
                if error:
                    raise CameraError(error) from None
                raise ExposureAborted("video capture stopped") from None
            if on_idle is not None:
                on_idle()

    def hand_out(self, got: RingFrame, exposure_s: float, gain: int, offset: int,
                 temperature_c: float) -> Frame:
        """``got`` as a :class:`Frame` viewing its slot; its release gives the slot back and
        frees the ring when the run has ended and this was the last frame held."""
        dtype = np.uint16 if self.bits == 16 else np.uint8
        data = np.frombuffer(got.data, dtype=dtype).reshape(self.roi.height, self.roi.width)
        start = datetime.fromtimestamp(got.timestamp_ns / 1e9, tz=timezone.utc)

        def release(_data: object) -> None:
            try:
                got.release()
            except NativeError:  # the ring was closed meanwhile: the slot is gone already
                pass
            self._close_if_idle()

        return Frame(data, self.roi, self.bits, exposure_s, start, got.seq, gain, offset,
                     temperature_c, timestamp_ns=got.timestamp_ns, _on_release=release)

    # -- producer ------------------------------------------------------------------------------
    def link_free(self) -> bool:
        """True when a pushed frame has a slot: a free one, or a ready one to drop. False when
        the consumer holds every slot (the ring would refuse the frame: the link stalls)."""
        c = self.ring.counters()
        return c.free_slots > 0 or c.ready > 0

    # -- counters ------------------------------------------------------------------------------
    def host_counters(self) -> dict[str, int]:
        """The ring's received, delivered, host_dropped (drop-oldest) and corrupt counts, and
        its fill now: ready (frames waiting for the consumer), free_slots."""
        c = self.ring.counters()
        return {"received": c.received, "delivered": c.delivered, "host_dropped": c.dropped,
                "corrupt": c.corrupt, "ready": c.ready, "free_slots": c.free_slots}

    @property
    def stopped(self) -> bool:
        with self._lock:
            return self._stopped

    def final(self) -> dict[str, int]:
        """The counters given to :meth:`end`."""
        with self._lock:
            return dict(self._final)

    # -- lifetime ------------------------------------------------------------------------------
    def end(self, final: dict[str, int]) -> None:
        """The run is over (``final``: its counters, kept): refuse further frames, wake the
        consumer; the slots are freed now, or when the last held frame is released."""
        with self._lock:
            self._stopped = True
            self._final = dict(final)
        self.ring.shutdown()
        self._close_if_idle()

    def close_now(self) -> None:
        """Free the ring at once (a run that never started: nothing was handed out)."""
        with self._lock:
            self._stopped = self._closed = True
        self.ring.close()

    def _close_if_idle(self) -> None:
        with self._lock:
            if not self._stopped or self._closed:
                return
            try:
                if self.ring.counters().held:
                    return
            except RingClosed:
                pass
            self._closed = True
        self.ring.close()
