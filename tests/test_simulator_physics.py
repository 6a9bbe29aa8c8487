"""The simulator's physics, measured from its frames as one would measure a real camera.

Every figure is computed from frames (differences of bias frames, flat pairs, darks at several
temperatures, star profiles) or from the temperature readings, and compared with the model table
(the manual's numbers in ``camera/models.py``, the assumptions in ``camera/sim_sensor.py`` and
``camera/sim_thermal.py``). Tolerances are stated per test. Frames are converted to native ADC
units (``value / 2**(16 - adc_bits)``) before any statistic.

Frames are real-time: a 1 s exposure takes 1 s, so exposures are short, ROIs small and covered
cameras (``stars=0``) are used where stars would only get in the way.
"""
from __future__ import annotations

import math
import time

import numpy as np
import pytest

from indi_playerone.camera.models import MODELS, ModelSpec
from indi_playerone.camera.sim_ddr import DdrBuffer
from indi_playerone.camera.sim_options import SimOptions
from indi_playerone.camera.sim_sensor import (
    DDR_BYTES, dark_e_per_s, e_per_adu, hcg_gain, read_noise_e, unity_gain,
)
from indi_playerone.camera.simulator import SimulatedCamera
from helpers.waiting import wait_until

BIAS_S = 32e-6  # the manual's shortest exposure: a bias frame
COVERED = SimOptions(star_scale=0.0, sky_e_per_s=0.0)


def native(camera: SimulatedCamera, seconds: float) -> tuple[np.ndarray, float]:
    """One frame in native ADC units (float) and its sensor temperature."""
    camera.start_exposure(seconds)
    frame = camera.wait_frame(timeout=seconds + 10)
    try:
        data = frame.data.astype(np.float64) / 2 ** (16 - camera.spec.adc_bits)
        return data, frame.temperature_c
    finally:
        frame.release()


def clipped_mean(data: np.ndarray, k: float = 6.0) -> float:
    """Mean of the pixels within k robust sigmas of the median (hot pixels and stars out)."""
    med = np.median(data)
    sigma = 1.4826 * np.median(np.abs(data - med))
    return float(data[np.abs(data - med) <= k * max(sigma, 0.5)].mean())


# -- read noise, conversion gain, full well, QE, bias ------------------------------------------
@pytest.mark.parametrize("name", ["Zeus 455M PRO", "Poseidon-M PRO", "Ares-M PRO",
                                  "Apollo-428M MAX PRO"])
def test_read_noise_follows_the_manual_with_the_hcg_step(name: str) -> None:
    """Read noise = std(bias1 - bias2) / √2, quantisation (1/12 ADU²) removed, × e-/ADU.

    Tolerance 4 % of the model (512×512 pixels: the statistic itself is good to ~0.3 %);
    points where the noise is below 0.5 ADU are skipped (quantisation-limited). The manual's
    range is met at its ends (gain 0 and 600) within 4 %, and the HCG switch drops the noise
    by more than 1.5× between HCG−1 and HCG."""
    spec = MODELS[name]
    hcg = hcg_gain(spec)
    measured: dict[int, float] = {}
    with SimulatedCamera(spec, options=COVERED) as cam:
        cam.set_roi(0, 0, 512, 512, 1)
        cam.set_offset(300)
        for gain in (0, hcg - 1, hcg, 600):
            cam.set_gain(gain)
            a, _ = native(cam, BIAS_S)
            b, _ = native(cam, BIAS_S)
            var_adu = (a - b).var() / 2 - 1 / 12
            if var_adu < 0.25:
                continue
            measured[gain] = math.sqrt(var_adu) * e_per_adu(spec, gain)
    for gain, rn in measured.items():
        assert rn == pytest.approx(read_noise_e(spec, gain), rel=0.04), gain
    low_gain_end, high_gain_end = spec.read_noise_e
    assert measured[0] == pytest.approx(low_gain_end, rel=0.04)
    assert measured[600] == pytest.approx(high_gain_end, rel=0.04)
    assert measured[hcg - 1] / measured[hcg] > 1.5


def flat_stats(cam: SimulatedCamera, seconds: float) -> tuple[float, float, float]:
    """(signal ADU above bias, shot-noise variance ADU², read-noise variance ADU²) from a
    flat pair and a bias pair."""
    f1, _ = native(cam, seconds)
    f2, _ = native(cam, seconds)
    b1, _ = native(cam, BIAS_S)
    b2, _ = native(cam, BIAS_S)
    signal = (f1.mean() + f2.mean() - b1.mean() - b2.mean()) / 2
    read_var = (b1 - b2).var() / 2
    return signal, (f1 - f2).var() / 2 - read_var, read_var


@pytest.mark.parametrize("gain", ["unity", 0, 300])
def test_photon_transfer_gives_the_model_conversion_gain_and_qe(gain: int | str) -> None:
    """e-/ADU = signal / shot-noise variance from flat pairs (Ares-M PRO, 14 bit, 512×512,
    uniform light of 40,000 e-/s before QE): within 3 % of the model, and ≈ 1 at the unity
    preset (the manual's "Standard / Unity gain"). QE = signal e- / photons, within 3 % of the
    manual's ≈91 %."""
    spec = MODELS["Ares-M PRO"]
    sky = 40_000.0
    with SimulatedCamera(spec, options=SimOptions(star_scale=0.0, sky_e_per_s=sky)) as cam:
        cam.set_roi(0, 0, 512, 512, 1)
        cam.set_offset(200)
        g = unity_gain(spec) if gain == "unity" else int(gain)
        assert g == next(p.gain for p in cam.gain_presets() if p.key == "unity") or gain != "unity"
        cam.set_gain(g)
        seconds = 0.25 if g < 200 else 0.05  # stay well inside the ADC range
        signal, shot_var, _ = flat_stats(cam, seconds)
    epa = signal / shot_var
    assert epa == pytest.approx(e_per_adu(spec, g), rel=0.03)
    if gain == "unity":
        assert epa == pytest.approx(1.0, rel=0.03)
    qe = signal * epa / (sky * seconds)
    assert qe == pytest.approx(spec.qe_peak, rel=0.03)


def test_full_well_fills_the_adc_at_gain_zero() -> None:
    """An overexposed flat at gain 0 reads the ADC's top code, which is the full well in e-
    (the manual's 73 ke for the Ares-M, within one ADU = 4.5 e-)."""
    spec = MODELS["Ares-M PRO"]
    with SimulatedCamera(spec, options=SimOptions(star_scale=0.0, sky_e_per_s=1e7)) as cam:
        cam.set_roi(0, 0, 256, 256, 1)
        cam.set_gain(0)
        data, _ = native(cam, 0.05)  # 455 ke- of light: six wells
    assert data.min() == data.max() == 2 ** spec.adc_bits - 1
    assert (data.max() + 1) * e_per_adu(spec, 0) == pytest.approx(spec.full_well_e, abs=5)


@pytest.mark.parametrize("name", ["Zeus 455M PRO", "Uranus-M PRO"])
def test_bias_level_equals_the_offset(name: str) -> None:
    """Mean bias (16-bit output units) = 4 × offset, as the fake SDK's; within 0.5 ADU16 for
    the 16-bit Zeus, within half a 12-bit step (8 ADU16) for the Uranus."""
    spec = MODELS[name]
    tol = 0.5 if spec.adc_bits == 16 else 8
    with SimulatedCamera(spec, options=COVERED) as cam:
        cam.set_roi(0, 0, 512, 512, 1)
        cam.set_gain(300)
        for offset in (50, 300, 1000):
            cam.set_offset(offset)
            data, _ = native(cam, BIAS_S)
            assert data.mean() * 2 ** (16 - spec.adc_bits) == pytest.approx(4 * offset, abs=tol)


# -- dark current and hot pixels ------------------------------------------------------------------
def test_dark_current_doubles_every_six_degrees() -> None:
    """Dark e-/s = (clipped mean of a 1 s dark - that of a bias) × e-/ADU, at sensor
    temperatures 28, 34 and 40 °C (the cooler holds them; ambient 45 °C; 0.25–1 e- of dark
    signal against a 0.002 e- error of each mean over 1 Mpx). Within 6 % of the model's
    0.01 e-/s × 2^(T/6) at each temperature, and each 6 °C step doubles it (ratio 2, within
    8 %)."""
    spec = MODELS["Ares-M PRO"]
    opts = SimOptions(star_scale=0.0, sky_e_per_s=0.0, ambient_c=45.0, cooler_tau_s=0.02)
    rates = []
    with SimulatedCamera(spec, options=opts) as cam:
        cam.set_roi(0, 0, 1024, 1024, 1)
        cam.set_gain(300)
        cam.set_offset(300)
        epa = e_per_adu(spec, 300)
        for target in (40.0, 34.0, 28.0):
            cam.set_cooler(True, target)
            assert wait_until(lambda: abs(cam.temperature() - target) < 0.01)
            dark, temp = native(cam, 1.0)
            bias, _ = native(cam, BIAS_S)
            rate = (clipped_mean(dark) - clipped_mean(bias)) * epa / 1.0
            assert rate == pytest.approx(dark_e_per_s(temp), rel=0.06)
            rates.append(rate)
    assert rates[0] / rates[1] == pytest.approx(2.0, rel=0.08)
    assert rates[1] / rates[2] == pytest.approx(2.0, rel=0.08)


def hot_set(cam: SimulatedCamera) -> set[tuple[int, int]]:
    """Pixels 30 robust sigmas above the median of a 0.5 s dark at 50 °C."""
    data, _ = native(cam, 0.5)
    med = np.median(data)
    sigma = 1.4826 * np.median(np.abs(data - med))
    ys, xs = np.nonzero(data > med + 30 * sigma)
    return set(zip(ys.tolist(), xs.tolist()))


def test_hot_pixels_are_fixed_per_serial_number() -> None:
    """The same serial number gives the same hot pixels (two frames, two camera objects);
    another serial gives others (overlap under 10 %). Apollo-M MAX PRO, full frame, 50 °C."""
    spec = MODELS["Apollo-M MAX PRO"]
    opts = SimOptions(star_scale=0.0, sky_e_per_s=0.0, ambient_c=50.0)
    sets = []
    for index in (1, 1, 2):
        with SimulatedCamera(spec, index=index, options=opts) as cam:
            cam.set_gain(400)
            cam.set_offset(300)
            sets.append((hot_set(cam), hot_set(cam)))
    (a1, a2), (b1, _), (c1, _) = sets
    assert len(a1) >= 10
    assert a1 == a2 == b1
    assert len(a1 & c1) < 0.1 * len(a1)


# -- sensor modes and timing ----------------------------------------------------------------------
def test_low_noise_mode_reads_quieter() -> None:
    """IMX533: bias-difference noise in Low Noise / Normal = 0.8 (the fake SDK's factor), within
    3 %. The Uranus (IMX585) has no modes."""
    spec = MODELS["Ares-M PRO"]
    noise = []
    with SimulatedCamera(spec, options=COVERED) as cam:
        assert cam.sensor_modes() == ("Normal", "Low Noise")
        cam.set_roi(0, 0, 512, 512, 1)
        cam.set_gain(0)
        cam.set_offset(300)
        for mode in (0, 1):
            cam.set_sensor_mode(mode)
            a, _ = native(cam, BIAS_S)
            b, _ = native(cam, BIAS_S)
            noise.append(math.sqrt((a - b).var() / 2 - 1 / 12))
    assert noise[1] / noise[0] == pytest.approx(0.8, rel=0.03)
    assert SimulatedCamera(MODELS["Uranus-M PRO"]).sensor_modes() == ()


def readout(cam: SimulatedCamera) -> float:
    start = time.monotonic()
    cam.start_exposure(BIAS_S)
    cam.wait_frame(timeout=10).release()
    return time.monotonic() - start


def test_readout_time_follows_the_table_fps() -> None:
    """Zeus 455M PRO, full frame at 8 bit (61 MB): the sensor reads in 1/6.5 s = 0.154 s (the
    manual's 6.5 fps), the USB 3 link moves it in 0.153 s, so the frame comes ≥ 0.154 s after a
    bias exposure; in Low Noise mode the sensor is twice as slow (≥ 0.308 s, and ≈ 0.154 s
    later than Normal: within 0.1 s, which is CPU time for rendering on a shared machine);
    with USBBandWidthLimit 50 % the link takes 0.306 s. Only lower bounds and differences:
    upper bounds would time the machine, not the model."""
    spec = MODELS["Zeus 455M PRO"]
    frame_s = 1 / spec.max_fps
    with SimulatedCamera(spec, options=COVERED) as cam:
        cam.set_format(8)
        readout(cam)  # warm-up: noise pools, the slot's pages
        normal = min(readout(cam) for _ in range(2))
        cam.set_sensor_mode(1)
        low_noise = min(readout(cam) for _ in range(2))
        cam.set_sensor_mode(0)
        cam.set_control("USBBandWidthLimit", 50)
        slow_link = readout(cam)
    assert normal >= frame_s
    assert low_noise >= 2 * frame_s
    assert low_noise - normal == pytest.approx(frame_s, abs=0.1)
    assert slow_link >= 2 * spec.width * spec.height / 400e6


def test_ddr_buffer_drops_frames_when_the_host_does_not_collect() -> None:
    """The camera's 512 MB buffer holds ⌊512 MiB / frame⌋ frames while the link is stalled (the
    host collects nothing); every further frame off the sensor is dropped and counted. A frame
    sent to the host frees its space. Apollo-M MAX PRO 16-bit frames: 3.55 MB, 151 fit."""
    spec = MODELS["Apollo-M MAX PRO"]
    nbytes = spec.width * spec.height * 2
    ddr = DdrBuffer()
    fit = DDR_BYTES // nbytes
    assert fit == ddr.frames_that_fit(nbytes) == 151
    kept = [ddr.offer(seq, nbytes) for seq in range(200)]  # 200 frames at the sensor's rate
    assert kept == [True] * fit + [False] * (200 - fit)
    assert ddr.dropped == 200 - fit and len(ddr) == fit
    assert ddr.next_for_link() == 0
    ddr.sent()  # the host took one: room for exactly one more
    assert ddr.offer(200, nbytes) and not ddr.offer(201, nbytes)
    assert ddr.dropped == 200 - fit + 1
    with SimulatedCamera(spec) as cam:
        cam._ddr.offer(0, DDR_BYTES + 1)  # a frame larger than the buffer never fits
        assert cam.dropped_frames() == 1


def test_video_frames_the_host_does_not_collect_are_dropped_and_counted() -> None:
    """Video at the table's 126 fps (Apollo-M MAX PRO, 8 bit, 1.8 MB frames) while the host
    collects nothing for 2.5 s: the buffers fill (≈ 1.1–2.3 s of frames, depending on how much
    of the buffering is counted as the camera's) and ``dropped_frames()`` counts the rest
    (engineer C's video capture; skipped where the simulator has none)."""
    spec = MODELS["Apollo-M MAX PRO"]
    with SimulatedCamera(spec) as cam:
        if not hasattr(cam, "video_counters"):
            pytest.skip("the simulator has no video mode yet")
        cam.set_format(8)
        cam.start_video(0.001)
        try:
            cam.video_frame(timeout=5).release()
            assert cam.dropped_frames() == 0
            time.sleep(2.5)
            dropped = cam.dropped_frames()
        finally:
            cam.stop_video()
    assert dropped > 0.1 * 2.5 * spec.max_fps


# -- cooling ----------------------------------------------------------------------------------
def settle(cam: SimulatedCamera, seconds: float = 0.6) -> float:
    """The temperature after ``seconds`` (≥ 10 time constants of 0.05 s)."""
    time.sleep(seconds)
    return cam.temperature()


def test_cooling_reaches_the_manual_delta_t_at_full_fan_less_at_half_and_with_the_heater() -> None:
    """Zeus 455M PRO (manual: −35 °C ±2 below ambient), τ = 0.05 s, ambient 20 °C, target far
    below reach: ΔT at 100 % fan and heater 0 = 35 °C (within the manual's ±2, and within
    0.1 °C of the model); 50 % fan gives less (model 26.25 °C); the anti-dew heater at 100 %
    lowers ΔT (model by 2 °C). Cooler power is 100 % while pulling down, and with the sensor
    held at a setpoint it rises with ΔT."""
    spec = MODELS["Zeus 455M PRO"]
    with SimulatedCamera(spec, options=SimOptions(cooler_tau_s=0.05)) as cam:
        cam.set_control("LensHeaterPower", 0)
        cam.set_control("FanPower", 100)
        cam.set_cooler(True, -60.0)
        assert cam.cooler_power() == 100.0  # pulling down
        full = 20.0 - settle(cam)
        assert full == pytest.approx(spec.cooling_delta_c, abs=2.0)  # the manual's tolerance
        assert full == pytest.approx(35.0, abs=0.1)
        cam.set_control("FanPower", 50)
        half = 20.0 - settle(cam)
        assert half == pytest.approx(26.25, abs=0.1) and half < full - 5
        cam.set_control("FanPower", 100)
        cam.set_control("LensHeaterPower", 100)
        heated = 20.0 - settle(cam)
        assert heated == pytest.approx(full - 2.0, abs=0.1)
        powers = []
        for delta in (10.0, 20.0, 30.0):
            cam.set_cooler(True, 20.0 - delta)
            settle(cam)
            powers.append(cam.cooler_power())
        assert powers[0] < powers[1] < powers[2] <= 100.0


def test_cooling_follows_a_first_order_curve_with_a_time_constant_of_minutes() -> None:
    """With τ = 0.5 s the temperature after one τ has covered 1 − 1/e = 63 % of the step
    (within 8 %: sampling at 10 ms); with the default τ (120 s) a second of cooling moves it
    less than 0.5 °C."""
    spec = MODELS["Poseidon-M PRO"]
    with SimulatedCamera(spec, options=SimOptions(cooler_tau_s=0.5)) as cam:
        cam.set_control("FanPower", 100)
        cam.set_control("LensHeaterPower", 0)
        cam.set_cooler(True, -100.0 + 60)  # -40 °C: below the reach of 20 - 40 = -20 °C
        start = time.monotonic()
        time.sleep(0.5)
        t1 = cam.temperature()
        elapsed = time.monotonic() - start
        covered = (20.0 - t1) / 40.0
        assert covered == pytest.approx(1 - math.exp(-elapsed / 0.5), rel=0.08)
    with SimulatedCamera(spec) as cam:
        cam.set_cooler(True, -20.0)
        time.sleep(1.0)
        assert 0.0 < 20.0 - cam.temperature() < 0.5


def test_no_cooling_without_the_12v_supply() -> None:
    """Option ``no12v``: the cooler can be switched on, but the sensor stays at ambient and the
    cooler power reads 0 (the manual: the camera images but cannot cool); frames still come."""
    spec = MODELS["Ares-M PRO"]
    with SimulatedCamera(spec, options=SimOptions(cooler_tau_s=0.05, no_12v=True)) as cam:
        cam.set_cooler(True, -10.0)
        assert settle(cam) == pytest.approx(20.0, abs=0.01)
        assert cam.cooler_power() == 0.0
        cam.set_roi(0, 0, 256, 256, 1)
        native(cam, BIAS_S)


# -- star field and tilt ----------------------------------------------------------------------
def star_fwhm(data: np.ndarray, x: float, y: float, half: int = 6) -> float | None:
    """FWHM (px) from the second moments of a star's (2·half+1)² box, the background being the
    median of a 3-pixel ring around the box (noise is left in: clipping it would bias)."""
    xi, yi = int(round(x)), int(round(y))
    h = half + 3
    if not (h <= xi < data.shape[1] - h and h <= yi < data.shape[0] - h):
        return None
    big = data[yi - h:yi + h + 1, xi - h:xi + h + 1]
    ring = np.ones(big.shape, dtype=bool)
    ring[3:-3, 3:-3] = False
    flux = big[3:-3, 3:-3] - np.median(big[ring])
    total = flux.sum()
    if total <= 0:
        return None
    yy, xx = np.mgrid[-half:half + 1, -half:half + 1]
    cx, cy = (flux * xx).sum() / total, (flux * yy).sum() / total
    var = ((flux * ((xx - cx) ** 2 + (yy - cy) ** 2)).sum() / total - 1 / 6) / 2  # pixel box
    return 2.3548 * math.sqrt(max(var, 0.0))


def measured_fwhms(spec: ModelSpec, opts: SimOptions) -> list[tuple[float, float, float]]:
    """(x, measured FWHM, model FWHM) of the bright, isolated stars of one 16-bit frame."""
    with SimulatedCamera(spec, options=opts) as cam:
        cam.set_gain(200)
        cam.set_offset(100)
        data, _ = native(cam, 1.0)
        xs, ys, rates = cam.star_field
        model = cam._synth.fwhm_at(xs, ys)
    out = []
    for i in np.flatnonzero(rates > 5000):
        others = np.hypot(xs - xs[i], ys - ys[i])
        if np.sort(others)[1] < 25:  # a neighbour inside the box
            continue
        fwhm = star_fwhm(data, xs[i] - 0.5, ys[i] - 0.5)
        if fwhm is not None:
            out.append((float(xs[i]), fwhm, float(model[i])))
    return out


def test_sensor_tilt_makes_fwhm_vary_across_the_field() -> None:
    """Zeus 455M PRO full frame, seeing 2.5 px, f/4, tilt 80 µm from left to right edge: star
    FWHM measured from second moments (bright isolated stars, 1 s) matches the model
    (√(seeing² + (|z|/N/pixel)²)): median ratio within 5 %, 90 % of the stars within 15 %
    (the moments of a 13×13 box carry the noise); stars near the left and right edges are
    wider than near the centre (model: 3.5 against 2.5 px); untilted, the left and right
    thirds agree within 6 % and match the seeing within 6 %."""
    spec = MODELS["Zeus 455M PRO"]
    tilted = measured_fwhms(spec, SimOptions(seeing_px=2.5, fratio=4.0, tilt_um=(80.0, 0.0)))
    assert len(tilted) >= 20
    ratios = np.array([m / f for _, m, f in tilted])
    assert np.median(ratios) == pytest.approx(1.0, abs=0.05)
    assert np.mean(np.abs(ratios - 1) < 0.15) >= 0.9
    w = spec.width
    edges = [m for x, m, _ in tilted if abs(x - w / 2) > 0.35 * w]
    centre = [m for x, m, _ in tilted if abs(x - w / 2) < 0.15 * w]
    assert edges and centre and np.mean(edges) > np.mean(centre) + 0.6
    flat = measured_fwhms(spec, SimOptions(seeing_px=2.5))
    left = [m for x, m, _ in flat if x < w / 3]
    right = [m for x, m, _ in flat if x > 2 * w / 3]
    assert np.mean(left) == pytest.approx(np.mean(right), rel=0.06)
    assert np.mean(left) == pytest.approx(2.5, rel=0.06)
