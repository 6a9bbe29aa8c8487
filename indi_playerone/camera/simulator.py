"""A simulated Player One camera: real timing, plausible frames, first-order cooler.

Frame model (all levels in native ADC units, then clipped to the ADC range and left-justified):

* bias = ``offset × BIAS_ADU16_PER_OFFSET`` in 16-bit output units (offset 20 → 80 ADU16);
* conversion gain: ``e-/ADU = full_well / 2**adc_bits`` at gain 0, divided by the analog
  amplification ``10**(gain × GAIN_DB_PER_UNIT / 20)`` (gain 0..600 → 0..30 dB);
* read noise: the model's read-noise range (e-), interpolated log-linearly from gain 0 to 600;
* dark current ``DARK_E_PER_S_AT_0C × 2**(T/DARK_DOUBLING_C)`` and a sky glow ``SKY_E_PER_S``
  (the sky scaled per Bayer channel by ``CHANNEL_RESPONSE``), added as levels: their shot noise is
  neglected;
* stars: a star field fixed per serial, Gaussian PSFs (``STAR_FWHM_PX``), flux ∝ exposure, with
  Poisson noise, integrated over each pixel with ``erf``;
* binning averages b×b pixels: levels and star surface brightness stay, read noise drops by b.
  Colour binning keeps the Bayer pattern (same-colour pixels are combined); the pattern is relative
  to the frame origin.

Speed: noise is not drawn per pixel. One pool of 4 M int16 standard-normal samples is made per
process (0.17 s, once); per camera and settings it is turned once into a pool of finished output
values (level + noise, clipped, justified: 20–45 ms for 4 M values); a frame is then row blocks
memcpy'd from random even offsets of that pool plus the few star patches. Measured on the project
VM (2 shared cores, medians): a 9576×6388 frame in 20–30 ms (16 or 8 bit, mono or colour) with
the pool cached. It is rendered in the exposure's worker thread, so a 0.5 s exposure of that size
returns 0.5 s + the modelled USB readout (0.306 s at 16 bit), within 1 ms.
"""
from __future__ import annotations

import logging
import math
import threading
import time
import zlib
from dataclasses import dataclass
from typing import Any
from datetime import datetime, timezone

import numpy as np

from .interface import CameraBackend, CameraError, CameraInfo, CameraTimeout, ExposureAborted, Frame, Roi
from .models import EXPOSURE_RANGE_S, GAIN_RANGE, OFFSET_RANGE, ModelSpec

__all__ = ["SimulatedCamera", "camera_info", "sim_serial"]

log = logging.getLogger(__name__)

BIAS_ADU16_PER_OFFSET = 4.0
GAIN_DB_PER_UNIT = 0.05
SKY_E_PER_S = 1.0
DARK_E_PER_S_AT_0C = 0.01
DARK_DOUBLING_C = 6.0
CHANNEL_RESPONSE = {"R": 0.7, "G": 1.0, "B": 0.5}
STAR_FWHM_PX = 3.0
STAR_RATE_E_PER_S = (300.0, 30_000.0)  # log-uniform, before QE
PIXELS_PER_STAR = 400_000
USB3_BYTES_PER_S = 400e6  # practical USB 3 throughput (performance-budget.md)
AMBIENT_C = 20.0
COOLER_TAU_S = 60.0
DEFAULT_TARGET_C = 0.0
#: ``threading.Event`` cannot be waited on together with our condition, so a caller's cancel event
#: is checked at this tick (a sleeping wait, not a spin) — well inside the ~50 ms promise.
CANCEL_TICK_S = 0.01

_POOL_LEN = 1 << 22
_POOL_SCALE = 1024.0  # the int16 pool holds N(0, 1) × 1024
_BLOCK_PIXELS = 1 << 19  # per memcpy from the pool: well below _POOL_LEN so offsets vary
_KEPT_BUFFERS = 2  # like the camera's two internal frame buffers
_base_pool: np.ndarray | None = None
_base_pool_lock = threading.Lock()


def _standard_pool() -> np.ndarray:
    """The process-wide int16 noise pool (8 MB), made on first use (~0.1 s)."""
    global _base_pool
    with _base_pool_lock:
        if _base_pool is None:
            z = np.random.default_rng(0x504F41).standard_normal(_POOL_LEN, dtype=np.float32)
            _base_pool = np.rint(z * _POOL_SCALE).astype(np.int16)
        return _base_pool


def sim_serial(model: str, index: int) -> str:
    """Deterministic serial: ``sim_serial("Ares-C PRO", 1) == "SIM-ARES-C-PRO-0001"``."""
    return f"SIM-{'-'.join(model.upper().split())}-{index:04d}"


def camera_info(spec: ModelSpec, serial: str, has_cooler: bool = True) -> CameraInfo:
    """The CameraInfo of a simulated camera of this model."""
    return CameraInfo(
        model=spec.model, sensor=spec.sensor, serial=serial, width=spec.width, height=spec.height,
        pixel_size_um=spec.pixel_size_um, adc_bits=spec.adc_bits, is_color=spec.is_color,
        bayer=spec.bayer, has_cooler=has_cooler,
        has_st4=False,  # the manual lists no ST4 guide port on the PRO cooled line
        bins=(1, 2, 3, 4), formats=(8, 16), gain_range=GAIN_RANGE, offset_range=OFFSET_RANGE,
        exposure_range_s=EXPOSURE_RANGE_S, usb3=True, body=spec.body,
    )


@dataclass(frozen=True)
class _Settings:
    """What an exposure was started with (the worker never reads live camera state)."""

    roi: Roi
    bits: int
    gain: int
    offset: int
    temperature_c: float
    exposure_s: float


class _Exposure:
    """One exposure's state; changed only under the camera's lock."""

    def __init__(self, seq: int, settings: _Settings, deadline: float) -> None:
        self.seq, self.settings, self.deadline = seq, settings, deadline
        self.start_utc = datetime.now(timezone.utc)
        self.abort = threading.Event()  # wakes the worker's deadline wait
        self.state = "exposing"  # -> ready | aborted | failed | collected
        self.frame: Frame | None = None
        self.error = ""


class _Synth:
    """Frame synthesis for one camera; thread-safe (own lock for the pool cache)."""

    def __init__(self, spec: ModelSpec, serial: str) -> None:
        self.spec = spec
        rng = np.random.default_rng(zlib.crc32(serial.encode()))
        n = max(12, spec.width * spec.height // PIXELS_PER_STAR)
        self.star_x = rng.uniform(0, spec.width, n)
        self.star_y = rng.uniform(0, spec.height, n)
        lo, hi = np.log(STAR_RATE_E_PER_S)
        self.star_rate = np.exp(rng.uniform(lo, hi, n))
        pattern = spec.bayer or "GGGG"  # mono: every pixel has the green (unit) response
        self.response = np.array([[CHANNEL_RESPONSE[c] for c in pattern[0:2]],
                                  [CHANNEL_RESPONSE[c] for c in pattern[2:4]]], dtype=np.float64)
        self._lock = threading.Lock()
        self._pools: tuple[tuple, np.ndarray, np.ndarray] | None = None

    # -- electronics -------------------------------------------------------------------------
    def e_per_adu(self, gain: int) -> float:
        return self.spec.full_well_e / 2 ** self.spec.adc_bits / 10 ** (gain * GAIN_DB_PER_UNIT / 20)

    def read_noise_e(self, gain: int) -> float:
        hi, lo = self.spec.read_noise_e
        return hi * (lo / hi) ** (gain / GAIN_RANGE[1])

    def to_output(self, native: np.ndarray, bits: int) -> np.ndarray:
        """Native ADC values (float) -> clipped, left-justified uint16, or its top 8 bits."""
        v = np.rint(native)
        np.clip(v, 0, 2 ** self.spec.adc_bits - 1, out=v)
        out = v.astype(np.uint16)
        out <<= 16 - self.spec.adc_bits
        return (out >> 8).astype(np.uint8) if bits == 8 else out

    def from_output(self, values: np.ndarray, bits: int) -> np.ndarray:
        """Inverse of ``to_output`` (exact for 16 bit; 8 bit gives the middle of the step)."""
        step = 2.0 ** (self.spec.adc_bits - bits)
        return values * step + (step - 1) / 2 if step >= 1 else values * step

    def _levels(self, s: _Settings) -> tuple[np.ndarray, float]:
        """Per Bayer position (2×2) background level, and read noise sigma, in native ADU."""
        epa = self.e_per_adu(s.gain)
        bias = s.offset * BIAS_ADU16_PER_OFFSET / 2 ** (16 - self.spec.adc_bits)
        dark_e = DARK_E_PER_S_AT_0C * 2 ** (s.temperature_c / DARK_DOUBLING_C) * s.exposure_s
        sky_e = SKY_E_PER_S * self.spec.qe_peak * s.exposure_s * self.response
        return bias + (dark_e + sky_e) / epa, self.read_noise_e(s.gain) / epa / s.roi.bin

    def pools(self, s: _Settings) -> tuple[np.ndarray, np.ndarray]:
        """Finished-value pools for even and odd rows (even/odd index = Bayer column parity)."""
        levels, sigma = self._levels(s)
        key = (s.bits, tuple(np.round(levels, 2).ravel()), round(sigma, 3))
        with self._lock:
            if self._pools is not None and self._pools[0] == key:
                return self._pools[1], self._pools[2]
            z = _standard_pool().astype(np.float32) * np.float32(sigma / _POOL_SCALE)
            rows = []
            for r in (0, 1):
                if r == 1 and not self.spec.is_color:
                    rows.append(rows[0])
                    continue
                native = z.reshape(-1, 2) + levels[r].astype(np.float32)
                rows.append(self.to_output(native.ravel(), s.bits))
            self._pools = (key, rows[0], rows[1])
            return rows[0], rows[1]

    # -- a frame --------------------------------------------------------------------------
    def render(self, out: np.ndarray, s: _Settings, rng: np.random.Generator) -> None:
        """Fill ``out`` (shape = ROI, dtype = format) with a complete frame."""
        even, odd = self.pools(s)
        h, w = out.shape
        pairs = out.reshape(h // 2, 2, w)
        step = max(1, _BLOCK_PIXELS // (2 * w))
        for p0 in range(0, h // 2, step):
            p1 = min(h // 2, p0 + step)
            n = (p1 - p0) * w
            for k, pool in ((0, even), (1, odd)):
                off = 2 * int(rng.integers(0, (pool.size - n) // 2 + 1))  # even: keeps Bayer phase
                np.copyto(pairs[p0:p1, k, :], pool[off:off + n].reshape(p1 - p0, w))
        self._add_stars(out, s, rng)

    def _add_stars(self, out: np.ndarray, s: _Settings, rng: np.random.Generator) -> None:
        b, roi = s.roi.bin, s.roi
        sig = STAR_FWHM_PX / 2.3548 / b
        r = math.ceil(4 * sig) + 1
        u, v = self.star_x / b - roi.x, self.star_y / b - roi.y
        h, w = out.shape
        visible = np.flatnonzero((u > -r) & (u < w + r) & (v > -r) & (v < h + r))
        adu_per_e = 1.0 / (b * b * self.e_per_adu(s.gain))  # average of b² pixels, in ADU
        for i in visible:
            x0, x1 = max(0, math.floor(u[i]) - r), min(w, math.floor(u[i]) + r + 1)
            y0, y1 = max(0, math.floor(v[i]) - r), min(h, math.floor(v[i]) + r + 1)
            if x0 >= x1 or y0 >= y1:
                continue
            px, py = _pixel_integral(x0, x1, u[i], sig), _pixel_integral(y0, y1, v[i], sig)
            resp = self.response[np.ix_(np.arange(y0, y1) % 2, np.arange(x0, x1) % 2)]
            mean_e = self.star_rate[i] * s.exposure_s * self.spec.qe_peak * resp * np.outer(py, px)
            # mean_e is the electron sum over the b² sensor pixels of each binned pixel
            adu = rng.poisson(mean_e) * adu_per_e
            patch = out[y0:y1, x0:x1]
            patch[...] = self.to_output(self.from_output(patch, s.bits) + adu, s.bits)


def _pixel_integral(p0: int, p1: int, centre: float, sigma: float) -> np.ndarray:
    """Fraction of a unit 1-D Gaussian falling on each pixel [p, p+1) for p in [p0, p1)."""
    edges = [math.erf((e - centre) / (sigma * math.sqrt(2))) for e in range(p0, p1 + 1)]
    return np.diff(np.asarray(edges)) / 2


class _Thermal:
    """First-order sensor temperature: relaxes to the cooler's equilibrium with time constant tau."""

    def __init__(self, ambient_c: float, max_delta_c: float, tau_s: float) -> None:
        self.ambient, self.max_delta, self.tau = ambient_c, max_delta_c, tau_s
        self.on, self.target = False, DEFAULT_TARGET_C
        self.t, self.temp = time.monotonic(), ambient_c

    def advance(self) -> float:
        now = time.monotonic()
        eq = max(self.target, self.ambient - self.max_delta) if self.on else self.ambient
        self.temp = eq + (self.temp - eq) * math.exp(-(now - self.t) / self.tau)
        self.t = now
        return self.temp

    def power(self) -> float:
        if not self.on:
            return 0.0
        return 100.0 * min(1.0, max(0.0, (self.ambient - self.advance()) / self.max_delta))


class SimulatedCamera(CameraBackend):
    """A simulated camera of one catalog model (see the module docstring for the frame model)."""

    def __init__(self, spec: ModelSpec, serial: str | None = None, index: int = 1, *,
                 ambient_c: float = AMBIENT_C, cooler_time_constant_s: float = COOLER_TAU_S,
                 has_cooler: bool = True) -> None:
        self.spec = spec
        self.info = camera_info(spec, serial or sim_serial(spec.model, index), has_cooler)
        self._synth = _Synth(spec, self.info.serial)
        self._seed = zlib.crc32(self.info.serial.encode())
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._open = False
        self._roi = Roi(0, 0, spec.width - spec.width % 4, spec.height - spec.height % 2, 1)
        self._bits, self._gain, self._offset = 16, GAIN_RANGE[0], 20
        self._thermal = _Thermal(ambient_c, spec.cooling_delta_c, cooler_time_constant_s)
        self._exp: _Exposure | None = None
        self._seq = 0
        self._buffers: list[np.ndarray] = []

    def __repr__(self) -> str:
        return f"SimulatedCamera({self.info.model!r}, serial={self.info.serial!r})"

    @property
    def star_field(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Copies of the star positions (unbinned sensor pixels, x and y) and rates (e-/s)."""
        s = self._synth
        return s.star_x.copy(), s.star_y.copy(), s.star_rate.copy()

    # -- lifecycle ---------------------------------------------------------------------------
    def open(self) -> None:
        with self._lock:
            self._open = True

    def close(self) -> None:
        with self._lock:
            if not self._open:
                return
            self._abort_locked()
            self._open = False
            self._buffers.clear()

    def _need_open(self) -> None:
        if not self._open:
            raise CameraError(f"{self.info.model} ({self.info.serial}) is not connected")

    def _read(self, attr: str) -> Any:
        with self._lock:
            self._need_open()
            return getattr(self, attr)

    def _need_idle(self, what: str) -> None:
        self._need_open()
        if self._exp is not None and self._exp.state == "exposing":
            raise CameraError(f"cannot change {what} while an exposure is in progress")

    # -- geometry and format -------------------------------------------------------------------
    def set_roi(self, x: int, y: int, width: int, height: int, bin: int) -> Roi:
        if bin not in self.info.bins:
            raise CameraError(f"bin {bin} not supported (supported: {self.info.bins})")
        if width <= 0 or height <= 0:
            raise CameraError(f"empty ROI {width}x{height}")
        max_w, max_h = self.info.width // bin, self.info.height // bin
        w, h = min(width, max_w), min(height, max_h)
        w, h = w - w % 4, h - h % 2
        if w == 0 or h == 0:
            raise CameraError(f"ROI {width}x{height} is empty after rounding to 4x2 pixels")
        roi = Roi(min(max(0, x), max_w - w), min(max(0, y), max_h - h), w, h, bin)
        with self._lock:
            self._need_idle("the ROI")
            self._roi = roi
        return roi

    def roi(self) -> Roi:
        return self._read("_roi")

    def set_format(self, bits: int) -> None:
        if bits not in self.info.formats:
            raise CameraError(f"{bits}-bit format not supported (supported: {self.info.formats})")
        with self._lock:
            self._need_idle("the format")
            self._bits = bits

    def format(self) -> int:
        return self._read("_bits")

    # -- controls ---------------------------------------------------------------------------
    def set_gain(self, gain: int) -> None:
        _check_range("gain", gain, self.info.gain_range)
        with self._lock:
            self._need_open()
            self._gain = int(gain)

    def gain(self) -> int:
        return self._read("_gain")

    def set_offset(self, offset: int) -> None:
        _check_range("offset", offset, self.info.offset_range)
        with self._lock:
            self._need_open()
            self._offset = int(offset)

    def offset(self) -> int:
        return self._read("_offset")

    # -- exposures ---------------------------------------------------------------------------
    def start_exposure(self, seconds: float) -> None:
        lo, hi = self.info.exposure_range_s
        if not lo <= seconds <= hi:  # also refuses NaN
            raise CameraError(f"exposure {seconds} s outside {lo:g}..{hi:g} s")
        with self._lock:
            self._need_open()
            if self._exp is not None and self._exp.state == "exposing":
                raise CameraError("an exposure is already in progress")
            self._drop_uncollected()
            settings = _Settings(self._roi, self._bits, self._gain, self._offset,
                                 self._thermal.advance(), float(seconds))
            nbytes = self._roi.width * self._roi.height * (2 if self._bits == 16 else 1)
            self._seq += 1
            exp = _Exposure(self._seq, settings,
                            time.monotonic() + seconds + nbytes / USB3_BYTES_PER_S)
            self._exp = exp
            threading.Thread(target=self._expose, args=(exp,), daemon=True,
                             name=f"sim-exposure-{self.info.serial}-{exp.seq}").start()

    def _expose(self, exp: _Exposure) -> None:
        """Worker: render the frame while the exposure runs, then hand it over at the deadline."""
        s = exp.settings
        dtype = np.uint16 if s.bits == 16 else np.uint8
        buf = self._take_buffer((s.roi.height, s.roi.width), dtype)
        try:
            self._synth.render(buf, s, np.random.default_rng((self._seed, exp.seq)))
        except Exception as err:  # e.g. MemoryError: report it to the waiter, do not die silently
            log.exception("simulated frame generation failed")
            self._give_buffer(buf)
            with self._cond:
                if exp.state == "exposing":
                    exp.state, exp.error = "failed", f"frame generation failed: {err}"
                    self._cond.notify_all()
            return
        exp.abort.wait(max(0.0, exp.deadline - time.monotonic()))
        with self._cond:
            if exp.state != "exposing":  # aborted while we slept
                self._give_buffer_locked(buf)
                return
            exp.frame = Frame(buf, s.roi, s.bits, s.exposure_s, exp.start_utc, exp.seq, s.gain,
                              s.offset, s.temperature_c, _on_release=self._give_buffer)
            exp.state = "ready"
            self._cond.notify_all()

    def wait_frame(self, timeout: float, cancel: threading.Event | None = None) -> Frame:
        end = time.monotonic() + timeout
        with self._cond:
            self._need_open()
            exp = self._exp
            if exp is None:
                raise CameraError("no exposure was started")
            while True:
                if exp.state == "ready":
                    exp.state = "collected"
                    if self._exp is exp:
                        self._exp = None
                    assert exp.frame is not None
                    return exp.frame
                if exp.state in ("aborted", "failed", "collected"):
                    if self._exp is exp:
                        self._exp = None
                    if exp.state == "aborted":
                        raise ExposureAborted("exposure aborted")
                    raise CameraError(exp.error or "frame already collected by another caller")
                if cancel is not None and cancel.is_set():
                    self._abort_locked()
                    continue
                remaining = end - time.monotonic()
                if remaining <= 0:
                    raise CameraTimeout(f"no frame within {timeout:g} s")
                self._cond.wait(remaining if cancel is None else min(remaining, CANCEL_TICK_S))

    def abort_exposure(self) -> None:
        with self._cond:
            self._abort_locked()

    def _abort_locked(self) -> None:
        exp = self._exp
        if exp is None:
            return
        if exp.state == "ready":
            self._drop_uncollected()
            exp.state = "aborted"  # kept in self._exp: the next wait_frame reports the abort
        elif exp.state == "exposing":
            exp.state = "aborted"
            exp.abort.set()
        self._cond.notify_all()

    def _drop_uncollected(self) -> None:
        exp = self._exp
        if exp is not None and exp.state == "ready" and exp.frame is not None:
            frame, exp.frame = exp.frame, None
            hook, frame._on_release = frame._on_release, None
            if hook is not None:
                self._give_buffer_locked(frame.data)

    def is_exposing(self) -> bool:
        with self._lock:
            return self._exp is not None and self._exp.state == "exposing"

    # -- frame buffers ----------------------------------------------------------------------
    def _take_buffer(self, shape: tuple[int, int], dtype: type) -> np.ndarray:
        with self._lock:
            for i, buf in enumerate(self._buffers):
                if buf.shape == shape and buf.dtype == dtype:
                    return self._buffers.pop(i)
        return np.empty(shape, dtype)

    def _give_buffer(self, buf: np.ndarray) -> None:
        with self._lock:
            self._give_buffer_locked(buf)

    def _give_buffer_locked(self, buf: np.ndarray) -> None:
        if self._open and all(b is not buf for b in self._buffers):
            self._buffers.append(buf)
            del self._buffers[:-_KEPT_BUFFERS]

    # -- temperature --------------------------------------------------------------------------
    def temperature(self) -> float:
        with self._lock:
            self._need_open()
            return self._thermal.advance()

    def set_cooler(self, on: bool, target_c: float | None = None) -> None:
        if not self.info.has_cooler:
            raise CameraError(f"{self.info.model} has no cooler")
        if target_c is not None and not -60.0 <= target_c <= 40.0:
            raise CameraError(f"target temperature {target_c} °C outside -60..40 °C")
        with self._lock:
            self._need_open()
            self._thermal.advance()  # integrate up to now under the old settings
            self._thermal.on = bool(on)
            if target_c is not None:
                self._thermal.target = float(target_c)

    def cooler_power(self) -> float:
        with self._lock:
            self._need_open()
            return self._thermal.power()


def _check_range(name: str, value: int, bounds: tuple[int, int]) -> None:
    if not bounds[0] <= value <= bounds[1]:
        raise CameraError(f"{name} {value} outside {bounds[0]}..{bounds[1]}")
