"""A simulated camera against the CameraBackend contract (real threads, real clocks, no mocks).

The camera is the simulated SDK library behind the SDK backend (``SdkCamera``), the one path a
real camera takes too; its pixels are checked against what the manual says a camera does.
"""
from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.sim_camera import MIN_EXP, SMALL, SimulatedCamera, shoot, simulated
from helpers.waiting import wait_until
from indi_playerone.camera.interface import (
    CameraError, CameraTimeout, ExposureAborted, Frame, Roi,
)
from indi_playerone.camera.models import MODELS
from indi_playerone.camera.sdk_camera import SdkCamera

#: Bias per offset step in 16-bit ADU: the manual's measured Ares-M at gain 125 (offset 50 gives a
#: dark minimum of about 80 ADU, offset 350 about 1284 ADU): (1284 - 80) / 300 = 4.0.
BIAS_ADU16_PER_OFFSET = 4.0


def later(delay: float, action: Callable[[], object]) -> threading.Timer:
    timer = threading.Timer(delay, action)
    timer.start()
    return timer


# -- identity -----------------------------------------------------------------------------------
def test_info_follows_model_and_manual(monkeypatch: pytest.MonkeyPatch) -> None:
    camera = SimulatedCamera(monkeypatch, "Ares-C PRO")
    info = camera.info
    assert info.serial == "SIM-ARES-C-PRO-0001"
    assert (info.model, info.sensor, info.width, info.height, info.adc_bits) == \
        ("Ares-C PRO", "IMX533", 3008, 3008, 14)
    assert info.is_color and info.bayer == "RGGB" and info.body == "carbon fibre"
    assert info.has_cooler and not info.has_st4 and info.usb3
    assert info.bins == (1, 2, 3, 4) and info.formats == (8, 16)
    with camera:  # the ranges come from the camera's config attributes once open
        assert camera.info.gain_range == (0, 600) and camera.info.offset_range == (0, 1500)
        assert camera.info.exposure_range_s == (32e-6, 2000.0)
    seventh = simulated(monkeypatch, ",".join(["Ares-C PRO"] * 7))[6]
    assert seventh.info.serial == "SIM-ARES-C-PRO-0007"


def test_closed_camera_refuses_and_context_manager_opens(monkeypatch: pytest.MonkeyPatch) -> None:
    camera = SimulatedCamera(monkeypatch, SMALL)
    with pytest.raises(CameraError, match="not connected"):
        camera.start_exposure(1.0)
    with camera:
        # a fresh camera starts at the HCG preset
        assert (camera.gain(), camera.offset()) == (100, 30) and camera.format() == 16
        assert camera.roi() == Roi(0, 0, 1608, 1104, 1)
    with pytest.raises(CameraError):
        camera.temperature()


# -- exposure timing and control ----------------------------------------------------------------
def test_exposure_takes_its_time(cam: SdkCamera) -> None:
    t0 = time.monotonic()
    cam.start_exposure(0.2)
    assert cam.is_exposing()
    frame = cam.wait_frame(timeout=5)
    elapsed = time.monotonic() - t0
    assert 0.2 <= elapsed < 1.0
    assert not cam.is_exposing()
    assert frame.exposure_s == 0.2 and frame.bits == 16
    assert frame.start_utc.tzinfo is timezone.utc
    assert abs((datetime.now(timezone.utc) - frame.start_utc).total_seconds() - elapsed) < 0.5


def test_frame_records_settings_and_sequence(cam: SdkCamera) -> None:
    cam.set_gain(123)
    cam.set_offset(45)
    first, second = shoot(cam), shoot(cam)
    assert (first.gain, first.offset) == (123, 45)
    assert second.sequence == first.sequence + 1
    assert first.temperature_c == pytest.approx(20.0, abs=0.1)


def test_abort_ends_wait_promptly(cam: SdkCamera) -> None:
    cam.start_exposure(30.0)
    timer = later(0.2, cam.abort_exposure)
    t0 = time.monotonic()
    with pytest.raises(ExposureAborted):
        cam.wait_frame(timeout=20)
    assert time.monotonic() - t0 < 2.0  # vs a 30 s exposure: the abort ended it
    timer.join(5)
    assert not cam.is_exposing()
    assert shoot(cam).sequence == 2  # the camera is usable again


def test_cancel_event_aborts_the_exposure(cam: SdkCamera) -> None:
    cancel = threading.Event()
    cam.start_exposure(30.0)
    timer = later(0.2, cancel.set)
    t0 = time.monotonic()
    with pytest.raises(ExposureAborted):
        cam.wait_frame(timeout=20, cancel=cancel)
    assert time.monotonic() - t0 < 2.0
    timer.join(5)
    assert not cam.is_exposing()


def test_abort_before_waiting_and_of_an_uncollected_frame(cam: SdkCamera) -> None:
    cam.start_exposure(10.0)
    cam.abort_exposure()
    with pytest.raises(ExposureAborted):
        cam.wait_frame(timeout=0.5)
    cam.start_exposure(MIN_EXP)
    assert wait_until(lambda: not cam.is_exposing())
    cam.abort_exposure()  # drops the frame that was read out but not collected
    with pytest.raises(ExposureAborted):
        cam.wait_frame(timeout=0.5)
    cam.abort_exposure()  # nothing to abort: no error


def test_close_during_wait_aborts(cam: SdkCamera) -> None:
    cam.start_exposure(30.0)
    timer = later(0.2, cam.close)
    with pytest.raises(ExposureAborted):
        cam.wait_frame(timeout=20)
    timer.join(5)


def test_timeout_leaves_exposure_running(cam: SdkCamera) -> None:
    cam.start_exposure(1.0)
    with pytest.raises(CameraTimeout):
        cam.wait_frame(timeout=0.1)
    assert cam.is_exposing()
    assert cam.wait_frame(timeout=5).exposure_s == 1.0


def test_exposure_errors(cam: SdkCamera) -> None:
    with pytest.raises(CameraError, match="no exposure"):
        cam.wait_frame(timeout=0.1)
    for bad in (0.0, 1e-6, 2000.5, -1.0, math.nan):
        with pytest.raises(CameraError):
            cam.start_exposure(bad)
    cam.start_exposure(5.0)
    with pytest.raises(CameraError, match="already"):
        cam.start_exposure(1.0)
    with pytest.raises(CameraError, match="ROI"):
        cam.set_roi(0, 0, 100, 100, 1)  # the SDK wants exposures stopped before ROI changes
    with pytest.raises(CameraError):
        cam.set_format(8)
    cam.abort_exposure()


def test_control_ranges(cam: SdkCamera) -> None:
    for setter, bad in ((cam.set_gain, 601), (cam.set_gain, -1), (cam.set_offset, 1501)):
        with pytest.raises(CameraError):
            setter(bad)
    with pytest.raises(CameraError):
        cam.set_format(12)


# -- ROI --------------------------------------------------------------------------------------
@settings(max_examples=300, deadline=None)
@given(
    name=st.sampled_from(sorted(MODELS)),
    bin_=st.sampled_from([1, 2, 3, 4]),
    x=st.integers(-100, 10_000), y=st.integers(-100, 7_000),
    w=st.integers(4, 10_000), h=st.integers(2, 7_000),
)
def test_roi_is_rounded_and_clamped(name: str, bin_: int, x: int, y: int, w: int, h: int) -> None:
    with pytest.MonkeyPatch.context() as mp:
        with SimulatedCamera(mp, name) as camera:
            check_roi(camera, bin_, x, y, w, h)


#: The simulated camera's smallest ROI (an assumption of native/simsdk: the manual has none).
MIN_ROI = 16


def check_roi(camera: SdkCamera, bin_: int, x: int, y: int, w: int, h: int) -> None:
    max_w, max_h = camera.info.width // bin_, camera.info.height // bin_
    fit_w, fit_h = min(w, max_w), min(h, max_h)
    if fit_w - fit_w % 4 < MIN_ROI or fit_h - fit_h % 2 < MIN_ROI:
        with pytest.raises(CameraError):  # the camera refuses it, and says so
            camera.set_roi(x, y, w, h, bin_)
        return
    roi = camera.set_roi(x, y, w, h, bin_)
    assert roi.bin == bin_ and roi == camera.roi()
    assert roi.width % 4 == 0 and roi.height % 2 == 0 and roi.width > 0 and roi.height > 0
    assert 0 <= roi.x and roi.x + roi.width <= max_w
    assert 0 <= roi.y and roi.y + roi.height <= max_h
    assert roi.width <= w and roi.height <= h
    if 0 <= x and x + w <= max_w:  # a request that fits keeps its start and loses < 4 columns
        assert (roi.x, roi.width) == (x, w - w % 4)
    if 0 <= y and y + h <= max_h:
        assert (roi.y, roi.height) == (y, h - h % 2)


def test_roi_errors(cam: SdkCamera) -> None:
    for args in ((0, 0, 100, 100, 5), (0, 0, 0, 100, 1), (0, 0, 100, -2, 1), (0, 0, 3, 100, 1)):
        with pytest.raises(CameraError):
            cam.set_roi(*args)
    assert cam.roi() == Roi(0, 0, 1608, 1104, 1)  # unchanged by refused requests


@pytest.mark.parametrize("bits,dtype", [(16, np.uint16), (8, np.uint8)])
@pytest.mark.parametrize("bin_", [1, 2, 3])
def test_frame_shape_and_dtype_follow_roi(cam: SdkCamera, bits: int, dtype, bin_: int) -> None:
    cam.set_format(bits)
    roi = cam.set_roi(10, 20, 301, 151, bin_)
    frame = shoot(cam)
    assert frame.roi == roi and frame.bits == bits
    assert frame.data.shape == (150, 300) and frame.data.dtype == dtype


# -- pixel values -------------------------------------------------------------------------------
@pytest.mark.parametrize("name,step", [(SMALL, 16), ("Ares-M PRO", 4), ("Zeus 455M PRO", 1)])
def test_adc_data_is_left_justified(name: str, step: int, monkeypatch: pytest.MonkeyPatch) -> None:
    with SimulatedCamera(monkeypatch, name) as camera:
        camera.set_roi(0, 0, 512, 512, 1)
        camera.set_gain(600)
        camera.set_offset(200)
        data = shoot(camera, 0.5).data
    assert np.all(data % step == 0)
    assert len(np.unique(data)) > 20  # real noise, not a constant
    if step > 1:
        assert np.any(data % (2 * step) != 0)  # exactly `step`, not coarser


def test_eight_bit_is_the_top_byte(cam: SdkCamera) -> None:
    cam.set_offset(1000)
    sixteen = np.median(shoot(cam).data)
    cam.set_format(8)
    eight = np.median(shoot(cam).data)
    assert eight == pytest.approx(sixteen / 256, abs=1)


def test_bias_rises_with_offset_by_the_documented_factor(monkeypatch: pytest.MonkeyPatch) -> None:
    with SimulatedCamera(monkeypatch, "Zeus 455M PRO") as camera:
        camera.set_roi(100, 100, 512, 512, 1)
        medians = []
        for offset in (100, 400, 700):
            camera.set_offset(offset)
            medians.append(float(np.median(shoot(camera).data)))
    assert medians[1] - medians[0] == pytest.approx(300 * BIAS_ADU16_PER_OFFSET, abs=4)
    assert medians[2] - medians[1] == pytest.approx(300 * BIAS_ADU16_PER_OFFSET, abs=4)


def star_mask(frame: Frame) -> np.ndarray:
    """Pixels within 4 of one well above the background (the stars of this frame)."""
    data = frame.data.astype(np.float64)
    background = np.median(data)
    noise = 1.4826 * np.median(np.abs(data - background))
    bright = data - background > 8 * max(noise, 1.0)
    mask = bright.copy()
    for axis in (0, 1):
        grown = mask.copy()
        for shift in range(1, 5):
            grown |= np.roll(mask, shift, axis) | np.roll(mask, -shift, axis)
        mask = grown
    return mask


def star_signal(frame: Frame, mask: np.ndarray) -> float:
    """Sum above the background over ``mask``."""
    data = frame.data.astype(np.float64)
    return float((data[mask] - np.median(data)).sum())


def brightest_boxes(frame: Frame, n: int = 20) -> set[tuple[int, int]]:
    """Centres of the ``n`` brightest 3x3 boxes, rounded to 8 px (the star field's layout)."""
    data = frame.data.astype(np.float64)
    boxes = sum(np.roll(np.roll(data, dy, 0), dx, 1) for dy in (-1, 0, 1) for dx in (-1, 0, 1))
    flat = np.argsort(boxes[1:-1, 1:-1], axis=None)[-n:]
    return {(int(i) // (data.shape[1] - 2) // 8, int(i) % (data.shape[1] - 2) // 8) for i in flat}


def test_stars_brighter_with_longer_exposure(cam: SdkCamera) -> None:
    cam.set_gain(400)
    cam.set_offset(400)
    short, long_ = shoot(cam, 0.1), shoot(cam, 0.8)
    mask = star_mask(long_)
    assert 0 < mask.mean() < 0.5, "no star field, or no background"
    ratio = star_signal(long_, mask) / star_signal(short, mask)
    assert 6 < ratio < 10  # flux proportional to exposure (8x)
    # the brightest 3x3 box is on a star, not a hot pixel: its light is spread over pixels
    data = long_.data.astype(np.float64)
    background = np.median(data)
    noise = 1.4826 * np.median(np.abs(data - background))
    boxes = sum(np.roll(np.roll(data, dy, 0), dx, 1) for dy in (-1, 0, 1) for dx in (-1, 0, 1))
    y, x = np.unravel_index(np.argmax(boxes[1:-1, 1:-1]), boxes[1:-1, 1:-1].shape)
    box = data[y:y + 3, x:x + 3] - background
    assert (box > 5 * max(noise, 1.0)).sum() >= 4, box


def test_star_field_is_deterministic_per_serial(monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = simulated(monkeypatch, f"{SMALL},{SMALL}")
    fields = []
    for camera in (first, first, second):
        with camera:
            camera.set_gain(400)
            fields.append(brightest_boxes(shoot(camera, 0.8)))
    def jaccard(a: set, b: set) -> float:
        return len(a & b) / len(a | b)

    assert jaccard(fields[0], fields[1]) >= 0.75  # the same sky again (noise may swap a box)
    assert jaccard(fields[0], fields[2]) <= 0.25  # another serial, another sky


def test_binning_averages_read_noise(monkeypatch: pytest.MonkeyPatch) -> None:
    stds = []
    with SimulatedCamera(monkeypatch, SMALL) as camera:
        camera.set_gain(600)
        camera.set_offset(600)
        for bin_ in (1, 2):
            camera.set_roi(0, 0, 1608 // bin_, 1104 // bin_, bin_)
            stds.append(float(np.std(shoot(camera).data.astype(np.float64))))
    assert stds[0] / stds[1] == pytest.approx(2.0, rel=0.1)


def test_bayer_planes_differ(monkeypatch: pytest.MonkeyPatch) -> None:
    with SimulatedCamera(monkeypatch, "Ares-C PRO") as camera:
        camera.set_roi(0, 0, 512, 512, 1)
        camera.set_gain(600)
        camera.set_offset(300)
        data = shoot(camera, 2.0).data.astype(np.float64)
    r, g1, g2, b = (np.median(data[i::2, j::2]) for i, j in ((0, 0), (0, 1), (1, 0), (1, 1)))
    # sky glow 2 s × 0.8 QE at 0.141 e-/ADU (gain 600): G−R ≈ 14, R−B ≈ 9 ADU16 (steps of 4)
    assert g1 == pytest.approx(g2, abs=4)
    assert g1 > r + 4 and r > b + 4  # RGGB with green > red > blue response


def test_mono_planes_match(monkeypatch: pytest.MonkeyPatch) -> None:
    with SimulatedCamera(monkeypatch, "Ares-M PRO") as camera:
        camera.set_roi(0, 0, 512, 512, 1)
        camera.set_gain(600)
        data = shoot(camera, 1.0).data.astype(np.float64)
    planes = [np.median(data[i::2, j::2]) for i in (0, 1) for j in (0, 1)]
    assert max(planes) - min(planes) <= 4


# -- buffers ----------------------------------------------------------------------------------
def test_released_buffer_is_reused_unreleased_is_not(cam: SdkCamera) -> None:
    first = shoot(cam)
    address = first.data.__array_interface__["data"][0]
    first.release()
    first.release()  # idempotent
    second = shoot(cam)
    assert second.data.__array_interface__["data"][0] == address
    kept = second.data.copy()
    third = shoot(cam)  # second not released: its pixels must survive
    assert not np.shares_memory(second.data, third.data)
    assert np.array_equal(second.data, kept)


# -- temperature --------------------------------------------------------------------------------
def test_cooler_first_order_model(monkeypatch: pytest.MonkeyPatch) -> None:
    # Zeus 455M PRO: ΔT 35 °C at 100 % fan. Defaults (the manual's): fan 70 % on the aluminium
    # body -> ΔT 35 × 0.85 = 29.75 °C, less the window heater's 10 % × 0.02 °C: the floor is
    # 20 - 29.55 = -9.55 °C (native/simsdk/README.md).
    with SimulatedCamera(monkeypatch, "Zeus 455M PRO", options="cooler_tau=0.05,ambient=20") as camera:
        assert camera.temperature() == pytest.approx(20.0) and camera.cooler_power() == 0
        camera.set_cooler(True, -50.0)  # below reach: settles at the floor
        assert wait_until(lambda: abs(camera.temperature() + 9.55) < 0.05)
        assert camera.cooler_power() == pytest.approx(100.0, abs=0.5)
        camera.set_cooler(True, 10.0)
        assert wait_until(lambda: abs(camera.temperature() - 10.0) < 0.05)
        assert camera.cooler_power() == pytest.approx(100 * 10 / 29.55, abs=0.5)
        camera.set_cooler(False)
        assert camera.cooler_power() == 0
        assert wait_until(lambda: abs(camera.temperature() - 20.0) < 0.05)
        camera.set_cooler(True)  # keeps the previous target
        assert wait_until(lambda: abs(camera.temperature() - 10.0) < 0.05)


def test_cooler_moves_slowly_with_default_time_constant(cam: SdkCamera) -> None:
    cam.set_cooler(True, -10.0)
    time.sleep(0.3)
    temperature = cam.temperature()
    assert 19.0 < temperature < 20.0  # τ = 120 s: about 0.07 °C in 0.3 s
    with pytest.raises(CameraError):
        cam.set_cooler(True, -100.0)


def test_no_cooler_control_without_cooler(monkeypatch: pytest.MonkeyPatch) -> None:
    """A camera that reports no cooler (every PRO model has one: the backend's own refusal)."""
    import dataclasses

    with SimulatedCamera(monkeypatch, SMALL) as camera:
        camera.info = dataclasses.replace(camera.info, has_cooler=False)
        with pytest.raises(CameraError, match="no cooler"):
            camera.set_cooler(True, 0.0)
        assert camera.cooler_power() == 0


# -- threads --------------------------------------------------------------------------------
def test_concurrent_calls_do_not_break_the_camera(cam: SdkCamera) -> None:
    unexpected: list[BaseException] = []
    stop = threading.Event()

    def fiddle(seed: int) -> None:
        rng = np.random.default_rng(seed)
        while not stop.is_set():
            try:
                op = int(rng.integers(6))
                if op == 0:
                    cam.set_gain(int(rng.integers(0, 601)))
                elif op == 1:
                    cam.set_offset(int(rng.integers(0, 1501)))
                elif op == 2:
                    cam.set_roi(int(rng.integers(0, 100)), 0, 400, 300, int(rng.integers(1, 5)))
                elif op == 3:
                    cam.temperature(), cam.cooler_power(), cam.is_exposing(), cam.roi()
                elif op == 4:
                    cam.set_cooler(bool(rng.integers(2)), -5.0)
                else:
                    cam.abort_exposure()
            except (CameraError,):
                pass  # refusals (e.g. ROI while exposing) are part of the contract
            except BaseException as err:  # noqa: BLE001 - collected and asserted below
                unexpected.append(err)

    def expose() -> None:
        for _ in range(15):
            try:
                cam.start_exposure(0.01)
                cam.wait_frame(timeout=5).release()
            except (ExposureAborted, CameraError):
                pass
            except BaseException as err:  # noqa: BLE001
                unexpected.append(err)

    threads = [threading.Thread(target=fiddle, args=(i,)) for i in range(3)]
    threads.append(threading.Thread(target=expose))
    for t in threads:
        t.start()
    threads[-1].join(30)
    stop.set()
    for t in threads:
        t.join(10)
    assert not any(t.is_alive() for t in threads)
    assert unexpected == []
    cam.abort_exposure()
    frame = shoot(cam)
    assert frame.data.shape == (frame.roi.height, frame.roi.width)
