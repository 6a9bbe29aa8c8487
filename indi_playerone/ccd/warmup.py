"""Warm-up on disconnect (CCD_WARMUP_ON_DISCONNECT, CCD_WARMUP_SETTINGS): part of cooling.

Off by default, as in the C++ driver, which cuts the cooler at once. When it is on, a
client's DISCONNECT first ramps the setpoint towards ambient at WARMUP_RATE with CONNECTION
Busy, then switches the cooler off and disconnects. The ramp ends at ambient or after
WARMUP_MAX_MIN minutes (default 10, at most 15), whichever is first, so a disconnect always
ends. Ambient is the sensor temperature read when the camera connected (the best the driver
knows: the cameras have no ambient sensor). A second DISCONNECT skips the rest of the ramp; a
CONNECT cancels it and the camera stays connected. When the driver exits (indiserver gone)
there is no warm-up.

The setpoint is moved by the cooling component's once-a-second reading, as for any ramp;
the warm-up's thread only watches it and finishes the disconnect.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable, Protocol

from ..camera.interface import CameraBackend, CameraError
from ..indi.defaultdevice import DefaultDevice
from ..indi.properties import State
from .temperature import NEAR_SETPOINT_C

log = logging.getLogger(__name__)


class Ramp(Protocol):
    """What the warm-up needs of the cooling component that owns it."""

    device: DefaultDevice
    camera: CameraBackend
    temperature: Any           # CCD_TEMPERATURE
    target: float | None       # where the ramp goes (None: reached, or none asked)
    setpoint: float | None     # what the camera was last told
    ambient_c: float | None
    slope_override: float | None

    def start_ramp(self, target: float, temperature: float, slope: float | None = None) -> None: ...
    def cooler_idle(self) -> bool: ...

#: How often the warm-up thread looks at the ramp (it only watches: the setpoint is moved by
#: the once-a-second temperature poll).
WARMUP_TICK_S = 0.5


class WarmUp:
    def __init__(self, cooling: Ramp, switch: Any, settings: Any,
                 finish_disconnect: Callable[[], None]) -> None:
        self.cooling = cooling
        self.switch = switch      # CCD_WARMUP_ON_DISCONNECT, None without a cooler
        self.settings = settings  # CCD_WARMUP_SETTINGS
        self._finish_disconnect = finish_disconnect
        self._stop: threading.Event | None = None
        self._thread: threading.Thread | None = None
        self._keep = False  # a CONNECT during the warm-up: stay connected

    def running(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    def stop(self) -> None:
        """Disconnecting (any way): a running warm-up thread stops at its next tick."""
        if self._stop is not None:
            self._stop.set()

    def on_connection(self, vector: Any, want: bool) -> bool:
        """CONNECTION hook: True when the request was handled here (warm-up started, skipped
        or cancelled), False to let the normal connect/disconnect run."""
        cooling = self.cooling
        device = cooling.device
        if self.running():
            assert self._stop is not None
            self._keep = want
            self._stop.set()
            if want:
                vector.set_only("CONNECT")
                device.ok(vector, "Warm-up cancelled; the camera stays connected.")
            else:
                device.update(vector, "Skipping the rest of the warm-up.")
            return True
        if want or not device.connected or self.switch is None:
            return False
        if not self.switch["INDI_ENABLED"].on or cooling.setpoint is None:
            return False
        temp = cooling.temperature["CCD_TEMPERATURE_VALUE"].value
        ambient = cooling.ambient_c
        if ambient is None or ambient - temp <= NEAR_SETPOINT_C:
            return False  # nothing to warm up from
        rate = self.settings["WARMUP_RATE"].value
        limit_s = self.settings["WARMUP_MAX_MIN"].value * 60.0
        now = time.monotonic()
        cooling.start_ramp(ambient, temp, slope=rate)
        self._keep = False
        self._stop = threading.Event()
        cooling.temperature.state = State.BUSY
        device.update(cooling.temperature)
        vector.state = State.BUSY
        device.update(vector, f"Warming the sensor from {temp:.1f} C towards {ambient:.1f} C at "
                      f"{rate:g} C/min (at most {limit_s / 60:g} min) before the cooler goes off.")
        self._thread = threading.Thread(
            target=self._run, args=(self._stop, now + limit_s),
            name=f"warmup-{cooling.camera.info.model}", daemon=True)
        self._thread.start()
        return True

    def _run(self, stop: threading.Event, deadline: float) -> None:
        """Watch the ramp (the temperature poll moves the setpoint), then finish the disconnect."""
        cooling = self.cooling
        device = cooling.device
        why = "ambient reached"
        while not stop.wait(WARMUP_TICK_S):
            with device.lock:
                if not device.connected:
                    return
                if cooling.target is None:  # the poll found the target reached
                    break
                if cooling.setpoint == cooling.target and cooling.cooler_idle():
                    # The setpoint is at ambient and the cooler no longer works: the sensor
                    # sits at whatever the air is now (it may have cooled since connect).
                    why = "the cooler idles at the ambient setpoint"
                    break
            if time.monotonic() >= deadline:
                why = "time limit reached"
                break
        else:
            why = "skipped"
        with device.lock:
            cooling.slope_override = None
            if not device.connected:
                return  # disconnected meanwhile (driver exit)
            if self._keep:  # a CONNECT cancelled the warm-up: hold where it is
                cooling.target = None
                device.ok(cooling.temperature)
                return
            temp_c = cooling.temperature["CCD_TEMPERATURE_VALUE"].value
            cooling.target = None
            try:
                cooling.camera.set_cooler(False)
            except CameraError as exc:
                log.warning("%s: switching the cooler off after the warm-up: %s", device.name, exc)
        device.log(f"Warm-up ended ({why}) at {temp_c:.1f} C; cooler off.")
        try:
            self._finish_disconnect()
        except Exception:  # the thread must not die with the device half disconnected
            log.exception("%s: disconnecting after the warm-up", device.name)
