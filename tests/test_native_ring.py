"""Frame ring: assembly from chunks, fault rejection, counters, threads, close.

Frames are encoded here with `struct` and a table CRC32C written from the polynomial,
independently of the C encoder in the generator, so the wire format is checked from
both ends. Concurrency tests run the C producer thread against a Python consumer.
"""
from __future__ import annotations

import struct
import threading
import time

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from indi_playerone import native as N

HDR = struct.Struct("<IHHIIIIQQ")  # magic, version, header size, seq, w, h, pixfmt, payload_len, ts
MAGIC, END = 0x46414F50, 0x45414F50


def _table() -> list[int]:
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
        t.append(c)
    return t


_T = _table()


def crc32c(data: bytes) -> int:
    c = 0xFFFFFFFF
    for b in data:
        c = (c >> 8) ^ _T[(c ^ b) & 0xFF]
    return c ^ 0xFFFFFFFF


def encode(seq: int, w: int, h: int, fmt: int, payload: bytes, ts: int = 0, version: int = 1) -> bytes:
    hdr = HDR.pack(MAGIC, version, 40, seq, w, h, fmt, len(payload), ts)
    return hdr + payload + struct.pack("<II", END, crc32c(hdr + payload))


def pattern_ok(data: memoryview, seq: int) -> bool:
    """The generator's documented payload pattern, recomputed with numpy."""
    i = np.arange(len(data), dtype=np.uint64)
    expect = ((i * 7 + seq * 13 + (i >> 8)) & 0xFF).astype(np.uint8)
    return bool(np.array_equal(np.frombuffer(data, np.uint8), expect))


BPP = {N.PixFmt.RAW8: 1.0, N.PixFmt.RAW16: 2.0, N.PixFmt.RAW12P: 1.5}


def test_wire_constants_match_the_description() -> None:
    assert struct.pack("<I", MAGIC) == b"POAF" and struct.pack("<I", END) == b"POAE"
    assert HDR.size == N.lib.POA_WIRE_HEADER_BYTES == 40
    assert N.frame_bytes(N.PixFmt.RAW12P, 3, 1) == 5 and N.frame_bytes(N.PixFmt.RGB24, 2, 2) == 12


# ---- model-based test of the assembler -----------------------------------------------------

KINDS = ["good", "good", "good", "corrupt", "short", "bad_header", "oversized", "stale", "garbage"]


@settings(max_examples=80, deadline=None)
@given(kinds=st.lists(st.sampled_from(KINDS), min_size=1, max_size=12), data=st.data(),
       boundaries=st.booleans())
def test_assembler_delivers_exactly_the_whole_frames(kinds, data, boundaries) -> None:
    """Random streams of good and damaged frames, split at random points: exactly the
    good frames come out, byte for byte and in order, and every counter matches a model
    of what was sent. Without boundary marks a short frame would also cost the next
    frame (by design), so those streams leave short frames out."""
    if not boundaries:
        kinds = [k for k in kinds if k != "short"] or ["good"]
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    expect: list[tuple[int, bytes]] = []
    count = dict.fromkeys(["crc_errors", "short_frames", "bad_header", "oversized", "out_of_order"], 0)
    resync = 0
    last = None
    with N.FrameRing(1024, 16 * 1024) as ring:
        for i, kind in enumerate(kinds):
            fmt = data.draw(st.sampled_from(list(BPP)))
            w, h = int(rng.integers(1, 21)), int(rng.integers(1, 11))
            if kind == "oversized":
                w, h, fmt = 40, 20, N.PixFmt.RAW16
            payload = bytearray(rng.integers(0, 256, N.frame_bytes(fmt, w, h), dtype=np.uint8).tobytes())
            payload = bytes(payload).replace(b"P", b"Q")  # no stray magic inside payloads
            seq = 50 if kind == "stale" else 100 + i
            frame = encode(seq, w, h, fmt, payload, ts=i, version=2 if kind == "bad_header" else 1)
            if kind == "corrupt":
                frame = bytearray(frame)
                frame[40 + len(payload) // 2] ^= 0x20
                count["crc_errors"] += 1
            elif kind == "short":
                frame = frame[: 40 + int(rng.integers(0, len(payload) + 8))]
                count["short_frames"] += 1
            elif kind == "bad_header":
                count["bad_header"] += 1
                resync += len(frame) - 4
            elif kind == "oversized":
                count["oversized"] += 1
            elif kind == "garbage":
                junk = rng.integers(0, 256, int(rng.integers(1, 50)), dtype=np.uint8).tobytes().replace(b"P", b"Q")
                frame = junk + frame
                resync += len(junk)
            accepted = kind in ("good", "garbage") or (kind == "stale" and last is None)
            if kind == "stale" and not accepted:
                count["out_of_order"] += 1
            if accepted:
                expect.append((seq, payload))
                last = seq
            cuts = sorted(data.draw(st.lists(st.integers(0, len(frame)), max_size=4)))
            for a, b in zip([0] + cuts, cuts + [len(frame)]):
                ring.push_chunk(frame[a:b])
            if boundaries:
                ring.mark_boundary()
        got = []
        while True:
            try:
                with ring.acquire(timeout=0) as fr:
                    got.append((fr.seq, bytes(fr.data)))
            except N.RingTimeout:
                break
        c = ring.counters()
    assert got == expect
    assert (c.received, c.delivered, c.dropped) == (len(expect), len(expect), 0)
    assert {k: getattr(c, k) for k in count} == count
    assert c.corrupt == sum(count.values())
    assert c.resync_bytes == resync


def test_frame_metadata_and_array_view() -> None:
    v = np.arange(12, dtype="<u2").reshape(3, 4)
    with N.FrameRing(256, 1024) as ring:
        ring.push_chunk(encode(7, 4, 3, N.PixFmt.RAW16, v.tobytes(), ts=123456789))
        with ring.acquire(timeout=1) as fr:
            assert (fr.seq, fr.width, fr.height, fr.pixfmt, fr.timestamp_ns) == (7, 4, 3, 1, 123456789)
            assert np.array_equal(fr.array(), v)
        with pytest.raises(ValueError):
            fr.data  # released: the view is gone


# ---- the C producer thread against a Python consumer ----------------------------------

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


def _good_seqs(n: int, **every: int) -> set[int]:
    order = ["corrupt_every", "short_every", "oversize_every", "reorder_every"]
    return {k for k in range(n) if k == 0 or not any(every.get(o) and k % every[o] == 0 for o in order)}


FAULTS = dict(corrupt_every=7, short_every=11, oversize_every=13, reorder_every=5, garbage_every=3)


def test_concurrent_block_mode_counts_add_up() -> None:
    n = 600
    with N.FrameRing(4096, 4 * 4096, mode="block") as ring:
        good, bad, seqs = _good_seqs(n, **FAULTS), [], []
        consumer = threading.Thread(target=_consume, args=(ring, good, bad, seqs))
        consumer.start()
        gen = N.FrameGenerator(ring, 37, 23, pixfmt=N.PixFmt.RAW16, frames=n, chunk_bytes=700,
                              chunk_jitter=1, seed=3, **FAULTS)
        gen.join()  # all frames sent (leaving a with block would stop it early)
        deadline = time.monotonic() + 10
        while ring.counters().delivered < gen.stats.good and time.monotonic() < deadline:
            time.sleep(0.01)
        c = ring.counters()
        ring.shutdown()
        consumer.join(timeout=10)
    st_ = gen.stats
    assert not consumer.is_alive()
    assert bad == []
    assert seqs == sorted(good)
    assert st_.good == len(good) and st_.frames_sent == n
    assert (c.received, c.delivered, c.dropped) == (st_.good, st_.good, 0)
    assert (c.crc_errors, c.short_frames, c.oversized, c.out_of_order) == (
        st_.corrupt, st_.short_frames, st_.oversized, st_.out_of_order)
    assert c.corrupt == st_.frames_sent - st_.good
    assert c.resync_bytes == st_.garbage_bytes and c.bytes_in == st_.bytes_sent


def test_drop_oldest_with_a_slow_consumer() -> None:
    n = 300
    with N.FrameRing(8192, 3 * 8192, mode="drop_oldest") as ring:
        good, bad, seqs = _good_seqs(n), [], []
        consumer = threading.Thread(target=_consume, args=(ring, good, bad, seqs, 0.002))
        consumer.start()
        gen = N.FrameGenerator(ring, 64, 32, pixfmt=N.PixFmt.RAW16, frames=n, chunk_bytes=4096)
        gen.join()  # all frames sent (leaving a with block would stop it early)
        ring.shutdown()  # consumers drain what is ready, then see RingClosed
        consumer.join(timeout=10)
        c = ring.counters()
    assert not consumer.is_alive() and bad == []
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert c.received == gen.stats.good == n
    assert c.dropped > 0
    assert c.delivered + c.dropped == c.received


def test_short_frames_without_boundaries_are_never_delivered() -> None:
    n = 200
    every = dict(short_every=4, corrupt_every=9)
    with N.FrameRing(2048, 8 * 2048) as ring:
        good, bad, seqs = _good_seqs(n, **every), [], []
        consumer = threading.Thread(target=_consume, args=(ring, good, bad, seqs))
        consumer.start()
        gen = N.FrameGenerator(ring, 30, 20, pixfmt=N.PixFmt.RAW12P, frames=n, chunk_bytes=512,
                              mark_boundaries=0, **every)
        gen.join()  # all frames sent (leaving a with block would stop it early)
        time.sleep(0.2)
        ring.shutdown()
        consumer.join(timeout=10)
        c = ring.counters()
    assert bad == [] and seqs == sorted(seqs)
    assert c.received <= gen.stats.good and c.received > 0
    assert c.short_frames >= 1 and c.crc_errors >= 1


# ---- producer API, timeouts, close ------------------------------------------------------

def test_push_frame_checks_order_and_size() -> None:
    payload = bytes(range(24))
    with N.FrameRing(64, 64 * 4) as ring:
        ring.push_frame(payload, seq=10, width=4, height=3, pixfmt=N.PixFmt.RAW16)
        with pytest.raises(N.NativeError) as e:
            ring.push_frame(payload, seq=10, width=4, height=3, pixfmt=N.PixFmt.RAW16)
        assert e.value.code == N.lib.POA_EFRAME
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
                ring.push_chunk(encode(seq, 2, 2, N.PixFmt.RAW8, bytes(4)))
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
