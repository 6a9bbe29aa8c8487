"""Frame synthesis for the simulated cameras, rendered block by block as the readout streams.

Frame model (electronics in :mod:`.sim_sensor`, where each number says whether it is the
manual's or assumed; all levels in native ADC units, then clipped to the ADC range and
left-justified):

* bias = ``offset × BIAS_ADU16_PER_OFFSET`` in 16-bit output units (offset 20 → 80 ADU16), the
  fake SDK's rule;
* conversion gain ``e-/ADU`` from the gain (full well fills the ADC at gain 0, 0.05 dB per unit);
* read noise from the manual's range with the step at the HCG gain, 20 % lower in Low Noise mode;
* dark current (doubling every 6 °C) and a sky glow (``sky`` option, e-/s before QE, scaled per
  Bayer channel by ``CHANNEL_RESPONSE``) with their shot noise: the pool's Gaussian has variance
  ``read noise² + dark e- + sky e-`` (the Gaussian limit of Poisson; fine above a few e-, and
  what photon-transfer measurements see);
* hot pixels fixed per serial number (:func:`.sim_sensor.hot_pixels`), Poisson per frame;
* stars: a star field fixed per serial, Gaussian PSFs, flux ∝ exposure × QE, Poisson noise,
  clipped at the full well, integrated over each pixel with ``erf``. Each star's FWHM combines
  the seeing (option ``seeing``, unbinned pixels) and the geometric defocus blur of a tilted or
  defocused sensor in quadrature: ``FWHM² = seeing² + (|z| / N / pixel)²``, where ``z`` is the
  sensor surface's height off the focal plane at the star (options ``tilt``, ``focus``) and ``N``
  the focal ratio (a blur disc of diameter D has FWHM D; the quadrature sum is an approximation
  of the disc-Gaussian convolution, good to ~10 %);
* binning averages b×b pixels (levels and star surface brightness stay, noise drops by b) or,
  with PixelBinSum, sums them (levels, bias included, × b², noise × b), as the fake SDK does.
  Colour binning keeps the Bayer pattern; the pattern is relative to the frame origin;
* flips mirror the scene (stars, hot pixels, the Bayer levels) within the ROI: the delivered
  frame is the unflipped frame mirrored, with no pixel copied.

Speed: noise is not drawn per pixel. One pool of 4 M int16 standard-normal samples is made per
process (0.17 s, once); per camera and settings it is turned once into a pool of finished output
values (level + noise, clipped, justified: 20–45 ms for 4 M values); a frame is then row blocks
memcpy'd from random even offsets of that pool plus the few star patches and hot pixels.
Measured on the project VM (2 shared cores, medians, 9576×6388, pools cached): the plan 8 ms; all
blocks rendered into one 1 MiB buffer 6.5 ms at 16 bit (4.6 ms at 8 bit); the whole frame into
a 122 MB array 16 ms (memory-bound: the array does not fit any cache). With hot pixels and a
FWHM per star (medians of 9, 8-bit full frames, plan + every block): Apollo-M MAX PRO 1.1 ms
(its frame period at the table's 126 fps: 7.9 ms), Ares-C PRO 6.8 ms (23 ms), Zeus 455M PRO
36 ms (154 ms): 10–25 % more than before them, streaming at the table's fps stays possible.

Blocks: everything random about a frame (the pool offsets of every block, each star's and hot
pixel's Poisson draw) is decided first by :meth:`FrameSynth.plan`, so rendering a frame in one
go (:meth:`FrameSynth.render`) and block by block into a small buffer (:meth:`FrameSynth.blocks`,
what the readout streams) give the same pixels. A block is ``2·k`` rows of ``≈ BLOCK_PIXELS``
pixels: 1 MiB at 16 bit, the size of one simulated USB transfer.
"""
from __future__ import annotations

import math
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from .interface import Roi
from .models import ModelSpec
from .sim_options import SimOptions
from .sim_sensor import (
    DARK_DOUBLING_C, dark_e_per_s, e_per_adu, hot_pixels, read_noise_e,
)

__all__ = [
    "BIAS_ADU16_PER_OFFSET", "BLOCK_PIXELS", "FrameSettings", "FramePlan", "FrameSynth",
    "frame_rng",
]

BIAS_ADU16_PER_OFFSET = 4.0
CHANNEL_RESPONSE = {"R": 0.7, "G": 1.0, "B": 0.5}
STAR_RATE_E_PER_S = (300.0, 30_000.0)  # log-uniform, before QE
PIXELS_PER_STAR = 400_000
FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))  # 2.3548

_POOL_LEN = 1 << 22
_POOL_SCALE = 1024.0  # the int16 pool holds N(0, 1) × 1024
#: Pixels per block (memcpy from the pool, and one USB transfer): well below _POOL_LEN so the
#: random offsets vary; 2**19 pixels = 1 MiB at 16 bit, 512 KiB at 8 bit.
BLOCK_PIXELS = 1 << 19
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


def frame_rng(serial: str, sequence: int) -> np.random.Generator:
    """The random stream of frame ``sequence`` of the camera ``serial``: frames are reproducible."""
    return np.random.default_rng((zlib.crc32(serial.encode()), sequence))


@dataclass(frozen=True)
class FrameSettings:
    """What an exposure was started with (the worker never reads live camera state)."""

    roi: Roi
    bits: int
    gain: int
    offset: int
    temperature_c: float
    exposure_s: float
    low_noise: bool = False  # sensor mode "Low Noise"
    bin_sum: bool = False  # PixelBinSum: binned pixels summed, else averaged
    flip: tuple[bool, bool] = (False, False)  # (horizontal, vertical)
    star_shift: tuple[float, float] = (0.0, 0.0)  # unbinned pixels (ST4 guiding moved the scene)


@dataclass(frozen=True)
class _Star:
    y0: int
    y1: int
    x0: int
    x1: int
    adu: np.ndarray  # (y1 - y0, x1 - x0) signal in native ADU, Poisson noise included


@dataclass(frozen=True)
class _Hot:
    rows: np.ndarray  # frame rows of the block's hot pixels
    cols: np.ndarray
    adu: np.ndarray  # signal in native ADU, Poisson noise included


@dataclass(frozen=True)
class FramePlan:
    """Everything random about one frame, drawn before any pixel is written."""

    settings: FrameSettings
    pools: tuple[np.ndarray, np.ndarray]  # finished values for even / odd rows
    pair_rows: int  # row pairs per block
    offsets: tuple[tuple[int, int], ...]  # per block: even-row and odd-row pool offsets
    stars: tuple[tuple[_Star, ...], ...]  # per block: the stars reaching its rows, in draw order
    hot: tuple[_Hot | None, ...] = ()  # per block: its hot pixels

    @property
    def shape(self) -> tuple[int, int]:
        return self.settings.roi.height, self.settings.roi.width

    @property
    def dtype(self) -> type:
        return np.uint16 if self.settings.bits == 16 else np.uint8


class FrameSynth:
    """Frame synthesis for one camera; thread-safe (own lock for the pool cache)."""

    def __init__(self, spec: ModelSpec, serial: str, options: SimOptions | None = None) -> None:
        self.spec = spec
        self.options = options or SimOptions()
        rng = np.random.default_rng(zlib.crc32(serial.encode()))
        n = max(12, spec.width * spec.height // PIXELS_PER_STAR)
        self.star_x = rng.uniform(0, spec.width, n)
        self.star_y = rng.uniform(0, spec.height, n)
        lo, hi = np.log(STAR_RATE_E_PER_S)
        self.star_rate = np.exp(rng.uniform(lo, hi, n))
        self.star_fwhm = self.fwhm_at(self.star_x, self.star_y)
        self.hot = hot_pixels(spec, serial)
        pattern = spec.bayer or "GGGG"  # mono: every pixel has the green (unit) response
        self.response = np.array([[CHANNEL_RESPONSE[c] for c in pattern[0:2]],
                                  [CHANNEL_RESPONSE[c] for c in pattern[2:4]]], dtype=np.float64)
        self._lock = threading.Lock()
        self._pools: tuple[tuple, np.ndarray, np.ndarray] | None = None

    # -- optics ------------------------------------------------------------------------------
    def fwhm_at(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Star FWHM (unbinned pixels) at sensor positions ``x``, ``y`` (unbinned pixels)."""
        o = self.options
        z = o.defocus_um(np.asarray(x) / self.spec.width, np.asarray(y) / self.spec.height)
        blur_px = np.abs(z) / o.fratio / self.spec.pixel_size_um
        return np.sqrt(o.seeing_px ** 2 + blur_px ** 2)

    # -- electronics -------------------------------------------------------------------------
    def e_per_adu(self, gain: int) -> float:
        return e_per_adu(self.spec, gain)

    def read_noise_e(self, gain: int, low_noise: bool = False) -> float:
        return read_noise_e(self.spec, gain, low_noise)

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

    def _response(self, s: FrameSettings) -> np.ndarray:
        """The 2×2 Bayer response as it lands in the frame (flips mirror the pattern)."""
        r = self.response
        if s.flip[0]:
            r = r[:, ::-1]
        if s.flip[1]:
            r = r[::-1, :]
        return r

    def _levels(self, s: FrameSettings) -> tuple[np.ndarray, np.ndarray, float]:
        """Per Bayer position (2×2) background level and noise sigma, and the full-well ceiling,
        in native ADU (a saturated pixel reads the full well: no noise below it)."""
        epa = self.e_per_adu(s.gain)
        bias = s.offset * BIAS_ADU16_PER_OFFSET / 2 ** (16 - self.spec.adc_bits)
        dark_e = dark_e_per_s(s.temperature_c) * s.exposure_s
        sky_e = self.options.sky_e_per_s * self.spec.qe_peak * s.exposure_s * self._response(s)
        signal_e = dark_e + sky_e  # may exceed the well: the ceiling below clips after the noise
        var_e = self.read_noise_e(s.gain, s.low_noise) ** 2 + signal_e
        b = s.roi.bin
        ceiling = bias + self.spec.full_well_e / epa
        if s.bin_sum:
            return (bias + signal_e / epa) * b * b, np.sqrt(var_e) / epa * b, ceiling * b * b
        return bias + signal_e / epa, np.sqrt(var_e) / epa / b, ceiling

    def pools(self, s: FrameSettings) -> tuple[np.ndarray, np.ndarray]:
        """Finished-value pools for even and odd rows (even/odd index = Bayer column parity)."""
        levels, sigma, ceiling = self._levels(s)
        key = (s.bits, tuple(np.round(levels, 2).ravel()), tuple(np.round(sigma, 3).ravel()),
               round(ceiling, 2))
        with self._lock:
            if self._pools is not None and self._pools[0] == key:
                return self._pools[1], self._pools[2]
            z = _standard_pool().astype(np.float32).reshape(-1, 2)
            rows = []
            for r in (0, 1):
                if r == 1 and not self.spec.is_color:
                    rows.append(rows[0])
                    continue
                scale = (sigma[r] / _POOL_SCALE).astype(np.float32)
                if scale[0] == scale[1]:  # a scalar: numpy's length-2 inner loop is slow
                    native = z * scale[0]
                else:
                    native = np.empty_like(z)
                    np.multiply(z[:, 0], scale[0], out=native[:, 0])
                    np.multiply(z[:, 1], scale[1], out=native[:, 1])
                native += levels[r].astype(np.float32)
                if ceiling < 2 ** self.spec.adc_bits:  # else the ADC clips first (20 ms saved)
                    np.minimum(native, np.float32(ceiling), out=native)
                rows.append(self.to_output(native.ravel(), s.bits))
            self._pools = (key, rows[0], rows[1])
            return rows[0], rows[1]

    # -- a frame --------------------------------------------------------------------------
    def plan(self, s: FrameSettings, rng: np.random.Generator) -> FramePlan:
        """Draw everything random about a frame (pool offsets, star photons); no pixel yet.

        Runs in the exposure's worker while the exposure lasts: a settings change costs the
        pool rebuild here (20–45 ms for 4 M values), not during the readout."""
        pools = self.pools(s)
        h, w = s.roi.height, s.roi.width
        step = max(1, BLOCK_PIXELS // (2 * w))
        offsets = []
        for p0 in range(0, h // 2, step):
            n = (min(h // 2, p0 + step) - p0) * w
            offsets.append(tuple(2 * int(rng.integers(0, (pool.size - n) // 2 + 1))  # even: Bayer
                                 for pool in pools))
        per_block: list[list[_Star]] = [[] for _ in offsets]
        for star in self._stars(s, rng):
            for b in range(star.y0 // (2 * step), (star.y1 - 1) // (2 * step) + 1):
                per_block[b].append(star)
        hot = self._hot_pixels(s, rng, 2 * step, len(offsets))
        return FramePlan(s, pools, step, tuple(offsets), tuple(tuple(b) for b in per_block), hot)

    def _scene_scale(self, s: FrameSettings) -> float:
        """ADU per electron of one sensor pixel in a binned pixel (average of b² or their sum)."""
        b = s.roi.bin
        return 1.0 / (self.e_per_adu(s.gain) * (1 if s.bin_sum else b * b))

    def _stars(self, s: FrameSettings, rng: np.random.Generator) -> Iterator[_Star]:
        b, roi = s.roi.bin, s.roi
        h, w = roi.height, roi.width
        sig = self.star_fwhm / FWHM_PER_SIGMA / b
        rad = np.ceil(4 * sig).astype(np.int64) + 1
        u = (self.star_x + s.star_shift[0]) / b - roi.x
        v = (self.star_y + s.star_shift[1]) / b - roi.y
        if s.flip[0]:
            u = w - u
        if s.flip[1]:
            v = h - v
        visible = np.flatnonzero((u > -rad) & (u < w + rad) & (v > -rad) & (v < h + rad))
        if self.options.star_scale == 0:  # covered: no star, and no Poisson draw for one
            return
        adu_per_e = self._scene_scale(s)
        full_well = self.spec.full_well_e * (b * b if s.bin_sum else 1)
        response = self._response(s)
        for i in visible:
            r = int(rad[i])
            x0, x1 = max(0, math.floor(u[i]) - r), min(w, math.floor(u[i]) + r + 1)
            y0, y1 = max(0, math.floor(v[i]) - r), min(h, math.floor(v[i]) + r + 1)
            if x0 >= x1 or y0 >= y1:
                continue
            px = _pixel_integral(x0, x1, u[i], float(sig[i]))
            py = _pixel_integral(y0, y1, v[i], float(sig[i]))
            resp = response[np.ix_(np.arange(y0, y1) % 2, np.arange(x0, x1) % 2)]
            mean_e = (self.star_rate[i] * self.options.star_scale * s.exposure_s
                      * self.spec.qe_peak * resp * np.outer(py, px))
            # mean_e is the electron sum over the b² sensor pixels of each binned pixel
            electrons = np.minimum(rng.poisson(mean_e), full_well)
            yield _Star(y0, y1, x0, x1, electrons * adu_per_e)

    def _hot_pixels(self, s: FrameSettings, rng: np.random.Generator, block_rows: int,
                    nblocks: int) -> tuple[_Hot | None, ...]:
        """This frame's hot pixels, grouped by block (Poisson electrons, scaled like the scene)."""
        b, roi, hp = s.roi.bin, s.roi, self.hot
        col, row = hp.x // b - roi.x, hp.y // b - roi.y
        inside = (col >= 0) & (col < roi.width) & (row >= 0) & (row < roi.height)
        if not inside.any():
            return (None,) * nblocks
        col, row = col[inside], row[inside]
        if s.flip[0]:
            col = roi.width - 1 - col
        if s.flip[1]:
            row = roi.height - 1 - row
        mean_e = hp.e_per_s_at_0c[inside] * 2.0 ** (s.temperature_c / DARK_DOUBLING_C) \
            * s.exposure_s
        adu = np.minimum(rng.poisson(mean_e), self.spec.full_well_e) * self._scene_scale(s)
        block = row // block_rows
        out: list[_Hot | None] = []
        for k in range(nblocks):
            sel = block == k
            out.append(_Hot(row[sel] - k * block_rows, col[sel], adu[sel]) if sel.any() else None)
        return tuple(out)

    def render_block(self, plan: FramePlan, index: int, out: np.ndarray) -> np.ndarray:
        """Block ``index`` of the frame into ``out`` (any buffer of at least a block's bytes);
        returns the filled ``(rows, width)`` view."""
        even, odd = plan.pools
        h, w = plan.shape
        p0 = index * plan.pair_rows
        p1 = min(h // 2, p0 + plan.pair_rows)
        n = (p1 - p0) * w
        block = out.reshape(-1)[:2 * n].reshape(2 * (p1 - p0), w)
        pairs = block.reshape(p1 - p0, 2, w)
        for k, pool in ((0, even), (1, odd)):
            off = plan.offsets[index][k]
            np.copyto(pairs[:, k, :], pool[off:off + n].reshape(p1 - p0, w))
        r0, r1 = 2 * p0, 2 * p1
        bits = plan.settings.bits
        for star in plan.stars[index]:
            y0, y1 = max(star.y0, r0), min(star.y1, r1)
            patch = block[y0 - r0:y1 - r0, star.x0:star.x1]
            adu = star.adu[y0 - star.y0:y1 - star.y0]
            patch[...] = self.to_output(self.from_output(patch, bits) + adu, bits)
        hot = plan.hot[index] if plan.hot else None
        if hot is not None:
            values = block[hot.rows, hot.cols]
            block[hot.rows, hot.cols] = self.to_output(self.from_output(values, bits) + hot.adu,
                                                       bits)
        return block

    def blocks(self, plan: FramePlan, buffer: np.ndarray) -> Iterator[np.ndarray]:
        """The frame block after block, each rendered into ``buffer`` (reused: consume each
        block before asking for the next)."""
        for i in range(len(plan.offsets)):
            yield self.render_block(plan, i, buffer)

    def block_buffer(self) -> np.ndarray:
        """A buffer for the largest block of any ROI of this camera, at 16 bit (view it as
        uint8 for 8-bit blocks)."""
        return np.empty(max(BLOCK_PIXELS, 2 * self.spec.width), dtype=np.uint16)

    def render(self, out: np.ndarray, s: FrameSettings, rng: np.random.Generator) -> None:
        """Fill ``out`` (shape = ROI, dtype = format) with a complete frame in one go."""
        plan = self.plan(s, rng)
        h, w = out.shape
        rows = 2 * plan.pair_rows
        for i in range(len(plan.offsets)):
            self.render_block(plan, i, out[i * rows:min(h, (i + 1) * rows)])


def _pixel_integral(p0: int, p1: int, centre: float, sigma: float) -> np.ndarray:
    """Fraction of a unit 1-D Gaussian falling on each pixel [p, p+1) for p in [p0, p1)."""
    edges = [math.erf((e - centre) / (sigma * math.sqrt(2))) for e in range(p0, p1 + 1)]
    return np.diff(np.asarray(edges)) / 2
