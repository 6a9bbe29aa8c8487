"""Options of the simulated cameras: ``INDI_PLAYERONE_SIM_OPTIONS="key=value,key=value,..."``.

They apply to every simulated camera of the process (the registry reads the variable; tests may
pass a :class:`SimOptions` to :class:`~indi_playerone.camera.simulator.SimulatedCamera`). Keys:

``ambient=<°C>``
    Ambient (and starting sensor) temperature, default 20.
``cooler_tau=<s>``
    Thermal time constant of the cooler, default 120 s ("minutes"); tests use a fraction of a
    second.
``tilt=<dx_um>:<dy_um>``
    Sensor tilt as the height difference of the sensor surface along the optical axis: right
    edge minus left edge (``dx``) and bottom edge minus top edge (``dy``), in µm. Default 0:0.
``focus=<um>``
    Defocus at the sensor centre (the focal plane's distance from it along the axis), µm,
    default 0. Added to the tilt's height everywhere.
``fratio=<N>``
    Focal ratio of the simulated optics, default 5: a point ``z`` µm out of focus is a blur
    disc of diameter ``|z| / N`` µm.
``seeing=<FWHM>[px]``
    Seeing, the FWHM of an in-focus star in unbinned pixels (only pixels: the simulator has no
    focal length to turn arcseconds into pixels), default 3.
``sky=<e-/s>``
    Sky background per pixel before QE (the flat light of photon-transfer tests), default 1.
``stars=<factor>``
    Brightness of the star field, default 1; 0 is a covered telescope (darks, bias, flats).
``no12v``
    Start without the 12 V supply: the cameras image but cannot cool (the fault file's ``12v``
    line plugs it in).
``st4``
    Give the simulated cameras an ST4 guide port (the PRO cooled line has none; for testing
    guiding through the driver).

A malformed value or an unknown key raises ``ValueError`` naming it.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

__all__ = ["SIM_OPTIONS_ENV", "SimOptions", "parse_options"]

SIM_OPTIONS_ENV = "INDI_PLAYERONE_SIM_OPTIONS"


@dataclass(frozen=True)
class SimOptions:
    ambient_c: float = 20.0
    cooler_tau_s: float = 120.0
    tilt_um: tuple[float, float] = (0.0, 0.0)
    focus_um: float = 0.0
    fratio: float = 5.0
    seeing_px: float = 3.0
    sky_e_per_s: float = 1.0
    star_scale: float = 1.0
    no_12v: bool = False
    st4: bool = False

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> SimOptions:
        env = os.environ if environ is None else environ
        return parse_options(env.get(SIM_OPTIONS_ENV, ""))

    def defocus_um(self, fx: np.ndarray | float, fy: np.ndarray | float) -> np.ndarray | float:
        """Height of the sensor surface off the focal plane at fractional position (0..1)."""
        dx, dy = self.tilt_um
        return self.focus_um + dx * (fx - 0.5) + dy * (fy - 0.5)


def _number(key: str, text: str, minimum: float | None = None, positive: bool = False) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{SIM_OPTIONS_ENV}: {key}={text!r} is not a number") from None
    if not math.isfinite(value) or (positive and value <= 0) or \
            (minimum is not None and value < minimum):
        raise ValueError(f"{SIM_OPTIONS_ENV}: {key}={text!r} is out of range")
    return value


def parse_options(text: str) -> SimOptions:
    """``"ambient=10,cooler_tau=0.5,tilt=20:-10,no12v"`` -> :class:`SimOptions`."""
    opts = SimOptions()
    changes: dict[str, object] = {}
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        key, sep, value = (part.strip() for part in item.partition("="))
        key = key.lower()
        if key in ("no12v", "st4"):
            if sep and value.lower() not in ("1", "true", "yes", "on"):
                raise ValueError(f"{SIM_OPTIONS_ENV}: {key} takes no value")
            changes["no_12v" if key == "no12v" else "st4"] = True
        elif not sep:
            raise ValueError(f"{SIM_OPTIONS_ENV}: {key!r} needs a value ({key}=...)")
        elif key == "ambient":
            changes["ambient_c"] = _number(key, value, minimum=-60)
        elif key == "cooler_tau":
            changes["cooler_tau_s"] = _number(key, value, positive=True)
        elif key == "tilt":
            dx, colon, dy = value.partition(":")
            if not colon:
                raise ValueError(f"{SIM_OPTIONS_ENV}: tilt={value!r}: write <dx_um>:<dy_um>")
            changes["tilt_um"] = (_number(key, dx), _number(key, dy))
        elif key == "focus":
            changes["focus_um"] = _number(key, value)
        elif key == "fratio":
            changes["fratio"] = _number(key, value, positive=True)
        elif key == "seeing":
            v = value[:-2] if value.lower().endswith("px") else value
            changes["seeing_px"] = _number(key, v, positive=True)
        elif key == "sky":
            changes["sky_e_per_s"] = _number(key, value, minimum=0)
        elif key == "stars":
            changes["star_scale"] = _number(key, value, minimum=0)
        else:
            known = "ambient, cooler_tau, tilt, focus, fratio, seeing, sky, stars, no12v, st4"
            raise ValueError(f"{SIM_OPTIONS_ENV}: unknown option {key!r} (known: {known})")
    return replace(opts, **changes) if changes else opts
