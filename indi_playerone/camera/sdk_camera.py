"""A real Player One camera through the vendor SDK: the :class:`CameraBackend` for USB cameras.

:class:`SdkCamera` is a facade over parts, as libindi composes its StreamManager into
INDI::CCD (and as ``ccd/device.py`` composes the driver's device):

===================  ===============================================================
`CameraSession`      handle, lock, ring, configs, region and format, the exposure in
                     the camera, the settings remembered for a reopen (sdk_session.py)
`CameraStatus`       temperature, cooler power, the cooler (sdk_status.py)
`SingleFrames`       start, wait, retry, abort a single exposure; the flush frame
                     after a bin change; direct readout into the caller's buffer
                     (sdk_exposure.py)
`VideoMode`          video runs (sdk_video.py)
`SdkCapabilities`    configs by ID, controls by name, gain, offset, ST4, presets,
                     sensor modes, flips, dead pixel suppression, the stored name
                     (sdk_controls.py)
`UsbRecovery`        USB reset and reopen with the session's settings (sdk_recovery.py)
===================  ===============================================================

The parts share only the session, passed to each; one part uses another only where it is
given it (video starts with the single frames' flush frame and the status reads' metadata).
Most of the camera's methods are a part's method as it is (:class:`_PartMethod`); the methods
written here are the ones that order steps of several parts (close, start_exposure,
start_video).

Threads and locks:

* every SDK call of a camera runs under that camera's one C lock (``native/src/sdk_camera.c``);
  the session adds one Python lock for the camera's state (:attr:`CameraSession.lock`), never
  held while waiting for a frame;
* the frame is read by a C thread that sleeps through the exposure, then calls
  ``POAGetImageData`` straight into a slot of the camera's frame ring, with the SDK's
  recommended timeout, exposure + 500 ms, counted from the exposure's start, plus the frame's
  transfer time over this camera's link at its bandwidth limit, with margin
  (:func:`.sdk_link.readout_allowance_s`). Python waits on a condition in C: nobody polls
  ``POAImageReady`` (:mod:`.sdk_exposure`).

Each part's docstring lists the SDK's documented hazards and the field reports it handles
(``docs/upstream-facts.md`` sections 3 and 7).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from .interface import CameraBackend, CameraError, CameraInfo, Roi
from .sdk_binding import SdkLibrary
from .sdk_controls import SdkCapabilities
from .sdk_exposure import VIDEO_SINGLE_FRAME_MODELS, SingleFrames
from .sdk_recovery import UsbRecovery, UsbReset, not_answering_said_plainly
from .sdk_session import CameraSession, unplug_said_plainly
from .sdk_status import CameraStatus
from .sdk_types import CameraProps, base_model
from .sdk_video import VIDEO_BUFFER_BYTES, VideoMode

__all__ = ["SdkCamera", "VIDEO_SINGLE_FRAME_MODELS"]

log = logging.getLogger(__name__)


class _PartMethod:
    """``name = _PartMethod("part", Part.name)`` in :class:`SdkCamera`: the camera's method
    ``name`` is the method of the same name of its part ``self.part``, called as it is (the
    part's signature and docstring are the method's). A subclass may still override it."""

    def __init__(self, part: str, func: Callable[..., Any]) -> None:
        self.part, self.func = part, func
        self.__doc__ = func.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        if name != self.func.__name__:
            raise TypeError(f"{owner.__name__}.{name} cannot be {self.func.__qualname__}")

    def __get__(self, obj: object | None, owner: type | None = None) -> Callable[..., Any]:
        if obj is None:  # on the class: the part's function (its signature, its docstring)
            return self.func
        return getattr(getattr(obj, self.part), self.func.__name__)


class SdkCamera(CameraBackend):
    """One camera of the vendor SDK. ``single_frame_mode`` "snap" or "video" overrides the
    per-model choice of :data:`VIDEO_SINGLE_FRAME_MODELS`; ``usb_reset`` replaces the USB
    device reset of :meth:`recover` (default: :func:`.sdk_recovery.default_usb_reset`)."""

    def __init__(self, sdk: SdkLibrary, props: CameraProps, *,
                 single_frame_mode: str | None = None, usb_reset: UsbReset | None = None) -> None:
        if single_frame_mode not in (None, "snap", "video"):
            raise ValueError(f"single_frame_mode must be 'snap' or 'video', not {single_frame_mode!r}")
        snap = (single_frame_mode == "snap" if single_frame_mode
                else base_model(props.model) not in VIDEO_SINGLE_FRAME_MODELS)
        self.session = CameraSession(sdk, props)
        self.status = CameraStatus(self.session)
        self.single_frames = SingleFrames(self.session, self.status, snap)
        self.video_mode = VideoMode(self.session, self.single_frames)
        self.capabilities = SdkCapabilities(self.session, self.video_mode.attached)
        self.recovery = UsbRecovery(self.session, self._close_locked, usb_reset)
        #: The host buffer of a video run in bytes, set by the driver before start_video
        #: (LIMITS_BUFFER_MAX); None: :data:`.video_ring.VIDEO_BUFFER_BYTES`.
        self.video_buffer_bytes: int | None = None

    def __repr__(self) -> str:
        return f"SdkCamera({self.info.model!r}, id={self.props.camera_id}, serial={self.info.serial!r})"

    @property
    def sdk(self) -> SdkLibrary:
        return self.session.sdk

    @property
    def props(self) -> CameraProps:
        """The SDK's properties of the camera (read again at open and after a name change)."""
        return self.session.props

    @property
    def info(self) -> CameraInfo:  # type: ignore[override]
        """What the camera is and can do (its ranges read again at open)."""
        return self.session.info

    @info.setter
    def info(self, info: CameraInfo) -> None:
        self.session.info = info

    @property
    def snap(self) -> bool:
        """Single frames in snap mode (else one frame of continuous mode each)."""
        return self.single_frames.snap

    # -- lifecycle ---------------------------------------------------------------------------
    open = _PartMethod("session", CameraSession.open)

    def close(self) -> None:
        with self.session.lock:
            self._close_locked()

    def _close_locked(self) -> None:
        self.video_mode.end_at_close_locked()
        self.session.close_locked()

    recover = _PartMethod("recovery", UsbRecovery.recover)

    # -- geometry and format -------------------------------------------------------------------
    set_roi = _PartMethod("session", CameraSession.set_roi)
    set_format = _PartMethod("session", CameraSession.set_format)

    def roi(self) -> Roi:
        with self.session.lock:
            self.session.need_open()
            return self.session.roi

    def format(self) -> int:
        with self.session.lock:
            self.session.need_open()
            return self.session.bits()

    # -- single exposures ----------------------------------------------------------------------
    def start_exposure(self, seconds: float, into: memoryview | None = None) -> None:
        s = self.session
        s.check_exposure(seconds)
        with s.lock, unplug_said_plainly(), not_answering_said_plainly(self.info.model):
            h = s.need_open()
            if s.running():
                raise CameraError("an exposure is already in progress")
            if self.video_mode.attached():
                # A stream that is ending (STREAM_OFF answered, its worker not yet out of
                # video_frame) still holds video mode. Starting a single frame now deadlocked
                # (measured, tests/system/test_reliability_injected.py: the C reader stays busy with
                # video while the stream worker waits for this lock), so stop the video here;
                # the worker then gets "video capture is not running" and ends.
                log.info("%s: stopping the video mode a stream left running", self.info.model)
                self.video_mode.end_locked()
            self.single_frames.start_locked(h, seconds, into)

    wait_frame = _PartMethod("single_frames", SingleFrames.wait_frame)
    abort_exposure = _PartMethod("single_frames", SingleFrames.abort_exposure)
    # Not in CameraBackend (the driver never asks; the camera's own tests do):
    is_exposing = _PartMethod("single_frames", SingleFrames.is_exposing)
    readout_allowance_s = _PartMethod("single_frames", SingleFrames.readout_allowance_s)
    frame_wait_s = _PartMethod("single_frames", SingleFrames.frame_wait_s)

    # -- video mode ----------------------------------------------------------------------------
    def start_video(self, exposure_s: float) -> None:
        """The SDK's video mode, read by the C reader into a ring of its own (:mod:`.sdk_video`)."""
        s = self.session
        s.check_exposure(exposure_s)
        with s.lock:
            h = s.need_open()
            if s.running():
                raise CameraError("an exposure is in progress; abort it before starting video")
            self.video_mode.start(h, exposure_s, self.video_buffer_bytes or VIDEO_BUFFER_BYTES)

    video_frame = _PartMethod("video_mode", VideoMode.video_frame)
    stop_video = _PartMethod("video_mode", VideoMode.stop_video)
    is_streaming = _PartMethod("video_mode", VideoMode.is_streaming)
    video_counters = _PartMethod("video_mode", VideoMode.video_counters)

    # -- status and cooler ---------------------------------------------------------------------
    temperature = _PartMethod("status", CameraStatus.temperature)
    cooler_power = _PartMethod("status", CameraStatus.cooler_power)
    set_cooler = _PartMethod("status", CameraStatus.set_cooler)

    # -- configs, controls and the other capabilities ------------------------------------------
    set_config = _PartMethod("capabilities", SdkCapabilities.set_config)
    config = _PartMethod("capabilities", SdkCapabilities.config)
    configs = _PartMethod("capabilities", SdkCapabilities.configs)
    set_gain = _PartMethod("capabilities", SdkCapabilities.set_gain)
    gain = _PartMethod("capabilities", SdkCapabilities.gain)
    set_offset = _PartMethod("capabilities", SdkCapabilities.set_offset)
    offset = _PartMethod("capabilities", SdkCapabilities.offset)
    guide = _PartMethod("capabilities", SdkCapabilities.guide)
    controls = _PartMethod("capabilities", SdkCapabilities.controls)
    get_control = _PartMethod("capabilities", SdkCapabilities.get_control)
    set_control = _PartMethod("capabilities", SdkCapabilities.set_control)
    sdk_presets = _PartMethod("capabilities", SdkCapabilities.sdk_presets)
    gain_presets = _PartMethod("capabilities", SdkCapabilities.gain_presets)
    sdk_sensor_modes = _PartMethod("capabilities", SdkCapabilities.sdk_sensor_modes)
    sensor_modes = _PartMethod("capabilities", SdkCapabilities.sensor_modes)
    sensor_mode = _PartMethod("capabilities", SdkCapabilities.sensor_mode)
    set_sensor_mode = _PartMethod("capabilities", SdkCapabilities.set_sensor_mode)
    can_flip = _PartMethod("capabilities", SdkCapabilities.can_flip)
    flip = _PartMethod("capabilities", SdkCapabilities.flip)
    set_flip = _PartMethod("capabilities", SdkCapabilities.set_flip)
    # Not in CameraBackend (the driver reads video_counters):
    dropped_frames = _PartMethod("capabilities", SdkCapabilities.dropped_frames)
    can_suppress_dead_pixels = _PartMethod("capabilities", SdkCapabilities.can_suppress_dead_pixels)
    set_dead_pixel_suppression = _PartMethod("capabilities",
                                             SdkCapabilities.set_dead_pixel_suppression)
    custom_id = _PartMethod("capabilities", SdkCapabilities.custom_id)
    set_custom_id = _PartMethod("capabilities", SdkCapabilities.set_custom_id)
    usb_link = _PartMethod("capabilities", SdkCapabilities.usb_link)
    sdk_version = _PartMethod("capabilities", SdkCapabilities.sdk_version)
