"""Field failures of real cameras and SDKs as faults of the simulated SDK, at the C level.

Each is what reports against the C++ driver and INDIGO describe (README.md of ``native/simsdk``
names the report); the tests here check that the simulated camera does exactly that, so a
driver test through indiserver can rely on it:

* ``snap_stall=n``: every n-th snap exposure never becomes ready (Saturn-C), video unaffected;
* ``busy_after_frame=ms``: POA_ERROR_EXPOSING for a start right after a frame (sub-second loops);
* ``timeout`` (0: every frame): the "Exposure timeout" loop;
* ``opfail_wait``: POA_ERROR_OPERATION_FAILED for a short wait while still exposing (SDK 3.10.1);
* ``corrupt_after_bin``: a corrupt first frame after a bin change;
* ``temp_glitch=n``: -300 C temperature readings;
* ``sdk_version``: the white-balance range of SDK 3.8.1-3.9.0, no POA_EXP before 3.8.0;
* ``hang``: a camera that answers again only after a USB reset (SimPOA_UsbReset).
"""
from __future__ import annotations

import ctypes
import time
from collections.abc import Iterator

import numpy as np
import pytest

from helpers.simsdk_api import (
    EXP, EXPOSING, EXPOSURE, ID0, INVALID_CONFIG, OPERATION_FAILED, RAW16, STATE_EXPOSING,
    STATE_OPENED, TEMPERATURE, TIMEOUT, WB_R, ConfigAttributes, get_config, grab, ok,
    open_cam, set_float, set_int, small_roi, state_of,
)

NOT_OPENED, INVALID_ARGU = 5, 4


@pytest.fixture
def sdk(lib: ctypes.CDLL, monkeypatch: pytest.MonkeyPatch) -> Iterator[ctypes.CDLL]:
    for var in ("INDI_PLAYERONE_SIM_OPTIONS", "INDI_PLAYERONE_SIM_FAULT_FILE", "INDI_PLAYERONE_SIM_FAULT_LOG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("INDI_PLAYERONE_SIMULATE", "Ares-C PRO")
    lib.SimPOA_Reset()
    assert lib.POAGetCameraCount() == 1
    yield lib
    lib.SimPOA_Reset()


def snap_rc(sdk: ctypes.CDLL, seconds: float = 0.01, timeout_ms: int = 1000) -> int:
    ok(set_float(sdk, ID0, EXP, seconds))
    ok(sdk.POAStartExposure(ID0, 1))
    return grab(sdk, ID0, timeout_ms)[0]


def test_snap_stall_every_second_exposure_video_unaffected(sdk: ctypes.CDLL) -> None:
    ok(sdk.SimPOA_SetFault(ID0, b"snap_stall", 2))
    open_cam(sdk)
    small_roi(sdk, ID0)
    results = []
    for _ in range(4):
        results.append(snap_rc(sdk, timeout_ms=300))
        if results[-1] == TIMEOUT:
            assert state_of(sdk, ID0) == STATE_EXPOSING, "a stalled snap stays exposing"
            ok(sdk.POAStopExposure(ID0))
    assert results == [0, TIMEOUT, 0, TIMEOUT]
    # INDIGO's workaround: the continuous mode for one frame never stalls
    ok(set_float(sdk, ID0, EXP, 0.01))
    for _ in range(3):
        ok(sdk.POAStartExposure(ID0, 0))
        ok(grab(sdk, ID0, 1000)[0])
        ok(sdk.POAStopExposure(ID0))


def test_busy_after_frame_then_ready(sdk: ctypes.CDLL) -> None:
    ok(sdk.SimPOA_SetFault(ID0, b"busy_after_frame", 300))
    open_cam(sdk)
    small_roi(sdk, ID0)
    ok(snap_rc(sdk))
    assert sdk.POAStartExposure(ID0, 1) == EXPOSING
    assert state_of(sdk, ID0) == STATE_OPENED, "busy, yet not exposing: a retry is right"
    time.sleep(0.35)
    ok(snap_rc(sdk))


def test_timeout_every_frame_is_an_exposure_timeout_loop(sdk: ctypes.CDLL) -> None:
    ok(sdk.SimPOA_SetFault(ID0, b"timeout", 0))
    open_cam(sdk)
    small_roi(sdk, ID0)
    assert [snap_rc(sdk, timeout_ms=200) for _ in range(3)] == [TIMEOUT] * 3
    ok(sdk.SimPOA_SetFault(ID0, b"timeout", -1))
    ok(snap_rc(sdk))


def test_opfail_for_a_short_wait_while_exposing(sdk: ctypes.CDLL) -> None:
    """SDK 3.10.1: a wait that ends before the exposure does answers OPERATION_FAILED (not
    TIMEOUT); the frame still comes to a wait that lasts: "not yet", not a failure."""
    ok(sdk.SimPOA_SetFault(ID0, b"opfail_wait", 0))
    open_cam(sdk)
    small_roi(sdk, ID0)
    ok(set_float(sdk, ID0, EXP, 0.5))
    ok(sdk.POAStartExposure(ID0, 1))
    assert grab(sdk, ID0, 50)[0] == OPERATION_FAILED
    ok(grab(sdk, ID0, 2000)[0])
    assert grab(sdk, ID0, 50)[0] == TIMEOUT, "not exposing any more: a plain timeout"


def test_corrupt_first_frame_after_a_bin_change(sdk: ctypes.CDLL) -> None:
    ok(sdk.SimPOA_SetFault(ID0, b"corrupt_after_bin", 0))
    open_cam(sdk)
    ok(sdk.POASetImageBin(ID0, 2))
    small_roi(sdk, ID0, RAW16, 256, 256)
    ok(set_float(sdk, ID0, EXP, 0.01))

    def frame() -> np.ndarray:
        ok(sdk.POAStartExposure(ID0, 1))
        rc, buf = grab(sdk, ID0, 1000)
        ok(rc)
        return np.frombuffer(buf, dtype=np.uint16)

    first, second = frame(), frame()
    assert np.mean(first % 4 != 0) > 0.5, "the first frame after the bin change is garbage"
    assert np.all(second % 4 == 0), "the next one is a 14-bit frame again"


def test_minus_300_degree_readings(sdk: ctypes.CDLL) -> None:
    ok(sdk.SimPOA_SetFault(ID0, b"temp_glitch", 3))
    open_cam(sdk)
    readings = [get_config(sdk, ID0, TEMPERATURE)[0].floatValue for _ in range(6)]
    assert [r == -300.0 for r in readings] == [False, False, True, False, False, True]
    assert readings[0] == pytest.approx(20.0, abs=0.01)


@pytest.mark.parametrize("version,wb,has_exp", [("3.7.1", (-1200, 1200), False), ("3.8.1", (0, 100), True),
                                                ("3.9.1", (-1200, 1200), True), ("3.10.1", (-1200, 1200), True)])
def test_sdk_versions_white_balance_and_exp(sdk: ctypes.CDLL, monkeypatch: pytest.MonkeyPatch, version: str,
                                            wb: tuple[int, int], has_exp: bool) -> None:
    monkeypatch.setenv("INDI_PLAYERONE_SIM_OPTIONS", f"sdk_version={version}")
    assert sdk.POAGetSDKVersion() == version.encode()
    open_cam(sdk)
    attrs = ConfigAttributes()
    ok(sdk.POAGetConfigAttributesByConfigID(ID0, WB_R, ctypes.byref(attrs)))
    assert (attrs.minValue.intValue, attrs.maxValue.intValue) == wb
    exp_rc = sdk.POAGetConfigAttributesByConfigID(ID0, EXP, ctypes.byref(attrs))
    assert (exp_rc == 0) == has_exp and (has_exp or exp_rc == INVALID_CONFIG)
    ok(set_int(sdk, ID0, EXPOSURE, 20000))  # POA_EXPOSURE (us) works on every version
    assert get_config(sdk, ID0, EXPOSURE)[0].intValue == 20000


def test_a_hung_camera_answers_again_only_after_a_usb_reset(sdk: ctypes.CDLL) -> None:
    open_cam(sdk)
    small_roi(sdk, ID0)
    ok(snap_rc(sdk))
    ok(sdk.SimPOA_SetFault(ID0, b"hang", 0))
    assert sdk.POAStartExposure(ID0, 1) == TIMEOUT
    buf = (ctypes.c_ubyte * (256 * 128 * 2))()
    t0 = time.monotonic()
    assert sdk.POAGetImageData(ID0, buf, len(buf), 200) == TIMEOUT
    assert time.monotonic() - t0 >= 0.19, "a hung read uses its whole timeout"
    ok(sdk.POACloseCamera(ID0))  # the watchdog gives up: close...
    assert sdk.POAOpenCamera(ID0) == TIMEOUT  # ...but reopening alone does not help
    ok(sdk.SimPOA_UsbReset(ID0))  # the kernel's USB reset
    open_cam(sdk)
    small_roi(sdk, ID0)
    ok(snap_rc(sdk))
