"""A simulated Player One camera: the manual's sensor physics, real timing, a thermal model.

The frame model and its speed are described in :mod:`.sim_frames`; how a frame travels to the
caller in :mod:`.sim_readout`: like a real camera's, as USB-sized chunks with a CRC32C trailer
into the native frame ring, from which ``wait_frame`` hands out a zero-copy view of the slot.

Timing of one exposure (a worker thread per exposure; only one of them transfers at a time):

1. ``start_exposure``: the worker draws the frame's random plan (pool offsets, star photons:
   8 ms for 9576×6388; a settings change also rebuilds the noise pools here, 20–45 ms), then
   waits for the exposure end;
2. exposure end: the payload streams into a ring slot, rendered block by block (9576×6388
   16-bit: 47–51 ms of one core on the project VM, see :mod:`.sim_readout`);
3. exposure end + the modelled readout (see below: 0.306 s for that frame): the trailer is
   pushed, the ring checks the CRC and the frame becomes ready; or the ring discards it and
   ``wait_frame`` raises :class:`CameraError` saying why.

``inject_fault("corrupt_next_frame" | "short_next_frame")`` damages the next transfer (one byte
changed after the CRC was computed / one 1024-byte bulk packet lost); ``transfer_counters()``
reads the ring's counters (received, delivered, dropped, corrupt and the kinds of corruption).

The physics (what is from the manual, what is assumed) is in :mod:`.sim_sensor` (electronics,
timing), :mod:`.sim_thermal` (the cooler), :mod:`.sim_frames` (the picture), :mod:`.sim_ddr`
(the camera's frame buffer); the settings in :mod:`.sim_controls`; the options
(``INDI_PLAYERONE_SIM_OPTIONS``) in :mod:`.sim_options`; the runtime fault file
(``INDI_PLAYERONE_SIM_FAULT_FILE``) in :mod:`.sim_faults`; video mode in :mod:`.sim_video_mode`
(the camera's side) and :mod:`.sim_video` (the capture). Readout time: the longer of the sensor
readout at the manual's fps (doubled in Low Noise mode) and the USB transfer
(``bytes / (USB3_BYTES_PER_S × USBBandWidthLimit %)``): 0.306 s for a 16-bit Zeus frame.

Frames occupy ring slots until released (``Frame.release()``, or the frame and every view of its
data being garbage-collected): with ``RING_SLOTS`` (3) frames held, ``start_exposure`` refuses.
"""
from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import numpy as np

from indi_playerone.native import Frame as RingFrame, NativeError, RingClosed

from .interface import CameraBackend, CameraError, CameraInfo, CameraTimeout, ExposureAborted, Frame, Roi
from .models import EXPOSURE_RANGE_S, GAIN_RANGE, OFFSET_RANGE, ModelSpec
from .sim_capabilities import SimCapabilities
from .sim_video_mode import SimVideoMode
from .sim_ddr import DdrBuffer
from .sim_faults import FaultFile
from .sim_frames import BIAS_ADU16_PER_OFFSET, FramePlan, FrameSettings, FrameSynth, frame_rng
from .sim_options import SimOptions
from .sim_readout import FAULTS, FrameLink
from .sim_sensor import USB3_BYTES_PER_S, gain_presets
from .sim_thermal import AMBIENT_C, COOLER_TAU_S, Thermal  # noqa: F401  (re-exported)

__all__ = ["SimulatedCamera", "camera_info", "sim_serial", "BIAS_ADU16_PER_OFFSET", "FAULTS",
           "USB3_BYTES_PER_S"]

log = logging.getLogger(__name__)

#: A timed-out transfer (fault ``timeout``) fails this long after the readout should have ended.
TIMEOUT_FAULT_GRACE_S = 0.5
#: ``wait_frame`` sleeps on the camera's condition while the exposure runs (abort, close and a
#: failed readout notify it), then in the ring's acquire once the readout may deliver. Neither
#: can be woken by the caller's ``threading.Event``, and the ring's not by an abort, so both
#: waits are cut into slices of this length to look at them: sleeping waits, not a spin, and
#: well inside the ~50 ms promise. (Without a cancel event the exposure phase needs no slices.)
WAIT_SLICE_S = 0.01


def sim_serial(model: str, index: int) -> str:
    """Deterministic serial: ``sim_serial("Ares-C PRO", 1) == "SIM-ARES-C-PRO-0001"``."""
    return f"SIM-{'-'.join(model.upper().split())}-{index:04d}"


def camera_info(spec: ModelSpec, serial: str, has_cooler: bool = True,
                has_st4: bool = False) -> CameraInfo:
    """The CameraInfo of a simulated camera of this model."""
    return CameraInfo(
        model=spec.model, sensor=spec.sensor, serial=serial, width=spec.width, height=spec.height,
        pixel_size_um=spec.pixel_size_um, adc_bits=spec.adc_bits, is_color=spec.is_color,
        bayer=spec.bayer, has_cooler=has_cooler,
        has_st4=has_st4,  # the manual lists no ST4 guide port on the PRO cooled line (option st4)
        bins=(1, 2, 3, 4), formats=(8, 16), gain_range=GAIN_RANGE, offset_range=OFFSET_RANGE,
        exposure_range_s=EXPOSURE_RANGE_S, usb3=True, body=spec.body,
    )


class _Exposure:
    """One exposure's state; changed only under the camera's lock."""

    def __init__(self, seq: int, settings: FrameSettings, link: FrameLink, end: float,
                 deadline: float) -> None:
        self.seq, self.settings, self.link = seq, settings, link
        self.end, self.deadline = end, deadline  # exposure end, readout end (monotonic)
        self.start_utc = datetime.now(timezone.utc)
        self.abort = threading.Event()  # wakes the worker's waits
        self.state = "exposing"  # -> ready | aborted | failed | collected
        self.error = ""
        #: This exposure's frame, taken from the ring by a waiter of an earlier exposure.
        self.early: RingFrame | None = None


class SimulatedCamera(SimCapabilities, SimVideoMode, CameraBackend):
    """A simulated camera of one catalog model (frame model: :mod:`.sim_frames`).

    ``options`` (default: none of :mod:`.sim_options`, not the environment; the registry reads
    ``INDI_PLAYERONE_SIM_OPTIONS``) and ``fault_file`` (default: none; the registry passes
    ``INDI_PLAYERONE_SIM_FAULT_FILE``). ``ambient_c`` and ``cooler_time_constant_s`` override
    the options' ``ambient`` and ``cooler_tau``. A fresh camera starts at the HCG preset, as the
    fake SDK's does."""

    def __init__(self, spec: ModelSpec, serial: str | None = None, index: int = 1, *,
                 ambient_c: float | None = None, cooler_time_constant_s: float | None = None,
                 has_cooler: bool = True, options: SimOptions | None = None,
                 fault_file: str | os.PathLike[str] | None = None) -> None:
        opts = options or SimOptions()
        if ambient_c is not None:
            opts = dataclasses.replace(opts, ambient_c=ambient_c)
        if cooler_time_constant_s is not None:
            opts = dataclasses.replace(opts, cooler_tau_s=cooler_time_constant_s)
        self.spec, self.options = spec, opts
        self.info = camera_info(spec, serial or sim_serial(spec.model, index), has_cooler,
                                opts.st4)
        self._synth = FrameSynth(spec, self.info.serial, opts)
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._open = False
        self._roi = Roi(0, 0, spec.width - spec.width % 4, spec.height - spec.height % 2, 1)
        hcg = gain_presets(spec)[1]
        self._bits, self._gain, self._offset = 16, hcg.gain, hcg.offset
        fan = 70.0 if spec.body == "aluminium" else 50.0  # the manual's defaults
        self._thermal = Thermal(opts.ambient_c, spec.cooling_delta_c, opts.cooler_tau_s, fan)
        self._thermal.supply_12v = not opts.no_12v
        self._faults = FaultFile(fault_file, self.info.serial)
        self._fault_lock = threading.Lock()  # one poller at a time; others skip
        self._ddr = DdrBuffer()
        self._init_capabilities()
        self._exp: _Exposure | None = None
        self._seq = 0
        self._link: FrameLink | None = None
        self._retired: list[FrameLink] = []  # closed while frames were held: freed on release

    def __repr__(self) -> str:
        return f"SimulatedCamera({self.info.model!r}, serial={self.info.serial!r})"

    @property
    def star_field(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Copies of the star positions (unbinned sensor pixels, x and y) and rates (e-/s)."""
        s = self._synth
        return s.star_x.copy(), s.star_y.copy(), s.star_rate.copy()

    # -- lifecycle ---------------------------------------------------------------------------
    def open(self) -> None:
        self._poll_faults()
        self._reap()
        with self._lock:
            if self._open:
                return
            if self._unplugged:
                raise CameraError(f"{self.info.model} ({self.info.serial}) not found: the "
                                  "camera was unplugged")
            self._dropped = 0  # dropped_frames() counts since open
            self._ddr.dropped = 0
            # Slots for the largest frame: full sensor, 16 bit. Allocated, not yet touched.
            try:
                self._link = FrameLink(self.spec.width * self.spec.height * 2,
                                       self._synth.block_buffer())
            except NativeError as err:
                raise CameraError(f"cannot allocate the frame buffers: {err}") from err
            self._open = True

    def close(self) -> None:
        with self._cond:
            if not self._open:
                return
            self._abort_locked()
            self._open = False
            link, self._link = self._link, None
            self._cond.notify_all()
        if link is not None:
            link.retire()  # outside the lock: waits for threads still inside ring calls
            if not link.closed:
                with self._lock:
                    self._retired.append(link)

    def _reap(self) -> None:
        """Free the rings of earlier connections whose last frame was garbage-collected."""
        with self._lock:
            retired, self._retired = self._retired, []
        kept = [link for link in retired if not link.reap()]
        with self._lock:
            self._retired.extend(kept)

    def _need_open(self) -> None:
        if not self._open:
            if self._unplugged:
                raise CameraError(f"{self.info.model} ({self.info.serial}) was unplugged "
                                  "(camera not found)")
            raise CameraError(f"{self.info.model} ({self.info.serial}) is not connected")

    def _read(self, attr: str) -> Any:
        self._poll_faults()
        with self._lock:
            self._need_open()
            return getattr(self, attr)

    def _need_idle(self, what: str) -> None:
        self._need_open()
        if self._exp is not None and self._exp.state == "exposing":
            raise CameraError(f"cannot change {what} while an exposure is in progress")

    # -- geometry and format -------------------------------------------------------------------
    def set_roi(self, x: int, y: int, width: int, height: int, bin: int) -> Roi:
        if bin not in self.info.bins:
            raise CameraError(f"bin {bin} not supported (supported: {self.info.bins})")
        if width <= 0 or height <= 0:
            raise CameraError(f"empty ROI {width}x{height}")
        max_w, max_h = self.info.width // bin, self.info.height // bin
        w, h = min(width, max_w), min(height, max_h)
        w, h = w - w % 4, h - h % 2
        if w == 0 or h == 0:
            raise CameraError(f"ROI {width}x{height} is empty after rounding to 4x2 pixels")
        roi = Roi(min(max(0, x), max_w - w), min(max(0, y), max_h - h), w, h, bin)
        self._poll_faults()
        with self._lock:
            self._need_idle("the ROI")
            self._roi = roi
        return roi

    def roi(self) -> Roi:
        return self._read("_roi")

    def set_format(self, bits: int) -> None:
        if bits not in self.info.formats:
            raise CameraError(f"{bits}-bit format not supported (supported: {self.info.formats})")
        with self._lock:
            self._need_idle("the format")
            self._bits = bits

    def format(self) -> int:
        return self._read("_bits")

    # -- controls ---------------------------------------------------------------------------
    def set_gain(self, gain: int) -> None:
        _check_range("gain", gain, self.info.gain_range)
        self._poll_faults()
        with self._lock:
            self._need_open()
            self._gain = int(gain)

    def gain(self) -> int:
        return self._read("_gain")

    def set_offset(self, offset: int) -> None:
        _check_range("offset", offset, self.info.offset_range)
        self._poll_faults()
        with self._lock:
            self._need_open()
            self._offset = int(offset)

    def offset(self) -> int:
        return self._read("_offset")

    # -- exposures ---------------------------------------------------------------------------
    def start_exposure(self, seconds: float) -> None:
        lo, hi = self.info.exposure_range_s
        if not lo <= seconds <= hi:  # also refuses NaN
            raise CameraError(f"exposure {seconds} s outside {lo:g}..{hi:g} s")
        self._poll_faults()
        with self._lock:
            self._need_open()
            if self._exp is not None and self._exp.state == "exposing":
                raise CameraError("an exposure is already in progress")
            link = self._link
            assert link is not None
            if not link.slot_available():
                raise CameraError(
                    f"all {link.nslots} frame buffers hold frames that were not released; "
                    "release frames (Frame.release()) before the next exposure")
            old = self._exp
            if old is not None and old.state == "ready":  # read out, never collected: dropped
                self._abort_locked()
            link.drop_ready()
            settings = self._frame_settings(float(seconds))
            self._seq += 1
            end = time.monotonic() + seconds
            exp = _Exposure(self._seq, settings, link, end, end + self._readout_s(settings))
            self._exp = exp
            threading.Thread(target=self._expose, args=(exp,), daemon=True,
                             name=f"sim-exposure-{self.info.serial}-{exp.seq}").start()

    def _expose(self, exp: _Exposure) -> None:
        """Worker: plan the frame while the exposure runs, stream it into the ring when it ends,
        finish the transfer when the modelled readout ends, then record the verdict."""
        s = exp.settings
        try:
            plan = self._synth.plan(s, frame_rng(self.info.serial, exp.seq))
        except Exception as err:  # e.g. MemoryError: report it to the waiter, do not die silently
            log.exception("simulated frame generation failed")
            self._fail(exp, f"frame generation failed: {err}")
            return
        exp.abort.wait(max(0.0, exp.end - time.monotonic()))
        fault = None if exp.abort.is_set() else self._take_exposure_fault()  # aborted: unused
        if fault == "never_ready":  # the field failure: it never finishes; only an abort ends it
            log.debug("%s: exposure %d never becomes ready (fault)", self.info.serial, exp.seq)
            exp.abort.wait()
            return
        if fault == "timeout":  # the frame is lost on the link
            late = exp.deadline + TIMEOUT_FAULT_GRACE_S
            if not exp.abort.wait(max(0.0, late - time.monotonic())):
                self._fail(exp, "timed out waiting for the frame: it was lost on the USB link")
            return
        try:
            self._transfer(exp, plan)
        except Exception as err:  # never leave the exposure "exposing" for ever
            log.exception("simulated readout failed")
            self._fail(exp, f"the readout failed: {err}")

    def _transfer(self, exp: _Exposure, plan: FramePlan) -> None:
        s, link = exp.settings, exp.link
        with link.sending:
            buf = link.staging(np.uint16 if s.bits == 16 else np.uint8)
            sent = link.send(exp.seq, s.roi.width, s.roi.height, s.bits,
                             int(exp.start_utc.timestamp() * 1e9), self._synth.blocks(plan, buf),
                             exp.deadline, exp.abort, lambda: exp.state == "exposing")
            with self._cond:
                if exp.state == "exposing":
                    exp.state = "ready" if sent.delivered else "failed"
                    exp.error = sent.error
                    if not sent.delivered:  # the waiter raises it: no second report here
                        self._dropped += 1
                        log.debug("%s: exposure %d: %s", self.info.serial, exp.seq, sent.error)
                    self._cond.notify_all()
                elif exp.state == "aborted" and sent.delivered:
                    link.drop_ready()  # aborted during the readout: nobody wants the frame

    def _fail(self, exp: _Exposure, error: str) -> None:
        with self._cond:
            if exp.state == "exposing":
                exp.state, exp.error = "failed", error
                self._cond.notify_all()

    def wait_frame(self, timeout: float, cancel: threading.Event | None = None) -> Frame:
        frame = self._wait_frame(timeout, cancel)
        if self._frame_delivered():  # unplug_after: this was the last frame before the unplug
            self._unplug()
        return frame

    def _wait_frame(self, timeout: float, cancel: threading.Event | None) -> Frame:
        end = time.monotonic() + timeout
        self._poll_faults()
        with self._cond:
            self._need_open()
            exp = self._exp
            if exp is None:
                raise CameraError("no exposure was started")
        while True:
            got: RingFrame | None = None
            self._poll_faults()
            with self._cond:
                self._check_waitable(exp)
                if cancel is not None and cancel.is_set():
                    self._abort_locked()
                    continue
                now = time.monotonic()
                remaining = end - now
                if remaining <= 0:
                    raise CameraTimeout(f"no frame within {timeout:g} s")
                got, exp.early = exp.early, None
                if got is None and now < exp.end:  # exposing: abort and close notify us
                    wait = min(remaining, exp.end - now)
                    self._cond.wait(wait if cancel is None else min(wait, WAIT_SLICE_S))
                    continue
            if got is None:
                try:
                    got = exp.link.receive(min(remaining, WAIT_SLICE_S))
                except RingClosed:  # the camera was closed: the state says so on the next turn
                    with self._cond:
                        self._check_waitable(exp)
                        raise CameraError("the camera was closed") from None
                if got is None:
                    continue
            with self._cond:
                if got.seq != exp.seq & 0xFFFFFFFF or exp.state not in ("exposing", "ready"):
                    self._not_ours_locked(exp, got)
                    continue
                exp.state = "collected"
                if self._exp is exp:
                    self._exp = None
                s = exp.settings
                data, release = exp.link.hand_out(
                    got, (s.roi.height, s.roi.width), np.uint16 if s.bits == 16 else np.uint8)
                return Frame(data, s.roi, s.bits, s.exposure_s, exp.start_utc, exp.seq, s.gain,
                             s.offset, s.temperature_c, _on_release=release)

    def _not_ours_locked(self, exp: _Exposure, got: RingFrame) -> None:
        """A frame ``exp``'s waiter must not hand out: a stale one (an earlier exposure's, late)
        is released; the current exposure's, taken by the waiter of one it superseded within
        its last wait slice, is kept for the current exposure's waiter."""
        cur = self._exp
        if (cur is not None and cur is not exp and cur.early is None
                and got.seq == cur.seq & 0xFFFFFFFF and cur.state in ("exposing", "ready")):
            cur.early = got
            self._cond.notify_all()
        else:
            exp.link.discard(got)

    def _check_waitable(self, exp: _Exposure) -> None:
        """Raise what ``wait_frame`` must raise for an exposure that can no longer deliver."""
        if exp.state in ("aborted", "failed", "collected"):
            if self._exp is exp:
                self._exp = None
            if exp.state == "aborted":
                raise ExposureAborted("exposure aborted")
            raise CameraError(exp.error or "frame already collected by another caller")

    def abort_exposure(self) -> None:
        with self._cond:
            self._abort_locked()

    def _abort_locked(self) -> None:
        exp = self._exp
        if exp is None:
            return
        if exp.early is not None:
            exp.link.discard(exp.early)
            exp.early = None
        if exp.state == "ready":
            exp.link.drop_ready()
            exp.state = "aborted"  # kept in self._exp: the next wait_frame reports the abort
        elif exp.state == "exposing":
            exp.state = "aborted"
            exp.abort.set()
        self._cond.notify_all()

    def is_exposing(self) -> bool:
        with self._lock:
            return self._exp is not None and self._exp.state == "exposing"

    # -- transfer ---------------------------------------------------------------------------
    def inject_fault(self, kind: str) -> None:
        """Damage the next transfer: ``"corrupt_next_frame"`` (a byte changed after the CRC) or
        ``"short_next_frame"`` (a 1024-byte packet lost). Faults queue up, one per frame."""
        with self._lock:
            self._need_open()
            assert self._link is not None
            self._link.inject_fault(kind)

    def transfer_counters(self) -> dict[str, int]:
        """The frame ring's counters for this connection: received, delivered, dropped, corrupt
        (= bad_header + short_frames + oversized + out_of_order + crc_errors), those five,
        resync_bytes, bytes_in, and the slots: ready, held, free_slots, nslots."""
        with self._lock:
            self._need_open()
            assert self._link is not None
            link = self._link
        return dataclasses.asdict(link.counters())

    def set_transfer_tap(self, tap: Callable[[memoryview], None] | None) -> None:
        """Test hook: ``tap(memoryview)`` sees every payload block as it is sent (None: off)."""
        with self._lock:
            self._need_open()
            assert self._link is not None
            self._link.tap = tap

    # -- temperature --------------------------------------------------------------------------
    def temperature(self) -> float:
        self._poll_faults()
        with self._lock:
            self._need_open()
            return self._thermal.advance()

    def set_cooler(self, on: bool, target_c: float | None = None) -> None:
        if not self.info.has_cooler:
            raise CameraError(f"{self.info.model} has no cooler")
        if target_c is not None and not -60.0 <= target_c <= 40.0:
            raise CameraError(f"target temperature {target_c} °C outside -60..40 °C")
        self._poll_faults()
        with self._lock:
            self._need_open()
            self._thermal.change(on=bool(on))  # integrates up to now under the old settings
            if target_c is not None:
                self._thermal.change(target=float(target_c))

    def cooler_power(self) -> float:
        self._poll_faults()
        with self._lock:
            self._need_open()
            return self._thermal.power()


def _check_range(name: str, value: int, bounds: tuple[int, int]) -> None:
    if not bounds[0] <= value <= bounds[1]:
        raise CameraError(f"{name} {value} outside {bounds[0]}..{bounds[1]}")
