"""Temperature polling of one camera, once a second, on its own thread.

The C++ driver reads the sensor temperature every second and sends
CCD_TEMPERATURE only when it moved by more than 0.05 °C or its state changed;
so do we. Readings no sensor can produce (field reports of -300 °C straight from
the SDK, NaN) are dropped with a debug message instead of reaching the client; an
impossible cooler power (outside 0..100 %, NaN) is dropped the same way while the
temperature is kept.

`CoolerWatch` turns the same readings into a verdict on a cooler that is on but does
not get to its setpoint: no power at all (the 12 V supply is missing: the manual says the
camera then images but cannot cool) or full power with the temperature flat above the
setpoint (the target is beyond the ΔT the camera reaches below ambient).
"""
from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Callable, Protocol

from ..camera.interface import CameraBackend, CameraError
from ..indi.envvars import float_from_env

log = logging.getLogger(__name__)

POLL_S = 1.0
REPORT_DELTA_C = 0.05
PLAUSIBLE_C = (-80.0, 90.0)


@dataclass
class Reading:
    temperature_c: float
    cooler_power: float | None  # percent, None without a cooler


class TemperatureSink(Protocol):
    def temperature_reading(self, reading: Reading) -> None: ...
    def temperature_error(self, message: str) -> None: ...


#: Test seam: a factor (0 < f <= 1) on this module's time constants: the poll period, the
#: verdict windows and their margins. Tests run a fast simulated cooler (the simulators'
#: cooler_tau) and judge it in a twentieth of the time with the windows in their real
#: proportion. Not meant for users (an unset, invalid or larger value means 1).
TIME_SCALE_ENV = "INDI_PLAYERONE_TEST_TIME_SCALE"


def time_scale() -> float:
    value = float_from_env(TIME_SCALE_ENV, 1.0)
    return value if 0.0 < value <= 1.0 else 1.0


def poll_period() -> float:
    """Seconds between readings: POLL_S, times the test seam's factor."""
    return POLL_S * time_scale()


class TemperatureMonitor:
    """Calls `sink.temperature_reading` every second with a plausible reading."""

    def __init__(self, camera: CameraBackend, sink: TemperatureSink,
                 period: Callable[[], float] | None = None) -> None:
        self._camera = camera
        self._sink = sink
        if period is None:
            every = poll_period()
            period = lambda: every  # noqa: E731
        self._period = period
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"temperature-{camera.info.model}",
                                        daemon=True)
        self._thread.start()

    def close(self, timeout: float = 3.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def read_once(self) -> Reading | None:
        try:
            t = self._camera.temperature()
            power = self._camera.cooler_power() if self._camera.info.has_cooler else None
        except CameraError as exc:
            self._sink.temperature_error(f"Could not read the sensor temperature: {exc}")
            return None
        if not (math.isfinite(t) and PLAUSIBLE_C[0] <= t <= PLAUSIBLE_C[1]):
            log.debug("ignoring implausible temperature reading %r", t)
            return None
        if power is not None and not (math.isfinite(power) and 0.0 <= power <= 100.0):
            log.debug("ignoring implausible cooler power reading %r", power)
            power = None
        return Reading(t, power)

    def _loop(self) -> None:
        while not self._stop.wait(self._period()):
            reading = self.read_once()
            if reading is not None:
                try:
                    self._sink.temperature_reading(reading)
                except Exception:  # a failed update must not end the polling
                    log.exception("temperature update failed")


# --- a cooler that does not cool ---------------------------------------------------------------

#: Readings closer than this above the setpoint count as "there" (the camera regulates to whole
#: degrees; the fake SDK and the simulator settle within a few tenths).
NEAR_SETPOINT_C = 1.0
#: Power at or below this is "no power": with 12 V a cooler asked to cool draws power at once
#: (the fake SDK reports 100 % while pulling down); without 12 V the SDK reports 0.
NO_POWER_PCT = 1.0
#: Power at or above this is "flat out".
FULL_POWER_PCT = 95.0
#: Over a whole window, a fall smaller than this is "flat"; recovering needs twice as much, so a
#: temperature creeping at the threshold does not make the verdict flap.
FLAT_C = 0.3
#: How long a symptom must last before the driver says so. No power shows within seconds; a flat
#: temperature needs longer, since a real sensor pulling down at full power with a time constant of
#: minutes still falls by well over FLAT_C in 30 s (1 °C/min is already 0.5 °C).
NO_POWER_WINDOW_S = 10.0
FLAT_WINDOW_S = 30.0
#: Environment override of both windows, in seconds (tests use a few seconds with a fast
#: simulated cooler); not meant for users. It wins over TIME_SCALE_ENV's factor.
WINDOW_ENV = "INDI_PLAYERONE_COOLER_STALL_S"

NO_12V = "no_12v"
DELTA_T = "delta_t"


def stall_windows() -> tuple[float, float]:
    """(no-power window, flat window) in seconds, with the environment override applied."""
    value = float_from_env(WINDOW_ENV, 0.0)
    if value > 0:
        return value, value
    scale = time_scale()
    return NO_POWER_WINDOW_S * scale, FLAT_WINDOW_S * scale


class CoolerWatch:
    """A verdict on a switched-on cooler from its once-a-second readings.

    ``feed`` returns None while the cooler is off, at its setpoint, or still getting there,
    ``NO_12V`` when it has drawn no power for a whole no-power window with the temperature not
    falling, ``DELTA_T`` when it has run flat out for a whole flat window with the temperature
    flat above the setpoint. A verdict holds until its symptom ends (power back, the temperature
    falling again, the setpoint reached or changed).
    """

    def __init__(self, windows: tuple[float, float] | None = None,
                 poll_s: float | None = None) -> None:
        self.no_power_s, self.flat_s = windows if windows is not None else stall_windows()
        #: The readings' period: the margins below are counted in readings.
        self.poll_s = poll_period() if poll_s is None else poll_s
        self._history: deque[tuple[float, float, float]] = deque()
        self._setpoint: float | None = None
        self.verdict: str | None = None

    def reset(self) -> None:
        self._history.clear()
        self.verdict = None

    def feed(self, temperature: float, power: float | None, setpoint: float | None,
             now: float | None = None) -> str | None:
        """One reading; ``setpoint`` None means the cooler is off (or nothing was asked)."""
        now = time.monotonic() if now is None else now
        if setpoint is None or power is None:
            self._setpoint = None
            self.reset()
            return None
        if setpoint != self._setpoint:
            self._setpoint = setpoint
            self.reset()
        if temperature - setpoint <= NEAR_SETPOINT_C:
            self.reset()
            return None
        self._history.append((now, temperature, power))
        longest = max(self.no_power_s, self.flat_s)
        while self._history and now - self._history[0][0] > longest + 1.5 * self.poll_s:
            self._history.popleft()
        self.verdict = self._judge(now)
        return self.verdict

    def _window(self, now: float, seconds: float) -> list[tuple[float, float, float]] | None:
        """The readings of the last ``seconds``, or None while they do not span that long."""
        if not self._history or now - self._history[0][0] < seconds:
            return None
        return [r for r in self._history if now - r[0] <= seconds + 0.5 * self.poll_s]

    def _judge(self, now: float) -> str | None:
        if self.verdict == NO_12V:
            recent = self._history[-1]
            return NO_12V if recent[2] <= NO_POWER_PCT else None
        if self.verdict == DELTA_T:
            window = self._window(now, self.flat_s)
            if window is None or self._history[-1][2] < FULL_POWER_PCT:
                return None
            fall = max(r[1] for r in window) - window[-1][1]
            return DELTA_T if fall < 2 * FLAT_C else None
        window = self._window(now, self.no_power_s)
        if window is not None and all(r[2] <= NO_POWER_PCT for r in window) \
                and window[0][1] - window[-1][1] < FLAT_C:
            return NO_12V
        window = self._window(now, self.flat_s)
        if window is not None and all(r[2] >= FULL_POWER_PCT for r in window) \
                and window[0][1] - window[-1][1] < FLAT_C:
            return DELTA_T
        return None
