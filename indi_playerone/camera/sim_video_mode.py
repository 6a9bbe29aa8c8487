"""Video mode of the simulated camera, the camera's side (a mixin of
:class:`~indi_playerone.camera.simulator.SimulatedCamera`, kept apart so each module stays small):
starting a run with the settings a single exposure would get, handing its frames out with the
fault file and ``unplug_after`` applied as for single frames, stopping it and keeping its
counters. The capture itself (sensor schedule, the camera's DDR buffer, the link) is
:mod:`.sim_video`.
"""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from .interface import CameraError, ExposureAborted, Frame
from .sim_video import VIDEO_BUFFER_BYTES, SimVideo, video_period_s

if TYPE_CHECKING:
    from .simulator import SimulatedCamera

__all__ = ["SimVideoMode"]


class SimVideoMode:
    """Mixin: needs the camera's ``_lock``, ``_open``, ``_need_open``, ``_exp``, ``_seq``,
    ``_ddr``, ``_dropped``, ``_controls``, ``_synth``, ``_frame_settings``,
    ``_guide_shift_now``, ``_poll_faults``, ``_frame_delivered``, ``_unplug``."""

    _video: SimVideo | None = None
    _video_last: dict[str, int] = {}

    def start_video(self: SimulatedCamera, exposure_s: float) -> None:
        """Continuous capture at the single-frame readout's rate (see :mod:`.sim_video`), with
        the settings a single exposure would get (flip, sensor mode, PixelBinSum, guiding)."""
        lo, hi = self.info.exposure_range_s
        if not lo <= exposure_s <= hi:  # also refuses NaN
            raise CameraError(f"exposure {exposure_s} s outside {lo:g}..{hi:g} s")
        try:  # the FrameRateLimit control (0 = none), taken outside the lock it takes
            fps_limit = float(self.get_control("FrameRateLimit")[0])
        except CameraError:
            fps_limit = 0.0
        self._poll_faults()
        with self._lock:
            self._need_open()
            old = getattr(self, "_video", None)
            if old is not None and not old.running:  # ended by a close() while streaming
                self._video = None
        if old is not None and not old.running:
            old.stop()  # outside the lock: the producer takes it for the frame buffer
        with self._lock:
            self._need_open()
            if self._exp is not None and self._exp.state == "exposing":
                raise CameraError("an exposure is in progress; abort it before starting video")
            if getattr(self, "_video", None) is not None:
                raise CameraError("video capture is already running")
            settings = self._frame_settings(float(exposure_s))
            period = video_period_s(
                self.spec, settings, fps_limit, usb3=self.info.usb3,
                bandwidth_pct=self._controls.values["USBBandWidthLimit"])
            self._seq += 1
            video = SimVideo(self.spec, self._synth, self.info.serial, settings, self._seq,
                             lambda: self._open,
                             getattr(self, "video_buffer_bytes", None) or VIDEO_BUFFER_BYTES,
                             period_s=period, ddr=self._ddr, ddr_lock=self._lock,
                             star_shift=self._video_star_shift)
            self._video = video
        video.start()

    def _video_star_shift(self: SimulatedCamera) -> tuple[float, float]:
        with self._lock:
            return self._guide_shift_now()

    def video_frame(self: SimulatedCamera, timeout: float, cancel: threading.Event | None = None) -> Frame:
        """The next video frame; the fault file is read as by the other calls (and between
        empty waits), and ``unplug_after`` counts video frames as it counts single ones."""
        self._poll_faults()
        with self._lock:
            self._need_open()
            video = getattr(self, "_video", None)
            if video is None:
                raise ExposureAborted("video capture is not running")
            gain, offset = self._gain, self._offset
        frame = video.frame(timeout, cancel, gain, offset, on_idle=self._poll_faults)
        if self._frame_delivered():  # unplug_after: this was the last frame before the unplug
            self._unplug()
        return frame

    def stop_video(self: SimulatedCamera) -> None:
        self._stop_video()

    def _stop_video(self: SimulatedCamera, error: str = "") -> None:
        """Stop video; ``error`` (an unplug) is what a waiting ``video_frame`` raises."""
        with self._lock:
            video, self._video = getattr(self, "_video", None), None
        if video is not None:
            video.stop(error)
            last = video.counters()
            with self._lock:
                self._seq += max(video.frames_made, video.frames_sent)
                self._video_last = last
                # The host ring's losses stay in dropped_frames() once the run is over (the
                # camera's own are in the frame buffer's count already).
                self._dropped += int(last.get("host_dropped", 0))

    def is_streaming(self: SimulatedCamera) -> bool:
        with self._lock:
            return getattr(self, "_video", None) is not None

    def video_counters(self: SimulatedCamera) -> dict[str, int]:
        """The current (or last) video run's counters: sent, camera_dropped, received,
        delivered, host_dropped, corrupt (see :meth:`.sim_video.SimVideo.counters`)."""
        with self._lock:
            video = getattr(self, "_video", None)
            if video is None:
                return dict(getattr(self, "_video_last", {}))
        return video.counters()
