"""Temperature, cooler, fan/heater defaults and warm-up of a camera device (mixed into PlayerOneCCD).

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
  controls (`FanPower`, `LensHeaterPower`) when it has them, before the saved config is
  loaded, so a saved CCD_CONTROLS value wins.
- A cooler that does not cool is reported: CCD_TEMPERATURE turns Alert with the reason,
  "12 V" supply missing (no power drawn; the camera images but cannot cool) or the target
  beyond the model's ΔT below ambient (full power, temperature flat); it goes back to Busy/Ok
  with a message when the cooler cools again. The verdict is `temperature.CoolerWatch`'s.
- A target above what the sensor reaches (above ambient: a cooler cannot heat) counts as
  reached, with a message, once the temperature has been stable for 2 minutes below it
  (libindi's rule, §4.4); otherwise CCD_TEMPERATURE would stay Busy for ever.
- Warm-up on disconnect (CCD_WARMUP_ON_DISCONNECT, off by default as the C++ driver, which
  cuts the cooler at once): a client's DISCONNECT first ramps the setpoint towards ambient at
  CCD_WARMUP_SETTINGS.WARMUP_RATE with CONNECTION Busy, then switches the cooler off and
  disconnects. The ramp ends at ambient or after WARMUP_MAX_MIN minutes (default 10, at most 15),
  whichever is first, so a disconnect always ends. Ambient is taken as the sensor temperature
  read when the camera connected (the best the driver knows: the cameras have no ambient
  sensor). A second DISCONNECT skips the rest of the ramp; a CONNECT cancels it and the camera
  stays connected. When the driver exits (indiserver gone) there is no warm-up.
"""
from __future__ import annotations

import logging
import math
import os
import threading
import time
from typing import Any

from ..camera.interface import CameraError
from ..camera.models import find_model
from ..indi.logbridge import NOT_TO_CLIENT
from ..indi.properties import State
from . import names as P
from .temperature import DELTA_T, NEAR_SETPOINT_C, NO_12V, WINDOW_ENV, CoolerWatch, Reading

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
FAN_CONTROL = "FanPower"
HEATER_CONTROL = "LensHeaterPower"

#: libindi's camera class (§4.4): a target above what the sensor reaches (warming above
#: ambient: a cooler cannot heat) counts as reached once the temperature has been stable this
#: long; "stable" is within STABLE_C. The test override of the cooler-watch windows
#: (temperature.WINDOW_ENV) applies to it too.
STABLE_S = 120.0
STABLE_C = 0.2

#: How often the warm-up thread looks at the ramp (it only watches: the setpoint is moved by
#: the once-a-second temperature poll).
WARMUP_TICK_S = 0.5


def model_delta_t(model: str) -> tuple[float, float] | None:
    """The manual's ΔT below ambient for a model (low, high), or None for a model not in the
    catalog. A custom id the SDK appends ("Ares-C PRO [guide]") is ignored."""
    try:
        return find_model(model.split(" [", 1)[0]).delta_t_c
    except KeyError:
        return None


class CoolingMixin:
    def init_cooling(self) -> None:
        self._target: float | None = None      # where the user wants to go
        self._setpoint: float | None = None    # what the camera was last told
        self._ramp_start: tuple[float, float] | None = None  # (monotonic time, temperature)
        self._slope_override: float | None = None  # the warm-up's rate while it runs
        self._ambient_c: float | None = None
        self._watch = CoolerWatch()
        self._stable: tuple[float, float] | None = None  # (since, temperature) while warming
        self._warmup_stop: threading.Event | None = None
        self._warmup_thread: threading.Thread | None = None
        self._warmup_keep = False  # a CONNECT during the warm-up: stay connected

    # --- connect / disconnect hooks -----------------------------------------------------

    def cooling_connect(self, reading: Reading | None) -> None:
        """After the camera opened: remember ambient (the first reading), a fresh watch."""
        self._ambient_c = reading.temperature_c if reading is not None else None
        self._watch = CoolerWatch()

    def fan_heater_defaults(self) -> None:
        """The manual's fan and heater defaults, set as soon as the camera is open: before
        CCD_CONTROLS is built from the camera's values and before a saved config loads."""
        names: set[str] = set()
        try:
            names = {c.name for c in self.camera.controls()}
        except (CameraError, AttributeError) as exc:  # a backend without neutral controls
            log.debug("%s: no controls for the fan/heater defaults: %s", self.name, exc)
        defaults = []
        fan = FAN_DEFAULT_PCT.get(self.camera.info.body)
        if FAN_CONTROL in names and fan is not None:
            defaults.append((FAN_CONTROL, fan))
        if HEATER_CONTROL in names:
            defaults.append((HEATER_CONTROL, HEATER_DEFAULT_PCT))
        for control, value in defaults:
            try:
                self.camera.set_control(control, value)
            except CameraError as exc:
                self.log(f"Could not set {control} to its default {value:g} %: {exc}", "WARNING")
            else:
                log.debug("%s: %s set to its default %g %%", self.name, control, value)

    def cooling_disconnect(self) -> None:
        """Disconnecting (any way): a running warm-up thread stops at its next tick."""
        stop = self._warmup_stop
        if stop is not None:
            stop.set()
        self._target = self._setpoint = None
        self._slope_override = None
        self._watch.reset()

    # --- setpoint and ramp --------------------------------------------------------------

    def _threshold(self) -> float:
        ramp = self.props.get(P.CCD_TEMP_RAMP.name)
        return ramp["RAMP_THRESHOLD"].value if ramp is not None else 0.2

    def _slope(self) -> float:
        if self._slope_override is not None:
            return self._slope_override
        ramp = self.props.get(P.CCD_TEMP_RAMP.name)
        return ramp["RAMP_SLOPE"].value if ramp is not None else 0.0

    def _ramped_setpoint(self, now: float) -> float:
        assert self._target is not None and self._ramp_start is not None
        slope = self._slope()
        if slope <= 0:
            return self._target
        t0, temp0 = self._ramp_start
        span = self._target - temp0
        # CCD_TEMP_RAMP: one step at once (libindi's first step), then the slope per minute.
        # The warm-up has no first step: it starts where the sensor is.
        lead = 0.0 if self._slope_override is not None else 1.0
        step = slope * (lead + (now - t0) / 60.0)
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
        if self._warming():
            self._alert(vector, "The camera is warming up before it disconnects; CONNECT to "
                        "cancel the warm-up first.", "WARNING")
            return
        target = values["CCD_TEMPERATURE_VALUE"]
        current = vector["CCD_TEMPERATURE_VALUE"].value
        self._target, self._ramp_start = target, (time.monotonic(), current)
        self._watch.reset()  # a new target: judge the cooler afresh, without "cooling again"
        self._stable = None
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
            self._watch.reset()
            temp = self.prop(P.CCD_TEMPERATURE)
            if temp.state in (State.BUSY, State.ALERT):
                temp.state = State.IDLE
                self.update(temp, "Cooler off.")
        self._set_cooler_switch(on)

    # --- the once-a-second reading ------------------------------------------------------

    def temperature_reading(self, reading: Reading) -> None:
        with self.lock:
            if not self._connected:
                return
            vector = self.prop(P.CCD_TEMPERATURE)
            elem = vector["CCD_TEMPERATURE_VALUE"]
            state = vector.state
            message = None
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
                elif setpoint == self._target and self._stuck_below(reading.temperature_c):
                    message = (f"The sensor stays at {reading.temperature_c:.1f} C, below the "
                               f"{self._target:.1f} C asked: the cooler cannot warm it above "
                               "ambient. Taken as reached.")
                    self._target = None
                    state = State.OK
                else:
                    state = State.BUSY
            elif state is State.ALERT:
                state = State.OK
            before = self._watch.verdict
            verdict = self._watch.feed(reading.temperature_c, reading.cooler_power, self._setpoint)
            if verdict is not None:
                state = State.ALERT
                if verdict != before:
                    message = self._cannot_cool_message(verdict, reading)
            elif before is not None:
                message = "The cooler is cooling again."
                if self._target is None and self._setpoint is not None \
                        and reading.temperature_c - self._setpoint > self._threshold():
                    # It lost the setpoint it held (12 V gone meanwhile): Busy until back there.
                    self._target = self._setpoint
                    self._ramp_start = (time.monotonic(), reading.temperature_c)
                    state = State.BUSY
            if abs(elem.value - reading.temperature_c) > 0.05 or state is not vector.state \
                    or message is not None:
                elem.value = reading.temperature_c
                vector.state = state
                self.update(vector, message)
                if message is not None:
                    log.log(logging.WARNING if verdict else logging.INFO, "%s: %s", self.name,
                            message, extra=NOT_TO_CLIENT)
            power = self.props.get(P.CCD_COOLER_POWER.name)
            if power is not None and reading.cooler_power is not None:
                value = power["CCD_COOLER_VALUE"]
                new_state = State.BUSY if reading.cooler_power > 0 else State.IDLE
                if abs(value.value - reading.cooler_power) >= 0.5 or power.state is not new_state:
                    value.value = reading.cooler_power
                    power.state = new_state
                    self.update(power)

    def _stuck_below(self, temperature: float) -> bool:
        """Below the target and stable for STABLE_S (libindi's rule for warming above ambient)."""
        assert self._target is not None
        if self._target - temperature <= self._threshold():
            self._stable = None
            return False
        now = time.monotonic()
        if self._stable is None or abs(temperature - self._stable[1]) > STABLE_C:
            self._stable = (now, temperature)
            return False
        text = os.environ.get(WINDOW_ENV, "").strip()
        try:
            window = float(text) if text else STABLE_S
        except ValueError:
            window = STABLE_S
        return now - self._stable[0] >= (window if window > 0 else STABLE_S)

    def _cannot_cool_message(self, verdict: str, reading: Reading) -> str:
        setpoint = self._setpoint if self._setpoint is not None else float("nan")
        target = self._target if self._target is not None else setpoint
        if verdict == NO_12V:
            return (f"The cooler is on but draws no power and the sensor stays at "
                    f"{reading.temperature_c:.1f} C (setpoint {setpoint:.0f} C): is the 12 V "
                    "supply connected? Without 12 V the camera takes images but cannot cool.")
        assert verdict == DELTA_T
        dt = model_delta_t(self.camera.info.model)
        if dt is None:
            limit = "ΔT beyond what this camera reaches below ambient"
            reach = None
        else:
            low, high = dt
            span = f"{low:g}" if low == high else f"{low:g}-{high:g}"
            limit = f"ΔT beyond the model's limit of {span} °C below ambient"
            reach = low
        where = ""
        if self._ambient_c is not None and reach is not None:
            where = (f" (ambient about {self._ambient_c:.0f} C when the camera connected: "
                     f"about {self._ambient_c - reach:.0f} C is sure to be reachable)")
        fan = ""
        try:
            value, _ = self.camera.get_control(FAN_CONTROL)
            if value < 100:
                fan = f" The fan runs at {value:g} %; 100 % gives the largest ΔT (manual)."
        except (CameraError, AttributeError, TypeError, ValueError):
            pass
        power = f"{reading.cooler_power:.0f}" if reading.cooler_power is not None else "full"
        return (f"Cannot reach {target:.1f} C: the cooler runs at {power} % and the sensor stays "
                f"at {reading.temperature_c:.1f} C, {limit}{where}.{fan}")

    def temperature_error(self, message: str) -> None:
        with self.lock:
            if self._connected:
                vector = self.prop(P.CCD_TEMPERATURE)
                if vector.state is not State.ALERT:
                    self._alert(vector, message)

    # --- warm-up on disconnect ----------------------------------------------------------

    def _warming(self) -> bool:
        thread = self._warmup_thread
        return thread is not None and thread.is_alive()

    def warmup_on_connection(self, vector: Any, want: bool) -> bool:
        """CONNECTION hook: True when the request was handled here (warm-up started, skipped
        or cancelled), False to let the normal connect/disconnect run."""
        if self._warming():
            assert self._warmup_stop is not None
            self._warmup_keep = want
            self._warmup_stop.set()
            if want:
                vector.set_only("CONNECT")
                vector.state = State.OK
                self.update(vector, "Warm-up cancelled; the camera stays connected.")
            else:
                self.update(vector, "Skipping the rest of the warm-up.")
            return True
        if want or not self._connected or self.props.get(P.CCD_WARMUP.name) is None:
            return False
        if not self.prop(P.CCD_WARMUP)["INDI_ENABLED"].on or self._setpoint is None:
            return False
        temp = self.prop(P.CCD_TEMPERATURE)["CCD_TEMPERATURE_VALUE"].value
        ambient = self._ambient_c
        if ambient is None or ambient - temp <= NEAR_SETPOINT_C:
            return False  # nothing to warm up from
        settings = self.prop(P.CCD_WARMUP_SETTINGS)
        rate = settings["WARMUP_RATE"].value
        limit_s = settings["WARMUP_MAX_MIN"].value * 60.0
        now = time.monotonic()
        self._target, self._ramp_start = ambient, (now, temp)
        self._slope_override = rate
        self._warmup_keep = False
        self._warmup_stop = threading.Event()
        temp_vector = self.prop(P.CCD_TEMPERATURE)
        temp_vector.state = State.BUSY
        self.update(temp_vector)
        vector.state = State.BUSY
        self.update(vector, f"Warming the sensor from {temp:.1f} C towards {ambient:.1f} C at "
                    f"{rate:g} C/min (at most {limit_s / 60:g} min) before the cooler goes off.")
        self._warmup_thread = threading.Thread(
            target=self._warmup_run, args=(self._warmup_stop, now + limit_s),
            name=f"warmup-{self.camera.info.model}", daemon=True)
        self._warmup_thread.start()
        return True

    def _cooler_idle(self) -> bool:
        power = self.props.get(P.CCD_COOLER_POWER.name)
        return power is not None and power["CCD_COOLER_VALUE"].value <= 1.0

    def finish_disconnect(self) -> None:
        """Disconnect and tell the client, as a client's DISCONNECT does (device.py)."""
        self.disconnect()
        with self.lock:
            vector = self.always[P.CONNECTION.name]
            vector.set_only("DISCONNECT")
            vector.state = State.IDLE
            self.update(vector)
        self.log("Camera is offline.")

    def _warmup_run(self, stop: threading.Event, deadline: float) -> None:
        """Watch the ramp (the temperature poll moves the setpoint), then finish the disconnect."""
        why = "ambient reached"
        while not stop.wait(WARMUP_TICK_S):
            with self.lock:
                if not self._connected:
                    return
                if self._target is None:  # the poll found the target reached
                    break
                if self._setpoint == self._target and self._cooler_idle():
                    # The setpoint is at ambient and the cooler no longer works: the sensor
                    # sits at whatever the air is now (it may have cooled since connect).
                    why = "the cooler idles at the ambient setpoint"
                    break
            if time.monotonic() >= deadline:
                why = "time limit reached"
                break
        else:
            why = "skipped"
        with self.lock:
            self._slope_override = None
            if not self._connected:
                return  # disconnected meanwhile (driver exit)
            if self._warmup_keep:  # a CONNECT cancelled the warm-up: hold where it is
                self._target = None
                temp = self.prop(P.CCD_TEMPERATURE)
                temp.state = State.OK
                self.update(temp)
                return
            temp_c = self.prop(P.CCD_TEMPERATURE)["CCD_TEMPERATURE_VALUE"].value
            self._target = None
            try:
                self.camera.set_cooler(False)
            except CameraError as exc:
                log.warning("%s: switching the cooler off after the warm-up: %s", self.name, exc)
        self.log(f"Warm-up ended ({why}) at {temp_c:.1f} C; cooler off.")
        try:
            self.finish_disconnect()
        except Exception:  # the thread must not die with the device half disconnected
            log.exception("%s: disconnecting after the warm-up", self.name)
