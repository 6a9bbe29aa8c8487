"""The simulated SDK's physics that the manual gives no number for, at the C level through ctypes:
hot pixels fixed per serial number, the Low Noise sensor mode, readout time from the table's fps
and the USB link (USB 3 / USB 2, the bandwidth limit), the camera's DDR buffer and its dropped
frames, the star field's seeing, defocus and tilt. The figures the manual does give (read noise,
e-/ADU, full well, QE, bias, the cooler) are measured through the driver in
``test_simsdk_fidelity.py``.

Times are the wall clock at the receiving end (``time.monotonic()`` around the SDK calls), never
anything the library says about itself; bounds leave room for a loaded 2-core machine.
"""
from __future__ import annotations

import ctypes
import time
from collections.abc import Iterator

import numpy as np
import pytest

from helpers.simsdk_api import (
    EXP, GUIDE_NORTH, ID0, ID1, RAW8, RAW16, grab, ok, open_cam, properties, set_float, set_int,
    small_roi, snap,
)

GAIN, OFFSET, USB_BANDWIDTH = 1, 7, 28


@pytest.fixture
def sim(lib: ctypes.CDLL, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[ctypes.CDLL, pytest.MonkeyPatch]]:
    for var in ("INDI_PLAYERONE_SIM_OPTIONS", "INDI_PLAYERONE_SIM_FAULT_FILE", "INDI_PLAYERONE_SIM_FAULT_LOG"):
        monkeypatch.delenv(var, raising=False)
    lib.SimPOA_Reset()
    yield lib, monkeypatch
    lib.SimPOA_Reset()


def cameras(sim: tuple[ctypes.CDLL, pytest.MonkeyPatch], models: str, options: str = "") -> ctypes.CDLL:
    lib, monkeypatch = sim
    monkeypatch.setenv("INDI_PLAYERONE_SIMULATE", models)
    monkeypatch.setenv("INDI_PLAYERONE_SIM_OPTIONS", options)
    assert lib.POAGetCameraCount() == len(models.split(","))
    return lib


def frame16(lib: ctypes.CDLL, cid: int, seconds: float) -> np.ndarray:
    return np.frombuffer(snap(lib, cid, seconds, timeout_ms=int(seconds * 1000) + 20000), dtype=np.uint16).astype(float)


def timed_snap(lib: ctypes.CDLL, cid: int, seconds: float) -> float:
    """Wall time from POAStartExposure to the frame in the host's buffer."""
    ok(set_float(lib, cid, EXP, seconds))
    t0 = time.monotonic()
    ok(lib.POAStartExposure(cid, 1))
    ok(grab(lib, cid, 30000)[0])
    return time.monotonic() - t0


# ---- hot pixels ------------------------------------------------------------------------------------

def hot_set(lib: ctypes.CDLL, cid: int) -> set[int]:
    data = frame16(lib, cid, 1.0)
    med = np.median(data)
    return set(np.flatnonzero(data > med + 200).tolist())


def test_hot_pixels_are_fixed_per_serial_number(sim) -> None:  # type: ignore[no-untyped-def]
    """Two cameras of one model have different hot pixels; each keeps its own across frames
    and a close and reopen (the serial number fixes them)."""
    lib = cameras(sim, "Ares-M PRO,Ares-M PRO", "stars=0,sky=0")
    for cid in (ID0, ID1):
        open_cam(lib, cid)
        small_roi(lib, cid, RAW16, 1024, 1024)
        ok(set_int(lib, cid, GAIN, 300))
    first, second = hot_set(lib, ID0), hot_set(lib, ID1)
    assert len(first) >= 5 and len(second) >= 5
    assert len(first & second) <= 1
    assert hot_set(lib, ID0) == first
    ok(lib.POACloseCamera(ID0))
    open_cam(lib, ID0)
    small_roi(lib, ID0, RAW16, 1024, 1024)
    ok(set_int(lib, ID0, GAIN, 300))
    assert hot_set(lib, ID0) == first


# ---- frame-to-frame noise ---------------------------------------------------------------------------

def test_each_frame_has_noise_of_its_own(sim) -> None:  # type: ignore[no-untyped-def]
    """Three dark frames in a row: no pixel's noise is another frame's, whether compared in
    place, one row apart (the renderer draws its rows from one random stream) or as column
    means (the profile a star-field alignment correlates). 512 x 512 pixels: a correlation of
    independent frames is 0 +- 0.002 per pixel, 0 +- 0.045 over 512 column means."""
    lib = cameras(sim, "Apollo-M MAX PRO", "stars=0,sky=0")
    open_cam(lib, ID0)
    small_roi(lib, ID0, RAW16, 512, 512)
    ok(set_int(lib, ID0, GAIN, 300))
    ok(set_int(lib, ID0, OFFSET, 300))
    frames = [frame16(lib, ID0, 0.001).reshape(512, 512) for _ in range(3)]
    for a, b in ((frames[0], frames[1]), (frames[1], frames[2]), (frames[0], frames[2])):
        for shift in (0, 1, 2):
            r = np.corrcoef(a[shift:].ravel(), b[:512 - shift].ravel())[0, 1]
            assert abs(r) < 0.02, (shift, r)
        r = np.corrcoef(a.mean(axis=0), b.mean(axis=0))[0, 1]
        assert abs(r) < 0.25, r


def video16(lib: ctypes.CDLL, cid: int, shape: tuple[int, int]) -> np.ndarray:
    rc, buf = grab(lib, cid, 5000)
    ok(rc)
    return np.frombuffer(buf, dtype=np.uint16).astype(float).reshape(shape)


def centroid_x(data: np.ndarray, x: int, y: int, half: int = 10) -> float:
    """x of the light above 5 noise sigmas in a box around (x, y) (the noise clipped at zero
    would pull the centroid to the box's centre); background from a box 3 times as wide."""
    around = data[y - 3 * half:y + 3 * half + 1, x - 3 * half:x + 3 * half + 1]
    med = np.median(around)
    sigma = 1.4826 * np.median(np.abs(around - med))
    box = data[y - half:y + half + 1, x - half:x + half + 1] - med
    flux = np.where(box > 5 * sigma, box, 0.0)
    return float((flux * np.arange(x - half, x + half + 1)).sum() / flux.sum())


def test_frames_that_ended_before_a_guide_pulse_do_not_show_it(sim) -> None:  # type: ignore[no-untyped-def]
    """Video of 20 ms exposures that the host leaves in the camera's buffer; a 0.5 s pulse
    West (2 px/s: 1 px). The frames that ended before the pulse began come out where the
    stars were (the library makes frames lazily, when a call looks at the camera: a guide
    switch must not reach frames already exposed), the last ones moved by the pulse's
    length as the wall clock timed it around the two calls."""
    lib = cameras(sim, "Apollo-M MAX PRO", "st4,sky=0,stars=30")
    open_cam(lib, ID0)
    shape = (1104, 1608)
    small_roi(lib, ID0, RAW16, shape[1], shape[0])
    ok(set_int(lib, ID0, GAIN, 300))
    ok(set_float(lib, ID0, EXP, 0.02))
    ok(lib.POAStartExposure(ID0, 0))
    first = video16(lib, ID0, shape)
    d = first - np.median(first)  # the brightest 5 x 5 box: a star, not a hot pixel
    boxes = sum(np.roll(np.roll(d, dy, 0), dx, 1) for dy in range(-2, 3) for dx in range(-2, 3))
    y, x = np.unravel_index(int(np.argmax(boxes[40:-40, 40:-40])), (shape[0] - 80, shape[1] - 80))
    x, y = int(x) + 40, int(y) + 40
    x0 = centroid_x(first, x, y)
    time.sleep(0.3)  # about 15 frames end meanwhile, none looked at
    west = GUIDE_NORTH + 3
    t0 = time.monotonic()
    ok(set_int(lib, ID0, west, 1))
    t_on = time.monotonic()
    time.sleep(0.5)
    t1 = time.monotonic()
    ok(set_int(lib, ID0, west, 0))
    pulse = (t1 - t_on, time.monotonic() - t0)  # its length lies between the two
    moved = []
    while time.monotonic() < t_on + 2.0:  # the buffered frames, then about a second of new ones
        moved.append(centroid_x(video16(lib, ID0, shape), x, y) - x0)
    ok(lib.POAStopExposure(ID0))
    assert max(abs(m) for m in moved[:10]) < 0.15, moved[:10]
    assert min(moved) > -0.15, moved
    last = float(np.mean(moved[-5:]))
    assert 2 * pulse[0] - 0.1 < last < 2 * pulse[1] + 0.1, (moved[-5:], pulse)


# ---- sensor modes and readout --------------------------------------------------------------------

def test_low_noise_mode_reads_quieter_and_slower(sim) -> None:  # type: ignore[no-untyped-def]
    """Low Noise: bias-pair noise x 0.8 (assumed; the manual only says "lower"), and a full
    frame's readout twice as long (the manual: Normal mode has the faster fps)."""
    lib = cameras(sim, "Zeus 455M PRO", "stars=0,sky=0")
    open_cam(lib, ID0)

    def noise() -> float:
        small_roi(lib, ID0, RAW16, 512, 512)
        ok(set_int(lib, ID0, GAIN, 0))
        ok(set_int(lib, ID0, OFFSET, 300))
        a, b = frame16(lib, ID0, 32e-6), frame16(lib, ID0, 32e-6)
        return float((a - b).std() / np.sqrt(2))

    def readout() -> float:
        ok(lib.POASetImageFormat(ID0, RAW8))
        ok(lib.POASetImageSize(ID0, 9576, 6388))
        return min(timed_snap(lib, ID0, 32e-6) for _ in range(2))

    normal_noise, normal_time = noise(), readout()
    ok(lib.POASetSensorMode(ID0, 1))
    quiet_noise, quiet_time = noise(), readout()
    assert quiet_noise / normal_noise == pytest.approx(0.8, rel=0.03)
    # The table's 6.5 fps: 154 ms; Low Noise 308 ms (+ rendering the 61 MB frame, a few ms).
    assert 0.150 <= normal_time < 0.25 and 0.300 <= quiet_time < 0.40, (normal_time, quiet_time)


@pytest.mark.parametrize("model,fps", [("Ares-M PRO", 43), ("Apollo-M MAX PRO", 126)])
def test_video_runs_at_the_tables_fps_in_8_bit(sim, model: str, fps: float) -> None:  # type: ignore[no-untyped-def]
    """8-bit full frames, 0.1 ms exposures, every frame read: the frames arrive at the table's
    fps (the sensor's readout sets the pace), counted on the host's clock, none dropped."""
    lib = cameras(sim, model)
    open_cam(lib, ID0)
    ok(lib.POASetImageFormat(ID0, RAW8))
    ok(set_float(lib, ID0, EXP, 1e-4))
    ok(lib.POAStartExposure(ID0, 0))
    arrivals = []
    for _ in range(int(fps * 1.5)):
        ok(grab(lib, ID0, 2000)[0])
        arrivals.append(time.monotonic())
    dropped = ctypes.c_int()
    ok(lib.POAGetDroppedImagesCount(ID0, ctypes.byref(dropped)))
    ok(lib.POAStopExposure(ID0))
    rate = (len(arrivals) - 11) / (arrivals[-1] - arrivals[10])
    assert rate == pytest.approx(fps, rel=0.05) and dropped.value == 0


def test_usb2_and_the_bandwidth_limit_slow_the_transfer(sim) -> None:  # type: ignore[no-untyped-def]
    """USB 2 (option usb2, here for one camera by its serial): 40 MB/s x USBBandWidthLimit %.
    A 16-bit Ares frame (18.1 MB) takes 0.45 s at 100 %, 1.13 s at 40 % (the manual's advice
    when downloads fail); on USB 3 the sensor's 23 ms readout and 45 ms of transfer."""
    lib = cameras(sim, "Ares-M PRO,Ares-M PRO", "usb2@SIM-ARES-M-PRO-0002")
    assert [properties(lib, i)[1].isUSB3Speed for i in (0, 1)] == [1, 0]
    for cid in (ID0, ID1):
        open_cam(lib, cid)
        ok(lib.POASetImageFormat(cid, RAW16))
    assert timed_snap(lib, ID0, 32e-6) < 0.2
    assert 0.45 <= timed_snap(lib, ID1, 32e-6) < 0.6
    ok(set_int(lib, ID1, USB_BANDWIDTH, 40))
    assert 1.13 <= timed_snap(lib, ID1, 32e-6) < 1.3


# ---- the DDR buffer --------------------------------------------------------------------------------

def test_ddr_buffer_holds_512_mb_then_drops(sim) -> None:  # type: ignore[no-untyped-def]
    """Video, 8-bit Zeus full frames (61.2 MB) at 6.5 fps, the host reading nothing for 3 s: two
    frames wait on the host, eight fill the 512 MB buffer, the rest are dropped and counted;
    the ten kept frames are then read, in order, at the link's pace."""
    lib = cameras(sim, "Zeus 455M PRO")
    open_cam(lib, ID0)
    ok(lib.POASetImageFormat(ID0, RAW8))
    ok(set_float(lib, ID0, EXP, 1e-4))
    t0 = time.monotonic()
    ok(lib.POAStartExposure(ID0, 0))
    time.sleep(3.0)
    dropped = ctypes.c_int()
    ok(lib.POAGetDroppedImagesCount(ID0, ctypes.byref(dropped)))
    made = (time.monotonic() - t0 - 1e-4) * 6.5
    kept = 2 + (512 * 1024 * 1024) // (9576 * 6388)
    assert kept == 10
    assert made - kept - 1.5 <= dropped.value <= made - kept + 0.5, (made, dropped.value)
    for _ in range(kept):
        ok(grab(lib, ID0, 0 if _ < 2 else 1000)[0])
    ok(lib.POAStopExposure(ID0))


# ---- the star field --------------------------------------------------------------------------------

def star_fwhm(data: np.ndarray) -> list[tuple[float, float]]:
    """(x, FWHM) of the isolated bright stars: second moments in a 41 x 41 box."""
    bg = np.median(data)
    noise = 1.4826 * np.median(np.abs(data - bg))
    out = []
    work = data - bg
    for _ in range(60):
        y, x = np.unravel_index(int(np.argmax(work)), work.shape)
        if work[y, x] < 50 * noise:
            break
        y0, y1, x0, x1 = max(0, y - 20), min(data.shape[0], y + 21), max(0, x - 20), min(data.shape[1], x + 21)
        box = np.clip(work[y0:y1, x0:x1], 0, None)
        box = np.where(box > 3 * noise, box, 0)
        yy, xx = np.mgrid[y0:y1, x0:x1]
        s = box.sum()
        cx, cy = (box * xx).sum() / s, (box * yy).sum() / s
        var = (box * ((xx - cx) ** 2 + (yy - cy) ** 2)).sum() / s / 2
        fwhm = 2.3548 * float(np.sqrt(var))
        if 20 < x < data.shape[1] - 20 and 20 < y < data.shape[0] - 20 and fwhm > 1.0:  # not a hot pixel
            out.append((float(cx), fwhm))
        work[y0:y1, x0:x1] = 0
    return out


def test_tilt_and_defocus_blur_the_stars_where_the_sensor_is_out_of_focus(sim) -> None:  # type: ignore[no-untyped-def]
    """Seeing 2 px, f/4, the sensor tilted 300 um from its left edge to its right edge around a
    focused centre: stars at the edges are blur discs of 150 / 4 / 3.76 = 10 px, those in the
    middle third stay near the seeing."""
    lib = cameras(sim, "Ares-M PRO", "sky=0,seeing=2,fratio=4,tilt=300:0,stars=30")
    open_cam(lib, ID0)
    ok(lib.POASetImageFormat(ID0, RAW16))
    ok(set_int(lib, ID0, GAIN, 0))
    stars = star_fwhm(frame16(lib, ID0, 1.0).reshape(3008, 3008))
    middle = [f for x, f in stars if 1003 < x < 2005]
    edges = [f for x, f in stars if x < 700 or x > 2308]
    assert middle and edges, stars
    print(f"FWHM middle third {np.median(middle):.2f} px ({len(middle)} stars), outer parts "
          f"{np.median(edges):.2f} px ({len(edges)})")
    assert np.median(middle) < 4.5 and np.median(edges) > 6.0, (middle, edges)
