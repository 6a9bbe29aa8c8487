"""A simulated camera's optional capabilities, options and runtime fault file through the SDK
backend and the simulated SDK library (real threads, real files, real frames; no mocks)."""
from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from helpers import simsdk
from helpers.guide_log import GuideLog, guide_log_cameras
from helpers.pixels import hot_pixels, robust_level
from helpers.waiting import wait_until
from indi_playerone.camera.interface import (
    PRESET_KEYS, CameraError, CameraTimeout, ExposureAborted,
)
from indi_playerone.camera.models import MODELS
from indi_playerone.camera.registry import simulated_cameras
from indi_playerone.camera.sdk_camera import SdkCamera
from indi_playerone.camera.sdk_types import Config

SMALL = "Apollo-M MAX PRO"
MIN_EXP = 32e-6
ROOT = Path(__file__).resolve().parents[2]
#: How far a guide pulse moves the simulated star field (native/simsdk/README.md).
GUIDE_PX_PER_S = 2.0


def cameras(mp: pytest.MonkeyPatch, models: str, options: str | None = None,
            fault_file: Path | None = None) -> list[GuideLog]:
    """Unopened simulated cameras ``models`` of this process's library (the library reset)."""
    return guide_log_cameras(mp, models, options, fault_file)


def SimulatedCamera(mp: pytest.MonkeyPatch, model: str, options: str | None = None,  # noqa: N802
                    fault_file: Path | None = None) -> GuideLog:
    return cameras(mp, model, options, fault_file)[0]


def shoot(cam: SdkCamera, seconds: float = MIN_EXP) -> np.ndarray:
    cam.start_exposure(seconds)
    frame = cam.wait_frame(timeout=seconds + 10)
    try:
        return frame.data.copy()
    finally:
        frame.release()


def library_controls(colour: bool) -> list[tuple[str, bool, bool]]:
    """(name, is_bool, supports_auto) of the simulated SDK's writable configs, read from its C
    source (its config table: SDK 3.7.0's name, then 3.10's where it differs, the version the
    library claims by default), minus those the interface keeps out of the controls (and those
    of an ST4 port, which these cameras have not)."""
    src = "".join(p.read_text() for p in sorted((ROOT / "native" / "simsdk").glob("*.c")))
    rows = re.findall(r'\{POA_\w+, VAL_(\w+), (\d), (\d), (\w+), "([^"]+)", (?:NULL|"([^"]+)")', src)
    excluded = {"Exposure", "Exp", "TargetTemp", "CoolerOn"}
    return [(name310 or name, vtype == "BOOL", autos == "1") for vtype, writable, autos, only, name, name310
            in rows if writable == "1" and name not in excluded and not name.startswith("Flip")
            and only in ("0", "ONLY_COLOR" if colour else "0")]


# -- controls ------------------------------------------------------------------------------------
@pytest.mark.parametrize("model", ["Ares-C PRO", "Ares-M PRO"])
def test_controls_are_the_librarys(model: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with SimulatedCamera(monkeypatch, model) as cam:
        got = [(c.name, c.is_bool, c.supports_auto) for c in cam.controls()]
        assert got == library_controls(MODELS[model].is_color)
        assert ("Mono Bin" in [c[0] for c in got]) == MODELS[model].is_color
        fan = {c.name: c for c in cam.controls()}["FanPower"]
        assert fan.default == 50  # carbon fibre body: the manual's 50 %
        # each control carries the key of its POAConfig ID, whatever the camera names it
        keys = {c.name: c.key for c in cam.controls()}
        assert keys["Gain"] == "gain" and keys["Offset"] == "offset"
        assert keys["USBBandWidthLimit"] == "usb_bandwidth_limit"
        assert keys["FanPower"] == "fan_power" and keys["LensHeaterPower"] == "heater_power"
        assert keys.get("Mono Bin") == ("mono_bin" if MODELS[model].is_color else None)


def test_get_and_set_control(monkeypatch: pytest.MonkeyPatch) -> None:
    with SimulatedCamera(monkeypatch, "Zeus 455C PRO") as cam:
        assert cam.get_control("FanPower") == (70.0, False)  # aluminium: 70 %
        assert cam.get_control("LensHeaterPower") == (10.0, False)
        cam.set_control("Gain", 250, auto=True)
        assert cam.gain() == 250 and cam.get_control("Gain") == (250.0, True)
        cam.set_control("Offset", 77)
        assert cam.offset() == 77 and cam.get_control("Offset")[0] == 77
        cam.set_control("Pixels Binning Sum", 1)
        assert cam.get_control("Pixels Binning Sum") == (1.0, False)
        cam.set_control("FanPower", 30, auto=True)  # auto not supported: ignored
        assert cam.get_control("FanPower") == (30.0, False)
        for name, value in (("Gain", 601), ("USBBandWidthLimit", 20), ("Mono Bin", 0.5),
                            ("FanPower", float("nan")), ("Nonsense", 1)):
            with pytest.raises(CameraError):
                cam.set_control(name, value)
        with pytest.raises(CameraError, match="no setting"):
            cam.get_control("Nonsense")
    with pytest.raises(CameraError, match="not connected"):
        cam.get_control("Gain")


def test_pixel_bin_sum_sums_instead_of_averaging(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bin 2: summing gives 4× the bias level and 2× the noise of one pixel where averaging
    gives the level and half the noise."""
    with SimulatedCamera(monkeypatch, "Zeus 455M PRO", options="stars=0,sky=0") as cam:
        cam.set_roi(0, 0, 256, 256, 2)
        cam.set_gain(300)
        cam.set_offset(200)
        avg = shoot(cam).astype(np.float64)
        cam.set_control("Pixels Binning Sum", 1)
        summed = shoot(cam).astype(np.float64)
    assert avg.mean() == pytest.approx(800, abs=2)
    assert summed.mean() == pytest.approx(3200, abs=8)
    assert summed.std() / avg.std() == pytest.approx(4.0, rel=0.05)


#: The rows of the manual's preset table that the scan leaves legible ("Zero 0/20").
PRESET_TABLE_ROWS = ("Zeus 455M PRO", "Zeus 455C PRO", "Poseidon-M PRO")


def dark_clearance(cam: SdkCamera, gain: int, offset: int) -> tuple[float, float]:
    """(minimum, clearance) of a covered RAW16 frame (ADU, 16-bit units) at gain/offset.

    The manual's offset procedure (6.6.2, 6.6.3) looks at a dark frame's histogram on a log scale
    and its minimum pixel: the offset is right when the left side is no longer cut off at zero
    and sits just clear of it. On a log scale a frame's Gaussian histogram reaches about 6 sigma
    below its mean before the counts run out (5.7 sigma for 9 MP, 5.9 for 47 MP), and a value
    reads above zero from half an ADC step up: clearance = mean - 6 sigma - half a step, > 0
    when clear. 1 ms instead of the manual's 10 s: less dark signal to lift the histogram, a
    check at least as strict; 1024 x 1024 pixels."""
    cam.set_gain(gain)
    cam.set_offset(offset)
    data = shoot(cam, 0.001).astype(np.float64)
    half_step = 0.5 * 2 ** (16 - MODELS[cam.info.model].adc_bits)
    return float(data.min()), float(data.mean() - 6 * data.std() - half_step)


def test_presets_and_unity_gain(monkeypatch: pytest.MonkeyPatch) -> None:
    """The four presets of every model, as the manual defines them. Zero: gain 0, and the offset
    of the manual's preset table (0/20) on its legible rows; on the others, where the table
    cannot be read, its offset procedure measured from covered frames: 20, or the first step of
    10 above it whose dark frame clears zero (the one below does not). Every preset's dark frame
    clears zero. Standard: the camera's own e-/ADU (``POA_EGAIN``) is 1. Highest Analog Gain:
    the highest gain of the four."""
    for model in MODELS:
        with SimulatedCamera(monkeypatch, model, options="stars=0,sky=0") as cam:
            cam.set_format(16)
            cam.set_roi(0, 0, 1024, 1024, 1)
            presets = cam.gain_presets()
            assert tuple(p.key for p in presets) == PRESET_KEYS
            zero = presets[0]
            assert zero.gain == 0, model
            if model in PRESET_TABLE_ROWS:
                assert zero.offset == 20, model  # the manual's Zero 0/20
            for p in presets:
                low, clear = dark_clearance(cam, p.gain, p.offset)
                assert low > 0 and clear > 0, (model, p, low, clear)
            assert zero.offset % 10 == 0 and zero.offset >= 20, (model, zero)
            if zero.offset > 20:
                assert dark_clearance(cam, 0, zero.offset - 10)[1] <= 0, (model, zero)
            assert presets[3].gain == max(p.gain for p in presets), (model, presets)
            cam.set_gain(presets[2].gain)
            assert cam.config(Config.EGAIN) == pytest.approx(1.0, abs=0.04), model
    with SimulatedCamera(monkeypatch, "Zeus 455M PRO") as cam:
        assert cam.gain_presets()[1].gain == 125  # the scan's HCG 125 for IMX455


def test_sensor_modes_only_where_the_manual_lists_them(monkeypatch: pytest.MonkeyPatch) -> None:
    with_modes = set()
    for model in MODELS:
        with SimulatedCamera(monkeypatch, model) as cam:
            if cam.sensor_modes():
                with_modes.add(model)
    assert with_modes == {"Zeus 455M PRO", "Zeus 455C PRO", "Poseidon-M PRO", "Poseidon-C PRO",
                          "Ares-M PRO", "Ares-C PRO"}
    with SimulatedCamera(monkeypatch, "Uranus-M PRO") as cam:
        with pytest.raises(CameraError, match="no sensor modes"):
            cam.set_sensor_mode(1)
    with SimulatedCamera(monkeypatch, "Ares-M PRO") as cam:
        cam.set_roi(0, 0, 64, 64, 1)
        with pytest.raises(CameraError):
            cam.set_sensor_mode(2)
        cam.start_exposure(0.5)
        with pytest.raises(CameraError, match="in progress"):
            cam.set_sensor_mode(1)
        with pytest.raises(CameraError, match="in progress"):
            cam.set_flip(True, False)
        cam.abort_exposure()
        cam.set_sensor_mode(1)
        assert cam.sensor_mode() == 1


def assert_mirrored(plain: np.ndarray, flipped: np.ndarray,
                    move: Callable[[int, int], tuple[int, int]]) -> None:
    """Each hot pixel of one frame (30 σ) is hot where the flip puts it in the other (10 σ: a
    pixel near the threshold may miss it in one frame by its own noise), both ways round."""
    for a, b, where in ((plain, flipped, move), (flipped, plain, move)):
        med, sigma = robust_level(b)
        found = hot_pixels(a)
        assert found
        for y, x in found:
            assert b[where(y, x)] > med + 10 * sigma, (y, x, where(y, x))


def test_flip_mirrors_the_delivered_frame(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hot pixels (fixed on the sensor) land mirrored within the ROI: x -> w-1-x, y -> h-1-y."""
    with SimulatedCamera(monkeypatch, SMALL, options="stars=0,sky=0,ambient=50") as cam:
        assert cam.can_flip() and cam.flip() == (False, False)
        cam.set_roi(100, 50, 1200, 900, 1)
        cam.set_gain(400)
        cam.set_offset(300)
        plain_frame = shoot(cam, 0.3)
        plain = hot_pixels(plain_frame)
        assert len(plain) >= 5
        cam.set_flip(True, False)
        assert cam.flip() == (True, False)
        assert_mirrored(plain_frame, shoot(cam, 0.3), lambda y, x: (y, 1199 - x))
        cam.set_flip(True, True)
        assert_mirrored(plain_frame, shoot(cam, 0.3), lambda y, x: (899 - y, 1199 - x))


def test_information(monkeypatch: pytest.MonkeyPatch) -> None:
    cam = SimulatedCamera(monkeypatch, SMALL)
    assert cam.usb_link() == "USB3"
    assert cam.sdk_version() == cam.sdk.version != ""  # POAGetSDKVersion of the library
    with cam:
        assert cam.dropped_frames() == 0
        shoot(cam)
        assert cam.dropped_frames() == 0  # snap mode loses nothing in the camera
    with SimulatedCamera(monkeypatch, SMALL, options="usb2") as cam:
        assert cam.usb_link() == "USB2"


def brightest_star(data: np.ndarray, margin: int = 20) -> tuple[int, int]:
    """(x, y) of the brightest 5x5 box clear of the edges (a star: many pixels, not a hot one)."""
    d = data.astype(np.float64) - np.median(data)
    boxes = sum(np.roll(np.roll(d, dy, 0), dx, 1) for dy in range(-2, 3) for dx in range(-2, 3))
    inner = boxes[margin:-margin, margin:-margin]
    y, x = np.unravel_index(np.argmax(inner), inner.shape)
    return int(x) + margin, int(y) + margin


def test_guide_needs_an_st4_port_and_moves_the_stars(monkeypatch: pytest.MonkeyPatch) -> None:
    with SimulatedCamera(monkeypatch, SMALL) as cam:
        with pytest.raises(CameraError, match="no ST4"):
            cam.guide("N", True)
    with SimulatedCamera(monkeypatch, SMALL, options="st4") as cam:
        assert cam.info.has_st4
        with pytest.raises(CameraError):
            cam.guide("X", True)
        # measured in frames: a bright star's centroid moves by the pulse × 2 px/s
        cam.set_gain(300)
        cam.set_offset(200)
        first = shoot(cam, 0.3)
        x, y = brightest_star(first)
        before = centroid(first, x, y)
        cam.guide("W", True)
        time.sleep(1.0)
        cam.guide("W", False)
        log = cam.guide_log()
        assert [(d, on) for d, on, _ in log] == [("W", True), ("W", False)]
        moved = log[1][2] - log[0][2]
        after = centroid(shoot(cam, 0.3), before[0] + GUIDE_PX_PER_S * moved, before[1])
        assert after[0] - before[0] == pytest.approx(GUIDE_PX_PER_S * moved, abs=0.2)
        assert after[1] == pytest.approx(before[1], abs=0.2)


def centroid(data: np.ndarray, x: float, y: float, half: int = 8) -> tuple[float, float]:
    """Flux-weighted centre of a box around (x, y), background = the box's median."""
    xi, yi = int(x), int(y)
    box = data[yi - half:yi + half + 1, xi - half:xi + half + 1].astype(np.float64)
    flux = np.clip(box - np.median(box), 0, None)
    yy, xx = np.mgrid[yi - half:yi + half + 1, xi - half:xi + half + 1]
    return float((flux * xx).sum() / flux.sum()), float((flux * yy).sum() / flux.sum())


# -- options ------------------------------------------------------------------------------------
def test_options_reach_the_cameras(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """INDI_PLAYERONE_SIM_OPTIONS and the fault file, read by the library itself: an ambient of
    7 °C is the sensor's temperature, no12v leaves the cooler without power, st4 gives a port,
    a fault line in the file reaches the camera."""
    faults = tmp_path / "faults"
    faults.write_text("")
    with SimulatedCamera(monkeypatch, "Ares-C PRO", options=" ambient=7, cooler_tau=0.05,no12v ,st4",
                         fault_file=faults) as cam:
        assert cam.temperature() == pytest.approx(7.0, abs=0.1)
        assert cam.info.has_st4
        cam.set_cooler(True, -10.0)
        time.sleep(0.3)
        assert cam.temperature() == pytest.approx(7.0, abs=0.1) and cam.cooler_power() == 0
        faults.write_text("unplug\n")
        time.sleep(0.06)
        with pytest.raises(CameraError, match="unplugged"):
            cam.start_exposure(MIN_EXP)


@pytest.mark.parametrize("bad", ["ambient", "ambient=hot", "tilt=5", "fratio=0", "cooler_tau=-1",
                                 "colour=red", "no12v=maybe", "seeing=nan", "warp=9"])
def test_a_bad_option_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    """The library's own parser refuses it; the registry raises it as a ValueError naming the
    variable and the item (the driver reports it as an INDI message, as a bad model name)."""
    simsdk.use(monkeypatch, "Ares-C PRO", options=bad)
    with pytest.raises(ValueError, match="INDI_PLAYERONE_SIM_OPTIONS") as err:
        simulated_cameras()
    assert bad.split("=")[0] in str(err.value)


def test_no_cameras_without_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    simsdk.use(monkeypatch, "", options="warp=9")
    assert simulated_cameras() == []  # options are not even read without cameras


# -- the fault file ------------------------------------------------------------------------------
@pytest.fixture
def faulty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[SdkCamera, Callable[[str], None]]]:
    path = tmp_path / "faults"
    path.write_text("")
    cam = SimulatedCamera(monkeypatch, SMALL, options="cooler_tau=0.05", fault_file=path)

    def append(line: str) -> None:
        with path.open("a") as f:
            f.write(line + "\n")
        time.sleep(0.06)  # past the 50 ms check interval

    with cam:
        yield cam, append
    cam.close()


def test_fault_file_unplug_and_replug(faulty) -> None:
    cam, append = faulty
    shoot(cam)
    append("unplug_after=2")
    shoot(cam)
    shoot(cam)  # the last frame still arrives
    with pytest.raises(CameraError, match="unplugged"):
        cam.start_exposure(MIN_EXP)
    cam.close()  # as the driver does once it learns of the unplug
    with pytest.raises(CameraError, match="DEVICE_NOT_FOUND"):
        cam.open()
    append("replug")
    cam.open()
    shoot(cam)
    cam.start_exposure(1.0)
    append("unplug")  # during an exposure: the waiter learns why
    with pytest.raises(CameraError, match="unplugged"):
        cam.wait_frame(timeout=5)
    cam.close()
    append("replug")
    cam.open()
    shoot(cam)


def test_fault_file_never_ready_timeout_and_none(faulty) -> None:
    cam, append = faulty
    append("never_ready")
    cam.start_exposure(MIN_EXP)
    with pytest.raises(CameraTimeout):
        cam.wait_frame(timeout=0.3)  # inside the SDK's 0.5 s readout allowance
    assert cam.is_exposing()  # still "exposing", as in the field failure
    cam.abort_exposure()
    with pytest.raises(ExposureAborted):
        cam.wait_frame(timeout=1.0)
    append("none")
    shoot(cam)
    append("timeout=2")  # the first attempt and the SDK backend's watchdog restart
    cam.start_exposure(MIN_EXP)
    with pytest.raises(CameraTimeout, match="no image"):
        cam.wait_frame(timeout=10)
    shoot(cam)  # the count ran out


def test_fault_file_transfer_faults_and_12v(faulty) -> None:
    cam, append = faulty
    append("corrupt_next_frame")  # a transfer the SDK cannot check: delivered as it came
    garbage = shoot(cam)
    assert np.any(garbage.astype(np.int64) % 16)  # not 12-bit data left-justified
    append("short_next_frame")
    cam.start_exposure(MIN_EXP)
    with pytest.raises(CameraError, match="POAGetImageData"):
        cam.wait_frame(timeout=5)
    shoot(cam)
    append("no_12v")
    cam.set_cooler(True, -10.0)
    time.sleep(0.3)
    assert cam.temperature() == pytest.approx(20.0, abs=0.01) and cam.cooler_power() == 0
    append("12v")
    assert wait_until(lambda: cam.temperature() < 0.0, timeout=2)
    append("no_12v")
    assert wait_until(lambda: cam.temperature() > 19.9, timeout=2)
    append("none")  # clears the missing supply too, as the fake SDK's "none"
    assert wait_until(lambda: cam.temperature() < 0.0, timeout=2)


def test_fault_file_targets_one_serial(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "faults"
    path.write_text("")
    one, two = cameras(monkeypatch, f"{SMALL},{SMALL}", fault_file=path)
    with one, two:
        assert two.info.serial == "SIM-APOLLO-M-MAX-PRO-0002"
        path.write_text(f"unplug@{two.info.serial}\n")
        time.sleep(0.06)
        shoot(one)
        with pytest.raises(CameraError, match="unplugged"):
            two.start_exposure(MIN_EXP)


def test_temperature_poll_alone_applies_faults(faulty) -> None:
    """The driver's once-a-second temperature poll is a camera call: it picks faults up."""
    cam, append = faulty
    append("unplug")
    with pytest.raises(CameraError, match="unplugged"):
        cam.temperature()


def test_concurrent_polls_apply_each_line_once(faulty) -> None:
    cam, append = faulty
    append("unplug_after=3")
    threads = [threading.Thread(target=cam.temperature) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    for _ in range(3):
        shoot(cam)
    with pytest.raises(CameraError, match="unplugged"):
        shoot(cam)
