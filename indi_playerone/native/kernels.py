"""The pixel kernels the driver uses: the FITS conversion of every uint16 frame
(``native/src/fits.c``, called by ``ccd/fits.py``) and one-pass statistics
(``native/src/stats.c``, called by the offset tool on each dark frame of its search).

cffi API mode releases the GIL around each C call, so a kernel on a 122 MB frame does not
stall the other threads. The other kernels the C core once had (12-bit unpacking, shifts,
binning, crop, flips) have no caller in the driver and live in ``bench/kernels/``.
"""
from __future__ import annotations

import dataclasses
from typing import Optional

import numpy as np

from indi_playerone._native import ffi, lib

from .buffers import Buffer, as_array, out_array, pointer
from .errors import check


def fits_be16(src: Buffer, out: Optional[Buffer] = None) -> np.ndarray:
    """uint16 -> FITS BITPIX 16 big-endian with BZERO 32768, straight into `out` (for
    example the shared payload the BLOB is sent from). out may be src's own bytes."""
    s = as_array(src, np.uint16)
    d = out_array(out, (2 * s.size,), np.uint8)
    if s.size:
        lib.poa_fits_be16(pointer(s, "uint16_t"), pointer(d, "uint8_t"), s.size)
    return d


@dataclasses.dataclass(frozen=True)
class Stats:
    count: int
    min: int
    max: int
    mean: float
    stddev: float  # population (ddof=0), as numpy's std
    median: float  # mean of the two middle values for even counts, as numpy's median
    histogram: Optional[np.ndarray]


def stats(src: Buffer, histogram: bool = True) -> Stats:
    """min, max, mean, stddev, median from one pass (65536-bin histogram for uint16, 256
    for uint8). On a 61 MP frame `bench/native.py` measured 33 ms, numpy's best 512 ms."""
    s = src if isinstance(src, np.ndarray) else np.frombuffer(src, dtype=np.uint8)
    s = as_array(s.reshape(-1), s.dtype)
    u16 = s.dtype == np.uint16
    hist = np.empty(65536 if u16 else 256, dtype=np.uint32) if histogram else None
    st = ffi.new("poa_stats_t *")
    hp = pointer(hist, "uint32_t") if hist is not None else ffi.NULL
    if u16:
        check("poa_stats_u16", lib.poa_stats_u16(pointer(s, "uint16_t"), s.size, hp, st))
    else:
        check("poa_stats_u8", lib.poa_stats_u8(pointer(as_array(s, np.uint8), "uint8_t"), s.size, hp, st))
    return Stats(int(st.count), int(st.min), int(st.max), float(st.mean), float(st.stddev),
                 float(st.median), hist)
