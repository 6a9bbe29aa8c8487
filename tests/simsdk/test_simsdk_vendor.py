"""The simulated SDK speaks like the vendor's library: the same answers with no camera attached,
the same error texts (and the same answer to a code neither knows), versions of the same shape,
and the vendor's config names and descriptions.

The vendor's library (``libPlayerOneCamera.so.3``, SDK 3.7.0) is the test peer ``.ci/setup`` found
(its path in ``build/vendor-sdk``, or ``INDI_PLAYERONE_VENDOR_SDK``); each library runs in a
process of its own (``helpers/no_camera_calls.py``), the simulated one with no camera
(``INDI_PLAYERONE_SIMULATE`` empty) and claiming SDK 3.7.0 (``sdk_version=3.7.0``), so that
version's answers are compared. The config names are checked against the arm64 build of the
same SDK, which holds each of them as a whole string (the x86-64 build stores them in pieces
inside its code; docs/upstream-facts.md section 2.5).
"""
from __future__ import annotations

import ctypes
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from helpers import no_camera_calls
from helpers import vendor_sdk as vendor
from helpers.pixels import robust_level
from helpers.simsdk_api import (
    ARES_C, GAIN, ID0, NOT_OPENED, POINTER, RAW16, ConfigAttributes, ok, open_cam, set_int, snap,
)

PROBE = Path(no_camera_calls.__file__)

#: szConfName and szDescription of every POAConfig of SDK 3.7.0 (0 .. 30), as its library writes
#: them: read from the x86-64 build's POAGetConfigAttributesByConfigID, and each found whole in
#: the arm64 build (HQI excepted: too short to be kept as a string there).
SDK_3_7_0_CONFIGS: dict[int, tuple[str, str]] = {
    0: ("Exposure", "exposure duration(microsecond(us))"),
    1: ("Gain", "gain"),
    2: ("HardwareBin", "support hardware bin?"),
    3: ("Temperature", "sensor temperature(degrees celsius)"),
    4: ("WB_R", "white balance: red pixels"),
    5: ("WB_G", "white balance: green pixels"),
    6: ("WB_B", "white balance: blue pixels"),
    7: ("Offset", "offset"),
    8: ("AutoExpMaxGain", "maximum gain value when gain is automatic"),
    9: ("AutoExpMaxExpMS", "maximum exposure value(ms) when exposure is automatic"),
    10: ("AutoExpTargetBrightness", "target brightness value when exposure is automatic"),
    11: ("Guide North", "set and get guide north status(has ST4 port only)"),
    12: ("Guide South", "set and get guide south status(has ST4 port only)"),
    13: ("Guide East", "set and get guide east status(has ST4 port only)"),
    14: ("Guide West", "set and get guide west status(has ST4 port only)"),
    15: ("e/ADU", "e/ADU"),
    16: ("CoolPowerPerc", "percentage of cooler power"),
    17: ("TargetTemp", "target temperature"),
    18: ("CoolerOn", "turn on/off cooler"),
    19: ("LensHeater", "turn on/off lens heater"),
    20: ("LensHeaterPowerPerc", "percentage of lens heater power"),
    21: ("FanPowerPerc", "percentage of radiator fan power"),
    22: ("Flip None", "the image is not flipped"),
    23: ("Flip Hori", "flip the image horizontally"),
    24: ("Flip Vert", "flip the image vertically"),
    25: ("Flip Both", "flip the image horizontally and vertically"),
    26: ("FrameLimit", "frame rate limit"),
    27: ("HQI", "high quality image"),
    28: ("USBBandWidthLimit", "USB bandwidth limit"),
    29: ("Pixels Binning Sum", "take the sum of pixels after binning"),
    30: ("Mono Bin", "pixel binning will use neighbour pixels"),
}


@pytest.fixture(scope="module")
def vendor_sdk() -> Path:
    return Path(vendor.library())


def _no_camera_table(library: Path, **env: str) -> dict[str, int]:
    run_env = {k: v for k, v in os.environ.items() if not k.startswith("INDI_PLAYERONE_SIM")}
    run_env.update(INDI_PLAYERONE_SIMULATE="", **env)
    proc = subprocess.run([sys.executable, str(PROBE), str(library)], env=run_env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_no_camera_answers_are_the_vendors(lib_path: Path, vendor_sdk: Path) -> None:
    """Every call of helpers/no_camera_calls.py (about 270: each function with IDs no camera
    has, NULL pointers, bad sizes, every config's value type) answers the vendor's code."""
    real = _no_camera_table(vendor_sdk)
    sim = _no_camera_table(lib_path, INDI_PLAYERONE_SIM_OPTIONS="sdk_version=3.7.0")
    assert len(real) > 250 and real.keys() == sim.keys()
    assert real["POAGetCameraCount()"] == 0
    differ = {call: (real[call], sim[call]) for call in real if real[call] != sim[call]}
    assert not differ, f"(vendor, simulated) codes differ: {differ}"
    # The newer SDK the simulated one claims by default knows POA_EXP (31), as SDK 3.8.0 on do.
    assert _no_camera_table(lib_path)["POAGetConfigValueType(31,p)"] == 0


_ERRORS_PROGRAM = """
import ctypes, json, sys
f = ctypes.CDLL(sys.argv[1]).POAGetErrorString
f.restype, f.argtypes = ctypes.c_char_p, [ctypes.c_int]
seq = [-1, 99] + list(range(18)) + [18, 99, 2**31 - 1, -5, 5, 1000, 12, -(2**31)]
print(json.dumps([f(code).decode() for code in seq]))
"""


def _error_texts(library: Path) -> list[str]:
    proc = subprocess.run([sys.executable, "-c", _ERRORS_PROGRAM, str(library)],
                          capture_output=True, text=True, timeout=30, check=True)
    return json.loads(proc.stdout)


def test_error_texts_are_the_vendors_word_for_word(lib_path: Path, vendor_sdk: Path) -> None:
    """Codes 0..17 give the vendor's texts; a code it does not know gives the text it gave last
    ("unknown error" before any): the same sequence from both, in fresh processes."""
    real = _error_texts(vendor_sdk)
    assert real[:2] == ["unknown error", "unknown error"]
    assert real[2 + 9] == "operation timed out" and real[-1] == "pointer is zero"
    assert _error_texts(lib_path) == real


_VERSION_PROGRAM = """
import ctypes, json, sys
lib = ctypes.CDLL(sys.argv[1])
lib.POAGetSDKVersion.restype = ctypes.c_char_p
print(json.dumps([lib.POAGetSDKVersion().decode(), lib.POAGetAPIVersion()]))
"""


def _versions(library: Path, options: str = "") -> tuple[str, int]:
    env = {**os.environ, "INDI_PLAYERONE_SIM_OPTIONS": options}
    proc = subprocess.run([sys.executable, "-c", _VERSION_PROGRAM, str(library)], env=env,
                          capture_output=True, text=True, timeout=30, check=True)
    sdk, api = json.loads(proc.stdout)
    return sdk, api


def test_versions_have_the_vendors_shapes(lib_path: Path, vendor_sdk: Path) -> None:
    """major.minor.patch and the release date as yyyymmdd; the simulated SDK claiming 3.7.0
    says that version's date, as the vendor's 3.7.0 does."""
    real = _versions(vendor_sdk)
    assert real == ("3.7.0", 20240905)
    for sdk, api in (_versions(lib_path), _versions(lib_path, "sdk_version=3.9.1"), real):
        assert re.fullmatch(r"\d+\.\d+\.\d+", sdk) and re.fullmatch(r"20\d{2}[01]\d[0-3]\d", str(api))
    assert _versions(lib_path, "sdk_version=3.7.0") == real
    assert _versions(lib_path, "sdk_version=3.9.1")[1] == 20251016  # the changelog's date


def test_the_table_is_in_the_vendors_arm64_library(vendor_sdk: Path) -> None:
    """Each name and description of SDK_3_7_0_CONFIGS is a NUL-terminated string of the arm64
    build of the same SDK (beside the x86-64 one among the test peers)."""
    arm64 = vendor_sdk.parent.parent / "linux-arm64" / vendor_sdk.name
    if not arm64.is_file():
        pytest.skip(f"no arm64 build of the vendor's SDK beside {vendor_sdk}")
    data = arm64.read_bytes()
    missing = [text for cid, pair in SDK_3_7_0_CONFIGS.items() for text in pair
               if b"\0" + text.encode() + b"\0" not in data and text != "HQI"]
    assert not missing, missing


def _attributes(sdk: ctypes.CDLL, camera_id: int) -> dict[int, tuple[str, str]]:
    n = ctypes.c_int()
    ok(sdk.POAGetConfigsCount(camera_id, ctypes.byref(n)))
    out = {}
    for i in range(n.value):
        a = ConfigAttributes()
        ok(sdk.POAGetConfigAttributes(camera_id, i, ctypes.byref(a)))
        out[a.configID] = (a.szConfName.decode(), a.szDescription.decode())
    return out


@pytest.mark.parametrize("version", ["3.7.0", "3.10.1"])
def test_config_names_and_descriptions_are_the_vendors(sdk: ctypes.CDLL, monkeypatch: pytest.MonkeyPatch,
                                                       version: str) -> None:
    """A colour camera with an ST4 port lists 30 configs (no HQI: a DDR camera): each with SDK
    3.7.0's name and description; claiming 3.10 the fan and heater powers have the names read
    from that version (FanPower, LensHeaterPower) and POA_EXP (31) is listed too."""
    monkeypatch.setenv("INDI_PLAYERONE_SIMULATE", ARES_C)
    monkeypatch.setenv("INDI_PLAYERONE_SIM_OPTIONS", f"st4,sdk_version={version}")
    sdk.SimPOA_Reset()
    open_cam(sdk, ID0)
    got = _attributes(sdk, ID0)
    want = {cid: pair for cid, pair in SDK_3_7_0_CONFIGS.items() if cid != 27}
    if version != "3.7.0":
        want[20] = ("LensHeaterPower", want[20][1])
        want[21] = ("FanPower", want[21][1])
        assert got.pop(31)[0] == "Exp"
    assert got == want


def test_dead_pixel_suppression_corrects_the_mapped_hot_pixels(sdk: ctypes.CDLL,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """POASetEnableDPS (the vendor header's signature: the value through a pointer) is on after
    POAInitCamera, as the vendor's library does; off brings back the hot pixels the camera's
    table corrects (every other one), on hides them again. Dark, warm, high gain: hot pixels
    stand out 20 robust sigmas above the median."""
    monkeypatch.setenv("INDI_PLAYERONE_SIM_OPTIONS", "stars=0,ambient=30")
    sdk.SimPOA_Reset()
    assert sdk.POAGetCameraCount() == 2
    assert sdk.POASetEnableDPS(ID0, None) == POINTER  # the pointer first, then the camera
    assert sdk.POASetEnableDPS(ID0, ctypes.byref(ctypes.c_int(1))) == NOT_OPENED
    open_cam(sdk, ID0)
    ok(sdk.POASetImageFormat(ID0, RAW16))
    ok(set_int(sdk, ID0, GAIN, 400))
    hot = {}
    for setting in ("after init", 0, 1):
        if setting != "after init":
            ok(sdk.POASetEnableDPS(ID0, ctypes.byref(ctypes.c_int(setting))))
        d = np.frombuffer(snap(sdk, ID0, 0.5, 10_000), dtype=np.uint16)
        med, sigma = robust_level(d)
        hot[setting] = int((d > med + 20 * sigma).sum())
    assert hot[0] >= hot["after init"] + 5 and abs(hot[1] - hot["after init"]) <= 3, hot
