"""The simulated sensor's electronics: conversion gain, read noise, dark current, presets, modes.

What comes from the vendor's manual (``/work/shared/reference/camera-models.md``) and what is
assumed, model by model from :class:`~indi_playerone.camera.models.ModelSpec`:

* **Gain scale** (assumed, shared with the fake SDK's ``fake_models.c`` so both backends agree on
  what "gain 300" means): gain 0..600 is 0..30 dB of analog gain, 0.05 dB per unit.
* **e-/ADU** (from the manual's full well and ADC bits): at gain 0 the full well fills the ADC,
  ``e/ADU = full_well / 2**adc_bits``; it falls with the analog gain. The **unity gain** (the
  manual's "Standard / Unity gain", 1 e-/ADU) is where that reaches 1:
  ``400 × log10(full_well / 2**adc_bits)``, clamped to 0..550 (as the fake computes it).
* **Read noise** (the manual's range, from lowest to highest gain, with the HCG step): from the
  table's low-gain figure at gain 0 it falls log-linearly to ``LCG_END_FRACTION`` of it just below
  the HCG gain; at the HCG gain the sensor switches to high conversion gain and the noise drops
  to ``HCG_START_FACTOR`` × the table's high-gain figure, then falls log-linearly to that figure
  at gain 600. The two shape constants are assumed (they give the familiar IMX571 curve: 3.9 e-
  at 0, 3.1 e- at 124, 1.5 e- at 125, 1.0 e- at 600); the end points are the manual's.
  The fake SDK has no step (log-linear end to end): the step is what the manual's preset
  "Low Gain / HCG" is about, so the simulator's curve is the one to trust.
* **HCG gain** (partly assumed, the fake's numbers): 125 for IMX455/IMX571 (the scan's preset
  table reads "HCG 125" for those rows), 100 elsewhere (not in the manual).
* **Presets** (the fake's numbers, ``fake_model_presets``): highest dynamic range (0, 20), HCG
  (HCG gain, 30), unity (unity gain, 30), lowest read noise (550, 50). The scan's table is
  illegible beyond "Zero 0/20".
* **Sensor modes** (manual: "Cameras which using IMX533/IMX571 sensor has 2 sensor mode. Normal
  mode has faster FPS, Low Noise mode has lower readout noise"; the preset table adds IMX455):
  "Normal" and "Low Noise"; Low Noise reads 20 % quieter and twice as slow (assumed, as the fake).
* **Dark current** (assumed level, the issue's doubling): 0.01 e-/s/pixel at 0 °C, doubling every
  6 °C. **Hot pixels**: ``HOT_PIXEL_FRACTION`` of the pixels, at places and strengths fixed by the
  serial number (the same camera always has the same hot pixels), each 1..100 e-/s at 0 °C
  (log-uniform), doubling every 6 °C like the rest.
* **Readout time** (the manual's max fps): the table's fps is a full frame read through the USB 3
  link at 8 bit (61 MB × 6.5 fps ≈ 9 MB × 43 fps ≈ 400 MB/s, the practical USB 3 rate), so the
  sensor reads ``rows read / height / max_fps`` seconds (twice that in Low Noise) and the link
  moves ``bytes / (400 MB/s × USBBandWidthLimit %)`` (40 MB/s on USB 2); the frame is ready after
  the longer of the two (the DDR buffer lets them overlap).
"""
from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import numpy as np

from .interface import GainPreset, PRESET_KEYS
from .models import GAIN_RANGE, ModelSpec

__all__ = [
    "GAIN_DB_PER_UNIT", "LCG_END_FRACTION", "HCG_START_FACTOR", "LOW_NOISE_FACTOR",
    "DARK_E_PER_S_AT_0C", "DARK_DOUBLING_C", "HOT_PIXEL_FRACTION", "USB3_BYTES_PER_S",
    "USB2_BYTES_PER_S", "DDR_BYTES", "SENSOR_MODES", "HotPixels", "e_per_adu", "hcg_gain",
    "unity_gain", "read_noise_e", "dark_e_per_s", "gain_presets", "sensor_modes", "hot_pixels",
    "sensor_readout_s", "usb_transfer_s", "readout_s",
]

GAIN_DB_PER_UNIT = 0.05
LCG_END_FRACTION = 0.8
HCG_START_FACTOR = 1.5
LOW_NOISE_FACTOR = 0.8
DARK_E_PER_S_AT_0C = 0.01
DARK_DOUBLING_C = 6.0
HOT_PIXEL_FRACTION = 2e-5
HOT_PIXEL_E_PER_S_AT_0C = (1.0, 100.0)
USB3_BYTES_PER_S = 400e6  # practical USB 3 throughput (performance-budget.md)
USB2_BYTES_PER_S = 40e6  # practical USB 2 high-speed throughput
#: "512 MB DDR3 buffer" (the manual names only this size).
DDR_BYTES = 512 * 1024 * 1024
SENSOR_MODES: tuple[str, ...] = ("Normal", "Low Noise")
_MODE_SENSORS = ("IMX455", "IMX571", "IMX533")
_HCG_125_SENSORS = ("IMX455", "IMX571")
_PRESET_OFFSETS = (20, 30, 30, 50)
_LOWEST_RN_GAIN = 550


def e_per_adu(spec: ModelSpec, gain: float) -> float:
    """Electrons per native ADU at ``gain`` (the fake's ``fake_model_egain``)."""
    return spec.full_well_e / 2 ** spec.adc_bits / 10 ** (gain * GAIN_DB_PER_UNIT / 20)


def hcg_gain(spec: ModelSpec) -> int:
    """The gain where the sensor switches to high conversion gain."""
    return 125 if spec.sensor in _HCG_125_SENSORS else 100


def unity_gain(spec: ModelSpec) -> int:
    """The gain of 1 e-/ADU, clamped to 0..550 (Apollo-M's 12-bit 100 ke- well needs 555)."""
    g = 20.0 / GAIN_DB_PER_UNIT * math.log10(spec.full_well_e / 2 ** spec.adc_bits)
    return int(round(min(max(g, 0.0), float(_LOWEST_RN_GAIN))))


def read_noise_e(spec: ModelSpec, gain: float, low_noise: bool = False) -> float:
    """Read noise in electrons at ``gain`` (see the module docstring for the curve)."""
    at_low, at_high = spec.read_noise_e  # (at the lowest gain, at the highest gain)
    hcg, top = hcg_gain(spec), GAIN_RANGE[1]
    g = min(max(float(gain), 0.0), float(top))
    if g < hcg:
        rn = at_low * LCG_END_FRACTION ** (g / hcg)
    else:
        rn = at_high * HCG_START_FACTOR ** (1.0 - (g - hcg) / (top - hcg))
    return rn * (LOW_NOISE_FACTOR if low_noise else 1.0)


def dark_e_per_s(temperature_c: float) -> float:
    """Dark current of a normal pixel, e-/s."""
    return DARK_E_PER_S_AT_0C * 2.0 ** (temperature_c / DARK_DOUBLING_C)


def gain_presets(spec: ModelSpec) -> tuple[GainPreset, ...]:
    """The four presets in :data:`PRESET_KEYS` order (the fake SDK's numbers)."""
    gains = (0, hcg_gain(spec), unity_gain(spec), _LOWEST_RN_GAIN)
    return tuple(GainPreset(k, g, o) for k, g, o in zip(PRESET_KEYS, gains, _PRESET_OFFSETS))


def sensor_modes(spec: ModelSpec) -> tuple[str, ...]:
    """("Normal", "Low Noise") for the sensors the manual gives two modes, else ()."""
    return SENSOR_MODES if spec.sensor in _MODE_SENSORS else ()


@dataclass(frozen=True)
class HotPixels:
    """The camera's hot pixels: unbinned sensor coordinates and dark current at 0 °C (e-/s)."""

    x: np.ndarray  # int64
    y: np.ndarray
    e_per_s_at_0c: np.ndarray


def hot_pixels(spec: ModelSpec, serial: str) -> HotPixels:
    """Hot pixels fixed by the serial number (a seed of its own: the star field keeps its draw)."""
    rng = np.random.default_rng((zlib.crc32(serial.encode()), 0x484F54))  # "HOT"
    n = max(1, int(spec.width * spec.height * HOT_PIXEL_FRACTION))
    idx = rng.choice(spec.width * spec.height, size=n, replace=False)
    lo, hi = np.log(HOT_PIXEL_E_PER_S_AT_0C)
    rate = np.exp(rng.uniform(lo, hi, n))
    return HotPixels(idx % spec.width, idx // spec.width, rate)


def sensor_readout_s(spec: ModelSpec, rows: int, bin: int, low_noise: bool) -> float:
    """Time to read ``rows`` binned rows off the sensor into the camera's DDR buffer."""
    t = rows * bin / spec.height / spec.max_fps
    return 2.0 * t if low_noise else t


def usb_transfer_s(nbytes: int, usb3: bool = True, bandwidth_pct: float = 100.0) -> float:
    """Time to move ``nbytes`` over the link at ``bandwidth_pct`` of its practical rate."""
    rate = (USB3_BYTES_PER_S if usb3 else USB2_BYTES_PER_S) * bandwidth_pct / 100.0
    return nbytes / rate


def readout_s(spec: ModelSpec, rows: int, bin: int, nbytes: int, *, low_noise: bool = False,
              usb3: bool = True, bandwidth_pct: float = 100.0) -> float:
    """From the end of the exposure to the frame in the host: the longer of sensor and link."""
    return max(sensor_readout_s(spec, rows, bin, low_noise),
               usb_transfer_s(nbytes, usb3, bandwidth_pct))
