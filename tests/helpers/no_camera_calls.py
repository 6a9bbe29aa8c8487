"""Every SDK call a program might make with no camera attached, as one table of return codes.

Run as a script in a process of its own (``python no_camera_calls.py <library>``): it loads the
library with ctypes and the vendor's signatures (``helpers.simsdk_api``), makes each call of
:func:`calls` and prints ``{"<call>": <code>, ...}`` as JSON. The simulated SDK and the vendor's
library are each run this way and their tables compared (tests/simsdk/test_simsdk_vendor.py).

Camera IDs outside 0..15 are passed only to the functions that answer them: the vendor's
library (SDK 3.7.0) aborts the process (``std::out_of_range`` from a 16-slot table) when
:data:`ABORTING` get one, so those are called with IDs 0..15 only.
"""
from __future__ import annotations

import ctypes
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

if __package__ in (None, ""):  # run as a script: the tests folder holds the helpers package
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from helpers.simsdk_api import _SIGNATURES, CameraProperties, ConfigAttributes, ConfigValue, SensorModeInfo

#: Functions of the vendor's library that abort the process for a camera ID outside 0..15.
ABORTING = frozenset({
    "POAOpenCamera", "POAInitCamera", "POACloseCamera", "POAStopExposure", "POAStartExposure",
    "POAImageReady", "POAGetImageData", "POASetSensorMode", "POASetUserCustomID",
    "POASetEnableDPS"})
#: IDs no camera has when none is attached (the simulated SDK's own start at 100).
SAFE_IDS = (0, 1, 15)
ALL_IDS = (-1, 0, 1, 15, 16, 100, 2**31 - 1)
GAIN, UNKNOWN_CONFIG = 1, 99

Call = tuple[str, str, tuple[object, ...]]


def _out() -> object:
    return ctypes.byref(ctypes.c_int(-12345))


def _per_camera(cid: int) -> Iterator[Call]:
    buf = ctypes.create_string_buffer(64)
    yield from [
        ("POAGetCameraProperties", f"({cid},p)", (cid, ctypes.byref(CameraProperties()))),
        ("POAGetCameraPropertiesByID", f"({cid},p)", (cid, ctypes.byref(CameraProperties()))),
        ("POAOpenCamera", f"({cid})", (cid,)), ("POAInitCamera", f"({cid})", (cid,)),
        ("POACloseCamera", f"({cid})", (cid,)), ("POAStopExposure", f"({cid})", (cid,)),
        ("POAStartExposure", f"({cid},TRUE)", (cid, 1)),
        ("POAGetConfigsCount", f"({cid},p)", (cid, _out())),
        ("POAGetConfigAttributes", f"({cid},0,p)", (cid, 0, ctypes.byref(ConfigAttributes()))),
        ("POAGetConfigAttributesByConfigID", f"({cid},GAIN,p)",
         (cid, GAIN, ctypes.byref(ConfigAttributes()))),
        ("POASetConfig", f"({cid},GAIN,100,FALSE)", (cid, GAIN, 100, 0)),
        ("POASetConfig", f"({cid},99,0,FALSE)", (cid, UNKNOWN_CONFIG, 0, 0)),
        ("POASetConfig_M", f"({cid},GAIN,100.0,FALSE)", (cid, GAIN, 100.0, 0)),
        ("POAGetConfig", f"({cid},GAIN,p,p)", (cid, GAIN, ctypes.byref(ConfigValue()), _out())),
        ("POAGetImageStartPos", f"({cid},p,p)", (cid, _out(), _out())),
        ("POASetImageStartPos", f"({cid},0,0)", (cid, 0, 0)),
        ("POAGetImageSize", f"({cid},p,p)", (cid, _out(), _out())),
        ("POASetImageSize", f"({cid},640,480)", (cid, 640, 480)),
        ("POAGetImageBin", f"({cid},p)", (cid, _out())), ("POASetImageBin", f"({cid},2)", (cid, 2)),
        ("POAGetImageFormat", f"({cid},p)", (cid, _out())),
        ("POASetImageFormat", f"({cid},RAW16)", (cid, 1)),
        ("POAGetCameraState", f"({cid},p)", (cid, _out())),
        ("POAImageReady", f"({cid},p)", (cid, _out())),
        ("POAGetImageData", f"({cid},buf,64,10)", (cid, buf, 64, 10)),
        ("POAGetDroppedImagesCount", f"({cid},p)", (cid, _out())),
        ("POAGetSensorModeCount", f"({cid},p)", (cid, _out())),
        ("POAGetSensorModeInfo", f"({cid},0,p)", (cid, 0, ctypes.byref(SensorModeInfo()))),
        ("POASetSensorMode", f"({cid},0)", (cid, 0)),
        ("POAGetSensorMode", f"({cid},p)", (cid, _out())),
        ("POASetUserCustomID", f'({cid},"x",1)', (cid, b"x", 1)),
        ("POAGetGainOffset", f"({cid},p x5)", (cid, *[_out() for _ in range(5)])),
        ("POAGetGainsAndOffsets", f"({cid},p x8)", (cid, *[_out() for _ in range(8)])),
        ("POASetEnableDPS", f"({cid},&TRUE)", (cid, ctypes.byref(ctypes.c_int(1)))),
        ("POASetEnableDPS", f"({cid},NULL)", (cid, None)),
    ]


def _odd_arguments() -> Iterator[Call]:
    """NULL pointers and bad values with a camera ID no camera has: which check comes first."""
    for name in ("POAGetCameraProperties", "POAGetCameraPropertiesByID", "POAGetConfigsCount",
                 "POAGetImageBin", "POAGetImageFormat", "POAGetCameraState", "POAImageReady",
                 "POAGetDroppedImagesCount", "POAGetSensorModeCount", "POAGetSensorMode"):
        yield name, "(0,NULL)", (0, None)
    for name, label, args in [
        ("POAGetCameraProperties", "(-1,NULL)", (-1, None)),
        ("POAGetCameraPropertiesByID", "(-1,NULL)", (-1, None)),
        ("POAGetConfigAttributes", "(0,0,NULL)", (0, 0, None)),
        ("POAGetConfigAttributesByConfigID", "(0,GAIN,NULL)", (0, GAIN, None)),
        ("POAGetConfig", "(0,GAIN,NULL,p)", (0, GAIN, None, _out())),
        ("POAGetConfig", "(0,GAIN,p,NULL)", (0, GAIN, ctypes.byref(ConfigValue()), None)),
        ("POAGetImageStartPos", "(0,NULL,NULL)", (0, None, None)),
        ("POAGetImageSize", "(0,NULL,NULL)", (0, None, None)),
        ("POAGetImageData", "(0,NULL,0,10)", (0, None, 0, 10)),
        ("POAGetSensorModeInfo", "(0,0,NULL)", (0, 0, None)),
        ("POASetUserCustomID", "(0,NULL,0)", (0, None, 0)),
        ("POASetUserCustomID", '(0,"x",-1)', (0, b"x", -1)),
        ("POASetUserCustomID", '(0,"x"x20,20)', (0, b"x" * 20, 20)),
        ("POAGetGainsAndOffsets", "(0,NULL x8)", (0, *[None] * 8)),
        ("POAGetGainOffset", "(0,NULL x5)", (0, *[None] * 5)),
        ("POASetImageBin", "(0,0)", (0, 0)), ("POASetImageSize", "(0,-4,-2)", (0, -4, -2)),
        ("POASetImageStartPos", "(0,-1,-1)", (0, -1, -1)), ("POASetImageFormat", "(0,7)", (0, 7)),
        ("POAGetConfigValueType", "(GAIN,NULL)", (GAIN, None)),
        ("POAGetConfigValueType", "(99,NULL)", (UNKNOWN_CONFIG, None)),
    ]:
        yield name, label, args
    for config in [*range(-2, 36), 1000]:  # POA_EXP (31) exists from SDK 3.8.0
        yield "POAGetConfigValueType", f"({config},p)", (config, _out())


def calls() -> Iterator[Call]:
    """(function, arguments as text, arguments): never an ID outside 0..15 for ABORTING."""
    for cid in ALL_IDS:
        for name, label, args in _per_camera(cid):
            if name not in ABORTING or cid in SAFE_IDS:
                yield name, label, args
    yield from _odd_arguments()


def table(path: str) -> dict[str, int]:
    lib = ctypes.CDLL(path)
    fns: dict[str, Callable[..., int]] = {}
    for name, (restype, argtypes) in _SIGNATURES.items():
        fn = getattr(lib, name, None)
        if fn is not None and name.startswith("POA"):
            fn.restype, fn.argtypes = restype, argtypes
            fns[name] = fn
    out = {"POAGetCameraCount()": int(lib.POAGetCameraCount())}
    for name, label, args in calls():
        if name in fns:
            out[name + label] = int(fns[name](*args))
    return out


if __name__ == "__main__":
    print(json.dumps(table(sys.argv[1])))
