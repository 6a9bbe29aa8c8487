"""Frame synthesis for the simulated cameras, rendered block by block as the readout streams.

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
VM (2 shared cores, medians, 9576×6388, pools cached): the plan 8 ms; all blocks rendered into
one 1 MiB buffer 6.5 ms at 16 bit (4.6 ms at 8 bit); the whole frame into a 122 MB array 16 ms
(memory-bound: the array does not fit any cache).

Blocks: everything random about a frame (the pool offsets of every block, each star's Poisson
draw) is decided first by :meth:`FrameSynth.plan`, in the order the whole-frame renderer of the
first simulator drew it, so rendering a frame in one go (:meth:`FrameSynth.render`) and block by
block into a small buffer (:meth:`FrameSynth.blocks`, what the readout streams) give the same
pixels, and the same as the first simulator (checked bit for bit when the renderer was split,
for mono and colour, 8 and 16 bit, binned, sub-frames and a full Zeus frame). A block is ``2·k`` rows of ``≈ BLOCK_PIXELS`` pixels: 1 MiB at 16 bit, the size of one
simulated USB transfer.
"""
from __future__ import annotations

import math
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from .interface import Roi
from .models import GAIN_RANGE, ModelSpec

__all__ = [
    "BIAS_ADU16_PER_OFFSET", "BLOCK_PIXELS", "FrameSettings", "FramePlan", "FrameSynth",
    "frame_rng",
]

BIAS_ADU16_PER_OFFSET = 4.0
GAIN_DB_PER_UNIT = 0.05
SKY_E_PER_S = 1.0
DARK_E_PER_S_AT_0C = 0.01
DARK_DOUBLING_C = 6.0
CHANNEL_RESPONSE = {"R": 0.7, "G": 1.0, "B": 0.5}
STAR_FWHM_PX = 3.0
STAR_RATE_E_PER_S = (300.0, 30_000.0)  # log-uniform, before QE
PIXELS_PER_STAR = 400_000

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


@dataclass(frozen=True)
class _Star:
    y0: int
    y1: int
    x0: int
    x1: int
    adu: np.ndarray  # (y1 - y0, x1 - x0) signal in native ADU, Poisson noise included


@dataclass(frozen=True)
class FramePlan:
    """Everything random about one frame, drawn before any pixel is written."""

    settings: FrameSettings
    pools: tuple[np.ndarray, np.ndarray]  # finished values for even / odd rows
    pair_rows: int  # row pairs per block
    offsets: tuple[tuple[int, int], ...]  # per block: even-row and odd-row pool offsets
    stars: tuple[tuple[_Star, ...], ...]  # per block: the stars reaching its rows, in draw order

    @property
    def shape(self) -> tuple[int, int]:
        return self.settings.roi.height, self.settings.roi.width

    @property
    def dtype(self) -> type:
        return np.uint16 if self.settings.bits == 16 else np.uint8


class FrameSynth:
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

    def _levels(self, s: FrameSettings) -> tuple[np.ndarray, float]:
        """Per Bayer position (2×2) background level, and read noise sigma, in native ADU."""
        epa = self.e_per_adu(s.gain)
        bias = s.offset * BIAS_ADU16_PER_OFFSET / 2 ** (16 - self.spec.adc_bits)
        dark_e = DARK_E_PER_S_AT_0C * 2 ** (s.temperature_c / DARK_DOUBLING_C) * s.exposure_s
        sky_e = SKY_E_PER_S * self.spec.qe_peak * s.exposure_s * self.response
        return bias + (dark_e + sky_e) / epa, self.read_noise_e(s.gain) / epa / s.roi.bin

    def pools(self, s: FrameSettings) -> tuple[np.ndarray, np.ndarray]:
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
        return FramePlan(s, pools, step, tuple(offsets), tuple(tuple(b) for b in per_block))

    def _stars(self, s: FrameSettings, rng: np.random.Generator) -> Iterator[_Star]:
        b, roi = s.roi.bin, s.roi
        sig = STAR_FWHM_PX / 2.3548 / b
        r = math.ceil(4 * sig) + 1
        u, v = self.star_x / b - roi.x, self.star_y / b - roi.y
        h, w = roi.height, roi.width
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
            yield _Star(y0, y1, x0, x1, rng.poisson(mean_e) * adu_per_e)

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
