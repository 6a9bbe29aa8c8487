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
"""
from __future__ import annotations

import logging
import threading

from ..native import FrameRing, NativeError, RingClosed
from .interface import CameraError, Frame, Roi
from .sdk_binding import SdkCameraHandle
from .sdk_types import UNPLUGGED_TEXT, Err, ReadoutState
from .video_ring import VIDEO_BUFFER_BYTES, VideoRing

__all__ = ["SdkVideo", "VIDEO_BUFFER_BYTES"]

log = logging.getLogger(__name__)


class SdkVideo:
    """One run of video mode of one camera (created by ``SdkCamera.start_video``); the ring,
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
