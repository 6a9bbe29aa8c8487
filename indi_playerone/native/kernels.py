"""The C core's pixel kernels (``native/src/conv.c``, ``fits.c``, ``bin.c``, ``geom.c``,
``stats.c``). cffi API mode releases the GIL around each C call, so a kernel on a 122 MB
frame does not stall the other threads."""
from __future__ import annotations

import dataclasses
from typing import Optional, Union

import numpy as np

from indi_playerone._native import ffi, lib

from .buffers import Buffer, as_array, as_bytes, out_array, pointer
from .errors import check


# ---- element-wise kernels ----------------------------------------------------------------

def unpack12(src: Buffer, n: Optional[int] = None, *, shift: int = 0,
             out: Optional[Buffer] = None) -> np.ndarray:
    """12-bit packed (GenICam Mono12p, 2 px in 3 bytes) -> uint16; shift 4 left-justifies."""
    s = as_array(src, np.uint8)
    n = (s.size * 2) // 3 if n is None else n
    d = out_array(out, (n,), np.uint16)
    check("poa_unpack12", lib.poa_unpack12(pointer(s, "uint8_t"), s.size, pointer(d, "uint16_t"), n, shift))
    return d


def unpack12_fits(src: Buffer, n: Optional[int] = None, *, shift: int = 0,
                  out: Optional[Buffer] = None) -> np.ndarray:
    """12-bit packed straight to FITS BITPIX 16 big-endian bytes with BZERO 32768."""
    s = as_array(src, np.uint8)
    n = (s.size * 2) // 3 if n is None else n
    d = out_array(out, (2 * n,), np.uint8)
    check("poa_unpack12_fits_be",
           lib.poa_unpack12_fits_be(pointer(s, "uint8_t"), s.size, pointer(d, "uint8_t"), n, shift))
    return d


def shift_right(src: Buffer, shift: int, out: Optional[Buffer] = None) -> np.ndarray:
    """12/14-bit data left-justified in 16 bits -> right-justified (out may be src)."""
    s = as_array(src, np.uint16)
    d = out_array(out, s.shape, np.uint16)
    check("poa_shr16", lib.poa_shr16(pointer(s, "uint16_t"), pointer(d, "uint16_t"), s.size, shift))
    return d


def byteswap16(src: Buffer, out: Optional[Buffer] = None) -> np.ndarray:
    s = as_array(src, np.uint16)
    d = out_array(out, s.shape, np.uint16)
    check("poa_bswap16", lib.poa_bswap16(pointer(s, "uint16_t"), pointer(d, "uint16_t"), s.size))
    return d


def raw16le(src: Buffer, out: Optional[Buffer] = None) -> np.ndarray:
    """RAW16 bytes as the camera sends them (little-endian) -> host uint16."""
    s = as_bytes(src)
    if s.size % 2:
        raise ValueError("src: odd number of bytes")
    d = out_array(out, (s.size // 2,), np.uint16)
    check("poa_raw16le_to_u16", lib.poa_raw16le_to_u16(pointer(s, "uint8_t"), pointer(d, "uint16_t"), d.size))
    return d


def widen8(src: Buffer, shift: int = 0, out: Optional[Buffer] = None) -> np.ndarray:
    """RAW8 -> uint16, `src << shift` (shift 8 scales to the 16-bit range)."""
    s = as_array(src, np.uint8)
    d = out_array(out, s.shape, np.uint16)
    check("poa_u8_to_u16", lib.poa_u8_to_u16(pointer(s, "uint8_t"), pointer(d, "uint16_t"), s.size, shift))
    return d


def narrow16(src: Buffer, shift: int = 8, out: Optional[Buffer] = None) -> np.ndarray:
    """uint16 -> uint8, `min(src >> shift, 255)`."""
    s = as_array(src, np.uint16)
    d = out_array(out, s.shape, np.uint8)
    check("poa_u16_to_u8", lib.poa_u16_to_u8(pointer(s, "uint16_t"), pointer(d, "uint8_t"), s.size, shift))
    return d


def fits_be16(src: Buffer, out: Optional[Buffer] = None) -> np.ndarray:
    """uint16 -> FITS BITPIX 16 big-endian with BZERO 32768, straight into `out` (for
    example the shared payload the BLOB is sent from). out may be src's own bytes."""
    s = as_array(src, np.uint16)
    d = out_array(out, (2 * s.size,), np.uint8)
    if s.size:
        lib.poa_fits_be16(pointer(s, "uint16_t"), pointer(d, "uint8_t"), s.size)
    return d


# ---- image kernels -----------------------------------------------------------------------

_BIN_MODES = {"sum": lib.POA_BIN_SUM, "avg": lib.POA_BIN_AVG}
_FLIPS = {"none": 0, "h": 1, "v": 2, "both": 3}


def _img(src: np.ndarray) -> tuple[np.ndarray, str]:
    if not isinstance(src, np.ndarray) or src.ndim != 2:
        raise ValueError("src: need a 2-D array (height, width)")
    if src.dtype == np.uint16:
        return as_array(src, np.uint16), "uint16_t"
    return as_array(src, np.uint8), "uint8_t"


def bin_image(src: np.ndarray, factor: int, mode: str = "sum", *, bayer: bool = False,
              out: Optional[np.ndarray] = None) -> np.ndarray:
    """Software binning by 1..4 (sum saturates, avg rounds half up). bayer=False mixes
    neighbours (mono data, or "mono bin" of colour data); bayer=True keeps the pattern."""
    s, ct = _img(src)
    h, w = s.shape
    f = int(factor)
    if not 1 <= f <= 4:
        raise ValueError("factor: 1..4")
    shape = (2 * (h // (2 * f)), 2 * (w // (2 * f))) if bayer else (h // f, w // f)
    d = out_array(out, shape, s.dtype)
    fn = {("uint16_t", False): lib.poa_bin_u16, ("uint8_t", False): lib.poa_bin_u8,
          ("uint16_t", True): lib.poa_bin_bayer_u16, ("uint8_t", True): lib.poa_bin_bayer_u8}[(ct, bayer)]
    check("poa_bin", fn(pointer(s, ct), w, h, pointer(d, ct), f, _BIN_MODES[mode]))
    return d


def _bpp(src: np.ndarray) -> tuple[int, int, int]:
    if src.ndim not in (2, 3):
        raise ValueError("src: need (height, width) or (height, width, planes)")
    planes = src.shape[2] if src.ndim == 3 else 1
    return src.shape[0], src.shape[1], planes * src.dtype.itemsize


def crop(src: np.ndarray, x: int, y: int, w: int, h: int,
         out: Optional[np.ndarray] = None) -> tuple[np.ndarray, tuple[int, int]]:
    """Sub-frame copy; returns it and the Bayer offset (dx, dy) the crop implies."""
    s = as_array(src, src.dtype)
    sh, sw, bpp = _bpp(s)
    d = out_array(out, (h, w) + s.shape[2:], s.dtype)
    rc = check("poa_crop", lib.poa_crop(pointer(s.reshape(-1).view(np.uint8), "uint8_t"), sw, sh, bpp,
                                         pointer(d.reshape(-1).view(np.uint8), "uint8_t"), x, y, w, h))
    return d, (rc & 1, rc >> 1)


def flip(src: np.ndarray, mode: Union[str, int],
         out: Optional[np.ndarray] = None) -> tuple[np.ndarray, tuple[int, int]]:
    """Flip ("h", "v", "both"; out may be src); returns it and the Bayer offset (dx, dy)."""
    s = as_array(src, src.dtype)
    sh, sw, bpp = _bpp(s)
    d = out_array(out, s.shape, s.dtype)
    m = _FLIPS[mode] if isinstance(mode, str) else int(mode)
    rc = check("poa_flip", lib.poa_flip(pointer(s.reshape(-1).view(np.uint8), "uint8_t"),
                                         pointer(d.reshape(-1).view(np.uint8), "uint8_t"), sw, sh, bpp, m))
    return d, (rc & 1, rc >> 1)


def bayer_pattern_after(pattern: str, offset: tuple[int, int]) -> str:
    """The CFA string seen from (dx, dy): "RGGB" moved by (1, 0) reads "GRBG"."""
    dx, dy = offset
    cell = [pattern[0:2], pattern[2:4]]
    return "".join(cell[(y + dy) & 1][(x + dx) & 1] for y in (0, 1) for x in (0, 1))


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
    """min, max, mean, stddev, median from one pass (65536-bin histogram for uint16)."""
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
