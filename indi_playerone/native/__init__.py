"""Typed marshalling over the C readout core (`indi_playerone._native`), one module per
part of ``native/src``:

* `errors`: the core's negative return codes as `NativeError`, `RingClosed`, `RingTimeout`;
* `ring`: the frame ring (`FrameRing`, `Frame`) between the SDK reader in C and the driver;
* `ser`: the SER writer of recordings, with its kill guard (`ser_guard`, a separate process);
* `kernels`: the pixel kernels (FITS conversion, unpacking, binning, flips, statistics);
* `simd`: the run-time SIMD choice; `buffers`: zero-copy views handed to C.

Nothing here touches a pixel: numpy arrays and other buffers go to C through
`ffi.from_buffer` (no copy), outputs are allocated only when the caller passes no
`out=`, and every C error code becomes a `NativeError`. cffi API mode releases the GIL
around each C call.
"""
from __future__ import annotations

from .buffers import Buffer
from .errors import NativeError, RingClosed, RingTimeout
from .kernels import (Stats, bayer_pattern_after, bin_image, byteswap16, crop, fits_be16, flip,
                      narrow16, raw16le, shift_right, stats, unpack12, unpack12_fits, widen8)
from .ring import Frame, FrameRing, PixFmt, RingCounters, frame_bytes
from .ser import SER_COLORS, SerWriter, ser_ticks
from .simd import set_simd, simd, simd_available, simd_enabled

__all__ = [
    "Buffer", "NativeError", "RingClosed", "RingTimeout", "Stats", "fits_be16", "stats",
    "bayer_pattern_after", "bin_image", "byteswap16", "crop", "flip", "narrow16", "raw16le",
    "shift_right", "unpack12", "unpack12_fits", "widen8",
    "Frame", "FrameRing", "PixFmt", "RingCounters", "frame_bytes", "SER_COLORS", "SerWriter",
    "ser_ticks", "set_simd", "simd", "simd_available", "simd_enabled",
]
