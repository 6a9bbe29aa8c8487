"""Property tests of the driver's C pixel kernels against plain numpy references: the FITS
conversion of uint16 frames (``native/src/fits.c``) and one-pass statistics
(``native/src/stats.c``). The benchmark's kernels are tested in test_bench_kernels.py.

Every test runs twice: with the run-time SIMD paths (AVX2 on this machine) and with the
plain-C fallback forced, so both paths are held to the same reference. Lengths are random
and not multiples of the vector width, so the vector main loops and their scalar tails
are both exercised; a fixed test uses frames above the 4 MiB streaming-store threshold,
with misaligned outputs.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, strategies as st

from helpers.kernel_checks import SETTINGS, ref_fits, rng_for, simd_fixture
from indi_playerone import native as N

simd = simd_fixture(N.simd)


@SETTINGS
@given(n=st.integers(0, 3000), seed=st.integers(0, 2**32 - 1))
def test_fits_matches_reference(simd, n: int, seed: int) -> None:
    v = rng_for(seed).integers(0, 65536, n, dtype=np.uint16)
    assert N.fits_be16(v).tobytes() == ref_fits(v)


@SETTINGS
@given(n=st.integers(1, 2000), seed=st.integers(0, 2**32 - 1))
def test_fits_in_place(simd, n: int, seed: int) -> None:
    v = rng_for(seed).integers(0, 65536, n, dtype=np.uint16)
    a = v.copy()
    N.fits_be16(a, out=a.view(np.uint8))
    assert a.tobytes() == ref_fits(v)


@pytest.mark.parametrize("offset", [0, 1, 7])
def test_large_frames_take_streaming_path_misaligned(simd, offset: int) -> None:
    """Above 4 MiB the SIMD kernel switches to streaming stores after an aligning prologue;
    the output starts `offset` bytes into an allocation so the prologue has work to do."""
    n = (4 << 20) + 13
    v = rng_for(offset).integers(0, 65536, n, dtype=np.uint16)
    outb = np.empty(2 * n + 8, np.uint8)[offset:offset + 2 * n]
    assert N.fits_be16(v, out=outb).tobytes() == ref_fits(v)


def test_fits_output_reads_back_with_astropy(tmp_path) -> None:
    """The converted bytes, behind a minimal header, are what astropy reads as the data."""
    from astropy.io import fits

    v = rng_for(5).integers(0, 65536, (7, 13), dtype=np.uint16)
    cards = ["SIMPLE  =                    T", "BITPIX  =                   16", "NAXIS   =                    2",
             "NAXIS1  =                   13", "NAXIS2  =                    7",
             "BZERO   =                32768", "BSCALE  =                    1", "END"]
    header = "".join(c.ljust(80) for c in cards).ljust(2880).encode()
    data = N.fits_be16(v).tobytes()
    (tmp_path / "f.fits").write_bytes(header + data + b"\0" * (-len(data) % 2880))
    with fits.open(tmp_path / "f.fits") as hdul:
        assert np.array_equal(hdul[0].data, v)


@SETTINGS
@given(n=st.integers(1, 5000), seed=st.integers(0, 2**32 - 1), u16=st.booleans(),
       narrow=st.booleans())
def test_stats_match_numpy(simd, n, seed, u16, narrow) -> None:
    rng = rng_for(seed)
    top = 65536 if u16 else 256
    a = rng.integers(0, 40 if narrow else top, n).astype(np.uint16 if u16 else np.uint8)
    s = N.stats(a)
    assert (s.count, s.min, s.max) == (n, int(a.min()), int(a.max()))
    assert s.mean == pytest.approx(float(a.mean()), rel=1e-12)
    assert s.stddev == pytest.approx(float(a.std()), rel=1e-9, abs=1e-9)
    assert s.median == float(np.median(a))
    assert np.array_equal(s.histogram, np.bincount(a, minlength=top))


def test_bad_arguments_raise() -> None:
    with pytest.raises((N.NativeError, ValueError)):
        N.stats(np.zeros(0, np.uint16))


def test_wrong_dtype_is_refused_not_copied() -> None:
    with pytest.raises(TypeError):
        N.fits_be16(np.zeros(4, np.int32))
    with pytest.raises(ValueError):
        N.fits_be16(np.zeros((4, 4), np.uint16)[:, ::2])
