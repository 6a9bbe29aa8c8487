"""The simulated Player One SDK (``native/simsdk``): a real ``libPlayerOneCameraSim.so`` built from
our own C, loaded here with ctypes and small local declarations written from the vendor's header
(not from the simulated SDK's own header), so a layout or enum mismatch between the two shows up
as a failure.

Covered: the build (SONAME, exported symbols, warning-free with gcc and clang, struct layouts on
32-bit and 64-bit ARM by the static assertions), enumeration with IDs that are not indices,
terminated lists, ROI rounding, bin-before-size, configs through the union passed by value
(as an int64 image) and through POASetConfig_M, exposure timing, GetImageData
timeouts, snap vs video with the dropped-frame counter, frame content, the cooler's thermal model,
every fault, and thread safety (a Python smoke test here, and a C stress program run under
ThreadSanitizer and AddressSanitizer).

Durations: exposures are checked to take at least their time (a behaviour, not a speed); upper
bounds are only generous hang guards.
"""
from __future__ import annotations

import ctypes
import shutil
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from helpers.simsdk_api import (
    APOLLO_M, ARES_C, CFLAGS, CONF_CANNOT_WRITE, COOLER, COOLER_POWER, CameraProperties,
    ConfigAttributes, ConfigValue, DEVICE_NOT_FOUND, EGAIN, END, EXP, EXPOSING, EXPOSURE,
    EXPOSURE_FAILED, FAN_POWER, FLIP_BOTH, FLIP_HORI, FLIP_NONE, FLIP_VERT, GAIN, GUIDE_NORTH,
    HARDWARE_BIN, HEATER_POWER, HQI, ID0, ID1, INVALID_ARGU, INVALID_CONFIG, INVALID_ID,
    INVALID_INDEX, MONO8, MONO_BIN, NOT_OPENED, OFFSET, OK, OPERATION_FAILED, OUT_OF_LIMIT,
    PIXEL_BIN_SUM, POINTER, RAW16, RAW8, RGB24, SDK_FUNCTIONS, SIZE_LESS, SONAME, SOURCE_DIR,
    STATE_CLOSED, STATE_EXPOSING, STATE_OPENED, SensorModeInfo, TARGET_TEMP, TEMPERATURE,
    TIMEOUT, USB_BANDWIDTH, VAL_BOOL, VAL_FLOAT, WB_R, ZEUS_M, _SIGNATURES, build_simsdk, build_stress,
    compile_command, get_config, grab, int_out, ok, open_cam, properties, ready, set_float,
    set_int, size_of, small_roi, snap, start_of, start_small, state_of,
)
from helpers.waiting import wait_for

def test_local_declarations_match_the_header_sizes() -> None:
    """The ctypes declarations used below have the header's sizes (so the rest tests the library)."""
    assert ctypes.sizeof(CameraProperties) == 992
    assert CameraProperties.pixelSize.offset == 312 and CameraProperties.bins.offset == 672
    assert CameraProperties.pID.offset == 740
    assert ctypes.sizeof(ConfigAttributes) == 304 and ConfigAttributes.maxValue.offset == 24
    assert ctypes.sizeof(SensorModeInfo) == 192


# ---- the build ---------------------------------------------------------------------------------------

def test_soname_and_exported_symbols(lib_path: Path) -> None:
    readelf = shutil.which("readelf")
    if readelf is None:
        pytest.skip("readelf (binutils) not installed")
    dyn = subprocess.run([readelf, "-d", str(lib_path)], capture_output=True, text=True, check=True).stdout
    assert f"Library soname: [{SONAME}]" in dyn
    syms = subprocess.run([readelf, "--dyn-syms", "-W", str(lib_path)], capture_output=True, text=True,
                          check=True).stdout
    defined = {line.split()[7] for line in syms.splitlines()
               if len(line.split()) >= 8 and line.split()[4] == "GLOBAL" and line.split()[6] != "UND"}
    missing = set(SDK_FUNCTIONS) - defined
    assert not missing, f"not exported: {sorted(missing)}"
    extra = {s for s in defined if not s.startswith(("POA", "SimPOA_"))}
    assert not extra, f"internal symbols leak out of the library: {sorted(extra)}"
    assert sorted(s for s in defined if s.startswith("SimPOA_")) == sorted(
        n for n in _SIGNATURES if n.startswith("SimPOA_"))
    # never a name the dynamic loader would take for the vendor's SDK
    assert not list(lib_path.parent.glob("libPlayerOneCamera.so*"))


@pytest.mark.parametrize("compiler", ["gcc", "clang"])
def test_builds_warning_free(tmp_path: Path, compiler: str) -> None:
    if shutil.which(compiler) is None:
        pytest.skip(f"{compiler} not installed")
    assert "-Wall" in CFLAGS and "-Wextra" in CFLAGS
    cmd = compile_command(tmp_path / SONAME, cc=compiler, extra_cflags=["-Wshadow"])
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stderr == "", r.stderr


@pytest.mark.parametrize("compiler", ["aarch64-linux-gnu-gcc", "arm-linux-gnueabihf-gcc"])
def test_struct_layouts_hold_on_arm(compiler: str) -> None:
    """The sources' _Static_asserts (992/304/192 bytes and every offset) on 64- and 32-bit ARM,
    where ``long`` is 8 and 4 bytes."""
    if shutil.which(compiler) is None:
        pytest.skip(f"{compiler} not installed")
    cmd = [compiler, "-std=c11", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-fsyntax-only",
           *map(str, sorted(SOURCE_DIR.glob("*.c")))]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stderr == "", r.stderr


def test_build_is_cached_and_forced(lib_path: Path) -> None:
    mtime = lib_path.stat().st_mtime_ns
    assert build_simsdk(lib_path.parent) == lib_path
    assert lib_path.stat().st_mtime_ns == mtime  # reused: same command, sources older
    time.sleep(0.01)
    assert build_simsdk(lib_path.parent, force=True).stat().st_mtime_ns != mtime
    assert (lib_path.parent / f"{SONAME}.log").read_text() == ""  # no warnings


# ---- enumeration ---------------------------------------------------------------------------------

def test_enumeration_ids_are_not_indices(sdk: ctypes.CDLL) -> None:
    assert properties(sdk, 0)[0] == INVALID_INDEX, "properties answered before the bus scan"
    assert sdk.POAGetCameraCount() == 2
    rc, p0 = properties(sdk, 0)
    ok(rc)
    assert (p0.cameraModelName, p0.cameraID, p0.maxWidth, p0.maxHeight) == (APOLLO_M.encode(), ID0, 1608, 1104)
    assert (p0.bitDepth, p0.isColorCamera, p0.bayerPattern, p0.pixelSize) == (12, 0, -1, 9.0)
    assert p0.sensorModelName == b"IMX432" and p0.isHasCooler == 1 and p0.isHasST4Port == 0
    rc, p1 = properties(sdk, 1)
    ok(rc)
    assert (p1.cameraModelName, p1.cameraID, p1.maxWidth, p1.bitDepth) == (ARES_C.encode(), ID1, 3008, 14)
    assert (p1.isColorCamera, p1.bayerPattern, p1.pixelSize) == (1, 0, 3.76)  # RGGB
    assert p0.cameraID not in (0, 1) and p1.cameraID not in (0, 1)
    assert properties(sdk, 2)[0] == INVALID_INDEX and properties(sdk, -1)[0] == INVALID_INDEX
    # 0-terminated bins, POA_END-terminated formats (colour models add RGB24 and MONO8)
    assert list(p0.bins) == [1, 2, 3, 4, 0, 0, 0, 0]
    assert list(p0.imgFormats)[:3] == [RAW8, RAW16, END]
    assert list(p1.imgFormats)[:5] == [RAW8, RAW16, RGB24, MONO8, END]
    # by ID; an index is not an ID
    q = CameraProperties()
    ok(sdk.POAGetCameraPropertiesByID(ID1, ctypes.byref(q)))
    assert q.cameraModelName == ARES_C.encode()
    assert sdk.POAGetCameraPropertiesByID(1, ctypes.byref(q)) == INVALID_ID
    assert sdk.POAOpenCamera(0) == INVALID_ID


def test_serial_only_while_open_and_custom_id(sdk: ctypes.CDLL) -> None:
    sdk.POAGetCameraCount()
    assert properties(sdk, 0)[1].SN == b""
    open_cam(sdk, ID0)
    open_cam(sdk, ID1)
    sn0, sn1 = properties(sdk, 0)[1].SN, properties(sdk, 1)[1].SN
    assert sn0 and sn1 and sn0 != sn1
    ok(sdk.POASetUserCustomID(ID1, b"guider", 6))
    p = properties(sdk, 1)[1]
    assert (p.cameraModelName, p.userCustomID) == (b"Ares-C PRO [guider]", b"guider")
    ok(sdk.POASetUserCustomID(ID1, None, 0))
    assert properties(sdk, 1)[1].cameraModelName == ARES_C.encode()
    assert sdk.POASetUserCustomID(ID1, b"x" * 17, 17) == INVALID_ARGU
    ok(sdk.POACloseCamera(ID0))
    assert properties(sdk, 0)[1].SN == b""


def test_same_model_twice_unknown_names_and_rescan(sdk: ctypes.CDLL, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INDI_PLAYERONE_SIMULATE", f"{ZEUS_M}, no such camera ,{ZEUS_M}")
    assert sdk.POAGetCameraCount() == 2
    text = ctypes.create_string_buffer(512)
    assert sdk.SimPOA_GetConfigError(text, 512) > 0 and b"'no such camera'" in text.value
    assert [properties(sdk, i)[1].cameraID for i in (0, 1)] == [ID0, ID1]
    open_cam(sdk, ID0)
    open_cam(sdk, ID1)
    assert [properties(sdk, i)[1].SN for i in (0, 1)] == [b"SIM-ZEUS-455M-PRO-0001", b"SIM-ZEUS-455M-PRO-0002"]
    monkeypatch.setenv("INDI_PLAYERONE_SIMULATE", "")
    assert sdk.POAGetCameraCount() == 2, "an open camera vanished on rescan"
    ok(sdk.POACloseCamera(ID0))
    ok(sdk.POACloseCamera(ID1))
    assert sdk.POAGetCameraCount() == 0
    assert sdk.SimPOA_GetConfigError(None, 0) == 0, "the problem went with the list"
    monkeypatch.delenv("INDI_PLAYERONE_SIMULATE")
    assert sdk.POAGetCameraCount() == 0, "unset: no camera"


def test_calls_need_an_open_initialised_camera(sdk: ctypes.CDLL) -> None:
    sdk.POAGetCameraCount()
    w, h = int_out(), int_out()
    assert sdk.POAGetImageSize(ID0, ctypes.byref(w), ctypes.byref(h)) == NOT_OPENED
    assert sdk.POAGetImageSize(999, ctypes.byref(w), ctypes.byref(h)) == INVALID_ID
    assert state_of(sdk, ID0) == STATE_CLOSED
    ok(sdk.POAOpenCamera(ID0))
    assert state_of(sdk, ID0) == STATE_OPENED
    assert sdk.POAStartExposure(ID0, 1) == NOT_OPENED, "exposure allowed before POAInitCamera"
    ok(sdk.POAInitCamera(ID0))
    assert sdk.POAGetImageSize(ID0, None, None) == POINTER
    ok(sdk.POACloseCamera(ID0))
    ok(sdk.POACloseCamera(ID0))  # closing twice is harmless
    assert sdk.POAStartExposure(ID0, 1) == NOT_OPENED


def test_error_strings_and_versions(sdk: ctypes.CDLL) -> None:
    """The vendor's texts (test_simsdk_vendor.py compares them with its library), and its
    answer to a code it does not know: the text it gave last."""
    texts = {code: sdk.POAGetErrorString(code) for code in range(18)}
    assert all(texts.values()) and len(set(texts.values())) == 18
    assert texts[DEVICE_NOT_FOUND] == b"camera is not connected"
    assert texts[TIMEOUT] == b"operation timed out"
    assert sdk.POAGetErrorString(NOT_OPENED) == b"camera is not opened"
    assert sdk.POAGetErrorString(99) == b"camera is not opened"
    assert [int(x) for x in sdk.POAGetSDKVersion().split(b".")] >= [3, 8, 0]  # POA_EXP exists
    assert sdk.POAGetAPIVersion() > 20200000


# ---- geometry ------------------------------------------------------------------------------------

def test_roi_rounding_and_bin_before_size(sdk: ctypes.CDLL) -> None:
    open_cam(sdk, ID1)  # Ares-C PRO, 3008 x 3008
    assert size_of(sdk, ID1) == (3008, 3008)
    ok(sdk.POASetImageSize(ID1, 1003, 777))
    assert size_of(sdk, ID1) == (1000, 776), "width to a multiple of 4, height of 2, rounded down"
    ok(sdk.POASetImageStartPos(ID1, 2008, 2232))  # the ROI ends exactly at the sensor edge
    assert start_of(sdk, ID1) == (2008, 2232)
    assert sdk.POASetImageStartPos(ID1, 2009, 0) == OUT_OF_LIMIT
    assert sdk.POASetImageSize(ID1, 3012, 100) == OUT_OF_LIMIT
    assert sdk.POASetImageSize(ID1, 8, 8) == OUT_OF_LIMIT
    # the bin resets size and start, even to the same bin; bin 3: 1002 -> 1000 wide
    ok(sdk.POASetImageBin(ID1, 3))
    b = int_out()
    ok(sdk.POAGetImageBin(ID1, ctypes.byref(b)))
    assert b.value == 3 and size_of(sdk, ID1) == (1000, 1002) and start_of(sdk, ID1) == (0, 0)
    ok(sdk.POASetImageSize(ID1, 500, 400))
    ok(sdk.POASetImageStartPos(ID1, 502, 602))  # binned pixels: 502 + 500 = 1002
    ok(sdk.POASetImageBin(ID1, 3))
    assert size_of(sdk, ID1) == (1000, 1002) and start_of(sdk, ID1) == (0, 0)
    assert sdk.POASetImageBin(ID1, 5) == INVALID_ARGU and sdk.POASetImageBin(ID1, 0) == INVALID_ARGU
    # a frame has the binned size
    ok(sdk.POASetImageBin(ID1, 2))
    small_roi(sdk, ID1, RAW16, 200, 100)
    assert len(snap(sdk, ID1)) == 200 * 100 * 2


def test_formats_and_changes_refused_while_exposing(sdk: ctypes.CDLL) -> None:
    open_cam(sdk, ID0)  # mono
    assert sdk.POASetImageFormat(ID0, RGB24) == INVALID_ARGU
    assert sdk.POASetImageFormat(ID0, MONO8) == INVALID_ARGU
    open_cam(sdk, ID1)  # colour
    small_roi(sdk, ID1, RGB24, 64, 32)
    assert len(snap(sdk, ID1)) == 64 * 32 * 3
    ok(set_float(sdk, ID1, EXP, 5.0))
    ok(sdk.POAStartExposure(ID1, 1))
    assert state_of(sdk, ID1) == STATE_EXPOSING
    assert sdk.POAStartExposure(ID1, 1) == EXPOSING
    assert sdk.POASetImageBin(ID1, 2) == EXPOSING
    assert sdk.POASetImageSize(ID1, 64, 64) == EXPOSING
    assert sdk.POASetImageFormat(ID1, RAW8) == EXPOSING
    assert sdk.POASetSensorMode(ID1, 1) == EXPOSING
    ok(sdk.POASetImageStartPos(ID1, 10, 10))  # allowed: applies to the next frame
    ok(set_int(sdk, ID1, GAIN, 200))  # so are configs
    ok(sdk.POAStopExposure(ID1))
    assert state_of(sdk, ID1) == STATE_OPENED
    ok(sdk.POASetImageBin(ID1, 2))


# ---- configs ---------------------------------------------------------------------------------------

def all_attributes(sdk: ctypes.CDLL, cid: int) -> dict[int, ConfigAttributes]:
    n = int_out()
    ok(sdk.POAGetConfigsCount(cid, ctypes.byref(n)))
    out = {}
    for i in range(n.value):
        a = ConfigAttributes()
        ok(sdk.POAGetConfigAttributes(cid, i, ctypes.byref(a)))
        out[a.configID] = a
    assert sdk.POAGetConfigAttributes(cid, n.value, ctypes.byref(ConfigAttributes())) == INVALID_INDEX
    return out


def test_config_attributes(sdk: ctypes.CDLL) -> None:
    open_cam(sdk, ID0)
    open_cam(sdk, ID1)
    mono, color = all_attributes(sdk, ID0), all_attributes(sdk, ID1)
    wanted = {EXPOSURE, EXP, GAIN, OFFSET, TEMPERATURE, COOLER_POWER, TARGET_TEMP, COOLER, FAN_POWER,
              HEATER_POWER, USB_BANDWIDTH, HARDWARE_BIN, PIXEL_BIN_SUM, FLIP_NONE, FLIP_HORI, FLIP_VERT,
              FLIP_BOTH, EGAIN}
    assert wanted <= set(mono) and wanted | {MONO_BIN, WB_R} <= set(color)
    assert MONO_BIN not in mono and WB_R not in mono and GUIDE_NORTH not in color and HQI not in color
    names = {a.configID: a.szConfName for a in color.values()}
    assert (names[EXPOSURE], names[GAIN], names[OFFSET], names[TARGET_TEMP], names[EXP]) == (
        b"Exposure", b"Gain", b"Offset", b"TargetTemp", b"Exp")
    assert names[FLIP_HORI] == b"Flip Hori"
    for cid, attrs in ((ID0, mono), (ID1, color)):
        for conf, a in attrs.items():
            vt = int_out()
            ok(sdk.POAGetConfigValueType(conf, ctypes.byref(vt)))
            assert a.valueType == vt.value, conf
            by_id = ConfigAttributes()
            ok(sdk.POAGetConfigAttributesByConfigID(cid, conf, ctypes.byref(by_id)))
            assert bytes(by_id) == bytes(a)
    exp = color[EXP]
    # the manual's 32 us .. 2000 s, in both views
    assert exp.valueType == VAL_FLOAT and (exp.minValue.floatValue, exp.maxValue.floatValue) == (32e-6, 2000.0)
    assert color[EXPOSURE].minValue.intValue == 32 and color[EXPOSURE].maxValue.intValue == 2_000_000_000
    assert color[TEMPERATURE].isWritable == 0 and color[TEMPERATURE].valueType == VAL_FLOAT
    assert color[COOLER].valueType == VAL_BOOL and color[GAIN].isSupportAuto == 1
    assert color[FAN_POWER].defaultValue.intValue == 50  # carbon-fibre body (manual)
    assert sdk.POAGetConfigAttributesByConfigID(ID0, MONO_BIN, ctypes.byref(ConfigAttributes())) == INVALID_CONFIG
    assert sdk.POAGetConfigValueType(99, ctypes.byref(int_out())) == INVALID_CONFIG


def test_config_values_by_union_image_and_by_double(sdk: ctypes.CDLL) -> None:
    open_cam(sdk, ID1)
    ok(set_int(sdk, ID1, GAIN, 321, auto=1))
    value, auto = get_config(sdk, ID1, GAIN)
    assert value.intValue == 321 and auto
    ok(set_int(sdk, ID1, GAIN, 322))
    assert get_config(sdk, ID1, GAIN)[1] is False, "isAuto FALSE clears the auto flag"
    ok(set_float(sdk, ID1, EXP, 1.25))
    assert get_config(sdk, ID1, EXP)[0].floatValue == 1.25
    assert get_config(sdk, ID1, EXPOSURE)[0].intValue == 1_250_000  # one exposure, two views
    ok(set_int(sdk, ID1, EXPOSURE, 5000))
    assert get_config(sdk, ID1, EXP)[0].floatValue == pytest.approx(0.005)
    ok(sdk.POASetConfig_M(ID1, OFFSET, 41.6, 0))
    assert get_config(sdk, ID1, OFFSET)[0].intValue == 42
    ok(sdk.POASetConfig_M(ID1, EXP, 0.5, 0))
    assert get_config(sdk, ID1, EXP)[0].floatValue == 0.5
    ok(set_int(sdk, ID1, PIXEL_BIN_SUM, 1))
    assert get_config(sdk, ID1, PIXEL_BIN_SUM)[0].boolValue == 1
    # refusals
    assert set_int(sdk, ID1, GAIN, 601) == OUT_OF_LIMIT
    assert set_float(sdk, ID1, EXP, 7201.0) == OUT_OF_LIMIT
    assert set_float(sdk, ID1, EXP, float("nan")) == OUT_OF_LIMIT
    assert set_int(sdk, ID1, USB_BANDWIDTH, 20) == OUT_OF_LIMIT
    assert set_float(sdk, ID1, TEMPERATURE, 0.0) == CONF_CANNOT_WRITE
    assert set_int(sdk, ID1, GUIDE_NORTH, 1) == INVALID_CONFIG
    assert set_int(sdk, ID1, 99, 1) == INVALID_CONFIG
    assert sdk.POAGetConfig(ID1, GAIN, None, None) == POINTER
    # the union's float member: temperature and e-/ADU
    assert get_config(sdk, ID1, TEMPERATURE)[0].floatValue == pytest.approx(20.0, abs=0.5)
    egain_low = get_config(sdk, ID1, EGAIN)[0].floatValue
    ok(set_int(sdk, ID1, GAIN, 500))
    assert 0 < get_config(sdk, ID1, EGAIN)[0].floatValue < egain_low


def test_flips_select_one_and_ignore_the_value(sdk: ctypes.CDLL) -> None:
    open_cam(sdk, ID0)
    flips = (FLIP_NONE, FLIP_HORI, FLIP_VERT, FLIP_BOTH)
    assert [get_config(sdk, ID0, f)[0].boolValue for f in flips] == [1, 0, 0, 0]
    ok(set_int(sdk, ID0, FLIP_VERT, 0))  # the value is ignored: this selects vertical
    assert [get_config(sdk, ID0, f)[0].boolValue for f in flips] == [0, 0, 1, 0]
    ok(set_int(sdk, ID0, FLIP_BOTH, 1))
    assert [get_config(sdk, ID0, f)[0].boolValue for f in flips] == [0, 0, 0, 1]


def test_presets_and_sensor_modes(sdk: ctypes.CDLL) -> None:
    open_cam(sdk, ID0)  # IMX432: no modes
    open_cam(sdk, ID1)  # IMX533: Normal, Low Noise
    n = int_out()
    ok(sdk.POAGetSensorModeCount(ID0, ctypes.byref(n)))
    assert n.value == 0
    assert sdk.POASetSensorMode(ID0, 0) == INVALID_ARGU
    ok(sdk.POAGetSensorModeCount(ID1, ctypes.byref(n)))
    assert n.value == 2
    infos = []
    for i in range(2):
        info = SensorModeInfo()
        ok(sdk.POAGetSensorModeInfo(ID1, i, ctypes.byref(info)))
        infos.append(info.name)
    assert infos == [b"Normal", b"Low Noise"]
    assert sdk.POAGetSensorModeInfo(ID1, 2, ctypes.byref(SensorModeInfo())) == INVALID_ARGU
    ok(sdk.POASetSensorMode(ID1, 1))
    ok(sdk.POAGetSensorMode(ID1, ctypes.byref(n)))
    assert n.value == 1
    outs = [int_out() for _ in range(8)]
    ok(sdk.POAGetGainsAndOffsets(ID1, *map(ctypes.byref, outs)))
    g_dr, g_hcg, g_unity, g_rn, o_dr, o_hcg, o_unity, o_rn = (o.value for o in outs)
    assert 0 <= g_dr < g_hcg < g_unity < g_rn <= 600 and min(o_dr, o_hcg, o_unity, o_rn) >= 0
    assert get_config(sdk, ID1, GAIN)[0].intValue == g_hcg  # a fresh camera sits at the HCG preset
    ok(set_int(sdk, ID1, GAIN, g_unity))
    assert get_config(sdk, ID1, EGAIN)[0].floatValue == pytest.approx(1.0, abs=0.02)
    old = [int_out() for _ in range(5)]
    ok(sdk.POAGetGainOffset(ID1, *map(ctypes.byref, old)))
    assert [o.value for o in old] == [o_dr, o_unity, g_rn, o_rn, g_hcg]


# ---- exposures -------------------------------------------------------------------------------------

def test_snap_takes_the_exposure_time_then_idles(sdk: ctypes.CDLL) -> None:
    t0 = start_small(sdk, ID0, 0.3)
    assert state_of(sdk, ID0) == STATE_EXPOSING and not ready(sdk, ID0)
    wait_for(lambda: ready(sdk, ID0), what="ImageReady")
    assert time.monotonic() - t0 >= 0.29
    assert state_of(sdk, ID0) == STATE_OPENED, "snap mode ends by itself"
    rc, _ = grab(sdk, ID0, 0)
    ok(rc)
    assert not ready(sdk, ID0)
    # nothing more comes without a new start
    t1 = time.monotonic()
    assert grab(sdk, ID0, 150)[0] == TIMEOUT
    assert time.monotonic() - t1 >= 0.14
    one = int_out()
    ok(sdk.SimPOA_GetFrameCount(ID0, ctypes.byref(one)))
    assert one.value == 1


def test_get_image_data_times_out_then_delivers(sdk: ctypes.CDLL) -> None:
    t0 = start_small(sdk, ID0, 0.6)
    assert grab(sdk, ID0, 200)[0] == TIMEOUT  # (OK had the wait lasted past the exposure)
    assert time.monotonic() - t0 >= 0.19, "the timeout is real"
    rc, _ = grab(sdk, ID0, 3000)
    ok(rc)
    assert time.monotonic() - t0 >= 0.59
    # buffer checks
    assert sdk.POAGetImageData(ID0, None, 10, 0) == POINTER
    small = (ctypes.c_ubyte * 10)()
    assert sdk.POAGetImageData(ID0, small, 10, 0) == SIZE_LESS


def test_stop_ends_a_waiting_get_image_data(sdk: ctypes.CDLL) -> None:
    start_small(sdk, ID0, 30.0)
    threading.Timer(0.2, sdk.POAStopExposure, args=(ID0,)).start()
    t0 = time.monotonic()
    assert grab(sdk, ID0, 10_000)[0] == EXPOSURE_FAILED
    assert time.monotonic() - t0 < 5


def test_video_mode_streams_and_counts_dropped_frames(sdk: ctypes.CDLL, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INDI_PLAYERONE_SIM_OPTIONS", "ddr_mb=0.1")  # 3 frames of 32 KiB in the camera
    start_small(sdk, ID0, 0.02, video=True, fmt=RAW8)
    for _ in range(5):
        ok(grab(sdk, ID0, 2000)[0])
    assert state_of(sdk, ID0) == STATE_EXPOSING, "video keeps exposing"
    dropped = int_out()
    time.sleep(0.5)  # ~25 frame periods unread: the host holds 2, the DDR buffer 3, the rest drop
    ok(sdk.POAGetDroppedImagesCount(ID0, ctypes.byref(dropped)))
    assert 25 - 5 - 5 <= dropped.value <= 25
    # flush the two held frames with timeout 0, as PHD2 does
    ok(grab(sdk, ID0, 0)[0])
    ok(grab(sdk, ID0, 0)[0])
    ok(sdk.POAStopExposure(ID0))
    ok(sdk.POAGetDroppedImagesCount(ID0, ctypes.byref(dropped)))
    assert dropped.value == 0, "reset to 0 after stop capture"
    assert state_of(sdk, ID0) == STATE_OPENED


def test_video_frame_read_after_stop(sdk: ctypes.CDLL) -> None:
    """INDIGO's single frame: video mode, wait for ImageReady, stop, then read the frame."""
    start_small(sdk, ID0, 0.05, video=True)
    wait_for(lambda: ready(sdk, ID0), what="ImageReady")
    ok(sdk.POAStopExposure(ID0))
    ok(grab(sdk, ID0, 0)[0])
    ok(sdk.POAStartExposure(ID0, 0))  # a new start discards what was left
    ok(sdk.POAStopExposure(ID0))
    assert not ready(sdk, ID0)


# ---- frame content -------------------------------------------------------------------------------

def test_frames_left_justified_raw8_is_top_byte_stars_and_offset(sdk: ctypes.CDLL) -> None:
    open_cam(sdk, ID1)  # Ares-C PRO: 14-bit ADC
    ok(sdk.POASetImageFormat(ID1, RAW16))  # full frame: every star of the field is on it
    f16 = np.frombuffer(snap(sdk, ID1, 1.0), dtype=np.uint16)
    assert np.all(f16 % 4 == 0), "14-bit data left-justified in 16 bits"
    median = float(np.median(f16))
    assert median == pytest.approx(4 * 40 - 106, abs=8)  # 4 x offset 40 (HCG preset) - the IMX533's pedestal
    assert f16.max() > median + 1000, "no stars in the frame"
    assert 2 < float(f16.std()) < 200
    ok(sdk.POASetImageFormat(ID1, RAW8))
    ok(set_int(sdk, ID1, OFFSET, 600))  # lift the bias so the top byte is not all zero
    f8 = np.frombuffer(snap(sdk, ID1, 0.01), dtype=np.uint8)
    assert len(f8) == 3008 * 3008 and abs(float(np.median(f8)) - (2400 - 106) / 256) <= 1
    ok(sdk.POASetImageFormat(ID1, RAW16))
    f16b = np.frombuffer(snap(sdk, ID1, 0.01), dtype=np.uint16)
    assert abs(float(np.median(f16b)) - (2400 - 106)) < 20


def test_bin_sum_and_average(sdk: ctypes.CDLL) -> None:
    open_cam(sdk, ID0)
    ok(sdk.POASetImageBin(ID0, 2))
    small_roi(sdk, ID0, RAW16, 200, 200)
    avg = float(np.median(np.frombuffer(snap(sdk, ID0), dtype=np.uint16)))
    ok(set_int(sdk, ID0, PIXEL_BIN_SUM, 1))
    summed = float(np.median(np.frombuffer(snap(sdk, ID0), dtype=np.uint16)))
    assert summed == pytest.approx(4 * avg, rel=0.1)


# ---- cooler ------------------------------------------------------------------------------------------

def test_cooler_thermal_model(sdk: ctypes.CDLL, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INDI_PLAYERONE_SIM_OPTIONS", "ambient=15,cooler_tau=0.1")
    open_cam(sdk, ID0)  # Apollo: delta-T 35 C at 100 % fan
    temp = lambda: get_config(sdk, ID0, TEMPERATURE)[0].floatValue  # noqa: E731
    power = lambda: get_config(sdk, ID0, COOLER_POWER)[0].intValue  # noqa: E731
    assert temp() == pytest.approx(15.0, abs=0.01) and power() == 0
    ok(set_int(sdk, ID0, TARGET_TEMP, -5, auto=1))  # the C++ driver sets it with isAuto TRUE
    time.sleep(0.3)
    assert temp() == pytest.approx(15.0, abs=0.01), "cools with the cooler off"
    ok(set_int(sdk, ID0, COOLER, 1))
    assert power() == 100  # pulling down
    wait_for(lambda: abs(temp() + 5) < 0.1, what="the target")
    assert 0 < power() < 100  # holding 20 C below ambient takes part of the power
    # a target beyond reach: the floor is ambient - delta-T x (0.5 + 0.5 fan), fan 50 % -> 15 - 26.25
    ok(set_int(sdk, ID0, TARGET_TEMP, -40))
    wait_for(lambda: abs(temp() - (15 - 26.25 + 0.2)) < 0.1, what="the floor")  # + heater 10 % x 0.02
    assert power() == 100
    ok(set_int(sdk, ID0, FAN_POWER, 100))
    wait_for(lambda: abs(temp() - (15 - 35 + 0.2)) < 0.1, what="the floor at full fan")
    ok(set_int(sdk, ID0, COOLER, 0))
    wait_for(lambda: abs(temp() - 15) < 0.1, what="ambient")
    assert power() == 0


# ---- faults --------------------------------------------------------------------------------------

def test_fault_never_ready(sdk: ctypes.CDLL) -> None:
    start_small(sdk, ID0, 0.05, fault=(b"never_ready", 1))
    assert grab(sdk, ID0, 400)[0] == TIMEOUT
    assert not ready(sdk, ID0) and state_of(sdk, ID0) == STATE_EXPOSING, "hangs in EXPOSING"
    ok(sdk.POAStopExposure(ID0))  # the watchdog's remedy: stop, start again
    ok(sdk.POAStartExposure(ID0, 1))
    ok(grab(sdk, ID0, 2000)[0])
    # arg 0: every exposure, also video, until cleared
    ok(sdk.SimPOA_SetFault(ID0, b"never_ready", 0))
    ok(sdk.POAStartExposure(ID0, 0))
    assert grab(sdk, ID0, 300)[0] == TIMEOUT
    ok(sdk.POAStopExposure(ID0))
    ok(sdk.SimPOA_SetFault(ID0, b"never_ready", -1))
    ok(sdk.POAStartExposure(ID0, 1))
    ok(grab(sdk, ID0, 2000)[0])


def test_fault_timeout(sdk: ctypes.CDLL) -> None:
    start_small(sdk, ID0, 0.02, fault=(b"timeout", 1))
    wait_for(lambda: ready(sdk, ID0), what="ImageReady")  # the frame is there...
    t0 = time.monotonic()
    assert grab(sdk, ID0, 300)[0] == TIMEOUT  # ...but its transfer takes the whole timeout
    assert time.monotonic() - t0 >= 0.29
    assert not ready(sdk, ID0), "the frame is lost"
    ok(sdk.POAStartExposure(ID0, 1))
    ok(grab(sdk, ID0, 2000)[0])  # one occurrence only


def test_fault_unplug_after_n_frames_and_replug(sdk: ctypes.CDLL) -> None:
    open_cam(sdk, ID0)
    open_cam(sdk, ID1)
    small_roi(sdk, ID0)
    ok(sdk.SimPOA_SetFault(ID0, b"unplug_after", 3))
    ok(set_float(sdk, ID0, EXP, 0.01))
    ok(sdk.POAStartExposure(ID0, 0))
    for _ in range(3):
        ok(grab(sdk, ID0, 2000)[0])  # the third still arrives
    buf = (ctypes.c_ubyte * 16)()
    value, auto = ConfigValue(), ctypes.c_int()
    for rc in (sdk.POAGetImageData(ID0, buf, 16, 100), sdk.POAStopExposure(ID0), sdk.POAOpenCamera(ID0),
               sdk.POAGetConfig(ID0, TEMPERATURE, ctypes.byref(value), ctypes.byref(auto)),
               sdk.POAGetCameraPropertiesByID(ID0, ctypes.byref(CameraProperties())),
               sdk.POASetImageBin(ID0, 1), sdk.POACloseCamera(ID0)):
        assert rc == DEVICE_NOT_FOUND
    assert sdk.POAGetCameraCount() == 1 and properties(sdk, 0)[1].cameraID == ID1
    get_config(sdk, ID1, TEMPERATURE)  # the other camera carries on
    ok(sdk.SimPOA_SetFault(ID0, b"replug", 0))
    assert sdk.POAGetCameraCount() == 2
    assert state_of(sdk, ID0) == STATE_CLOSED
    open_cam(sdk, ID0)
    small_roi(sdk, ID0)
    snap(sdk, ID0)


def test_unplug_wakes_a_waiting_reader(sdk: ctypes.CDLL) -> None:
    start_small(sdk, ID0, 30.0)
    threading.Timer(0.2, sdk.SimPOA_SetFault, args=(ID0, b"unplug_after", 0)).start()
    t0 = time.monotonic()
    assert grab(sdk, ID0, 10_000)[0] == DEVICE_NOT_FOUND
    assert time.monotonic() - t0 < 5


def test_fault_corrupt_first_frame_after_bin_change(sdk: ctypes.CDLL) -> None:
    open_cam(sdk, ID0)  # 12-bit ADC: good RAW16 frames are multiples of 16
    ok(sdk.SimPOA_SetFault(ID0, b"corrupt_after_bin", 0))

    def frame() -> np.ndarray:
        small_roi(sdk, ID0, RAW16, 128, 64)
        return np.frombuffer(snap(sdk, ID0), dtype=np.uint16)

    def garbage(f: np.ndarray) -> bool:
        return bool(np.any(f % 16) and float(np.median(f)) > 10_000)

    assert not garbage(frame())
    ok(sdk.POASetImageBin(ID0, 1))  # same bin: no change, no corruption
    assert not garbage(frame())
    ok(sdk.POASetImageBin(ID0, 2))
    assert garbage(frame()), "the first frame after a bin change is garbage"
    assert not garbage(frame()), "only the first"
    ok(sdk.SimPOA_SetFault(ID0, b"none", 0))
    ok(sdk.POASetImageBin(ID0, 1))
    assert not garbage(frame())


def test_fault_open_error_by_call_and_by_environment(sdk: ctypes.CDLL, monkeypatch: pytest.MonkeyPatch) -> None:
    sdk.POAGetCameraCount()
    ok(sdk.SimPOA_SetFault(ID0, b"open_error", 1))
    assert sdk.POAOpenCamera(ID0) == OPERATION_FAILED
    ok(sdk.POAOpenCamera(ID0))
    ok(sdk.POACloseCamera(ID0))
    # from the environment: the first two opens of camera 107 fail, camera 100 is unaffected
    monkeypatch.setenv("INDI_PLAYERONE_SIM_OPTIONS", f"cooler_tau=0.2,open_error=2@{ID1}")
    assert sdk.POAOpenCamera(ID1) == OPERATION_FAILED
    assert sdk.POAOpenCamera(ID1) == OPERATION_FAILED
    ok(sdk.POAOpenCamera(ID1))
    ok(sdk.POAOpenCamera(ID0))


def test_faults_from_environment_apply_at_open(sdk: ctypes.CDLL, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INDI_PLAYERONE_SIM_OPTIONS", "unplug_after=2, never_ready=1")
    start_small(sdk, ID0, 0.01)
    assert grab(sdk, ID0, 200)[0] == TIMEOUT  # never_ready=1
    ok(sdk.POAStopExposure(ID0))
    for _ in range(2):
        ok(sdk.POAStartExposure(ID0, 1))
        ok(grab(sdk, ID0, 2000)[0])
    assert sdk.POAStartExposure(ID0, 1) == DEVICE_NOT_FOUND  # unplug_after=2
    monkeypatch.setenv("INDI_PLAYERONE_SIM_OPTIONS", "unplug_after=0@SIM-ARES-C-PRO-0001")
    assert sdk.POAOpenCamera(ID1) == DEVICE_NOT_FOUND


@pytest.mark.parametrize("argument", ["", "x", "-1", "2x", "5000000000"])
def test_a_fault_count_from_the_environment_that_is_not_a_count_is_said(
        sdk: ctypes.CDLL, monkeypatch: pytest.MonkeyPatch, argument: str) -> None:
    """The same limits as a fault file's counts (0 to 10^9); the fault is not armed."""
    monkeypatch.setenv("INDI_PLAYERONE_SIM_OPTIONS", f"never_ready={argument}")
    open_cam(sdk, ID0)
    text = ctypes.create_string_buffer(512)
    assert sdk.SimPOA_GetConfigError(text, 512) > 0
    assert f"fault never_ready: argument '{argument}' is not a count".encode() in text.value
    ok(sdk.POACloseCamera(ID0))
    start_small(sdk, ID0, 0.01)
    ok(grab(sdk, ID0, 2000)[0])  # never_ready was not armed


def test_fault_no_12v_images_but_cannot_cool(sdk: ctypes.CDLL) -> None:
    open_cam(sdk, ID0)
    ok(sdk.SimPOA_SetFault(ID0, b"no_12v", 0))
    ok(set_int(sdk, ID0, TARGET_TEMP, -10))
    ok(set_int(sdk, ID0, COOLER, 1))
    time.sleep(0.5)
    assert get_config(sdk, ID0, TEMPERATURE)[0].floatValue == pytest.approx(20.0, abs=0.01)
    assert get_config(sdk, ID0, COOLER_POWER)[0].intValue == 0
    small_roi(sdk, ID0)
    snap(sdk, ID0)


def test_set_fault_refusals(sdk: ctypes.CDLL) -> None:
    sdk.POAGetCameraCount()
    assert sdk.SimPOA_SetFault(ID0, b"no such fault", 0) == INVALID_ARGU
    assert sdk.SimPOA_SetFault(ID0, None, 0) == POINTER
    assert sdk.SimPOA_SetFault(1, b"timeout", 0) == INVALID_ID


# ---- thread safety -----------------------------------------------------------------------------

def test_thread_safety_smoke(sdk: ctypes.CDLL) -> None:
    """Pollers, a setter and a reader on two cameras at once (ctypes drops the GIL in each call)."""
    for cid in (ID0, ID1):
        open_cam(sdk, cid)
        small_roi(sdk, cid, RAW16, 128, 64)
        ok(set_float(sdk, cid, EXP, 0.005))
        ok(sdk.POAStartExposure(cid, 0))
    stop = time.monotonic() + 1.0
    errors: list[str] = []
    frames = {ID0: 0, ID1: 0}

    def poll(cid: int) -> None:
        value, auto, flag = ConfigValue(), ctypes.c_int(), ctypes.c_int()
        while time.monotonic() < stop:
            for rc in (sdk.POAGetConfig(cid, TEMPERATURE, ctypes.byref(value), ctypes.byref(auto)),
                       sdk.POAGetConfig(cid, COOLER_POWER, ctypes.byref(value), ctypes.byref(auto)),
                       sdk.POAImageReady(cid, ctypes.byref(flag)), sdk.POAGetCameraState(cid, ctypes.byref(flag)),
                       sdk.POAGetDroppedImagesCount(cid, ctypes.byref(flag)), sdk.POAGetCameraCount() - 2):
                if rc != OK:
                    errors.append(f"poll {cid}: {rc}")

    def tweak(cid: int) -> None:
        n = 0
        while time.monotonic() < stop:
            n += 1
            for rc in (set_int(sdk, cid, GAIN, n % 600), set_float(sdk, cid, EXP, 0.002 + (n % 5) / 1000),
                       set_int(sdk, cid, FLIP_HORI if n % 2 else FLIP_NONE, 1)):
                if rc != OK:
                    errors.append(f"tweak {cid}: {rc}")

    def read(cid: int) -> None:
        while time.monotonic() < stop:
            rc, _ = grab(sdk, cid, 1000)
            if rc == OK:
                frames[cid] += 1
            else:
                errors.append(f"read {cid}: {rc}")

    threads = [threading.Thread(target=f, args=(cid,)) for cid in (ID0, ID1) for f in (poll, tweak, read)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert not any(t.is_alive() for t in threads)
    assert not errors, errors[:10]
    assert frames[ID0] > 10 and frames[ID1] > 10
    for cid in (ID0, ID1):
        ok(sdk.POACloseCamera(cid))  # with video running


@pytest.mark.parametrize("sanitizer", ["thread", "address,undefined"])
def test_c_stress_under_sanitizers(tmp_path: Path, sanitizer: str) -> None:
    """native/simsdk/tests/sim_stress.c: readers, pollers, setters, fault switching, bin changes and
    close/reopen races on two cameras, linked straight to the sources, under TSan / ASan+UBSan."""
    exe, env = build_stress(tmp_path, "sim_stress", sanitizer)
    r = subprocess.run([str(exe), "1000"], capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "all passed" in r.stdout and "Sanitizer" not in r.stderr, r.stderr
