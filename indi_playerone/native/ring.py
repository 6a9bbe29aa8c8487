"""The frame ring (``native/src/ring.c``) from Python: pre-allocated slots between the SDK
reader in C and the driver, and the frames delivered from them.

Lifetimes: a `Frame` is a view into a ring slot, valid until `Frame.release()` (or the
end of its `with` block); copy what must outlive it. `FrameRing.shutdown()` wakes every
waiter and refuses input; `FrameRing.close()` frees the slots once no thread is inside a
call on it and no frame is held.
"""
from __future__ import annotations

import contextlib
import dataclasses
import enum
import math
import threading
import time
from typing import Any, Optional

import numpy as np

from indi_playerone._native import ffi, lib

from .buffers import Buffer
from .busy import BusyCount
from .errors import RingClosed, check


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
        check("poa_ring_create", lib.poa_ring_create(pp, slot_bytes, limit_bytes, max_slots,
                                                      _MODES[mode], 1 if prefault else 0))
        self._r = pp[0]
        self._lock = threading.Condition()
        self._calls = BusyCount(self._lock)  # threads inside C calls on self._r
        self._closing = False  # close() was called; the slots go with the last held frame
        self._held: set[Frame] = set()
        self.slot_bytes = int(lib.poa_ring_slot_bytes(self._r))
        self.nslots = int(lib.poa_ring_nslots(self._r))

    def _use(self) -> contextlib.AbstractContextManager[Any]:
        """The C ring, counted as in use so close() frees it only after every caller left."""
        return self._calls.use(self._open_ring)

    def _open_ring(self) -> Any:
        if self._r is None or self._closing:
            raise RingClosed("ring", lib.POA_ECLOSED)
        return self._r

    def push_frame(self, data: Buffer, seq: int, width: int, height: int,
                   pixfmt: int = PixFmt.RAW16, timestamp_ns: int = 0) -> None:
        with self._use() as r:
            b = ffi.from_buffer(data)
            check("poa_ring_push_frame", lib.poa_ring_push_frame(
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
            check("poa_ring_acquire", rc)
            frame = Frame(self, f)
            with self._lock:
                self._held.add(frame)
            return frame

    def _release(self, frame: Frame) -> None:
        """Give a slot back; also after close(), which left the slots to the last release."""
        def take() -> Any:
            self._held.discard(frame)
            if self._r is None:
                raise RingClosed("ring", lib.POA_ECLOSED)
            return self._r

        def after() -> None:
            if self._closing and not self._held and self._calls.count == 0:
                self._destroy_locked()
        with self._calls.use(take, after) as r:
            check("poa_ring_release", lib.poa_ring_release(r, frame.slot))

    def counters(self) -> RingCounters:
        c = ffi.new("poa_ring_counters_t *")
        with self._use() as r:
            lib.poa_ring_counters(r, c)
        return RingCounters(*(int(getattr(c, f.name)) for f in dataclasses.fields(RingCounters)))

    def flush(self) -> None:
        with self._use() as r:
            check("poa_ring_flush", lib.poa_ring_flush(r))

    def set_mode(self, mode: str) -> None:
        with self._use() as r:
            check("poa_ring_set_mode", lib.poa_ring_set_mode(r, _MODES[mode]))

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
            self._calls.wait_idle()
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
