"""The vendor SDK's enums, error codes and structures as Python types (``PlayerOneCamera.h``;
``docs/upstream-facts.md`` sections 2.2-2.3), and the exceptions of the SDK backend. Pure data:
the calls are in :mod:`.sdk_binding`."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, ClassVar, Union

from indi_playerone._native import ffi, lib

from .interface import CameraError, CameraInfo
from .models import EXPOSURE_RANGE_S, GAIN_RANGE, OFFSET_RANGE, find_model

__all__ = [
    "ConfigValue", "EBUSY", "SdkCallError", "SdkError", "SdkLoadError", "SdkNotFound", "SdkMissingSymbols",
    "Err",
    "Config", "config_name", "ValueType", "ImgFormat", "CameraState", "CameraProps", "ConfigAttr", "SensorMode",
    "Presets", "ReadoutState", "ReadoutResult", "BAYER_NAMES", "FORMAT_BITS", "BITS_FORMAT",
    "base_model", "sdk_camera_info", "UNPLUGGED_TEXT",
]

ConfigValue = Union[int, float, bool]


#: What an SDK error meaning "the camera left the bus" (``POA_ERROR_DEVICE_NOT_FOUND``) tells the
#: user: the SDK's own text ("camera not found, may be removed") does not say what to do.
UNPLUGGED_TEXT = ("the camera was unplugged or lost its USB connection; plug it back in, then "
                  "disconnect and connect it")

#: The camera lock was not free within ``lock_ms`` (``POA_SDK_EBUSY``, our code, not the SDK's).
EBUSY = int(lib.POA_SDK_EBUSY)


class Err(enum.IntEnum):
    """``POAErrors`` of ``PlayerOneCamera.h`` (``docs/upstream-facts.md`` section 2.2)."""

    OK = 0
    INVALID_INDEX = 1
    INVALID_ID = 2
    INVALID_CONFIG = 3
    INVALID_ARGU = 4
    NOT_OPENED = 5
    DEVICE_NOT_FOUND = 6
    OUT_OF_LIMIT = 7
    EXPOSURE_FAILED = 8
    TIMEOUT = 9
    SIZE_LESS = 10
    EXPOSING = 11
    POINTER = 12
    CONF_CANNOT_WRITE = 13
    CONF_CANNOT_READ = 14
    ACCESS_DENIED = 15
    OPERATION_FAILED = 16
    MEMORY_FAILED = 17


class Config(enum.IntEnum):
    """``POAConfig`` of ``PlayerOneCamera.h``: implicit sequential values; ``POA_EXP`` from
    SDK 3.8.0 (``docs/upstream-facts.md`` section 2.2)."""

    EXPOSURE = 0  # INT, µs
    GAIN = 1
    HARDWARE_BIN = 2
    TEMPERATURE = 3  # FLOAT, read-only
    WB_R = 4
    WB_G = 5
    WB_B = 6
    OFFSET = 7
    AUTOEXPO_MAX_GAIN = 8
    AUTOEXPO_MAX_EXPOSURE = 9
    AUTOEXPO_BRIGHTNESS = 10
    GUIDE_NORTH = 11
    GUIDE_SOUTH = 12
    GUIDE_EAST = 13
    GUIDE_WEST = 14
    EGAIN = 15  # FLOAT, read-only
    COOLER_POWER = 16  # INT, read-only
    TARGET_TEMP = 17  # INT °C
    COOLER = 18  # BOOL: cooler and fan
    HEATER = 19  # deprecated
    HEATER_POWER = 20
    FAN_POWER = 21
    FLIP_NONE = 22
    FLIP_HORI = 23
    FLIP_VERT = 24
    FLIP_BOTH = 25
    FRAME_LIMIT = 26
    HQI = 27
    USB_BANDWIDTH_LIMIT = 28
    PIXEL_BIN_SUM = 29
    MONO_BIN = 30
    EXP = 31  # FLOAT, seconds (SDK 3.8.0+)


def config_name(cid: int) -> str:
    """A ``POAConfig`` ID as the header names it ("POA_GAIN"); ``POA_CONFIG_<n>`` for an ID newer
    than this binding."""
    try:
        return f"POA_{Config(cid).name}"
    except ValueError:
        return f"POA_CONFIG_{cid}"


class ValueType(enum.IntEnum):
    INT = 0  # C long
    FLOAT = 1  # double
    BOOL = 2  # POABool


class ImgFormat(enum.IntEnum):
    RAW8 = 0
    RAW16 = 1
    RGB24 = 2  # B,G,R byte order
    MONO8 = 3
    END = -1


class CameraState(enum.IntEnum):
    CLOSED = 0
    OPENED = 1
    EXPOSING = 2


class ReadoutState(enum.IntEnum):
    """What the C reader thread reports (``POA_SDK_*`` in ``poa_sdk.h``)."""

    IDLE = 0
    EXPOSING = 1
    READING = 2
    READY = 3
    FAILED = 4
    TIMED_OUT = 5
    ABORTED = 6


class SdkCallError(CameraError):
    """A call of a Player One SDK returned an error: ``func`` (the SDK function), ``code`` (raw
    int), ``text`` (the SDK's words). A subclass names its SDK's error codes and their prefix."""

    codes: ClassVar[type[enum.IntEnum]]
    prefix: ClassVar[str]

    def __init__(self, func: str, code: int, text: str) -> None:
        self.func, self.code, self.text = func, code, text
        try:
            name = f"{self.prefix}{self.codes(code).name}" if code > 0 else "code"
        except ValueError:
            name = "code"
        super().__init__(f"{func} failed: {text} ({name} {code})")


class SdkError(SdkCallError):
    """A camera SDK call returned an error (``POAErrors``)."""

    codes, prefix = Err, "POA_ERROR_"


class SdkLoadError(CameraError):
    """The SDK library could not be loaded."""


class SdkNotFound(SdkLoadError):
    """No loadable ``libPlayerOneCamera`` (the message says what to install)."""


class SdkMissingSymbols(SdkLoadError):
    """The library loaded but lacks functions we need; ``missing`` names them."""

    def __init__(self, path: str, missing: list[str]) -> None:
        self.path, self.missing = path, missing
        super().__init__(
            f"{path} is not a usable Player One camera SDK: it lacks {', '.join(missing)} "
            "(an SDK older than 3.x, or another library of that name). Install Player One's "
            "current camera SDK (libPlayerOneCamera.so.3).")


def _str(chars: Any) -> str:
    return ffi.string(chars).decode("utf-8", "replace")


@dataclass(frozen=True)
class CameraProps:
    """``POACameraProperties`` (strings decoded, lists cut at their terminators)."""

    model: str
    custom_id: str
    camera_id: int
    max_width: int
    max_height: int
    bit_depth: int
    is_color: bool
    has_st4: bool
    has_cooler: bool
    usb3: bool
    bayer: int  # 0 RG, 1 BG, 2 GR, 3 GB, -1 mono
    pixel_size_um: float
    serial: str
    sensor: str
    local_path: str
    bins: tuple[int, ...]  # the 0-terminated list, without the 0s
    formats: tuple[ImgFormat, ...]  # the POA_END-terminated list, without the terminator
    supports_hard_bin: bool
    product_id: int

    @classmethod
    def from_c(cls, p: Any) -> "CameraProps":
        bins: list[int] = []
        for b in p.bins:
            if b == 0:
                break
            bins.append(int(b))
        formats: list[ImgFormat] = []
        for f in p.formats:
            if f == ImgFormat.END:
                break
            try:
                formats.append(ImgFormat(int(f)))
            except ValueError:  # a format newer than this binding: skipped
                continue
        return cls(_str(p.model), _str(p.custom_id), int(p.camera_id), int(p.max_width),
                   int(p.max_height), int(p.bit_depth), bool(p.is_color), bool(p.has_st4),
                   bool(p.has_cooler), bool(p.usb3), int(p.bayer), float(p.pixel_size_um),
                   _str(p.serial), _str(p.sensor), _str(p.local_path), tuple(bins),
                   tuple(formats), bool(p.supports_hard_bin), int(p.product_id))


def _typed(vtype: int, i: int, f: float) -> ConfigValue:
    if vtype == ValueType.FLOAT:
        return float(f)
    if vtype == ValueType.BOOL:
        return bool(i)
    return int(i)


@dataclass(frozen=True)
class ConfigAttr:
    """``POAConfigAttributes``, min/max/default read through the union member of their type."""

    config_id: int
    name: str  # szConfName: becomes the CCD_CONTROLS element name (with its spaces)
    description: str
    value_type: ValueType
    writable: bool
    readable: bool
    supports_auto: bool
    min: ConfigValue
    max: ConfigValue
    default: ConfigValue

    @classmethod
    def from_c(cls, a: Any) -> "ConfigAttr":
        vt = int(a.value_type)
        try:
            vtype = ValueType(vt)
        except ValueError:
            vtype = ValueType.INT
        return cls(int(a.config_id), _str(a.name), _str(a.description), vtype, bool(a.writable),
                   bool(a.readable), bool(a.supports_auto), _typed(vt, a.min_int, a.min_float),
                   _typed(vt, a.max_int, a.max_float), _typed(vt, a.default_int, a.default_float))


@dataclass(frozen=True)
class SensorMode:
    index: int
    name: str  # "Normal", "LowNoise", "HDR", ...
    description: str


@dataclass(frozen=True)
class Presets:
    """``POAGetGainsAndOffsets``: the vendor's recommended gain/offset pairs."""

    gain_highest_dr: int
    gain_hcg: int
    gain_unity: int
    gain_lowest_rn: int
    offset_highest_dr: int
    offset_hcg: int
    offset_unity: int
    offset_lowest_rn: int


@dataclass(frozen=True)
class ReadoutResult:
    state: ReadoutState
    code: int
    func: str
    restarts: int
    seq: int
    start_unix_ns: int


BAYER_NAMES = {0: "RGGB", 1: "BGGR", 2: "GRBG", 3: "GBRG"}
FORMAT_BITS = {ImgFormat.RAW8: 8, ImgFormat.RAW16: 16}
BITS_FORMAT = {8: ImgFormat.RAW8, 16: ImgFormat.RAW16}


def base_model(model: str) -> str:
    """``cameraModelName`` without a user custom id: "Mars-C [Juno]" -> "Mars-C"."""
    return model.split(" [", 1)[0].strip()


def sdk_camera_info(props: CameraProps, gain: tuple[int, int] = GAIN_RANGE,
                    offset: tuple[int, int] = OFFSET_RANGE,
                    exposure_s: tuple[float, float] = EXPOSURE_RANGE_S) -> CameraInfo:
    """CameraInfo from the SDK's properties. The control ranges come from the config
    attributes once the camera is open; before that the catalog's line-wide ranges stand in."""
    try:
        model = find_model(base_model(props.model))
        body, delta_t = model.body, model.delta_t_c
    except KeyError:
        body, delta_t = "unknown", None
    formats = tuple(sorted({FORMAT_BITS[f] for f in props.formats if f in FORMAT_BITS}))
    return CameraInfo(
        model=props.model, sensor=props.sensor, serial=props.serial, width=props.max_width,
        height=props.max_height, pixel_size_um=props.pixel_size_um, adc_bits=props.bit_depth,
        is_color=props.is_color, bayer=BAYER_NAMES.get(props.bayer) if props.is_color else None,
        has_cooler=props.has_cooler, has_st4=props.has_st4, bins=props.bins or (1,),
        formats=formats or (8,), gain_range=gain, offset_range=offset,
        exposure_range_s=exposure_s, usb3=props.usb3, body=body, delta_t_c=delta_t)
