"""Video mode of a real camera through the vendor SDK (streaming).

The SDK's video mode (``PlayerOneCamera.h``; ``docs/upstream-facts.md`` section 3, row 3.7):
``POAStartExposure(id, FALSE)``, then ``POAGetImageData`` again and again, each call returning
the next finished frame; frames the host did not read in time are lost in the camera and
counted by ``POAGetDroppedImagesCount``. Here the C reader thread of ``native/src/sdk_reader.c`` makes
those calls, straight into the slots of a ring of its own (drop-oldest mode, slots of the video
frame's size), so Python never touches a frame on its way in and a consumer that falls behind
loses the oldest frames in the host buffer (counted by the ring) while the camera keeps being
read. The camera's single-frame ring is put back when video stops.

Frame timestamps are the reader's CLOCK_REALTIME when ``POAGetImageData`` returned, minus the
exposure: the exposure's start, give or take the transfer time, which the SDK does not report.

:class:`VideoMode` is the part of :class:`~.sdk_camera.SdkCamera` that starts, reads and ends
those runs over its :class:`~.sdk_session.CameraSession`; :class:`SdkVideo` is one run.
"""
from __future__ import annotations

import logging
import threading

from ..native import FrameRing, NativeError, RingClosed
from .interface import CameraError, ExposureAborted, Frame, Roi
from .sdk_binding import SdkCameraHandle
from .sdk_exposure import SingleFrames
from .sdk_session import CameraSession
from .sdk_types import UNPLUGGED_TEXT, Err, ReadoutState
from .video_ring import VIDEO_BUFFER_BYTES, VideoRing

__all__ = ["SdkVideo", "VideoMode", "VIDEO_BUFFER_BYTES"]

log = logging.getLogger(__name__)


class SdkVideo:
    """One run of video mode of one camera (created by :meth:`VideoMode.start`); the ring,
    the consumer's wait and the ending are :class:`.video_ring.VideoRing`'s."""

    def __init__(self, handle: SdkCameraHandle, home_ring: FrameRing, roi: Roi, bits: int,
                 pixfmt: int, exposure_s: float, timeout_s: float, first_seq: int,
                 meta: dict[str, float], buffer_bytes: int = VIDEO_BUFFER_BYTES) -> None:
        self._h, self._home, self.roi, self.bits = handle, home_ring, roi, bits
        self.exposure_s, self._meta = exposure_s, meta
        self._vr = VideoRing(roi, bits, buffer_bytes)
        self.ring, self.frame_bytes = self._vr.ring, self._vr.frame_bytes
        try:
            with self.ring._use() as ptr:
                handle.set_ring(ptr)
            handle.video_start(width=roi.width, height=roi.height, pixfmt=pixfmt,
                               first_seq=first_seq, timeout_ms=max(1, round(timeout_s * 1000)),
                               exposure_s=exposure_s)
        except BaseException:
            self._give_back_home_ring()
            self._vr.close_now()
            raise

    def _give_back_home_ring(self) -> None:
        try:
            with self._home._use() as ptr:
                self._h.set_ring(ptr)
        except (CameraError, NativeError) as exc:
            log.debug("putting the single-frame ring back: %s", exc)

    def _check_reader(self) -> None:
        """After an empty wait: the C reader's failure (the SDK's error) ends the wait."""
        st = self._h.video_stats()
        if st["state"] == ReadoutState.FAILED:
            # The unplugged camera in the words the single exposure uses (sdk_camera.py).
            text = (UNPLUGGED_TEXT if st["code"] == Err.DEVICE_NOT_FOUND
                    else self._h.sdk.error_text(st["code"]))
            raise CameraError(f"video readout failed: {st['func']}: {text}")

    def frame(self, timeout: float, cancel: threading.Event | None) -> Frame:
        got = self._vr.acquire(timeout, cancel, on_idle=self._check_reader)
        m = self._meta
        return self._vr.hand_out(got, self.exposure_s, int(m["gain"]), int(m["offset"]),
                                 float(m["temperature"]))

    def running(self) -> bool:
        """Not stopped, and the C reader has not failed."""
        if self._vr.stopped:
            return False
        try:
            return self._h.video_stats()["state"] != ReadoutState.FAILED
        except CameraError:  # the handle is gone: the camera was closed
            return False

    def counters(self) -> dict[str, int]:
        """sent (frames the reader took from the SDK), camera_dropped, timeouts, and the
        ring's received, delivered, host_dropped, corrupt."""
        if self._vr.stopped:
            return self._vr.final()
        return self._read_counters()

    def _read_counters(self) -> dict[str, int]:
        st = self._h.video_stats()
        return {"sent": st["frames"], "camera_dropped": max(0, st["camera_dropped"]),
                "timeouts": st["timeouts"], **self._vr.host_counters()}

    def stop(self) -> None:
        """End video mode, put the single-frame ring back; the video ring is freed once no
        frame is held."""
        if self._vr.stopped:
            return
        try:
            self._h.video_stop()
        finally:
            try:
                final = self._read_counters()
            except (CameraError, NativeError, RingClosed):
                final = {}
            self._give_back_home_ring()
            self._vr.end(final)


class VideoMode:
    """Video mode of one camera: the run going on (or ended by a failure, until stopped) and
    the counters of the last one."""

    def __init__(self, session: CameraSession, single_frames: SingleFrames) -> None:
        self._s, self._single = session, single_frames
        self._run: SdkVideo | None = None
        self._last: dict[str, int] = {}

    def start(self, h: SdkCameraHandle, exposure_s: float, buffer_bytes: int) -> None:
        """The SDK's video mode, read by the C reader into a ring of its own (:class:`SdkVideo`).
        Lock held, no single exposure running."""
        s = self._s
        if self._run is not None:
            if self._run.running():
                raise CameraError("video capture is already running")
            self.end_locked()  # a run that failed (unplug, SDK error): ended now
        p = self._single.prepare_locked(h, exposure_s, need_free_slot=False)
        meta = {"temperature": p.temperature_c, "gain": p.gain, "offset": p.offset}
        assert s.ring is not None
        self._run = SdkVideo(h, s.ring, s.roi, s.bits(), int(s.format), p.exposure_s,
                             p.exposure_s + p.readout_s, s.next_seq(), meta, buffer_bytes)

    def attached(self) -> bool:
        """A run was started and not yet ended (it may have failed since). Lock held."""
        return self._run is not None

    def video_frame(self, timeout: float, cancel: threading.Event | None = None) -> Frame:
        # Without the camera lock: a status read holds it while it waits up to STATUS_LOCK_MS
        # for the SDK lock, which the C reader holds inside POAGetImageData; a temperature and
        # a cooler-power poll stalled the stream worker 0.5 s at a time (issue 19's bench).
        # One attribute read is atomic; a stop or close ends the run, which the wait reports.
        self._s.need_open()
        run = self._run
        if run is None:
            raise ExposureAborted("video capture is not running")
        return run.frame(timeout, cancel)

    def stop_video(self) -> None:
        with self._s.lock:
            self.end_locked()

    def end_locked(self) -> None:
        """Stop video mode (lock held); also for a single exposure started while a stream that
        is ending still holds video mode, and at close."""
        run, self._run = self._run, None
        if run is None:
            return
        try:
            run.stop()
        finally:
            self._last = run.counters()
            self._s.next_seq(self._last.get("sent", 0))

    def end_at_close_locked(self) -> None:
        if self._s.handle is not None:
            try:  # a stream left running: ended first, so a later open starts clean
                self.end_locked()
            except (CameraError, NativeError) as exc:
                log.warning("%s: stopping video at close: %s", self._s.info.model, exc)

    def is_streaming(self) -> bool:
        """True from start_video until stop_video, or until the run failed (its reader
        stopped on an SDK error, e.g. an unplug)."""
        with self._s.lock:
            run = self._run
        return run is not None and run.running()

    def video_counters(self) -> dict[str, int]:
        """The current (or last) video run's counters: sent, camera_dropped (the SDK's
        POAGetDroppedImagesCount), timeouts, received, delivered, host_dropped, corrupt, and
        the host buffer's ready and free_slots. Without the camera lock, as :meth:`video_frame`."""
        run = self._run
        if run is None:
            return dict(self._last)
        try:
            return run.counters()
        except (CameraError, NativeError):
            return {}
