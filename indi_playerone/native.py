"""Typed marshalling over the C readout core (`indi_playerone._native`).

Nothing here touches a pixel: numpy arrays and other buffers go to C through
`ffi.from_buffer` (no copy), outputs are allocated only when the caller passes no
`out=`, and every C error code becomes a `NativeError`. cffi API mode releases the GIL
around each C call, so a kernel on a 122 MB frame does not stall the other threads.

Lifetimes: a `Frame` is a view into a ring slot, valid until `Frame.release()` (or the
end of its `with` block); copy what must outlive it. `FrameRing.shutdown()` wakes every
waiter and refuses input; `FrameRing.close()` frees the slots once no thread is inside a
call on it and no frame is held.
"""
from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import enum
import math
import os
import struct
import sys
import threading
import time
from typing import Any, Iterator, Optional, Union

import numpy as np

from indi_playerone._native import ffi, lib

Buffer = Any  # numpy array, bytes, bytearray, memoryview, mmap: anything with the buffer protocol

_ERRORS = {
    lib.POA_EINVAL: "invalid argument",
    lib.POA_ENOMEM: "out of memory",
    lib.POA_ETIMEDOUT: "timed out",
    lib.POA_ECLOSED: "ring closed",
    lib.POA_EIO: "I/O error",
    lib.POA_EAGAIN: "no slot available",
    lib.POA_EFRAME: "frame rejected",
    lib.POA_ESTATE: "call not valid in this state",
}


class NativeError(RuntimeError):
    """A C core call returned a negative code; `code` keeps the raw value."""

    def __init__(self, func: str, code: int, detail: str = "") -> None:
        self.func, self.code = func, code
        msg = f"{func}: {_ERRORS.get(code, 'error')} ({code})"
        super().__init__(msg + (f": {detail}" if detail else ""))


class RingClosed(NativeError):
    """The ring was closed and nothing is left to deliver."""


class RingTimeout(NativeError, TimeoutError):
    """No frame arrived within the timeout."""


def _check(func: str, rc: int) -> int:
    if rc >= 0:
        return rc
    if rc == lib.POA_ECLOSED:
        raise RingClosed(func, rc)
    if rc == lib.POA_ETIMEDOUT:
        raise RingTimeout(func, rc)
    raise NativeError(func, rc)


# ---- SIMD dispatch ----------------------------------------------------------------------

def simd_available() -> dict[str, bool]:
    """What the CPU offers the core: AVX2 kernels, SSE4.2 CRC32C."""
    caps = lib.poa_simd_available()
    return {"avx2": bool(caps & 1), "sse42": bool(caps & 2)}


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


# ---- buffer helpers --------------------------------------------------------------------

def _arr(src: Buffer, dtype: Any, name: str = "src") -> np.ndarray:
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


def _bytes(src: Buffer) -> np.ndarray:
    """Any contiguous buffer or array as flat uint8."""
    if isinstance(src, np.ndarray):
        return _arr(src, src.dtype).reshape(-1).view(np.uint8)
    return np.frombuffer(src, dtype=np.uint8)


def _out(out: Optional[Buffer], shape: tuple[int, ...], dtype: Any) -> np.ndarray:
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


def _p(a: np.ndarray, ctype: str) -> Any:
    return ffi.from_buffer(ctype + "[]", a, require_writable=False)


# ---- element-wise kernels ----------------------------------------------------------------

def unpack12(src: Buffer, n: Optional[int] = None, *, shift: int = 0,
             out: Optional[Buffer] = None) -> np.ndarray:
    """12-bit packed (GenICam Mono12p, 2 px in 3 bytes) -> uint16; shift 4 left-justifies."""
    s = _arr(src, np.uint8)
    n = (s.size * 2) // 3 if n is None else n
    d = _out(out, (n,), np.uint16)
    _check("poa_unpack12", lib.poa_unpack12(_p(s, "uint8_t"), s.size, _p(d, "uint16_t"), n, shift))
    return d


def unpack12_fits(src: Buffer, n: Optional[int] = None, *, shift: int = 0,
                  out: Optional[Buffer] = None) -> np.ndarray:
    """12-bit packed straight to FITS BITPIX 16 big-endian bytes with BZERO 32768."""
    s = _arr(src, np.uint8)
    n = (s.size * 2) // 3 if n is None else n
    d = _out(out, (2 * n,), np.uint8)
    _check("poa_unpack12_fits_be",
           lib.poa_unpack12_fits_be(_p(s, "uint8_t"), s.size, _p(d, "uint8_t"), n, shift))
    return d


def shift_right(src: Buffer, shift: int, out: Optional[Buffer] = None) -> np.ndarray:
    """12/14-bit data left-justified in 16 bits -> right-justified (out may be src)."""
    s = _arr(src, np.uint16)
    d = _out(out, s.shape, np.uint16)
    _check("poa_shr16", lib.poa_shr16(_p(s, "uint16_t"), _p(d, "uint16_t"), s.size, shift))
    return d


def byteswap16(src: Buffer, out: Optional[Buffer] = None) -> np.ndarray:
    s = _arr(src, np.uint16)
    d = _out(out, s.shape, np.uint16)
    _check("poa_bswap16", lib.poa_bswap16(_p(s, "uint16_t"), _p(d, "uint16_t"), s.size))
    return d


def raw16le(src: Buffer, out: Optional[Buffer] = None) -> np.ndarray:
    """RAW16 bytes as the camera sends them (little-endian) -> host uint16."""
    s = _bytes(src)
    if s.size % 2:
        raise ValueError("src: odd number of bytes")
    d = _out(out, (s.size // 2,), np.uint16)
    _check("poa_raw16le_to_u16", lib.poa_raw16le_to_u16(_p(s, "uint8_t"), _p(d, "uint16_t"), d.size))
    return d


def widen8(src: Buffer, shift: int = 0, out: Optional[Buffer] = None) -> np.ndarray:
    """RAW8 -> uint16, `src << shift` (shift 8 scales to the 16-bit range)."""
    s = _arr(src, np.uint8)
    d = _out(out, s.shape, np.uint16)
    _check("poa_u8_to_u16", lib.poa_u8_to_u16(_p(s, "uint8_t"), _p(d, "uint16_t"), s.size, shift))
    return d


def narrow16(src: Buffer, shift: int = 8, out: Optional[Buffer] = None) -> np.ndarray:
    """uint16 -> uint8, `min(src >> shift, 255)`."""
    s = _arr(src, np.uint16)
    d = _out(out, s.shape, np.uint8)
    _check("poa_u16_to_u8", lib.poa_u16_to_u8(_p(s, "uint16_t"), _p(d, "uint8_t"), s.size, shift))
    return d


def fits_be16(src: Buffer, out: Optional[Buffer] = None) -> np.ndarray:
    """uint16 -> FITS BITPIX 16 big-endian with BZERO 32768, straight into `out` (for
    example the shared payload the BLOB is sent from). out may be src's own bytes."""
    s = _arr(src, np.uint16)
    d = _out(out, (2 * s.size,), np.uint8)
    if s.size:
        lib.poa_fits_be16(_p(s, "uint16_t"), _p(d, "uint8_t"), s.size)
    return d


# ---- image kernels -----------------------------------------------------------------------

_BIN_MODES = {"sum": lib.POA_BIN_SUM, "avg": lib.POA_BIN_AVG}
_FLIPS = {"none": 0, "h": 1, "v": 2, "both": 3}


def _img(src: np.ndarray) -> tuple[np.ndarray, str]:
    if not isinstance(src, np.ndarray) or src.ndim != 2:
        raise ValueError("src: need a 2-D array (height, width)")
    if src.dtype == np.uint16:
        return _arr(src, np.uint16), "uint16_t"
    return _arr(src, np.uint8), "uint8_t"


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
    d = _out(out, shape, s.dtype)
    fn = {("uint16_t", False): lib.poa_bin_u16, ("uint8_t", False): lib.poa_bin_u8,
          ("uint16_t", True): lib.poa_bin_bayer_u16, ("uint8_t", True): lib.poa_bin_bayer_u8}[(ct, bayer)]
    _check("poa_bin", fn(_p(s, ct), w, h, _p(d, ct), f, _BIN_MODES[mode]))
    return d


def _bpp(src: np.ndarray) -> tuple[int, int, int]:
    if src.ndim not in (2, 3):
        raise ValueError("src: need (height, width) or (height, width, planes)")
    planes = src.shape[2] if src.ndim == 3 else 1
    return src.shape[0], src.shape[1], planes * src.dtype.itemsize


def crop(src: np.ndarray, x: int, y: int, w: int, h: int,
         out: Optional[np.ndarray] = None) -> tuple[np.ndarray, tuple[int, int]]:
    """Sub-frame copy; returns it and the Bayer offset (dx, dy) the crop implies."""
    s = _arr(src, src.dtype)
    sh, sw, bpp = _bpp(s)
    d = _out(out, (h, w) + s.shape[2:], s.dtype)
    rc = _check("poa_crop", lib.poa_crop(_p(s.reshape(-1).view(np.uint8), "uint8_t"), sw, sh, bpp,
                                         _p(d.reshape(-1).view(np.uint8), "uint8_t"), x, y, w, h))
    return d, (rc & 1, rc >> 1)


def flip(src: np.ndarray, mode: Union[str, int],
         out: Optional[np.ndarray] = None) -> tuple[np.ndarray, tuple[int, int]]:
    """Flip ("h", "v", "both"; out may be src); returns it and the Bayer offset (dx, dy)."""
    s = _arr(src, src.dtype)
    sh, sw, bpp = _bpp(s)
    d = _out(out, s.shape, s.dtype)
    m = _FLIPS[mode] if isinstance(mode, str) else int(mode)
    rc = _check("poa_flip", lib.poa_flip(_p(s.reshape(-1).view(np.uint8), "uint8_t"),
                                         _p(d.reshape(-1).view(np.uint8), "uint8_t"), sw, sh, bpp, m))
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
    s = _arr(s.reshape(-1), s.dtype)
    u16 = s.dtype == np.uint16
    hist = np.empty(65536 if u16 else 256, dtype=np.uint32) if histogram else None
    st = ffi.new("poa_stats_t *")
    hp = _p(hist, "uint32_t") if hist is not None else ffi.NULL
    if u16:
        _check("poa_stats_u16", lib.poa_stats_u16(_p(s, "uint16_t"), s.size, hp, st))
    else:
        _check("poa_stats_u8", lib.poa_stats_u8(_p(_arr(s, np.uint8), "uint8_t"), s.size, hp, st))
    return Stats(int(st.count), int(st.min), int(st.max), float(st.mean), float(st.stddev),
                 float(st.median), hist)


# ---- frame ring --------------------------------------------------------------------------

class PixFmt(enum.IntEnum):
    RAW8 = lib.POA_PIX_RAW8
    RAW16 = lib.POA_PIX_RAW16
    RGB24 = lib.POA_PIX_RGB24
    MONO8 = lib.POA_PIX_MONO8
    RAW12P = lib.POA_PIX_RAW12P


def frame_bytes(pixfmt: int, width: int, height: int) -> int:
    """Payload bytes of a frame of that size and format (0: unknown format)."""
    return int(lib.poa_pixfmt_bytes(pixfmt, width, height))


@dataclasses.dataclass(frozen=True)
class RingCounters:
    received: int
    delivered: int
    dropped: int
    corrupt: int
    bad_header: int
    oversized: int
    out_of_order: int
    ready: int
    held: int
    free_slots: int
    nslots: int


class Frame:
    """One delivered frame: metadata and a zero-copy view of its slot."""

    def __init__(self, ring: "FrameRing", f: Any) -> None:
        self._ring: Optional[FrameRing] = ring
        self._ptr = f.data
        self.seq, self.width, self.height = int(f.seq), int(f.width), int(f.height)
        self.pixfmt, self.slot = int(f.pixfmt), int(f.slot)
        self.payload_len, self.timestamp_ns = int(f.payload_len), int(f.timestamp_ns)

    @property
    def data(self) -> memoryview:
        if self._ptr is None:
            raise ValueError("frame already released")
        return memoryview(ffi.buffer(self._ptr, self.payload_len))

    def array(self) -> np.ndarray:
        """The payload as an array: (h, w) uint8/uint16, (h, w, 3) RGB24, flat uint8 RAW12P."""
        raw = np.frombuffer(self.data, dtype=np.uint8)
        if self.pixfmt == PixFmt.RAW16:
            return raw.view("<u2").reshape(self.height, self.width)
        if self.pixfmt == PixFmt.RGB24:
            return raw.reshape(self.height, self.width, 3)
        if self.pixfmt in (PixFmt.RAW8, PixFmt.MONO8):
            return raw.reshape(self.height, self.width)
        return raw

    def release(self) -> None:
        ring, self._ring = self._ring, None
        if ring is not None:
            self._ptr = None
            ring._release(self)

    def __enter__(self) -> "Frame":
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


_MODES = {"block": lib.POA_RING_BLOCK, "drop_oldest": lib.POA_RING_DROP_OLDEST}


class FrameRing:
    """Pre-allocated frame slots between a producer (the SDK reader in C, or push_frame) and
    the driver.

    mode "block": the producer waits when every slot is in use (single exposures);
    "drop_oldest": the oldest undelivered frame makes room (streaming).
    """

    def __init__(self, slot_bytes: int, limit_bytes: int = 0, *, mode: str = "block",
                 max_slots: int = 0, prefault: bool = False) -> None:
        pp = ffi.new("poa_ring_t **")
        _check("poa_ring_create", lib.poa_ring_create(pp, slot_bytes, limit_bytes, max_slots,
                                                      _MODES[mode], 1 if prefault else 0))
        self._r = pp[0]
        self._lock = threading.Condition()
        self._busy = 0
        self._closing = False  # close() was called; the slots go with the last held frame
        self._held: set[Frame] = set()
        self.slot_bytes = int(lib.poa_ring_slot_bytes(self._r))
        self.nslots = int(lib.poa_ring_nslots(self._r))

    @contextlib.contextmanager
    def _use(self) -> Iterator[Any]:
        """Count threads inside C calls so close() frees the ring only after they left."""
        with self._lock:
            if self._r is None or self._closing:
                raise RingClosed("ring", lib.POA_ECLOSED)
            self._busy += 1
            r = self._r
        try:
            yield r
        finally:
            with self._lock:
                self._busy -= 1
                self._lock.notify_all()

    def push_frame(self, data: Buffer, seq: int, width: int, height: int,
                   pixfmt: int = PixFmt.RAW16, timestamp_ns: int = 0) -> None:
        with self._use() as r:
            b = ffi.from_buffer(data)
            _check("poa_ring_push_frame", lib.poa_ring_push_frame(
                r, seq, width, height, pixfmt, timestamp_ns, ffi.cast("uint8_t *", b), len(b)))

    def acquire(self, timeout: Optional[float] = None) -> Frame:
        """The next frame, waiting up to `timeout` s (None: for ever, in 0.25 s slices so
        the caller stays interruptible). RingTimeout / RingClosed otherwise."""
        f = ffi.new("poa_frame_t *")
        deadline = None if timeout is None else time.monotonic() + max(0.0, timeout)
        while True:
            # Rounded up: a truncated wait ended just short of the deadline and the loop then
            # spun with 0 ms polls for the rest (10 % of a core for 10 ms slices, measured).
            left_ms = 250 if deadline is None else math.ceil((deadline - time.monotonic()) * 1000)
            step = max(0, min(250, left_ms))
            with self._use() as r:
                rc = lib.poa_ring_acquire(r, f, step)
            if rc == lib.POA_ETIMEDOUT and (deadline is None or time.monotonic() < deadline):
                continue
            _check("poa_ring_acquire", rc)
            frame = Frame(self, f)
            with self._lock:
                self._held.add(frame)
            return frame

    def _release(self, frame: Frame) -> None:
        """Give a slot back; also after close(), which left the slots to the last release."""
        with self._lock:
            self._held.discard(frame)
            r = self._r
            if r is None:
                raise RingClosed("ring", lib.POA_ECLOSED)
            self._busy += 1
        try:
            _check("poa_ring_release", lib.poa_ring_release(r, frame.slot))
        finally:
            with self._lock:
                self._busy -= 1
                self._lock.notify_all()
                if self._closing and not self._held and self._busy == 0:
                    self._destroy_locked()

    def counters(self) -> RingCounters:
        c = ffi.new("poa_ring_counters_t *")
        with self._use() as r:
            lib.poa_ring_counters(r, c)
        return RingCounters(*(int(getattr(c, f.name)) for f in dataclasses.fields(RingCounters)))

    def flush(self) -> None:
        with self._use() as r:
            _check("poa_ring_flush", lib.poa_ring_flush(r))

    def set_mode(self, mode: str) -> None:
        with self._use() as r:
            _check("poa_ring_set_mode", lib.poa_ring_set_mode(r, _MODES[mode]))

    def shutdown(self) -> None:
        """Refuse further input and wake every waiter: producers get RingClosed at once,
        consumers still receive the frames already ready, then RingClosed. The slots stay
        allocated (counters remain readable) until close()."""
        with self._lock:
            if self._r is not None:
                lib.poa_ring_close(self._r)

    def close(self) -> None:
        """shutdown(), wait until no thread is inside a call on the ring, then free the slots:
        now, or when the last frame still held is released (a frame in the driver's hands
        stays valid after its camera closed). Every other call on the ring then raises
        RingClosed."""
        self.shutdown()
        with self._lock:
            if self._r is None or self._closing:
                return
            self._closing = True
            self._lock.wait_for(lambda: self._busy == 0)
            if not self._held:
                self._destroy_locked()

    def _destroy_locked(self) -> None:
        if self._r is not None:
            lib.poa_ring_destroy(self._r)
            self._r = None

    @property
    def freed(self) -> bool:
        """True once the slots are freed (after close() and the last release)."""
        with self._lock:
            return self._r is None

    def __enter__(self) -> "FrameRing":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---- SER writer --------------------------------------------------------------------------

SER_COLORS = {"MONO": 0, "RGGB": 8, "GRBG": 9, "GBRG": 10, "BGGR": 11, "RGB": 100, "BGR": 101}


def ser_ticks(when: Union[_dt.datetime, int, None] = None) -> int:
    """.NET ticks (100 ns since 0001-01-01) of a UTC instant: datetime, Unix ns or now."""
    if when is None:
        when = _dt.datetime.now(_dt.timezone.utc)
    if isinstance(when, _dt.datetime):
        if when.tzinfo is None:
            raise ValueError("naive datetime: give a timezone")
        d = when - _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
        when = (d.days * 86400 + d.seconds) * 1_000_000_000 + d.microseconds * 1000
    return int(lib.poa_ser_ticks_from_unix_ns(int(when)))


#: The SER kill guard (see SerWriter, guard=True): a separate small process that waits for the
#: recorder's pipe to close. A normal close writes one byte first; EOF without it means the
#: recording process died (SIGKILL, crash), and the guard cuts the file back to the header
#: size plus FrameCount whole frames: a frame half-written when the process died would
#: otherwise sit where readers look for the optional timestamp trailer.
_SER_GUARD = r"""
import os, signal, struct, sys
for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(sig, signal.SIG_IGN)
fd, pipe, frame_bytes = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
while True:
    try:
        done = os.read(pipe, 1)
        break
    except InterruptedError:
        continue
if not done:
    (count,) = struct.unpack("<I", os.pread(fd, 4, 38))
    end = 178 + count * frame_bytes
    if os.fstat(fd).st_size > end:
        os.ftruncate(fd, end)
"""


class _SerGuard:
    """The watcher process of one SER file (started by SerWriter(guard=True))."""

    def __init__(self, path: Union[str, os.PathLike], frame_bytes: int) -> None:
        import subprocess  # only recorders with a guard need it

        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)  # pread the header, ftruncate
        r, self._w = os.pipe2(os.O_CLOEXEC)
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-I", "-S", "-c", _SER_GUARD, str(fd), str(r), str(frame_bytes)],
                pass_fds=(fd, r), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                start_new_session=True)
        except BaseException:
            os.close(self._w)
            raise
        finally:
            os.close(fd)
            os.close(r)

    def release(self) -> None:
        """The file is complete: tell the guard to leave it alone, and reap it."""
        if self._w < 0:
            return
        try:
            os.write(self._w, b"x")
        finally:
            os.close(self._w)
            self._w = -1
        try:
            self._proc.wait(5)
        except Exception:  # a guard that hangs is killed; the file is already complete
            self._proc.kill()


class SerWriter:
    """Record frames to a SER v3 file. The header's FrameCount is kept current after
    every frame, so a recording cut short is still readable; close() adds the timestamp
    trailer. With ``guard=True`` a watcher process also keeps the file valid if this
    process is killed (``_SER_GUARD``; the trailer is then missing, which SER allows).
    Not thread-safe: one recording thread."""

    def __init__(self, path: Union[str, os.PathLike], width: int, height: int, *,
                 color: Union[str, int] = "MONO", depth: int = 16, observer: str = "",
                 instrument: str = "", telescope: str = "",
                 start: Optional[_dt.datetime] = None, guard: bool = False) -> None:
        info = ffi.new("poa_ser_info_t *")
        info.width, info.height, info.pixel_depth = width, height, depth
        info.color_id = SER_COLORS[color.upper()] if isinstance(color, str) else color
        info.little_endian = 1 if sys.byteorder == "little" else 0
        for field, text in (("observer", observer), ("instrument", instrument), ("telescope", telescope)):
            setattr(info, field, text.encode("ascii", "replace")[:40])
        start = start or _dt.datetime.now(_dt.timezone.utc)
        info.date_time_utc = ser_ticks(start)
        off = start.astimezone().utcoffset() or _dt.timedelta(0)
        info.date_time = info.date_time_utc + int(off.total_seconds()) * 10_000_000
        pp = ffi.new("poa_ser_t **")
        rc = lib.poa_ser_open(pp, os.fsencode(path), info)
        if rc < 0:
            raise NativeError("poa_ser_open", rc, f"{os.fspath(path)}: {os.strerror(ffi.errno)}"
                              if rc == lib.POA_EIO else os.fspath(path))
        self._s = pp[0]
        self.frame_bytes = int(lib.poa_ser_frame_bytes(self._s))
        self._guard: Optional[_SerGuard] = None
        if guard:
            try:
                self._guard = _SerGuard(path, self.frame_bytes)
            except BaseException:
                lib.poa_ser_close(self._s)
                self._s = None
                raise

    @property
    def frame_count(self) -> int:
        return int(lib.poa_ser_frame_count(self._s)) if self._s is not None else self._final

    def write(self, frame: Buffer, timestamp: Union[_dt.datetime, int, None] = None) -> None:
        """Append one frame (exactly frame_bytes, host byte order); timestamp: UTC datetime,
        Unix ns or None for now."""
        if self._s is None:
            raise ValueError("SER file closed")
        b = ffi.from_buffer(frame)
        rc = lib.poa_ser_write_frame(self._s, ffi.cast("uint8_t *", b), len(b), ser_ticks(timestamp))
        if rc < 0:
            raise NativeError("poa_ser_write_frame", rc,
                              os.strerror(lib.poa_ser_last_errno(self._s)) if rc == lib.POA_EIO
                              else f"{len(b)} bytes, frame is {self.frame_bytes}")

    def close(self) -> None:
        if self._s is None:
            return
        s, self._s = self._s, None
        self._final = int(lib.poa_ser_frame_count(s))
        try:
            _check("poa_ser_close", lib.poa_ser_close(s))
        finally:
            if self._guard is not None:
                self._guard.release()

    def __enter__(self) -> "SerWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
