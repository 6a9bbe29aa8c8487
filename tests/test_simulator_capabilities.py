"""The simulated camera's optional capabilities, options and runtime fault file (real threads,
real files, real frames; no mocks)."""
from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from indi_playerone.camera.interface import (
    PRESET_KEYS, CameraError, CameraTimeout, ExposureAborted,
)
from indi_playerone.camera.models import MODELS
from indi_playerone.camera.registry import simulated_cameras
from indi_playerone.camera.sim_faults import FaultFile, parse_line
from indi_playerone.camera.sim_options import SimOptions, parse_options
from indi_playerone.camera.sim_sensor import e_per_adu
from indi_playerone.camera.simulator import SimulatedCamera
from helpers.waiting import wait_until

SMALL = "Apollo-M MAX PRO"
MIN_EXP = 32e-6
ROOT = Path(__file__).resolve().parents[1]


def shoot(cam: SimulatedCamera, seconds: float = MIN_EXP) -> np.ndarray:
    cam.start_exposure(seconds)
    frame = cam.wait_frame(timeout=seconds + 10)
    try:
        return frame.data.copy()
    finally:
        frame.release()


def fake_sdk_controls(colour: bool) -> list[tuple[str, bool, bool]]:
    """(name, is_bool, supports_auto) of the fake SDK's writable configs, read from its C source
    (fake_config.c), minus those the interface keeps out of the controls."""
    src = (ROOT / "native" / "fake_sdk" / "fake_config.c").read_text()
    rows = re.findall(r'\{POA_\w+, VAL_(\w+), (\d), (\d), (\d), "([^"]+)"', src)
    excluded = {"Exposure", "Exp", "TargetTemp", "CoolerOn"}
    return [(name, vtype == "BOOL", autos == "1") for vtype, writable, autos, colour_only, name
            in rows if writable == "1" and name not in excluded and not name.startswith("Flip")
            and (colour or colour_only == "0")]


# -- controls ------------------------------------------------------------------------------------
@pytest.mark.parametrize("model", ["Ares-C PRO", "Ares-M PRO"])
def test_controls_are_the_fake_sdks(model: str) -> None:
    cam = SimulatedCamera(MODELS[model])
    got = [(c.name, c.is_bool, c.supports_auto) for c in cam.controls()]
    assert got == fake_sdk_controls(MODELS[model].is_color)
    assert ("MonoBin" in [c[0] for c in got]) == MODELS[model].is_color
    fan = {c.name: c for c in cam.controls()}["FanPower"]
    assert fan.default == 50  # carbon fibre body: the manual's 50 %


def test_get_and_set_control() -> None:
    with SimulatedCamera(MODELS["Zeus 455C PRO"]) as cam:
        assert cam.get_control("FanPower") == (70.0, False)  # aluminium: 70 %
        assert cam.get_control("LensHeaterPower") == (10.0, False)
        cam.set_control("Gain", 250, auto=True)
        assert cam.gain() == 250 and cam.get_control("Gain") == (250.0, True)
        cam.set_control("Offset", 77)
        assert cam.offset() == 77 and cam.get_control("Offset")[0] == 77
        cam.set_control("PixelBinSum", 1)
        assert cam.get_control("PixelBinSum") == (1.0, False)
        cam.set_control("FanPower", 30, auto=True)  # auto not supported: ignored
        assert cam.get_control("FanPower") == (30.0, False)
        for name, value in (("Gain", 601), ("USBBandWidthLimit", 20), ("MonoBin", 0.5),
                            ("FanPower", float("nan")), ("Nonsense", 1)):
            with pytest.raises(CameraError):
                cam.set_control(name, value)
        with pytest.raises(CameraError, match="no setting"):
            cam.get_control("Nonsense")
    with pytest.raises(CameraError, match="not connected"):
        cam.get_control("Gain")


def test_pixel_bin_sum_sums_instead_of_averaging() -> None:
    """Bin 2: summing gives 4× the bias level (as the fake SDK's) and 2× the noise of one pixel
    where averaging gives the level and half the noise."""
    opts = SimOptions(star_scale=0.0, sky_e_per_s=0.0)
    with SimulatedCamera(MODELS["Zeus 455M PRO"], options=opts) as cam:
        cam.set_roi(0, 0, 256, 256, 2)
        cam.set_gain(300)
        cam.set_offset(200)
        avg = shoot(cam).astype(np.float64)
        cam.set_control("PixelBinSum", 1)
        summed = shoot(cam).astype(np.float64)
    assert avg.mean() == pytest.approx(800, abs=2)
    assert summed.mean() == pytest.approx(3200, abs=8)
    assert summed.std() / avg.std() == pytest.approx(4.0, rel=0.05)


def test_presets_and_unity_gain() -> None:
    for spec in MODELS.values():
        presets = SimulatedCamera(spec).gain_presets()
        assert tuple(p.key for p in presets) == PRESET_KEYS
        assert [(p.gain, p.offset) for p in presets][0] == (0, 20)  # the manual's Zero 0/20
        unity = presets[2].gain
        assert e_per_adu(spec, unity) == pytest.approx(1.0, abs=0.04), spec.model
    zeus = SimulatedCamera(MODELS["Zeus 455M PRO"]).gain_presets()
    assert zeus[1].gain == 125  # the scan's HCG 125 for IMX455


def test_sensor_modes_only_where_the_manual_lists_them() -> None:
    with_modes = {m for m, s in MODELS.items() if SimulatedCamera(s).sensor_modes()}
    assert with_modes == {"Zeus 455M PRO", "Zeus 455C PRO", "Poseidon-M PRO", "Poseidon-C PRO",
                          "Ares-M PRO", "Ares-C PRO"}
    with SimulatedCamera(MODELS["Uranus-M PRO"]) as cam:
        with pytest.raises(CameraError, match="no sensor modes"):
            cam.set_sensor_mode(1)
    with SimulatedCamera(MODELS["Ares-M PRO"]) as cam:
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


def hot_positions(cam: SimulatedCamera) -> set[tuple[int, int]]:
    data = shoot(cam, 0.3).astype(np.float64)
    med = np.median(data)
    sigma = 1.4826 * np.median(np.abs(data - med))
    ys, xs = np.nonzero(data > med + 30 * sigma)
    return set(zip(ys.tolist(), xs.tolist()))


def test_flip_mirrors_the_delivered_frame() -> None:
    """Hot pixels (fixed on the sensor) land mirrored within the ROI: x -> w-1-x, y -> h-1-y."""
    opts = SimOptions(star_scale=0.0, sky_e_per_s=0.0, ambient_c=50.0)
    with SimulatedCamera(MODELS[SMALL], options=opts) as cam:
        assert cam.can_flip() and cam.flip() == (False, False)
        cam.set_roi(100, 50, 1200, 900, 1)
        cam.set_gain(400)
        cam.set_offset(300)
        plain = hot_positions(cam)
        assert len(plain) >= 5
        cam.set_flip(True, False)
        assert cam.flip() == (True, False)
        assert hot_positions(cam) == {(y, 1199 - x) for y, x in plain}
        cam.set_flip(True, True)
        assert hot_positions(cam) == {(899 - y, 1199 - x) for y, x in plain}


def test_information() -> None:
    cam = SimulatedCamera(MODELS[SMALL])
    assert cam.usb_link() == "USB3"
    assert cam.sdk_version().startswith("simulator ")
    with cam:
        assert cam.dropped_frames() == 0
        cam.inject_fault("corrupt_next_frame")
        cam.start_exposure(MIN_EXP)
        with pytest.raises(CameraError, match="corrupt"):
            cam.wait_frame(timeout=5)
        assert cam.dropped_frames() == 1
    with cam:
        assert cam.dropped_frames() == 0  # counted since open


def test_guide_needs_an_st4_port_and_moves_the_stars() -> None:
    with SimulatedCamera(MODELS[SMALL]) as cam:
        with pytest.raises(CameraError, match="no ST4"):
            cam.guide("N", True)
    with SimulatedCamera(MODELS[SMALL], options=SimOptions(st4=True)) as cam:
        assert cam.info.has_st4
        with pytest.raises(CameraError):
            cam.guide("X", True)
        cam.guide("W", True)
        time.sleep(0.5)
        cam.guide("W", False)
        log = cam.guide_log()
        assert [(d, on) for d, on, _ in log] == [("W", True), ("W", False)]
        pulse = log[1][2] - log[0][2]
        settings = cam._frame_settings(1.0)  # what the next exposure will show
        assert settings.star_shift == pytest.approx((2.0 * pulse, 0.0))
        # measured in frames: a bright star's centroid moves by the pulse × 2 px/s
        cam.set_gain(300)
        cam.set_offset(200)
        xs, ys, rates = cam.star_field
        inner = (xs > 20) & (xs < 1580) & (ys > 20) & (ys < 1080)
        i = int(np.argmax(np.where(inner, rates, 0)))  # the brightest star clear of the edges
        before = centroid(shoot(cam, 0.3), xs[i] + 2.0 * pulse, ys[i])
        cam.guide("W", True)
        time.sleep(1.0)
        cam.guide("W", False)
        moved = cam.guide_log()[-1][2] - cam.guide_log()[-2][2]
        after = centroid(shoot(cam, 0.3), xs[i] + 2.0 * pulse, ys[i])
        assert after[0] - before[0] == pytest.approx(2.0 * moved, abs=0.2)
        assert after[1] == pytest.approx(before[1], abs=0.2)


def centroid(data: np.ndarray, x: float, y: float, half: int = 8) -> tuple[float, float]:
    """Flux-weighted centre of a box around (x, y), background = the box's median."""
    xi, yi = int(x), int(y)
    box = data[yi - half:yi + half + 1, xi - half:xi + half + 1].astype(np.float64)
    flux = np.clip(box - np.median(box), 0, None)
    yy, xx = np.mgrid[yi - half:yi + half + 1, xi - half:xi + half + 1]
    return float((flux * xx).sum() / flux.sum()), float((flux * yy).sum() / flux.sum())


# -- options -------------------------------------------------------------------------------------
def test_options_parse() -> None:
    o = parse_options(" ambient=5, cooler_tau=0.5,tilt=20:-10 ,focus=15,fratio=4,seeing=2.2px,"
                      "sky=3,stars=0,no12v,st4")
    assert o == SimOptions(ambient_c=5.0, cooler_tau_s=0.5, tilt_um=(20.0, -10.0), focus_um=15.0,
                           fratio=4.0, seeing_px=2.2, sky_e_per_s=3.0, star_scale=0.0,
                           no_12v=True, st4=True)
    assert parse_options("") == SimOptions()
    for bad in ("ambient", "ambient=hot", "tilt=5", "fratio=0", "cooler_tau=-1", "colour=red",
                "no12v=0", "seeing=nan"):
        with pytest.raises(ValueError, match="INDI_PLAYERONE_SIM_OPTIONS"):
            parse_options(bad)


def test_registry_passes_options_and_fault_file(monkeypatch: pytest.MonkeyPatch,
                                                tmp_path: Path) -> None:
    monkeypatch.setenv("INDI_PLAYERONE_SIM_OPTIONS", "ambient=7,no12v")
    monkeypatch.setenv("INDI_PLAYERONE_SIM_FAULT_FILE", str(tmp_path / "faults"))
    (cam,) = simulated_cameras("Ares-C PRO")
    assert cam.options.ambient_c == 7.0 and cam.options.no_12v
    assert cam._faults.path == tmp_path / "faults"
    monkeypatch.setenv("INDI_PLAYERONE_SIM_OPTIONS", "warp=9")
    with pytest.raises(ValueError, match="warp"):
        simulated_cameras("Ares-C PRO")
    assert simulated_cameras("") == []  # options are not even read without cameras


# -- the fault file ------------------------------------------------------------------------------
def test_fault_lines_parse() -> None:
    assert parse_line("unplug_after=3@SIM-X") is not None
    line = parse_line("  never_ready = 2 @ SIM-ARES-C-PRO-0001  # comment")
    assert line is not None and (line.name, line.arg, line.serial) == \
        ("never_ready", 2, "SIM-ARES-C-PRO-0001")
    assert parse_line("# only a comment") is None and parse_line("") is None
    for bad in ("melt", "timeout=x", "timeout=-1"):
        with pytest.raises(ValueError):
            parse_line(bad)


def test_fault_file_lines_are_applied_once_in_order(tmp_path: Path,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "faults"
    reader = FaultFile(path, "SIM-A", interval_s=0.0)
    assert reader.poll() == []  # no file yet
    path.write_text("no_12v\nbogus\ntimeout=2@SIM-B\n")
    with caplog.at_level(logging.WARNING):
        assert [f.name for f in reader.poll()] == ["no_12v"]
    assert "bogus" in caplog.text
    os.utime(path)  # touched, nothing new: nothing re-applied
    assert reader.poll() == []
    with path.open("a") as f:
        f.write("12v\nreplug@SIM-A\n")
    assert [(f.name, f.serial) for f in reader.poll()] == [("12v", None), ("replug", "SIM-A")]


@pytest.fixture
def faulty(tmp_path: Path) -> Iterator[tuple[SimulatedCamera, Callable[[str], None]]]:
    path = tmp_path / "faults"
    path.write_text("")
    cam = SimulatedCamera(MODELS[SMALL], options=SimOptions(cooler_tau_s=0.05), fault_file=path)

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
    with pytest.raises(CameraError, match="not found"):
        cam.open()
    append("replug")
    cam.open()
    shoot(cam)
    cam.start_exposure(1.0)
    append("unplug")  # during an exposure: the waiter learns why
    with pytest.raises(CameraError, match="unplugged"):
        cam.wait_frame(timeout=5)
    append("replug")
    cam.open()
    shoot(cam)


def test_fault_file_never_ready_timeout_and_none(faulty) -> None:
    cam, append = faulty
    append("never_ready")
    cam.start_exposure(MIN_EXP)
    with pytest.raises(CameraTimeout):
        cam.wait_frame(timeout=1.0)
    assert cam.is_exposing()  # still "exposing", as in the field failure
    cam.abort_exposure()
    with pytest.raises(ExposureAborted):
        cam.wait_frame(timeout=1.0)
    append("none")
    shoot(cam)
    append("timeout=1")
    cam.start_exposure(MIN_EXP)
    with pytest.raises(CameraError, match="timed out"):
        cam.wait_frame(timeout=5)
    assert cam.dropped_frames() == 1
    shoot(cam)  # the count ran out


def test_fault_file_transfer_faults_and_12v(faulty) -> None:
    cam, append = faulty
    append("corrupt_next_frame")
    cam.start_exposure(MIN_EXP)
    with pytest.raises(CameraError, match="corrupt"):
        cam.wait_frame(timeout=5)
    append("short_next_frame")
    cam.start_exposure(MIN_EXP)
    with pytest.raises(CameraError, match="short"):
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


def test_fault_file_targets_one_serial(tmp_path: Path) -> None:
    path = tmp_path / "faults"
    path.write_text("")
    one = SimulatedCamera(MODELS[SMALL], index=1, fault_file=path)
    two = SimulatedCamera(MODELS[SMALL], index=2, fault_file=path)
    with one, two:
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
