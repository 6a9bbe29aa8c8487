"""A simulated camera's frames in the SDK backend's frame ring (issue 3, on the one camera path).

Real components only: the simulated SDK library's ``POAGetImageData`` writes each frame, from
the C reader thread, straight into a slot of the camera's native frame ring, and ``wait_frame``
hands that slot out as a zero-copy array. These are the ring's promises to the driver: a frame
is a view of its slot, not delivered before the camera's readout ends, its slot comes back on
release or when the array is garbage-collected, it stays readable after the camera closed
while held, holding every slot is refused clearly, and nothing grows over many exposures.
"""
from __future__ import annotations

import contextlib
import gc
import os
import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.sim_camera import MIN_EXP, SMALL, SimulatedCamera, shoot
from indi_playerone.camera.interface import CameraError, Frame
from indi_playerone.camera.models import MODELS
from indi_playerone.camera.sdk_camera import SdkCamera

#: The USB 3 link's practical throughput the simulated camera's readout is modelled with.
USB3_BYTES_PER_S = 400e6


@contextlib.contextmanager
def taken(camera: SdkCamera, seconds: float = MIN_EXP) -> Iterator[Frame]:
    """A frame, released at the end of the block (the interface's Frame has no ``with``)."""
    frame = shoot(camera, seconds)
    try:
        yield frame
    finally:
        frame.release()


def counters(camera: SdkCamera) -> dict[str, int]:
    """The camera's frame ring's counters (white box: the ring is the backend session's)."""
    assert camera.session.ring is not None
    c = camera.session.ring.counters()
    return {k: getattr(c, k) for k in ("received", "delivered", "dropped", "corrupt", "held",
                                       "ready", "free_slots", "nslots")}


def invariant(c: dict[str, int]) -> None:
    assert c["received"] == c["delivered"] + c["dropped"] + c["ready"]
    assert c["free_slots"] + c["held"] + c["ready"] <= c["nslots"]


# -- frames arrive whole ----------------------------------------------------------------------------
@settings(max_examples=20, deadline=None)
@given(name=st.sampled_from(sorted(MODELS)), bin_=st.sampled_from([1, 2, 3, 4]),
       bits=st.sampled_from([8, 16]), w=st.integers(16, 700), h=st.integers(16, 500),
       x=st.integers(0, 300), y=st.integers(0, 300))
def test_frames_arrive_whole_as_views_of_the_slot(name: str, bin_: int, bits: int, w: int, h: int,
                                                  x: int, y: int) -> None:
    with pytest.MonkeyPatch.context() as mp, SimulatedCamera(mp, name) as camera:
        camera.set_format(bits)
        roi = camera.set_roi(x, y, w, h, bin_)
        camera.set_gain(400)
        camera.set_offset(400)  # a bias of 1600 ADU16: above 0 in the 8-bit top byte too
        with taken(camera, 0.05) as frame:
            assert frame.roi == roi and frame.data.shape == (roi.height, roi.width)
            assert frame.data.dtype == (np.uint16 if bits == 16 else np.uint8)
            assert not frame.data.flags.owndata  # a view of the ring slot, not a copy
            assert frame.data.any()  # the bias at least: pixels, not an untouched (zero) slot
        c = counters(camera)
        invariant(c)
        flush = 0 if bin_ == 1 else 1  # the frame after a bin change is read and thrown away
        assert (c["received"], c["delivered"], c["dropped"]) == (1 + flush, 1, flush)
        assert (c["corrupt"], c["held"]) == (0, 0)


def test_full_size_frame_arrives(monkeypatch: pytest.MonkeyPatch) -> None:
    with SimulatedCamera(monkeypatch, "Ares-C PRO") as camera:  # 3008x3008, 18 MB
        camera.set_gain(200)
        with taken(camera, 0.2) as frame:
            assert frame.data.shape == (3008, 3008) and frame.data.dtype == np.uint16
            assert frame.data.std() > 0


def test_frame_is_not_delivered_before_the_modelled_readout_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    """A full Zeus frame at 8 bit takes 61 MB / USB3_BYTES_PER_S = 0.153 s after the exposure."""
    with SimulatedCamera(monkeypatch, "Zeus 455M PRO") as camera:
        camera.set_format(8)
        readout = 9576 * 6388 / USB3_BYTES_PER_S
        start = time.monotonic()
        camera.start_exposure(MIN_EXP)
        frame = camera.wait_frame(timeout=10)
        assert time.monotonic() - start >= MIN_EXP + readout
        frame.release()


def test_counters_add_up_over_exposures(cam: SdkCamera) -> None:
    cam.set_roi(0, 0, 200, 100, 1)
    for _ in range(6):
        shoot(cam).release()
    cam.start_exposure(MIN_EXP)  # read out, never collected: dropped by the next start
    while cam.is_exposing():
        threading.Event().wait(0.01)
    shoot(cam).release()
    c = counters(cam)
    invariant(c)
    assert (c["received"], c["delivered"], c["dropped"], c["corrupt"]) == (8, 7, 1, 0)
    assert (c["held"], c["ready"], c["free_slots"]) == (0, 0, c["nslots"])


# -- slots ----------------------------------------------------------------------------------------
def test_release_returns_the_slot(cam: SdkCamera) -> None:
    nslots = counters(cam)["nslots"]
    assert 2 <= nslots <= 3  # a slot holds the whole sensor at 16 bit
    for _ in range(3 * nslots):  # more exposures than slots: fine while frames are released
        frame = shoot(cam)
        assert counters(cam)["held"] == 1
        frame.release()
        frame.release()  # idempotent
        assert counters(cam)["held"] == 0
    held = [shoot(cam) for _ in range(nslots)]
    with pytest.raises(CameraError, match="not released"):
        cam.start_exposure(MIN_EXP)
    kept = held[0].data.copy()
    held[1].release()
    frame = shoot(cam)  # the released slot is used again
    assert np.array_equal(held[0].data, kept)  # held frames are untouched
    for f in held + [frame]:
        f.release()
    assert counters(cam)["free_slots"] == nslots


def test_garbage_collected_frames_return_their_slots(cam: SdkCamera) -> None:
    nslots = counters(cam)["nslots"]
    for _ in range(2 * nslots):
        assert shoot(cam).data.shape == (1104, 1608)  # never released, only dropped
    gc.collect()
    assert counters(cam)["held"] == 0
    frame = shoot(cam)
    view = frame.data[::2, ::2]  # a view keeps the slot: its pixels must not be reused
    del frame
    gc.collect()
    assert counters(cam)["held"] == 1
    kept = view.copy()
    shoot(cam).release()
    assert np.array_equal(view, kept)
    del view
    gc.collect()
    assert counters(cam)["held"] == 0


def test_frame_held_over_close_stays_readable(monkeypatch: pytest.MonkeyPatch) -> None:
    camera = SimulatedCamera(monkeypatch, SMALL)
    with camera:
        frame = shoot(camera)
        kept = frame.data.copy()
        ring = camera.session.ring
    assert ring is not None and not ring.freed  # held: the slots outlive the connection
    assert np.array_equal(frame.data, kept)
    frame.release()
    assert ring.freed  # the last frame gave them back
    with camera:  # a new connection has a fresh ring
        assert counters(camera)["received"] == 0
        shoot(camera).release()


# -- resources ------------------------------------------------------------------------------------
def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_no_fd_thread_or_memory_growth_over_50_exposures(monkeypatch: pytest.MonkeyPatch) -> None:
    with SimulatedCamera(monkeypatch, "Ares-M PRO") as camera:
        camera.set_roi(0, 0, 1024, 1024, 1)  # 2 MiB a frame: a leaked frame each time would show
        for _ in range(5):  # warm-up: the slots' pages
            shoot(camera).release()
        gc.collect()
        fds, threads, rss = _fds(), threading.active_count(), _rss_bytes()
        for _ in range(50):
            with taken(camera) as frame:
                assert frame.data.shape == (1024, 1024)
        gc.collect()
        assert _fds() == fds
        assert threading.active_count() <= threads
        assert _rss_bytes() - rss < 16 << 20  # vs 100 MiB for 50 leaked frames
        c = counters(camera)
        assert (c["received"], c["delivered"], c["held"]) == (55, 55, 0)
