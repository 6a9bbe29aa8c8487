"""Video mode of a simulated camera in-process (no indiserver), through the SDK backend and the
simulated SDK library: its rate follows the single-frame readout (Low Noise halves it), its
frames honour the camera's settings (flip), the camera's DDR buffer absorbs short link stalls
and drops on long ones, and faults from the fault file reach a running stream.

Rates are read from the frames' arrival at the host (the C reader's clock when
``POAGetImageData`` returned), never from a schedule the simulated camera keeps.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from helpers.guide_log import GuideLog, guide_log_cameras
from helpers.pixels import hot_pixels, robust_level
from helpers.waiting import steady_period, wait_until as _wait_until
from indi_playerone.camera.interface import CameraError, ExposureAborted, Frame
from indi_playerone.camera.models import MODELS, ModelSpec
from indi_playerone.camera.sdk_camera import SdkCamera

SMALL = "Apollo-M MAX PRO"  # 1608 x 1104, 126 fps: small frames
MODES = "Poseidon-M PRO"  # IMX571: Normal and Low Noise
#: How far a guide pulse moves the simulated star field (native/simsdk/README.md).
GUIDE_PX_PER_S = 2.0


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    return _wait_until(predicate, timeout)


def sensor_readout_s(spec: ModelSpec, rows: int, low_noise: bool) -> float:
    """Reading ``rows`` off the sensor at the manual's full-frame rate (Low Noise: twice as long)."""
    t = rows / spec.height / spec.max_fps
    return 2.0 * t if low_noise else t


def SimulatedCamera(mp: pytest.MonkeyPatch, model: str, options: str | None = None,  # noqa: N802
                    fault_file: Path | None = None) -> GuideLog:
    """An unopened simulated camera of this process's library, its guide log on the wall clock."""
    return guide_log_cameras(mp, model, options, fault_file, clock=time.time)[0]


def take(cam: SdkCamera, n: int) -> list[tuple[int, float]]:
    """(sequence, start timestamp) of the next ``n`` video frames, each released at once."""
    out = []
    for _ in range(n):
        f = cam.video_frame(timeout=10)
        out.append((f.sequence, f.start_utc.timestamp()))
        f.release()
    return out


def period_from_timestamps(frames: list[tuple[int, float]]) -> float:
    """Seconds per frame from (sequence, timestamp) pairs (a dropped frame leaves a gap in the
    sequence numbers): :func:`steady_period`, robust to the late frames of a busy machine."""
    assert all(s1 > s0 for (s0, _), (s1, _) in zip(frames, frames[1:]))
    return steady_period([t for _, t in frames], [s for s, _ in frames])


@pytest.fixture
def streaming() -> Iterator[Callable[[SdkCamera, float], None]]:
    """start_video that is sure to be stopped at the end of the test."""
    started: list[SdkCamera] = []

    def start(cam: SdkCamera, exposure_s: float) -> None:
        cam.start_video(exposure_s)
        started.append(cam)

    yield start
    for cam in started:
        cam.stop_video()


def test_low_noise_video_runs_at_half_the_normal_rate(streaming, monkeypatch) -> None:
    """A narrow full-height ROI (64 columns: the USB transfer is short): the period is the
    sensor's readout at the table's fps, which Low Noise doubles, as for single frames."""
    spec = MODELS[MODES]
    with SimulatedCamera(monkeypatch, MODES) as cam:
        assert cam.sensor_modes() == ("Normal", "Low Noise")
        cam.set_format(8)
        cam.set_roi(0, 0, 64, spec.height, 1)
        periods = []
        for mode in (0, 1):
            cam.set_sensor_mode(mode)
            streaming(cam, 0.001)
            take(cam, 2)  # the first frames may come at once from the camera's buffer
            periods.append(period_from_timestamps(take(cam, 10)))
            cam.stop_video()
        normal, low_noise = periods
        # Arrival times carry the host's scheduling jitter: 3 % over ten frames.
        assert normal == pytest.approx(sensor_readout_s(spec, spec.height, False), rel=0.03)
        assert low_noise == pytest.approx(2 * normal, rel=0.03)


def test_a_flipped_video_frame_is_mirrored(streaming, monkeypatch) -> None:
    """Hot pixels (fixed on the sensor) of a single frame land mirrored in a video frame taken
    with a horizontal flip (dark, warm sensor, high gain: the hot pixels stand out). Each hot
    pixel of one frame (30 σ) must be hot at the mirrored place in the other (10 σ: one near the
    threshold may miss it in one frame by its own noise), both ways round."""
    with SimulatedCamera(monkeypatch, SMALL, options="stars=0,sky=0,ambient=50") as cam:
        cam.set_roi(100, 50, 1200, 900, 1)
        cam.set_gain(400)
        cam.set_offset(300)
        cam.start_exposure(0.3)
        single = cam.wait_frame(timeout=10)
        plain = single.data.copy()
        single.release()
        assert len(hot_pixels(plain)) >= 5
        cam.set_flip(True, False)
        streaming(cam, 0.3)
        frame: Frame = cam.video_frame(timeout=10)
        try:
            flipped = frame.data.copy()
        finally:
            frame.release()
    for a, b in ((plain, flipped), (flipped, plain)):
        med, sigma = robust_level(b)
        for y, x in hot_pixels(a):
            assert b[y, 1199 - x] > med + 10 * sigma, (y, x)


def hold_every_slot(cam: SdkCamera) -> list[Frame]:
    """Take the host ring's 3 slots (``video_buffer_bytes`` 1: the minimum) and keep them: the
    camera's link has nowhere to send and frames wait in its DDR buffer."""
    return [cam.video_frame(timeout=10) for _ in range(3)]


def test_the_ddr_buffer_absorbs_a_short_stall_and_drops_on_a_long_one(streaming, monkeypatch) -> None:
    """256x64 8-bit frames every 10 ms (the exposure), a DDR buffer of 40 frames (0.4 s; the
    real 512 MB would hold 9 hours of these: the library's ``ddr_mb`` option makes a
    test-sized one). A 0.1 s stall loses nothing in the camera and its frames arrive
    afterwards; a stall of more than 0.4 s drops frames in the camera, seen by the SDK's
    ``POAGetDroppedImagesCount`` (``dropped_frames()``); the counts are not doubled."""
    ddr_mb = 40 * 256 * 64 / (1 << 20)
    with SimulatedCamera(monkeypatch, SMALL, options=f"ddr_mb={ddr_mb}") as cam:
        cam.set_format(8)
        cam.set_roi(0, 0, 256, 64, 1)
        cam.video_buffer_bytes = 1
        streaming(cam, 0.01)
        held = hold_every_slot(cam)
        sent = cam.video_counters()["sent"]
        time.sleep(0.1)  # 10 frames come off the sensor
        # The link stalled: at most the frame it was sending when the last slot was taken.
        assert cam.video_counters()["sent"] <= sent + 1
        for f in held:
            f.release()
        take(cam, 3)
        assert wait_until(lambda: cam.video_counters()["sent"] >= sent + 10)  # the stall's frames
        assert cam.video_counters()["camera_dropped"] == 0

        held = hold_every_slot(cam)
        base = cam.dropped_frames()
        assert wait_until(lambda: cam.video_counters()["camera_dropped"] > 0)
        assert cam.dropped_frames() > base
        # The camera's count, read by the C reader about twice a second: never more than the
        # camera says now (counted once, not doubled by the host ring's own drops).
        assert wait_until(lambda: cam.video_counters()["camera_dropped"] >= base)
        assert cam.video_counters()["camera_dropped"] <= cam.dropped_frames()
        for f in held:
            f.release()
        take(cam, 3)  # the stream goes on after the overflow
        cam.stop_video()
        last = cam.video_counters()
        assert last["camera_dropped"] > 0


def test_video_without_a_consumer_drops_in_the_host_ring_not_the_camera(streaming, monkeypatch) -> None:
    """A consumer that takes nothing holds no slot: the link keeps sending and the host ring
    drops the oldest frames (host_dropped), the camera's buffer stays empty."""
    with SimulatedCamera(monkeypatch, SMALL) as cam:
        cam.set_format(8)
        cam.set_roi(0, 0, 256, 64, 1)
        cam.video_buffer_bytes = 1
        streaming(cam, 0.01)
        assert wait_until(lambda: cam.video_counters().get("host_dropped", 0) >= 5)
        counts = cam.video_counters()
        assert counts["camera_dropped"] == 0 and cam.dropped_frames() == 0


@pytest.fixture
def fault_file(tmp_path: Path) -> Path:
    path = tmp_path / "faults"
    path.write_text("")
    return path


def add_fault(path: Path, line: str) -> None:
    with path.open("a") as fh:
        fh.write(line + "\n")


def test_an_unplug_during_video_ends_video_frame_with_a_camera_error(streaming, monkeypatch,
                                                                     fault_file: Path) -> None:
    """Frames of 2 s: the consumer is inside ``video_frame``, waiting, when the fault file
    says "unplug"; it gets a CameraError naming the unplug (not a plain "stopped"), and so
    does the next call."""
    with SimulatedCamera(monkeypatch, SMALL, fault_file=fault_file) as cam:
        cam.set_format(8)
        cam.set_roi(0, 0, 256, 64, 1)
        streaming(cam, 2.0)
        raised: list[BaseException] = []

        def consume() -> None:
            try:
                cam.video_frame(timeout=10).release()
            except BaseException as exc:  # handed to the test thread
                raised.append(exc)

        consumer = threading.Thread(target=consume)
        consumer.start()
        time.sleep(0.2)
        add_fault(fault_file, "unplug")
        consumer.join(timeout=10)
        assert not consumer.is_alive()
        assert len(raised) == 1 and isinstance(raised[0], CameraError)
        assert not isinstance(raised[0], ExposureAborted)
        assert "unplugged" in str(raised[0])
        assert not cam.is_streaming()
        with pytest.raises(CameraError, match="unplugged"):
            cam.video_frame(timeout=1)


def test_unplug_after_counts_video_frames(streaming, monkeypatch, fault_file: Path) -> None:
    with SimulatedCamera(monkeypatch, SMALL, fault_file=fault_file) as cam:
        cam.set_format(8)
        cam.set_roi(0, 0, 256, 64, 1)
        add_fault(fault_file, "unplug_after=3")
        time.sleep(0.06)  # the file is looked at every 50 ms
        streaming(cam, 0.01)
        take(cam, 3)
        with pytest.raises(CameraError, match="unplugged"):
            cam.video_frame(timeout=5)


def star_light(data: np.ndarray) -> np.ndarray:
    """The frame's light above 5 noise sigmas (robust), zero elsewhere: the background's own
    noise, clipped at zero and summed down 900 rows, would otherwise outweigh a few faint stars
    in a column profile and move its best match by a pixel."""
    med = np.median(data)
    sigma = 1.4826 * np.median(np.abs(data - med))
    light = data - med
    return np.where(light > 5 * sigma, light, 0.0)


def x_shift(a: np.ndarray, b: np.ndarray, most: int = 10) -> int:
    """The whole-pixel shift along x that best lines ``b`` up with ``a`` (column profiles of the
    star light, background removed)."""
    pa = star_light(a).sum(axis=0)
    pb = star_light(b).sum(axis=0)
    n = len(pa)
    scores = {d: float(np.dot(pa[most:n - most], pb[most + d:n - most + d]))
              for d in range(-most, most + 1)}
    return max(scores, key=scores.__getitem__)


def video_data(cam: SdkCamera, after: float = 0.0) -> np.ndarray:
    """The next video frame that started after the wall time ``after``."""
    while True:
        f = cam.video_frame(timeout=10)
        try:
            if f.start_utc.timestamp() > after:
                return f.data.astype(np.float64)
        finally:
            f.release()


def test_guiding_moves_the_stars_of_a_running_video(streaming, monkeypatch) -> None:
    """A pulse West of about 2 s (GUIDE_PX_PER_S = 2: about 4 px to the right) while video
    runs: a frame started after it shows the star field moved by the pulse's length (as the
    backend switched it) times that rate, to the nearest pixel; frames without a pulse do not move."""
    frame_mb = 1200 * 900 * 2 / (1 << 20)
    # A camera buffer of two frames: frames from before the pulse do not wait there for the
    # host (their arrival time would say "after the pulse").
    with SimulatedCamera(monkeypatch, SMALL, options=f"st4,sky=0,ddr_mb={2.5 * frame_mb:.2f}") as cam:
        cam.set_roi(200, 100, 1200, 900, 1)
        cam.set_gain(450)  # the star field well above the noise in 0.1 s frames
        cam.video_buffer_bytes = 1  # 3 slots: frames from before the pulse do not pile up
        streaming(cam, 0.1)
        before = video_data(cam)
        assert x_shift(before, video_data(cam)) == 0
        cam.guide("W", True)
        time.sleep(2.0)
        cam.guide("W", False)
        ended = time.time()
        for _ in range(6):  # whatever the host ring (3) and the camera's buffer (2) held
            video_data(cam)
        after = video_data(cam, after=ended + 0.05)
        (_, on, t_on), (_, off, t_off) = cam.guide_log()
    assert on and not off
    # The switch waits for the reader's current SDK call (a read slice of at most 200 ms), not
    # for the stream: the pulse is about the 2 s asked (it lasted 4.5 to 19 s when the reader
    # took the SDK lock back at once after each slice).
    assert 2.0 <= t_off - t_on < 3.0, t_off - t_on
    assert abs(x_shift(before, after) - (t_off - t_on) * GUIDE_PX_PER_S) <= 0.75
