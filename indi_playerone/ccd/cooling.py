"""Temperature, cooler and fan/heater defaults of a camera device (CCD_TEMPERATURE, CCD_TEMP_RAMP,
CCD_COOLER, CCD_COOLER_POWER), and the warm-up settings (warmup.py runs the warm-up).

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

Beyond the C++ driver (issue 5, "Cooling"):
- Fan and dew-heater defaults at connect, from the manual's cooler chapter: fan 50 % on
  carbon-fibre bodies, 70 % on aluminium ones, heater 10 %. Set through the camera's own
  controls (POA_FAN_POWER and POA_HEATER_POWER, whatever the camera names them) when it has
  them, before the saved config is loaded, so a saved CCD_CONTROLS value wins.
- A cooler that does not cool is reported: CCD_TEMPERATURE turns Alert with the reason,
  "12 V" supply missing (no power drawn; the camera images but cannot cool) or the target
  beyond the model's ΔT below ambient (full power, temperature flat); it goes back to Busy/Ok
  with a message when the cooler cools again. The verdict is `temperature.CoolerWatch`'s.
- A target above what the sensor reaches (above ambient: a cooler cannot heat) counts as
  reached, with a message, once the temperature has been stable for 2 minutes below it
  (libindi's rule in indiccd.cpp); otherwise CCD_TEMPERATURE would stay Busy for ever.
- Warm-up on disconnect (CCD_WARMUP_ON_DISCONNECT, CCD_WARMUP_SETTINGS): see warmup.py.
"""
from __future__ import annotations

import logging
import math
import time
from typing import Any, Callable

from ..camera.interface import (
    KEY_FAN_POWER, KEY_HEATER_POWER, CameraBackend, CameraError, Control, control_by_key,
)
from ..indi.component import Component, IfPresent, handles
from ..indi.defaultdevice import DefaultDevice
from ..indi.envvars import float_from_env
from ..indi.logbridge import NOT_TO_CLIENT
from ..indi.properties import State
from . import names as P
from .controls import set_default
from .temperature import DELTA_T, NO_12V, WINDOW_ENV, CoolerWatch, Reading, TemperatureMonitor
from .warmup import WarmUp

log = logging.getLogger(__name__)

# |target - current| below which a new setpoint counts as reached at once (C++ driver).
SETPOINT_REACHED_C = 0.25
# The camera takes whole degrees (POA_TARGET_TEMP is an int); resend the ramped setpoint
# when it has moved by this much.
SETPOINT_RESEND_C = 0.5

#: The manual's cooler chapter: "Carbon fiber camera default power is 50%, Aluminum camera
#: default power is 70%"; "Anti-Dew ... Default power is 10%".
FAN_DEFAULT_PCT = {"carbon fibre": 50.0, "aluminium": 70.0}
HEATER_DEFAULT_PCT = 10.0

#: libindi's camera class (indiccd.cpp): a target above what the sensor reaches (warming above
#: ambient: a cooler cannot heat) counts as reached once the temperature has been stable this
#: long; "stable" is within STABLE_C. The test override of the cooler-watch windows
#: (temperature.WINDOW_ENV) applies to it too.
STABLE_S = 120.0
STABLE_C = 0.2


class Cooling(Component):
    """Owns the temperature vectors and, while connected, the `TemperatureMonitor`."""

    vector_table = {"ramp": IfPresent(P.CCD_TEMP_RAMP), "power": IfPresent(P.CCD_COOLER_POWER),
                    "cooler": IfPresent(P.CCD_COOLER), "warmup_switch": IfPresent(P.CCD_WARMUP),
                    "warmup_settings": IfPresent(P.CCD_WARMUP_SETTINGS)}

    def __init__(self, device: DefaultDevice, camera: CameraBackend,
                 finish_disconnect: Callable[[], None]) -> None:
        super().__init__(device, camera=camera)
        has_cooler = camera.info.has_cooler
        self.temperature = self.build(P.CCD_TEMPERATURE, perm=None if has_cooler else "ro")
        self.warmup = WarmUp(self, self.warmup_switch, self.warmup_settings, finish_disconnect)
        self.monitor: TemperatureMonitor | None = None
        self.target: float | None = None      # where the user wants to go
        self.setpoint: float | None = None    # what the camera was last told
        self._ramp_start: tuple[float, float] | None = None  # (monotonic time, temperature)
        self.slope_override: float | None = None  # the warm-up's rate while it runs
        self.ambient_c: float | None = None
        self._watch = CoolerWatch()
        self._stable: tuple[float, float] | None = None  # (since, temperature) while warming

    # --- connect / disconnect -----------------------------------------------------------

    def fan_heater_defaults(self) -> None:
        """The manual's fan and heater defaults, set as soon as the camera is open: before
        CCD_CONTROLS is built from the camera's values and before a saved config loads."""
        controls: tuple[Control, ...] = ()
        try:
            controls = self.camera.controls()
        except (CameraError, AttributeError) as exc:  # a backend without neutral controls
            log.debug("%s: no controls for the fan/heater defaults: %s", self.device.name, exc)
        defaults = []
        fan = control_by_key(controls, KEY_FAN_POWER)
        fan_pct = FAN_DEFAULT_PCT.get(self.camera.info.body)
        if fan is not None and fan_pct is not None:
            defaults.append((fan.name, fan_pct))
        heater = control_by_key(controls, KEY_HEATER_POWER)
        if heater is not None:
            defaults.append((heater.name, HEATER_DEFAULT_PCT))
        for control, value in defaults:
            if set_default(self.device, self.camera, control, value,
                           f"{control} to its default {value:g} %"):
                log.debug("%s: %s set to its default %g %%", self.device.name, control, value)

    def start(self) -> None:
        """The camera is connected: poll its temperature; the first reading is ambient (the
        cameras have no ambient sensor)."""
        self.monitor = TemperatureMonitor(self.camera, self)
        reading = self.monitor.read_once()
        if reading is not None:
            self.temperature["CCD_TEMPERATURE_VALUE"].value = reading.temperature_c
        self.ambient_c = reading.temperature_c if reading is not None else None
        self._watch = CoolerWatch()

    def disconnect(self) -> TemperatureMonitor | None:
        """Disconnecting (any way; under the device lock): a running warm-up stops at its
        next tick, the target is forgotten. Returns the monitor for the caller to close
        outside the lock."""
        self.warmup.stop()
        self.target = self.setpoint = None
        self.slope_override = None
        self._watch.reset()
        monitor, self.monitor = self.monitor, None
        return monitor

    # --- setpoint and ramp --------------------------------------------------------------

    def _threshold(self) -> float:
        ramp = self.ramp
        return ramp["RAMP_THRESHOLD"].value if ramp is not None else 0.2

    def _slope(self) -> float:
        if self.slope_override is not None:
            return self.slope_override
        ramp = self.ramp
        return ramp["RAMP_SLOPE"].value if ramp is not None else 0.0

    def start_ramp(self, target: float, temperature: float, slope: float | None = None) -> None:
        """Move the setpoint from `temperature` towards `target`; `slope` (C/min) replaces
        CCD_TEMP_RAMP's for this ramp (the warm-up's rate)."""
        self.target, self._ramp_start = target, (time.monotonic(), temperature)
        self.slope_override = slope

    def cooler_idle(self) -> bool:
        return self.power is not None and self.power["CCD_COOLER_VALUE"].value <= 1.0

    def _ramped_setpoint(self, now: float) -> float:
        assert self.target is not None and self._ramp_start is not None
        slope = self._slope()
        if slope <= 0:
            return self.target
        t0, temp0 = self._ramp_start
        span = self.target - temp0
        # CCD_TEMP_RAMP: one step at once (libindi's first step), then the slope per minute.
        # The warm-up has no first step: it starts where the sensor is.
        lead = 0.0 if self.slope_override is not None else 1.0
        step = slope * (lead + (now - t0) / 60.0)
        return self.target if abs(span) <= step else temp0 + math.copysign(step, span)

    def _command(self, setpoint: float) -> None:
        self.camera.set_cooler(True, setpoint)
        self.setpoint = setpoint

    def _set_cooler_switch(self, on: bool) -> None:
        cooler = self.cooler
        if cooler is not None:
            cooler.set_only("COOLER_ON" if on else "COOLER_OFF")
            cooler.state = State.BUSY if on else State.IDLE
            self.device.update(cooler)

    @handles(P.CCD_TEMPERATURE)
    def on_temperature(self, vector: Any, values: dict) -> None:
        if self.warmup.running():
            self.device.alert(vector, "The camera is warming up before it disconnects; CONNECT to "
                        "cancel the warm-up first.", "WARNING")
            return
        target = values["CCD_TEMPERATURE_VALUE"]
        current = vector["CCD_TEMPERATURE_VALUE"].value
        self.target, self._ramp_start = target, (time.monotonic(), current)
        self._watch.reset()  # a new target: judge the cooler afresh, without "cooling again"
        self._stable = None
        try:
            self._command(self._ramped_setpoint(time.monotonic()))
        except CameraError as exc:
            self.target = None
            self.device.alert(vector, f"Could not set the cooler to {target:.1f} C: {exc}")
            return
        self._set_cooler_switch(True)
        if abs(target - current) < SETPOINT_REACHED_C:
            self.target = None
            self.device.ok(vector)
            return
        vector.state = State.BUSY
        slope = self._slope()
        how = f" at {slope:g} C/min" if slope > 0 else ""
        self.device.update(vector, f"Cooling to {target:.1f} C{how}.")

    @handles(P.CCD_COOLER)
    def on_cooler(self, vector: Any, values: dict) -> None:
        on = bool(values.get("COOLER_ON"))
        try:
            self.camera.set_cooler(on, self.setpoint if on else None)
        except CameraError as exc:
            self.device.alert(vector, f"Could not switch the cooler {'on' if on else 'off'}: {exc}")
            return
        if not on:
            self.target = self.setpoint = None
            self._watch.reset()
            temp = self.temperature
            if temp.state in (State.BUSY, State.ALERT):
                temp.state = State.IDLE
                self.device.update(temp, "Cooler off.")
        self._set_cooler_switch(on)

    # --- the once-a-second reading ------------------------------------------------------

    def temperature_reading(self, reading: Reading) -> None:
        with self.device.lock:
            if not self.device.connected:
                return
            vector = self.temperature
            elem = vector["CCD_TEMPERATURE_VALUE"]
            state = vector.state
            message = None
            if self.target is not None:
                setpoint = self._ramped_setpoint(time.monotonic())
                if self.setpoint is None or abs(setpoint - self.setpoint) >= SETPOINT_RESEND_C \
                        or (setpoint == self.target and self.setpoint != self.target):
                    try:
                        self._command(setpoint)
                    except CameraError as exc:
                        self.device.alert(vector, f"Could not move the cooler setpoint: {exc}")
                        return
                if setpoint == self.target and \
                        abs(reading.temperature_c - self.target) <= self._threshold():
                    self.target = None
                    state = State.OK
                elif setpoint == self.target and self._stuck_below(reading.temperature_c):
                    message = (f"The sensor stays at {reading.temperature_c:.1f} C, below the "
                               f"{self.target:.1f} C asked: the cooler cannot warm it above "
                               "ambient. Taken as reached.")
                    self.target = None
                    state = State.OK
                else:
                    state = State.BUSY
            elif state is State.ALERT:
                state = State.OK
            before = self._watch.verdict
            verdict = self._watch.feed(reading.temperature_c, reading.cooler_power, self.setpoint)
            if verdict is not None:
                state = State.ALERT
                if verdict != before:
                    message = self._cannot_cool_message(verdict, reading)
            elif before is not None:
                message = "The cooler is cooling again."
                if self.target is None and self.setpoint is not None \
                        and reading.temperature_c - self.setpoint > self._threshold():
                    # It lost the setpoint it held (12 V gone meanwhile): Busy until back there.
                    self.target = self.setpoint
                    self._ramp_start = (time.monotonic(), reading.temperature_c)
                    state = State.BUSY
            if abs(elem.value - reading.temperature_c) > 0.05 or state is not vector.state \
                    or message is not None:
                elem.value = reading.temperature_c
                vector.state = state
                self.device.update(vector, message)
                if message is not None:
                    log.log(logging.WARNING if verdict else logging.INFO, "%s: %s", self.device.name,
                            message, extra=NOT_TO_CLIENT)
            power = self.power
            if power is not None and reading.cooler_power is not None:
                value = power["CCD_COOLER_VALUE"]
                new_state = State.BUSY if reading.cooler_power > 0 else State.IDLE
                if abs(value.value - reading.cooler_power) >= 0.5 or power.state is not new_state:
                    value.value = reading.cooler_power
                    power.state = new_state
                    self.device.update(power)

    def _stuck_below(self, temperature: float) -> bool:
        """Below the target and stable for STABLE_S (libindi's rule for warming above ambient)."""
        assert self.target is not None
        if self.target - temperature <= self._threshold():
            self._stable = None
            return False
        now = time.monotonic()
        if self._stable is None or abs(temperature - self._stable[1]) > STABLE_C:
            self._stable = (now, temperature)
            return False
        window = float_from_env(WINDOW_ENV, STABLE_S)
        return now - self._stable[0] >= (window if window > 0 else STABLE_S)

    def _cannot_cool_message(self, verdict: str, reading: Reading) -> str:
        setpoint = self.setpoint if self.setpoint is not None else float("nan")
        target = self.target if self.target is not None else setpoint
        if verdict == NO_12V:
            return (f"The cooler is on but draws no power and the sensor stays at "
                    f"{reading.temperature_c:.1f} C (setpoint {setpoint:.0f} C): is the 12 V "
                    "supply connected? Without 12 V the camera takes images but cannot cool.")
        assert verdict == DELTA_T
        dt = self.camera.info.delta_t_c
        if dt is None:
            limit = "ΔT beyond what this camera reaches below ambient"
            reach = None
        else:
            low, high = dt
            span = f"{low:g}" if low == high else f"{low:g}-{high:g}"
            limit = f"ΔT beyond the model's limit of {span} °C below ambient"
            reach = low
        where = ""
        if self.ambient_c is not None and reach is not None:
            where = (f" (ambient about {self.ambient_c:.0f} C when the camera connected: "
                     f"about {self.ambient_c - reach:.0f} C is sure to be reachable)")
        fan = ""
        try:
            control = control_by_key(self.camera.controls(), KEY_FAN_POWER)
            if control is None:
                raise ValueError("no fan control")
            value, _ = self.camera.get_control(control.name)
            if value < 100:
                fan = f" The fan runs at {value:g} %; 100 % gives the largest ΔT (manual)."
        except (CameraError, AttributeError, TypeError, ValueError):
            pass
        power = f"{reading.cooler_power:.0f}" if reading.cooler_power is not None else "full"
        return (f"Cannot reach {target:.1f} C: the cooler runs at {power} % and the sensor stays "
                f"at {reading.temperature_c:.1f} C, {limit}{where}.{fan}")

    def temperature_error(self, message: str) -> None:
        with self.device.lock:
            if self.device.connected:
                vector = self.temperature
                if vector.state is not State.ALERT:
                    self.device.alert(vector, message)
