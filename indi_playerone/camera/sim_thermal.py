"""The simulated camera's cooler: a first-order thermal model, evaluated in closed form on read.

The same model as the fake SDK's ``fake_thermal.c``, so both backends cool alike::

    equilibrium = ambient                                   cooler off, or no 12 V supply
                = max(target, ambient - dT_max + heater)    cooler on
    dT_max      = the model's ΔT × (0.5 + 0.5 × fan / 100)
    heater      = HEATER_C_PER_PCT × window-heater power (%)
    T(t)        = eq + (T0 - eq) × exp(-(t - t0) / tau)

From the manual: the ΔT below ambient (the lower end of the table's range, reached "at 100 %
fan"; "if need maximum delta-T, set 100 % power"), the fan defaults (70 % aluminium, 50 %
carbon-fibre bodies), the anti-dew heater's default 10 % (1..100 %), the TEC and fan running
together, and "without the 12 V supply the camera images but cannot cool". Assumed: the fan
scaling (half the ΔT with the fan stopped), the heater's cost of 0.02 °C per % (heat the TEC must
pump too, so it only lowers the reachable ΔT; it runs with the cooler), and the time constant
(default ``COOLER_TAU_S`` = 120 s: "a time constant of minutes"; tests shorten it with the
``cooler_tau`` option).

Cooler power: 100 % while the sensor is more than 0.5 °C above its equilibrium (pulling down),
else the share of the reachable ΔT being held, ``(ambient - eq) / (ambient - floor)``: it rises
with ΔT. 0 with the cooler off or without 12 V.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable

__all__ = ["COOLER_TAU_S", "AMBIENT_C", "HEATER_C_PER_PCT", "Thermal"]

AMBIENT_C = 20.0
COOLER_TAU_S = 120.0
HEATER_C_PER_PCT = 0.02
DEFAULT_TARGET_C = 0.0
DEFAULT_HEATER_PCT = 10.0


class Thermal:
    """Sensor temperature of one camera. Not thread-safe: the camera calls it under its lock."""

    def __init__(self, ambient_c: float, max_delta_c: float, tau_s: float, fan_pct: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ambient, self.max_delta, self.tau = ambient_c, max_delta_c, max(tau_s, 1e-3)
        self.on, self.target = False, DEFAULT_TARGET_C
        self.fan, self.heater = float(fan_pct), DEFAULT_HEATER_PCT
        self.supply_12v = True
        self._clock = clock
        self.t, self.temp = clock(), ambient_c

    def _cooling(self) -> bool:
        return self.on and self.supply_12v

    def floor(self) -> float:
        """The coldest the sensor can get now (cooler on, 12 V present)."""
        delta = self.max_delta * (0.5 + 0.5 * self.fan / 100.0)
        return self.ambient - delta + HEATER_C_PER_PCT * self.heater

    def equilibrium(self) -> float:
        return max(self.target, self.floor()) if self._cooling() else self.ambient

    def advance(self) -> float:
        """Integrate up to now under the settings in force since the last call."""
        now = self._clock()
        eq = self.equilibrium()
        self.temp = eq + (self.temp - eq) * math.exp(-(now - self.t) / self.tau)
        self.t = now
        return self.temp

    def change(self, **settings: float | bool) -> None:
        """Change ``on``, ``target``, ``fan``, ``heater`` or ``supply_12v`` from now on."""
        self.advance()  # up to now under the old settings
        for name, value in settings.items():
            if name not in ("on", "target", "fan", "heater", "supply_12v"):
                raise AttributeError(name)
            setattr(self, name, value)

    def power(self) -> float:
        t = self.advance()
        if not self._cooling():
            return 0.0
        eq = self.equilibrium()
        if t > eq + 0.5:
            return 100.0
        span = self.ambient - self.floor()
        share = (self.ambient - eq) / span if span > 0 else 1.0
        return 100.0 * min(1.0, max(0.0, share))
