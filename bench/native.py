"""Benchmark of the C readout core's pixel kernels on a full 9576x6388 frame: the driver's
(FITS conversion, statistics: `indi_playerone.native`) and the ones kept here without a
caller in the driver (`bench/kernels/`, built on first run).

Each kernel's median time is printed as a ratio to a memcpy of the frame's 16-bit bytes
(122 MB) measured in the same run, beside the ratio of the best numpy implementation
tried (several variants each; the fastest per run counts). Absolute times move from
machine to machine and with load; ratios measured together are what compare.

    python bench/native.py            # table
    python bench/native.py --json     # one JSON object: {kernel: {"ratio_memcpy", "ratio_numpy"}}
    python bench/native.py --no-simd  # the plain-C paths

Not a test: pytest does not collect it (no test_ prefix, and it lives outside tests/).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from typing import Callable

import numpy as np

import kernels as K  # bench/kernels: the kernels without a caller in the driver
from indi_playerone import native as N
from indi_playerone._native import ffi, lib

W, H = 9576, 6388


def timed(fn: Callable[[], object], repeat: int) -> float:
    """Median wall time of fn in ms, after one warm-up call."""
    fn()
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - t0) * 1000)
    return statistics.median(runs)


def best(variants: list[Callable[[], object]], repeat: int) -> float:
    return min(timed(v, repeat) for v in variants)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", action="store_true", help="print one JSON object only")
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--width", type=int, default=W)
    ap.add_argument("--height", type=int, default=H)
    ap.add_argument("--no-simd", action="store_true", help="force the plain-C kernels")
    a = ap.parse_args()
    w, h, rep = a.width - a.width % 4, a.height - a.height % 4, a.repeat
    n = w * h
    K.load()  # compiles bench/kernels on the first run
    N.set_simd(not a.no_simd)
    K.set_simd(not a.no_simd)

    rng = np.random.default_rng(7)
    src = (rng.integers(0, 4096, n, dtype=np.uint16) << 4).astype(np.uint16)
    img = src.reshape(h, w)
    p0, p1 = src[0::2] >> 4, src[1::2] >> 4
    packed = np.empty((n // 2, 3), dtype=np.uint8)
    packed[:, 0] = p0 & 0xFF
    packed[:, 1] = (p0 >> 8) | ((p1 & 0xF) << 4)
    packed[:, 2] = p1 >> 4
    packed = packed.reshape(-1)
    del p0, p1
    dst16 = np.ones(n, dtype=np.uint16)           # pre-faulted outputs, reused
    dstb = np.ones(2 * n, dtype=np.uint8)
    dst8 = np.ones(n, dtype=np.uint8)
    bin2 = np.ones((h // 2, w // 2), dtype=np.uint16)
    bin4 = np.ones((h // 4, w // 4), dtype=np.uint16)
    tmp16 = np.ones(n, dtype=np.uint16)
    out_img = dst16.reshape(h, w)

    sp, dp = ffi.from_buffer(src), ffi.from_buffer(dst16)
    memcpy = lambda: lib.poa_copy(dp, sp, 2 * n)  # noqa: E731

    # numpy implementations (preallocated outputs where numpy allows it)
    def np_unpack_a() -> None:
        b = packed.reshape(-1, 3).astype(np.uint16)
        o = dst16.reshape(-1, 2)
        np.bitwise_or(b[:, 0], (b[:, 1] & 0xF) << 8, out=o[:, 0])
        np.bitwise_or(b[:, 1] >> 4, b[:, 2] << 4, out=o[:, 1])

    def np_unpack_b() -> None:
        q = np.zeros((n // 2, 4), dtype=np.uint8)
        q[:, :3] = packed.reshape(-1, 3)
        u = q.view("<u4").reshape(-1)
        o = dst16.reshape(-1, 2)
        np.bitwise_and(u, 0xFFF, out=o[:, 0], casting="unsafe")
        np.right_shift(u, 12, out=o[:, 1], casting="unsafe")

    # Strided little-endian uint16 views straight over the packed bytes: pixel 2k is the
    # word at byte 3k masked to 12 bits, pixel 2k+1 the word at byte 3k+1 shifted by 4.
    # Two passes, no temporaries: the fastest numpy form found.
    pk_even = np.ndarray((n // 2,), dtype="<u2", buffer=packed, offset=0, strides=(3,))
    pk_odd = np.ndarray((n // 2,), dtype="<u2", buffer=packed, offset=1, strides=(3,))

    def np_unpack_c() -> None:
        o = dst16.reshape(-1, 2)
        np.bitwise_and(pk_even, 0xFFF, out=o[:, 0])
        np.right_shift(pk_odd, 4, out=o[:, 1])

    be_view = dstb.view(">u2")
    acc32 = np.ones((h // 2, w // 2), dtype=np.uint32)

    def np_fits_a() -> None:
        np.bitwise_xor(src, np.uint16(0x8000), out=tmp16)
        np.copyto(be_view, tmp16)

    def np_fits_b() -> None:
        np.bitwise_xor(src, np.uint16(0x8000), out=dst16)
        dst16.byteswap(inplace=True)

    def np_bswap_a() -> None:
        np.copyto(dst16.view(dst16.dtype.newbyteorder()), src)

    def np_bswap_b() -> None:
        np.copyto(dst16, src)
        dst16.byteswap(inplace=True)

    def np_bin2(avg: bool) -> list[Callable[[], None]]:
        def store(s: np.ndarray) -> None:  # the 2x2 sums, averaged (rounded) or clipped, into bin2
            if avg:
                s += 2
                s >>= 2
            else:
                np.minimum(s, 65535, out=s)
            np.copyto(bin2, s, casting="unsafe")

        def rows_then_cols() -> None:
            t = img[0::2].astype(np.uint32)
            t += img[1::2]
            store(t[:, 0::2] + t[:, 1::2])

        def quarter_adds() -> None:
            np.add(img[0::2, 0::2], img[0::2, 1::2], out=acc32, dtype=np.uint32)
            np.add(acc32, img[1::2, 0::2], out=acc32)
            np.add(acc32, img[1::2, 1::2], out=acc32)
            store(acc32)

        def reshape_sum() -> None:
            store(img.reshape(h // 2, 2, w // 2, 2).sum(axis=(1, 3), dtype=np.uint32))

        return [rows_then_cols, quarter_adds, reshape_sum]

    def np_bin4_avg() -> None:
        s = img.reshape(h // 4, 4, w // 4, 4).sum(axis=(1, 3), dtype=np.uint32)
        s += 8
        s >>= 4
        np.copyto(bin4, s, casting="unsafe")

    def np_narrow() -> None:
        np.right_shift(src, 8, out=tmp16)
        np.copyto(dst8, tmp16, casting="unsafe")

    def np_stats() -> None:
        hist = np.bincount(src, minlength=65536)
        v = np.arange(65536)
        cnt = hist.sum()
        mean = (hist * v).sum() / cnt
        np.sqrt((hist * (v - mean) ** 2).sum() / cnt)
        np.searchsorted(np.cumsum(hist), cnt // 2)

    kernels: dict[str, tuple[Callable[[], object], list[Callable[[], object]]]] = {
        "unpack12": (lambda: K.unpack12(packed, n, out=dst16), [np_unpack_a, np_unpack_b, np_unpack_c]),
        "unpack12_fits": (lambda: K.unpack12_fits(packed, n, out=dstb),
                          [lambda: (np_unpack_c(), np.bitwise_xor(dst16, np.uint16(0x8000), out=dst16),
                                    np.copyto(be_view, dst16))]),
        "shift": (lambda: K.shift_right(src, 4, out=dst16),
                  [lambda: np.right_shift(src, 4, out=dst16)]),
        "byteswap": (lambda: K.byteswap16(src, out=dst16), [np_bswap_a, np_bswap_b]),
        "fits_be": (lambda: N.fits_be16(src, out=dstb), [np_fits_a, np_fits_b]),
        "bin2_sum": (lambda: K.bin_image(img, 2, "sum", out=bin2), np_bin2(False)),
        "bin2_avg": (lambda: K.bin_image(img, 2, "avg", out=bin2), np_bin2(True)),
        "bin4_avg": (lambda: K.bin_image(img, 4, "avg", out=bin4), [np_bin4_avg]),
        "to8bit": (lambda: K.narrow16(src, 8, out=dst8), [np_narrow]),
        "flip_h": (lambda: K.flip(img, "h", out=out_img), [lambda: np.copyto(out_img, img[:, ::-1])]),
        "flip_v": (lambda: K.flip(img, "v", out=out_img), [lambda: np.copyto(out_img, img[::-1])]),
        "stats": (lambda: N.stats(src), [np_stats]),
    }

    base = [timed(memcpy, rep)]
    result: dict[str, dict[str, float]] = {}
    rows = []
    for name, (cfn, npfns) in kernels.items():
        t_c = timed(cfn, rep)
        t_np = best(npfns, max(3, rep // 2)) if npfns else float("nan")
        base.append(timed(memcpy, 3))
        rows.append((name, t_c, t_np))
    t_mem = statistics.median(base)
    for name, t_c, t_np in rows:
        if t_np == t_np:  # numpy comparison exists
            result[name] = {"ratio_memcpy": round(t_c / t_mem, 3), "ratio_numpy": round(t_np / t_mem, 3)}
    if a.json:
        print(json.dumps(result))
        return 0
    print(f"frame {w}x{h} = {n / 1e6:.1f} MP, uint16 {2 * n / 1e6:.1f} MB; "
          f"simd={N.simd_available() if N.simd_enabled() else 'off'}; median of {rep}")
    print(f"memcpy {2 * n / 1e6:.0f} MB: {t_mem:.1f} ms")
    print(f"{'kernel':<14}{'C ms':>8}{'C/memcpy':>10}{'numpy ms':>10}{'np/memcpy':>11}{'speed-up':>10}")
    for name, t_c, t_np in rows:
        sp_txt = f"{t_np / t_c:9.1f}x" if t_np == t_np else "       n/a"
        np_txt = f"{t_np:10.1f}{t_np / t_mem:11.2f}" if t_np == t_np else f"{'n/a':>10}{'n/a':>11}"
        print(f"{name:<14}{t_c:8.1f}{t_c / t_mem:10.2f}{np_txt}{sp_txt}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
