"""The simulated camera's optional capabilities and its runtime faults (a mixin of
:class:`~indi_playerone.camera.simulator.SimulatedCamera`, kept apart so each module stays small).

Capabilities (the contract at the end of :mod:`.interface`): the controls of :mod:`.sim_controls`,
the presets and sensor modes of :mod:`.sim_sensor`, flips (the frame the camera delivers is
mirrored: :mod:`.sim_frames` mirrors the scene), dropped frames, the USB link, the simulator's
version, and ST4 guiding for cameras given a port (option ``st4``): pulses are recorded
(:meth:`SimCapabilities.guide_log`) and move the star field at ``GUIDE_PX_PER_S`` (assumed: 0.5×
sidereal on a typical guide scale) for the time each output was on; N moves the stars up (−y),
S down, E left (−x), W right.

Faults from the fault file (:mod:`.sim_faults`) are applied here, outside the camera's lock (an
unplug closes the camera, which waits for the readout thread).
"""
from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from .interface import GUIDE_DIRECTIONS, CameraError, Control, GainPreset
from .sim_controls import ControlValues
from .sim_faults import FaultLine
from .sim_frames import FrameSettings
from .sim_sensor import gain_presets, readout_s, sensor_modes

if TYPE_CHECKING:
    from .simulator import SimulatedCamera

__all__ = ["SimCapabilities", "GUIDE_PX_PER_S"]

log = logging.getLogger("indi_playerone.camera.simulator")

GUIDE_PX_PER_S = 2.0
_GUIDE_STEP = {"N": (0.0, -1.0), "S": (0.0, 1.0), "E": (-1.0, 0.0), "W": (1.0, 0.0)}


class SimCapabilities:
    """Mixin: needs the camera's ``_lock``, ``_need_open``, ``_need_idle``, ``_thermal``,
    ``_link``, ``_faults``, ``_fault_lock``, ``_ddr``, ``spec``, ``info``."""

    _lock: threading.Lock

    def _init_capabilities(self: SimulatedCamera) -> None:
        self._controls = ControlValues(self.spec)
        self._mode = 0
        self._flip = (False, False)
        self._dropped = 0
        self._unplugged = False
        self._unplug_after: int | None = None
        self._exposure_faults: dict[str, list[int]] = {}  # name -> [remaining]; 0 = until cleared
        self._guide_on: dict[str, float] = {}  # direction -> monotonic time switched on
        self._guide_shift_px = [0.0, 0.0]
        self._guide_log: list[tuple[str, bool, float]] = []

    # -- settings the exposure is started with ------------------------------------------------
    def _frame_settings(self: SimulatedCamera, exposure_s: float) -> FrameSettings:
        """The settings of an exposure starting now (camera lock held)."""
        return FrameSettings(
            self._roi, self._bits, self._gain, self._offset, self._thermal.advance(), exposure_s,
            low_noise=bool(sensor_modes(self.spec)) and self._mode == 1,
            bin_sum=self._controls.values["PixelBinSum"] == 1.0, flip=self._flip,
            star_shift=self._guide_shift_now())

    def _readout_s(self: SimulatedCamera, s: FrameSettings) -> float:
        nbytes = s.roi.width * s.roi.height * (2 if s.bits == 16 else 1)
        return readout_s(self.spec, s.roi.height, s.roi.bin, nbytes, low_noise=s.low_noise,
                         usb3=self.info.usb3,
                         bandwidth_pct=self._controls.values["USBBandWidthLimit"])

    # -- controls -------------------------------------------------------------------------------
    def controls(self: SimulatedCamera) -> tuple[Control, ...]:
        return tuple(self._controls.table.values())

    def get_control(self: SimulatedCamera, name: str) -> tuple[float, bool]:
        self._poll_faults()
        with self._lock:
            self._controls.control(name, self.info.model)
            self._need_open()
            value, auto = self._controls.get(name)
            if name == "Gain":
                value = float(self._gain)
            elif name == "Offset":
                value = float(self._offset)
            return value, auto

    def set_control(self: SimulatedCamera, name: str, value: float, auto: bool = False) -> None:
        v = self._controls.check(name, value, self.info.model)
        if name == "Gain":
            self.set_gain(int(v))
        elif name == "Offset":
            self.set_offset(int(v))
        self._poll_faults()
        with self._lock:
            self._need_open()
            if name == "FanPower":
                self._thermal.change(fan=v)
            elif name == "LensHeaterPower":
                self._thermal.change(heater=v)
            self._controls.store(name, v, auto)

    def gain_presets(self: SimulatedCamera) -> tuple[GainPreset, ...]:
        return gain_presets(self.spec)

    # -- sensor modes and flips -------------------------------------------------------------------
    def sensor_modes(self: SimulatedCamera) -> tuple[str, ...]:
        return sensor_modes(self.spec)

    def sensor_mode(self: SimulatedCamera) -> int:
        return int(self._read("_mode"))

    def set_sensor_mode(self: SimulatedCamera, index: int) -> None:
        modes = sensor_modes(self.spec)
        if not modes:
            raise CameraError(f"{self.info.model} has no sensor modes")
        if not 0 <= index < len(modes):
            raise CameraError(f"sensor mode {index} does not exist (modes: {', '.join(modes)})")
        self._poll_faults()
        with self._lock:
            self._need_idle("the sensor mode")
            self._mode = int(index)

    def can_flip(self) -> bool:
        return True

    def flip(self: SimulatedCamera) -> tuple[bool, bool]:
        return self._read("_flip")

    def set_flip(self: SimulatedCamera, horizontal: bool, vertical: bool) -> None:
        self._poll_faults()
        with self._lock:
            self._need_idle("the flip")
            self._flip = (bool(horizontal), bool(vertical))

    # -- information ----------------------------------------------------------------------------
    def dropped_frames(self: SimulatedCamera) -> int:
        """Frames lost since open: failed transfers (corrupt, short, timed out), frame-buffer
        overflows (:mod:`.sim_ddr`: video's camera-side losses are counted there, and only
        there) and frames the host ring dropped in video (the running run's, read live;
        finished runs' were added to ``_dropped`` by ``stop_video``)."""
        with self._lock:
            lost = self._dropped + self._ddr.dropped
            video = getattr(self, "_video", None)
        if video is not None:
            lost += int(video.counters().get("host_dropped", 0))
        return lost

    def usb_link(self) -> str:
        return "USB3" if self.info.usb3 else "USB2"  # type: ignore[attr-defined]

    def sdk_version(self) -> str:
        from indi_playerone import __version__

        return f"simulator {__version__}"

    # -- ST4 ------------------------------------------------------------------------------------
    def guide(self: SimulatedCamera, direction: str, on: bool) -> None:
        if not self.info.has_st4:
            raise CameraError(f"{self.info.model} has no ST4 port")
        if direction not in GUIDE_DIRECTIONS:
            raise CameraError(f"guide direction {direction!r} is not one of "
                              f"{', '.join(GUIDE_DIRECTIONS)}")
        with self._lock:
            self._need_open()
            now = time.monotonic()
            started = self._guide_on.pop(direction, None)
            if started is not None:
                self._add_guide_motion(direction, now - started)
            if on:
                self._guide_on[direction] = now
            self._guide_log.append((direction, bool(on), now))

    def guide_log(self: SimulatedCamera) -> list[tuple[str, bool, float]]:
        """Every guide switch so far: (direction, on, monotonic time)."""
        with self._lock:
            return list(self._guide_log)

    def _add_guide_motion(self: SimulatedCamera, direction: str, seconds: float) -> None:
        sx, sy = _GUIDE_STEP[direction]
        self._guide_shift_px[0] += sx * seconds * GUIDE_PX_PER_S
        self._guide_shift_px[1] += sy * seconds * GUIDE_PX_PER_S

    def _guide_shift_now(self: SimulatedCamera) -> tuple[float, float]:
        now = time.monotonic()
        x, y = self._guide_shift_px
        for direction, started in self._guide_on.items():
            sx, sy = _GUIDE_STEP[direction]
            x += sx * (now - started) * GUIDE_PX_PER_S
            y += sy * (now - started) * GUIDE_PX_PER_S
        return (x, y)

    # -- runtime faults -------------------------------------------------------------------------
    def _poll_faults(self: SimulatedCamera) -> None:
        """Apply the fault file's new lines (at most every 50 ms; one thread at a time)."""
        if self._faults.path is None or not self._fault_lock.acquire(blocking=False):
            return
        try:
            for fault in self._faults.poll():
                self._apply_fault(fault)
        finally:
            self._fault_lock.release()

    def _apply_fault(self: SimulatedCamera, fault: FaultLine) -> None:
        log.info("%s (%s): fault %s%s applied", self.info.model, self.info.serial, fault.name,
                 f"={fault.arg}" if fault.arg else "")
        name = fault.name
        if name in ("unplug", "unplug_after") and (name == "unplug" or fault.arg == 0):
            self._unplug()
            return
        with self._lock:
            if name in ("never_ready", "timeout"):
                self._exposure_faults[name] = [fault.arg]
            elif name == "unplug_after":
                self._unplug_after = fault.arg
            elif name == "replug":
                self._unplugged = False
            elif name in ("no_12v", "12v"):
                self._thermal.change(supply_12v=name == "12v")
            elif name == "none":  # as the fake SDK's: every fault, the missing 12 V included
                self._exposure_faults.clear()
                self._unplug_after = None
                self._thermal.change(supply_12v=True)
            elif self._link is not None:  # corrupt_next_frame, short_next_frame
                self._link.inject_fault(name)
            else:
                log.warning("%s: fault %s ignored: the camera is not connected",
                            self.info.serial, name)

    def _take_exposure_fault(self: SimulatedCamera) -> str | None:
        """At the end of an exposure: "never_ready", "timeout" or None (counts one use)."""
        with self._lock:
            for name in ("never_ready", "timeout"):
                left = self._exposure_faults.get(name)
                if left is None:
                    continue
                if left[0] > 0:
                    left[0] -= 1
                    if left[0] == 0:
                        del self._exposure_faults[name]
                if name == "timeout":
                    self._dropped += 1
                return name
        return None

    def _frame_delivered(self: SimulatedCamera) -> bool:
        """A frame was handed out: True when an ``unplug_after`` count just ran out."""
        with self._lock:
            if self._unplug_after is None:
                return False
            self._unplug_after -= 1
            if self._unplug_after > 0:
                return False
            self._unplug_after = None
            return True

    def _unplug(self: SimulatedCamera) -> None:
        """The camera is gone: closed, and every call fails until ``replug``."""
        with self._lock:
            if self._unplugged:
                return
            self._unplugged = True
            self._unplug_after = None
            exp = self._exp
            if exp is not None and exp.state in ("exposing", "ready"):  # the waiter must Alert
                exp.state, exp.error = "failed", "the camera was unplugged (camera not found)"
                exp.abort.set()
                self._cond.notify_all()
        log.warning("%s (%s) was unplugged (simulated)", self.info.model, self.info.serial)
        try:  # a waiting video_frame raises this, not a plain "stopped"
            self._stop_video("the camera was unplugged (camera not found)")
        except CameraError:
            pass
        self.close()
