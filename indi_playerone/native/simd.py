"""The C core's run-time SIMD choice (``native/src/simd.c``): what the CPU offers, and a
switch to the plain-C paths (the tests compare both; ``POA_SIMD=0`` starts with them)."""
from __future__ import annotations

import contextlib
from typing import Iterator

from indi_playerone._native import lib


def simd_available() -> dict[str, bool]:
    """What the CPU offers the core: AVX2 kernels, SSE4.2 CRC32C (x86), NEON copies of the
    plain-C loops (32-bit ARM builds; 64-bit ARM builds always vectorise with NEON)."""
    caps = lib.poa_simd_available()
    return {"avx2": bool(caps & 1), "sse42": bool(caps & 2), "neon": bool(caps & 4)}


def set_simd(enabled: bool) -> None:
    """Force the plain-C paths (False) or go back to run-time choice (True). Process-wide."""
    lib.poa_simd_set(1 if enabled else 0)


def simd_enabled() -> bool:
    return bool(lib.poa_simd_enabled())


@contextlib.contextmanager
def simd(enabled: bool) -> Iterator[None]:
    """Run a block with SIMD on or off (tests compare both paths), then restore."""
    before = simd_enabled()
    set_simd(enabled)
    try:
        yield
    finally:
        set_simd(before)
