"""Property tests of the benchmark's C pixel kernels (``bench/kernels``: 12-bit unpacking,
shifts, byte swaps, 8/16-bit conversions, binning, crop, flips) against plain numpy
references. The driver's own kernels (FITS conversion, statistics) are tested in
test_native_kernels.py.

Every test runs twice: with the run-time SIMD paths (AVX2 on this machine) and with
the plain-C fallback forced, so both paths are held to the same reference. Sizes are
random with odd widths and lengths that are not multiples of the vector width, so the
vector main loops and their scalar tails are both exercised; a few fixed tests use
frames above the 4 MiB streaming-store threshold, with misaligned outputs.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, strategies as st

from helpers.kernel_checks import SETTINGS, ref_fits, rng_for, simd_fixture
from indi_playerone.native import NativeError

KERNELS = Path(__file__).resolve().parents[2] / "bench" / "kernels"


def _import_bench_kernels():
    spec = importlib.util.spec_from_file_location("bench_kernels", KERNELS / "__init__.py",
                                                  submodule_search_locations=[str(KERNELS)])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_kernels"] = module
    spec.loader.exec_module(module)
    return module


K = _import_bench_kernels()


@pytest.fixture(scope="module", autouse=True)
def bench_module(tmp_path_factory: pytest.TempPathFactory):
    """The C module, built once per test process into a directory of its own."""
    return K.load(str(tmp_path_factory.mktemp("bench-kernels")))

simd = simd_fixture(K.simd)


# ---- references (numpy, written from the format descriptions, not from the C) ----------

def ref_unpack12(b: np.ndarray, n: int) -> np.ndarray:
    b = np.concatenate([b[: (3 * n + 1) // 2], np.zeros(2, np.uint8)]).astype(np.uint32)
    pairs = (n + 1) // 2
    t = b[: 3 * pairs].reshape(pairs, 3)
    out = np.empty(2 * pairs, np.uint32)
    out[0::2] = t[:, 0] | (t[:, 1] & 0xF) << 8
    out[1::2] = (t[:, 1] >> 4) | t[:, 2] << 4
    return out[:n].astype(np.uint16)


def ref_bin(a: np.ndarray, f: int, mode: str) -> np.ndarray:
    h, w = a.shape[0] // f * f, a.shape[1] // f * f
    s = a[:h, :w].astype(np.int64).reshape(h // f, f, w // f, f).sum(axis=(1, 3))
    top = np.iinfo(a.dtype).max
    if mode == "avg":
        return ((s + f * f // 2) // (f * f)).astype(a.dtype)
    return np.minimum(s, top).astype(a.dtype)


def ref_bin_bayer(a: np.ndarray, f: int, mode: str) -> np.ndarray:
    ny, nx = a.shape[0] // (2 * f), a.shape[1] // (2 * f)
    out = np.empty((2 * ny, 2 * nx), a.dtype)
    for py in (0, 1):
        for px in (0, 1):
            plane = a[py::2, px::2][: f * ny, : f * nx]
            out[py::2, px::2] = ref_bin(np.ascontiguousarray(plane), f, mode)
    return out


# ---- element-wise kernels --------------------------------------------------------------

@SETTINGS
@given(n=st.integers(0, 3000), seed=st.integers(0, 2**32 - 1), shift=st.sampled_from([0, 4]))
def test_unpack12_matches_reference(simd, n: int, seed: int, shift: int) -> None:
    b = rng_for(seed).integers(0, 256, (3 * n + 1) // 2, dtype=np.uint8)
    expect = ref_unpack12(b, n) << shift
    assert np.array_equal(K.unpack12(b, n, shift=shift), expect)
    assert K.unpack12_fits(b, n, shift=shift).tobytes() == ref_fits(expect)


@SETTINGS
@given(n=st.integers(0, 3000), seed=st.integers(0, 2**32 - 1), shift=st.integers(0, 15))
def test_shift_swap_narrow(simd, n: int, seed: int, shift: int) -> None:
    v = rng_for(seed).integers(0, 65536, n, dtype=np.uint16)
    assert np.array_equal(K.shift_right(v, shift), v >> shift)
    assert np.array_equal(K.byteswap16(v), v.byteswap())
    assert np.array_equal(K.narrow16(v, shift), np.minimum(v >> shift, 255).astype(np.uint8))
    assert np.array_equal(K.raw16le(v.astype("<u2").tobytes()), v)
    b8 = (v & 0xFF).astype(np.uint8)
    s8 = min(shift, 8)
    assert np.array_equal(K.widen8(b8, s8), (b8.astype(np.uint16) << s8).astype(np.uint16))


@SETTINGS
@given(n=st.integers(1, 2000), seed=st.integers(0, 2**32 - 1))
def test_in_place_element_wise(simd, n: int, seed: int) -> None:
    v = rng_for(seed).integers(0, 65536, n, dtype=np.uint16)
    a = v.copy()
    K.shift_right(a, 4, out=a)
    assert np.array_equal(a, v >> 4)


@pytest.mark.parametrize("offset", [0, 1, 7])
def test_large_frames_take_streaming_path_misaligned(simd, offset: int) -> None:
    """Above 4 MiB the SIMD kernels switch to streaming stores after an aligning prologue;
    outputs start `offset` elements into an allocation so the prologue has work to do."""
    n = (4 << 20) + 13  # 8-bit output above 4 MiB too
    rng = rng_for(offset)
    v = rng.integers(0, 65536, n, dtype=np.uint16)
    out = np.empty(n + 8, np.uint16)[offset:offset + n]
    assert np.array_equal(K.shift_right(v, 3, out=out), v >> 3)
    assert np.array_equal(K.byteswap16(v, out=out), v.byteswap())
    outb = np.empty(2 * n + 8, np.uint8)[offset:offset + 2 * n]
    out8 = outb[:n]
    assert np.array_equal(K.narrow16(v, 5, out=out8), np.minimum(v >> 5, 255).astype(np.uint8))
    b = rng.integers(0, 256, (3 * n + 1) // 2, dtype=np.uint8)
    assert np.array_equal(K.unpack12(b, n, out=out), ref_unpack12(b, n))
    assert K.unpack12_fits(b, n, out=outb).tobytes() == ref_fits(ref_unpack12(b, n))
    img = v[: 1024 * 3072].reshape(1024, 3072)
    outi = np.empty(512 * 1536 + 8, np.uint16)[offset:offset + 512 * 1536].reshape(512, 1536)
    assert np.array_equal(K.bin_image(img, 2, "sum", out=outi), ref_bin(img, 2, "sum"))
    assert np.array_equal(K.bin_image(img, 2, "avg", out=outi), ref_bin(img, 2, "avg"))


# ---- image kernels ------------------------------------------------------------------------

@SETTINGS
@given(w=st.integers(1, 160), h=st.integers(1, 40), f=st.integers(1, 4), mode=st.sampled_from(["sum", "avg"]),
       u16=st.booleans(), high=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_binning_matches_reference(simd, w, h, f, mode, u16, high, seed) -> None:
    dt = np.uint16 if u16 else np.uint8
    top = int(np.iinfo(dt).max) + 1
    lo = top - top // 16 if high else 0  # near full scale: the saturating sum is exercised
    a = rng_for(seed).integers(lo, top, (h, w)).astype(dt)
    if w < f or h < f:
        with pytest.raises(NativeError):
            K.bin_image(a, f, mode)
        return
    assert np.array_equal(K.bin_image(a, f, mode), ref_bin(a, f, mode))
    if w >= 2 * f and h >= 2 * f:
        assert np.array_equal(K.bin_image(a, f, mode, bayer=True), ref_bin_bayer(a, f, mode))


@SETTINGS
@given(sw=st.integers(1, 90), sh=st.integers(1, 30), data=st.data(), planes=st.sampled_from([0, 3]),
       u16=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_crop_matches_slicing(simd, sw, sh, data, planes, u16, seed) -> None:
    shape = (sh, sw, planes) if planes else (sh, sw)
    a = rng_for(seed).integers(0, 60000, shape).astype(np.uint16 if u16 else np.uint8)
    x, y = data.draw(st.integers(0, sw - 1)), data.draw(st.integers(0, sh - 1))
    w, h = data.draw(st.integers(1, sw - x)), data.draw(st.integers(1, sh - y))
    out, off = K.crop(a, x, y, w, h)
    assert np.array_equal(out, a[y:y + h, x:x + w])
    assert off == (x & 1, y & 1)


@SETTINGS
@given(w=st.integers(1, 120), h=st.integers(1, 30), mode=st.sampled_from(["none", "h", "v", "both"]),
       dtype=st.sampled_from(["u1", "u2", "rgb"]), in_place=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_flip_matches_numpy(simd, w, h, mode, dtype, in_place, seed) -> None:
    shape = (h, w, 3) if dtype == "rgb" else (h, w)
    a = rng_for(seed).integers(0, 65536, shape).astype(np.uint16 if dtype == "u2" else np.uint8)
    axes = {"none": (), "h": (1,), "v": (0,), "both": (0, 1)}[mode]
    expect = np.flip(a, axes) if axes else a.copy()
    b = a.copy()
    out, off = K.flip(b, mode, out=b if in_place else None)
    assert np.array_equal(out, expect)
    assert off == (((w - 1) & 1) if "h" in mode or mode == "both" else 0,
                   ((h - 1) & 1) if "v" in mode or mode == "both" else 0)


def test_bayer_pattern_after_flip_matches_the_cfa_rule() -> None:
    """Even-sized frames: H swaps columns, V swaps rows, both does both (docs/upstream-facts.md,
    section 5.2: the FLIP setting permutes CCD_CFA's pattern)."""
    assert K.bayer_pattern_after("RGGB", (1, 0)) == "GRBG"
    assert K.bayer_pattern_after("RGGB", (0, 1)) == "GBRG"
    assert K.bayer_pattern_after("RGGB", (1, 1)) == "BGGR"
    assert K.bayer_pattern_after("GBRG", (0, 0)) == "GBRG"
    img = np.zeros((4, 6), np.uint8)
    _, off = K.flip(img, "h")
    assert K.bayer_pattern_after("RGGB", off) == "GRBG"


@pytest.mark.parametrize("call", [
    lambda: K.unpack12(np.zeros(3, np.uint8), 4),                 # source too short
    lambda: K.unpack12(np.zeros(3, np.uint8), 2, shift=5),        # shift beyond 4
    lambda: K.shift_right(np.zeros(4, np.uint16), 16),
    lambda: K.bin_image(np.zeros((8, 8), np.uint16), 5),
    lambda: K.crop(np.zeros((4, 4), np.uint8), 3, 0, 2, 1),      # past the right edge
    lambda: K.flip(np.zeros((4, 4), np.uint8), 7),
])
def test_bad_arguments_raise(call) -> None:
    with pytest.raises((NativeError, ValueError, KeyError)):
        call()


def test_wrong_dtype_is_refused_not_copied() -> None:
    with pytest.raises(TypeError):
        K.shift_right(np.zeros(4, np.int32), 1)
    with pytest.raises(ValueError):
        K.shift_right(np.zeros((4, 4), np.uint16)[:, ::2], 1)
