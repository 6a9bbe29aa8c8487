"""Buffers handed to C without a copy: checked numpy views and cffi pointers over them."""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from indi_playerone._native import ffi

Buffer = Any  # numpy array, bytes, bytearray, memoryview, mmap: anything with the buffer protocol


def as_array(src: Buffer, dtype: Any, name: str = "src") -> np.ndarray:
    """A C-contiguous ndarray of `dtype` over src, never a copy (a silent copy would hide
    a layout mistake and cost a frame-sized allocation). Non-numpy buffers are read as
    raw bytes in host order."""
    dt = np.dtype(dtype)
    a = src if isinstance(src, np.ndarray) else np.frombuffer(src, dtype=np.uint8).view(dt)
    if a.dtype != dt:
        raise TypeError(f"{name}: expected {dt}, got {a.dtype}")
    if not a.flags.c_contiguous:
        raise ValueError(f"{name}: must be C-contiguous")
    return a


def out_array(out: Optional[Buffer], shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """`out` checked (writable, contiguous, dtype, big enough) and shaped, or a new array."""
    dt = np.dtype(dtype)
    if out is None:
        return np.empty(shape, dtype=dt)
    a = out if isinstance(out, np.ndarray) else np.frombuffer(out, dtype=np.uint8).view(dt)
    if a.dtype != dt or not a.flags.c_contiguous or not a.flags.writeable:
        raise ValueError(f"out: need a writable C-contiguous {dt} buffer")
    size = int(np.prod(shape))
    if a.size < size:
        raise ValueError(f"out: {a.size} elements, need {size}")
    return a.reshape(-1)[:size].reshape(shape)


def pointer(a: np.ndarray, ctype: str) -> Any:
    """A `ctype *` over the array's memory (cffi keeps the array alive for the call)."""
    return ffi.from_buffer(ctype + "[]", a, require_writable=False)
