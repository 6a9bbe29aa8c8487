"""Temperature polling of one camera, once a second, on its own thread.

The C++ driver reads the sensor temperature every second and sends
CCD_TEMPERATURE only when it moved by more than 0.05 °C or its state changed;
so do we. Readings no sensor can produce (field reports of -300 °C straight from
the SDK) are dropped with a debug message instead of reaching the client.
"""
from __future__ import annotations

import logging
import math
import threading
from dataclasses import dataclass
from typing import Callable, Protocol

from ..camera.interface import CameraBackend, CameraError

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


class TemperatureMonitor:
    """Calls `sink.temperature_reading` every second with a plausible reading."""

    def __init__(self, camera: CameraBackend, sink: TemperatureSink,
                 period: Callable[[], float] = lambda: POLL_S) -> None:
        self._camera = camera
        self._sink = sink
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
        return Reading(t, power)

    def _loop(self) -> None:
        while not self._stop.wait(self._period()):
            reading = self.read_once()
            if reading is not None:
                try:
                    self._sink.temperature_reading(reading)
                except Exception:  # a failed update must not end the polling
                    log.exception("temperature update failed")
