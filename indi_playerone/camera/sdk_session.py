"""The open session of one SDK camera: the state the parts of :class:`~.sdk_camera.SdkCamera`
share, and the steps that set the camera's frame up (open, close, region, format, exposure time).

:class:`CameraSession` holds the camera's handle, its one Python lock (around this state, never
held while waiting for a frame), the frame ring, the config attributes, the region and format
that apply, the single exposure handed to the C reader last, and what this session set
(:class:`Remembered`, given back after a USB reset by :mod:`.sdk_recovery`). The parts read and
change it under :attr:`CameraSession.lock`; they share nothing else.

Behaviour taken from the SDK's documented hazards and the field reports
(``docs/upstream-facts.md`` sections 3 and 7), each with its reason:

* the exposure is stopped before a bin, size, format or sensor-mode change (the SDK wants
  it stopped, and the SDK changelog 3.4.1 lists crashes when the format changes mid-stream);
* bin is set before size (INDI issue #774: bin 2 after size gave a first frame filled only in
  its top band), then size, then start position, and all three are read back because
  ``POASetImageBin`` resets size and start and ``POASetImageSize`` rounds silently; a bin
  change asks for a flush frame before the next exposure (:mod:`.sdk_exposure`);
* config values are read through the union member of their value type (issue #684: a FLOAT
  config read as an integer gives garbage);
* every setting made through the camera is remembered, so a camera reopened after a USB reset
  gets them back (:mod:`.sdk_recovery`).
"""
from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..native import FrameRing
from .interface import CameraError, Roi
from .models import EXPOSURE_RANGE_S, GAIN_RANGE, OFFSET_RANGE, find_model
from .sdk_binding import SdkCameraHandle, SdkLibrary
from .sdk_link import readout_allowance_s
from .sdk_types import (
    BITS_FORMAT, FORMAT_BITS, CameraProps, Config, ConfigAttr, ConfigValue, Err, ImgFormat,
    UNPLUGGED_TEXT, ReadoutState, SdkError, ValueType, base_model, config_name, sdk_camera_info,
)

__all__ = ["CameraSession", "Remembered", "SingleExposure", "unplug_said_plainly"]

log = logging.getLogger(__name__)

#: Flip configs: one of them is the active flip, so only the last one set is remembered.
_FLIPS = frozenset({Config.FLIP_NONE, Config.FLIP_HORI, Config.FLIP_VERT, Config.FLIP_BOTH})


@dataclass
class SingleExposure:
    """One single-frame exposure handed to the C reader (:mod:`.sdk_exposure`)."""

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


@dataclass
class Remembered:
    """What this session set, by POAConfig ID (value, auto), the sensor mode and dead pixel
    suppression: a camera reopened after a USB reset gets them back (sdk_recovery.py)."""

    configs: dict[int, tuple[ConfigValue, bool]] = field(default_factory=dict)
    sensor_mode: int | None = None
    dps: bool | None = None  # set this session (None: the SDK's, on after open)

    def config(self, cid: int, value: ConfigValue, auto: bool = False) -> None:
        """Note a config set this session (lock held)."""
        if cid in _FLIPS:
            for flip in _FLIPS:
                self.configs.pop(flip, None)
        self.configs.pop(cid, None)  # re-inserted last: settings are restored in their order
        self.configs[cid] = (value, auto)


@contextlib.contextmanager
def unplug_said_plainly() -> Iterator[None]:
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


class CameraSession:
    """One camera's handle and state, shared by the parts of SdkCamera under :attr:`lock`."""

    def __init__(self, sdk: SdkLibrary, props: CameraProps) -> None:
        self.sdk, self.props = sdk, props
        self.info = sdk_camera_info(props)
        #: The one Python lock for this camera's state; never held while waiting for a frame.
        self.lock = threading.Lock()
        self.handle: SdkCameraHandle | None = None
        self.ring: FrameRing | None = None
        #: The camera's configs by POAConfig ID, in the SDK's order.
        self.attrs: dict[int, ConfigAttr] = {}
        self.roi = Roi(0, 0, props.max_width, props.max_height, 1)
        self.format = ImgFormat.RAW16
        #: The single exposure handed to the C reader last (None: none since open or video).
        self.exposure: SingleExposure | None = None
        # The buffer of the last direct readout (start_exposure's into), kept mapped until the
        # C reader is certainly done with it: an aborted readout may still be writing.
        self.reader_buffer: Any = None
        #: The bin changed: the next frame may be garbage (a flush frame goes first).
        self.flush_pending = False
        self.seq = 0
        self.remembered = Remembered()

    # -- open and close --------------------------------------------------------------------
    def open(self) -> None:
        with self.lock:
            if self.handle is not None:
                return
            self.open_locked()
            self.remembered.configs.clear()  # a new session: the driver sets what it wants again
            self.remembered.dps = None

    def open_locked(self) -> None:
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
        self.handle = h

    def _setup(self, h: SdkCameraHandle) -> None:
        """After Open+Init: configs, ranges, serial, the ring, a stopped camera at full frame."""
        self.attrs = {}
        for i in range(h.configs_count()):
            a = h.config_attr(i)
            self.attrs[a.config_id] = a
        props = h.props()
        self.props = props
        info = sdk_camera_info(props, self._int_range(Config.GAIN, GAIN_RANGE),
                               self._int_range(Config.OFFSET, OFFSET_RANGE), self._exposure_range())
        # The serial is only filled while the camera is open (the C++ driver opens each
        # camera at enumeration for it); keep the one discovery found if this one is empty.
        self.info = dataclasses.replace(info, serial=props.serial or self.info.serial)
        slot = props.max_width * props.max_height * 2
        self.ring = FrameRing(slot, max_slots=2)
        with self.ring._use() as ring_ptr:
            h.set_ring(ring_ptr)
        h.stop_exposure()
        fmt = ImgFormat.RAW16 if ImgFormat.RAW16 in props.formats else ImgFormat.RAW8
        h.set_format(fmt)
        self.format = h.format()
        self.exposure, self.flush_pending = None, False
        self.apply_roi(h, 0, 0, props.max_width, props.max_height, 1)

    def _int_range(self, cid: Config, fallback: tuple[int, int]) -> tuple[int, int]:
        a = self.attrs.get(cid)
        return (int(a.min), int(a.max)) if a is not None else fallback

    def _exposure_range(self) -> tuple[float, float]:
        a = self.attrs.get(Config.EXP)
        if a is not None:
            return float(a.min), float(a.max)
        a = self.attrs.get(Config.EXPOSURE)
        if a is not None:  # SDKs before 3.8.0: microseconds
            return int(a.min) / 1e6, int(a.max) / 1e6
        return EXPOSURE_RANGE_S

    def close_locked(self) -> None:
        """Close the camera (a video run is ended before, by its part)."""
        h, self.handle = self.handle, None
        if h is None:
            return
        if self.ring is not None:
            self.ring.shutdown()  # a reader waiting for a free slot gives up
        try:
            h.close()  # aborts the readout (the C reader stops the exposure), then closes
        except CameraError as exc:
            log.warning("%s: closing: %s", self.info.model, exc)
        finally:
            h.destroy()  # joins the reader: a direct readout's buffer is free after it
            self.reader_buffer = None
            self._drop_ring()
            self.exposure = None

    def _drop_ring(self) -> None:
        ring, self.ring = self.ring, None
        if ring is not None:
            ring.close()

    # -- what the parts ask of the session (lock held) --------------------------------------
    def need_open(self) -> SdkCameraHandle:
        if self.handle is None:
            raise CameraError(f"{self.info.model} ({self.info.serial}) is not connected")
        return self.handle

    def running(self) -> bool:
        """An exposure of ours is in the camera (not finished, not aborted). Lock held."""
        exp, h = self.exposure, self.handle
        if exp is None or exp.aborted or exp.done or h is None:
            return False
        return h.wait(0).state in (ReadoutState.EXPOSING, ReadoutState.READING)

    def need_idle(self, what: str) -> SdkCameraHandle:
        h = self.need_open()
        if self.running():
            raise CameraError(f"cannot change {what} while an exposure is in progress")
        return h

    def attr(self, cid: int) -> ConfigAttr:
        a = self.attrs.get(cid)
        if a is None:
            raise CameraError(f"{self.info.model} has no {config_name(cid)} setting")
        return a

    def next_seq(self, count: int = 1) -> int:
        """The sequence number ``count`` frames on (one: the next frame's)."""
        self.seq = (self.seq + count) & 0xFFFFFFFF
        return self.seq

    def bits(self) -> int:
        return FORMAT_BITS.get(self.format, 8)

    def frame_bytes(self) -> int:
        return self.roi.width * self.roi.height * (2 if self.format == ImgFormat.RAW16 else 1)

    def check_exposure(self, seconds: float) -> None:
        lo, hi = self.info.exposure_range_s
        if not lo <= seconds <= hi:  # also refuses NaN
            raise CameraError(f"exposure {seconds} s outside {lo:g}..{hi:g} s")

    def set_exposure(self, h: SdkCameraHandle, seconds: float) -> float:
        """POA_EXP (seconds, SDK 3.8+) or POA_EXPOSURE (µs); returns what the camera took."""
        if Config.EXP in self.attrs:
            h.set_config(Config.EXP, ValueType.FLOAT, float(seconds))
            return float(h.get_config(Config.EXP, ValueType.FLOAT)[0])
        h.set_config(Config.EXPOSURE, ValueType.INT, max(1, round(seconds * 1e6)))
        return int(h.get_config(Config.EXPOSURE, ValueType.INT)[0]) / 1e6

    def link_allowance_s(self, h: SdkCameraHandle, nbytes: int) -> float:
        """The readout allowance of a frame of ``nbytes`` over this camera's link now (its
        ``isUSB3Speed`` and the ``POA_USB_BANDWIDTH_LIMIT`` it has). Lock held."""
        pct = 100.0
        if Config.USB_BANDWIDTH_LIMIT in self.attrs:
            pct = float(h.get_config(Config.USB_BANDWIDTH_LIMIT, ValueType.INT)[0])
        try:
            sensor_s: float | None = 1.0 / find_model(base_model(self.props.model)).max_fps
        except KeyError:
            sensor_s = None
        return readout_allowance_s(nbytes, usb3=self.props.usb3, bandwidth_pct=pct,
                                   sensor_readout_s=sensor_s)

    # -- geometry and format -------------------------------------------------------------------
    def set_roi(self, x: int, y: int, width: int, height: int, bin: int) -> Roi:
        if bin not in self.info.bins:
            raise CameraError(f"bin {bin} not supported (supported: {self.info.bins})")
        if width <= 0 or height <= 0:
            raise CameraError(f"empty ROI {width}x{height}")
        with self.lock:
            h = self.need_idle("the ROI")
            return self.apply_roi(h, x, y, width, height, bin)

    def apply_roi(self, h: SdkCameraHandle, x: int, y: int, width: int, height: int, b: int) -> Roi:
        max_w, max_h = self.info.width // b, self.info.height // b
        w, h_ = min(width, max_w), min(height, max_h)
        w, h_ = w - w % 4, h_ - h_ % 2
        if w == 0 or h_ == 0:
            raise CameraError(f"ROI {width}x{height} is empty after rounding to 4x2 pixels")
        x, y = min(max(0, x), max_w - w), min(max(0, y), max_h - h_)
        h.stop_exposure()
        if h.bin() != b:
            h.set_bin(b)
            self.flush_pending = True
        h.set_size(w, h_)
        h.set_start(x, y)
        rb, (rw, rh), (rx, ry) = h.bin(), h.size(), h.start()
        self.roi = Roi(rx, ry, rw, rh, rb)
        if (rw, rh, rb) != (w, h_, b):
            log.warning("%s: asked for %dx%d bin %d, the SDK applied %dx%d bin %d",
                        self.info.model, w, h_, b, rw, rh, rb)
        return self.roi

    def set_format(self, bits: int) -> None:
        if bits not in self.info.formats:
            raise CameraError(f"{bits}-bit format not supported (supported: {self.info.formats})")
        with self.lock:
            h = self.need_idle("the format")
            h.stop_exposure()
            h.set_format(BITS_FORMAT[bits])
            self.format = h.format()
