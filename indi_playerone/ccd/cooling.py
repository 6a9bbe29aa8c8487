"""Temperature, cooler and temperature ramp of a camera device (mixed into PlayerOneCCD).

Behaviour, as libindi's camera class and the C++ driver have it, with the ramp made
continuous:
- CCD_TEMPERATURE write: a target within 0.25 °C of the current reading is Ok at once;
  otherwise the cooler goes on, the property turns Busy and turns Ok when the reading is
  within CCD_TEMP_RAMP.RAMP_THRESHOLD of the target.
- CCD_TEMP_RAMP.RAMP_SLOPE (°C/min, 0 = off): the setpoint sent to the camera starts one
  slope-step from the current temperature (libindi's first step) and then follows the slope
  towards the target, so the sensor never sees a faster change than asked.
- CCD_COOLER (write-only, as the C++ driver defines it) switches the cooler; OFF drops the
  target. A saved COOLER_ON therefore re-enables cooling when the camera connects.
- CCD_COOLER_POWER follows the camera's reading once a second, Busy while above 0 %.
Readings are polled by `TemperatureMonitor` (temperature.py).
"""
from __future__ import annotations

import math
import time
from typing import Any

from ..camera.interface import CameraError
from ..indi.properties import State
from . import names as P
from .temperature import Reading

# |target - current| below which a new setpoint counts as reached at once (C++ driver).
SETPOINT_REACHED_C = 0.25
# The camera takes whole degrees (POA_TARGET_TEMP is an int); resend the ramped setpoint
# when it has moved by this much.
SETPOINT_RESEND_C = 0.5


class CoolingMixin:
    def init_cooling(self) -> None:
        self._target: float | None = None      # where the user wants to go
        self._setpoint: float | None = None    # what the camera was last told
        self._ramp_start: tuple[float, float] | None = None  # (monotonic time, temperature)

    def _threshold(self) -> float:
        ramp = self.props.get(P.CCD_TEMP_RAMP.name)
        return ramp["RAMP_THRESHOLD"].value if ramp is not None else 0.2

    def _slope(self) -> float:
        ramp = self.props.get(P.CCD_TEMP_RAMP.name)
        return ramp["RAMP_SLOPE"].value if ramp is not None else 0.0

    def _ramped_setpoint(self, now: float) -> float:
        assert self._target is not None and self._ramp_start is not None
        slope = self._slope()
        if slope <= 0:
            return self._target
        t0, temp0 = self._ramp_start
        span = self._target - temp0
        step = slope * (1.0 + (now - t0) / 60.0)  # one step at once, then slope per minute
        return self._target if abs(span) <= step else temp0 + math.copysign(step, span)

    def _command(self, setpoint: float) -> None:
        self.camera.set_cooler(True, setpoint)
        self._setpoint = setpoint

    def _set_cooler_switch(self, on: bool) -> None:
        cooler = self.props.get(P.CCD_COOLER.name)
        if cooler is not None:
            cooler.set_only("COOLER_ON" if on else "COOLER_OFF")
            cooler.state = State.BUSY if on else State.IDLE
            self.update(cooler)

    def on_temperature(self, vector: Any, values: dict) -> None:
        target = values["CCD_TEMPERATURE_VALUE"]
        current = vector["CCD_TEMPERATURE_VALUE"].value
        self._target, self._ramp_start = target, (time.monotonic(), current)
        try:
            self._command(self._ramped_setpoint(time.monotonic()))
        except CameraError as exc:
            self._target = None
            self._alert(vector, f"Could not set the cooler to {target:.1f} C: {exc}")
            return
        self._set_cooler_switch(True)
        if abs(target - current) < SETPOINT_REACHED_C:
            self._target = None
            vector.state = State.OK
            self.update(vector)
            return
        vector.state = State.BUSY
        slope = self._slope()
        how = f" at {slope:g} C/min" if slope > 0 else ""
        self.update(vector, f"Cooling to {target:.1f} C{how}.")

    def on_cooler(self, vector: Any, values: dict) -> None:
        on = bool(values.get("COOLER_ON"))
        try:
            self.camera.set_cooler(on, self._setpoint if on else None)
        except CameraError as exc:
            self._alert(vector, f"Could not switch the cooler {'on' if on else 'off'}: {exc}")
            return
        if not on:
            self._target = self._setpoint = None
            temp = self.prop(P.CCD_TEMPERATURE)
            if temp.state is State.BUSY:
                temp.state = State.IDLE
                self.update(temp, "Cooler off.")
        self._set_cooler_switch(on)

    def temperature_reading(self, reading: Reading) -> None:
        with self.lock:
            if not self._connected:
                return
            vector = self.prop(P.CCD_TEMPERATURE)
            elem = vector["CCD_TEMPERATURE_VALUE"]
            state = vector.state
            if self._target is not None:
                setpoint = self._ramped_setpoint(time.monotonic())
                if self._setpoint is None or abs(setpoint - self._setpoint) >= SETPOINT_RESEND_C \
                        or (setpoint == self._target and self._setpoint != self._target):
                    try:
                        self._command(setpoint)
                    except CameraError as exc:
                        self._alert(vector, f"Could not move the cooler setpoint: {exc}")
                        return
                if setpoint == self._target and \
                        abs(reading.temperature_c - self._target) <= self._threshold():
                    self._target = None
                    state = State.OK
                else:
                    state = State.BUSY
            elif state is State.ALERT:
                state = State.OK
            if abs(elem.value - reading.temperature_c) > 0.05 or state is not vector.state:
                elem.value = reading.temperature_c
                vector.state = state
                self.update(vector)
            power = self.props.get(P.CCD_COOLER_POWER.name)
            if power is not None and reading.cooler_power is not None:
                value = power["CCD_COOLER_VALUE"]
                new_state = State.BUSY if reading.cooler_power > 0 else State.IDLE
                if abs(value.value - reading.cooler_power) >= 0.5 or power.state is not new_state:
                    value.value = reading.cooler_power
                    power.state = new_state
                    self.update(power)

    def temperature_error(self, message: str) -> None:
        with self.lock:
            if self._connected:
                vector = self.prop(P.CCD_TEMPERATURE)
                if vector.state is not State.ALERT:
                    self._alert(vector, message)
