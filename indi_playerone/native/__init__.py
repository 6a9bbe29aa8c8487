"""Typed marshalling over the C readout core (`indi_playerone._native`), one module per
part of ``native/src``:

* `errors`: the core's negative return codes as `NativeError`, `RingClosed`, `RingTimeout`;
* `ring`: the frame ring (`FrameRing`, `Frame`) between the SDK reader in C and the driver;
* `ser`: the SER writer of recordings, with its kill guard (`ser_guard`, a separate process);
* `kernels`: the pixel kernels the driver uses (FITS conversion, statistics; the others
  are in ``bench/kernels/``);
* `simd`: the run-time SIMD choice; `buffers`: zero-copy views handed to C;
* `busy`: `BusyCount`, the calls in progress on a C object that one thread frees.

Nothing here touches a pixel: numpy arrays and other buffers go to C through
`ffi.from_buffer` (no copy), outputs are allocated only when the caller passes no
`out=`, and every C error code becomes a `NativeError`. cffi API mode releases the GIL
around each C call.
"""
from __future__ import annotations

from .buffers import Buffer
from .errors import NativeError, RingClosed, RingTimeout
from .kernels import Stats, fits_be16, stats
from .ring import Frame, FrameRing, PixFmt, RingCounters, frame_bytes
from .ser import SER_COLORS, SerWriter, ser_ticks
from .simd import set_simd, simd, simd_available, simd_enabled

__all__ = [
    "Buffer", "NativeError", "RingClosed", "RingTimeout", "Stats", "fits_be16", "stats",
    "Frame", "FrameRing", "PixFmt", "RingCounters", "frame_bytes", "SER_COLORS", "SerWriter",
    "ser_ticks", "set_simd", "simd", "simd_available", "simd_enabled",
]
