"""The benchmark's pixel kernels from Python (`bench/native.py` and their tests): 12-bit
unpacking (GenICam Mono12p, also straight to FITS), shifts, byte swaps, 8/16-bit widening
and narrowing, software binning, crop and flips. None has a caller in the driver: the SDK
delivers RAW8/RAW16/RGB24/MONO8, the camera bins 1..4 and flips frames itself. They were
measured against numpy (`python bench/native.py`) and are ready for a caller that needs
one (a preview subsampler could use `bin_image`).

The C module is built on first use (`build.py`); `load(directory)` builds it elsewhere
(the tests build into their own temporary directory). Buffers are checked and passed
without a copy as by the driver's `indi_playerone.native`.
"""
from __future__ import annotations

import contextlib
from types import ModuleType
from typing import Any, Iterator, Optional, Union

import numpy as np

from indi_playerone.native.buffers import Buffer, as_array, out_array
from indi_playerone.native.errors import check

from . import build

_module: Optional[ModuleType] = None


def load(build_dir: Optional[str] = None) -> ModuleType:
    """Build (if needed) and load the C module; later calls reuse it."""
    global _module
    if _module is None:
        _module = build.load(build_dir)
    return _module


def as_bytes(src: Buffer) -> np.ndarray:
    """Any contiguous buffer or array as flat uint8."""
    if isinstance(src, np.ndarray):
        return as_array(src, src.dtype).reshape(-1).view(np.uint8)
    return np.frombuffer(src, dtype=np.uint8)


def _lib() -> Any:
    return load().lib


def _ptr(a: np.ndarray, ctype: str) -> Any:
    return load().ffi.from_buffer(ctype + "[]", a, require_writable=False)


@contextlib.contextmanager
def simd(enabled: bool) -> Iterator[None]:
    """These kernels with SIMD on or off (this module's own switch), then restored."""
    lib = _lib()
    before = bool(lib.poa_simd_enabled())
    lib.poa_simd_set(1 if enabled else 0)
    try:
        yield
    finally:
        lib.poa_simd_set(1 if before else 0)


def set_simd(enabled: bool) -> None:
    _lib().poa_simd_set(1 if enabled else 0)


def unpack12(src: Buffer, n: Optional[int] = None, *, shift: int = 0,
             out: Optional[Buffer] = None) -> np.ndarray:
    """12-bit packed (GenICam Mono12p, 2 px in 3 bytes) -> uint16; shift 4 left-justifies."""
    s = as_array(src, np.uint8)
    n = (s.size * 2) // 3 if n is None else n
    d = out_array(out, (n,), np.uint16)
    check("poa_unpack12", _lib().poa_unpack12(_ptr(s, "uint8_t"), s.size, _ptr(d, "uint16_t"), n, shift))
    return d


def unpack12_fits(src: Buffer, n: Optional[int] = None, *, shift: int = 0,
                  out: Optional[Buffer] = None) -> np.ndarray:
    """12-bit packed straight to FITS BITPIX 16 big-endian bytes with BZERO 32768."""
    s = as_array(src, np.uint8)
    n = (s.size * 2) // 3 if n is None else n
    d = out_array(out, (2 * n,), np.uint8)
    check("poa_unpack12_fits_be",
           _lib().poa_unpack12_fits_be(_ptr(s, "uint8_t"), s.size, _ptr(d, "uint8_t"), n, shift))
    return d


def shift_right(src: Buffer, shift: int, out: Optional[Buffer] = None) -> np.ndarray:
    """12/14-bit data left-justified in 16 bits -> right-justified (out may be src)."""
    s = as_array(src, np.uint16)
    d = out_array(out, s.shape, np.uint16)
    check("poa_shr16", _lib().poa_shr16(_ptr(s, "uint16_t"), _ptr(d, "uint16_t"), s.size, shift))
    return d


def byteswap16(src: Buffer, out: Optional[Buffer] = None) -> np.ndarray:
    s = as_array(src, np.uint16)
    d = out_array(out, s.shape, np.uint16)
    check("poa_bswap16", _lib().poa_bswap16(_ptr(s, "uint16_t"), _ptr(d, "uint16_t"), s.size))
    return d


def raw16le(src: Buffer, out: Optional[Buffer] = None) -> np.ndarray:
    """RAW16 bytes as the camera sends them (little-endian) -> host uint16."""
    s = as_bytes(src)
    if s.size % 2:
        raise ValueError("src: odd number of bytes")
    d = out_array(out, (s.size // 2,), np.uint16)
    check("poa_raw16le_to_u16", _lib().poa_raw16le_to_u16(_ptr(s, "uint8_t"), _ptr(d, "uint16_t"), d.size))
    return d


def widen8(src: Buffer, shift: int = 0, out: Optional[Buffer] = None) -> np.ndarray:
    """RAW8 -> uint16, `src << shift` (shift 8 scales to the 16-bit range)."""
    s = as_array(src, np.uint8)
    d = out_array(out, s.shape, np.uint16)
    check("poa_u8_to_u16", _lib().poa_u8_to_u16(_ptr(s, "uint8_t"), _ptr(d, "uint16_t"), s.size, shift))
    return d


def narrow16(src: Buffer, shift: int = 8, out: Optional[Buffer] = None) -> np.ndarray:
    """uint16 -> uint8, `min(src >> shift, 255)`."""
    s = as_array(src, np.uint16)
    d = out_array(out, s.shape, np.uint8)
    check("poa_u16_to_u8", _lib().poa_u16_to_u8(_ptr(s, "uint16_t"), _ptr(d, "uint8_t"), s.size, shift))
    return d




def _bin_mode(mode: str) -> int:
    return {"sum": _lib().POA_BIN_SUM, "avg": _lib().POA_BIN_AVG}[mode]


def _flip_mode(mode: Union[str, int]) -> int:
    if not isinstance(mode, str):
        return int(mode)
    lib = _lib()
    return {"none": lib.POA_FLIP_NONE, "h": lib.POA_FLIP_H, "v": lib.POA_FLIP_V, "both": lib.POA_FLIP_BOTH}[mode]


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
    fn = {("uint16_t", False): _lib().poa_bin_u16, ("uint8_t", False): _lib().poa_bin_u8,
          ("uint16_t", True): _lib().poa_bin_bayer_u16, ("uint8_t", True): _lib().poa_bin_bayer_u8}[(ct, bayer)]
    check("poa_bin", fn(_ptr(s, ct), w, h, _ptr(d, ct), f, _bin_mode(mode)))
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
    rc = check("poa_crop", _lib().poa_crop(_ptr(s.reshape(-1).view(np.uint8), "uint8_t"), sw, sh, bpp,
                                         _ptr(d.reshape(-1).view(np.uint8), "uint8_t"), x, y, w, h))
    return d, (rc & 1, rc >> 1)


def flip(src: np.ndarray, mode: Union[str, int],
         out: Optional[np.ndarray] = None) -> tuple[np.ndarray, tuple[int, int]]:
    """Flip ("h", "v", "both"; out may be src); returns it and the Bayer offset (dx, dy)."""
    s = as_array(src, src.dtype)
    sh, sw, bpp = _bpp(s)
    d = out_array(out, s.shape, s.dtype)
    m = _flip_mode(mode)
    rc = check("poa_flip", _lib().poa_flip(_ptr(s.reshape(-1).view(np.uint8), "uint8_t"),
                                         _ptr(d.reshape(-1).view(np.uint8), "uint8_t"), sw, sh, bpp, m))
    return d, (rc & 1, rc >> 1)


def bayer_pattern_after(pattern: str, offset: tuple[int, int]) -> str:
    """The CFA string seen from (dx, dy): "RGGB" moved by (1, 0) reads "GRBG"."""
    dx, dy = offset
    cell = [pattern[0:2], pattern[2:4]]
    return "".join(cell[(y + dy) & 1][(x + dx) & 1] for y in (0, 1) for x in (0, 1))
