"""The simulated SDK library seen through ctypes with small local declarations written from the
vendor's header (not from the simulated SDK's own header), so a layout or enum mismatch between
the two shows up as a failure; and the small calls the simulated-SDK tests share."""
from __future__ import annotations

import ctypes
import os
import shutil
import struct
import subprocess
import time
from pathlib import Path

import pytest

from helpers import simsdk

_BUILD = simsdk.builder()
CFLAGS, SONAME, SOURCE_DIR = _BUILD.CFLAGS, _BUILD.SONAME, _BUILD.SOURCE_DIR
build_simsdk, compile_command = _BUILD.build, _BUILD.compile_command

# ---- declarations from the vendor's header --------------------------------------------------------

OK, INVALID_INDEX, INVALID_ID, INVALID_CONFIG, INVALID_ARGU, NOT_OPENED, DEVICE_NOT_FOUND = range(7)
OUT_OF_LIMIT, EXPOSURE_FAILED, TIMEOUT, SIZE_LESS, EXPOSING, POINTER = range(7, 13)
CONF_CANNOT_WRITE, OPERATION_FAILED = 13, 16
RAW8, RAW16, RGB24, MONO8, END = 0, 1, 2, 3, -1
STATE_CLOSED, STATE_OPENED, STATE_EXPOSING = 0, 1, 2
VAL_INT, VAL_FLOAT, VAL_BOOL = 0, 1, 2
EXPOSURE, GAIN, HARDWARE_BIN, TEMPERATURE, WB_R = 0, 1, 2, 3, 4
OFFSET, EGAIN, COOLER_POWER, TARGET_TEMP, COOLER = 7, 15, 16, 17, 18
HEATER_POWER, FAN_POWER, FLIP_NONE, FLIP_HORI, FLIP_VERT, FLIP_BOTH = 20, 21, 22, 23, 24, 25
USB_BANDWIDTH, PIXEL_BIN_SUM, MONO_BIN, EXP = 28, 29, 30, 31
GUIDE_NORTH, HQI = 11, 27


class CameraProperties(ctypes.Structure):
    _fields_ = [
        ("cameraModelName", ctypes.c_char * 256), ("userCustomID", ctypes.c_char * 16),
        ("cameraID", ctypes.c_int), ("maxWidth", ctypes.c_int), ("maxHeight", ctypes.c_int),
        ("bitDepth", ctypes.c_int), ("isColorCamera", ctypes.c_int), ("isHasST4Port", ctypes.c_int),
        ("isHasCooler", ctypes.c_int), ("isUSB3Speed", ctypes.c_int), ("bayerPattern", ctypes.c_int),
        ("pixelSize", ctypes.c_double), ("SN", ctypes.c_char * 64), ("sensorModelName", ctypes.c_char * 32),
        ("localPath", ctypes.c_char * 256), ("bins", ctypes.c_int * 8), ("imgFormats", ctypes.c_int * 8),
        ("isSupportHardBin", ctypes.c_int), ("pID", ctypes.c_int), ("reserved", ctypes.c_char * 248),
    ]


class ConfigValue(ctypes.Union):
    _fields_ = [("intValue", ctypes.c_long), ("floatValue", ctypes.c_double), ("boolValue", ctypes.c_int)]


class ConfigAttributes(ctypes.Structure):
    _fields_ = [
        ("isSupportAuto", ctypes.c_int), ("isWritable", ctypes.c_int), ("isReadable", ctypes.c_int),
        ("configID", ctypes.c_int), ("valueType", ctypes.c_int), ("maxValue", ConfigValue),
        ("minValue", ConfigValue), ("defaultValue", ConfigValue), ("szConfName", ctypes.c_char * 64),
        ("szDescription", ctypes.c_char * 128), ("reserved", ctypes.c_char * 64),
    ]


class SensorModeInfo(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char * 64), ("desc", ctypes.c_char * 128)]


_I, _P = ctypes.c_int, ctypes.POINTER
_SIGNATURES: dict[str, tuple[object, list[object]]] = {
    "POAGetCameraCount": (_I, []),
    "POAGetCameraProperties": (_I, [_I, _P(CameraProperties)]),
    "POAGetCameraPropertiesByID": (_I, [_I, _P(CameraProperties)]),
    "POAOpenCamera": (_I, [_I]), "POAInitCamera": (_I, [_I]), "POACloseCamera": (_I, [_I]),
    "POAGetConfigsCount": (_I, [_I, _P(_I)]),
    "POAGetConfigAttributes": (_I, [_I, _I, _P(ConfigAttributes)]),
    "POAGetConfigAttributesByConfigID": (_I, [_I, _I, _P(ConfigAttributes)]),
    # the union by value, passed as its 8-byte image
    "POASetConfig": (_I, [_I, _I, ctypes.c_int64, _I]),
    "POASetConfig_M": (_I, [_I, _I, ctypes.c_double, _I]),
    "POAGetConfig": (_I, [_I, _I, _P(ConfigValue), _P(_I)]),
    "POAGetConfigValueType": (_I, [_I, _P(_I)]),
    "POAGetImageStartPos": (_I, [_I, _P(_I), _P(_I)]), "POASetImageStartPos": (_I, [_I, _I, _I]),
    "POAGetImageSize": (_I, [_I, _P(_I), _P(_I)]), "POASetImageSize": (_I, [_I, _I, _I]),
    "POAGetImageBin": (_I, [_I, _P(_I)]), "POASetImageBin": (_I, [_I, _I]),
    "POAGetImageFormat": (_I, [_I, _P(_I)]), "POASetImageFormat": (_I, [_I, _I]),
    "POAStartExposure": (_I, [_I, _I]), "POAStopExposure": (_I, [_I]),
    "POAGetCameraState": (_I, [_I, _P(_I)]), "POAImageReady": (_I, [_I, _P(_I)]),
    "POAGetImageData": (_I, [_I, ctypes.c_void_p, ctypes.c_long, _I]),
    "POAGetDroppedImagesCount": (_I, [_I, _P(_I)]),
    "POAGetSensorModeCount": (_I, [_I, _P(_I)]),
    "POAGetSensorModeInfo": (_I, [_I, _I, _P(SensorModeInfo)]),
    "POASetSensorMode": (_I, [_I, _I]), "POAGetSensorMode": (_I, [_I, _P(_I)]),
    "POASetUserCustomID": (_I, [_I, ctypes.c_char_p, _I]),
    "POAGetGainOffset": (_I, [_I, *[_P(_I)] * 5]),
    "POAGetGainsAndOffsets": (_I, [_I, *[_P(_I)] * 8]),
    "POAGetErrorString": (ctypes.c_char_p, [_I]),
    "POAGetAPIVersion": (_I, []), "POAGetSDKVersion": (ctypes.c_char_p, []),
    "POASetEnableDPS": (_I, [_I, _P(_I)]),
    "SimPOA_SetFault": (_I, [_I, ctypes.c_char_p, _I]),
    "SimPOA_Reset": (None, []),
    "SimPOA_GetFrameCount": (_I, [_I, _P(_I)]),
    "SimPOA_GetConfigError": (_I, [ctypes.c_char_p, _I]),
    "SimPOA_UsbReset": (_I, [_I]),
    # the filter wheels' (tests/simsdk/test_simsdk_wheel.py covers them)
    "SimPOA_GetPWConfigError": (_I, [ctypes.c_char_p, _I]),
}
#: Every function of the vendor's header: the simulated SDK must export all of them.
SDK_FUNCTIONS = sorted(n for n in _SIGNATURES if n.startswith("POA"))

ARES_C, APOLLO_M, ZEUS_M = "Ares-C PRO", "Apollo-M MAX PRO", "Zeus 455M PRO"
ID0, ID1 = 100, 107  # the IDs of the first two cameras


# ---- small calls ----------------------------------------------------------------------------------

def ok(rc: int) -> None:
    assert rc == OK, f"error {rc}"


def int_out() -> ctypes.c_int:
    return ctypes.c_int(-12345)


def open_cam(sdk: ctypes.CDLL, cid: int = ID0) -> None:
    assert sdk.POAGetCameraCount() >= 1
    ok(sdk.POAOpenCamera(cid))
    ok(sdk.POAInitCamera(cid))


def size_of(sdk: ctypes.CDLL, cid: int) -> tuple[int, int]:
    w, h = int_out(), int_out()
    ok(sdk.POAGetImageSize(cid, ctypes.byref(w), ctypes.byref(h)))
    return w.value, h.value


def start_of(sdk: ctypes.CDLL, cid: int) -> tuple[int, int]:
    x, y = int_out(), int_out()
    ok(sdk.POAGetImageStartPos(cid, ctypes.byref(x), ctypes.byref(y)))
    return x.value, y.value


def set_int(sdk: ctypes.CDLL, cid: int, conf: int, value: int, auto: int = 0) -> int:
    return sdk.POASetConfig(cid, conf, value, auto)  # int64 image of the union: intValue / boolValue


def set_float(sdk: ctypes.CDLL, cid: int, conf: int, value: float) -> int:
    bits = struct.unpack("<q", struct.pack("<d", value))[0]  # the union's image holding floatValue
    return sdk.POASetConfig(cid, conf, bits, 0)


def get_config(sdk: ctypes.CDLL, cid: int, conf: int) -> tuple[ConfigValue, bool]:
    value, auto = ConfigValue(), ctypes.c_int(-1)
    ok(sdk.POAGetConfig(cid, conf, ctypes.byref(value), ctypes.byref(auto)))
    return value, bool(auto.value)


def frame_bytes(sdk: ctypes.CDLL, cid: int) -> int:
    fmt = int_out()
    ok(sdk.POAGetImageFormat(cid, ctypes.byref(fmt)))
    w, h = size_of(sdk, cid)
    return w * h * {RAW8: 1, RAW16: 2, RGB24: 3, MONO8: 1}[fmt.value]


def grab(sdk: ctypes.CDLL, cid: int, timeout_ms: int) -> tuple[int, bytearray]:
    buf = bytearray(frame_bytes(sdk, cid))
    cbuf = (ctypes.c_ubyte * len(buf)).from_buffer(buf)
    return sdk.POAGetImageData(cid, cbuf, len(buf), timeout_ms), buf


def state_of(sdk: ctypes.CDLL, cid: int) -> int:
    s = int_out()
    ok(sdk.POAGetCameraState(cid, ctypes.byref(s)))
    return s.value


def ready(sdk: ctypes.CDLL, cid: int) -> bool:
    r = int_out()
    ok(sdk.POAImageReady(cid, ctypes.byref(r)))
    return bool(r.value)


def small_roi(sdk: ctypes.CDLL, cid: int, fmt: int = RAW16, w: int = 256, h: int = 128) -> None:
    ok(sdk.POASetImageFormat(cid, fmt))
    ok(sdk.POASetImageSize(cid, w, h))


def start_small(sdk: ctypes.CDLL, cid: int, exposure_s: float, *, video: bool = False,
                fmt: int = RAW16, fault: tuple[bytes, int] | None = None) -> float:
    """Open ``cid`` with the small ROI in ``fmt``, set ``fault`` (name, argument of
    ``SimPOA_SetFault``) if given, and start a single (or ``video``) exposure of ``exposure_s``;
    the monotonic time just before the start."""
    open_cam(sdk, cid)
    small_roi(sdk, cid, fmt)
    if fault is not None:
        ok(sdk.SimPOA_SetFault(cid, *fault))
    ok(set_float(sdk, cid, EXP, exposure_s))
    started = time.monotonic()
    ok(sdk.POAStartExposure(cid, 0 if video else 1))
    return started


def snap(sdk: ctypes.CDLL, cid: int, exposure_s: float = 0.01, timeout_ms: int = 3000) -> bytearray:
    ok(set_float(sdk, cid, EXP, exposure_s))
    ok(sdk.POAStartExposure(cid, 1))
    rc, buf = grab(sdk, cid, timeout_ms)
    ok(rc)
    return buf


def properties(sdk: ctypes.CDLL, index: int) -> tuple[int, CameraProperties]:
    p = CameraProperties()
    return sdk.POAGetCameraProperties(index, ctypes.byref(p)), p


def load_library(path: "os.PathLike[str] | str",
                 signatures: dict[str, tuple[object, list[object]]]) -> ctypes.CDLL:
    """The library at ``path`` through ctypes, each function of ``signatures`` declared."""
    dll = ctypes.CDLL(str(path))
    for name, (restype, argtypes) in signatures.items():
        fn = getattr(dll, name)
        fn.restype, fn.argtypes = restype, argtypes
    return dll


def build_stress(tmp_path: Path, program: str, sanitizer: str) -> tuple[Path, dict[str, str]]:
    """``native/simsdk/tests/<program>.c`` linked straight to the library's sources under
    ``-fsanitize=<sanitizer>``, and the environment to run it in (no simulator variables, leaks
    detected, the first race fatal). Skips without gcc, or a ThreadSanitizer gcc cannot link."""
    if shutil.which("gcc") is None:
        pytest.skip("gcc not installed")
    exe = tmp_path / program
    cmd = ["gcc", "-std=c11", "-D_GNU_SOURCE", "-O1", "-g", f"-fsanitize={sanitizer}", "-fno-sanitize-recover=all",
           f"-I{SOURCE_DIR}", *map(str, sorted(SOURCE_DIR.glob("*.c"))), str(SOURCE_DIR / "tests" / f"{program}.c"),
           "-o", str(exe), "-lpthread", "-lm"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    if r.returncode != 0 and sanitizer == "thread" and "tsan" in r.stderr:
        pytest.skip(f"ThreadSanitizer not available: {r.stderr[-300:]}")
    assert r.returncode == 0, r.stderr
    env = {k: v for k, v in os.environ.items() if not k.startswith("INDI_PLAYERONE_SIM")}
    env.update(ASAN_OPTIONS="detect_leaks=1", TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1")
    return exe, env
