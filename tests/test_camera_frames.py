"""The simulated camera's frames travel through the native frame ring (issue 3).

Real components only: the simulator streams wire-format chunks into the C ring and
``wait_frame`` reads the frame out of a ring slot. Frames are checked against an independent
whole-frame regeneration (the synthesiser's one-go renderer with the frame's own settings and
random stream) and against a copy of the payload taken as it was sent (the transfer tap).
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

from indi_playerone import native
from indi_playerone.camera.interface import CameraError, ExposureAborted, Frame
from indi_playerone.camera.models import MODELS
from indi_playerone.camera.sim_frames import FrameSettings, FrameSynth, frame_rng
from indi_playerone.camera.simulator import USB3_BYTES_PER_S, SimulatedCamera

MIN_EXP = 32e-6
SMALL = "Apollo-M MAX PRO"  # 1608x1104
HEADER, TRAILER = 40, 8


@pytest.fixture
def cam() -> Iterator[SimulatedCamera]:
    with SimulatedCamera(MODELS[SMALL]) as camera:
        yield camera


def shoot(camera: SimulatedCamera, seconds: float = MIN_EXP) -> Frame:
    camera.start_exposure(seconds)
    return camera.wait_frame(timeout=seconds + 10)


@contextlib.contextmanager
def taken(camera: SimulatedCamera, seconds: float = MIN_EXP) -> Iterator[Frame]:
    """A frame, released at the end of the block (the interface's Frame has no ``with``)."""
    frame = shoot(camera, seconds)
    try:
        yield frame
    finally:
        frame.release()


def regenerate(camera: SimulatedCamera, frame: Frame) -> np.ndarray:
    """The frame rendered again in one go, from its recorded settings and sequence number.

    Exact when the camera built its noise pool for these very settings: it reuses a pool for
    settings whose levels agree to 0.005 ADU, so tests change nothing between a frame and the
    exposures before it, or only what does not move the levels (ROI, format)."""
    synth = FrameSynth(camera.spec, camera.info.serial)
    s = FrameSettings(frame.roi, frame.bits, frame.gain, frame.offset, frame.temperature_c,
                      frame.exposure_s)
    out = np.empty_like(frame.data)
    synth.render(out, s, frame_rng(camera.info.serial, frame.sequence))
    return out


class Tap:
    """Collects the payload blocks as the simulator sends them (before any injected damage)."""

    def __init__(self) -> None:
        self.blocks: list[bytes] = []
        self.first_block = threading.Event()

    def __call__(self, block: memoryview) -> None:
        self.blocks.append(bytes(block))
        self.first_block.set()

    def take(self) -> bytes:
        data, self.blocks = b"".join(self.blocks), []
        return data


def invariant(c: dict[str, int]) -> None:
    assert c["received"] == c["delivered"] + c["dropped"] + c["ready"]
    assert c["corrupt"] == (c["bad_header"] + c["short_frames"] + c["oversized"]
                            + c["out_of_order"] + c["crc_errors"])
    assert c["free_slots"] + c["held"] + c["ready"] <= c["nslots"]


# -- frames arrive intact ---------------------------------------------------------------------
@settings(max_examples=20, deadline=None)
@given(name=st.sampled_from(sorted(MODELS)), bin_=st.sampled_from([1, 2, 3, 4]),
       bits=st.sampled_from([8, 16]), w=st.integers(4, 700), h=st.integers(2, 500),
       x=st.integers(0, 300), y=st.integers(0, 300))
def test_frames_arrive_intact(name: str, bin_: int, bits: int, w: int, h: int, x: int, y: int) -> None:
    with SimulatedCamera(MODELS[name]) as camera:
        tap = Tap()
        camera.set_transfer_tap(tap)
        camera.set_format(bits)
        camera.set_roi(x, y, w, h, bin_)
        camera.set_gain(400)
        with taken(camera, 0.05) as frame:
            sent = tap.take()
            assert frame.data.tobytes() == sent  # what went over the wire, byte for byte
            assert np.array_equal(frame.data, regenerate(camera, frame))
            assert not frame.data.flags.owndata  # a view of the ring slot, not a copy
        c = camera.transfer_counters()
        assert (c["received"], c["delivered"], c["corrupt"]) == (1, 1, 0)
        assert c["bytes_in"] == HEADER + len(sent) + TRAILER


def test_full_size_frame_arrives_intact() -> None:
    with SimulatedCamera(MODELS["Ares-C PRO"]) as camera:  # 3008x3008, 18 MB in 18 chunks
        camera.set_gain(200)
        frame = shoot(camera, 0.2)
        assert frame.data.shape == (3008, 3008) and frame.data.dtype == np.uint16
        assert np.array_equal(frame.data, regenerate(camera, frame))
        frame.release()


def test_frame_is_not_delivered_before_the_modelled_readout_ends() -> None:
    """The payload streams when the exposure ends, but the trailer waits for the readout model:
    a full Zeus frame at 8 bit takes 61 MB / USB3_BYTES_PER_S = 0.153 s after the exposure."""
    with SimulatedCamera(MODELS["Zeus 455M PRO"]) as camera:
        camera.set_format(8)
        readout = 9576 * 6388 / USB3_BYTES_PER_S
        start = time.monotonic()
        camera.start_exposure(MIN_EXP)
        frame = camera.wait_frame(timeout=10)
        assert time.monotonic() - start >= MIN_EXP + readout
        frame.release()


def test_counters_add_up_over_exposures(cam: SimulatedCamera) -> None:
    cam.set_roi(0, 0, 200, 100, 1)
    for _ in range(6):
        shoot(cam).release()
    cam.start_exposure(MIN_EXP)  # read out, never collected: dropped by the next start
    while cam.is_exposing():
        threading.Event().wait(0.01)
    shoot(cam).release()
    c = cam.transfer_counters()
    invariant(c)
    assert (c["received"], c["delivered"], c["dropped"], c["corrupt"]) == (8, 7, 1, 0)
    assert c["bytes_in"] == 8 * (HEADER + 200 * 100 * 2 + TRAILER)
    assert (c["held"], c["ready"], c["free_slots"]) == (0, 0, c["nslots"])


# -- damaged transfers --------------------------------------------------------------------------
@pytest.mark.parametrize("fault,counter,message", [
    ("corrupt_next_frame", "crc_errors", r"the frame arrived corrupt \(CRC mismatch\) and was discarded"),
    ("short_next_frame", "short_frames", r"the frame arrived short .* and was discarded"),
])
@pytest.mark.parametrize("bits,roi", [(16, (0, 0, 1608, 1104, 1)), (8, (0, 0, 4, 2, 1))])
def test_damaged_transfer_is_never_delivered(cam: SimulatedCamera, fault: str, counter: str,
                                              message: str, bits: int, roi: tuple) -> None:
    tap = Tap()
    cam.set_transfer_tap(tap)
    cam.set_format(bits)
    cam.set_roi(*roi)
    cam.inject_fault(fault)
    cam.start_exposure(MIN_EXP)
    with pytest.raises(CameraError, match=message):
        cam.wait_frame(timeout=10)  # raised when the readout ends, well before the timeout
    assert not cam.is_exposing()
    c = cam.transfer_counters()
    invariant(c)
    assert (c["received"], c["delivered"], c["corrupt"], c[counter]) == (0, 0, 1, 1)
    assert c["ready"] == 0 and c["free_slots"] == c["nslots"]
    tap.take()
    with taken(cam) as frame:  # the next exposure works, and carries its own pixels
        assert frame.data.tobytes() == tap.take()
        assert np.array_equal(frame.data, regenerate(cam, frame))
    c = cam.transfer_counters()
    assert (c["received"], c["delivered"], c["corrupt"]) == (1, 1, 1)


def test_faults_queue_one_per_frame(cam: SimulatedCamera) -> None:
    cam.set_roi(0, 0, 64, 64, 1)
    cam.inject_fault("short_next_frame")
    cam.inject_fault("corrupt_next_frame")
    for expected in ("short", "CRC mismatch"):
        with pytest.raises(CameraError, match=expected):
            shoot(cam)
    shoot(cam).release()
    c = cam.transfer_counters()
    assert (c["short_frames"], c["crc_errors"], c["delivered"]) == (1, 1, 1)
    with pytest.raises(ValueError, match="unknown fault"):
        cam.inject_fault("melt_sensor")


def test_a_stale_frame_in_the_ring_is_not_handed_out(cam: SimulatedCamera) -> None:
    """White box: a frame of an earlier exposure lands in the ring while the next one waits
    (as when an exposure aborted during its readout finishes its transfer late)."""
    cam.set_roi(0, 0, 64, 32, 1)
    cam.start_exposure(0.3)
    link = cam._link  # the camera's real link and ring: pushed into as its transport would
    assert link is not None
    stale = np.full(64 * 32, 7, dtype=np.uint16).tobytes()
    with link.sending:
        header = native.wire_header(0, 64, 32, native.PixFmt.RAW16)
        link.ring.push_chunk(header + stale)
        link.ring.push_chunk(native.wire_trailer(native.crc32c(header + stale)))
    assert cam.transfer_counters()["received"] == 1
    frame = cam.wait_frame(timeout=10)
    try:
        assert frame.sequence == 1 and frame.data.tobytes() != stale
        assert np.array_equal(frame.data, regenerate(cam, frame))
    finally:
        frame.release()
    c = cam.transfer_counters()
    assert (c["received"], c["delivered"], c["held"], c["free_slots"]) == (2, 2, 0, c["nslots"])


def test_abort_during_readout_drops_the_frame_without_calling_it_corrupt() -> None:
    with SimulatedCamera(MODELS["Zeus 455M PRO"]) as camera:  # 306 ms modelled readout
        tap = Tap()
        camera.set_transfer_tap(tap)
        camera.set_format(8)
        camera.start_exposure(MIN_EXP)
        assert tap.first_block.wait(10)  # the readout is streaming
        assert camera.is_exposing()  # until the transfer ends
        camera.abort_exposure()
        with pytest.raises(ExposureAborted):
            camera.wait_frame(timeout=10)
        deadline = threading.Event()
        for _ in range(500):  # the worker finishes the transfer, then drops the frame
            c = camera.transfer_counters()
            if c["dropped"]:
                break
            deadline.wait(0.01)
        invariant(c)
        assert (c["received"], c["dropped"], c["delivered"], c["corrupt"]) == (1, 1, 0, 0)
        camera.set_roi(0, 0, 256, 256, 1)
        with taken(camera) as frame:
            assert np.array_equal(frame.data, regenerate(camera, frame))


# -- slots ----------------------------------------------------------------------------------------
def test_release_returns_the_slot(cam: SimulatedCamera) -> None:
    nslots = cam.transfer_counters()["nslots"]
    assert 2 <= nslots <= 3  # a Zeus slot is 122 MB
    for _ in range(3 * nslots):  # more exposures than slots: fine while frames are released
        frame = shoot(cam)
        assert cam.transfer_counters()["held"] == 1
        frame.release()
        frame.release()  # idempotent
        assert cam.transfer_counters()["held"] == 0
    held = [shoot(cam) for _ in range(nslots)]
    with pytest.raises(CameraError, match="not released"):
        cam.start_exposure(MIN_EXP)
    kept = held[0].data.copy()
    held[1].release()
    frame = shoot(cam)  # the released slot is used again
    assert np.array_equal(held[0].data, kept)  # held frames are untouched
    for f in held + [frame]:
        f.release()
    assert cam.transfer_counters()["free_slots"] == nslots


def test_garbage_collected_frames_return_their_slots(cam: SimulatedCamera) -> None:
    nslots = cam.transfer_counters()["nslots"]
    for _ in range(2 * nslots):
        assert shoot(cam).data.shape == (1104, 1608)  # never released, only dropped
    gc.collect()
    assert cam.transfer_counters()["held"] == 0
    frame = shoot(cam)
    view = frame.data[::2, ::2]  # a view keeps the slot: its pixels must not be reused
    del frame
    gc.collect()
    assert cam.transfer_counters()["held"] == 1
    kept = view.copy()
    shoot(cam).release()
    assert np.array_equal(view, kept)
    del view
    gc.collect()
    assert cam.transfer_counters()["held"] == 0


def test_frame_held_over_close_stays_readable() -> None:
    camera = SimulatedCamera(MODELS[SMALL])
    with camera:
        frame = shoot(camera)
        kept = frame.data.copy()
    assert np.array_equal(frame.data, kept)  # the slots outlive the connection while held
    frame.release()
    with camera:  # a new connection has a fresh ring
        assert camera.transfer_counters()["received"] == 0
        shoot(camera).release()


def test_closed_camera_refuses_transfer_calls() -> None:
    camera = SimulatedCamera(MODELS[SMALL])
    for call in (camera.transfer_counters, lambda: camera.inject_fault("corrupt_next_frame")):
        with pytest.raises(CameraError, match="not connected"):
            call()


# -- resources ------------------------------------------------------------------------------------
def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_no_fd_thread_or_memory_growth_over_50_exposures() -> None:
    with SimulatedCamera(MODELS["Ares-M PRO"]) as camera:
        camera.set_roi(0, 0, 1024, 1024, 1)  # 2 MiB a frame: a leaked frame each time would show
        for _ in range(5):  # warm-up: noise pools, the first slot's pages
            shoot(camera).release()
        gc.collect()
        fds, threads, rss = _fds(), threading.active_count(), _rss_bytes()
        for _ in range(50):
            with taken(camera) as frame:
                assert frame.data.shape == (1024, 1024)
        gc.collect()
        for _ in range(100):  # exposure workers end just after their frame is read out
            if threading.active_count() <= threads:
                break
            threading.Event().wait(0.01)
        assert _fds() == fds
        assert threading.active_count() <= threads
        assert _rss_bytes() - rss < 16 << 20  # vs 100 MiB for 50 leaked frames
        c = camera.transfer_counters()
        assert (c["received"], c["delivered"], c["held"]) == (55, 55, 0)
