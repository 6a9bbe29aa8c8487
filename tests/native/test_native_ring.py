"""Frame ring: whole frames in, fault rejection, counters, threads, close.

The producer is the SDK reader in C (``native/src/sdk_reader.c``: begin a slot, POAGetImageData into
it, commit) or ``push_frame`` (the same begin/commit path with a copy); here Python threads
produce with ``push_frame``, a payload pattern per sequence number, against Python consumers.
"""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from indi_playerone import native as N
from indi_playerone._native import lib


def pattern(length: int, seq: int) -> bytes:
    i = np.arange(length, dtype=np.uint64)
    return ((i * 7 + seq * 13 + (i >> 8)) & 0xFF).astype(np.uint8).tobytes()


def pattern_ok(data: memoryview, seq: int) -> bool:
    return bytes(data) == pattern(len(data), seq)


def test_frame_metadata_and_array_view() -> None:
    v = np.arange(12, dtype="<u2").reshape(3, 4)
    with N.FrameRing(256, 1024) as ring:
        ring.push_frame(v.tobytes(), seq=7, width=4, height=3, pixfmt=N.PixFmt.RAW16,
                        timestamp_ns=123456789)
        with ring.acquire(timeout=1) as fr:
            assert (fr.seq, fr.width, fr.height, fr.pixfmt, fr.timestamp_ns) == (7, 4, 3, 1, 123456789)
            assert np.array_equal(fr.array(), v)
        with pytest.raises(ValueError):
            fr.data  # released: the view is gone


# ---- a producer thread against a consumer thread ----------------------------------------------

def _consume(ring: N.FrameRing, good: set[int], bad: list, seqs: list, delay: float = 0.0) -> None:
    while True:
        try:
            fr = ring.acquire(timeout=5)
        except (N.RingClosed, N.RingTimeout):
            return
        with fr:
            seqs.append(fr.seq)
            if fr.seq not in good or not pattern_ok(fr.data, fr.seq):
                bad.append(fr.seq)
        if delay:
            time.sleep(delay)


def _produce(ring: N.FrameRing, n: int, w: int, h: int, *, oversize_every: int = 0,
             badsize_every: int = 0, reorder_every: int = 0) -> set[int]:
    """Frames 0..n-1 (RAW16), faults mixed in; returns the seqs that must be delivered."""
    good, last = set(), 0
    size = w * h * 2
    for k in range(n):
        payload, seq, width = pattern(size, k), k, w
        if k and oversize_every and k % oversize_every == 0:
            payload = pattern(ring.slot_bytes + 2, k)
            width = (ring.slot_bytes + 2) // 2 // h
        elif k and badsize_every and k % badsize_every == 0:
            width = w + 1  # the size does not agree with the format
        elif k and reorder_every and k % reorder_every == 0:
            seq, payload = last, pattern(size, last)
        try:
            ring.push_frame(payload, seq=seq, width=width, height=h, pixfmt=N.PixFmt.RAW16)
        except N.NativeError as e:
            assert e.code == lib.POA_EFRAME
            continue
        good.add(seq)
        last = seq
    return good


FAULTS = dict(oversize_every=13, badsize_every=11, reorder_every=5)


def test_concurrent_block_mode_counts_add_up() -> None:
    n = 600
    expect = {k for k in range(n) if k == 0 or not any(k % e == 0 for e in FAULTS.values())}
    with N.FrameRing(4096, 4 * 4096, mode="block") as ring:
        bad: list = []
        seqs: list = []
        consumer = threading.Thread(target=_consume, args=(ring, expect, bad, seqs))
        consumer.start()
        good = _produce(ring, n, 37, 23, **FAULTS)
        deadline = time.monotonic() + 10
        while ring.counters().delivered < len(good) and time.monotonic() < deadline:
            time.sleep(0.01)
        c = ring.counters()
        ring.shutdown()
        consumer.join(timeout=10)
    assert not consumer.is_alive()
    assert good == expect and bad == []
    assert seqs == sorted(good)
    assert (c.received, c.delivered, c.dropped) == (len(good), len(good), 0)
    faults = {name: sum(1 for k in range(1, n) if k % every == 0 and not any(
        k % e == 0 for e in list(FAULTS.values())[:i])) for i, (name, every) in enumerate(FAULTS.items())}
    assert (c.oversized, c.bad_header, c.out_of_order) == (
        faults["oversize_every"], faults["badsize_every"], faults["reorder_every"])
    assert c.corrupt == n - len(good)


def test_drop_oldest_with_a_slow_consumer() -> None:
    n = 300
    with N.FrameRing(8192, 3 * 8192, mode="drop_oldest") as ring:
        bad: list = []
        seqs: list = []
        consumer = threading.Thread(target=_consume, args=(ring, set(range(n)), bad, seqs, 0.002))
        consumer.start()
        good = _produce(ring, n, 64, 32)
        ring.shutdown()  # consumers drain what is ready, then see RingClosed
        consumer.join(timeout=10)
        c = ring.counters()
    assert not consumer.is_alive() and bad == []
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert c.received == len(good) == n
    assert c.dropped > 0
    assert c.delivered + c.dropped == c.received


def test_drop_oldest_never_takes_the_last_ready_frame() -> None:
    """A consumer holding all slots but one still gets the frame in the last one: the producer
    is told to wait (POA_EAGAIN) instead of recycling it, as it recycles an older ready one."""
    with N.FrameRing(64, 3 * 64, mode="drop_oldest") as ring:
        push = lambda seq: ring.push_frame(pattern(24, seq), seq=seq, width=4, height=3,  # noqa: E731
                                           pixfmt=N.PixFmt.RAW16)
        for seq in (1, 2, 3, 4):  # 3 slots: frame 1 dropped for frame 4
            push(seq)
        assert ring.counters().dropped == 1
        held = [ring.acquire(timeout=1), ring.acquire(timeout=1)]
        assert [f.seq for f in held] == [2, 3]
        with pytest.raises(N.NativeError) as e:
            push(5)
        assert e.value.code == lib.POA_EAGAIN
        last = ring.acquire(timeout=1)
        assert last.seq == 4 and pattern_ok(last.data, 4)
        for f in (*held, last):
            f.release()
        push(5)
        fifth = ring.acquire(timeout=1)
        assert fifth.seq == 5
        fifth.release()


def test_a_frame_held_over_close_stays_valid_and_frees_the_ring() -> None:
    ring = N.FrameRing(64, 256)
    ring.push_frame(pattern(24, 3), seq=3, width=4, height=3, pixfmt=N.PixFmt.RAW16)
    frame = ring.acquire(timeout=1)
    ring.close()
    assert not ring.freed and pattern_ok(frame.data, 3)  # the slots wait for the frame
    with pytest.raises(N.RingClosed):
        ring.push_frame(bytes(24), seq=4, width=4, height=3, pixfmt=N.PixFmt.RAW16)
    frame.release()
    assert ring.freed


# ---- producer API, timeouts, close ------------------------------------------------------

def test_push_frame_checks_order_and_size() -> None:
    payload = bytes(range(24))
    with N.FrameRing(64, 64 * 4) as ring:
        ring.push_frame(payload, seq=10, width=4, height=3, pixfmt=N.PixFmt.RAW16)
        with pytest.raises(N.NativeError) as e:
            ring.push_frame(payload, seq=10, width=4, height=3, pixfmt=N.PixFmt.RAW16)
        assert e.value.code == lib.POA_EFRAME
        with pytest.raises(N.NativeError):
            ring.push_frame(payload, seq=11, width=5, height=3, pixfmt=N.PixFmt.RAW16)
        with pytest.raises(N.NativeError):
            ring.push_frame(bytes(100), seq=12, width=50, height=1, pixfmt=N.PixFmt.RAW16)
        ring.flush()  # forgets the last seq: a new sequence may start lower
        ring.push_frame(payload, seq=1, width=4, height=3, pixfmt=N.PixFmt.RAW16)
        c = ring.counters()
        assert (c.received, c.out_of_order, c.bad_header, c.oversized, c.dropped) == (2, 1, 1, 1, 1)
        with ring.acquire(timeout=1) as fr:
            assert fr.seq == 1 and bytes(fr.data) == payload


def test_acquire_times_out() -> None:
    with N.FrameRing(64, 256) as ring:
        t0 = time.monotonic()
        with pytest.raises(N.RingTimeout):
            ring.acquire(timeout=0.3)
        assert time.monotonic() - t0 >= 0.29


def test_close_wakes_a_waiting_consumer_and_a_blocked_producer() -> None:
    ring = N.FrameRing(64, 128, mode="block")  # two slots
    errors: list[BaseException] = []

    def consumer() -> None:
        try:
            ring.acquire(timeout=None)
            ring.acquire(timeout=None)
            ring.acquire(timeout=None)  # nothing more comes: waits until close
        except BaseException as e:  # noqa: BLE001 (collected for the assertion)
            errors.append(e)

    def producer() -> None:
        try:
            for seq in range(5):  # two fit; the consumer holds them; the third blocks
                ring.push_frame(bytes(4), seq=seq, width=2, height=2, pixfmt=N.PixFmt.RAW8)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=consumer), threading.Thread(target=producer)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    assert all(t.is_alive() for t in threads)
    ring.shutdown()
    for t in threads:
        t.join(timeout=5)
    assert not any(t.is_alive() for t in threads)
    assert sorted(type(e).__name__ for e in errors) == ["RingClosed", "RingClosed"]
    ring.close()


def test_default_limit_gives_the_cameras_512_mib() -> None:
    with N.FrameRing(9576 * 6388 * 2) as ring:  # not touched: only address space
        assert ring.nslots == 4
    with pytest.raises(N.NativeError):
        N.FrameRing(300 << 20)  # one slot does not make a ring
