"""The SDK backend (SdkCamera) against the simulated SDK, a real shared library with the vendor's
C API (``libPlayerOneCameraSim.so``, built with the package).

Everything goes through the production path: dlopen in C, the C lock, the C reader thread writing
into the frame ring. Faults are armed with the library's control function SimPOA_SetFault (the
same mapped library, reached with ctypes).
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from helpers import simsdk
from helpers.simsdk import SimControl
from indi_playerone.camera.interface import CameraError, CameraTimeout, ExposureAborted
from indi_playerone.camera.sdk_binding import CameraState, Config, Err, SdkError, SdkLibrary
from indi_playerone.camera.sdk_camera import SdkCamera
from indi_playerone.camera.sdk_loader import load_simulated_sdk


@pytest.fixture(scope="module")
def sdk() -> SdkLibrary:
    simsdk.library()
    return load_simulated_sdk()


@pytest.fixture(scope="module")
def fake(sdk: SdkLibrary) -> SimControl:
    return SimControl(sdk.path)


@pytest.fixture
def make(monkeypatch: pytest.MonkeyPatch, sdk: SdkLibrary, fake: SimControl) -> Iterator[Callable[..., list[SdkCamera]]]:
    """make("Ares-C PRO,Zeus 455M PRO", **kwargs) -> unopened SdkCameras of a freshly reset library."""
    made: list[SdkCamera] = []

    def factory(models: str = "Ares-C PRO", **kwargs: object) -> list[SdkCamera]:
        simsdk.use(monkeypatch, models)
        fake.reset()
        cams = [SdkCamera(sdk, sdk.camera_props(i), **kwargs) for i in range(sdk.camera_count())]
        made.extend(cams)
        return cams

    yield factory
    for cam in made:
        cam.close()
    fake.reset()


@pytest.fixture
def ares(make: Callable[..., list[SdkCamera]]) -> Iterator[SdkCamera]:
    with make("Ares-C PRO")[0] as cam:
        yield cam


def expose(cam: SdkCamera, seconds: float = 0.05, timeout: float = 10.0):
    cam.start_exposure(seconds)
    return cam.wait_frame(timeout)


def left_justified(data: np.ndarray, adc_bits: int) -> bool:
    return not np.any(data.astype(np.int64) % (1 << (16 - adc_bits)))


# -- enumeration --------------------------------------------------------------------------------

def test_enumeration_ids_are_not_indices_and_info_comes_from_the_sdk(make) -> None:
    cams = make("Ares-C PRO, Zeus 455M PRO")
    assert [c.info.model for c in cams] == ["Ares-C PRO", "Zeus 455M PRO"]
    ids = [c.props.camera_id for c in cams]
    assert ids != [0, 1] and len(set(ids)) == 2
    ares, zeus = (c.info for c in cams)
    assert (ares.width, ares.height, ares.adc_bits, ares.bayer, ares.is_color) == (3008, 3008, 14, "RGGB", True)
    assert (zeus.width, zeus.height, zeus.adc_bits, zeus.bayer) == (9576, 6388, 16, None)
    assert ares.bins == (1, 2, 3, 4) and ares.formats == (8, 16) and ares.pixel_size_um == pytest.approx(3.76)


def test_registry_opens_each_camera_to_read_its_serial(monkeypatch, fake) -> None:
    """The SDK fills SN only while a camera is open (as the C++ driver's enumeration assumes)."""
    from indi_playerone.camera.registry import discover_cameras

    monkeypatch.setenv("INDI_PLAYERONE_SDK", "/nonexistent/libPlayerOneCamera.so.3")
    simsdk.use(monkeypatch, "Ares-C PRO,Ares-C PRO")
    fake.reset()
    cams = discover_cameras()
    assert [c.info.model for c in cams] == ["Ares-C PRO", "Ares-C PRO"]
    serials = [c.info.serial for c in cams]
    assert all(serials) and serials[0] != serials[1]
    assert all(isinstance(c, SdkCamera) for c in cams)


def test_open_refines_ranges_from_the_config_attributes(ares: SdkCamera) -> None:
    ctl = ares.configs()
    assert ctl[Config.GAIN].name == "Gain" and ctl[Config.OFFSET].name == "Offset"
    assert ares.info.gain_range == (ctl[Config.GAIN].min, ctl[Config.GAIN].max)
    exp = ctl[Config.EXP]  # a FLOAT config: min/max read through the double
    assert isinstance(exp.min, float) and ares.info.exposure_range_s == (exp.min, exp.max)
    assert (exp.min, exp.max) == (32e-6, 2000.0)  # the manual's range, as the library reports it
    assert isinstance(ctl[Config.TEMPERATURE].max, float)


def test_set_config_passes_the_union_by_value_for_every_type(ares: SdkCamera) -> None:
    ares.set_config(Config.EXP, 0.123)  # FLOAT: the double's bits in the union
    assert ares.config(Config.EXP) == pytest.approx(0.123)
    ares.set_gain(217)  # INT: the long
    assert ares.gain() == 217
    ares.set_offset(41)
    assert ares.offset() == 41
    ares.set_cooler(True, -12.4)  # BOOL + INT
    assert ares.config(Config.COOLER) is True and ares.config(Config.TARGET_TEMP) == -12
    ares.set_cooler(False)
    assert ares.config(Config.COOLER) is False
    with pytest.raises(CameraError):
        ares.set_gain(ares.info.gain_range[1] + 1)
    with pytest.raises(CameraError):
        ares.set_cooler(True, -500)
    assert isinstance(ares.temperature(), float) and 0 <= ares.cooler_power() <= 100


def test_presets_and_sensor_modes(ares: SdkCamera) -> None:
    p = ares.sdk_presets()
    assert p.gain_highest_dr <= p.gain_hcg <= p.gain_unity <= p.gain_lowest_rn
    modes = ares.sdk_sensor_modes()
    assert [m.index for m in modes] == list(range(len(modes))) and len(modes) == 2
    assert all(m.name for m in modes)
    ares.set_sensor_mode(1)
    assert ares.sensor_mode() == 1
    with pytest.raises(SdkError) as exc:
        ares.set_sensor_mode(7)
    assert exc.value.func == "POASetSensorMode"
    assert expose(ares).data.size  # frames still come in the other mode
    assert ares.sensor_modes() == tuple(m.name for m in modes)


# -- the neutral capabilities (the driver's CCD_CONTROLS, presets, FLIP, ...) ---------------------

def test_neutral_controls_are_the_writable_configs_minus_the_ones_with_own_properties(ares: SdkCamera) -> None:
    ctl = {c.name: c for c in ares.controls()}
    configs = ares.configs()
    names = [a.name for a in configs.values()]
    assert list(ctl) == [n for n in names if n in ctl]  # the SDK's order
    assert "Gain" in ctl and "Offset" in ctl and ctl["Gain"].supports_auto
    for cid in (Config.EXP, Config.EXPOSURE, Config.TARGET_TEMP, Config.COOLER, Config.FLIP_BOTH,
                Config.TEMPERATURE, Config.COOLER_POWER):
        assert configs[cid].name not in ctl, configs[cid].name
    assert ctl["HardwareBin"].is_bool and not ctl["Gain"].is_bool
    ares.set_control("Gain", 301)
    assert ares.get_control("Gain") == (301.0, False) and ares.gain() == 301
    ares.set_control("Gain", 302, auto=True)
    assert ares.get_control("Gain") == (302.0, True)
    ares.set_control("HardwareBin", 1)
    assert ares.get_control("HardwareBin")[0] == 1.0
    ares.set_control("Gain", 10.6)
    assert ares.get_control("Gain")[0] == 11.0  # whole-number settings are rounded
    for name, bad in (("HardwareBin", 0.5), ("Gain", ctl["Gain"].maximum + 1)):
        with pytest.raises(CameraError):
            ares.set_control(name, bad)
    with pytest.raises(CameraError):
        ares.set_control("Exp", 1.0)  # exposure is not a control
    with pytest.raises(CameraError):
        ares.get_control("NoSuchThing")


def test_gain_presets_flip_and_identity(ares: SdkCamera) -> None:
    presets = ares.gain_presets()
    p = ares.sdk_presets()
    assert [g.key for g in presets] == ["highest_dr", "hcg", "unity", "lowest_rn"]
    assert (presets[2].gain, presets[2].offset) == (p.gain_unity, p.offset_unity)
    assert ares.can_flip() and ares.flip() == (False, False)
    plain = expose(ares)
    ref = plain.data.copy()
    plain.release()
    for h, v in ((True, False), (False, True), (True, True), (False, False)):
        ares.set_flip(h, v)
        assert ares.flip() == (h, v)
    ares.set_flip(True, False)
    flipped = expose(ares)
    # Bias and noise differ per frame; the star field must move with the flip.
    bright = np.unravel_index(np.argmax(ref), ref.shape)
    mirrored = (bright[0], ref.shape[1] - 1 - bright[1])
    assert flipped.data[mirrored] > np.median(flipped.data) + 100
    flipped.release()
    assert ares.usb_link() in ("USB3", "USB2") and ares.sdk_version() == "3.10.1"
    assert ares.dropped_frames() == 0
    ares.start_exposure(2.0)
    with pytest.raises(CameraError):
        ares.set_flip(False, True)
    with pytest.raises(CameraError):
        ares.set_sensor_mode(0)
    ares.abort_exposure()


# -- geometry and formats -------------------------------------------------------------------------

def test_roi_is_rounded_and_read_back_from_the_sdk(ares: SdkCamera) -> None:
    roi = ares.set_roi(10, 11, 1001, 503, 2)
    assert (roi.x, roi.y, roi.width, roi.height, roi.bin) == (10, 11, 1000, 502, 2)
    h = ares.session.handle
    assert h is not None and h.size() == (1000, 502) and h.bin() == 2 and h.start() == (10, 11)
    frame = expose(ares)
    assert frame.data.shape == (502, 1000) and frame.roi == roi
    frame.release()
    # clamped into the binned sensor; bin 1 again resets
    roi = ares.set_roi(1400, 1400, 400, 400, 2)
    assert (roi.x + roi.width, roi.y + roi.height) == (1504, 1504)
    assert ares.set_roi(0, 0, 3008, 3008, 1).width == 3008
    with pytest.raises(CameraError):
        ares.set_roi(0, 0, 100, 100, 5)
    with pytest.raises(CameraError):
        ares.set_roi(0, 0, 3, 100, 1)


def test_formats(ares: SdkCamera) -> None:
    f16 = expose(ares)
    assert f16.data.dtype == np.uint16 and f16.bits == 16 and left_justified(f16.data, 14)
    mean16 = float(f16.data.mean())
    f16.release()
    ares.set_format(8)
    assert ares.format() == 8
    f8 = expose(ares)
    assert f8.data.dtype == np.uint8 and f8.bits == 8 and f8.data.shape == (3008, 3008)
    assert abs(float(f8.data.mean()) - mean16 / 256) < 2
    f8.release()
    with pytest.raises(CameraError):
        ares.set_format(12)


def test_changes_refused_while_exposing(ares: SdkCamera) -> None:
    ares.start_exposure(2.0)
    with pytest.raises(CameraError):
        ares.set_roi(0, 0, 100, 100, 1)
    with pytest.raises(CameraError):
        ares.set_format(8)
    with pytest.raises(CameraError):
        ares.start_exposure(0.1)
    assert ares.is_exposing()
    ares.abort_exposure()
    assert not ares.is_exposing()


# -- exposures ---------------------------------------------------------------------------------

def test_exposure_frame_and_metadata(ares: SdkCamera) -> None:
    ares.set_gain(100)
    before = datetime.now(timezone.utc)
    t0 = time.monotonic()
    ares.start_exposure(0.3)
    frame = ares.wait_frame(10)
    assert time.monotonic() - t0 >= 0.3  # the reader slept through the exposure
    assert frame.exposure_s == pytest.approx(0.3) and frame.gain == 100
    assert before - timedelta(seconds=1) < frame.start_utc < before + timedelta(seconds=2)
    assert frame.data.shape == (3008, 3008) and 0 < frame.data.mean() < 65535
    seq = frame.sequence
    frame.release()
    frame.release()  # idempotent
    nxt = expose(ares)
    assert nxt.sequence == seq + 1 and not ares.is_exposing()


def test_wait_frame_without_exposure_and_uncollected_frame_dropped(ares: SdkCamera) -> None:
    with pytest.raises(CameraError):
        ares.wait_frame(1)
    ares.start_exposure(0.01)
    time.sleep(0.5)  # read out, never collected
    frame = expose(ares, 0.02)  # the next start drops it
    assert frame.exposure_s == pytest.approx(0.02)


def test_abort_then_next_exposure_works(ares: SdkCamera) -> None:
    ares.start_exposure(5.0)
    time.sleep(0.2)
    t0 = time.monotonic()
    ares.abort_exposure()
    with pytest.raises(ExposureAborted):
        ares.wait_frame(10)
    assert time.monotonic() - t0 < 4  # not the 5 s exposure
    assert expose(ares).data.size


def test_cancel_event_aborts(ares: SdkCamera) -> None:
    cancel = threading.Event()
    ares.start_exposure(5.0)
    threading.Timer(0.2, cancel.set).start()
    with pytest.raises(ExposureAborted):
        ares.wait_frame(10, cancel)
    assert not ares.is_exposing()
    assert expose(ares).data.size


def test_wait_timeout_keeps_the_exposure_running(ares: SdkCamera) -> None:
    ares.start_exposure(0.6)
    with pytest.raises(CameraTimeout):
        ares.wait_frame(0.1)
    assert ares.is_exposing()
    assert ares.wait_frame(10).data.size


def test_video_mode_single_frames(make) -> None:
    """The per-model fallback: continuous mode, first frame, stop."""
    cam = make("Ares-C PRO", single_frame_mode="video")[0]
    with cam:
        assert not cam.snap
        for _ in range(2):
            frame = expose(cam, 0.05)
            assert frame.data.shape == (3008, 3008)
            frame.release()
        assert cam.session.handle is not None and cam.session.handle.camera_state() == CameraState.OPENED


def test_close_while_waiting_ends_the_wait(make) -> None:
    cam = make()[0]
    cam.open()
    cam.start_exposure(5.0)
    errors: list[BaseException] = []

    def waiter() -> None:
        try:
            cam.wait_frame(20)
        except BaseException as e:  # noqa: BLE001 - recorded for the assertion
            errors.append(e)

    t = threading.Thread(target=waiter)
    t.start()
    time.sleep(0.2)
    cam.close()
    t.join(10)
    assert not t.is_alive() and errors and isinstance(errors[0], ExposureAborted)
    cam.open()  # and it opens again
    assert expose(cam).data.size


def test_frame_released_after_close_is_harmless(make) -> None:
    cam = make()[0]
    cam.open()
    frame = expose(cam)
    cam.close()
    frame.release()


# -- injected faults: the right exception, and a working camera afterwards ----------------------

def test_never_ready_once_is_cured_by_a_second_attempt_in_video_mode(
        ares: SdkCamera, fake: SimControl, caplog) -> None:
    assert ares.snap
    fake.fault(ares.props.camera_id, "never_ready", 1)
    frame = expose(ares, 0.05, timeout=10)
    assert frame.data.shape == (3008, 3008)
    assert any("taking it again" in r.getMessage() and "continuous mode" in r.getMessage()
               for r in caplog.records)
    assert not ares.snap  # single frames in video mode from now on (INDIGO's fix)
    assert expose(ares).data.size


def test_never_ready_for_good_gives_camera_timeout_then_recovers(ares: SdkCamera, fake: SimControl) -> None:
    fake.fault(ares.props.camera_id, "never_ready", 0)
    allowance = ares.readout_allowance_s()
    ares.start_exposure(0.05)
    t0 = time.monotonic()
    with pytest.raises(CameraTimeout) as exc:
        ares.wait_frame(1)
    # two attempts of exposure + readout allowance each, whatever the caller's 1 s
    took = time.monotonic() - t0
    assert 2 * allowance < took < 2 * (0.05 + allowance) + 2
    assert "2 times" in str(exc.value) and "USB" in str(exc.value)
    assert not ares.is_exposing()
    fake.fault(ares.props.camera_id, "never_ready", -1)
    assert expose(ares).data.size


def test_transfer_timeout_twice_gives_camera_timeout_then_recovers(ares: SdkCamera, fake: SimControl) -> None:
    fake.fault(ares.props.camera_id, "timeout", 2)
    ares.start_exposure(0.05)
    with pytest.raises(CameraTimeout) as exc:
        ares.wait_frame(10)
    assert "POAGetImageData" in str(exc.value)
    assert expose(ares).data.size


def test_status_reads_do_not_stall_behind_a_hanging_readout(ares: SdkCamera, fake: SimControl) -> None:
    first = ares.temperature()
    fake.fault(ares.props.camera_id, "timeout", 1)
    ares.start_exposure(1.0)
    time.sleep(1.2)  # the reader is inside POAGetImageData (from 1.0 s for 1.1 s), holding the lock
    t0 = time.monotonic()
    assert ares.temperature() == pytest.approx(first, abs=5) and ares.cooler_power() >= 0
    assert time.monotonic() - t0 < 1.0
    assert ares.wait_frame(10).data.size  # the watchdog's second attempt delivers


def test_unplug_gives_device_not_found_then_replug_works(ares: SdkCamera, fake: SimControl) -> None:
    cid = ares.props.camera_id
    fake.fault(cid, "unplug_after", 1)
    expose(ares).release()  # the last frame still arrives
    with pytest.raises(SdkError) as exc:
        expose(ares)
    assert exc.value.code == Err.DEVICE_NOT_FOUND
    fake.fault(cid, "replug", 0)
    ares.close()
    ares.open()
    assert expose(ares).data.size


def test_corrupt_first_frame_after_bin_change_never_reaches_the_user(ares: SdkCamera, fake: SimControl) -> None:
    fake.fault(ares.props.camera_id, "corrupt_after_bin", 0)
    for b in (2, 1, 2):
        ares.set_roi(0, 0, 3008, 3008, b)
        frame = expose(ares)
        assert left_justified(frame.data, 14), f"garbage frame after changing to bin {b}"
        frame.release()


def test_the_readout_allowance_is_worked_out_once_per_exposure(
        ares: SdkCamera, fake: SimControl, monkeypatch: pytest.MonkeyPatch) -> None:
    """It costs an SDK call (the bandwidth limit): the flush frame after a bin change and a
    second attempt use the allowance worked out when the exposure was prepared."""
    calls: list[int] = []
    allowance = ares.session.link_allowance_s
    monkeypatch.setattr(ares.session, "link_allowance_s",
                        lambda h, nbytes: calls.append(nbytes) or allowance(h, nbytes))
    ares.set_roi(0, 0, 3008, 3008, 2)
    expose(ares).release()  # the flush frame, then the exposure
    assert len(calls) == 1
    fake.fault(ares.props.camera_id, "never_ready", 1)
    expose(ares).release()  # the first attempt's frame never comes: a second one
    assert len(calls) == 2


def test_open_error_then_open_works(make, fake: SimControl) -> None:
    cam = make()[0]
    fake.fault(cam.props.camera_id, "open_error", 1)
    with pytest.raises(SdkError) as exc:
        cam.open()
    assert exc.value.func == "POAOpenCamera" and exc.value.code == Err.OPERATION_FAILED
    with pytest.raises(CameraError):
        cam.start_exposure(0.1)  # still closed
    cam.open()
    assert expose(cam).data.size


# -- a frame read straight into the caller's buffer (start_exposure(into=...)) ------------------

def test_frame_is_read_straight_into_the_callers_buffer(ares: SdkCamera) -> None:
    """The driver's image payload as the readout's destination: the frame's data IS that
    buffer (no ring slot, no copy); a buffer of the wrong size is not used."""
    from indi_playerone.indi.payload import SharedPayload

    roi = ares.roi()
    nbytes = roi.width * roi.height * 2
    with SharedPayload.allocate(nbytes + 4096) as payload:
        into = payload.view[4096:]
        ares.start_exposure(0.01, into=into)
        frame = ares.wait_frame(10)
        try:
            assert np.shares_memory(frame.data, np.frombuffer(into, dtype=np.uint8))
            assert frame.data.shape == (roi.height, roi.width) and frame.data.dtype == np.uint16
            assert int(frame.data.max()) > 0  # real pixels
            assert bytes(payload.view[:4096]) == bytes(4096)  # nothing written before it
        finally:
            frame.release()
            del frame
        ares.start_exposure(0.01, into=payload.view[:nbytes - 2])  # too short: the ring's
        frame = ares.wait_frame(10)
        try:
            assert not np.shares_memory(frame.data, np.frombuffer(payload.view, dtype=np.uint8))
        finally:
            frame.release()
            del frame
        del into


def test_aborted_direct_readout_keeps_its_buffer_until_the_reader_is_done(ares: SdkCamera) -> None:
    """Aborting an exposure being read into the caller's payload, then closing the payload:
    the mapping stays until the C reader is idle (the camera holds it), and the next exposure
    and a close work."""
    from indi_playerone.indi.payload import SharedPayload

    roi = ares.roi()
    for _ in range(5):
        payload = SharedPayload.allocate(roi.width * roi.height * 2)
        ares.start_exposure(0.02, into=payload.view)
        time.sleep(0.02)
        ares.abort_exposure()
        payload.close()  # the camera's hold keeps the memory mapped for the reader
        del payload
    frame = expose(ares, 0.01)
    assert int(frame.data.max()) > 0
    frame.release()
