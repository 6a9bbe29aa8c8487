"""A real Player One camera through the vendor SDK: the :class:`CameraBackend` for USB cameras.

Threads and locks:

* every SDK call of a camera runs under that camera's one C lock (``native/src/sdk_camera.c``);
  this class adds one Python lock for its own state, never held while waiting for a frame;
* the frame is read by a C thread that sleeps through the exposure, then calls
  ``POAGetImageData`` straight into a slot of the camera's frame ring, with the SDK's
  recommended timeout, exposure + 500 ms, counted from the exposure's start, plus the frame's
  transfer time over this camera's link at its bandwidth limit, with margin
  (:func:`.sdk_link.readout_allowance_s`). Python waits on a condition in C: nobody polls
  ``POAImageReady``.

Behaviour taken from the SDK's documented hazards and the field reports
(``docs/upstream-facts.md`` sections 3 and 7), each with its reason:

* the exposure is stopped before a bin, size, format or sensor-mode change (the SDK wants
  it stopped, and the SDK changelog 3.4.1 lists crashes when the format changes mid-stream);
* bin is set before size (INDI issue #774: bin 2 after size gave a first frame filled only in
  its top band), then size, then start position, and all three are read back because
  ``POASetImageBin`` resets size and start and ``POASetImageSize`` rounds silently;
* the first frame after a bin change is thrown away by a short flush exposure (the same
  issue: that frame can be garbage), so the user's exposure is never the bad one;
* a frame that does not come within the allowance (INDI issues #1165 and #1328: the C++ driver
  hangs for ever) is tried once more, then :class:`CameraTimeout`; a snap-mode frame that never
  came switches the camera to single frames in continuous (video) mode for the rest of the
  session (the Saturn-C report, indi-3rdparty #824, and INDIGO's fix for it), and the second
  attempt is already taken that way (:meth:`SdkCamera.wait_frame`);
* ``POAStartExposure`` answering ``POA_ERROR_EXPOSING`` just after a frame (sub-second loops,
  a Ceres-M on a Pi 5) is asked again for up to :data:`START_BUSY_S`;
* config values are read through the union member of their value type (issue #684: a FLOAT
  config read as an integer gives garbage);
* every setting made through this class is remembered, so a camera reopened after a USB reset
  gets them back (:meth:`SdkCamera.recover`).
"""
from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
import time
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import numpy as np

from ..native import FrameRing, NativeError
from .interface import CameraBackend, CameraError, CameraTimeout, ExposureAborted, Frame, Roi
from .models import EXPOSURE_RANGE_S, GAIN_RANGE, OFFSET_RANGE, find_model
from .sdk_binding import SdkCameraHandle, SdkLibrary
from .sdk_controls import SdkCapabilitiesMixin
from .sdk_link import readout_allowance_s
from .sdk_recovery import SdkRecoveryMixin, UsbReset, not_answering_said_plainly
from .sdk_types import (
    BITS_FORMAT, EBUSY, FORMAT_BITS, CameraProps, Config, ConfigAttr, ConfigValue, Err, ImgFormat,
    UNPLUGGED_TEXT, ReadoutResult, ReadoutState, SdkError, ValueType, base_model, sdk_camera_info,
)

__all__ = ["SdkCamera", "VIDEO_SINGLE_FRAME_MODELS"]

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
#: Status reads (temperature, cooler power) wait at most this long for the camera lock and
#: otherwise return the last value: a readout holds the lock and must not stall the 1 s poll.
STATUS_LOCK_MS = 250
#: Sensor temperatures outside this range are no reading (NaN fails the test too).
PLAUSIBLE_TEMP_C = (-80.0, 90.0)
#: A caller's cancel Event is checked at this tick while waiting in C (a sleep, not a spin).
CANCEL_TICK_S = 0.02
#: The flush exposure after a bin change: short, and waited for at most this long.
FLUSH_EXPOSURE_S = 0.001
FLUSH_WAIT_S = 10.0
#: What ``POAGetImageData`` answers for a frame that has not come: a timeout, or (SDK 3.10.1)
#: POA_ERROR_OPERATION_FAILED for a wait that ended while the camera was still exposing.
NOT_YET = frozenset({Err.TIMEOUT, Err.OPERATION_FAILED})


@dataclass
class _Exposure:
    seq: int
    exposure_s: float
    roi: Roi
    bits: int
    gain: int
    offset: int
    temperature_c: float
    readout_s: float = 0.0
    attempts: int = 0  # starts made for this exposure
    aborted: bool = False
    done: bool = False
    #: The caller's buffer the frame is read straight into (start_exposure's ``into``).
    into: memoryview | None = None


class SdkCamera(SdkCapabilitiesMixin, SdkRecoveryMixin, CameraBackend):
    """One camera of the vendor SDK. ``single_frame_mode`` "snap" or "video" overrides the
    per-model choice of :data:`VIDEO_SINGLE_FRAME_MODELS`; ``usb_reset`` replaces the USB
    device reset of :meth:`recover` (default: :func:`.sdk_recovery.default_usb_reset`)."""

    def __init__(self, sdk: SdkLibrary, props: CameraProps, *,
                 single_frame_mode: str | None = None, usb_reset: UsbReset | None = None) -> None:
        self.sdk, self.props = sdk, props
        self.info = sdk_camera_info(props)
        if single_frame_mode not in (None, "snap", "video"):
            raise ValueError(f"single_frame_mode must be 'snap' or 'video', not {single_frame_mode!r}")
        self.snap = (single_frame_mode == "snap" if single_frame_mode
                     else base_model(props.model) not in VIDEO_SINGLE_FRAME_MODELS)
        self._lock = threading.Lock()
        self._handle: SdkCameraHandle | None = None
        self._ring: FrameRing | None = None
        self._attrs: dict[int, ConfigAttr] = {}
        self._roi = Roi(0, 0, props.max_width, props.max_height, 1)
        self._format = ImgFormat.RAW16
        self._exp: _Exposure | None = None
        self._seq = 0
        # The buffer of the last direct readout (start_exposure's into), kept mapped until the
        # C reader is certainly done with it: an aborted readout may still be writing.
        self._dst_hold: Any = None
        self._flush_pending = False
        self._last_temp = float("nan")
        self._last_power = 0.0
        #: What this session set, by POAConfig ID (value, auto), and the sensor mode: a camera
        #: reopened after a USB reset gets them back (sdk_recovery.py).
        self._settings: dict[int, tuple[ConfigValue, bool]] = {}
        self._sensor_mode: int | None = None
        self._dps: bool | None = None  # set this session (None: the SDK's, on after open)
        self._usb_reset: UsbReset | None = usb_reset

    def __repr__(self) -> str:
        return f"SdkCamera({self.info.model!r}, id={self.props.camera_id}, serial={self.info.serial!r})"

    # -- lifecycle ---------------------------------------------------------------------------
    def open(self) -> None:
        with self._lock:
            if self._handle is not None:
                return
            self._open_locked()
            self._settings.clear()  # a new session: the driver sets what it wants again
            self._dps = None

    def _open_locked(self) -> None:
        h = self.sdk.camera(self.props.camera_id)
        try:
            h.open()
            try:
                h.init()
                self._setup(h)
            except BaseException:
                with contextlib.suppress(CameraError):
                    h.close()
                raise
        except BaseException:
            self._drop_ring()
            h.destroy()
            raise
        self._handle = h

    def _setup(self, h: SdkCameraHandle) -> None:
        """After Open+Init: configs, ranges, serial, the ring, a stopped camera at full frame."""
        self._attrs = {}
        for i in range(h.configs_count()):
            a = h.config_attr(i)
            self._attrs[a.config_id] = a
        props = h.props()
        self.props = props
        info = sdk_camera_info(props, self._int_range(Config.GAIN, GAIN_RANGE),
                               self._int_range(Config.OFFSET, OFFSET_RANGE), self._exposure_range())
        # The serial is only filled while the camera is open (the C++ driver opens each
        # camera at enumeration for it); keep the one discovery found if this one is empty.
        self.info = dataclasses.replace(info, serial=props.serial or self.info.serial)
        slot = props.max_width * props.max_height * 2
        self._ring = FrameRing(slot, max_slots=2)
        with self._ring._use() as ring_ptr:
            h.set_ring(ring_ptr)
        h.stop_exposure()
        fmt = ImgFormat.RAW16 if ImgFormat.RAW16 in props.formats else ImgFormat.RAW8
        h.set_format(fmt)
        self._format = h.format()
        self._exp, self._flush_pending = None, False
        self._apply_roi(h, 0, 0, props.max_width, props.max_height, 1)

    def _int_range(self, cid: Config, fallback: tuple[int, int]) -> tuple[int, int]:
        a = self._attrs.get(cid)
        return (int(a.min), int(a.max)) if a is not None else fallback

    def _exposure_range(self) -> tuple[float, float]:
        a = self._attrs.get(Config.EXP)
        if a is not None:
            return float(a.min), float(a.max)
        a = self._attrs.get(Config.EXPOSURE)
        if a is not None:  # SDKs before 3.8.0: microseconds
            return int(a.min) / 1e6, int(a.max) / 1e6
        return EXPOSURE_RANGE_S

    def close(self) -> None:
        with self._lock:
            self._close_locked()

    def _close_locked(self) -> None:
        if self._handle is not None:
            try:  # a stream left running: ended first, so a later open starts clean
                self._end_video_locked()
            except (CameraError, NativeError) as exc:
                log.warning("%s: stopping video at close: %s", self.info.model, exc)
        h, self._handle = self._handle, None
        if h is None:
            return
        if self._ring is not None:
            self._ring.shutdown()  # a reader waiting for a free slot gives up
        try:
            h.close()  # aborts the readout (the C reader stops the exposure), then closes
        except CameraError as exc:
            log.warning("%s: closing: %s", self.info.model, exc)
        finally:
            h.destroy()  # joins the reader: a direct readout's buffer is free after it
            self._dst_hold = None
            self._drop_ring()
            self._exp = None

    def _drop_ring(self) -> None:
        ring, self._ring = self._ring, None
        if ring is not None:
            ring.close()

    def _need_open(self) -> SdkCameraHandle:
        if self._handle is None:
            raise CameraError(f"{self.info.model} ({self.info.serial}) is not connected")
        return self._handle

    def _running(self) -> bool:
        """An exposure of ours is in the camera (not finished, not aborted). Lock held."""
        exp, h = self._exp, self._handle
        if exp is None or exp.aborted or exp.done or h is None:
            return False
        return h.wait(0).state in (ReadoutState.EXPOSING, ReadoutState.READING)

    def _need_idle(self, what: str) -> SdkCameraHandle:
        h = self._need_open()
        if self._running():
            raise CameraError(f"cannot change {what} while an exposure is in progress")
        return h

    # -- geometry and format -------------------------------------------------------------------
    def set_roi(self, x: int, y: int, width: int, height: int, bin: int) -> Roi:
        if bin not in self.info.bins:
            raise CameraError(f"bin {bin} not supported (supported: {self.info.bins})")
        if width <= 0 or height <= 0:
            raise CameraError(f"empty ROI {width}x{height}")
        with self._lock:
            h = self._need_idle("the ROI")
            return self._apply_roi(h, x, y, width, height, bin)

    def _apply_roi(self, h: SdkCameraHandle, x: int, y: int, width: int, height: int, b: int) -> Roi:
        max_w, max_h = self.info.width // b, self.info.height // b
        w, h_ = min(width, max_w), min(height, max_h)
        w, h_ = w - w % 4, h_ - h_ % 2
        if w == 0 or h_ == 0:
            raise CameraError(f"ROI {width}x{height} is empty after rounding to 4x2 pixels")
        x, y = min(max(0, x), max_w - w), min(max(0, y), max_h - h_)
        h.stop_exposure()
        if h.bin() != b:
            h.set_bin(b)
            self._flush_pending = True
        h.set_size(w, h_)
        h.set_start(x, y)
        rb, (rw, rh), (rx, ry) = h.bin(), h.size(), h.start()
        self._roi = Roi(rx, ry, rw, rh, rb)
        if (rw, rh, rb) != (w, h_, b):
            log.warning("%s: asked for %dx%d bin %d, the SDK applied %dx%d bin %d",
                        self.info.model, w, h_, b, rw, rh, rb)
        return self._roi

    def roi(self) -> Roi:
        with self._lock:
            self._need_open()
            return self._roi

    def set_format(self, bits: int) -> None:
        if bits not in self.info.formats:
            raise CameraError(f"{bits}-bit format not supported (supported: {self.info.formats})")
        with self._lock:
            h = self._need_idle("the format")
            h.stop_exposure()
            h.set_format(BITS_FORMAT[bits])
            self._format = h.format()

    def format(self) -> int:
        with self._lock:
            self._need_open()
            return FORMAT_BITS.get(self._format, 8)

    # -- SDK configs (by POAConfig id) ------------------------------------------------------
    def _attr(self, cid: int) -> ConfigAttr:
        a = self._attrs.get(cid)
        if a is None:
            raise CameraError(f"{self.info.model} has no {_config_name(cid)} setting")
        return a

    def set_config(self, cid: int, value: ConfigValue, auto: bool = False) -> None:
        """Set an SDK config by id, checked against its attributes' range and type."""
        with self._lock:
            self._set_config_locked(self._need_open(), cid, value, auto)

    def _set_config_locked(self, h: SdkCameraHandle, cid: int, value: ConfigValue,
                           auto: bool = False) -> None:
        a = self._attr(cid)
        if not a.writable:
            raise CameraError(f"{a.name} is read-only")
        if a.value_type != ValueType.BOOL and not a.min <= value <= a.max:
            raise CameraError(f"{a.name} {value:g} outside {a.min:g}..{a.max:g}")
        h.set_config(cid, a.value_type, value, auto)
        self._remember(cid, value, auto)

    def config(self, cid: int, lock_ms: int = -1) -> ConfigValue:
        """An SDK config's value, read through the union member of its type."""
        with self._lock:
            h = self._need_open()
            return h.get_config(cid, self._attr(cid).value_type, lock_ms)[0]

    def configs(self) -> dict[int, ConfigAttr]:
        """Every config the camera reports, by POAConfig id, in the SDK's order."""
        with self._lock:
            self._need_open()
            return dict(self._attrs)

    def set_gain(self, gain: int) -> None:
        self.set_config(Config.GAIN, int(gain))

    def gain(self) -> int:
        return int(self.config(Config.GAIN))

    def set_offset(self, offset: int) -> None:
        self.set_config(Config.OFFSET, int(offset))

    def offset(self) -> int:
        return int(self.config(Config.OFFSET))

    # -- exposures ---------------------------------------------------------------------------
    def start_exposure(self, seconds: float, into: memoryview | None = None) -> None:
        lo, hi = self.info.exposure_range_s
        if not lo <= seconds <= hi:  # also refuses NaN
            raise CameraError(f"exposure {seconds} s outside {lo:g}..{hi:g} s")
        with self._lock, _unplug_said_plainly(), not_answering_said_plainly(self.info.model):
            h = self._need_open()
            if self._running():
                raise CameraError("an exposure is already in progress")
            if getattr(self, "_video", None) is not None:
                # A stream that is ending (STREAM_OFF answered, its worker not yet out of
                # video_frame) still holds video mode. Starting a single frame now deadlocked
                # (measured, tests/system/test_reliability_injected.py: the C reader stays busy with
                # video while the stream worker waits for this lock), so stop the video here;
                # the worker then gets "video capture is not running" and ends.
                log.info("%s: stopping the video mode a stream left running", self.info.model)
                self._end_video_locked()
            assert self._ring is not None
            self._ring.flush()  # a frame read out earlier but never collected
            self._exp = None
            held = self._ring.counters()
            if held.free_slots == 0:  # the reader would wait for a slot until the readout timed out
                raise CameraError(f"all {held.nslots} frame buffers are held: frames were not "
                                  "released")
            if self._flush_pending:
                self._flush_pending = False
                self._flush_frame(h)
            actual = self._set_exposure(h, seconds)
            temp = self._status_float(h, Config.TEMPERATURE, "_last_temp")
            gain = int(h.get_config(Config.GAIN, ValueType.INT)[0]) if Config.GAIN in self._attrs else 0
            offset = int(h.get_config(Config.OFFSET, ValueType.INT)[0]) if Config.OFFSET in self._attrs else 0
            exp = _Exposure(self._next_seq(), actual, self._roi, FORMAT_BITS.get(self._format, 8),
                            gain, offset, temp)
            if (into is not None and self._format in (ImgFormat.RAW8, ImgFormat.RAW16)
                    and not into.readonly and into.nbytes == self._frame_bytes()):
                exp.into = into  # the driver's image payload: the frame's only buffer
            self._start_when_free(h, exp)
            self._exp = exp

    def _start_when_free(self, h: SdkCameraHandle, exp: _Exposure) -> None:
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
                          self.info.model, tries)
            return

    def _next_seq(self) -> int:
        self._seq = (self._seq + 1) & 0xFFFFFFFF
        return self._seq

    def _set_exposure(self, h: SdkCameraHandle, seconds: float) -> float:
        """POA_EXP (seconds, SDK 3.8+) or POA_EXPOSURE (µs); returns what the camera took."""
        if Config.EXP in self._attrs:
            h.set_config(Config.EXP, ValueType.FLOAT, float(seconds))
            return float(h.get_config(Config.EXP, ValueType.FLOAT)[0])
        h.set_config(Config.EXPOSURE, ValueType.INT, max(1, round(seconds * 1e6)))
        return int(h.get_config(Config.EXPOSURE, ValueType.INT)[0]) / 1e6

    def _link_allowance_s(self, h: SdkCameraHandle, nbytes: int) -> float:
        """The readout allowance of a frame of ``nbytes`` over this camera's link now (its
        ``isUSB3Speed`` and the ``POA_USB_BANDWIDTH_LIMIT`` it has). Lock held."""
        pct = 100.0
        if Config.USB_BANDWIDTH_LIMIT in self._attrs:
            pct = float(h.get_config(Config.USB_BANDWIDTH_LIMIT, ValueType.INT)[0])
        try:
            sensor_s: float | None = 1.0 / find_model(base_model(self.props.model)).max_fps
        except KeyError:
            sensor_s = None
        return readout_allowance_s(nbytes, usb3=self.props.usb3, bandwidth_pct=pct,
                                   sensor_readout_s=sensor_s)

    def readout_allowance_s(self) -> float:
        """How long after its exposure a frame of the current settings may take to arrive."""
        with self._lock:
            h = self._need_open()
            return self._link_allowance_s(h, self._frame_bytes())

    def frame_wait_s(self) -> float:
        """How long after the end of the exposure started last its frame may take, a second
        attempt included, before the camera counts as not answering (plus a backstop)."""
        with self._lock:
            exp = self._exp
            if exp is None:
                return WAIT_BACKSTOP_S
            return ((1 + FRAME_RETRIES) * exp.readout_s + FRAME_RETRIES * exp.exposure_s
                    + WAIT_BACKSTOP_S)

    def _frame_bytes(self) -> int:
        return self._roi.width * self._roi.height * (2 if self._format == ImgFormat.RAW16 else 1)

    def _expose(self, h: SdkCameraHandle, exp: _Exposure, snap: bool | None = None) -> None:
        """Hand the exposure to the C reader. Its own watchdog is not used (``restarts`` 0):
        :meth:`wait_frame` decides about a second attempt, and how to take it."""
        exp.readout_s = self._link_allowance_s(h, self._frame_bytes())
        hold = h.expose(exp.exposure_s, single=self.snap if snap is None else snap, restarts=0,
                        readout_ms=round(exp.readout_s * 1000), seq=exp.seq, width=exp.roi.width,
                        height=exp.roi.height, pixfmt=int(self._format), into=exp.into)
        # The C reader was idle before it took this exposure: the previous buffer is free.
        self._dst_hold = hold
        exp.attempts += 1

    def _flush_frame(self, h: SdkCameraHandle) -> None:
        """One short exposure whose frame is dropped: the first frame after a bin change may be
        garbage (INDI issue #774). Failures are only logged: the real exposure reports its own."""
        assert self._ring is not None
        try:
            lo = self.info.exposure_range_s[0]
            exp = _Exposure(self._next_seq(), self._set_exposure(h, max(lo, FLUSH_EXPOSURE_S)),
                            self._roi, 0, 0, 0, 0.0)
            self._expose(h, exp)
            res = h.wait(int(FLUSH_WAIT_S * 1000))
            if res.state in (ReadoutState.EXPOSING, ReadoutState.READING):
                h.abort()
                h.wait(-1)
            self._ring.flush()
            if res.state != ReadoutState.READY:
                log.debug("%s: flush frame after the bin change: %s", self.info.model, res)
        except (CameraError, NativeError) as exc:
            log.debug("%s: flush frame after the bin change failed: %s", self.info.model, exc)

    def wait_frame(self, timeout: float, cancel: threading.Event | None = None) -> Frame:
        """The frame of the exposure started last, or CameraTimeout after ``timeout`` seconds
        (the exposure goes on). The C reader's allowance for the frame is the watchdog: a frame
        that did not come within it is tried again once (:meth:`_try_again`, whose time is
        added to ``timeout``), then CameraTimeout. :meth:`frame_wait_s` says how long a caller
        must be prepared to wait for all that."""
        with self._lock:
            h = self._need_open()
            exp, ring = self._exp, self._ring
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
                    f"{self.info.model}: no image from the camera {exp.readout_s:.1f} s after "
                    f"the {exp.exposure_s:g} s exposure, {exp.attempts} times ({res.func}: "
                    f"{self.sdk.error_text(res.code)}). This is the known 'frame never ready' "
                    "failure: check the USB cable and the camera's power, then try again.")
            if res.state == ReadoutState.FAILED:
                exp.done = True
                if res.func.startswith("POA"):
                    with _unplug_said_plainly():
                        raise SdkError(res.func, res.code, self.sdk.error_text(res.code))
                raise CameraError(f"readout failed: {res.func}: {self.sdk.error_text(res.code)}")
            if time.monotonic() >= end:
                raise CameraTimeout(f"no frame within {timeout:g} s")

    def _try_again(self, exp: _Exposure, res: ReadoutResult) -> None:
        """Start the exposure again after its frame did not come (the reader has stopped it). A
        snap-mode frame that never came switches the camera to single frames in continuous mode
        for the rest of the session, starting with this attempt: the Saturn-C's snap mode loses
        every second frame (indi-3rdparty #824) and INDIGO takes its single frames that way."""
        with self._lock, _unplug_said_plainly(), not_answering_said_plainly(self.info.model):
            h = self._need_open()
            if exp.aborted or self._exp is not exp:
                raise ExposureAborted("exposure aborted")
            why = f"{res.func}: {self.sdk.error_text(res.code)}" if res.func else "no answer"
            if self.snap:
                self.snap = False
                log.warning("%s: no image %.1f s after the %g s exposure ended (%s); taking it "
                            "again, and single frames from now on in continuous mode (the known "
                            "snap-mode failure; INDIGO's fix)", self.info.model, exp.readout_s,
                            exp.exposure_s, why)
            else:
                log.warning("%s: no image %.1f s after the %g s exposure ended (%s); taking it "
                            "again", self.info.model, exp.readout_s, exp.exposure_s, why)
            assert self._ring is not None
            self._ring.flush()
            self._start_when_free(h, exp)

    def _collect(self, exp: _Exposure, res: ReadoutResult, ring: FrameRing) -> Frame:
        with self._lock:
            if exp.aborted or exp.done or self._exp is not exp:
                raise ExposureAborted("exposure aborted")
            if exp.into is not None:  # read straight into the caller's buffer; the reader is done
                exp.done = True
                self._dst_hold = None
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
                     exp.offset, exp.temperature_c, _on_release=lambda _data: done())

    def _direct_frame(self, exp: _Exposure, res: ReadoutResult) -> Frame:
        """The frame the reader put into ``exp.into``: a view of that buffer (the caller's)."""
        into, exp.into = exp.into, None  # the frame's array keeps the buffer; nothing else here
        assert into is not None
        dtype = np.uint16 if self._format == ImgFormat.RAW16 else np.uint8
        data = np.frombuffer(into, dtype=dtype).reshape(exp.roi.height, exp.roi.width)
        start = datetime.fromtimestamp(res.start_unix_ns / 1e9, tz=timezone.utc)
        return Frame(data, exp.roi, exp.bits, exp.exposure_s, start, exp.seq, exp.gain,
                     exp.offset, exp.temperature_c)

    def abort_exposure(self) -> None:
        with self._lock:
            h, exp = self._handle, self._exp
            if h is None or exp is None:
                return
            exp.aborted = True
            h.abort()  # the C reader stops the exposure; the result turns ABORTED at once
            if self._ring is not None:
                self._ring.flush()

    def is_exposing(self) -> bool:
        with self._lock:
            return self._running()

    # -- temperature --------------------------------------------------------------------------
    def _status_float(self, h: SdkCameraHandle, cid: Config, cache: str) -> float:
        """A status value, or the last one when a readout holds the camera lock. A temperature
        no sensor reads (the SDK's -300 °C of indi-3rdparty #1165 and #1328, NaN) is dropped:
        the last good reading stands, so it never reaches a FITS header or the client."""
        if cid not in self._attrs:
            return getattr(self, cache)
        try:
            value = float(h.get_config(cid, self._attrs[cid].value_type, STATUS_LOCK_MS)[0])
        except SdkError as exc:
            if exc.code != EBUSY:
                raise
            return getattr(self, cache)
        if cid == Config.TEMPERATURE and not PLAUSIBLE_TEMP_C[0] <= value <= PLAUSIBLE_TEMP_C[1]:
            log.debug("%s: dropped a sensor temperature of %r C", self.info.model, value)
            return getattr(self, cache)
        setattr(self, cache, value)
        return value

    def temperature(self) -> float:
        with self._lock, _unplug_said_plainly():
            return self._status_float(self._need_open(), Config.TEMPERATURE, "_last_temp")

    def set_cooler(self, on: bool, target_c: float | None = None) -> None:
        if not self.info.has_cooler:
            raise CameraError(f"{self.info.model} has no cooler")
        with self._lock:
            h = self._need_open()
            if target_c is not None:
                a = self._attr(Config.TARGET_TEMP)
                target = round(target_c)  # POA_TARGET_TEMP is an integer °C
                if not a.min <= target <= a.max:
                    raise CameraError(f"target temperature {target_c} °C outside {a.min}..{a.max} °C")
                h.set_config(Config.TARGET_TEMP, a.value_type, target)
                self._remember(Config.TARGET_TEMP, target)
            h.set_config(Config.COOLER, self._attr(Config.COOLER).value_type, bool(on))
            self._remember(Config.COOLER, bool(on))

    def cooler_power(self) -> float:
        with self._lock, _unplug_said_plainly():
            return self._status_float(self._need_open(), Config.COOLER_POWER, "_last_power")

    # -- ST4 (engineer F) ------------------------------------------------------------------------
    _GUIDE_CONFIGS = {"N": Config.GUIDE_NORTH, "S": Config.GUIDE_SOUTH,
                      "E": Config.GUIDE_EAST, "W": Config.GUIDE_WEST}

    def guide(self, direction: str, on: bool) -> None:
        """``POASetConfig(POA_GUIDE_<dir>, POA_TRUE/FALSE)``, as the C++ driver pulses (§3.11).

        The driver times the pulse. The SDK serialises this with a running readout (one C
        lock per camera), so a pulse sent during a readout starts when that call returns."""
        if not self.info.has_st4:
            raise CameraError(f"{self.info.model} has no ST4 port")
        cid = self._GUIDE_CONFIGS.get(direction)
        if cid is None:
            raise CameraError(f"unknown guide direction {direction!r} (N, S, E or W)")
        with self._lock:
            h = self._need_open()
            a = self._attrs.get(cid)
            h.set_config(cid, a.value_type if a is not None else ValueType.BOOL, bool(on))


    # -- video mode (engineer C; the capture itself is sdk_video.py) ---------------------------
    def start_video(self, exposure_s: float) -> None:
        """The SDK's video mode, read by the C reader into a ring of its own (:mod:`.sdk_video`)."""
        from .sdk_video import VIDEO_BUFFER_BYTES, SdkVideo

        lo, hi = self.info.exposure_range_s
        if not lo <= exposure_s <= hi:  # also refuses NaN
            raise CameraError(f"exposure {exposure_s} s outside {lo:g}..{hi:g} s")
        with self._lock:
            h = self._need_open()
            if self._running():
                raise CameraError("an exposure is in progress; abort it before starting video")
            if getattr(self, "_video", None) is not None:
                if self._video.running():
                    raise CameraError("video capture is already running")
                self._end_video_locked()  # a run that failed (unplug, SDK error): ended now
            assert self._ring is not None
            self._ring.flush()
            self._exp = None
            if self._flush_pending:  # the first frame after a bin change may be garbage
                self._flush_pending = False
                self._flush_frame(h)
            actual = self._set_exposure(h, exposure_s)
            meta = {"temperature": self._status_float(h, Config.TEMPERATURE, "_last_temp"),
                    "gain": int(h.get_config(Config.GAIN, ValueType.INT)[0])
                    if Config.GAIN in self._attrs else 0,
                    "offset": int(h.get_config(Config.OFFSET, ValueType.INT)[0])
                    if Config.OFFSET in self._attrs else 0}
            bits = FORMAT_BITS.get(self._format, 8)
            nbytes = self._roi.width * self._roi.height * (2 if bits == 16 else 1)
            self._video: SdkVideo | None = SdkVideo(
                h, self._ring, self._roi, bits, int(self._format), actual,
                actual + self._link_allowance_s(h, nbytes), self._next_seq(), meta,
                getattr(self, "video_buffer_bytes", None) or VIDEO_BUFFER_BYTES)

    def video_frame(self, timeout: float, cancel: threading.Event | None = None) -> Frame:
        # Without the camera lock: a status read holds it while it waits up to STATUS_LOCK_MS
        # for the SDK lock, which the C reader holds inside POAGetImageData; a temperature and
        # a cooler-power poll stalled the stream worker 0.5 s at a time (issue 19's bench).
        # One attribute read is atomic; a stop or close ends the run, which the wait reports.
        self._need_open()
        video = getattr(self, "_video", None)
        if video is None:
            raise ExposureAborted("video capture is not running")
        return video.frame(timeout, cancel)

    def stop_video(self) -> None:
        with self._lock:
            self._end_video_locked()

    def _end_video_locked(self) -> None:
        """Stop video mode (lock held); also used by start_exposure for a stream left running."""
        video, self._video = getattr(self, "_video", None), None
        if video is None:
            return
        try:
            video.stop()
        finally:
            self._video_last = video.counters()
            self._seq = (self._seq + self._video_last.get("sent", 0)) & 0xFFFFFFFF

    def is_streaming(self) -> bool:
        """True from start_video until stop_video, or until the run failed (its reader
        stopped on an SDK error, e.g. an unplug)."""
        with self._lock:
            video = getattr(self, "_video", None)
        return video is not None and video.running()

    def video_counters(self) -> dict[str, int]:
        """The current (or last) video run's counters: sent, camera_dropped (the SDK's
        POAGetDroppedImagesCount), timeouts, received, delivered, host_dropped, corrupt, and
        the host buffer's ready and free_slots. Without the camera lock, as video_frame."""
        video = getattr(self, "_video", None)
        if video is None:
            return dict(getattr(self, "_video_last", {}))
        try:
            return video.counters()
        except (CameraError, NativeError):
            return {}

@contextlib.contextmanager
def _unplug_said_plainly() -> Iterator[None]:
    """An SDK error meaning the camera left the bus gets a text a user acts on (same function
    and code). The SDK's own text for it ("camera not found, may be removed") does not say to
    replug and reconnect; seen with the simulated SDK's ``unplug`` during an exposure and
    ``unplug_in_read`` (tests/system/test_reliability_injected.py)."""
    try:
        yield
    except SdkError as exc:
        if exc.code != Err.DEVICE_NOT_FOUND:
            raise
        raise SdkError(exc.func, exc.code, UNPLUGGED_TEXT) from exc


def _config_name(cid: int) -> str:
    try:
        return f"POA_{Config(cid).name}"
    except ValueError:
        return f"config {cid}"


def _release(nf: Any) -> None:
    """Give a ring slot back; a ring closed meanwhile (camera closed) has freed it already."""
    with contextlib.suppress(NativeError):
        nf.release()
